"""The README's two opening commands are the ones that work, and the ones CI runs."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def readme_commands() -> list[str]:
    block = re.search(r"```sh\n(.*?)```", (REPO / "README.md").read_text(), re.S)
    assert block, "README.md must open with a ```sh block"
    return [line for line in block.group(1).splitlines() if line and not line.startswith("#")]


def test_readme_opens_with_install_and_run_then_tests() -> None:
    """Command 1 installs and builds the sample; command 2 installs and runs pytest."""
    first, second = readme_commands()[:2]
    assert "pip install" in first and "site-builder build --from-dir examples/registry" in first
    assert "pip install" in second and "pytest" in second


def test_ci_runs_the_readme_test_command() -> None:
    """`.ci/run` runs exactly the README's test command."""
    second = readme_commands()[1]
    assert second in (REPO / ".ci" / "run").read_text()


def test_readme_build_command_builds_the_sample(tmp_path: Path) -> None:
    """The `site-builder build` part of command 1, run in a copy of the repo, builds the site."""
    first = readme_commands()[0]
    build = next(part.strip() for part in first.split("&&") if "site-builder build" in part)
    work = tmp_path / "clone"
    work.mkdir()
    for name in ("mkdocs.yml", "content", "theme", "examples"):
        source = REPO / name
        (shutil.copytree if source.is_dir() else shutil.copy)(source, work / name)
    bin_dir = Path(sys.executable).parent
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
           "XDG_CACHE_HOME": str(tmp_path / "xdg-cache")}
    result = subprocess.run(build, shell=True, cwd=work, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    site = work / "public"
    latest = json.loads((site / "latest.json").read_text())
    assert latest["version"] == "v1.10.0"
    assert (site / "index.html").is_file()
    check = subprocess.run(["sha256sum", "-c", "SHA256SUMS"], cwd=site / "download" / "v1.10.0",
                           capture_output=True, text=True)
    assert check.returncode == 0, check.stdout
