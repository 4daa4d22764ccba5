"""A warm build starts from the last build's listing and publishes only what GitLab confirms.

Unit tests drive `Speculative` with a source whose answers the test controls; end-to-end
tests run `site-builder build` twice against the fake GitLab, the second time with GitLab's
listing re-read in a real child process, and check the published site as a user would.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from site_builder.catalog import Artifact, PackageVersion
from site_builder.errors import SourceError
from site_builder.sources.snapshot import (
    ListingChanged,
    Speculative,
    ThreadListing,
    decode,
    encode,
    load,
    snapshot_path,
)

try:
    from conftest import CliResult
    from fake_gitlab import FakeGitLab
except ImportError:  # tests/ imported as a package
    from .conftest import CliResult  # type: ignore[no-redef]
    from .fake_gitlab import FakeGitLab  # type: ignore[no-redef]

TOKEN = "glpat-Snapshot-Secret-77aa"
WHEN = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def row(version: str, *files: tuple[str, bytes], notes: str = "") -> PackageVersion:
    return PackageVersion(
        package="VoiceInput", version=version, created_at=WHEN, notes=notes,
        files=tuple(Artifact(name, len(data), hashlib.sha256(data).hexdigest(), file_id=i + 1,
                             uploaded_at=WHEN) for i, (name, data) in enumerate(files)))


# -- the saved form ---------------------------------------------------------------------------

def test_encoding_round_trips_rows_as_sources_give_them() -> None:
    """Unchecked values survive as they came (the catalogue checks them), odd text included."""
    rows = [
        row("v1.0.0", ("a.zip", b"a"), notes="## Fixes\n\n- \u2028 é \U0001f600"),
        PackageVersion(package=None, version=7, created_at=datetime(  # type: ignore[arg-type]
            2026, 1, 1, 10, tzinfo=timezone(timedelta(hours=2))), status="hidden",
            files=(Artifact("\ud800.zip", "12", "not-a-hash", file_id=True,  # type: ignore[arg-type]
                            uploaded_at=None),)),
    ]
    encoded = encode(rows)
    assert decode(encoded) == rows
    assert encode(decode(encoded) or []) == encoded


@pytest.mark.parametrize("content", [
    b"", b"{", b"[]", b'{"format": 1}', b'{"format": 2, "rows": []}',
    b'{"format": 1, "rows": [{"version": "v1"}]}',
    b'{"format": 1, "rows": [{"package": "p", "version": "v", "created_at": "yesterday", '
    b'"status": "default", "package_type": "generic", "notes": "", "files": []}]}',
])
def test_anything_else_is_no_snapshot(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "listing.json"
    path.write_bytes(content)
    assert load(path) is None
    assert load(tmp_path / "missing.json") is None


def test_the_snapshot_is_named_without_the_token(tmp_path: Path) -> None:
    path = snapshot_path(tmp_path, "https://gitlab.example.com/api/v4", "42", "VoiceInput")
    assert path.parent == tmp_path / "listings" and path.suffix == ".json"
    assert path != snapshot_path(tmp_path, "https://gitlab.example.com/api/v4", "43",
                                 "VoiceInput")


# -- Speculative ------------------------------------------------------------------------------

class Registry:
    """A source whose listing the test sets, and can hold until it says so."""

    def __init__(self, rows: list[PackageVersion]) -> None:
        self.rows = rows
        self.calls = 0
        self.release = threading.Event()
        self.release.set()
        self.failure: Exception | None = None

    def describe(self) -> str:
        return "the test's registry"

    def versions(self, package: str) -> list[PackageVersion]:
        self.calls += 1
        assert self.release.wait(10)
        if self.failure is not None:
            raise self.failure
        return list(self.rows)

    def open(self, package: str, version: str,
             artifact: Artifact) -> AbstractContextManager[Iterator[bytes]]:
        raise AssertionError("not used")


@pytest.fixture
def saved(tmp_path: Path) -> Path:
    """A snapshot of one version, as a first build leaves it."""
    path = tmp_path / "listings" / "x.json"
    first = Speculative(Registry([row("v1.0.0", ("a.zip", b"a"))]), path)
    assert [r.version for r in first.versions("VoiceInput")] == ["v1.0.0"]
    assert not first.guessed
    first.confirm()
    first.save()
    assert path.is_file()
    return path


def test_without_a_snapshot_it_lists_first(tmp_path: Path) -> None:
    source = Registry([row("v1.0.0", ("a.zip", b"a"))])
    speculative = Speculative(source, tmp_path / "none.json")
    assert speculative.versions("VoiceInput") == source.rows and source.calls == 1
    speculative.confirm()  # nothing to compare: it was GitLab's own answer


def test_with_a_snapshot_it_answers_before_the_registry_does(saved: Path) -> None:
    source = Registry([row("v1.0.0", ("a.zip", b"a"))])
    source.release.clear()  # the registry is slow to answer
    speculative = Speculative(source, saved)
    rows = speculative.versions("VoiceInput")  # returns while the registry still holds back
    assert speculative.guessed and [r.version for r in rows] == ["v1.0.0"]
    source.release.set()
    speculative.confirm()
    assert source.calls == 1


def test_a_changed_registry_is_caught_and_becomes_the_next_guess(saved: Path) -> None:
    source = Registry([row("v1.0.0", ("a.zip", b"a")), row("v1.1.0", ("b.zip", b"b"))])
    speculative = Speculative(source, saved)
    assert len(speculative.versions("VoiceInput")) == 1
    with pytest.raises(ListingChanged):
        speculative.confirm()
    assert [r.version for r in load(saved) or []] == ["v1.0.0", "v1.1.0"]


@pytest.mark.parametrize("change", [
    lambda: [row("v1.0.0", ("a.zip", b"A"))],  # same name, other bytes
    lambda: [row("v1.0.0", ("a.zip", b"a"), notes="new notes")],
    lambda: [],  # the version was deleted
])
def test_any_difference_counts(saved: Path, change: Callable[[], list[PackageVersion]]) -> None:
    speculative = Speculative(Registry(change()), saved)
    speculative.versions("VoiceInput")
    assert speculative.outdated()


def test_a_failed_relisting_is_the_error_not_a_change(saved: Path) -> None:
    source = Registry([])
    source.failure = SourceError("GitLab answered 401: the token was revoked")
    speculative = Speculative(source, saved)
    speculative.versions("VoiceInput")
    assert not speculative.outdated()
    with pytest.raises(SourceError, match="revoked"):
        speculative.confirm()


def test_no_background_process_means_listing_first(saved: Path) -> None:
    """A machine that refuses another process: the build lists first, as a cold one does."""
    source = Registry([row("v1.0.0", ("a.zip", b"a")), row("v2.0.0", ("c.zip", b"c"))])

    def refused(package: str) -> ThreadListing:
        raise OSError(11, "Resource temporarily unavailable")

    speculative = Speculative(source, saved, relist=refused)
    assert len(speculative.versions("VoiceInput")) == 2 and not speculative.guessed
    speculative.confirm()


def test_guess_false_lists_first_even_with_a_snapshot(saved: Path) -> None:
    source = Registry([row("v1.0.0", ("a.zip", b"a")), row("v2.0.0", ("c.zip", b"c"))])
    speculative = Speculative(source, saved, guess=False)
    assert len(speculative.versions("VoiceInput")) == 2 and not speculative.guessed
    speculative.confirm()
    speculative.save()
    assert len(load(saved) or []) == 2


# -- end to end: two builds against the fake GitLab ----------------------------------------------

@pytest.fixture
def gitlab(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeGitLab]:
    with FakeGitLab() as gl:
        gl.add_token(TOKEN, role="reporter")
        for version in ("v1.0.0", "v1.1.0"):
            gl.add_package("VoiceInput", version, {f"VoiceInput-{version}.zip": version.encode()})
        monkeypatch.setenv("GITLAB_TOKEN", TOKEN)  # the child process inherits it
        yield gl


def listing_calls(gitlab: FakeGitLab) -> int:
    return sum(1 for r in gitlab.requests if "/package_files" in r.path)


def published(project: Path) -> dict[str, str]:
    """Version → SHA256 of each file the site's index.json lists."""
    index = json.loads((project / "public" / "index.json").read_text())
    return {f"{v['version']}/{f['name']}": f["sha256"] for v in index["releases"]
            for f in v["files"]}


def sha256sum_passes(project: Path, version: str) -> bool:
    folder = project / "public" / "download" / version
    return subprocess.run(["sha256sum", "-c", "--strict", "SHA256SUMS"], cwd=folder,
                          capture_output=True).returncode == 0


def test_a_warm_build_lists_once_in_the_background(
        gitlab_build: Callable[[], CliResult], gitlab: FakeGitLab, project: Path,
        tmp_path: Path) -> None:
    assert gitlab_build().code == 0
    first = published(project)
    calls = listing_calls(gitlab)
    assert calls == 2  # one file list per version
    again = gitlab_build()
    assert again.code == 0, again.err
    assert "in the background" in again.err and "building again" not in again.err
    assert listing_calls(gitlab) == 2 * calls  # GitLab was still asked, once
    assert published(project) == first
    snapshot = next((tmp_path / "cache" / "listings").glob("*.json")).read_bytes()
    assert TOKEN.encode() not in snapshot and b"Secret" not in snapshot


def test_a_new_version_since_the_last_build_is_published(
        gitlab_build: Callable[[], CliResult], gitlab: FakeGitLab, project: Path) -> None:
    assert gitlab_build().code == 0
    first = listing_calls(gitlab)
    gitlab.add_package("VoiceInput", "v1.2.0", {"VoiceInput-v1.2.0.zip": b"new"})
    result = gitlab_build()
    assert result.code == 0, result.err
    assert "the registry changed since the last build" in result.err
    # the second attempt builds from the listing the first one read: GitLab is asked once
    assert listing_calls(gitlab) == first + (first + 1)
    assert "v1.2.0/VoiceInput-v1.2.0.zip" in published(project)
    assert (project / "public" / "releases" / "v1.2.0" / "index.html").is_file()
    assert json.loads((project / "public" / "latest.json").read_text())["version"] == "v1.2.0"
    assert sha256sum_passes(project, "v1.2.0")
    assert "building again" not in gitlab_build().err  # the new listing is the next guess


def test_a_replaced_file_is_published_with_its_new_bytes(
        gitlab_build: Callable[[], CliResult], gitlab: FakeGitLab, project: Path) -> None:
    assert gitlab_build().code == 0
    package = next(p for p in gitlab.packages if p.version == "v1.1.0")
    gitlab.add_file(package, "VoiceInput-v1.1.0.zip", b"rebuilt")  # newest row wins
    result = gitlab_build()
    assert result.code == 0, result.err and "building again" in result.err
    site_file = project / "public" / "download" / "v1.1.0" / "VoiceInput-v1.1.0.zip"
    assert site_file.read_bytes() == b"rebuilt"
    assert published(project)["v1.1.0/VoiceInput-v1.1.0.zip"] == \
        hashlib.sha256(b"rebuilt").hexdigest()
    assert sha256sum_passes(project, "v1.1.0")


def test_a_planted_snapshot_costs_a_rebuild_and_changes_nothing(
        gitlab_build: Callable[[], CliResult], project: Path, tmp_path: Path) -> None:
    """The cache may be shared: a snapshot naming other bytes or a hostile name is only a guess."""
    assert gitlab_build().code == 0
    honest = published(project)
    path = next((tmp_path / "cache" / "listings").glob("*.json"))
    planted = json.loads(path.read_text())
    planted["rows"][0]["files"][0]["sha256"] = "0" * 64
    planted["rows"][1]["files"][0]["name"] = "../../escape.zip"
    path.write_text(json.dumps(planted))
    result = gitlab_build()
    assert result.code == 0, result.err
    assert "building again" in result.err
    assert published(project) == honest
    assert not (project / "escape.zip").exists() and not (tmp_path / "escape.zip").exists()
    for version in ("v1.0.0", "v1.1.0"):
        assert sha256sum_passes(project, version)


def test_a_failed_relisting_fails_the_build_and_keeps_the_old_site(
        gitlab_build: Callable[[], CliResult], gitlab: FakeGitLab, project: Path) -> None:
    assert gitlab_build().code == 0
    before = (project / "public" / "index.json").read_bytes()
    del gitlab.tokens[TOKEN]  # revoked between two pipelines
    result = gitlab_build()
    line = result.refused()
    assert TOKEN not in result.err and TOKEN[:8] not in result.err
    assert "401" in line or "token" in line.lower(), line
    assert (project / "public" / "index.json").read_bytes() == before
