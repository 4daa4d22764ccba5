"""The download site in real headless Chromium, served the way GitLab Pages serves it.

One build and one browser for the module. The server mimics Pages where it matters here:
the site lives under a project prefix, missing paths get `404.html`, folders redirect to
their slash, `.br`/`.gz` copies are sent when the browser accepts them, and `_redirects`
rules answer. Every request the browser makes is recorded: none may leave 127.0.0.1.
"""

from __future__ import annotations

import hashlib
import mimetypes
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import pytest
from sample_site import build_sample

REPO = Path(__file__).resolve().parent.parent
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
PREFIX = "/voice"  # a project site: https://group.gitlab.io/voice/
LINUX_UA = ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/126.0.0.0 Safari/537.36")
WINDOWS_UA = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
              "Chrome/126.0.0.0 Safari/537.36")
MAC_UA = ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 "
          "(KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36")


def _require_chromium() -> None:
    if CHROMIUM.exists():
        return
    message = f"{CHROMIUM} is missing: install it with `apt-get install -y chromium` (.ci/run does)"
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


class PagesHandler(BaseHTTPRequestHandler):
    """A small GitLab Pages: prefix, 404.html, folder redirects, precompressed files, _redirects."""

    site: Path
    redirects: dict[str, str]
    encodings_sent: dict[str, str]

    def log_message(self, format: str, *args: Any) -> None:  # keep pytest output clean
        pass

    def do_GET(self) -> None:
        path = unquote(urlsplit(self.path).path)
        if not (path == PREFIX or path.startswith(PREFIX + "/")):
            return self._not_found()
        relative = path[len(PREFIX):].lstrip("/")
        target = (self.site / relative).resolve()
        if self.site not in (target, *target.parents):
            return self._not_found()
        if target.is_dir():
            if not path.endswith("/"):
                return self._redirect(path + "/")
            target = target / "index.html"
        if target.is_file() and target.name != "_redirects":
            return self._send_file(target)
        if path in self.redirects:
            return self._redirect(self.redirects[path])
        return self._not_found()

    def _send_file(self, target: Path, status: int = 200) -> None:
        accepted = self.headers.get("Accept-Encoding", "")
        body, encoding = target.read_bytes(), ""
        for suffix, name in ((".br", "br"), (".gz", "gzip")):
            copy = Path(f"{target}{suffix}")
            if name in accepted and copy.is_file() and "Range" not in self.headers:
                body, encoding = copy.read_bytes(), name
                break
        self.encodings_sent[target.relative_to(self.site).as_posix()] = encoding
        self.send_response(status)
        kind = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
        charset = "; charset=utf-8" if kind.startswith("text/") else ""
        self.send_header("Content-Type", kind + charset)
        if encoding:
            self.send_header("Content-Encoding", encoding)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _redirect(self, location: str) -> None:
        self.send_response(302)
        self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _not_found(self) -> None:
        self._send_file(self.site / "404.html", status=404)


@dataclass
class Site:
    root: Path
    url: str  # http://127.0.0.1:PORT/voice/
    encodings_sent: dict[str, str] = field(default_factory=dict)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """The sample registry built as a project site, served on 127.0.0.1."""
    encodings: dict[str, str] = {}
    handler = type("Handler", (PagesHandler,), {"encodings_sent": encodings, "redirects": {}})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    url = f"http://127.0.0.1:{server.server_address[1]}{PREFIX}/"
    output = build_sample(tmp_path_factory.mktemp("browser"), site_url=url)
    handler.site = output.resolve()
    for line in (output / "_redirects").read_text().splitlines():
        source, target, *_status = line.split()
        handler.redirects[source] = target
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield Site(root=output, url=url, encodings_sent=encodings)
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    _require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@dataclass
class Visit:
    """A browser context with a record of every URL it asked for and every console error."""

    context: Any
    page: Any
    requests: list[str]
    errors: list[str]

    def outside(self) -> list[str]:
        return [u for u in self.requests
                if urlsplit(u).scheme not in ("data", "blob", "about")
                and urlsplit(u).hostname != "127.0.0.1"]


@pytest.fixture
def visit(browser: Any) -> Iterator[Any]:
    """`visit(url, user_agent=..., javascript=True)` → a Visit; contexts close after the test."""
    contexts: list[Any] = []

    def open_page(url: str, *, user_agent: str | None = LINUX_UA, javascript: bool = True,
                  init_script: str | None = None, color_scheme: str = "light") -> Visit:
        context = browser.new_context(
            user_agent=user_agent, java_script_enabled=javascript, accept_downloads=True,
            color_scheme=color_scheme, viewport={"width": 1280, "height": 900},
        )
        contexts.append(context)
        if init_script:
            context.add_init_script(init_script)
        page = context.new_page()
        requests: list[str] = []
        errors: list[str] = []
        page.on("request", lambda request: requests.append(request.url))
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(url)
        page.wait_for_load_state("networkidle")
        return Visit(context, page, requests, errors)

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
    assert site.encodings_sent["index.html"] == "br"  # the precompressed copy decoded fine


@pytest.mark.parametrize(
    ("user_agent", "expected"),
    [(LINUX_UA, "VoiceInput-v1.10.0-linux-x64.zip"),
     (WINDOWS_UA, "VoiceInput-v1.10.0-windows-x64.zip")],
    ids=["linux", "windows"],
)
def test_primary_button_fits_the_visitor(site: Site, visit: Any, user_agent: str,
                                         expected: str) -> None:
    """The big button offers the file for the visitor's OS and CPU, and says which."""
    seen = visit(site.url, user_agent=user_agent)
    assert _primary_href(seen) == f"download/v1.10.0/{expected}"
    label = seen.page.locator("[data-sb-primary]").inner_text()
    assert ("Windows" if "Windows" in user_agent else "Linux") in label
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
    seen = visit(site.url, user_agent=MAC_UA, init_script=APPLE % cpu)
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


def test_screenshot_of_the_landing_page(site: Site, visit: Any) -> None:
    """A picture of the landing page for people to judge: screenshots/landing.png (and dark)."""
    folder = REPO / "screenshots"
    folder.mkdir(exist_ok=True)
    for scheme, name in (("light", "landing.png"), ("dark", "landing-dark.png")):
        seen = visit(site.url, color_scheme=scheme)
        _primary_href(seen)
        seen.page.screenshot(path=str(folder / name), full_page=True)
        assert (folder / name).stat().st_size > 10_000
        print(f"screenshot: {folder / name}")
