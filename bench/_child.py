"""The builder's side of `bench/perf.py`, run in a child so its time and memory are its own.

    python bench/_child.py list  API_URL PACKAGE             # prints seconds to list
    python bench/_child.py fetch API_URL PACKAGE CACHE_DIR   # prints seconds to download

The token comes from GITLAB_TOKEN, as in a real build. Only the phase itself is timed:
Python's start-up and imports are the same for every build and are measured in the build rows.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from site_builder.catalog import build_catalog
from site_builder.fetch import ArtifactCache, Fetcher
from site_builder.progress import download_progress
from site_builder.sources.gitlab import GitLabSource


def main(argv: list[str]) -> None:
    what, api_url, package = argv[:3]
    source = GitLabSource.from_env(api_url=api_url, project="42")
    try:
        start = time.perf_counter()
        rows = source.versions(package)
        listed = time.perf_counter() - start
        if what == "list":
            print(f"{listed:.4f}")
            return
        catalog = build_catalog(rows, package=package)
        start = time.perf_counter()
        with download_progress() as hook:  # as a build in CI reports it: a line now and then
            Fetcher(source, ArtifactCache(Path(argv[3])), on_chunk=hook).fetch(catalog)
        print(f"{time.perf_counter() - start:.4f}")
    finally:
        source.close()


if __name__ == "__main__":
    main(sys.argv[1:])
