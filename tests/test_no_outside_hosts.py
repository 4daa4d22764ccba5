"""The built site refers to no other host: it works offline and tells nobody who visits.

Every href, src, srcset, <link>, <script> and CSS url() or @import in every page and
stylesheet is relative or on the site's own host. Links inside release notes are the
project's own words and are left alone (the sample has none).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from bs4 import BeautifulSoup
from conftest import VOICE_URL

SITE_URL = VOICE_URL
CSS_URL = re.compile(r"""url\(\s*(['"]?)([^'")]+)\1\s*\)|@import\s+(['"])([^'"]+)\3""")
URL_ATTRIBUTES = ("href", "src", "srcset", "imagesrcset", "poster", "action", "data",
                  "formaction", "background")


@pytest.fixture
def site(voice_site: Path) -> Path:
    return voice_site  # read only


def is_outside(url: str) -> bool:
    """True for a URL that would make the browser contact (or send people to) another host."""
    parts = urlsplit(url.strip())
    if parts.scheme in ("data", "blob", "about", "javascript", "mailto", "tel"):
        return False
    if parts.scheme or parts.netloc:
        return parts.hostname != urlsplit(SITE_URL).hostname
    return False


def page_urls(soup: BeautifulSoup) -> Iterator[tuple[str, str]]:
    for node in soup.find_all(True):
        if node.find_parent(class_="sb-notes") is not None:
            continue  # release notes: the project's own content
        for name in URL_ATTRIBUTES:
            value = node.get(name)
            if not isinstance(value, str):
                continue
            if name.endswith("srcset"):
                for candidate in value.split(","):
                    if candidate.strip():
                        yield node.name, candidate.split()[0]
            else:
                yield node.name, value
        if isinstance(style := node.get("style"), str):
            yield from ((node.name, u) for u in css_urls(style))
    for style_block in soup.find_all("style"):
        yield from (("style", u) for u in css_urls(style_block.get_text()))


def css_urls(text: str) -> list[str]:
    return [m.group(2) or m.group(4) for m in CSS_URL.finditer(text)]


def test_no_page_refers_to_another_host(site: Path) -> None:
    """No href/src/srcset/style url() in any page points anywhere but this site."""
    pages = sorted(site.rglob("*.html"))
    assert len(pages) >= 9
    outside = [
        f"{page.relative_to(site)}: <{tag}> {url}"
        for page in pages
        for tag, url in page_urls(BeautifulSoup(page.read_text("utf-8"), "html.parser"))
        if is_outside(url)
    ]
    assert outside == []


def test_no_stylesheet_loads_from_another_host(site: Path) -> None:
    """Material's CSS and ours: no web font, no @import, no url() to another host."""
    sheets = sorted(site.rglob("*.css"))
    assert any(s.name == "downloads.css" for s in sheets)
    outside = [f"{s.relative_to(site)}: {u}" for s in sheets
               for u in css_urls(s.read_text("utf-8")) if is_outside(u)]
    assert outside == []
    assert not any("fonts.googleapis" in s.read_text("utf-8") for s in sheets)


def test_scripts_and_styles_are_served_by_the_site(site: Path) -> None:
    """Every <script src> and stylesheet <link> is a file of the site itself."""
    soup = BeautifulSoup((site / "index.html").read_text("utf-8"), "html.parser")
    sources = [s["src"] for s in soup.find_all("script", src=True)]
    sheets = [link["href"] for link in soup.find_all("link", rel="stylesheet")]
    assert sources and sheets
    for url in [*sources, *sheets]:
        assert isinstance(url, str) and not is_outside(url)
        assert (site / url.split("?")[0]).is_file(), url


def test_the_check_catches_an_outside_reference() -> None:
    """The detector itself: a CDN script and a web font count; our own host does not."""
    html = ('<script src="https://cdn.example.com/x.js"></script>'
            '<link rel="stylesheet" href="//fonts.example.net/css">'
            '<img srcset="a.png 1x, https://img.example.org/b.png 2x" alt="">'
            '<div style="background: url(https://x.example/bg.png)"></div>'
            f'<a href="{SITE_URL}releases/">ours</a>'
            '<div class="sb-notes"><a href="https://example.com/notes">theirs</a></div>')
    found = [u for _tag, u in page_urls(BeautifulSoup(html, "html.parser")) if is_outside(u)]
    assert found == ["https://cdn.example.com/x.js", "//fonts.example.net/css",
                     "https://img.example.org/b.png", "https://x.example/bg.png"]
