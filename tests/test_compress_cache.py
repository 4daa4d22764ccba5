"""Rebuilds redo only new work: compressed copies come back from a content-addressed cache."""

from __future__ import annotations

import gzip
import os
import re
from pathlib import Path

import brotli

from site_builder.compress import BackgroundCompressor, CompressedCache, precompress

PAGE = ("<p>" + "download the latest version " * 100 + "</p>").encode()


def site(root: Path, pages: dict[str, bytes]) -> Path:
    for name, content in pages.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(content)
    return root


def test_unchanged_pages_are_reused_and_identical(tmp_path: Path) -> None:
    """A second build of the same pages compresses nothing and writes the same bytes."""
    cache = tmp_path / "cache"
    pages = {"index.html": PAGE, "releases/index.html": PAGE + b"<p>v2</p>",
             "assets/app.css": b"body { color: black; }\n" * 60}
    first = precompress(site(tmp_path / "a", pages), cache=cache)
    second = precompress(site(tmp_path / "b", pages), cache=cache)
    assert first.files == second.files == 6
    assert (first.reused, second.reused) == (0, 6)
    for name in pages:
        for enc in (".gz", ".br"):
            assert (tmp_path / "a" / f"{name}{enc}").read_bytes() == \
                (tmp_path / "b" / f"{name}{enc}").read_bytes()
    assert brotli.decompress((tmp_path / "b/index.html.br").read_bytes()) == PAGE


def test_changed_page_is_compressed_again(tmp_path: Path) -> None:
    """Only the changed page goes through the encoder; its copy decodes to the new bytes."""
    cache = tmp_path / "cache"
    precompress(site(tmp_path / "a", {"index.html": PAGE, "old.html": PAGE + b"x"}), cache=cache)
    changed = PAGE.replace(b"latest", b"newest")
    again = precompress(site(tmp_path / "b", {"index.html": changed, "old.html": PAGE + b"x"}),
                        cache=cache)
    assert (again.files, again.reused) == (4, 2)
    assert gzip.decompress((tmp_path / "b/index.html.gz").read_bytes()) == changed


def test_a_damaged_entry_is_never_served(tmp_path: Path) -> None:
    """A cache entry planted or broken by another pipeline is replaced by a good copy."""
    cache = tmp_path / "cache"
    precompress(site(tmp_path / "a", {"index.html": PAGE}), cache=cache)
    entries = CompressedCache(cache)
    gz = entries.path_for(PAGE, ".gz", shared=False)
    br = entries.path_for(PAGE, ".br", shared=False)
    gz.write_bytes(gzip.compress(b"<script>evil()</script>", mtime=0))  # valid gzip, wrong page
    br.write_bytes(b"not brotli at all")
    again = precompress(site(tmp_path / "b", {"index.html": PAGE}), cache=cache)
    assert (again.files, again.reused) == (2, 0)
    assert gzip.decompress((tmp_path / "b/index.html.gz").read_bytes()) == PAGE
    assert brotli.decompress((tmp_path / "b/index.html.br").read_bytes()) == PAGE
    assert gzip.decompress(gz.read_bytes()) == PAGE  # the entry itself was made good again


def test_entries_no_build_used_for_weeks_are_pruned(tmp_path: Path) -> None:
    """The cache does not grow forever: an entry unused past the age limit is removed."""
    cache = tmp_path / "cache"
    precompress(site(tmp_path / "a", {"index.html": PAGE, "other.html": PAGE + b"!"}), cache=cache)
    stale = CompressedCache(cache).path_for(PAGE + b"!", ".gz", shared=False)
    os.utime(stale, (0, 0))
    precompress(site(tmp_path / "b", {"index.html": PAGE}), cache=cache)
    assert not stale.exists()
    assert CompressedCache(cache).path_for(PAGE, ".gz", shared=False).exists()


def test_rebuild_reports_its_times_and_reuses_every_copy(registry, build) -> None:
    """The build log names page rendering apart from MkDocs; a rebuild compresses nothing."""
    registry.add("v1.0.0", {"App-v1.0.0.zip": b"PK" + os.urandom(100)})
    first, second = build(), build()
    assert first.code == second.code == 0, first.err + second.err
    times = re.compile(r"page rendering [\d.]+ s \(3 pages\).*\((\d+) of (\d+) compressed copies "
                       r"reused\); MkDocs itself [\d.]+ s")
    cold, warm = times.search(first.err), times.search(second.err)
    assert cold is not None and warm is not None, first.err
    assert int(cold[1]) < int(cold[2]) and int(cold[2]) > 0
    assert warm[1] == warm[2] == cold[2]


# -- pages compressed while MkDocs renders ----------------------------------------------------

def test_pages_compressed_early_count_once_and_match_precompress(tmp_path: Path) -> None:
    """Copies made as pages are written are the bytes `precompress` makes, counted once."""
    cache, html = tmp_path / "cache", PAGE.decode() + "<p>caf\u00e9 \udc80</p>"
    data = html.encode("utf-8", errors="xmlcharrefreplace")  # as MkDocs writes a page
    early = BackgroundCompressor(site(tmp_path / "a", {"index.html": data}), cache=cache)
    early.add("index.html", html)
    done = precompress(tmp_path / "a", cache=cache, made=early.finish())
    plain = precompress(site(tmp_path / "b", {"index.html": data}))
    assert (done.files, done.reused, plain.files) == (2, 0, 2)
    for enc in (".gz", ".br"):
        assert (tmp_path / "a" / f"index.html{enc}").read_bytes() == \
            (tmp_path / "b" / f"index.html{enc}").read_bytes()


def test_a_page_changed_after_it_was_handed_over_is_compressed_again(tmp_path: Path) -> None:
    """A plugin that rewrites a page later: the copies decode to the final page, none stale."""
    root = site(tmp_path / "a", {"keep.html": PAGE, "gone.html": PAGE, "twice.html": PAGE})
    early = BackgroundCompressor(root, cache=tmp_path / "cache")
    for name in ("keep.html", "gone.html", "twice.html"):
        early.add(name, PAGE.decode())
    early.add("twice.html", PAGE.decode() + "<p>second</p>")  # two pages, one file
    final = PAGE.replace(b"latest", b"rewritten")
    (root / "keep.html").write_bytes(final)
    (root / "gone.html").unlink()
    done = precompress(root, cache=tmp_path / "cache", made=early.finish())
    assert done.files == 4
    assert gzip.decompress((root / "keep.html.gz").read_bytes()) == final
    assert brotli.decompress((root / "keep.html.br").read_bytes()) == final
    assert brotli.decompress((root / "twice.html.br").read_bytes()) == PAGE
    assert not list(root.glob("gone.html.*"))


def test_only_what_every_page_loads_gets_the_slow_best_ratio(tmp_path: Path) -> None:
    """Scripts, stylesheets and icons, yes; the feed and the JSON index, only named in
    `<link rel="alternate">`, are not loaded by visitors (and change with every release)."""
    from site_builder.compress import loaded_by_every_page

    home = (b'<html><head><link rel="stylesheet" href="assets/main.css?v=1">'
            b'<link rel="shortcut icon" href="assets/logo.svg">'
            b'<link rel="alternate" type="application/atom+xml" href="feed.xml">'
            b'<link rel="alternate" type="application/json" href="index.json">'
            b'<link rel="next" href="releases/"><link rel="stylesheet" href="https://cdn/x.css">'
            b'<script src="assets/app.js"></script><script>inline()</script></head></html>')
    root = site(tmp_path, {"index.html": home})
    assert loaded_by_every_page(root) == {"assets/main.css", "assets/logo.svg", "assets/app.js"}


def test_files_compressed_early_match_precompress_at_the_level_it_chooses(tmp_path: Path) -> None:
    """Assets handed over before the home page was final still get the level it asks for;
    a copy MkDocs wrote itself (sitemap.xml.gz) is left alone."""
    home = b'<html><head><script src="app.js"></script></head>' + PAGE + b"</html>"
    files = {"index.html": home, "app.js": b"function download() { return 1; }\n" * 80,
             "style.css": b"body { color: black; }\n" * 60, "sitemap.xml": PAGE,
             "sitemap.xml.gz": b"mkdocs wrote this"}
    early = BackgroundCompressor(site(tmp_path / "a", files), cache=tmp_path / "cache")
    early.add_file("app.js", shared=False)  # as if the home page had not named it yet
    early.add_file("style.css", shared=False)
    early.add_file("sitemap.xml", shared=False)
    done = precompress(tmp_path / "a", cache=tmp_path / "cache", made=early.finish())
    plain = precompress(site(tmp_path / "b", files))
    assert done.files == plain.files == 7
    for name in ("index.html", "app.js", "style.css", "sitemap.xml"):
        for enc in (".gz", ".br"):
            assert (tmp_path / "a" / f"{name}{enc}").read_bytes() == \
                (tmp_path / "b" / f"{name}{enc}").read_bytes(), name + enc
    assert (tmp_path / "a/sitemap.xml.gz").read_bytes() == b"mkdocs wrote this"
