"""The download page as a visitor sees it, in real Chromium at 1280 and 390 px, light and dark.

One build (the sample registry plus an Android build of the latest version) and one browser
for the module. Each defect once seen on the page has a test that reads the computed style or
the state a visitor would notice, not only the markup; axe-core (the copy bundled with
`axe-playwright-python`) checks WCAG 2.2 A/AA and serious best practices on every kind of page.
"""

from __future__ import annotations

import hashlib
import json
import re
import shlex
import shutil
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from browser_support import (
    ANDROID,
    LINUX,
    MAC_ARM,
    MAC_INTEL,
    WINDOWS,
    System,
    axe_violations,
    chromium,
    new_page,
    serve_site,
    settle,
)
from sample_site import REPO, build_sample

PREFIX = "/voice"
APK = "VoiceInput-v1.10.0-android-arm64.apk"
PAGES = {
    "landing": "",
    "releases list": "releases/",
    "stable": "releases/v1.10.0/",
    "pre-release": "releases/v2.0.0-rc.1/",
    "build": "releases/nightly-20260115/",
    "404": "download/v0.1.0/gone.zip",
}


@dataclass
class Site:
    root: Path
    url: str


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    work = tmp_path_factory.mktemp("product")
    registry = work / "registry"
    shutil.copytree(REPO / "examples" / "registry", registry)
    (registry / "VoiceInput" / "v1.10.0" / APK).write_bytes(b"PK\x03\x04 android build\n" * 100)
    with serve_site(work / "public", prefix=PREFIX) as server:
        output = build_sample(work, site_url=server.url, registry=registry)
        yield Site(root=output, url=server.url)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as instance:
        yield instance


@pytest.fixture
def open_page(browser: Any) -> Iterator[Any]:
    """`open_page(url, system=..., width=..., scheme=...)` → a settled page; closed after."""
    pages: list[Any] = []

    def go(url: str, **options: Any) -> Any:
        page = new_page(browser, **options)
        pages.append(page)
        page.goto(url)
        settle(page)
        return page

    yield go
    for page in pages:
        page.context.close()


# -- accessibility ------------------------------------------------------------------------


def _axe_on(page: Any, url: str) -> list[str]:
    page.goto(url)
    settle(page)
    return axe_violations(page)


# Every page in both palettes and at both widths, as two opposite corners (axe's contrast
# check costs seconds a page on a loaded machine); the landing page, the richest, in all four.
@pytest.mark.slow
@pytest.mark.parametrize(("scheme", "width"), [("light", 1280), ("dark", 390)])
def test_axe_finds_nothing_on_any_page(site: Site, browser: Any, scheme: str,
                                       width: int) -> None:
    """Zero axe-core violations on landing, list, stable, pre-release, build, latest/ and 404."""
    page = new_page(browser, width=width, scheme=scheme)
    try:
        found = {name: _axe_on(page, site.url + path) for name, path in PAGES.items()}
        assert page.evaluate("document.body.dataset.mdColorScheme") == (
            "slate" if scheme == "dark" else "default")
    finally:
        page.context.close()
    # latest/ forwards at once: hold the forward (a 204 answer leaves the page shown) and
    # check latest/'s own page. (axe needs scripts: without them its timers never run.)
    page = new_page(browser, width=width, scheme=scheme)
    try:
        page.route("**/releases/**", lambda route: route.fulfill(status=204))
        page.goto(site.url + "latest/", wait_until="commit")
        page.wait_for_selector("p a", state="attached")
        page.wait_for_timeout(300)
        assert page.url == site.url + "latest/"
        found["latest/"] = axe_violations(page)
    finally:
        page.context.close()
    assert found == {name: [] for name in found}


@pytest.mark.parametrize(("scheme", "width"), [("dark", 1280), ("light", 390)])
def test_axe_finds_nothing_on_the_landing_page(site: Site, browser: Any, scheme: str,
                                               width: int) -> None:
    """The landing page in the other two palette and width pairs: zero violations too."""
    page = new_page(browser, width=width, scheme=scheme)
    try:
        assert _axe_on(page, site.url) == []
    finally:
        page.context.close()


# -- defects seen before, each with the state that showed it --------------------------------


IPHONE = System("iphone", "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) "
                "AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
                "iOS", "", "iPhone", mobile=True)


@pytest.mark.parametrize(("system", "said"), [(MAC_INTEL, "no download for macOS"),
                                               (IPHONE, "no download for iOS")],
                         ids=["intel-mac", "iphone"])
def test_no_empty_sha256_row_when_nothing_fits(site: Site, open_page: Any, system: System,
                                               said: str) -> None:
    """No file for the visitor: no empty "SHA256 [Copy]" row, and a note says why."""
    page = open_page(site.url, system=system, width=390 if system.mobile else 1280)
    hash_row = page.locator("[data-sb-pick-hash]")
    assert hash_row.evaluate("e => getComputedStyle(e).display") == "none"
    assert page.locator("[data-sb-yours]:visible").count() == 0
    note = page.locator("[data-sb-no-build]")
    assert note.is_visible() and said in note.inner_text()


def test_no_empty_sha256_row_without_javascript(site: Site, open_page: Any) -> None:
    """No script: the hero's SHA256 row and every copy button are not displayed at all."""
    page = open_page(site.url, javascript=False, width=390)
    assert page.locator("[data-sb-pick-hash]").evaluate("e => getComputedStyle(e).display") == (
        "none")
    assert page.locator(".sb-copy:visible").count() == 0


LINES_OF = """e => { const r = document.createRange(); r.selectNodeContents(e);
  return new Set([...r.getClientRects()].map(x => Math.round(x.top))).size; }"""
TEXT_NODES_WRAPPED = """e => [...e.childNodes].filter(n => n.nodeType === 3).some(n => {
  const r = document.createRange(); r.selectNodeContents(n);
  return new Set([...r.getClientRects()].map(x => Math.round(x.top))).size > 1; })"""


def test_phone_releases_list_is_cards_and_nothing_breaks_mid_word(site: Site,
                                                                  open_page: Any) -> None:
    """At 390 px: no sideways scroll, the size shows, versions and badges stay whole."""
    page = open_page(site.url + "releases/", width=390)
    wrap = page.locator(".sb-releases")
    assert wrap.evaluate("e => e.scrollWidth <= e.clientWidth + 1")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    size = page.locator(".sb-releases td.sb-size").first
    box = size.bounding_box()
    assert size.is_visible() and box is not None and box["x"] + box["width"] <= 390
    assert "Total size" in size.evaluate("e => getComputedStyle(e, '::before').content")
    for selector in (".sb-version-name", ".sb-badge", "td.sb-size", "time"):
        items = page.locator(f".sb-releases {selector}")
        assert items.count() > 0
        for index in range(items.count()):
            assert items.nth(index).evaluate(LINES_OF) == 1, selector
    versions = [page.locator(".sb-version-name").nth(i).inner_text()
                for i in range(page.locator(".sb-version-name").count())]
    assert {"v2.0.0-rc.1", "nightly-20260115"} <= set(versions)


def test_phone_commands_never_break_and_hashes_break_only_between_groups(
        site: Site, open_page: Any) -> None:
    """At 390 px a command keeps one line and scrolls; a hash or size never splits a group."""
    page = open_page(site.url, system=LINUX, width=390)
    command = page.locator("[data-sb-verify] .tabbed-block:visible .sb-command code")
    assert command.evaluate("e => getComputedStyle(e).whiteSpace") == "pre"
    assert command.evaluate(LINES_OF) == 1
    assert command.evaluate("e => e.scrollWidth > e.clientWidth")  # it scrolls instead
    for selector in ("[data-sb-pick-sha256]", ".sb-card-sha256", "code.sb-sha256", ".sb-stable",
                     "[data-sb-pick-name]", ".sb-card-name"):
        items = page.locator(selector)
        for index in range(items.count()):
            assert not items.nth(index).evaluate(TEXT_NODES_WRAPPED), selector
    assert page.locator("[data-sb-pick-sha256]").inner_text().strip() == (
        page.locator("tr.sb-row--picked").get_attribute("data-sha256"))  # <wbr> adds nothing
    for selector in ("[data-sb-pick-size]", ".sb-files td.sb-size", ".sb-card-download .sb-nowrap"):
        items = page.locator(selector)
        for index in range(items.count()):
            assert items.nth(index).evaluate(LINES_OF) == 1, selector
    assert page.evaluate("document.documentElement.scrollWidth") <= 390


def test_build_page_says_what_it_is(site: Site, open_page: Any) -> None:
    """A nightly's page wears a "build" badge, and the list explains what a build is."""
    page = open_page(site.url + "releases/nightly-20260115/")
    assert page.locator(".sb-version .sb-badge--build").is_visible()
    assert page.locator(".sb-version .sb-badge--pre").count() == 0
    listing = open_page(site.url + "releases/")
    legend = listing.locator(".sb-legend")
    assert "development build" in legend.inner_text() and legend.is_visible()


def test_links_in_sentences_are_underlined(site: Site, open_page: Any) -> None:
    """Links inside text differ from it by more than colour (WCAG 1.4.1), in both palettes."""
    for scheme in ("light", "dark"):
        page = open_page(site.url, scheme=scheme)
        link = page.locator(".sb-links a").first
        assert "underline" in link.evaluate("e => getComputedStyle(e).textDecorationLine")


# -- the product landing page ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("system", "os_name", "arch"),
    [(WINDOWS, "windows", "x64"), (MAC_ARM, "macos", "arm64"), (LINUX, "linux", "x64"),
     (ANDROID, "android", "arm64")],
    ids=lambda v: v.name if isinstance(v, System) else None,
)
def test_visitors_platform_card_comes_first(site: Site, open_page: Any, system: System,
                                            os_name: str, arch: str) -> None:
    """Windows, Apple silicon, Linux and Android visitors each see their own card first."""
    page = open_page(site.url, system=system, width=390 if system.mobile else 1280)
    first = page.locator("[data-sb-card]").first
    assert (first.get_attribute("data-os"), first.get_attribute("data-arch")) == (os_name, arch)
    assert first.locator("[data-sb-yours]").is_visible()
    assert page.locator("[data-sb-yours]:visible").count() == 1
    border = first.evaluate("e => getComputedStyle(e).borderTopWidth")
    assert border == "2px"  # marked, not only labelled
    box, second = first.bounding_box(), page.locator("[data-sb-card]").nth(1).bounding_box()
    assert box and second and (box["y"], box["x"]) < (second["y"], second["x"])


def test_card_shows_icon_arch_size_hash_and_stable_link(site: Site, open_page: Any) -> None:
    """A card: inline OS icon, CPU, human size; its stable link is copied absolute and works."""
    page = open_page(site.url, system=WINDOWS)
    page.context.grant_permissions(["clipboard-read", "clipboard-write"],
                                   origin=site.url.removesuffix(PREFIX + "/"))
    card = page.locator("[data-sb-card][data-os=windows]")
    assert card.locator("svg.sb-os-icon").is_visible()
    assert card.locator("img").count() == 0  # inline: no request for an icon
    assert "x64" in card.locator(".sb-card-title").inner_text()
    assert "39.5 KiB" in card.locator(".sb-card-download").inner_text()
    card.locator(".sb-card-facts [data-sb-copy]").click()
    sha = page.evaluate("navigator.clipboard.readText()")
    card.locator("[data-sb-copy-url]").click()
    stable = page.evaluate("navigator.clipboard.readText()")
    assert stable == site.url + "latest/download/VoiceInput-latest-windows-x64.zip"
    with urllib.request.urlopen(stable, timeout=10) as answer:  # 302 by _redirects, then 200
        assert answer.url.endswith("/download/v1.10.0/VoiceInput-v1.10.0-windows-x64.zip")
        assert hashlib.sha256(answer.read()).hexdigest() == sha
    curl = page.locator("[data-sb-curl]").inner_text()
    assert curl.startswith(f"curl -LO {stable} ")


def test_page_script_quotes_urls_for_the_shell_as_python_does(site: Site,
                                                              open_page: Any) -> None:
    """The curl line downloads.js writes for the visitor's card quotes each URL as one shell
    word, exactly as the build's shlex.quote does (a path may hold `$ ' ( ) & ;`)."""
    script = (REPO / "site_builder/assets/downloads.js").read_text(encoding="utf-8")
    found = re.search(r"function shellQuote\(text\) \{.*?\n  \}", script, re.S)
    assert found is not None
    page = open_page(site.url)
    for text in ("https://h/p/App-latest.zip", "https://h/p/App'; rm -rf ~; '.zip",
                 "https://h/p/$(whoami)&x=1;(y)", "https://h/p/a b.zip", ""):
        assert page.evaluate(f"({found.group(0)})", text) == shlex.quote(text)


def test_landing_is_a_product_page(site: Site, open_page: Any) -> None:
    """No docs sidebar; guides from content/; a footer with feed, JSON and last update."""
    page = open_page(site.url)
    assert not page.locator(".md-sidebar--primary").is_visible()
    assert page.locator("#requirements + .sb-guide table").is_visible()
    assert "Unpack" in page.locator("#after-download + .sb-guide").inner_text()
    footer = page.locator(".sb-footer")
    for name in ("Releases feed (Atom)", "index.json", "latest.json"):
        href = footer.get_by_role("link", name=name).evaluate("a => a.href")
        with urllib.request.urlopen(href, timeout=10) as answer:
            assert answer.status == 200
    assert "Last updated 2026-03-01" in footer.inner_text()
    assert page.locator("link[rel=icon]").get_attribute("href", timeout=1000).endswith(
        "assets/logo.svg")
    feed = page.locator("link[rel=alternate][type='application/atom+xml']")
    assert feed.evaluate("l => l.href") == site.url + "feed.xml"


def test_404_has_a_title_and_sums_show_as_text(site: Site, open_page: Any) -> None:
    """The 404 page's title says so; a version page shows its SHA256SUMS text on request."""
    page = open_page(site.url + "no/such/page")
    assert page.title().startswith("Page not found · VoiceInput")
    page = open_page(site.url + "releases/v1.10.0/")
    page.locator(".sb-sums summary").click()
    shown = page.locator(".sb-sums pre").inner_text()
    assert shown == (site.root / "download/v1.10.0/SHA256SUMS").read_text()


# -- check a file you downloaded ------------------------------------------------------------


def _check(page: Any, path: Path) -> str:
    page.locator("[data-sb-check-input]").set_input_files(str(path))
    page.wait_for_function("document.querySelector('[data-sb-check]').dataset.state === 'done'",
                           timeout=120_000)
    return str(page.locator("[data-sb-check-result]").inner_text())


def test_file_check_recognises_a_real_artifact_and_rejects_a_changed_copy(
        site: Site, open_page: Any, tmp_path: Path) -> None:
    """A downloaded artifact is named with its release; one changed byte matches nothing."""
    page = open_page(site.url, system=WINDOWS, width=390)
    real = site.root / "download/v1.10.0/VoiceInput-v1.10.0-windows-x64.zip"
    said = _check(page, real)
    assert said.startswith("Matches: VoiceInput v1.10.0 for Windows (x64)")
    assert "VoiceInput-v1.10.0-windows-x64.zip" in said
    assert page.locator("[data-sb-check-progress]").evaluate("e => e.value") == 100
    changed = tmp_path / real.name
    data = bytearray(real.read_bytes())
    data[len(data) // 2] ^= 0x01
    changed.write_bytes(bytes(data))
    said = _check(page, changed)
    assert said.startswith("No match")
    assert hashlib.sha256(data).hexdigest() in said and "damaged" in said
    result = page.locator("[data-sb-check-result]")
    assert "mismatch" in str(result.get_attribute("class"))


def _tree_rss(root_pid: int) -> int:
    """Resident memory (bytes) of every process below `root_pid`: the browser and its tabs."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    total, todo = 0, list(children.get(root_pid, []))
    while todo:
        pid = todo.pop()
        todo.extend(children.get(pid, []))
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        total += next((int(line.split()[1]) * 1024 for line in status.splitlines()
                       if line.startswith("VmRSS:")), 0)
    return total


@pytest.mark.slow
def test_file_check_hashes_300_mb_with_flat_memory(site: Site, open_page: Any,
                                                   tmp_path: Path) -> None:
    """A 300 MB file is hashed right, with a moving progress bar, and memory stays bounded."""
    import os

    big = tmp_path / "VoiceInput-big.iso"
    with big.open("wb") as out:
        block = hashlib.sha256(b"seed").digest() * 32768  # 1 MiB of varied bytes
        for _ in range(300):
            out.write(block)
    expected = hashlib.sha256()
    with big.open("rb") as data:
        while chunk := data.read(1 << 20):
            expected.update(chunk)
    page = open_page(site.url)
    page.evaluate("() => window.hashwasm || 0")
    before = _tree_rss(os.getpid())
    page.locator("[data-sb-check-progress]").evaluate(  # every value the bar shows
        "bar => { window.sbSeen = []; new MutationObserver(() => sbSeen.push(bar.value))"
        ".observe(bar, {attributes: true, attributeFilter: ['value']}); }")
    page.locator("[data-sb-check-input]").set_input_files(str(big))
    peak = before
    while page.evaluate("document.querySelector('[data-sb-check]').dataset.state") != "done":
        peak = max(peak, _tree_rss(os.getpid()))
        page.wait_for_timeout(50)
    progress_seen = page.evaluate("window.sbSeen")
    said = page.locator("[data-sb-check-result]").inner_text()
    assert said.startswith("No match") and expected.hexdigest() in said
    grew = peak - before  # reading the whole file at once grows it by 300 MiB and more
    assert grew < 150 * 1024 * 1024, f"the browser grew by {grew >> 20} MiB for a 300 MiB file"
    assert any(0 < value < 100 for value in progress_seen)  # it moved while reading
    print(f"300 MiB hashed; the browser grew by {grew >> 20} MiB at most")


def test_index_json_is_what_the_check_reads(site: Site) -> None:
    """The check compares against the site's own index.json: every published file is in it."""
    index = json.loads((site.root / "index.json").read_text())
    names = {f["name"] for r in index["releases"] for f in r["files"]}
    assert APK in names and "VoiceInput-v1.10.0-windows-x64.zip" in names
