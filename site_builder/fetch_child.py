"""A cold build's downloads in a child process, beside MkDocs.

Each download costs about 2.5 ms of Python (HTTP, checks, the part file) and a cold
400-version build makes 400 of them while MkDocs renders. In the build's own threads that
work queues for the interpreter MkDocs holds, and MkDocs took as much longer as the downloads
took (measured: the same total as downloading first). In a child it runs on the other core.

The child reads what to fetch as JSON on stdin, takes the token from the environment it
inherits (never from its command line), verifies every file into the cache exactly as the
build's own `Fetcher` does (`hashing.write_verified`: a part file renamed into place only once
its SHA256 and size match), and answers on stdout, as JSON, how long it took or the one line
its failure is. Its progress (bars on a terminal, a line every 10 s in a CI log) and log
lines go to the build's stderr as it works, at the build's log level, secrets masked. A child
asked to stop removes its part files; a killed one leaves only part files named by its pid,
which the parent then removes (`ArtifactCache.sweep`), as the next run would.

    downloads = ChildDownloads(request(settings, items))   # started now
    cached = downloads.result()                            # later: SHA256 → cache file
"""

from __future__ import annotations

import json
import logging
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .child import Child, child_request, gitlab_request, gitlab_source
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
    return {**gitlab_request(settings),
            "cache_dir": str(settings.cache_dir), "log_level": log.getEffectiveLevel(),
            "items": [[r.package, r.version, a.name, a.size, a.sha256] for r, a in items]}


class ChildDownloads:
    """The downloads of one build, running in a child process; `result()` waits for them."""

    def __init__(self, what: dict[str, Any], *, stopwatch: Stopwatch | None = None) -> None:
        self.stopwatch = stopwatch
        self._cache = ArtifactCache(Path(what["cache_dir"]))
        self._wanted = [sha256.lower() for *_, sha256 in what["items"]]
        self._child = Child(__name__, what, keep_stderr=False)  # (its lines as they come)
        self.process = self._child.process
        self._found: dict[str, Path] | None = None

    def result(self) -> dict[str, Path]:
        """SHA256 → cache file of every item, once the child is done; its failure (one line,
        masked) as SourceError. Its requests have deadlines and rate floors, so it ends."""
        if self._found is not None:
            return self._found
        answer = self._child.wait()
        try:
            said = json.loads(answer.stdout)
        except ValueError:
            said = {}
        if answer.code != 0 or not isinstance(said, dict) or "seconds" not in said:
            error = said.get("error") if isinstance(said, dict) else None
            raise SourceError(str(error) if error
                              else f"downloading failed (exit code {answer.code})")
        if self.stopwatch is not None:
            self.stopwatch.background["fetch"] = float(said["seconds"])
        self._found = {sha: self._cache.path_for(sha) for sha in self._wanted}
        return self._found

    def cancel(self) -> None:
        """Stop the child if it still runs (a failed or interrupted build) and wait for it:
        asked, it removes its part files and ends; after a second it is killed, and what it
        left is removed here."""
        self._child.stop(grace=STOP_GRACE)
        self._cache.sweep()  # (part files are named by the pid of a process now gone)


def main() -> int:
    from .auth import redact
    from .bounds import interruptible
    from .catalog import Artifact, Release
    from .errors import SiteBuilderError
    from .fetch import Fetcher
    from .progress import download_progress

    what = child_request(prefix="%(levelname)s: ")
    source = gitlab_source(what)

    def answer(**fields: object) -> None:
        sys.stdout.buffer.write(json.dumps(fields).encode())

    epoch = datetime(1970, 1, 1, tzinfo=UTC)  # (a download needs only names and sizes)
    pairs = [(Release(package, version, epoch, ()), Artifact(name, size, sha256))
             for package, version, name, size, sha256 in what["items"]]
    started = time.perf_counter()
    try:
        with interruptible(), download_progress() as hook:
            Fetcher(source, ArtifactCache(Path(what["cache_dir"])), on_chunk=hook,
                    workers=what["concurrency"]).fetch_pairs(pairs)
    except SiteBuilderError as e:
        answer(error=redact(str(e)))
        return 1
    except Exception as e:  # still one line, still masked
        answer(error=redact(f"downloading failed: unexpected {type(e).__name__}: {e}"))
        return 1
    except KeyboardInterrupt:
        return 130
    finally:
        source.close()
    answer(seconds=round(time.perf_counter() - started, 3))
    return 0


if __name__ == "__main__":
    sys.exit(main())
