"""Signed releases end to end: `publish --sign` into the loopback fake GitLab, `build` with a
public key, then Debian's `minisign` and `sha256sum` on what the site serves.

Each attack on the registry (a changed list, another key, changed bytes, a list naming a file
the version lacks, an unsigned version) must fail the build naming the version and leave the
old site exactly as it was.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from site_builder.signing import generate_key_pair, load_signing_key, trusted_comment

try:
    from conftest import CliResult
    from fake_gitlab import FakeGitLab, FakePackage
except ImportError:  # tests/ imported as a package
    from .conftest import CliResult  # type: ignore[no-redef]
    from .fake_gitlab import FakeGitLab, FakePackage  # type: ignore[no-redef]

JOB_TOKEN = "ci-job-SIGNED-Distinctive-77a1"
PASSWORD = "Key-password-Distinctive-3141"
PAGES_URL = "https://group.gitlab.example.io/speech-to-text"
RELEASES = {
    "v1.0.0": {"VoiceInput-v1.0.0.zip": b"one point oh", "docs/manual.pdf": b"%PDF manual"},
    "v1.1.0": {"VoiceInput-v1.1.0-linux-x64.tar.gz": b"linux" * 1000,
               "VoiceInput-v1.1.0-windows-x64.zip": b"windows" * 1000},
}

Run = Callable[..., CliResult]


@pytest.fixture
def gitlab(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[FakeGitLab]:
    """A private project reached as a CI job reaches it; commands run outside the repository."""
    with FakeGitLab() as gl:
        gl.add_token(JOB_TOKEN, kind="job", role="developer")
        monkeypatch.setenv("CI_API_V4_URL", gl.api_url)
        monkeypatch.setenv("CI_PROJECT_ID", str(gl.project_id))
        monkeypatch.setenv("CI_JOB_TOKEN", JOB_TOKEN)
        monkeypatch.setenv("CI_PAGES_URL", PAGES_URL)
        monkeypatch.chdir(tmp_path)
        yield gl
    assert not gl.errors, gl.errors[0]


@pytest.fixture
def key_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An encrypted key, handed over as GitLab hands a File variable: a path in the variable."""
    generate_key_pair(tmp_path / "keys", password=PASSWORD)
    secret = tmp_path / "ci-tmp" / "MINISIGN_SECRET_KEY_FILE"
    secret.parent.mkdir()
    secret.write_bytes((tmp_path / "keys" / "minisign.key").read_bytes())
    monkeypatch.setenv("MINISIGN_SECRET_KEY_FILE", str(secret))
    monkeypatch.setenv("MINISIGN_PASSWORD", PASSWORD)
    return secret


def public_line(tmp_path: Path) -> str:
    return (tmp_path / "keys" / "minisign.pub").read_text().splitlines()[1]


def publish(run_cli: Run, tmp_path: Path, version: str, *extra: str) -> CliResult:
    dist = tmp_path / f"dist-{version}"
    for name, content in RELEASES[version].items():
        (dist / name).parent.mkdir(parents=True, exist_ok=True)
        (dist / name).write_bytes(content)
    result = run_cli("publish", str(dist), "--package", "VoiceInput", "--version", version, *extra)
    assert result.code == 0, result.err
    return result


def build(run_cli: Run, project: Path, tmp_path: Path, *extra: str) -> CliResult:
    return run_cli("build", "--config", str(project / "mkdocs.yml"), "--output",
                   str(project / "public"), "--cache-dir", str(tmp_path / "cache"), *extra)


def snapshot(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def minisign_verify(folder: Path, *key: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["minisign", "-Vm", "SHA256SUMS", *key], cwd=folder,
                          capture_output=True, text=True, timeout=60, check=False)


def test_ci_publishes_signed_and_pages_builds_verified(
    gitlab: FakeGitLab, key_file: Path, run_cli: Run, project: Path, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture,
) -> None:
    """minisign verifies every published SHA256SUMS.minisig with the published minisign.pub;
    trusted comments name package and version; no key byte, password or token anywhere."""
    shown = [publish(run_cli, tmp_path, v, "--sign") for v in RELEASES]
    stored = {f.file_name for f in gitlab.package_files("VoiceInput", "v1.1.0")}
    assert {"SHA256SUMS", "SHA256SUMS.minisig"} <= stored
    monkeypatch.setenv("MINISIGN_PUBLIC_KEY", public_line(tmp_path))
    result = build(run_cli, project, tmp_path)
    assert result.code == 0, result.err
    public = project / "public"
    assert (public / "minisign.pub").read_bytes() == (tmp_path / "keys/minisign.pub").read_bytes()
    index = json.loads((public / "index.json").read_text())
    for record in index["releases"]:
        version = record["version"]
        folder = public / "download" / version
        checked = minisign_verify(folder, "-p", str(public / "minisign.pub"))
        assert checked.returncode == 0, checked.stderr
        assert f"Trusted comment: package=VoiceInput version={version} file=SHA256SUMS" \
            in checked.stdout
        sums = subprocess.run(["sha256sum", "-c", "--strict", "SHA256SUMS"], cwd=folder,
                              capture_output=True, text=True, check=False)
        assert sums.returncode == 0 and sums.stdout.count(": OK") == len(RELEASES[version])
        assert record["signed"] is True
        assert record["signature"] == f"download/{version}/SHA256SUMS.minisig"
        assert record["signature_url"] == f"{PAGES_URL}/download/{version}/SHA256SUMS.minisig"
        assert [f["name"] for f in record["files"]] == sorted(RELEASES[version])
    latest = json.loads((public / "latest.json").read_text())
    assert latest["version"] == "v1.1.0" and latest["signed"] is True
    page = (public / "index.html").read_text()
    assert f"minisign -Vm SHA256SUMS -P {public_line(tmp_path)}" in page
    verified = run_cli("verify", str(public), "--public-key", str(tmp_path / "keys/minisign.pub"))
    assert verified.code == 0 and "2 signatures verify" in verified.out, verified.out

    (public / "download/v1.0.0/SHA256SUMS.minisig").write_bytes(
        (public / "download/v1.1.0/SHA256SUMS.minisig").read_bytes())  # a signature moved
    moved = run_cli("verify", str(public), "--public-key", public_line(tmp_path))
    assert moved.code == 1 and "download/v1.0.0/SHA256SUMS: the signature does not verify" \
        in moved.out, moved.out

    secrets = [PASSWORD, JOB_TOKEN, key_file.read_text().splitlines()[1]]
    secrets += [secrets[2][i:i + 24] for i in range(0, len(secrets[2]) - 24, 24)]
    logs = "".join(r.out + r.err for r in [*shown, result, verified, moved]) + caplog.text
    assert not [s for s in secrets if s in logs]
    for path in public.rglob("*"):
        if path.is_file():
            body = path.read_bytes()
            assert not [s for s in secrets if s.encode() in body], path


def test_every_attack_on_the_registry_fails_naming_the_version(
    gitlab: FakeGitLab, key_file: Path, run_cli: Run, project: Path, tmp_path: Path,
) -> None:
    """Changed list, another key, changed bytes (served or listed), a list naming a missing file:
    each fails the build naming v1.0.0, and the old site stays byte for byte."""
    publish(run_cli, tmp_path, "v1.0.0", "--sign")
    key = ("--public-key", public_line(tmp_path))
    assert build(run_cli, project, tmp_path, *key).code == 0
    before = snapshot(project / "public")
    package = next(p for p in gitlab.packages if p.version == "v1.0.0")
    sums = next(f for f in package.files if f.file_name == "SHA256SUMS").content
    other = tmp_path / "other"
    generate_key_pair(other, password=None)
    env = {"MINISIGN_SECRET_KEY_FILE": str(other / "minisign.key")}
    with load_signing_key(env) as stranger:
        foreign = stranger.sign(sums, comment=trusted_comment("VoiceInput", "v1.0.0"))
    with load_signing_key() as ours:
        ghost = sums + b"0" * 64 + b"  ghost.exe\n"
        ghost_sig = ours.sign(ghost, comment=trusted_comment("VoiceInput", "v1.0.0"))
    zip_file = next(f for f in package.files if f.file_name == "VoiceInput-v1.0.0.zip")

    def served_bytes_differ(p: FakePackage) -> Callable[[], None]:
        zip_file.content = b"evil" + zip_file.content[4:]  # same listed SHA256, other bytes
        return lambda: setattr(zip_file, "content", RELEASES["v1.0.0"]["VoiceInput-v1.0.0.zip"])

    attacks: dict[str, tuple[Callable[[FakePackage], object], str]] = {
        "changed list": (lambda p: gitlab.add_file(p, "SHA256SUMS", sums.replace(b"  ", b" *")),
                         "does not verify"),
        "another key": (lambda p: gitlab.add_file(p, "SHA256SUMS.minisig", foreign),
                        "signed by key"),
        "listed bytes differ": (lambda p: gitlab.add_file(p, "VoiceInput-v1.0.0.zip", b"evil"),
                                "replaced after signing"),
        "served bytes differ": (served_bytes_differ, "does not match the registry's"),
        "list names a missing file": (
            lambda p: (gitlab.add_file(p, "SHA256SUMS", ghost),
                       gitlab.add_file(p, "SHA256SUMS.minisig", ghost_sig)),
            "'ghost.exe', which the version does not have"),
    }
    for attack, (apply, expected) in attacks.items():
        shutil.rmtree(tmp_path / "cache")  # a verified cache entry is trusted: download again
        rows = list(package.files)
        undo = apply(package)
        result = build(run_cli, project, tmp_path, *key)
        assert result.code == 1, attack
        assert "v1.0.0" in result.error and expected in result.error, (attack, result.error)
        assert snapshot(project / "public") == before, attack
        package.files[:] = rows
        if callable(undo):
            undo()


def test_unsigned_versions_fail_or_are_marked(
    gitlab: FakeGitLab, key_file: Path, run_cli: Run, project: Path, tmp_path: Path,
) -> None:
    """require_signatures (default with a key) refuses an unsigned version; with false it is
    published marked unsigned, and its page says so."""
    publish(run_cli, tmp_path, "v1.0.0", "--sign")
    publish(run_cli, tmp_path, "v1.1.0")  # no --sign
    key = ("--public-key", public_line(tmp_path))
    refused = build(run_cli, project, tmp_path, *key)
    assert refused.code == 1
    assert "VoiceInput v1.1.0 is not signed" in refused.error
    assert not (project / "public").exists()
    config = project / "mkdocs.yml"
    config.write_text(config.read_text() + "      require_signatures: false\n")
    result = build(run_cli, project, tmp_path, *key)
    assert result.code == 0, result.err
    assert "v1.1.0 is not signed; it is published marked unsigned" in result.err
    releases = {r["version"]: r for r in json.loads(
        (project / "public/index.json").read_text())["releases"]}
    assert (releases["v1.1.0"]["signed"], releases["v1.1.0"]["signature"]) == (False, None)
    assert releases["v1.0.0"]["signed"] is True
    assert not (project / "public/download/v1.1.0/SHA256SUMS.minisig").exists()
    page = (project / "public/releases/v1.1.0/index.html").read_text()
    assert "Not signed" in page and "minisign -Vm" not in page
    assert "Signed" in (project / "public/releases/v1.0.0/index.html").read_text()


def test_a_minisign_made_key_publishes_and_builds(
    gitlab: FakeGitLab, run_cli: Run, project: Path, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A key pair from `minisign -G -W` signs with `publish --sign`; `build --public-key
    minisign.pub` verifies it, and so does `minisign -V` on the site."""
    made = subprocess.run(["minisign", "-G", "-W", "-p", "mine.pub", "-s", "mine.key"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=60, check=False)
    assert made.returncode == 0, made.stderr
    monkeypatch.setenv("MINISIGN_SECRET_KEY", (tmp_path / "mine.key").read_text())
    publish(run_cli, tmp_path, "v1.1.0", "--sign")
    result = build(run_cli, project, tmp_path, "--public-key", str(tmp_path / "mine.pub"))
    assert result.code == 0, result.err
    checked = minisign_verify(project / "public/download/v1.1.0", "-p",
                              str(tmp_path / "mine.pub"))
    assert checked.returncode == 0, checked.stderr


def test_sign_refuses_before_any_request(
    gitlab: FakeGitLab, key_file: Path, run_cli: Run, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A SHA256SUMS among the files, or a wrong password: one error line, nothing sent."""
    dist = tmp_path / "dist"
    dist.mkdir()
    (dist / "app.zip").write_bytes(b"app")
    (dist / "SHA256SUMS").write_bytes(b"mine")
    args = ("publish", str(dist), "--package", "VoiceInput", "--version", "v1.0.0", "--sign")
    clash = run_cli(*args)
    assert clash.code == 1 and "--sign writes" in clash.error
    (dist / "SHA256SUMS").unlink()
    monkeypatch.setenv("MINISIGN_PASSWORD", "not-the-password")
    locked = run_cli(*args)
    assert locked.code == 1 and "does not unlock the secret key" in locked.error
    assert "not-the-password" not in locked.out + locked.err
    assert gitlab.requests == []
