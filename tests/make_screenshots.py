"""Pictures of the sample site for people to judge: `python tests/make_screenshots.py [DIR]`.

Builds examples/registry in a temporary folder, serves it like GitLab Pages and saves, with
Debian's Chromium, the landing page on a desktop (light and dark) and on a phone, and the
release list on a phone, into DIR (default: screenshots/ of the repository). Not a test: the
test suite never writes into the repository.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from browser_support import ANDROID, WINDOWS, chromium, new_page, serve_site, settle
from sample_site import REPO, build_sample

SHOTS = (  # file, path, visitor, width, palette, whole page
    ("landing-desktop.png", "", WINDOWS, 1280, "light", True),
    ("landing-desktop-dark.png", "", WINDOWS, 1280, "dark", True),
    ("landing-mobile.png", "", ANDROID, 390, "light", True),
    ("releases-mobile-dark.png", "releases/", ANDROID, 390, "dark", True),
    ("version-desktop.png", "releases/v1.10.0/", WINDOWS, 1280, "light", False),
)


def main(argv: list[str]) -> int:
    folder = Path(argv[0]) if argv else REPO / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as work, \
            serve_site(Path(work) / "public", prefix="/voice") as server:
        build_sample(Path(work), site_url=server.url)
        with chromium() as browser:
            for name, path, system, width, scheme, full in SHOTS:
                page = new_page(browser, system=system, width=width, scheme=scheme)
                page.goto(server.url + path)
                settle(page)
                page.screenshot(path=str(folder / name), full_page=full)
                page.context.close()
                print(folder / name)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
