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

import logging
import sys
import time
from typing import Any

from ..catalog import PackageVersion
from ..child import Child, child_request, gitlab_request, gitlab_source
from ..errors import SourceError
from ..settings import Settings
from .snapshot import decode

log = logging.getLogger("mkdocs.plugins.downloads")


def request(settings: Settings) -> dict[str, Any]:
    """What the child needs to list exactly as this build's own source would (no secret)."""
    return {**gitlab_request(settings), "package": settings.require_package()}


class ChildListing:
    """One listing running in a child process; `result()` waits for it."""

    seconds: float | None = None  # how long the child's listing took, once it answered

    def __init__(self, what: dict[str, Any]) -> None:
        self._child = Child(__name__, what, keep_stderr=True)

    def done(self) -> bool:
        return self._child.done()

    def result(self) -> list[PackageVersion]:
        """GitLab's listing (its warnings logged here), or the child's failure as SourceError.

        The child's requests have their deadlines and its walk its page cap, so it ends.
        """
        answer = self._child.wait()
        if answer.code != 0:
            raise SourceError(answer.stderr[-1] if answer.stderr
                              else f"listing GitLab again failed ({answer.code})")
        for line in answer.stderr:
            log.warning("%s", line)
        seconds, _, encoded = answer.stdout.partition(b"\n")
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
        self._child.stop()


def main() -> int:
    from ..bounds import interruptible
    from ..errors import SiteBuilderError
    from .snapshot import encode

    what = child_request()
    source = gitlab_source(what)
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
