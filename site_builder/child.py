"""Work a build hands to a child process (`python -m <module>`), both sides of it.

A build's own threads queue for the interpreter MkDocs holds while it renders; a child runs on
another core. The listing of GitLab beside a warm build (`sources/relist.py`) and the
downloads beside a cold one (`fetch_child.py`) run this way. The parent writes a JSON request
the child reads on stdin; the token travels in the environment the child inherits, never on
its command line. The child's stdout, and its stderr when the parent keeps it, go to files,
not pipes: a child never blocks on a parent busy rendering, nor the parent on a child still
starting.

    child = Child("site_builder.sources.relist", request)   # parent: started now
    answer = child.wait()                                   # later: exit code, stdout, stderr
    child.stop()                                            # a failed or stopped build

    what = child_request()                                  # child: the request, its log
    source = gitlab_source(what)                            # lines masked; GitLab as asked
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING, Any

from .bounds import Limits

if TYPE_CHECKING:
    from .settings import Settings

log = logging.getLogger("mkdocs.plugins.downloads")


@dataclass(frozen=True, slots=True)
class Answer:
    code: int
    stdout: bytes
    stderr: list[str]  # its non-blank lines, when the parent keeps them


class Child:
    """One `python -m module` child, fed `request` as JSON."""

    def __init__(self, module: str, request: dict[str, Any], *, keep_stderr: bool) -> None:
        self._out: IO[bytes] = tempfile.TemporaryFile()  # noqa: SIM115 (closed in stop())
        self._err: IO[bytes] | None = tempfile.TemporaryFile() if keep_stderr else None  # noqa: SIM115
        with tempfile.TemporaryFile() as stdin:
            stdin.write(json.dumps(request).encode())
            stdin.seek(0)
            # Its own session: a terminal's Ctrl-C reaches the build, which stops the child
            # (`stop`), so a child starting up never prints a traceback for it.
            self.process = subprocess.Popen([sys.executable, "-m", module], stdin=stdin,
                                            stdout=self._out, stderr=self._err,
                                            start_new_session=True)

    def done(self) -> bool:
        return self.process.poll() is not None

    def wait(self) -> Answer:
        """Once the child has ended: its exit code, stdout, and stderr lines (if kept)."""
        code = self.process.wait()
        self._out.seek(0)
        lines: list[str] = []
        if self._err is not None:
            self._err.seek(0)
            lines = [line for line in self._err.read().decode("utf-8", "replace").splitlines()
                     if line.strip()]
        return Answer(code, self._out.read(), lines)

    def stop(self, *, grace: float = 0.0) -> None:
        """End the child if it still runs: asked first (SIGTERM) when `grace` seconds are
        given for it to clean up, killed after them; then wait for it."""
        if self.process.poll() is None:
            if grace:
                self.process.terminate()
                with contextlib.suppress(subprocess.TimeoutExpired):
                    self.process.wait(timeout=grace)
            if self.process.poll() is None:
                self.process.kill()
                self.process.wait()
        self._out.close()
        if self._err is not None:
            self._err.close()


# -- the child's side ----------------------------------------------------------------------------

def child_request(*, prefix: str = "") -> dict[str, Any]:
    """In the child: the parent's request; from then on this package's log lines go to
    stderr at the request's `log_level` (default: warnings), masked, each after `prefix`
    (e.g. "%(levelname)s: ")."""
    from .auth import RedactingFilter

    request: dict[str, Any] = json.loads(sys.stdin.buffer.read())
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(prefix + "%(message)s"))
    handler.addFilter(RedactingFilter())
    log.addHandler(handler)
    log.propagate = False
    log.setLevel(request.get("log_level", logging.WARNING))
    return request


def gitlab_request(settings: Settings) -> dict[str, Any]:
    """In the parent: how this build reaches GitLab, for `gitlab_source` in the child (no
    secret: the token stays in the environment)."""
    api_url, project = settings.require_gitlab()
    return {"api_url": api_url, "project": project, "concurrency": settings.api_concurrency,
            "limits": dataclasses.asdict(settings.limits)}


def gitlab_source(request: dict[str, Any]) -> Any:
    """In the child: GitLab as the parent's build reaches it (the token from the environment)."""
    from .sources.gitlab import GitLabSource

    return GitLabSource.from_env(api_url=request["api_url"], project=request["project"],
                                 concurrency=request["concurrency"],
                                 limits=Limits(**request["limits"]))
