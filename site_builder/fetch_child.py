"""A cold build's downloads in a child process, beside MkDocs.

Each download costs about 2.5 ms of Python (HTTP, checks, the part file) and a cold
400-version build makes 400 of them while MkDocs renders. In the build's own threads that
work queues for the interpreter MkDocs holds, and MkDocs took as much longer as the downloads
took (measured: the same total as downloading first). In a child it runs on the other core.

The child reads what to fetch as JSON on stdin, takes the token from the environment it
inherits (never from its command line), verifies every file into the cache exactly as the
build's own `Fetcher` does (`hashing.write_verified`: a part file renamed into place only once
its SHA256 and size match), and writes the seconds it took on stdout; its log lines go to
stderr, one each, secrets masked, and its failure is the last of them. A killed child leaves
only part files named by its pid, which the next run removes (`ArtifactCache.sweep`).

    downloads = ChildDownloads(request(settings, items))   # started now
    cached = downloads.result()                            # later: SHA256 → cache file
"""

from __future__ import annotations

import dataclasses
import json
import logging
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from .bounds import Limits
from .errors import SourceError
from .fetch import ArtifactCache
from .settings import Settings
from .targets import Item
from .timing import Stopwatch

log = logging.getLogger("mkdocs.plugins.downloads")

# Fewer downloads than this stay in the build's threads: starting a child costs about 0.25 s
# of CPU (Python and its imports) on the other core, more than a few downloads take.
CHILD_MIN = 32
STOP_GRACE = 1.0  # seconds a child asked to stop may take to remove its part files


def request(settings: Settings, items: Sequence[Item]) -> dict[str, Any]:
    """What the child needs to fetch `items` as this build's own source would (no secret)."""
    api_url, project = settings.require_gitlab()
    return {"api_url": api_url, "project": project, "concurrency": settings.api_concurrency,
            "limits": dataclasses.asdict(settings.limits),
            "cache_dir": str(settings.cache_dir),
            "items": [[r.package, r.version, a.name, a.size, a.sha256] for r, a in items]}


class ChildDownloads:
    """The downloads of one build, running in a child process; `result()` waits for them."""

    def __init__(self, what: dict[str, Any], *, stopwatch: Stopwatch | None = None) -> None:
        self.stopwatch = stopwatch
        self._cache = ArtifactCache(Path(what["cache_dir"]))
        self._wanted = [sha256.lower() for *_, sha256 in what["items"]]
        # Files, not pipes: a child never blocks on a parent busy rendering.
        self._out: IO[bytes] = tempfile.TemporaryFile()  # noqa: SIM115 (closed in cancel())
        self._err: IO[bytes] = tempfile.TemporaryFile()  # noqa: SIM115
        self.process = subprocess.Popen(
            [sys.executable, "-m", __name__], stdin=subprocess.PIPE, stdout=self._out,
            stderr=self._err)
        assert self.process.stdin is not None
        with self.process.stdin as stdin:
            stdin.write(json.dumps(what).encode())
        self._found: dict[str, Path] | None = None

    def result(self) -> dict[str, Path]:
        """SHA256 → cache file of every item, once the child is done; its failure (one line,
        masked) as SourceError. Its requests have deadlines and rate floors, so it ends."""
        if self._found is not None:
            return self._found
        code = self.process.wait()
        self._err.seek(0)
        lines = [line for line in self._err.read().decode("utf-8", "replace").splitlines()
                 if line.strip()]
        if code != 0:
            raise SourceError(lines[-1].partition(" ")[2] if lines
                              else f"downloading failed ({code})")
        for line in lines:
            level, _, message = line.partition(" ")
            log.log(logging.WARNING if level == "WARNING" else logging.INFO, "%s", message)
        self._out.seek(0)
        try:
            seconds = float(self._out.read().decode() or "nan")
        except ValueError:
            seconds = float("nan")
        if self.stopwatch is not None and seconds == seconds:  # (not NaN)
            self.stopwatch.background["fetch"] = seconds
        self._found = {sha: self._cache.path_for(sha) for sha in self._wanted}
        return self._found

    def cancel(self) -> None:
        """Stop the child if it still runs (a failed or interrupted build) and wait for it:
        asked, it removes its part files and ends; after a second it is killed, and what it
        left is removed here."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=STOP_GRACE)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._cache.sweep()  # (part files are named by the pid of a process now gone)
        self._out.close()
        self._err.close()


def main() -> int:
    from .auth import RedactingFilter
    from .bounds import interruptible
    from .catalog import Artifact, Release
    from .errors import SiteBuilderError
    from .fetch import Fetcher
    from .sources.gitlab import GitLabSource

    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    handler.addFilter(RedactingFilter())
    log.addHandler(handler)
    log.propagate = False
    log.setLevel(logging.INFO)
    what = json.loads(sys.stdin.buffer.read())
    source = GitLabSource.from_env(api_url=what["api_url"], project=what["project"],
                                   concurrency=what["concurrency"],
                                   limits=Limits(**what["limits"]))
    epoch = datetime(1970, 1, 1, tzinfo=UTC)  # (a download needs only names and sizes)
    pairs = [(Release(package, version, epoch, ()), Artifact(name, size, sha256))
             for package, version, name, size, sha256 in what["items"]]
    started = time.perf_counter()
    try:
        with interruptible():
            Fetcher(source, ArtifactCache(Path(what["cache_dir"])),
                    workers=what["concurrency"]).fetch_pairs(pairs)
    except SiteBuilderError as e:
        log.error("%s", e)
        return 1
    except Exception as e:  # still one line, still masked
        log.error("downloading failed: unexpected %s: %s", type(e).__name__, e)
        return 1
    except KeyboardInterrupt:
        return 130
    finally:
        source.close()
    sys.stdout.buffer.write(f"{time.perf_counter() - started:.3f}".encode())
    return 0


if __name__ == "__main__":
    sys.exit(main())
