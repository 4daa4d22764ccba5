"""A rebuild links the files that did not change from the output it replaces, and trusts none.

What a user would check: the new site is byte for byte what a fresh build makes; a file of the
old output that was changed, shared with another path, or swapped for a link is never taken;
a failed rebuild leaves the old site as it was; once the build is done no published file
shares its inode with anything (the old output, the cache, a path outside the site).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from pathlib import Path

import brotli
import pytest

from site_builder import output
from site_builder.output import PreviousOutput, StagedOutput

pytestmark = pytest.mark.skipif(not output._LINKING, reason="links through /proc/self/fd: Linux")

ZIP = "download/v1.0.0/VoiceInput-v1.0.0.zip"
PAGE = "releases/v1.0.0/index.html"


# -- PreviousOutput by itself -----------------------------------------------------------------

@pytest.fixture
def old(tmp_path: Path) -> Path:
    root = tmp_path / "public"
    (root / "download/v1").mkdir(parents=True)
    (root / "download/v1/App.zip").write_bytes(b"PK app")
    (root / "index.json").write_bytes(b"{}")
    return root


@pytest.fixture
def new(tmp_path: Path) -> Path:
    root = tmp_path / "staging"
    (root / "download/v1").mkdir(parents=True)
    return root


def same(content: bytes) -> Callable[[bytes], bool]:
    return lambda found: found == content


def test_the_same_bytes_are_linked_and_other_bytes_are_not(old: Path, new: Path) -> None:
    previous = PreviousOutput(old)
    assert previous.link_if("index.json", new / "index.json", same(b"{}"))
    assert (new / "index.json").stat().st_ino == (old / "index.json").stat().st_ino
    assert not previous.link_if("download/v1/App.zip", new / "download/v1/App.zip",
                                same(b"PK other"))
    assert not (new / "download/v1/App.zip").exists()
    assert not previous.link_if("missing.json", new / "missing.json", same(b""))


def test_by_sha256_the_hash_and_size_must_both_match(old: Path, new: Path) -> None:
    previous = PreviousOutput(old)
    right = hashlib.sha256(b"PK app").hexdigest()
    target = new / "download/v1/App.zip"
    assert not previous.link_sha256("download/v1/App.zip", target, sha256="0" * 64, size=6)
    assert not previous.link_sha256("download/v1/App.zip", target, sha256=right, size=7)
    assert not target.exists()
    assert previous.link_sha256("download/v1/App.zip", target, sha256=right.upper(), size=6)
    assert target.read_bytes() == b"PK app"


def test_a_file_with_another_name_is_not_linked(old: Path, new: Path, tmp_path: Path) -> None:
    """A second hard link (say, into a folder someone else controls) would let that path change
    the published file after it was checked."""
    os.link(old / "index.json", tmp_path / "elsewhere.json")
    assert not PreviousOutput(old).link_if("index.json", new / "index.json", same(b"{}"))
    assert not (new / "index.json").exists()


def test_symbolic_links_in_the_old_output_are_never_followed(old: Path, new: Path,
                                                             tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    (outside / "v1").mkdir(parents=True)
    (outside / "v1/App.zip").write_bytes(b"PK app")
    (outside / "feed.xml").write_bytes(b"<feed/>")
    (old / "feed.xml").symlink_to(outside / "feed.xml")  # a file that is a link
    (old / "mirror").symlink_to(outside, target_is_directory=True)  # a folder that is one
    previous = PreviousOutput(old)
    assert not previous.link_if("feed.xml", new / "feed.xml", same(b"<feed/>"))
    (new / "mirror/v1").mkdir(parents=True)
    assert not previous.link_if("mirror/v1/App.zip", new / "mirror/v1/App.zip", same(b"PK app"))
    assert sorted(p.name for p in new.iterdir()) == ["download", "mirror"]
    assert (outside / "v1/App.zip").stat().st_nlink == 1


def test_a_destination_written_already_is_left_to_the_caller(old: Path, new: Path) -> None:
    (new / "index.json").write_bytes(b"{}")
    assert not PreviousOutput(old).link_if("index.json", new / "index.json", same(b"{}"))
    assert (new / "index.json").stat().st_ino != (old / "index.json").stat().st_ino


# -- rebuilds ----------------------------------------------------------------------------------

def inodes(root: Path) -> dict[str, int]:
    return {p.relative_to(root).as_posix(): p.stat().st_ino for p in root.rglob("*")
            if p.is_file()}


def contents(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*")
            if p.is_file()}


def test_a_rebuild_links_what_did_not_change_and_writes_the_rest(
    registry, build, project, tmp_path
) -> None:
    registry.add("v1.0.0", {"VoiceInput-v1.0.0.zip": b"PK" + os.urandom(4000)})
    assert build().code == 0
    site = project / "public"
    before = inodes(site)
    registry.add("v1.1.0", {"VoiceInput-v1.1.0.zip": b"PK" + os.urandom(4000)},
                 released_at="2026-02-01T00:00:00Z")
    result = build()
    assert result.code == 0, result.err
    after = inodes(site)
    kept = {path for path, ino in after.items() if before.get(path) == ino}
    # v1.0.0's artifact and checksums did not change: linked, not copied again
    assert {ZIP, "download/v1.0.0/SHA256SUMS"} <= kept
    # what a new release changes is written anew: the feed, the index, every page's header
    assert not {"index.json", "feed.xml", "index.html", PAGE, f"{PAGE}.br"} & kept
    assert not any(path.startswith(("download/v1.1.0/", "releases/v1.1.0/")) for path in kept)
    # once the old output is gone, every published file's name is its only one
    cache = {p.stat().st_ino for p in (tmp_path / "cache").rglob("*") if p.is_file()}
    for path in after:
        assert (site / path).stat().st_nlink == 1, path
    assert not cache & set(after.values())
    page = (site / PAGE).read_bytes()
    assert brotli.decompress((site / f"{PAGE}.br").read_bytes()) == page
    # and the site is what a build with no earlier output makes
    fresh = tmp_path / "fresh"
    assert build("--output", str(fresh)).code == 0
    assert contents(fresh) == contents(site)


def test_changed_files_in_the_old_output_are_not_taken(registry, build, project) -> None:
    """Someone edited the published files in place: the rebuild publishes the true bytes."""
    zipped = b"PK" + os.urandom(4000)
    registry.add("v1.0.0", {"VoiceInput-v1.0.0.zip": zipped})
    assert build().code == 0
    site = project / "public"
    true_copy = (site / f"{PAGE}.br").read_bytes()
    with (site / ZIP).open("r+b") as artifact:  # same size, other bytes, same inode
        artifact.write(b"MZ")
    (site / f"{PAGE}.br").write_bytes(brotli.compress(b"<html>planted</html>"))
    assert build().code == 0
    assert (site / ZIP).read_bytes() == zipped
    assert (site / f"{PAGE}.br").read_bytes() == true_copy


def test_a_failed_rebuild_after_linking_leaves_the_old_site_whole(registry, build,
                                                                 project) -> None:
    """`strict: true` stops the build after the site is written (links included): the old
    output is as it was, its files have one name each again, and no staging folder is left."""
    registry.add("v1.0.0", {"VoiceInput-v1.0.0.zip": b"PK" + os.urandom(4000)})
    assert build().code == 0
    site = project / "public"
    before, ids = contents(site), inodes(site)
    (project / "content" / "broken.md").write_text("# Broken\n\n[gone](missing.md)\n")
    with (project / "mkdocs.yml").open("a") as config:
        config.write("strict: true\n")
    assert build().code != 0
    assert contents(site) == before and inodes(site) == ids
    assert all((site / path).stat().st_nlink == 1 for path in before)
    assert [p.name for p in project.iterdir() if p.name.startswith(".public")] == []


def test_a_rebuild_with_nothing_new_writes_only_what_mkdocs_writes(registry, build,
                                                                  project) -> None:
    """Pages and theme files are MkDocs' own (always new files); every other file, and every
    compressed copy, is the old one linked."""
    registry.add("v1.0.0", {"VoiceInput-v1.0.0.zip": b"PK" + os.urandom(4000)},
                 notes="## Changes\n\n- first\n")
    assert build().code == 0
    site = project / "public"
    before = inodes(site)
    assert build().code == 0
    after = inodes(site)
    assert after.keys() == before.keys()
    written = {path for path, ino in after.items() if before[path] != ino}
    copies = {path for path in after if path.endswith((".gz", ".br"))}
    assert copies and not copies & written
    assert ZIP not in written and "index.json" not in written
    assert written, "MkDocs writes every page again"
    mkdocs_own = [p for p in written if p.endswith(".html") or p.startswith(("assets/", "search/"))]
    assert sorted(set(written) - set(mkdocs_own)) == ["_redirects"]  # (made last, from the site)


def test_only_a_built_site_is_an_earlier_output(tmp_path: Path) -> None:
    """A new or empty output folder has nothing to link from: the site is written as it
    renders, as in a CI job."""
    target = tmp_path / "public"
    assert StagedOutput(target).previous() is None
    target.mkdir()
    assert StagedOutput(target).previous() is None
    (target / "index.html").write_text("<p>the old site</p>")
    assert StagedOutput(target).previous() is not None
