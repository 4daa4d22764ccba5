"""Verified bytes: stream every hosted artifact into a content-addressed cache.

Each artifact is hashed and measured while it is written, in one pass with constant memory;
a cache entry appears (by atomic rename) only after its SHA256 and size matched the
registry's, so an entry's name is its proof. A warm cache downloads nothing it already holds.
Identical files shared by several versions are downloaded once.
"""

from __future__ import annotations

import logging
import os
import shutil
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from .boundary import SHA256_RE, quoted
from .catalog import Artifact, Catalog, Release
from .errors import IntegrityError, Interrupted, TransientError, UnsafePathError
from .hashing import CHUNK, PART_PREFIX, file_sha256, write_verified
from .leftovers import dead_leftovers
from .settings import DEFAULT_API_CONCURRENCY
from .sources import Source

log = logging.getLogger("mkdocs.plugins.downloads")

ProgressHook = Callable[[Artifact, int], None]  # called with each chunk's length
HASHING_WORKERS = 4


class ArtifactCache:
    """Files named by their SHA256 under `root/sha256/ab/abcdef…`."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def sweep(self) -> None:
        """Remove the `.part-<pid>-…` files of runs that were killed mid-download."""
        for folder in (self.root / "sha256").glob("??"):
            for path, _ in dead_leftovers(folder, PART_PREFIX):
                path.unlink(missing_ok=True)

    def path_for(self, sha256: str) -> Path:
        """The entry of `sha256`; anything but 64 hex digits is refused, never joined."""
        sha = sha256.lower()
        if not SHA256_RE.fullmatch(sha):  # the boundary checked it; a cache path must not trust
            raise UnsafePathError(f"refusing cache entry {quoted(sha256)}: not a SHA256")
        return self.root / "sha256" / sha[:2] / sha

    def holds(self, artifact: Artifact) -> bool:
        """True if the entry is there and its bytes still hash to its name.

        The cache may be shared between CI pipelines, so an entry is re-hashed before it is
        trusted: a damaged or planted file is thrown away and downloaded again.
        """
        path = self.path_for(artifact.sha256)
        try:
            if path.stat().st_size != artifact.size:
                return False
            if file_sha256(path) == artifact.sha256.lower():
                return True
        except OSError:
            return False
        log.warning("cached copy of %s is damaged; downloading it again", artifact.name)
        path.unlink(missing_ok=True)
        return False


class Fetcher:
    """Downloads what the cache lacks, `workers` at a time, retrying reads cut short.

    The registry's transport may hold some back (GitLab's 429s: see `throttle.py`).
    """

    def __init__(
        self,
        source: Source,
        cache: ArtifactCache,
        *,
        workers: int = DEFAULT_API_CONCURRENCY,
        attempts: int = 3,
        on_chunk: ProgressHook | None = None,
    ) -> None:
        self.source = source
        self.cache = cache
        self.workers = workers
        self.attempts = attempts
        self.on_chunk = on_chunk
        self.stop: threading.Event | None = None  # set: no new download starts, running ones end

    def fetch(self, catalog: Catalog) -> dict[str, Path]:
        """Make sure every hosted artifact is in the cache; map each SHA256 to its path."""
        return self.fetch_pairs(catalog.hosted_artifacts())

    def fetch_pairs(self, pairs: Iterable[tuple[Release, Artifact]]) -> dict[str, Path]:
        """The same for any artifacts, each with its release."""
        self.cache.sweep()
        wanted: dict[str, tuple[Release, Artifact]] = {}
        for release, artifact in pairs:
            wanted.setdefault(artifact.sha256.lower(), (release, artifact))
        # Re-hashing is CPU work: a few threads are enough. Downloads mostly wait on the
        # network (40 ms a call is typical), so `workers` of them run at once.
        with ThreadPoolExecutor(max_workers=min(self.workers, HASHING_WORKERS)) as pool:
            held = list(pool.map(lambda pair: self.cache.holds(pair[1]), wanted.values()))
        missing = [pair for pair, ok in zip(wanted.values(), held, strict=True) if not ok]
        if missing:
            log.info(
                "downloading %d of %d artifacts from %s",
                len(missing), len(wanted), self.source.describe(),
            )
        with ThreadPoolExecutor(max_workers=self.workers) as pool:
            # list() re-raises the first failure here, in the caller's thread
            list(pool.map(lambda pair: self._download(*pair), missing))
        return {sha: self.cache.path_for(sha) for sha in wanted}

    def _download(self, release: Release, artifact: Artifact) -> None:
        label = f"{release.package} {release.version} {artifact.name}"
        hook, stop = self.on_chunk, self.stop

        def on_chunk(n: int) -> None:
            if stop is not None and stop.is_set():
                raise Interrupted()  # the build this was for has ended: drop the part file
            if hook is not None:
                hook(artifact, n)

        if stop is not None and stop.is_set():
            raise Interrupted()
        for attempt in range(1, self.attempts + 1):
            try:
                with self.source.open(release.package, release.version, artifact) as chunks:
                    write_verified(
                        chunks,
                        self.cache.path_for(artifact.sha256),
                        sha256=artifact.sha256,
                        size=artifact.size,
                        label=label,
                        on_chunk=on_chunk,
                    )
                return
            except (IntegrityError, TransientError) as e:
                # A cut or garbled body is usually the network, not the registry: try again,
                # and only fail the build when every attempt disagrees.
                if attempt == self.attempts:
                    raise
                log.warning("%s (attempt %d of %d, retrying)", e, attempt, self.attempts)


def place(cached: Path, destination: Path) -> None:
    """Copy a cached artifact to `destination`, world-readable (0644).

    Never a hard link: the published file must not share an inode with the cache, or a later
    edit of a cache entry (shared between pipelines) would change a file already published,
    and the cache's private 0600 mode would travel to the site. `os.copy_file_range` lets the
    kernel copy, or share blocks copy-on-write (a reflink) where the filesystem offers it.
    """
    destination.parent.mkdir(parents=True, exist_ok=True)
    destination.unlink(missing_ok=True)  # never write through an existing link
    with cached.open("rb") as source, destination.open("xb") as target:
        try:
            while os.copy_file_range(source.fileno(), target.fileno(), CHUNK * 64):
                pass
        except OSError:  # no copy_file_range across these filesystems: copy in user space
            source.seek(0)
            target.seek(0)
            target.truncate()
            shutil.copyfileobj(source, target, CHUNK)
    destination.chmod(0o644)
