"""The source boundary: every value a registry or folder hands over is checked here, once.

A GitLab instance behind `http://`, a proxy, a compromised server or a shared `--from-dir`
folder can send anything, so nothing a source returns is trusted until it passed `admit`:

    row = admit(row)        # in build_catalog, for every row it would publish
    # row.version matches GitLab's version rule; every file name stays in its folder and
    # carries no control, line-separator or bidi character; sha256 is 64 lower-case hex
    # digits; size is an int >= 0; dates are timezone-aware datetimes.

Sources read raw JSON with the field readers (`text`, `integer`, `timestamp`), which raise
the same one-line `RegistryValueError` naming package, version, file and field. Downstream
code (the cache, the renderers) may then trust the values; each renderer still escapes them
for its own language.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import RegistryValueError, UnsafePathError

if TYPE_CHECKING:  # the catalogue calls in here; its values are only replaced, never built
    from .catalog import Artifact, PackageVersion

# lib/gitlab/regex/packages.rb (GITLAB.md 1.3): ASCII word characters, `+ . -`, no `..`.
VERSION_RE = re.compile(r"(?!.*\.\.)[\w+.-]+", re.ASCII)
SHA256_RE = re.compile(r"[0-9a-f]{64}")
_DRIVE = re.compile(r"^[A-Za-z]:")
# C0 and C1 controls (U+0085 among them), line and paragraph separators, bidi embeddings,
# overrides and isolates: each can break a checksum line or make a name read as another.
# Lone surrogates (JSON can carry them) cannot be written as UTF-8 at all.
_INVISIBLE = re.compile(
    "[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
_SURROGATE = re.compile("[\ud800-\udfff]")
_SHOWN_MAX = 80
_FIX_VALUE = (
    "GitLab never sends this, so check the API URL (use https://), any proxy in between, "
    "or the --from-dir folder's .release.json"
)


def quoted(value: object) -> str:
    """`repr(value)`, cut to a readable length: every control or bidi character escaped."""
    text = repr(value)
    return text if len(text) <= _SHOWN_MAX else text[: _SHOWN_MAX - 1] + "…"


def shown(value: object) -> str:
    """`value` safe to print in one line: plain names as they are, anything else `quoted`."""
    if isinstance(value, str) and re.fullmatch(r"[\w+.~@/:-]{1,80}", value, re.ASCII):
        return value
    return quoted(value)


def where(package: object, version: object = None, file: object = None) -> str:
    """`VoiceInput v1.2.0 app.zip`, each part shown safely; the head of every boundary error."""
    return " ".join(shown(part) for part in (package, version, file) if part is not None)


def _refuse(at: str, field: str, problem: str, fix: str = _FIX_VALUE) -> RegistryValueError:
    return RegistryValueError(f"{at}: refusing {field}: {problem}; {fix}")


# -- field readers ----------------------------------------------------------------------------

def text(value: Any, *, at: str, field: str) -> str:
    if not isinstance(value, str):
        raise _refuse(at, field, f"{quoted(value)} is not a string")
    return value


def integer(value: Any, *, at: str, field: str, minimum: int = 0) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise _refuse(at, field, f"{quoted(value)} is not an integer")
    if value < minimum:
        raise _refuse(at, field, f"{value} is below {minimum}")
    return value


def timestamp(value: Any, *, at: str, field: str) -> datetime:
    """ISO 8601 as GitLab writes it (`2026-02-08T15:23:00.123Z`), always timezone-aware."""
    if isinstance(value, datetime):
        moment = value
    else:
        raw = text(value, at=at, field=field)
        try:
            moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
        except ValueError:
            raise _refuse(at, field, f"{quoted(raw)} is not an ISO 8601 date") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def sha256(value: Any, *, at: str, field: str = "sha256") -> str:
    digest = text(value, at=at, field=field).lower()
    if not SHA256_RE.fullmatch(digest):
        raise _refuse(at, field, f"{quoted(value)} is not 64 hexadecimal digits")
    return digest


def version(value: Any, *, at: str) -> str:
    name = text(value, at=at, field="version")
    check_relative_path(name, what="version")
    if not VERSION_RE.fullmatch(name):
        raise _refuse(at, "version", f"{quoted(name)} is not a GitLab package version "
                      "(letters, digits, '_', '+', '.', '-', no '..')",
                      "rename it in the registry")
    return name


def check_relative_path(name: str, *, what: str = "file name") -> str:
    """Return `name` if it stays inside its folder; raise UnsafePathError naming it otherwise."""
    problem = None
    if not name:
        problem = "is empty"
    elif _INVISIBLE.search(name):
        problem = "contains a control, line-separator or bidi character"
    elif "\\" in name:
        problem = "contains a backslash"
    elif name.startswith("/") or _DRIVE.match(name):
        problem = "is an absolute path"
    elif any(part in ("", ".", "..") for part in name.split("/")):
        problem = "has an empty, '.' or '..' path segment"
    if problem:
        raise UnsafePathError(
            f"refusing {what} {quoted(name)}: it {problem} and could land outside its folder "
            "or read as another name; rename it in the registry"
        )
    return name


def leaves_folder(path: Path, root: Path) -> bool:
    """True when `path`, links followed, is not inside `root`: a link out of a folder would
    publish a file nobody put there (`/etc/passwd`, a key)."""
    return root.resolve() not in path.resolve().parents


def file_name(value: Any, *, at: str) -> str:
    name = text(value, at=at, field="file name")
    try:
        return check_relative_path(name)
    except UnsafePathError as e:
        raise UnsafePathError(f"{at}: {e}") from None


# -- whole rows -------------------------------------------------------------------------------

def admit(row: PackageVersion) -> PackageVersion:
    """`row` with every value checked and normalised; raises naming the first bad field."""
    at = where(row.package, row.version)
    checked_version = version(row.version, at=at)
    files = tuple(_artifact(a, package=row.package, version=checked_version) for a in row.files)
    return dataclasses.replace(
        row,
        version=checked_version,
        created_at=timestamp(row.created_at, at=at, field="created_at"),
        files=files,
        status=text(row.status, at=at, field="status"),
        package_type=text(row.package_type, at=at, field="package_type"),
        notes=_SURROGATE.sub("\ufffd", text(row.notes, at=at, field="release notes")),
    )


def _artifact(artifact: Artifact, *, package: str, version: str) -> Artifact:
    name = file_name(artifact.name, at=where(package, version))
    at = where(package, version, name)
    uploaded = artifact.uploaded_at
    return dataclasses.replace(
        artifact,
        name=name,
        size=integer(artifact.size, at=at, field="size"),
        sha256=sha256(artifact.sha256, at=at),
        file_id=integer(artifact.file_id, at=at, field="file id"),
        uploaded_at=None if uploaded is None else timestamp(uploaded, at=at, field="created_at"),
    )


def check_distinct_names(package: str, version: str, names: Iterable[str]) -> None:
    """Two files of one version may not differ only in case: on Windows and macOS they are one."""
    seen: dict[str, str] = {}
    for name in names:
        other = seen.setdefault(name.casefold(), name)
        if other != name:
            raise _refuse(where(package, version), "file names",
                          f"{quoted(other)} and {quoted(name)} differ only in case",
                          "rename or delete one of them in the registry")
