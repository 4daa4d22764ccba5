"""Signatures in minisign's format (Ed25519): keys, signing, verifying, one error type.

    key = load_signing_key()                          # $MINISIGN_SECRET_KEY_FILE or …_KEY
    sig = key.sign(sums, trusted_comment=trusted_comment("VoiceInput", "v1.2.0"))
    public = parse_public_key("RWQ…")                 # a base64 line, a .pub file's text or path
    public.verify(sums, sig, version="v1.2.0")        # SignatureError unless genuine
    check_signed_sums(public, package=…, version=…, sums=…, signature=…, files={name: sha256})

`publish --sign`, the build and `verify` all come here; no command does crypto itself. The
files are minisign's own (the `minisign` command reads and writes them), through
py-minisign, co-written by minisign's author: prehashed `ED` signatures (BLAKE2b-512 of the
file, minisign ≥ 0.10's default) are made and both `ED` and legacy `Ed` are verified;
secret keys are unencrypted or encrypted as minisign does (scrypt, BLAKE2b checksum).

The trusted comment names package, version and file (`package=P version=V file=SHA256SUMS`),
and the build requires it to match: a list signed for one version cannot be replayed
under another. A secret key, or any part of one, never appears in a message.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import logging
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import minisign

from .catalog import SUMS_NAME, SUMS_SIGNATURE_NAME, Artifact, Catalog, Release
from .errors import SignatureError

log = logging.getLogger("mkdocs.plugins.downloads")

PUBLIC_KEY_NAME = "minisign.pub"
SECRET_KEY_NAME = "minisign.key"

SECRET_KEY_FILE_VARIABLE = "MINISIGN_SECRET_KEY_FILE"
SECRET_KEY_VARIABLE = "MINISIGN_SECRET_KEY"
PASSWORD_VARIABLE = "MINISIGN_PASSWORD"
PUBLIC_KEY_VARIABLE = "MINISIGN_PUBLIC_KEY"

# Caps on what is read into memory: a key file is two short lines, a signature four; a
# SHA256SUMS of thousands of files stays far below its cap.
KEY_FILE_MAX = 4096
SIGNATURE_MAX = 16 * 1024
SUMS_MAX = 8 * 1024 * 1024

_SUMS_LINE = re.compile(r"([0-9a-fA-F]{64}) [ *](.+)")
_UNTRUSTED = "untrusted comment:"


def _key_id(raw: bytes) -> str:
    """The key id as minisign prints it: the little-endian 64-bit number, in hex."""
    return raw[::-1].hex().upper()


def _payload_line(text: str) -> str:
    """The base64 line of a key, from the line alone or a key file's text."""
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    payload = [ln for ln in lines if not ln.lower().startswith(_UNTRUSTED)]
    return payload[0] if len(payload) == 1 else ""


def trusted_comment(package: str, version: str, file: str = SUMS_NAME) -> str:
    return f"package={package} version={version} file={file}"


def comment_fields(comment: str) -> dict[str, str]:
    """`package=P version=V file=F` → `{"package": "P", …}`; words without `=` are ignored."""
    return dict(word.split("=", 1) for word in comment.split() if "=" in word)


# -- public keys -------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class PublicKey:
    """A minisign public key: its base64 line (what `minisign -P` takes) and its key id."""

    line: str
    key_id: str
    _key: minisign.PublicKey = field(repr=False, compare=False)

    def file_bytes(self) -> bytes:
        """`minisign.pub` exactly as `minisign -G` writes it."""
        return f"untrusted comment: minisign public key {self.key_id}\n{self.line}\n".encode()

    def verify(self, data: bytes, signature: bytes, *, label: str) -> str:
        """The signature's trusted comment if `signature` is this key's over `data`.

        `label` names what is checked (`VoiceInput v1.2.0 SHA256SUMS`) in the error.
        """
        if len(signature) > SIGNATURE_MAX:
            raise SignatureError(f"{label}: its signature file is not a minisign signature "
                                 f"(over {SIGNATURE_MAX} bytes)")
        try:
            parsed = minisign.Signature.from_bytes(signature)
        except minisign.Error as e:
            raise SignatureError(
                f"{label}: its signature file is not a minisign signature ({e}); "
                "sign it again with `site-builder publish --sign`"
            ) from e
        signer = _signature_key_id(signature)
        if signer != self.key_id:
            raise SignatureError(
                f"{label}: signed by key {signer}, not by the configured public key "
                f"{self.key_id}; sign it again with the right key, or check the public key"
            )
        try:
            self._key.verify(data, parsed)
        except minisign.Error as e:
            raise SignatureError(
                f"{label}: the signature does not verify with key {self.key_id}: the file or "
                "its signature was changed after signing"
            ) from e
        return parsed.trusted_comment


def _signature_key_id(signature: bytes) -> str:
    lines = signature.splitlines()
    try:
        return _key_id(base64.b64decode(lines[1], validate=True)[2:10])
    except (IndexError, ValueError, binascii.Error):
        return "unknown"


def parse_public_key(value: str, *, source: str = "the public key") -> PublicKey:
    """A public key from its base64 line, the text of a `.pub` file, or a `.pub` file's path."""
    text = value.strip()
    if text and "\n" not in text and not text.startswith("RW") and Path(text).is_file():
        text = _read_small(Path(text), what=f"{source} file")
    line = _payload_line(text)
    try:
        key = minisign.PublicKey.from_base64(line)
    except minisign.Error as e:
        raise SignatureError(
            f"{source} is not a minisign public key: give its base64 line (RW…, the second "
            "line of minisign.pub) or the path of minisign.pub"
        ) from e
    return PublicKey(line=line, key_id=_key_id(base64.b64decode(line)[2:10]), _key=key)


# -- secret keys -------------------------------------------------------------------------------

class SigningKey:
    """An unlocked secret key. Its repr and every message keep its bytes out."""

    def __init__(self, secret: minisign.SecretKey) -> None:
        self._secret = secret
        raw = secret.get_public_key().to_base64().decode()
        self.public_key = parse_public_key(raw)

    def __repr__(self) -> str:
        return f"SigningKey(key_id={self.public_key.key_id})"

    def sign(self, data: bytes, *, comment: str) -> bytes:
        """A prehashed (`ED`) minisign signature file over `data`."""
        signature = self._secret.sign(data, trusted_comment=comment)
        return bytes(signature) + b"\n"

    def close(self) -> None:
        self._secret.wipe()

    def __enter__(self) -> SigningKey:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def load_signing_key(
    env: Mapping[str, str] | None = None, *, expected: PublicKey | None = None
) -> SigningKey:
    """The secret key from $MINISIGN_SECRET_KEY_FILE or $MINISIGN_SECRET_KEY, unlocked.

    With `expected` (the site's public key), a key the build would not accept is refused.
    """
    key = _unlocked_key(os.environ if env is None else env)
    if expected is not None and expected.key_id != key.public_key.key_id:
        key.close()
        raise SignatureError(
            f"the secret key (key id {key.public_key.key_id}) does not belong to the public "
            f"key the site verifies with (key id {expected.key_id}): the build would refuse "
            "what it signs; use the matching secret key, or change public_key"
        )
    return key


def _unlocked_key(env: Mapping[str, str]) -> SigningKey:
    path, inline = env.get(SECRET_KEY_FILE_VARIABLE, "").strip(), env.get(SECRET_KEY_VARIABLE, "")
    if path:
        text, source = _read_small(Path(path), what=f"{SECRET_KEY_FILE_VARIABLE}"), \
            f"the file {SECRET_KEY_FILE_VARIABLE} names"
    elif inline.strip():
        text, source = inline, SECRET_KEY_VARIABLE
    else:
        raise SignatureError(
            f"no secret key to sign with: set {SECRET_KEY_FILE_VARIABLE} (a GitLab CI/CD "
            f"variable of type File holding minisign.key) or {SECRET_KEY_VARIABLE} (its "
            "second line); make a key pair with `site-builder keygen`"
        )
    try:
        secret = minisign.SecretKey.from_base64(_payload_line(text))
    except minisign.Error:
        raise SignatureError(  # no `from`: the parser's message could quote the key
            f"{source} is not a minisign secret key: it should hold minisign.key (two lines) "
            "or its second line"
        ) from None
    if secret.is_encrypted():
        password = env.get(PASSWORD_VARIABLE, "")
        if not password:
            raise SignatureError(
                f"the secret key is encrypted: set {PASSWORD_VARIABLE} (a masked CI/CD "
                "variable) to its password"
            )
        try:
            secret.decrypt(password)
        except minisign.Error:
            raise SignatureError(
                f"{PASSWORD_VARIABLE} does not unlock the secret key: check the password"
            ) from None
    return SigningKey(secret)


def generate_key_pair(directory: Path, *, password: str | None) -> PublicKey:
    """Write `minisign.key` (mode 0600; encrypted unless `password` is None) and `minisign.pub`.

    An existing key is never overwritten: it may be the only copy.
    """
    secret_path, public_path = directory / SECRET_KEY_NAME, directory / PUBLIC_KEY_NAME
    for path in (secret_path, public_path):
        if path.exists():
            raise SignatureError(
                f"{path} already exists: move it away first (losing a secret key means "
                "nobody can check new releases against the old public key)"
            )
    directory.mkdir(parents=True, exist_ok=True)
    pair = minisign.KeyPair.generate()
    secret = pair.secret_key
    if password:
        secret.encrypt(password)
    secret.untrusted_comment = f"minisign {'encrypted ' if password else ''}secret key"
    public = parse_public_key(pair.public_key.to_base64().decode())
    fd = os.open(secret_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(bytes(secret) + b"\n")
    secret.wipe()
    public_path.write_bytes(public.file_bytes())
    return public


def _read_small(path: Path, *, what: str) -> str:
    try:
        with path.open("rb") as handle:
            data = handle.read(KEY_FILE_MAX + 1)
    except OSError as e:
        raise SignatureError(f"cannot read {what} ({path}): {e.strerror}") from None
    if len(data) > KEY_FILE_MAX:
        raise SignatureError(f"{what} ({path}) is too big to be a minisign key")
    return data.decode("utf-8", "replace")


# -- signed checksum lists ---------------------------------------------------------------------

def parse_sums(data: bytes, *, label: str) -> dict[str, str]:
    """`{name: sha256}` of a strict `sha256sum` list; a malformed or repeated line is an error."""
    if len(data) > SUMS_MAX:
        raise SignatureError(f"{label}: larger than {SUMS_MAX} bytes, not a checksum list")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise SignatureError(f"{label}: not UTF-8 text, not a checksum list") from e
    listed: dict[str, str] = {}
    for number, line in enumerate(text.split("\n"), start=1):
        if not line:
            continue
        match = _SUMS_LINE.fullmatch(line)
        if match is None:
            raise SignatureError(f"{label}: line {number} is not `<sha256>  <file>`")
        digest, name = match.groups()
        if name in listed:
            raise SignatureError(f"{label}: {name!r} is listed twice")
        listed[name] = digest.lower()
    return listed


def check_signed_sums(
    public_key: PublicKey,
    *,
    package: str,
    version: str,
    sums: bytes,
    signature: bytes,
    files: Mapping[str, str],
) -> None:
    """Raise SignatureError unless `signature` is the key's over `sums`, made for this
    package and version, and `sums` lists exactly `files` (`{name: registry sha256}`)."""
    label = f"{package} {version}"
    comment = public_key.verify(sums, signature, label=f"{label} {SUMS_NAME}")
    fields = comment_fields(comment)
    if fields.get("package") != package or fields.get("version") != version:
        raise SignatureError(
            f"{label}: its signature was made for {comment!r}, not for this version; sign "
            f"it with `site-builder publish --sign` (trusted comment "
            f"{trusted_comment(package, version)!r})"
        )
    listed = parse_sums(sums, label=f"{label} {SUMS_NAME}")
    missing = sorted(set(listed) - set(files))
    if missing:
        raise SignatureError(
            f"{label}: the signed {SUMS_NAME} lists {missing[0]!r}, which the version does "
            "not have: upload it, or publish the version again with --sign"
        )
    unlisted = sorted(set(files) - set(listed))
    if unlisted:
        raise SignatureError(
            f"{label}: {unlisted[0]!r} is not in the signed {SUMS_NAME}: it was added after "
            "signing; publish the version again with --sign"
        )
    for name, sha256 in sorted(files.items()):
        if listed[name] != sha256.lower():
            raise SignatureError(
                f"{label}: {name!r} has SHA256 {sha256} in the registry, but the signed "
                f"{SUMS_NAME} says {listed[name]}: the file was replaced after signing"
            )


# -- the build: every release's signature, before a byte reaches the site --------------------

def refuse_oversized(catalog: Catalog) -> None:
    """Before downloading: a registry "SHA256SUMS" or signature too big to be one is refused."""
    for release, artifact in catalog.signing_artifacts():
        cap = SIGNATURE_MAX if artifact is release.signature else SUMS_MAX
        if artifact.size > cap:
            raise SignatureError(
                f"{release.package} {release.version}: its {artifact.name} is {artifact.size} "
                f"bytes, too big to be one; delete it from the registry and publish with --sign"
            )


def signed_catalog(
    catalog: Catalog,
    read: Callable[[Artifact], bytes],
    *,
    public_key: PublicKey | None,
    require: bool,
) -> Catalog:
    """The catalogue with every release checked and marked `signed`, or a SignatureError.

    With a public key, a release whose SHA256SUMS.minisig verifies over its SHA256SUMS, made
    for it, listing exactly its files with the registry's SHA256s, is signed; any mismatch
    fails, naming the version. Unsigned releases fail when `require`, else are kept unsigned.
    `read` returns an artifact's verified bytes (from the download cache).
    """
    releases = []
    for release in catalog.releases:
        label = f"{release.package} {release.version}"
        files = {a.name: a.sha256 for a in release.files}
        if public_key is not None and release.sums and release.signature:
            check_signed_sums(public_key, package=release.package, version=release.version,
                              sums=read(release.sums), signature=read(release.signature),
                              files=files)
            releases.append(dataclasses.replace(release, signed=True))
            continue
        if public_key is not None:
            if require:
                missing = SUMS_SIGNATURE_NAME if release.sums else SUMS_NAME
                raise SignatureError(
                    f"{label} is not signed (the registry has no {missing}): publish it "
                    "with `site-builder publish --sign`, or set `require_signatures: false` "
                    "to publish it marked unsigned"
                )
            log.warning("%s is not signed; it is published marked unsigned", label)
        releases.append(_unverified(release, read, files))
    # Every field that points at a release (latest, latest_prerelease…) gets the checked one.
    checked = {r.version: r for r in releases}
    heads: dict[str, Any] = {f.name: checked[value.version] for f in dataclasses.fields(catalog)
                             if isinstance(value := getattr(catalog, f.name), Release)}
    return dataclasses.replace(catalog, releases=tuple(releases), **heads)


def _unverified(release: Release, read: Callable[[Artifact], bytes],
                files: Mapping[str, str]) -> Release:
    """A release no key vouches for: the registry's SHA256SUMS (and signature) is published
    only when it lists exactly the files with the registry's SHA256s; else the site's own."""
    keep = False
    if release.sums is not None:
        label = f"{release.package} {release.version} {SUMS_NAME}"
        try:
            keep = parse_sums(read(release.sums), label=label) == {
                n: s.lower() for n, s in files.items()}
        except SignatureError:
            keep = False
        if not keep:
            log.warning("%s from the registry does not list the version's files with their "
                        "SHA256s; publishing the site's own instead", label)
    return dataclasses.replace(release, sums=release.sums if keep else None,
                               signature=release.signature if keep else None, signed=False)
