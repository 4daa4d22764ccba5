"""What publishing artifacts as copies costs, against hard links and `cp`, in the same run.

    python bench/place.py                    # 200 files of 4 MiB (800 MiB) in a temp folder
    python bench/place.py --files 50 --mib 32

`fetch.place` copies every artifact out of the cache (never a hard link: a published file
must not share an inode with the cache, and must be 0644 whatever the cache's mode), with
`os.copy_file_range`, which shares blocks copy-on-write on filesystems with reflinks. The
baselines are what that replaced (`os.link`, close to free) and what a shell would do
(`cp`, one process for all files). Prints seconds and the ratios; the target is that the copy
costs no more than `cp` (ratio to cp <= 1.5) on the machine's temp filesystem.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from site_builder.fetch import place  # noqa: E402


def timed(label: str, sources: list[Path], out: Path, run: Callable[[list[Path], Path], None],
          repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        shutil.rmtree(out, ignore_errors=True)
        out.mkdir()
        os.sync()
        started = time.perf_counter()
        run(sources, out)
        best = min(best, time.perf_counter() - started)
    print(f"{label:<28} {best:8.3f} s")
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=200)
    parser.add_argument("--mib", type=int, default=4)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-place-") as tmp:
        cache, out = Path(tmp) / "cache", Path(tmp) / "out"
        cache.mkdir()
        sources = []
        for i in range(args.files):
            path = cache / f"{i:04d}"
            path.write_bytes(os.urandom(args.mib * 1024 * 1024))
            sources.append(path)
        print(f"{args.files} files x {args.mib} MiB, best of {args.repeat}, in {tmp}")
        link = timed("os.link (old, shared inode)", sources, out,
                     lambda src, dst: [os.link(p, dst / p.name) for p in src], args.repeat)
        cp = timed("cp (one process)", sources, out,
                   lambda src, dst: subprocess.run(["cp", *map(str, src), str(dst)], check=True),
                   args.repeat)
        copy = timed("fetch.place (copy, 0644)", sources, out,
                     lambda src, dst: [place(p, dst / p.name) for p in src], args.repeat)
    verdict = "PASS" if copy / cp <= 1.5 else "MISS"
    print(f"place / cp   = {copy / cp:6.2f}  (target <= 1.5: {verdict})")
    print(f"place / link = {copy / max(link, 1e-9):6.2f}  (the price of never sharing an inode)")


if __name__ == "__main__":
    main()
