"""Writing the site safely: nothing outside the output folder, and all-or-nothing.

A build writes into a staging folder beside the target and swaps it in only when the
whole site is written; a failed build removes the staging folder and leaves an existing
output folder exactly as it was.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping
from pathlib import Path

from .boundary import check_relative_path
from .errors import ConfigError, UnsafePathError


def join_within(root: Path, relative: str) -> Path:
    """`root/relative`, refusing any path that would resolve outside `root`."""
    check_relative_path(relative, what="output path")
    base = root.resolve()
    path = (base / relative).resolve()
    if path != base and base not in path.parents:
        raise UnsafePathError(f"refusing to write {relative!r}: it resolves outside {root}")
    return path


def write_files(root: Path, files: Mapping[str, bytes]) -> None:
    for relative, content in files.items():
        path = join_within(root, relative)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)


def check_target(target: Path) -> None:
    """Refuse an output that a build would destroy by mistake: a file, or a folder that holds
    something other than a built site (`--output ~/Documents` must not replace it)."""
    if target.is_symlink() or (target.exists() and not target.is_dir()):
        raise ConfigError(f"the output {target} is not a folder: pass --output DIR (a new, "
                          "empty or earlier output folder)")
    if target.is_dir() and any(target.iterdir()) and not (target / "index.html").is_file():
        raise ConfigError(
            f"the output folder {target} is not empty and holds no built site (no index.html): "
            "a build replaces the whole folder, so pass a new or empty folder, or empty it first"
        )


class StagedOutput:
    """A staging folder that replaces `target` on `commit()` and vanishes on `discard()`."""

    def __init__(self, target: Path) -> None:
        self.target = Path(target).absolute()
        self.staging = self.target.parent / f".{self.target.name}.staging-{os.getpid()}"
        self._retired = self.target.parent / f".{self.target.name}.old-{os.getpid()}"

    def prepare(self) -> Path:
        self.target.parent.mkdir(parents=True, exist_ok=True)
        shutil.rmtree(self.staging, ignore_errors=True)
        self.staging.mkdir()
        return self.staging

    def commit(self) -> None:
        """Swap the staging folder in; the old output is removed only after the swap."""
        shutil.rmtree(self._retired, ignore_errors=True)
        if self.target.exists():
            os.replace(self.target, self._retired)
        os.replace(self.staging, self.target)
        shutil.rmtree(self._retired, ignore_errors=True)

    def discard(self) -> None:
        shutil.rmtree(self.staging, ignore_errors=True)
