"""A warm build need not wait for GitLab's listing: it starts from the last one and checks.

GitLab cannot say "nothing changed": package files carry no ETag, and a file added to an
existing version leaves no trace on the package row (GITLAB.md 2.1). So every build lists
again: 400 versions are 400 calls, a second or more of waiting. `Speculative` answers
`versions()` at once with the listing the last successful build saw (kept in the cache
folder) while GitLab is listed again in the background. The build renders from the saved
listing; `confirm()`, called before the site is swapped in, compares the two (and
`check_early()`, called page by page, as soon as GitLab has answered). The same (the usual
case): the waiting was hidden. Different (a new version, a file added, replaced or removed):
`ListingChanged`, and `site-builder build` builds again from the listing GitLab just gave.

The saved listing is a guess, never a source of truth: its rows pass the same boundary
checks as GitLab's, and a site built from it is published only if GitLab's own answer, read
during this build, is identical. A damaged or planted file costs one more build, nothing else.

    source = Speculative(gitlab, cache_dir / "listings" / "….json", guess=True)
    rows = source.versions("VoiceInput")  # now: the saved listing (or GitLab's, if none)
    ...                                    # build from rows
    source.confirm()                       # ListingChanged if GitLab's listing differs
    source.save()                          # once the site is in place: the next build's guess
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future
from contextlib import AbstractContextManager
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from ..catalog import Artifact, PackageVersion
from ..errors import SiteBuilderError
from . import Source

log = logging.getLogger("mkdocs.plugins.downloads")

FORMAT = 1  # part of every saved listing: a file of another format is not a guess
CHECK_EVERY = 0.05  # seconds between check_early's looks at the listing under way


class ListingChanged(SiteBuilderError):
    """GitLab's listing differs from the saved one the build started from."""


class Listing(Protocol):
    """A listing under way elsewhere: in a thread, or in a child process (relist.py)."""

    seconds: float | None  # how long the listing took, once it is done

    def done(self) -> bool: ...

    def result(self) -> list[PackageVersion]: ...

    def close(self) -> None: ...


class ThreadListing:
    """`source.versions(package)` in a thread of this process."""

    def __init__(self, source: Source, package: str) -> None:
        self.seconds: float | None = None
        self._started = time.perf_counter()
        self._done: Future[list[PackageVersion]] = Future()
        threading.Thread(target=self._run, args=(source, package), name="listing",
                         daemon=True).start()

    def _run(self, source: Source, package: str) -> None:
        try:
            rows = source.versions(package)
        except BaseException as e:  # handed to the build's thread by result()
            self._done.set_exception(e)
        else:
            self.seconds = time.perf_counter() - self._started
            self._done.set_result(rows)

    def done(self) -> bool:
        return self._done.done()

    def result(self) -> list[PackageVersion]:
        return self._done.result()

    def close(self) -> None:
        """Nothing to stop: the thread ends with its requests (each has a deadline)."""


def snapshot_path(cache_dir: Path, api_url: str, project: str, package: str) -> Path:
    """Where the listing of one package of one project is kept (no secret goes into it)."""
    key = hashlib.sha256(f"{api_url}\0{project}\0{package}".encode()).hexdigest()[:32]
    return cache_dir / "listings" / f"{key}.json"


class Speculative:
    """A `Source` that answers from the last build's listing while it lists again."""

    def __init__(self, source: Source, path: Path, *, guess: bool = True,
                 relist: Callable[[str], Listing] | None = None,
                 known: bytes | None = None) -> None:
        self.source = source
        self.path = path
        self.guess = guess  # False: list first, as any source does (the snapshot is still saved)
        # GitLab's own listing, read moments ago by an attempt that guessed wrong: used as is
        self.known = known
        # how to list again while the build goes on: in a thread unless told otherwise
        self.relist = relist or (lambda package: ThreadListing(source, package))
        self.guessed = False  # whether `versions()` answered from the saved listing
        self.listed_in: float | None = None  # seconds GitLab's listing took (in the background)
        self._used = b""  # the listing the build was given, encoded
        self._fresh: bytes | None = None  # GitLab's listing, encoded, once read
        self._listing: Listing | None = None
        self._looked = 0.0  # when check_early last looked

    def describe(self) -> str:
        return self.source.describe()

    def open(self, package: str, version: str,
             artifact: Artifact) -> AbstractContextManager[Iterator[bytes]]:
        return self.source.open(package, version, artifact)

    def close(self) -> None:
        if self._listing is not None:
            self._listing.close()
        getattr(self.source, "close", lambda: None)()

    @property
    def fresh(self) -> bytes | None:
        """GitLab's listing, encoded, once it has been read."""
        return self._fresh

    def versions(self, package: str) -> list[PackageVersion]:
        if self.known is not None and (known := decode(self.known)) is not None:
            self._used = self._fresh = self.known  # `encode`'s output: already canonical
            return known
        saved = load(self.path) if self.guess else None
        if saved is None:
            return self._list_now(package)
        try:
            self._listing = self.relist(package)
        except OSError as e:  # no child process to be had here: list first, as with no copy
            log.debug("cannot list GitLab in the background (%s); listing it first", e)
            return self._list_now(package)
        self.guessed, self._used = True, encode(saved)
        return saved

    def _list_now(self, package: str) -> list[PackageVersion]:
        started = time.perf_counter()
        rows = self.source.versions(package)
        self.listed_in = time.perf_counter() - started
        self._used = self._fresh = encode(rows)
        return rows

    def confirm(self) -> None:
        """Wait for GitLab's listing; ListingChanged unless the build was given exactly it.

        A failed listing raises its own error: a build is never published unconfirmed.
        """
        if self._fresh is None:
            assert self._listing is not None, "confirm() before versions()"
            self._fresh = encode(self._listing.result())
            self.listed_in = self._listing.seconds
        if self._fresh != self._used:
            self._keep(self._fresh)  # the next attempt's guess
            raise ListingChanged("the registry changed since the last build")

    def check_early(self) -> None:
        """If GitLab's listing has arrived, `confirm()` now, without waiting: a build from an
        outdated guess stops as soon as that is known, not once it is finished. Cheap enough
        to call for every page: it looks at most every `CHECK_EVERY` seconds."""
        if not self.guessed or self._fresh is not None or self._listing is None:
            return
        now = time.monotonic()
        if now - self._looked < CHECK_EVERY:
            return
        self._looked = now
        if self._listing.done():
            self.confirm()

    def outdated(self) -> bool:
        """After a failed build: was the copy it started from out of date? (Waits for GitLab.)"""
        if not self.guessed:
            return False
        try:
            self.confirm()
        except ListingChanged:
            return True
        except Exception:  # GitLab's listing failed too: the build's own error is the news
            return False
        return False

    def save(self) -> None:
        """Keep the listing this build published from, for the next build to start from."""
        if self._fresh is not None:
            self._keep(self._fresh)

    def _keep(self, encoded: bytes) -> None:
        """Write atomically; a cache that cannot be written only makes the next build slower."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".part-")
            with os.fdopen(fd, "wb") as out:
                out.write(encoded)
            os.replace(tmp, self.path)
        except OSError as e:
            log.debug("cannot keep the listing in %s: %s", self.path, e)
            with contextlib.suppress(OSError, UnboundLocalError):
                os.unlink(tmp)


# -- the saved form -------------------------------------------------------------------------------
# Values are kept as the source gave them, checked or not: the catalogue checks what it reads.

def encode(rows: Sequence[PackageVersion]) -> bytes:
    """One canonical byte string per listing: equal bytes, equal listings."""
    return json.dumps({"format": FORMAT, "rows": [_row(r) for r in rows]},
                      sort_keys=True, separators=(",", ":")).encode()


def _row(row: PackageVersion) -> dict[str, Any]:
    return {
        "package": row.package, "version": row.version, "created_at": _time(row.created_at),
        "status": row.status, "package_type": row.package_type, "notes": row.notes,
        "files": [{"name": a.name, "size": a.size, "sha256": a.sha256, "file_id": a.file_id,
                   "uploaded_at": _time(a.uploaded_at)} for a in row.files],
    }


def _time(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def load(path: Path) -> list[PackageVersion] | None:
    """The saved listing, or None if there is none or it is not one (damaged, another format)."""
    try:
        data = path.read_bytes()
    except OSError:
        return None
    rows = decode(data)
    if rows is None:
        log.debug("ignoring the saved listing %s: not one this version can read", path)
    return rows


def decode(data: bytes) -> list[PackageVersion] | None:
    """The rows `encode` wrote, or None for anything else."""
    try:
        parsed = json.loads(data)
        if parsed["format"] != FORMAT:
            return None
        return [_version(row) for row in parsed["rows"]]
    except (ValueError, KeyError, TypeError, AttributeError):
        return None


def _version(row: dict[str, Any]) -> PackageVersion:
    return PackageVersion(
        package=row["package"], version=row["version"],
        created_at=datetime.fromisoformat(row["created_at"]),
        status=row["status"], package_type=row["package_type"], notes=row["notes"],
        files=tuple(
            Artifact(name=f["name"], size=f["size"], sha256=f["sha256"], file_id=f["file_id"],
                     uploaded_at=None if f["uploaded_at"] is None
                     else datetime.fromisoformat(f["uploaded_at"]))
            for f in row["files"]
        ),
    )
