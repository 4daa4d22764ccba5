"""Does `publish` stream?  Uploads sparse files up to 2 GiB to the fake GitLab, watching memory.

The fake GitLab runs in a child process, so the peak RSS printed is the uploader's alone.
Each row: file size, peak RSS of this process after the upload (it only grows), the peak of
Python allocations during the upload (tracemalloc), seconds and throughput. Flat memory
means the RSS and tracemalloc columns stay the same while the size grows 32 times.

    python bench/upload_memory.py [--sizes 64,512,2048]   # MiB
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from site_builder.auth import credential_from_env  # noqa: E402
from site_builder.gitlab import GitLabClient  # noqa: E402
from site_builder.publish import LocalFile, Publisher  # noqa: E402

TOKEN = "glpat-bench-token"
SERVER = """
import sys
sys.path.insert(0, {tests!r})
from fake_gitlab import FakeGitLab
gitlab = FakeGitLab().start()
gitlab.add_token({token!r}, role="developer")
print(gitlab.api_url, flush=True)
sys.stdin.read()  # serve until the parent closes our stdin
gitlab.stop()
"""
MIB = 1024 * 1024


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def upload(client: GitLabClient, path: Path, size: int, version: str) -> tuple[float, int]:
    """Publish one file; return (seconds, tracemalloc peak in bytes)."""
    tracemalloc.start()
    start = time.perf_counter()
    try:
        [result] = Publisher(client, "Bench", version).publish([LocalFile(path.name, path, size)])
        seconds = time.perf_counter() - start
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert result.outcome == "uploaded", result
    return seconds, peak


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="64,512,2048", help="file sizes in MiB")
    sizes = [int(s) * MIB for s in parser.parse_args().sizes.split(",")]

    code = SERVER.format(tests=str(REPO / "tests"), token=TOKEN)
    server = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    try:
        assert server.stdout is not None
        api_url = server.stdout.readline().strip()
        credential = credential_from_env({"GITLAB_TOKEN": TOKEN})
        rows = [("file size", "peak RSS", "tracemalloc peak", "seconds", "MiB/s")]
        baseline = peak_rss_mib()
        with tempfile.TemporaryDirectory() as tmp, \
                GitLabClient(api_url, "42", credential, timeout=300.0) as client:
            for i, size in enumerate(sizes):
                path = Path(tmp) / f"bench-{size // MIB}MiB.bin"
                with path.open("wb") as handle:
                    handle.truncate(size)  # sparse: reads as zeros, costs no disk
                seconds, peak = upload(client, path, size, f"1.0.{i}")
                rows.append((f"{size // MIB} MiB", f"{peak_rss_mib():.0f} MiB",
                             f"{peak / MIB:.1f} MiB", f"{seconds:.1f}",
                             f"{size / MIB / seconds:.0f}"))
                path.unlink()
    finally:
        if server.stdin is not None:
            server.stdin.close()
        server.wait(timeout=30)
    print(f"uploader RSS before the first upload: {baseline:.0f} MiB")
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  ".join(cell.rjust(width) for cell, width in zip(row, widths, strict=True)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
