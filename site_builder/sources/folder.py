"""A registry laid out on disk: `DIR/<package>/<version>/<file path>`.

Used for the sample site, for tests, and by teams that stage releases locally. Optional
metadata per version lives beside the files (names starting with `.` are never artifacts):

    .release.json   {"released_at": "2026-02-08T15:23:00Z", "status": "default",
                     "sha256": {"VoiceInput-v1.2.0.zip": "<64 hex>"}}   # all keys optional
    .notes.md       release notes in Markdown

`sha256` plays the part of GitLab's `file_sha256`: when given, the copied bytes must match it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .. import boundary
from ..catalog import Artifact, PackageVersion
from ..errors import RegistryValueError, SourceError, UnsafePathError
from ..hashing import file_chunks, file_sha256


class FolderSource:
    """Reads packages from a local folder instead of GitLab."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def describe(self) -> str:
        return f"folder {self.root}"

    def versions(self, package: str) -> list[PackageVersion]:
        package_dir = self.root / package
        if not package_dir.is_dir():
            raise SourceError(
                f"{package_dir} is not a folder: lay releases out as "
                f"{self.root}/<package>/<version>/<file>, or check --package"
            )
        return [
            self._version(package, version_dir)
            for version_dir in sorted(package_dir.iterdir())
            if version_dir.is_dir() and not version_dir.name.startswith(".")
        ]

    def _version(self, package: str, version_dir: Path) -> PackageVersion:
        meta = self._metadata(version_dir)
        at = f"{version_dir / '.release.json'}"
        declared = meta.get("sha256", {})
        if not isinstance(declared, dict):
            raise RegistryValueError(f"{at}: refusing sha256: {boundary.quoted(declared)} is "
                                     "not an object of file name to SHA256; fix the file")
        files = []
        for path in sorted(version_dir.rglob("*")):
            relative = path.relative_to(version_dir)
            if any(p.startswith(".") for p in relative.parts) or not path.is_file():
                continue
            self._check_inside(path)
            name = relative.as_posix()
            # Declared values pass as written, typed or not: the catalogue's boundary checks them.
            files.append(Artifact(name=name, size=path.stat().st_size,
                                  sha256=declared[name] if name in declared
                                  else file_sha256(path)))
        released = meta.get("released_at")
        created_at = (
            boundary.timestamp(released, at=at, field="released_at")
            if released is not None
            else datetime.fromtimestamp(version_dir.stat().st_mtime, tz=UTC)
        )
        notes_file = version_dir / ".notes.md"
        return PackageVersion(
            package=package,
            version=version_dir.name,
            created_at=created_at,
            files=tuple(files),
            status=boundary.text(meta.get("status", "default"), at=at, field="status"),
            notes=notes_file.read_text(encoding="utf-8") if notes_file.is_file() else "",
        )

    def _check_inside(self, path: Path) -> None:
        if boundary.leaves_folder(path, self.root):
            raise UnsafePathError(f"refusing {path}: it is a link that leaves {self.root}; "
                                  "copy the file into the folder instead")

    @staticmethod
    def _metadata(version_dir: Path) -> dict[str, Any]:
        meta_file = version_dir / ".release.json"
        if not meta_file.is_file():
            return {}
        try:
            meta = json.loads(meta_file.read_text(encoding="utf-8"))
        except (ValueError, UnicodeDecodeError) as e:
            raise SourceError(f"{meta_file} is not valid JSON ({e}); fix or delete it") from e
        if not isinstance(meta, dict):
            raise SourceError(f"{meta_file} must hold a JSON object; fix or delete it")
        return meta

    @contextmanager
    def open(self, package: str, version: str, artifact: Artifact) -> Iterator[Iterator[bytes]]:
        path = self.root / package / version / artifact.name
        try:
            handle = path.open("rb")
        except OSError as e:
            raise SourceError(f"cannot read {path}: {e.strerror}") from e
        with handle:
            yield file_chunks(handle)
