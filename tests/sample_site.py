"""Build the repository's sample (examples/registry) once, for test modules that only read it."""

from __future__ import annotations

import shutil
from pathlib import Path

from site_builder.cli import main

REPO = Path(__file__).resolve().parent.parent


def build_sample(work: Path, *, site_url: str, registry: Path | None = None) -> Path:
    """Copy the site project into `work`, build it for `site_url`; returns the output folder.

    `site_url` is always given: a module-scoped build runs before the fixture that clears
    CI variables, so $CI_PAGES_URL must not decide it.
    """
    shutil.copy(REPO / "mkdocs.yml", work / "mkdocs.yml")
    shutil.copytree(REPO / "content", work / "content")
    shutil.copytree(REPO / "theme", work / "theme")
    output = work / "public"
    code = main([
        "build", "--config", str(work / "mkdocs.yml"),
        "--from-dir", str(registry or REPO / "examples" / "registry"), "--output", str(output),
        "--cache-dir", str(work / "cache"), "--site-url", site_url,
    ])
    assert code == 0, "the sample site did not build"
    return output
