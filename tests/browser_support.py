"""Real Chromium on a built site, served the way GitLab Pages serves it.

Shared by the browser tests and by `tests/make_screenshots.py`:

    with serve_site(output, prefix="/voice") as server:     # server.url: http://127.0.0.1:P/voice/
        build_into(output, site_url=server.url)            # the folder is read per request
        with chromium() as browser:
            page = open_page(browser, server.url, system=WINDOWS, width=390, scheme="dark")
            assert axe_violations(page) == []

`site_builder.pages_server` answers as Pages does (project prefix, `404.html`, folder
redirects, `.br`/`.gz` copies, `_redirects` rules). A `System` emulates a visitor's
platform through both the user agent and `navigator.userAgentData` (Chromium's client hints),
because a page that reads `userAgentData` ignores `--user-agent` alone.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from site_builder.pages_server import PagesServer

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


@dataclass(frozen=True)
class System:
    """A visitor's platform as Chromium reports it: user agent plus client hints."""

    name: str
    user_agent: str
    platform: str  # navigator.userAgentData.platform
    architecture: str  # getHighEntropyValues(["architecture"]): "x86" | "arm" | ""
    navigator_platform: str  # navigator.platform, frozen by browsers but real on phones
    mobile: bool = False

    def metadata(self) -> dict[str, Any]:
        return {
            "brands": [{"brand": "Chromium", "version": "126"}],
            "fullVersionList": [{"brand": "Chromium", "version": "126.0.0.0"}],
            "platform": self.platform, "platformVersion": "", "architecture": self.architecture,
            "model": "Pixel 8" if self.mobile else "", "mobile": self.mobile, "bitness": "64",
            "wow64": False,
        }


_CHROME = "AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0"
WINDOWS = System("windows", f"Mozilla/5.0 (Windows NT 10.0; Win64; x64) {_CHROME} Safari/537.36",
                 "Windows", "x86", "Win32")
# Chrome on Apple silicon still says "Intel Mac OS X": only the client hints tell the CPU.
MAC_ARM = System("macos-arm64", f"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) {_CHROME} "
                 "Safari/537.36", "macOS", "arm", "MacIntel")
MAC_INTEL = System("macos-intel", MAC_ARM.user_agent, "macOS", "x86", "MacIntel")
LINUX = System("linux", f"Mozilla/5.0 (X11; Linux x86_64) {_CHROME} Safari/537.36",
               "Linux", "x86", "Linux x86_64")
ANDROID = System("android", f"Mozilla/5.0 (Linux; Android 14; Pixel 8) {_CHROME} Mobile "
                 "Safari/537.36", "Android", "", "Linux armv8l", mobile=True)


def require_chromium() -> None:
    if CHROMIUM.exists():
        return
    message = f"{CHROMIUM} is missing: install it with `apt-get install -y chromium` (.ci/run does)"
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


@contextmanager
def serve_site(root: Path, *, prefix: str) -> Iterator[PagesServer]:
    """Serve a (possibly not yet built) site folder the way GitLab Pages would."""
    with PagesServer(root, prefix=prefix) as server:
        yield server


@contextmanager
def chromium() -> Iterator[Any]:
    """Debian's Chromium through Playwright, closed when the block ends."""
    require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def new_page(browser: Any, *, system: System = LINUX, width: int = 1280, scheme: str = "light",
             javascript: bool = True) -> Any:
    """A page in a fresh context that looks like `system` at `width` px in `scheme`."""
    viewport = DESKTOP if width >= DESKTOP["width"] else {**PHONE, "width": width}
    context = browser.new_context(
        user_agent=system.user_agent, java_script_enabled=javascript, accept_downloads=True,
        color_scheme=scheme, viewport=viewport, is_mobile=system.mobile, has_touch=system.mobile,
    )
    page = context.new_page()
    # The client hints are set per page through the DevTools protocol, before any script runs.
    session = context.new_cdp_session(page)
    session.send("Emulation.setUserAgentOverride", {
        "userAgent": system.user_agent, "userAgentMetadata": system.metadata(),
        "platform": system.navigator_platform,
    })
    page.sb_javascript = javascript  # for settle(): no script, nothing to wait for
    return page


def settle(page: Any) -> None:
    """Wait until the download script has run (it marks <html> when done)."""
    page.wait_for_load_state("load")
    if getattr(page, "sb_javascript", True) and page.evaluate(
            "document.querySelector('script[src*=\"downloads.js\"]') !== null"):
        page.wait_for_function("document.documentElement.dataset.sbReady === '1'", timeout=10000)


# WCAG 2.0-2.2 A and AA; best practices count when serious or critical.
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa", "best-practice"]


def axe_violations(page: Any) -> list[str]:
    """axe-core's violations on the page as `rule (impact): target…` lines; [] when clean."""
    from axe_playwright_python.base import AXE_SCRIPT

    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(AXE_SCRIPT)
    result = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: "
        "['violations']})", AXE_TAGS)
    found = []
    for violation in result["violations"]:
        best_practice_only = "best-practice" in violation["tags"] and not any(
            t.startswith("wcag2") for t in violation["tags"])
        if best_practice_only and violation["impact"] not in ("serious", "critical"):
            continue
        targets = [" ".join(map(str, n["target"])) for n in violation["nodes"][:4]]
        summary = violation["nodes"][0].get("failureSummary", "").replace("\n", " ")[:300]
        found.append(f"{violation['id']} ({violation['impact']}, {len(violation['nodes'])} "
                     f"nodes): {targets} {summary}")
    return found
