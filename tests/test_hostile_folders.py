"""A `--from-dir` folder that lies: hostile names, links and `.release.json` values.

A shared folder is as untrusted as a registry behind a proxy. Each test is one attack from
issue 9: the build stops with one line naming version, file and field, nothing is written,
and nothing outside the cache and the output folder is touched.
"""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import CliResult, FolderRegistry

ZIP = b"PK\x03\x04 the real bytes"


def meta(folder: Path, **values: object) -> None:
    (folder / ".release.json").write_text(json.dumps(values))


def test_a_declared_sha256_that_is_a_path_leaves_the_victim_alone(
    registry: FolderRegistry, build: Callable[..., CliResult], tmp_path: Path, project: Path
) -> None:
    """`.release.json` naming a file beside the cache as a "SHA256" deletes nothing."""
    victim = tmp_path / "victim"
    victim.write_bytes(b"v" * len(ZIP))
    registry.add("v1.0.0", {"App.zip": ZIP}, sha256={"App.zip": str(victim)})
    result = build()
    assert victim.read_bytes() == b"v" * len(ZIP)
    result.refused("VoiceInput v1.0.0 App.zip", "sha256", "64 hexadecimal digits")
    assert not (project / "public").exists()


@pytest.mark.parametrize(
    ("values", "words"),
    [
        ({"released_at": 5}, ("released_at", "5 is not a string")),
        ({"released_at": "yesterday"}, ("released_at", "not an ISO 8601 date")),
        ({"status": 5}, ("status", "5 is not a string")),
        ({"sha256": ["App.zip"]}, ("sha256", "not an object")),
        ({"sha256": {"App.zip": 5}}, ("VoiceInput v1.0.0 App.zip", "sha256", "5 is not a string")),
        ({"sha256": {"App.zip": "zz" * 32}}, ("sha256", "64 hexadecimal")),
    ],
)
def test_malformed_release_json_values_are_one_clear_line(
    registry: FolderRegistry, build: Callable[..., CliResult], values: dict[str, object],
    words: tuple[str, ...],
) -> None:
    """Wrong types in `.release.json` name the file and the field, never "a bug"."""
    folder = registry.add("v1.0.0", {"App.zip": ZIP})
    meta(folder, **values)
    build().refused(*words)


@pytest.mark.parametrize(
    ("name", "shown"),
    [
        ("App\u2028.zip", "'App\\u2028.zip'"),
        ("App\u2029.zip", "'App\\u2029.zip'"),
        ("App\x85.zip", "'App\\x85.zip'"),
        ("App\x9b.zip", "'App\\x9b.zip'"),
        ("App-\u202egpj.exe", "'App-\\u202egpj.exe'"),
        ("App-\u2066x\u2069.zip", "'App-\\u2066x\\u2069.zip'"),
    ],
)
def test_separator_control_and_bidi_characters_are_refused(
    registry: FolderRegistry, build: Callable[..., CliResult], project: Path, name: str,
    shown: str,
) -> None:
    """Names `verify` could not read back, or that read as another name, never reach the site."""
    registry.add("v1.0.0", {name: ZIP})
    build().refused("VoiceInput v1.0.0", shown)
    assert not (project / "public").exists()


@pytest.mark.parametrize(
    "version", ["v2.0.0-<img src=x onerror=alert(1)>", "v1.0 beta", "v1..0", "v1.0~rc", "é1.0"]
)
def test_versions_outside_gitlabs_rule_are_refused(
    registry: FolderRegistry, build: Callable[..., CliResult], project: Path, version: str
) -> None:
    """A version folder GitLab could never hold is refused before anything is written."""
    registry.add(version, {"App.zip": ZIP})
    build().refused("version")
    assert not (project / "public").exists()


def test_names_differing_only_in_case_are_refused(
    registry: FolderRegistry, build: Callable[..., CliResult]
) -> None:
    """`App.zip` beside `app.zip` would be one file after a download on Windows or macOS."""
    registry.add("v1.0.0", {"App.zip": ZIP, "app.zip": b"other"})
    build().refused("VoiceInput v1.0.0", "'App.zip' and 'app.zip' differ only in case")


def test_a_link_out_of_the_folder_is_not_published(
    registry: FolderRegistry, build: Callable[..., CliResult], tmp_path: Path, project: Path
) -> None:
    """`passwd -> /outside/secret` in a version folder is refused, its bytes never copied."""
    secret = tmp_path / "secret"
    secret.write_bytes(b"root:x:0:0")
    folder = registry.add("v1.0.0", {"App.zip": ZIP})
    (folder / "passwd").symlink_to(secret)
    build().refused("passwd", "link that leaves")
    assert not (project / "public").exists()
    assert not any(b"root:x" in p.read_bytes() for p in tmp_path.rglob("*")
                   if p.is_file() and not p.is_symlink() and p != secret)


def test_a_link_inside_the_folder_is_published(
    registry: FolderRegistry, build: Callable[..., CliResult], project: Path
) -> None:
    """A link to another file of the same registry is an ordinary file."""
    folder = registry.add("v1.0.0", {"App.zip": ZIP})
    (folder / "App-copy.zip").symlink_to(folder / "App.zip")
    assert build().code == 0
    assert (project / "public" / "download" / "v1.0.0" / "App-copy.zip").read_bytes() == ZIP


# -- publish ------------------------------------------------------------------------------------

def test_publish_refuses_links_that_leave_the_folder(
    run_cli: Callable[..., CliResult], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`dist/passwd -> /…/secret` and a linked folder out of `dist`: one line, no request."""
    from fake_gitlab import FakeGitLab

    secret = tmp_path / "outside" / "secret"
    secret.parent.mkdir()
    secret.write_bytes(b"root:x:0:0")
    dist = tmp_path / "dist"
    dist.mkdir()
    (dist / "App.zip").write_bytes(ZIP)
    (dist / "passwd").symlink_to(secret)
    (dist / "more").symlink_to(secret.parent, target_is_directory=True)
    (dist / "App-copy.zip").symlink_to(dist / "App.zip")  # inside: fine on its own
    with FakeGitLab() as gitlab:
        gitlab.add_token("glpat-publish-links-0001", role="developer")
        monkeypatch.setenv("GITLAB_TOKEN", "glpat-publish-links-0001")
        result = run_cli("publish", str(dist), "--version", "v1.0.0", "--api-url",
                         gitlab.api_url, "--project", "42", "--package", "App")
        line = result.refused("links that leave", str(dist / "passwd"), str(dist / "more"))
        assert "App-copy.zip" not in line
        assert gitlab.requests == []


# -- what is published --------------------------------------------------------------------------

def test_published_files_are_world_readable_copies(
    registry: FolderRegistry, build: Callable[..., CliResult], project: Path, tmp_path: Path
) -> None:
    """Under umask 077 every file is 0644 and every folder 0755, and no artifact shares an
    inode with the cache: a later edit of a cache entry leaves the published file as it was."""
    registry.add("v1.0.0", {"App-v1.0.0.zip": ZIP, "docs/manual.pdf": b"%PDF manual"})
    old = os.umask(0o077)
    try:
        assert build().code == 0
    finally:
        os.umask(old)
    site = project / "public"
    modes = {p.relative_to(site).as_posix(): stat.S_IMODE(p.stat().st_mode)
             for p in site.rglob("*")}
    wrong = {name: oct(mode) for name, mode in modes.items()
             if mode != (0o755 if (site / name).is_dir() else 0o644)}
    assert wrong == {}
    cached = {p.stat().st_ino: p for p in (tmp_path / "cache").rglob("*") if p.is_file()}
    published = site / "download" / "v1.0.0" / "App-v1.0.0.zip"
    assert published.stat().st_nlink == 1 and published.stat().st_ino not in cached
    for entry in cached.values():
        entry.chmod(0o644)
        entry.write_bytes(b"changed in the cache")
    assert published.read_bytes() == ZIP
