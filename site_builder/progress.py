"""Download progress: live bars on a terminal, a plain line now and then in a CI log.

    with download_progress() as on_chunk:
        Fetcher(source, cache, on_chunk=on_chunk).fetch(catalog)

The hook is called from the fetcher's worker threads with each chunk's length. Nothing is
shown until the first byte arrives, so a warm cache (or a test) sees no progress output.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO

from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TaskID,
    TextColumn,
    TransferSpeedColumn,
)

from .catalog import Artifact
from .fetch import ProgressHook

log = logging.getLogger("mkdocs.plugins.downloads")

PLAIN_INTERVAL = 10.0  # seconds between lines in a log; CI logs need a sign of life, not noise


@contextmanager
def download_progress(
    stream: TextIO | None = None, *, interval: float = PLAIN_INTERVAL, verb: str = "downloading"
) -> Iterator[ProgressHook]:
    """A progress hook for `Fetcher` (or uploads): rich bars when `stream` is a terminal."""
    stream = sys.stderr if stream is None else stream
    isatty = getattr(stream, "isatty", None)
    reporter: _Bars | _Lines = _Bars(stream) if isatty and isatty() else _Lines(interval, verb)
    try:
        yield reporter.on_chunk
    finally:
        reporter.close()


def _megabytes(size: int) -> str:
    return f"{size / 1024**2:.1f} MB"


class _Bars:
    """One transient rich bar per file, started lazily on the first chunk."""

    def __init__(self, stream: TextIO) -> None:
        self.progress = Progress(
            TextColumn("{task.description}"), BarColumn(), DownloadColumn(),
            TransferSpeedColumn(), console=Console(file=stream), transient=True,
        )
        self.tasks: dict[str, TaskID] = {}
        self.lock = threading.Lock()
        self.started = False

    def on_chunk(self, artifact: Artifact, size: int) -> None:
        with self.lock:
            if not self.started:
                self.progress.start()
                self.started = True
            task = self.tasks.get(artifact.sha256)
            if task is None:
                task = self.progress.add_task(artifact.name, total=artifact.size)
                self.tasks[artifact.sha256] = task
        self.progress.advance(task, size)

    def close(self) -> None:
        if self.started:
            self.progress.stop()


class _Lines:
    """Plain log lines: each finished file at debug level, a running total every `interval`."""

    def __init__(self, interval: float, verb: str = "downloading") -> None:
        self.interval = interval
        self.verb = verb
        self.received: dict[str, int] = {}
        self.total = 0
        self.lock = threading.Lock()
        self.next_line = time.monotonic() + interval

    def on_chunk(self, artifact: Artifact, size: int) -> None:
        with self.lock:
            done = self.received.get(artifact.sha256, 0) + size
            self.received[artifact.sha256] = done
            self.total += size
            now = time.monotonic()
            due = now >= self.next_line
            if due:
                self.next_line = now + self.interval
            files, total = len(self.received), self.total
        if done == artifact.size:
            done_verb = self.verb.removesuffix("ing") + "ed"  # downloaded, uploaded
            log.debug("%s %s (%s)", done_verb, artifact.name, _megabytes(artifact.size))
        if due:
            log.info("%s: %s so far, %d file(s) started", self.verb, _megabytes(total), files)

    def close(self) -> None:
        pass
