"""Collapsible sections in a GitLab CI job log, so a long build reads as fetch / render / write.

GitLab folds the lines between two markers written to the job log; anywhere else the
markers would be noise, so they are written only when `GITLAB_CI` is set:

    with Section("fetch", "Reading the registry and verifying artifacts"):
        prepared = pipeline.prepare(settings)

A section that spans several MkDocs events calls `open()` and `close()` instead.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Mapping

_ESC = "\x1b[0K"


def in_gitlab_ci(env: Mapping[str, str] | None = None) -> bool:
    value = (os.environ if env is None else env).get("GITLAB_CI", "")
    return value.strip().lower() not in ("", "0", "false", "no")


class Section:
    """One named section of the job log; opening or closing twice writes nothing more.

    Used as a context manager it is closed on failure too, so the error line the CLI prints
    next stays outside the fold, visible.
    """

    def __init__(self, name: str, header: str, *, collapsed: bool = True) -> None:
        self.name = name
        self.header = header
        self.collapsed = collapsed
        self._opened = False

    def open(self) -> None:
        if self._opened or not in_gitlab_ci():
            return
        self._opened = True
        option = "[collapsed=true]" if self.collapsed else ""
        _write(f"{_ESC}section_start:{int(time.time())}:{self.name}{option}\r{_ESC}{self.header}")

    def close(self) -> None:
        if not self._opened:
            return
        self._opened = False
        _write(f"{_ESC}section_end:{int(time.time())}:{self.name}\r{_ESC}")

    def __enter__(self) -> Section:
        self.open()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def _write(line: str) -> None:
    # sys.stderr looked up at each call: the CLI's log handler and tests may swap it.
    sys.stderr.write(line + "\n")
    sys.stderr.flush()
