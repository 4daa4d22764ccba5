"""A `--from-dir` folder that lies: hostile names, links and `.release.json` values.

A shared folder is as untrusted as a registry behind a proxy. Each test is one attack from
issue 9: the build stops with one line naming version, file and field, nothing is written,
and nothing outside the cache and the output folder is touched.
"""

from __future__ import annotations

import json
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
