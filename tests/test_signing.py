"""site_builder.signing against Debian's real `minisign`, in both directions, and its checks."""

from __future__ import annotations

import base64
import hashlib
import io
import stat
import subprocess
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from site_builder.catalog import Artifact, PackageVersion, build_catalog
from site_builder.errors import ConfigError, SignatureError
from site_builder.settings import resolve
from site_builder.signing import (
    check_signed_sums,
    generate_key_pair,
    load_signing_key,
    parse_public_key,
    parse_sums,
    signed_catalog,
    trusted_comment,
)

try:
    from conftest import CliResult
except ImportError:  # tests/ imported as a package
    from .conftest import CliResult  # type: ignore[no-redef]

PASSWORD = "correct-Horse-battery-7731"
SUMS = b"".join(
    f"{hashlib.sha256(c).hexdigest()}  {n}\n".encode()
    for n, c in (("VoiceInput-v1.0.0.zip", b"zip"), ("docs/manual.pdf", b"pdf"))
)
FILES = {"VoiceInput-v1.0.0.zip": hashlib.sha256(b"zip").hexdigest(),
         "docs/manual.pdf": hashlib.sha256(b"pdf").hexdigest()}


def minisign(*args: str, cwd: Path, stdin: str = "") -> subprocess.CompletedProcess[str]:
    """The real command; it reads a password from stdin when that is not a terminal."""
    return subprocess.run(["minisign", *args], cwd=cwd, input=stdin, capture_output=True,
                          text=True, timeout=60, check=False)


def algorithm(signature: bytes) -> bytes:
    return base64.b64decode(signature.splitlines()[1])[:2]


def test_keygen_key_signs_with_minisign(tmp_path: Path) -> None:
    """An encrypted key from site-builder: `minisign -S` signs with it, and we verify that."""
    public = generate_key_pair(tmp_path, password=PASSWORD)
    (tmp_path / "SHA256SUMS").write_bytes(SUMS)
    signed = minisign("-S", "-s", "minisign.key", "-m", "SHA256SUMS", "-t",
                      trusted_comment("VoiceInput", "v1.0.0"), cwd=tmp_path, stdin=PASSWORD + "\n")
    assert signed.returncode == 0, signed.stderr
    checked = minisign("-Vm", "SHA256SUMS", "-p", "minisign.pub", cwd=tmp_path)
    assert checked.returncode == 0, checked.stderr
    signature = (tmp_path / "SHA256SUMS.minisig").read_bytes()
    assert algorithm(signature) == b"ED"  # minisign >= 0.10 prehashes by default
    check_signed_sums(public, package="VoiceInput", version="v1.0.0", sums=SUMS,
                      signature=signature, files=FILES)


@pytest.mark.parametrize("encrypted", [True, False], ids=["password", "no-password"])
def test_minisign_key_signs_for_minisign(tmp_path: Path, encrypted: bool) -> None:
    """A `minisign -G` key (with or without -W) signs here; `minisign -V` accepts the result."""
    args = ["-G", "-p", "minisign.pub", "-s", "minisign.key", *([] if encrypted else ["-W"])]
    made = minisign(*args, cwd=tmp_path, stdin=f"{PASSWORD}\n{PASSWORD}\n")
    assert made.returncode == 0, made.stderr
    env = {"MINISIGN_SECRET_KEY_FILE": str(tmp_path / "minisign.key")}
    if encrypted:
        env["MINISIGN_PASSWORD"] = PASSWORD
    with load_signing_key(env) as key:
        signature = key.sign(SUMS, comment=trusted_comment("VoiceInput", "v1.0.0"))
    assert algorithm(signature) == b"ED"
    (tmp_path / "SHA256SUMS").write_bytes(SUMS)
    (tmp_path / "SHA256SUMS.minisig").write_bytes(signature)
    checked = minisign("-Vm", "SHA256SUMS", "-p", "minisign.pub", cwd=tmp_path)
    assert checked.returncode == 0, checked.stderr
    assert "package=VoiceInput version=v1.0.0 file=SHA256SUMS" in checked.stdout
    public = parse_public_key(str(tmp_path / "minisign.pub"))
    assert public.key_id == key.public_key.key_id


def test_legacy_signatures_verify(tmp_path: Path) -> None:
    """`minisign -S -l` (legacy `Ed`, not prehashed) still verifies."""
    public = generate_key_pair(tmp_path, password=None)
    (tmp_path / "SHA256SUMS").write_bytes(SUMS)
    signed = minisign("-S", "-l", "-W", "-s", "minisign.key", "-m", "SHA256SUMS", "-t",
                      trusted_comment("VoiceInput", "v1.0.0"), cwd=tmp_path)
    assert signed.returncode == 0, signed.stderr
    signature = (tmp_path / "SHA256SUMS.minisig").read_bytes()
    assert algorithm(signature) == b"Ed"
    assert public.verify(SUMS, signature, label="x") == "package=VoiceInput version=v1.0.0 " \
                                                          "file=SHA256SUMS"
    with pytest.raises(SignatureError, match="does not verify"):
        public.verify(SUMS + b"\n", signature, label="x")


def test_secret_key_problems_are_one_line_without_the_key(tmp_path: Path) -> None:
    """Missing, locked, wrongly unlocked or malformed keys: a clear error, never a key byte."""
    generate_key_pair(tmp_path, password=PASSWORD)
    text = (tmp_path / "minisign.key").read_text()
    line = text.splitlines()[1]
    cases = [
        ({}, "no secret key to sign with"),
        ({"MINISIGN_SECRET_KEY": line}, "is encrypted: set MINISIGN_PASSWORD"),
        ({"MINISIGN_SECRET_KEY": text, "MINISIGN_PASSWORD": "wrong"}, "does not unlock"),
        ({"MINISIGN_SECRET_KEY": line[:-8]}, "is not a minisign secret key"),
        ({"MINISIGN_SECRET_KEY_FILE": str(tmp_path / "nope.key")}, "cannot read"),
    ]
    for env, expected in cases:
        with pytest.raises(SignatureError, match=expected) as caught:
            load_signing_key(env)
        assert line[10:40] not in str(caught.value) and PASSWORD not in str(caught.value)
    key = load_signing_key({"MINISIGN_SECRET_KEY": line, "MINISIGN_PASSWORD": PASSWORD})
    assert line[10:40] not in repr(key)
    other = generate_key_pair(tmp_path / "other", password=None)
    with pytest.raises(SignatureError, match="does not belong to the public key"):
        load_signing_key({"MINISIGN_SECRET_KEY": line, "MINISIGN_PASSWORD": PASSWORD},
                         expected=other)


@pytest.mark.parametrize(("sums", "comment", "files", "expected"), [
    (SUMS, trusted_comment("VoiceInput", "v0.9.0"), FILES, "made for .*not for this version"),
    (SUMS, "timestamp:1700000000\tfile:SHA256SUMS", FILES, "not for this version"),
    (SUMS, None, {**FILES, "extra.zip": "0" * 64}, "'extra.zip' is not in the signed"),
    (SUMS, None, {"VoiceInput-v1.0.0.zip": FILES["VoiceInput-v1.0.0.zip"]},
     "lists 'docs/manual.pdf', which the version does not have"),
    (SUMS, None, {**FILES, "docs/manual.pdf": "1" * 64}, "replaced after signing"),
    (SUMS + SUMS.splitlines(keepends=True)[0], None, FILES, "listed twice"),
    (b"not a checksum\n", None, FILES, "line 1 is not"),
], ids=["replayed", "no-version", "unlisted", "missing", "replaced", "twice", "garbage"])
def test_signed_sums_must_match_the_version(
    tmp_path: Path, sums: bytes, comment: str | None, files: dict[str, str], expected: str
) -> None:
    """A good signature is not enough: the comment names this version, the list its files."""
    public = generate_key_pair(tmp_path, password=None)
    with load_signing_key({"MINISIGN_SECRET_KEY_FILE": str(tmp_path / "minisign.key")}) as key:
        signature = key.sign(sums, comment=comment or trusted_comment("VoiceInput", "v1.0.0"))
    with pytest.raises(SignatureError, match=expected) as caught:
        check_signed_sums(public, package="VoiceInput", version="v1.0.0", sums=sums,
                          signature=signature, files=files)
    assert "VoiceInput v1.0.0" in str(caught.value)


def test_another_key_is_named(tmp_path: Path) -> None:
    """A signature by another key says which key made it and which was expected."""
    ours = generate_key_pair(tmp_path / "ours", password=None)
    theirs = generate_key_pair(tmp_path / "theirs", password=None)
    with load_signing_key({"MINISIGN_SECRET_KEY_FILE": str(tmp_path / "theirs/minisign.key")}) \
            as key:
        signature = key.sign(SUMS, comment=trusted_comment("VoiceInput", "v1.0.0"))
    with pytest.raises(SignatureError) as caught:
        ours.verify(SUMS, signature, label="VoiceInput v1.0.0 SHA256SUMS")
    assert theirs.key_id in str(caught.value) and ours.key_id in str(caught.value)


def test_public_keys_from_line_file_text_or_path(tmp_path: Path) -> None:
    public = generate_key_pair(tmp_path, password=None)
    path = tmp_path / "minisign.pub"
    assert parse_public_key(public.line) == public
    assert parse_public_key(path.read_text()) == public
    assert parse_public_key(str(path)) == public
    assert path.read_bytes() == public.file_bytes()
    with pytest.raises(SignatureError, match="not a minisign public key"):
        parse_public_key("RWQ-not-base64")


def test_parse_sums_reads_what_sha256sum_writes(tmp_path: Path) -> None:
    (tmp_path / "a b.zip").write_bytes(b"zip")
    written = subprocess.run(["sha256sum", "a b.zip", "--binary"], cwd=tmp_path,
                             capture_output=True, check=True).stdout
    assert parse_sums(written, label="x") == {"a b.zip": hashlib.sha256(b"zip").hexdigest()}


def test_keygen_command(run_cli: Callable[..., CliResult], tmp_path: Path,
                        monkeypatch: pytest.MonkeyPatch) -> None:
    """keygen: 0600 secret key, the public line printed, never an overwrite, never a password."""
    monkeypatch.setenv("MINISIGN_PASSWORD", PASSWORD)
    result = run_cli("keygen", "--output", str(tmp_path / "keys"))
    assert result.code == 0, result.err
    secret = tmp_path / "keys" / "minisign.key"
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600
    assert "encrypted" in secret.read_text().splitlines()[0]
    public = parse_public_key(str(tmp_path / "keys" / "minisign.pub"))
    assert result.out == public.line + "\n"
    assert PASSWORD not in result.out + result.err
    assert secret.read_text().splitlines()[1] not in result.out + result.err
    before = secret.read_bytes()
    again = run_cli("keygen", "--output", str(tmp_path / "keys"), "--no-password")
    assert again.code == 1 and "already exists" in again.error
    assert secret.read_bytes() == before
    monkeypatch.delenv("MINISIGN_PASSWORD")
    monkeypatch.setattr("sys.stdin", io.StringIO())  # not a terminal
    locked = run_cli("keygen", "--output", str(tmp_path / "other"))
    assert locked.code == 1 and "--no-password" in locked.error
    assert not (tmp_path / "other" / "minisign.key").exists()


def test_require_signatures_follows_the_public_key(tmp_path: Path) -> None:
    """A key makes signatures required unless turned off; requiring them without a key is an
    error that says where to put one."""
    line = generate_key_pair(tmp_path, password=None).line
    assert resolve({"public_key": line}, env={}).require_signatures is True
    assert resolve({"public_key": line, "require_signatures": False},
                   env={}).require_signatures is False
    assert resolve({}, env={"MINISIGN_PUBLIC_KEY": line}).public_key is not None
    assert resolve({}, env={}).require_signatures is False
    with pytest.raises(ConfigError, match="no public key is set"):
        resolve({"require_signatures": True}, env={})


def test_signed_catalog_checks_unhosted_versions_too(tmp_path: Path) -> None:
    """Versions `keep` dropped from the site still show checksums, so they are checked too;
    the catalogue's latest is the checked release."""
    public = generate_key_pair(tmp_path, password=None)
    blobs: dict[str, bytes] = {}

    def artifact(name: str, content: bytes) -> Artifact:
        sha = hashlib.sha256(content).hexdigest()
        blobs[sha] = content
        return Artifact(name=name, size=len(content), sha256=sha)

    rows = []
    with load_signing_key({"MINISIGN_SECRET_KEY_FILE": str(tmp_path / "minisign.key")}) as key:
        for version in ("v1.0.0", "v1.1.0"):
            app = artifact(f"app-{version}.zip", version.encode())
            sums = f"{app.sha256}  {app.name}\n".encode()
            signature = key.sign(sums, comment=trusted_comment("VoiceInput", version))
            files = (app, artifact("SHA256SUMS", sums), artifact("SHA256SUMS.minisig", signature))
            rows.append(PackageVersion(package="VoiceInput", version=version, files=files,
                                       created_at=datetime(2026, 1, 1, tzinfo=UTC)))
    catalog = build_catalog(rows, package="VoiceInput", keep=1)
    assert [r.hosted for r in catalog.releases] == [True, False]
    assert all(len(r.files) == 1 for r in catalog.releases)  # the list and signature set apart
    read = lambda a: blobs[a.sha256]  # noqa: E731
    checked = signed_catalog(catalog, read, public_key=public, require=True)
    assert [r.signed for r in checked.releases] == [True, True]
    assert checked.latest is checked.releases[0]
    old_sums = checked.releases[1].sums
    assert old_sums is not None
    blobs[old_sums.sha256] = blobs[old_sums.sha256].replace(b"  ", b" *")
    with pytest.raises(SignatureError, match=r"VoiceInput v1\.0\.0"):
        signed_catalog(catalog, read, public_key=public, require=True)
