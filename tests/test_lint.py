"""The style checks STYLE.md asks of the test command: ruff over the tree, mypy over the package."""

from __future__ import annotations

import subprocess
import sys

from sample_site import REPO


def _run(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", *command], cwd=REPO, capture_output=True, text=True, timeout=300
    )


def test_ruff_finds_nothing() -> None:
    """`ruff check .` passes on every Python file of the repository."""
    result = _run("ruff", "check", ".", "--output-format", "concise")
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_finds_nothing() -> None:
    """`mypy` (configured in pyproject.toml) passes on the package."""
    result = _run("mypy")
    assert result.returncode == 0, result.stdout + result.stderr
