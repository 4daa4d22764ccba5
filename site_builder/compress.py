"""Precompressed copies (`X.gz`, `X.br`) of the site's text files, for GitLab Pages to serve.

Pages looks for `X.br` and `X.gz` beside `X` and sends the one the browser accepts, with
`Content-Encoding` set (GITLAB.md 6.4). Only text the site generates is compressed:
artifacts are served byte for byte as uploaded (a `.txt` artifact too), and `_redirects`
is read by Pages, never served. Output is deterministic (gzip without a timestamp).

    precompress(Path("public"), skip={"download/v1.2.0/notes.txt"})
"""

from __future__ import annotations

import gzip
import logging
import os
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import brotli

log = logging.getLogger("mkdocs.plugins.downloads")

TEXT_SUFFIXES = (
    ".html", ".css", ".js", ".mjs", ".json", ".xml", ".txt", ".svg", ".webmanifest",
    ".sha256",
)
TEXT_NAMES = ("SHA256SUMS",)
NEVER = ("_redirects",)
ENCODINGS = (".gz", ".br")
# Below this a compressed copy saves less than a packet and costs a file entry
# (Pages allows 200,000 per site); above, it must save at least a tenth.
MIN_SIZE = 512
MIN_RATIO = 0.9


@dataclass(frozen=True, slots=True)
class Compressed:
    """What `precompress` did: how many copies it wrote and the bytes they stand for."""

    files: int = 0
    original_bytes: int = 0
    written_bytes: int = 0


def is_text(site_path: str) -> bool:
    """Whether a site path names a text type worth compressing (by name alone)."""
    name = site_path.rpartition("/")[2]
    if name in NEVER:
        return False
    return name in TEXT_NAMES or name.lower().endswith(TEXT_SUFFIXES)


def encode(data: bytes, encoding: str, *, shared: bool = False) -> bytes:
    """Compress `data`; `shared` files (theme assets every page loads) get the best ratio.

    Brotli quality 11 takes ~20 ms for a page and ~150 ms for Material's bundle; quality 5
    is ten times faster and within 10%, which keeps a 1,000-page site fast to build.
    """
    if encoding == ".gz":
        return gzip.compress(data, compresslevel=9, mtime=0)
    quality = 11 if shared and len(data) < 256 * 1024 else 5
    packed: bytes = brotli.compress(data, quality=quality)
    return packed


def precompress(site_dir: Path, *, skip: Iterable[str] = ()) -> Compressed:
    """Write `X.gz` and `X.br` beside every text file `X` of `site_dir`, except `skip`.

    `skip` holds site paths (POSIX, relative) never to compress: the artifacts. An existing
    `X.gz` or `X.br` is left alone (MkDocs writes `sitemap.xml.gz` itself).
    """
    skipped = set(skip)
    jobs: list[tuple[Path, str]] = []
    for folder, _dirs, names in os.walk(site_dir):
        for name in names:
            path = Path(folder, name)
            site_path = path.relative_to(site_dir).as_posix()
            if site_path in skipped or not is_text(site_path):
                continue
            for encoding in ENCODINGS:
                if site_path + encoding in skipped:
                    log.warning(
                        "%s%s is an artifact, so GitLab Pages will serve it as the %s "
                        "encoding of %s; rename one of them", site_path, encoding,
                        "gzip" if encoding == ".gz" else "brotli", site_path,
                    )
                elif not Path(f"{path}{encoding}").exists():
                    jobs.append((path, encoding))
    with ThreadPoolExecutor(max_workers=min(8, os.cpu_count() or 1)) as pool:
        results = list(pool.map(lambda job: _write(*job), jobs))
    done = [r for r in results if r is not None]
    return Compressed(
        files=len(done),
        original_bytes=sum(r[0] for r in done),
        written_bytes=sum(r[1] for r in done),
    )


def _write(path: Path, encoding: str) -> tuple[int, int] | None:
    data = path.read_bytes()
    if len(data) < MIN_SIZE:
        return None
    packed = encode(data, encoding, shared="/assets/" in path.as_posix())
    if len(packed) > len(data) * MIN_RATIO:
        return None
    Path(f"{path}{encoding}").write_bytes(packed)
    return len(data), len(packed)
