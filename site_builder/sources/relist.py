"""GitLab listed again in a child process, beside a build that started from the saved listing.

A listing is hundreds of small API calls, and each costs about a millisecond of Python (HTTP
parsing, JSON, checks). In the build's own process that work would queue for the GIL behind
MkDocs' rendering and slow both; in a child it runs on another core. The child reads what
to list as JSON on stdin, takes the token from the environment it inherits (never from its
command line), and writes on stdout how many seconds the listing took, a newline, and the
encoded listing (snapshot.encode); warnings and a failure go to stderr, one line each,
secrets masked.

    listing = ChildListing(request(settings))   # started now
    rows = listing.result()                     # later: GitLab's rows, or SourceError
"""

from __future__ import annotations

import dataclasses
import json
import logging
import subprocess
import sys
import tempfile
import time
from typing import IO, Any

from ..bounds import Limits
from ..catalog import PackageVersion
from ..errors import SourceError
from ..settings import Settings
from .snapshot import decode

log = logging.getLogger("mkdocs.plugins.downloads")


def request(settings: Settings) -> dict[str, Any]:
    """What the child needs to list exactly as this build's own source would (no secret)."""
    api_url, project = settings.require_gitlab()
    return {"api_url": api_url, "project": project, "package": settings.require_package(),
            "concurrency": settings.api_concurrency,
            "limits": dataclasses.asdict(settings.limits)}


class ChildListing:
    """One listing running in a child process; `result()` waits for it."""

    seconds: float | None = None  # how long the child's listing took, once it answered

    def __init__(self, what: dict[str, Any]) -> None:
        # Files, not pipes: a child never blocks on a parent busy rendering.
        self._out: IO[bytes] = tempfile.TemporaryFile()  # noqa: SIM115 (closed in close())
        self._err: IO[bytes] = tempfile.TemporaryFile()  # noqa: SIM115
        self.process = subprocess.Popen(
            [sys.executable, "-m", __name__], stdin=subprocess.PIPE, stdout=self._out,
            stderr=self._err)
        assert self.process.stdin is not None
        with self.process.stdin as stdin:
            stdin.write(json.dumps(what).encode())

    def done(self) -> bool:
        return self.process.poll() is not None

    def result(self) -> list[PackageVersion]:
        """GitLab's listing (its warnings logged here), or the child's failure as SourceError.

        The child's requests have their deadlines and its walk its page cap, so it ends.
        """
        code = self.process.wait()
        self._err.seek(0)
        lines = [line for line in self._err.read().decode("utf-8", "replace").splitlines()
                 if line.strip()]
        if code != 0:
            raise SourceError(lines[-1] if lines else f"listing GitLab again failed ({code})")
        for line in lines:
            log.warning("%s", line)
        self._out.seek(0)
        seconds, _, encoded = self._out.read().partition(b"\n")
        rows = decode(encoded)
        try:
            self.seconds = float(seconds)
        except ValueError:
            rows = None
        if rows is None:
            raise SourceError("listing GitLab again gave an answer that cannot be read back")
        return rows

    def close(self) -> None:
        """Stop the child if it still runs (an interrupted or failed build)."""
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self._out.close()
        self._err.close()


def main() -> int:
    from ..auth import RedactingFilter
    from ..bounds import interruptible
    from ..errors import SiteBuilderError
    from .gitlab import GitLabSource
    from .snapshot import encode

    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    handler.addFilter(RedactingFilter())
    log.addHandler(handler)
    log.propagate = False
    log.setLevel(logging.WARNING)
    what = json.loads(sys.stdin.buffer.read())
    source = GitLabSource.from_env(api_url=what["api_url"], project=what["project"],
                                   concurrency=what["concurrency"],
                                   limits=Limits(**what["limits"]))
    started = time.perf_counter()
    try:
        with interruptible():
            rows = source.versions(what["package"])
    except SiteBuilderError as e:
        log.error("%s", e)
        return 1
    except Exception as e:  # still one line, still masked
        log.error("listing GitLab again failed: unexpected %s: %s", type(e).__name__, e)
        return 1
    except KeyboardInterrupt:
        return 130
    finally:
        source.close()
    sys.stdout.buffer.write(f"{time.perf_counter() - started:.3f}\n".encode() + encode(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
