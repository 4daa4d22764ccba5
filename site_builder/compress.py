"""Precompressed copies (`X.gz`, `X.br`) of the site's text files, for GitLab Pages to serve.

Pages looks for `X.br` and `X.gz` beside `X` and sends the one the browser accepts, with
`Content-Encoding` set (GITLAB.md 6.4). Only text the site generates is compressed:
artifacts are served byte for byte as uploaded (a `.txt` artifact too), and `_redirects`
is read by Pages, never served. Output is deterministic (gzip without a timestamp).

Rebuilds redo only new work: with a `cache`, every compressed copy is kept under the SHA256
of the bytes it stands for (and the encoder's settings), so a page that did not change is
not compressed again. A cached copy is decompressed and compared before it is used: the
cache may be shared between pipelines, and a damaged entry is simply made again.

    precompress(Path("public"), skip={"download/v1.2.0/notes.txt"}, cache=Path(".cache/compressed"))
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import logging
import os
import posixpath
import tempfile
import threading
import time
import zlib
from collections.abc import Iterable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from html.parser import HTMLParser
from pathlib import Path

import brotli

from .output import PreviousOutput, write_new

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
CACHE_FORMAT = "1"  # part of every cache key: bump it when `encode` changes its output
CACHE_MAX_AGE = 14 * 24 * 3600  # entries no build used for this long are removed


@dataclass(frozen=True, slots=True)
class Compressed:
    """What `precompress` did: how many copies it wrote and the bytes they stand for."""

    files: int = 0
    original_bytes: int = 0
    written_bytes: int = 0
    reused: int = 0  # of `files`, how many came from the cache instead of the encoder


def is_text(site_path: str) -> bool:
    """Whether a site path names a text type worth compressing (by name alone)."""
    name = site_path.rpartition("/")[2]
    if name in NEVER:
        return False
    return name in TEXT_NAMES or name.lower().endswith(TEXT_SUFFIXES)


def encode(data: bytes, encoding: str, *, shared: bool = False) -> bytes:
    """Compress `data`; `shared` files (the assets every page loads) get the best ratio.

    Brotli quality 11 takes ~20 ms for a page and ~150-1,000 ms for one of Material's
    bundles; quality 5 is ten to a hundred times faster and within 10%, which keeps a
    1,000-page site fast to build. The few files every visitor downloads get quality 11;
    the rest (pages, search language packs few ever load) quality 5. Likewise gzip: level 9
    for those few, 6 (half the time, within 1% on a page) for the rest.
    """
    level = _level(data, encoding, shared=shared)
    if encoding == ".gz":
        return gzip.compress(data, compresslevel=level, mtime=0)
    packed: bytes = brotli.compress(data, quality=level)
    return packed


def _level(data: bytes, encoding: str, *, shared: bool) -> int:
    if encoding == ".gz":
        return 9 if shared else 6
    return 11 if shared and len(data) < 256 * 1024 else 5


def decode(packed: bytes, encoding: str) -> bytes:
    """The bytes `packed` stands for (raises ValueError or zlib/brotli errors if damaged)."""
    if encoding == ".gz":
        return gzip.decompress(packed)
    unpacked: bytes = brotli.decompress(packed)
    return unpacked


def stands_for(encoding: str, data: bytes, packed: bytes) -> bool:
    """Whether the `encoding` copy `packed` decodes to exactly `data` (False if damaged)."""
    try:
        return decode(packed, encoding) == data
    except (ValueError, EOFError, OSError, zlib.error, brotli.error):
        return False


class CompressedCache:
    """Compressed copies under `root/ab/abcdef….br`, named by what went into the encoder."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def path_for(self, data: bytes, encoding: str, *, shared: bool) -> Path:
        level = _level(data, encoding, shared=shared)
        digest = hashlib.sha256(data)
        digest.update(f"\0{CACHE_FORMAT}{encoding}{level}".encode())
        key = digest.hexdigest()
        return self.root / key[:2] / f"{key}{encoding}"

    def get(self, data: bytes, encoding: str, *, shared: bool) -> bytes | None:
        """The cached copy of `data`, if there is one and it decodes to exactly `data`."""
        path = self.path_for(data, encoding, shared=shared)
        try:
            packed = path.read_bytes()
        except OSError:
            return None
        if not stands_for(encoding, data, packed):
            log.warning("cached compressed copy %s is damaged; compressing again", path.name)
            path.unlink(missing_ok=True)
            return None
        with contextlib.suppress(OSError):
            os.utime(path)  # used: keep it past the next prune
        return packed

    def put(self, data: bytes, encoding: str, packed: bytes, *, shared: bool) -> None:
        """Keep `packed` for next time; a cache that cannot be written is only slower."""
        path = self.path_for(data, encoding, shared=shared)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".part-")
            with os.fdopen(fd, "wb") as out:
                out.write(packed)
            os.replace(tmp, path)
        except OSError as e:
            log.debug("cannot cache %s: %s", path, e)

    def prune(self, *, max_age: float = CACHE_MAX_AGE) -> int:
        """Remove entries no build used for `max_age` seconds; returns how many went."""
        cutoff = time.time() - max_age
        removed = 0
        for folder, _dirs, names in os.walk(self.root):
            for name in names:
                path = Path(folder, name)
                try:
                    if path.stat().st_mtime < cutoff:
                        path.unlink()
                        removed += 1
                except OSError:
                    continue
        return removed


def precompress(
    site_dir: Path, *, skip: Iterable[str] = (), cache: Path | None = None,
    made: Mapping[str, Copies] | None = None, previous: PreviousOutput | None = None,
) -> Compressed:
    """Write `X.gz` and `X.br` beside every text file `X` of `site_dir`, except `skip`.

    `skip` holds site paths (POSIX, relative) never to compress: the artifacts. An existing
    `X.gz` or `X.br` is left alone (MkDocs writes `sitemap.xml.gz` itself). With `cache`
    (a folder), copies of unchanged content are reused instead of compressed again. `made`
    holds the copies a `BackgroundCompressor` already wrote: they count as done if the file
    still holds the bytes they were made from (at the same level), else they are made again.
    With `previous` (the output this build replaces), a copy there that decodes to the same
    bytes is hard-linked instead of written (`PreviousOutput`).
    """
    skipped = set(skip)
    made = dict(made or {})
    shared = loaded_by_every_page(site_dir)
    earlier: list[tuple[int, int, int]] = []  # what `made` did, where it still stands
    jobs: list[tuple[Path, list[str]]] = []  # a file and the encodings it lacks
    for folder, _dirs, names in os.walk(site_dir):
        for name in names:
            path = Path(folder, name)
            site_path = path.relative_to(site_dir).as_posix()
            if site_path in skipped or not is_text(site_path):
                continue
            if (copies := made.pop(site_path, None)) is not None:
                if copies.shared == (site_path in shared) and copies.stands_for(path):
                    earlier.extend(copies.done)
                    continue
                copies.remove(path)  # a later plugin changed the file: compress it again
            jobs.append((path, []))
            for encoding in ENCODINGS:
                if site_path + encoding in skipped:
                    log.warning(
                        "%s%s is an artifact, so GitLab Pages will serve it as the %s "
                        "encoding of %s; rename one of them", site_path, encoding,
                        "gzip" if encoding == ".gz" else "brotli", site_path,
                    )
                elif not Path(f"{path}{encoding}").exists():
                    jobs[-1][1].append(encoding)
    for site_path, copies in made.items():  # files a later plugin removed
        copies.remove(site_dir / site_path)
    store = CompressedCache(cache) if cache is not None else None
    with ThreadPoolExecutor(max_workers=min(8, os.cpu_count() or 1)) as pool:
        results = pool.map(
            lambda job: _write(job[0], job[1], store, site_dir=site_dir, previous=previous,
                               shared=job[0].relative_to(site_dir).as_posix() in shared),
            [job for job in jobs if job[1]])
        done = earlier + [r for written in results for r in written]
    if store is not None:
        store.prune()
    return Compressed(
        files=len(done),
        original_bytes=sum(r[0] for r in done),
        written_bytes=sum(r[1] for r in done),
        reused=sum(r[2] for r in done),
    )


@dataclass(frozen=True, slots=True)
class Copies:
    """The copies a `BackgroundCompressor` wrote of one file, and what they were made from."""

    digest: bytes  # SHA256 of the bytes compressed
    done: tuple[tuple[int, int, int], ...] = ()  # (original, written, reused) per copy written
    encodings: tuple[str, ...] = ENCODINGS  # the copies it may have written
    shared: bool = False  # compressed as a file every page loads (`encode`)

    def stands_for(self, path: Path) -> bool:
        """Whether the file at `path` still holds the bytes the copies were made from."""
        try:
            return hashlib.sha256(path.read_bytes()).digest() == self.digest
        except OSError:
            return False

    def remove(self, path: Path) -> None:
        for encoding in self.encodings:
            Path(f"{path}{encoding}").unlink(missing_ok=True)


class BackgroundCompressor:
    """Compressed copies made in threads while MkDocs renders, for `precompress` to take.

    MkDocs hands each page's final HTML to `add` just before it writes the page; files already
    in the folder (assets, machine files) come through `add_file` once it is known which ones
    every page loads. The copies go beside each file through the same cache as `precompress`,
    which takes them as done (`made=finish()`) once it has checked that the file on disk is
    still what was compressed, and at the level it would choose: its bytes, always.

        early = BackgroundCompressor(site, cache=cache, avoid=artifact_paths)
        early.add("releases/index.html", html)   # as MkDocs writes it
        early.add_file("assets/app.js", shared=True)
        precompress(site, skip=artifact_paths, cache=cache, made=early.finish())
    """

    def __init__(self, site_dir: Path, *, cache: Path | None = None,
                 avoid: Iterable[str] = (), workers: int = 2,
                 previous: PreviousOutput | None = None) -> None:
        self.site_dir, self.previous = Path(site_dir), previous
        self._store = CompressedCache(cache) if cache is not None else None
        self._avoid = set(avoid)  # artifacts: `precompress` decides about files beside them
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="compress")
        self._jobs: dict[str, Future[Copies | None]] = {}
        self._twice: set[str] = set()
        self._lock = threading.Lock()  # pages come from MkDocs' thread, files from another

    def add(self, site_path: str, html: str) -> None:
        """Compress the page MkDocs is about to write at `site_path` (encoded as MkDocs does)."""
        if self._avoided(site_path):
            return
        with self._lock:
            if site_path in self._jobs:  # two pages, one file: the last one written wins
                self._twice.add(site_path)
            self._jobs[site_path] = self._pool.submit(self._compress_page, site_path, html)

    def add_file(self, site_path: str, *, shared: bool) -> None:
        """Compress a file written already, but for the copies it has (`sitemap.xml.gz`)."""
        if self._avoided(site_path):
            return
        with self._lock:
            if site_path not in self._jobs:
                self._jobs[site_path] = self._pool.submit(self._compress_file, site_path, shared)

    def _avoided(self, site_path: str) -> bool:
        return not is_text(site_path) or any(site_path + e in self._avoid
                                             for e in ("", *ENCODINGS))

    def _compress_page(self, site_path: str, html: str) -> Copies | None:
        data = html.encode("utf-8", errors="xmlcharrefreplace")
        if self.previous is not None and self.previous.holds(site_path, data):
            return None  # unchanged since the last build: `precompress` links its copies
        path = self.site_dir / site_path
        path.parent.mkdir(parents=True, exist_ok=True)
        return self._compress(path, data, ENCODINGS, shared=False)

    def _compress_file(self, site_path: str, shared: bool) -> Copies:
        path = self.site_dir / site_path
        lacking = tuple(e for e in ENCODINGS if not Path(f"{path}{e}").exists())
        return self._compress(path, path.read_bytes(), lacking, shared=shared)

    def _compress(self, path: Path, data: bytes, encodings: tuple[str, ...], *,
                  shared: bool) -> Copies:
        done = _copies(path, data, encodings, self._store, shared=shared)
        return Copies(hashlib.sha256(data).digest(), tuple(done), encodings, shared)

    def finish(self) -> dict[str, Copies]:
        """Every file's copies, once written; raises what a copy failed with."""
        self._pool.shutdown(wait=True)
        made = {site_path: copies for site_path, job in self._jobs.items()
                if (copies := job.result()) is not None}
        for site_path in self._twice:  # which copy was written last is unknown: make it again
            made[site_path] = Copies(b"")
        return made

    def cancel(self) -> None:
        """Drop what has not started and wait for what has (the folder is about to go)."""
        self._pool.shutdown(wait=True, cancel_futures=True)


# What a browser fetches for a page by itself; `alternate` links (the feed, the JSON index)
# are only named, and are fetched by feed readers and updaters, not by every visitor.
_LOADED_RELS = frozenset({"stylesheet", "icon", "apple-touch-icon", "preload", "modulepreload",
                          "manifest"})


class _Loads(HTMLParser):
    """The URLs of the scripts, stylesheets and icons a page loads."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "script" and found.get("src"):
            self.urls.append(found["src"] or "")
        elif (tag == "link" and found.get("href")
              and _LOADED_RELS & set((found.get("rel") or "").lower().split())):
            self.urls.append(found["href"] or "")


def loaded_by_every_page(site_dir: Path) -> set[str]:
    """Site paths of the scripts, stylesheets and icons the home page loads: every page does."""
    try:
        home = (site_dir / "index.html").read_text("utf-8", "replace")
    except OSError:
        return set()
    return loaded_by(home)


def loaded_by(home: str) -> set[str]:
    """`loaded_by_every_page` of the home page's HTML."""
    parser = _Loads()
    parser.feed(home)
    found = set()
    for url in parser.urls:
        url = url.split("?")[0].split("#")[0]
        if "//" in url or url.startswith(("/", "data:")):
            continue  # another host, or absolute: not a relative site file
        found.add(posixpath.normpath(url))
    return found


def _write(path: Path, encodings: list[str], store: CompressedCache | None, *, shared: bool,
           site_dir: Path, previous: PreviousOutput | None) -> list[tuple[int, int, int]]:
    """Each encoding's copy of one file (read once): (original, written, reused) per copy."""
    data = path.read_bytes()
    if previous is None:
        return _copies(path, data, encodings, store, shared=shared)
    linked = _link_copies(path.relative_to(site_dir).as_posix(), path, data, encodings, previous)
    encodings = [e for e in encodings if e not in linked]
    return [*linked.values(), *_copies(path, data, encodings, store, shared=shared)]


def _link_copies(site_path: str, path: Path, data: bytes, encodings: Iterable[str],
                 previous: PreviousOutput) -> dict[str, tuple[int, int, int]]:
    """The copies of `data` that the previous output holds, linked beside `path`."""
    linked: dict[str, tuple[int, int, int]] = {}
    if len(data) < MIN_SIZE:
        return linked
    for encoding in encodings:
        copy = Path(f"{path}{encoding}")
        if previous.link_if(site_path + encoding, copy, partial(stands_for, encoding, data)):
            linked[encoding] = (len(data), copy.stat().st_size, 1)
    return linked


def _copies(path: Path, data: bytes, encodings: Iterable[str], store: CompressedCache | None,
            *, shared: bool) -> list[tuple[int, int, int]]:
    """Write `path.gz`/`path.br` holding `data`, from the cache where it has them."""
    if len(data) < MIN_SIZE:
        return []
    done = []
    for encoding in encodings:
        packed = store.get(data, encoding, shared=shared) if store is not None else None
        reused = packed is not None
        if packed is None:
            packed = encode(data, encoding, shared=shared)
            if len(packed) > len(data) * MIN_RATIO:
                continue
            if store is not None:
                store.put(data, encoding, packed, shared=shared)
        write_new(Path(f"{path}{encoding}"), packed)
        done.append((len(data), len(packed), int(reused)))
    return done
