"""How fast is a big site?  Builds N versions (default 1,000) from a generated folder registry.

Prints a table: cold build (empty cache), warm rebuild (cache full), pages, files, site size
and peak memory of each run.  Targets: a 1,000-version site builds in under a minute on two
cores, and a warm rebuild downloads nothing.

    python bench/build_many.py [--versions 1000] [--files 3] [--keep 0]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def make_registry(root: Path, versions: int, files: int) -> None:
    for i in range(versions):
        version = f"v{i // 100}.{(i // 10) % 10}.{i % 10}"
        folder = root / "App" / version
        folder.mkdir(parents=True)
        for platform in ("windows-x64", "macos-arm64", "linux-x64")[:files]:
            (folder / f"App-{version}-{platform}.zip").write_bytes(os.urandom(2048))
        (folder / ".release.json").write_text(
            json.dumps({"released_at": f"2026-01-01T00:00:{i % 60:02d}Z"})
        )
        (folder / ".notes.md").write_text(f"## {version}\n\n- change {i}\n")


def build(project: Path, registry: Path, cache: Path, keep: int) -> tuple[float, int]:
    """Runs `site-builder build` in a child; returns (seconds, peak RSS in MiB)."""
    command = [sys.executable, "-m", "site_builder", "build", "-q", "--config",
               str(project / "mkdocs.yml"), "--from-dir", str(registry), "--package", "App",
               "--cache-dir", str(cache), "--output", str(project / "public")]
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    start = time.perf_counter()
    subprocess.run(command, check=True)
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return seconds, max(peak, before) // 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--versions", type=int, default=1000)
    parser.add_argument("--files", type=int, default=3)
    parser.add_argument("--keep", type=int, default=0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        make_registry(root / "registry", args.versions, args.files)
        project = root / "project"
        project.mkdir()
        shutil.copytree(REPO / "content", project / "content")
        shutil.copytree(REPO / "theme", project / "theme")
        config = (REPO / "mkdocs.yml").read_text().replace("package: VoiceInput", "package: App")
        if args.keep:
            config = config.replace("package: App", f"package: App\n      keep: {args.keep}")
        (project / "mkdocs.yml").write_text(config)
        rows = []
        for label in ("cold (empty cache)", "warm (cache full)"):
            seconds, rss = build(project, root / "registry", root / "cache", args.keep)
            site = project / "public"
            files = [p for p in site.rglob("*") if p.is_file()]
            rows.append((label, seconds, len(files), sum(p.stat().st_size for p in files), rss))
    print(f"{args.versions} versions x {args.files} files")
    print(f"{'run':<20} {'seconds':>8} {'files':>8} {'site MiB':>9} {'peak RSS MiB':>13}")
    for label, seconds, count, size, rss in rows:
        print(f"{label:<20} {seconds:>8.1f} {count:>8} {size / 2**20:>9.1f} {rss:>13}")


if __name__ == "__main__":
    main()
