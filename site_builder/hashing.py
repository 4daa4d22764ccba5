"""SHA256 over streams: hash a file, or write chunks to disk while hashing and measuring them.

The one place bytes are proven to be what a registry said. `fetch` (the cache), the folder
source, `publish` and `verify` all use it, so none of them needs another to hash a file.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import BinaryIO

from .errors import IntegrityError

CHUNK = 1024 * 1024


def file_chunks(handle: BinaryIO) -> Iterator[bytes]:
    """The bytes of an open binary file, CHUNK at a time."""
    return iter(lambda: handle.read(CHUNK), b"")


def file_sha256(path: Path) -> str:
    """The SHA256 of the file at `path`, in lower-case hex, read with constant memory."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in file_chunks(handle):
            digest.update(chunk)
    return digest.hexdigest()


PART_PREFIX = ".part-"


def write_verified(
    chunks: Iterable[bytes],
    target: Path,
    *,
    sha256: str,
    size: int,
    label: str,
    on_chunk: Callable[[int], None] | None = None,
) -> None:
    """Write `chunks` to `target` while hashing; raise IntegrityError unless both match.

    The file is written beside `target` and renamed into place only when it is proven good,
    so a reader never sees a partial or wrong file under the final name.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    written = 0
    # the pid in the name lets the next run remove what a killed one left (leftovers.py)
    fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=f"{PART_PREFIX}{os.getpid()}-")
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            for chunk in chunks:
                written += len(chunk)
                if written > size:  # stop early: a longer body can never match
                    break
                digest.update(chunk)
                out.write(chunk)
                if on_chunk:
                    on_chunk(len(chunk))
        if written != size:
            raise IntegrityError(
                f"{label}: the registry says {size} bytes but "
                f"{'more' if written > size else written} arrived; "
                "the file in the registry may be damaged: re-upload it"
            )
        actual = digest.hexdigest()
        if actual != sha256.lower():
            raise IntegrityError(
                f"{label}: SHA256 {actual} does not match the registry's {sha256}; "
                "the file in the registry may be damaged: re-upload it"
            )
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def sums_line(sha256: str, name: str) -> str:
    """A `sha256sum -c` line: exactly two spaces, as strict parsers (hc-install) expect."""
    return f"{sha256}  {name}\n"
