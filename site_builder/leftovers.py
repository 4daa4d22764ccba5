"""What a killed run leaves behind, and how the next run recognises it.

Temporary files and folders carry the process id that made them (`.part-<pid>-…`,
`.public.staging-<pid>`). A run that was killed outright (SIGKILL, a lost CI runner) cannot
remove its own; the next run removes those whose process is gone, and never those of a run
still going (two builds may share a cache or an output folder).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path


def pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    except OverflowError:
        return False
    return True


def dead_leftovers(folder: Path, prefix: str) -> Iterator[tuple[Path, int]]:
    """Entries of `folder` named `<prefix><pid>` or `<prefix><pid>-…` whose process is gone."""
    pattern = re.compile(re.escape(prefix) + r"(\d+)(?:-.*)?", re.S)
    try:
        entries = list(folder.iterdir())
    except OSError:
        return
    for entry in entries:
        match = pattern.fullmatch(entry.name)
        if match is not None and not pid_alive(int(match[1])):
            yield entry, int(match[1])
