"""A cold build with many downloads fetches them in a child process: the site is the same,
every file checks out, and a file the registry garbled fails the build with one clean line."""

from __future__ import annotations

import hashlib
import os
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from conftest import CliResult
from fake_gitlab import FakeGitLab

from site_builder import pipeline
from site_builder.fetch_child import CHILD_MIN

TOKEN = "glpat-Child-Downloads-0123456789"


@pytest.fixture
def gitlab(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeGitLab]:
    with FakeGitLab() as gl:
        gl.add_token(TOKEN, role="reporter")
        monkeypatch.setenv("GITLAB_TOKEN", TOKEN)  # the child inherits it, never as an argument
        yield gl


@pytest.fixture
def children(monkeypatch: pytest.MonkeyPatch) -> list[pipeline.ChildDownloads]:
    """Every ChildDownloads the build starts."""
    started: list[pipeline.ChildDownloads] = []
    real = pipeline.ChildDownloads

    def spy(*args: object, **kwargs: object) -> pipeline.ChildDownloads:
        started.append(real(*args, **kwargs))  # type: ignore[arg-type]
        return started[-1]

    monkeypatch.setattr(pipeline, "ChildDownloads", spy)
    return started


def versions(gitlab: FakeGitLab, count: int) -> None:
    for n in range(count):
        version = f"v1.{n}.0"
        gitlab.add_package("VoiceInput", version, {
            f"VoiceInput-{version}.zip": b"PK" + os.urandom(2000),
            f"VoiceInput-{version}.txt": f"notes {n}\n".encode() * 50})


def test_many_downloads_come_from_a_child_and_check_out(
        gitlab: FakeGitLab, gitlab_build: Callable[[], CliResult], project: Path,
        children: list[pipeline.ChildDownloads]) -> None:
    versions(gitlab, CHILD_MIN // 2 + 1)  # two files each: just over the threshold
    result = gitlab_build()
    assert result.code == 0, result.err
    assert len(children) == 1 and children[0].process.returncode == 0
    assert children[0].process.pid != os.getpid()
    assert "in the background" in result.err and TOKEN not in result.err + result.out
    for folder in (project / "public" / "download").glob("v1.*"):
        check = subprocess.run(["sha256sum", "-c", "--strict", "SHA256SUMS"], cwd=folder,
                               capture_output=True, text=True)
        assert check.returncode == 0, check.stdout + check.stderr
    # warm: the cache holds every file, so nothing is worth a child (it only re-hashes them)
    assert gitlab_build().code == 0
    assert len(children) == 1


def test_a_few_downloads_stay_in_the_build(
        gitlab: FakeGitLab, gitlab_build: Callable[[], CliResult], project: Path,
        children: list[pipeline.ChildDownloads]) -> None:
    """A child costs a quarter of a second to start: not worth it for a handful of files."""
    versions(gitlab, 2)
    assert gitlab_build().code == 0
    assert children == []
    assert len(list((project / "public" / "download").rglob("*.zip"))) == 2


def test_a_garbled_file_fails_the_build_with_one_line_and_keeps_the_site(
        gitlab: FakeGitLab, gitlab_build: Callable[[], CliResult], project: Path,
        monkeypatch: pytest.MonkeyPatch, children: list[pipeline.ChildDownloads],
        tmp_path: Path) -> None:
    versions(gitlab, 3)
    monkeypatch.setattr(pipeline, "CHILD_MIN", 2)
    assert gitlab_build().code == 0
    before = (project / "public" / "index.json").read_bytes()
    package = gitlab.add_package("VoiceInput", "v2.0.0", {})
    gitlab.add_file(package, "VoiceInput-v2.0.0.zip", b"PK what the registry serves",
                    sha256=hashlib.sha256(b"PK what was uploaded").hexdigest())
    for n in range(3):
        gitlab.add_file(package, f"VoiceInput-v2.0.0-{n}.txt", b"fine " * 100)
    line = gitlab_build().refused("VoiceInput-v2.0.0.zip", "does not match")
    assert TOKEN not in line
    assert children[-1].process.returncode == 1
    assert (project / "public" / "index.json").read_bytes() == before
    assert list((tmp_path / "cache").rglob(".part-*")) == []
    assert sorted(p.name for p in project.iterdir() if p.name.startswith(".public")) == []
