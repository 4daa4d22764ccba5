"""The download site in real headless Chromium, served the way GitLab Pages serves it.

One build and one browser for the module; `site_builder.pages_server` answers like Pages
(project prefix, 404.html, folder redirects, precompressed copies, `_redirects`). Every
request the browser makes is recorded: none may leave 127.0.0.1.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from browser_support import LINUX, MAC_ARM, WINDOWS, System, chromium, new_page, serve_site
from sample_site import build_sample

PREFIX = "/voice"  # a project site: https://group.gitlab.io/voice/


@dataclass
class Site:
    root: Path
    url: str  # http://127.0.0.1:PORT/voice/


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """The sample registry built as a project site, served on 127.0.0.1."""
    work = tmp_path_factory.mktemp("browser")
    with serve_site(work / "public", prefix=PREFIX) as server:
        output = build_sample(work, site_url=server.url)
        yield Site(root=output, url=server.url)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as instance:
        yield instance


@dataclass
class Visit:
    """A browser context with a record of every URL it asked for and every console error."""

    context: Any
    page: Any
    requests: list[str]
    errors: list[str]
    encodings: dict[str, str]  # URL → Content-Encoding of the answer

    def outside(self) -> list[str]:
        return [u for u in self.requests
                if urlsplit(u).scheme not in ("data", "blob", "about")
                and urlsplit(u).hostname != "127.0.0.1"]


@pytest.fixture
def visit(browser: Any) -> Iterator[Any]:
    """`visit(url, system=..., javascript=True)` → a Visit; contexts close after the test."""
    contexts: list[Any] = []

    def open_page(url: str, *, system: System = LINUX, javascript: bool = True,
                  init_script: str | None = None, color_scheme: str = "light") -> Visit:
        page = new_page(browser, system=system, javascript=javascript, scheme=color_scheme)
        contexts.append(page.context)
        if init_script:
            page.add_init_script(init_script)
        requests: list[str] = []
        errors: list[str] = []
        encodings: dict[str, str] = {}
        page.on("request", lambda request: requests.append(request.url))
        page.on("response", lambda r: encodings.__setitem__(
            r.url, r.headers.get("content-encoding", "")))
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(url)
        page.wait_for_load_state("networkidle")
        return Visit(page.context, page, requests, errors, encodings)

    yield open_page
    for context in contexts:
        context.close()


def _primary_href(visit: Visit) -> str:
    link = visit.page.locator("[data-sb-primary]")
    # the script sets the href once it has asked the browser about the CPU
    visit.page.wait_for_function(
        "document.querySelector('[data-sb-primary]').getAttribute('href') !== '#downloads'"
    )
    return str(link.get_attribute("href"))


def test_landing_renders(site: Site, visit: Any) -> None:
    """Title, heading and latest version show; nothing errs; nothing leaves 127.0.0.1."""
    seen = visit(site.url)
    page = seen.page
    assert "VoiceInput" in page.title()
    assert page.locator("h1").inner_text() == "VoiceInput"
    assert page.locator("[data-sb-latest-version]").inner_text() == "v1.10.0"
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.get_by_text("Speech to text for every desktop").is_visible()
    assert page.locator(".sb-prerelease").get_by_text("pre-release").first.is_visible()
    assert seen.errors == []
    assert seen.outside() == []
    assert seen.encodings[site.url] == "br"  # the precompressed copy decoded fine


@pytest.mark.parametrize(
    ("system", "expected"),
    [(LINUX, "VoiceInput-v1.10.0-linux-x64.zip"),
     (WINDOWS, "VoiceInput-v1.10.0-windows-x64.zip")],
    ids=["linux", "windows"],
)
def test_primary_button_fits_the_visitor(site: Site, visit: Any, system: System,
                                         expected: str) -> None:
    """The big button offers the file for the visitor's OS and CPU, and says which."""
    seen = visit(site.url, system=system)
    assert _primary_href(seen) == f"download/v1.10.0/{expected}"
    label = seen.page.locator("[data-sb-primary]").inner_text()
    assert system.platform in label
    assert seen.page.locator("[data-sb-pick-name]").inner_text() == expected
    assert seen.page.locator(f"tr.sb-row--picked[data-name='{expected}']").count() == 1
    command = seen.page.locator("[data-sb-verify] .tabbed-block:visible code").inner_text()
    assert expected in command  # the verify tab of this OS is open, on this file


APPLE = """Object.defineProperty(Navigator.prototype, "userAgentData", {get: () => ({
  platform: "macOS", getHighEntropyValues: async () => ({architecture: "%s", bitness: "64"})})})"""


@pytest.mark.parametrize(
    ("cpu", "expected"),
    [("arm", "download/v1.10.0/VoiceInput-v1.10.0-macos-arm64.zip"), ("x86", "#downloads")],
    ids=["apple-silicon", "intel"],
)
def test_mac_gets_a_build_its_cpu_runs(site: Site, visit: Any, cpu: str, expected: str) -> None:
    """Apple silicon gets the arm64 build; an Intel Mac is not offered it but sent to the list."""
    seen = visit(site.url, system=MAC_ARM, init_script=APPLE % cpu)
    seen.page.wait_for_function("document.querySelector('.sb-copy:not([hidden])') !== null")
    seen.page.wait_for_timeout(100)
    assert seen.page.locator("[data-sb-primary]").get_attribute("href") == expected


def test_download_matches_the_shown_sha256(site: Site, visit: Any) -> None:
    """Clicking the button saves bytes whose SHA256 is the one printed under it."""
    seen = visit(site.url)
    _primary_href(seen)
    shown = seen.page.locator("[data-sb-pick-sha256]").inner_text().strip()
    with seen.page.expect_download() as info:
        seen.page.locator("[data-sb-primary]").click()
    download = info.value
    assert download.suggested_filename == "VoiceInput-v1.10.0-linux-x64.zip"
    assert hashlib.sha256(Path(download.path()).read_bytes()).hexdigest() == shown
    assert len(shown) == 64


def test_copy_button_copies_the_hash(site: Site, visit: Any) -> None:
    """The copy button puts the SHA256 on the clipboard and says so."""
    seen = visit(site.url)
    origin = site.url.removesuffix(PREFIX + "/")
    seen.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=origin)
    _primary_href(seen)
    shown = seen.page.locator("[data-sb-pick-sha256]").inner_text().strip()
    button = seen.page.locator("[data-sb-pick-hash] [data-sb-copy]")
    button.click()
    assert seen.page.evaluate("navigator.clipboard.readText()") == shown
    assert "Copied" in button.inner_text()


def test_without_javascript_every_file_is_listed(site: Site, visit: Any) -> None:
    """No script: the button leads to the full list, whose links and hashes are all there."""
    seen = visit(site.url, javascript=False)
    page = seen.page
    assert page.locator("[data-sb-primary]").get_attribute("href") == "#downloads"
    rows = page.locator(".sb-files tbody tr")
    assert rows.count() == 4
    for index in range(rows.count()):
        assert len(rows.nth(index).locator("code.sb-sha256").inner_text()) == 64
    assert page.locator(".sb-copy:visible").count() == 0  # a button that cannot work is hidden
    assert page.locator("[data-sb-verify] code", has_text="sha256sum -c").first.is_visible()


def test_404_leads_to_the_latest_release(site: Site, visit: Any) -> None:
    """Any missing path, however deep, gets a page whose button opens the latest version."""
    seen = visit(site.url + "download/v0.1.0/gone/VoiceInput-v0.1.0.zip")
    page = seen.page
    assert page.locator("h1").inner_text() == "Page not found"
    page.get_by_role("link", name="Get VoiceInput v1.10.0").click()
    page.wait_for_load_state()
    assert page.url == site.url + "releases/v1.10.0/"
    assert page.locator("h1").inner_text() == "VoiceInput v1.10.0"
    assert seen.errors == [] or all("404" in e for e in seen.errors)
    assert seen.outside() == []


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_latest_page_forwards(site: Site, visit: Any, javascript: bool) -> None:
    """`latest/` lands on the latest version's page, with or without JavaScript."""
    seen = visit(site.url + "latest/", javascript=javascript)
    seen.page.wait_for_url(site.url + "releases/v1.10.0/")
    assert seen.page.locator("h1").inner_text() == "VoiceInput v1.10.0"


def test_palette_toggle_and_search(site: Site, visit: Any) -> None:
    """Material's dark palette and offline search work on the generated pages."""
    seen = visit(site.url)
    page = seen.page
    assert page.locator("body").get_attribute("data-md-color-scheme") == "default"
    page.locator("label[title='Switch to dark mode']").click()
    assert page.locator("body").get_attribute("data-md-color-scheme") == "slate"
    page.locator("input.md-search__input").click()
    page.locator("input.md-search__input").press_sequentially("manual")
    page.locator(".md-search-result__item").first.wait_for()
    assert seen.outside() == []
