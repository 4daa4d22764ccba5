"""The build, engine-agnostic: source → catalogue → verified cache → site files.

`prepare` does all the network and checking work and writes nothing to the site;
`write_site` puts artifacts and machine files into a (staging) folder. The MkDocs plugin
calls one before rendering and the other after it, through a `SiteWriter` that does most
of the writing while MkDocs renders.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from .bounds import cancelled
from .budget import check_budget
from .catalog import Catalog, build_catalog
from .compress import BackgroundCompressor, Compressed, is_text, loaded_by, precompress
from .errors import Interrupted
from .fetch import ArtifactCache, Fetcher, ProgressHook, place
from .fetch_child import CHILD_MIN, ChildDownloads
from .fetch_child import request as child_request
from .layout import SiteLayout
from .output import PreviousOutput, SiteFolder, world_readable, write_files, write_new
from .progress import download_progress
from .render.links import redirect_rules
from .render.machine import machine_files_but_redirects
from .settings import Settings
from .signing import PUBLIC_KEY_NAME, PublicKey, refuse_oversized, signed_catalog
from .sources import Source, source_for
from .sources.relist import ChildListing
from .sources.relist import request as relist_request
from .sources.snapshot import Speculative, snapshot_path
from .targets import Item, Target, target_for
from .timing import Stopwatch

log = logging.getLogger("mkdocs.plugins.downloads")
T = TypeVar("T")
R = TypeVar("R")
WRITERS = 3  # threads that write the site's files while MkDocs renders (`SiteWriter`)


@dataclass(frozen=True, slots=True)
class PreparedSite:
    """A catalogue whose hosted artifacts all sit verified in the cache, or soon will:
    `artifacts()` waits for downloads still running in the background."""

    catalog: Catalog
    layout: SiteLayout
    cached: dict[str, Path]  # SHA256 → cache file (the signing files, at least)
    target: Target
    needed: tuple[Item, ...] = ()  # what the target still needs in the site folder
    compressed_cache: Path | None = None  # where `.gz`/`.br` copies are kept between builds
    legacy_links: bool = True
    public_key: PublicKey | None = None  # the key every release's signature was checked with
    downloads: Downloads | ChildDownloads | None = None  # the artifacts `needed`, being fetched

    def artifacts(self) -> dict[str, Path]:
        """Every cache file the site needs: waits for the downloads, raises what they raised."""
        if self.downloads is None:
            return self.cached
        return {**self.cached, **self.downloads.result()}

    def stop(self) -> None:
        """Stop downloads still running (the build failed or was stopped) and wait for them."""
        if self.downloads is not None:
            self.downloads.cancel()


class Downloads:
    """`fetcher.fetch_pairs(items)` in a thread, while MkDocs renders the pages.

    Rendering needs only the listing; the bytes are needed when the site folder is filled,
    and a cold build of small files spends as long downloading as MkDocs does rendering.
    """

    def __init__(self, fetcher: Fetcher, items: Sequence[Item], *,
                 progress: Callable[[], AbstractContextManager[ProgressHook | None]],
                 stopwatch: Stopwatch | None = None) -> None:
        self._stop = threading.Event()
        fetcher.stop = self._stop
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="downloads")
        self._done = self._pool.submit(self._fetch, fetcher, items, progress, stopwatch)

    def _fetch(self, fetcher: Fetcher, items: Sequence[Item],
               progress: Callable[[], AbstractContextManager[ProgressHook | None]],
               stopwatch: Stopwatch | None) -> dict[str, Path]:
        started = time.perf_counter()
        with progress() as hook:
            fetcher.on_chunk = hook
            found = fetcher.fetch_pairs(items)
        if stopwatch is not None:
            stopwatch.background["fetch"] = time.perf_counter() - started
        return found

    def result(self) -> dict[str, Path]:
        return self._done.result()

    def cancel(self) -> None:
        self._stop.set()
        self._pool.shutdown(wait=True, cancel_futures=True)


def open_source(settings: Settings, *, guess: bool = False, known: bytes | None = None) -> Source:
    """The registry to build from. GitLab's listing is kept in the cache after each build;
    with `guess`, `versions()` answers from the kept one while GitLab is listed again, and
    the caller must `confirm()` before it publishes (sources/snapshot.py). `known`: GitLab's
    listing as an attempt that guessed wrong read it, used instead of asking again.

    No guessing with storage: `prepare` uploads to the bucket, which must never happen for a
    listing GitLab has not confirmed.
    """
    source = source_for(settings)
    if settings.from_dir is not None:  # a folder lists in an instant
        return source
    api_url, project = settings.require_gitlab()
    path = snapshot_path(settings.cache_dir, api_url, project, settings.require_package())
    return Speculative(source, path, guess=guess and settings.storage is None,
                       relist=lambda _package: ChildListing(relist_request(settings)),
                       known=known)


def prepare(
    settings: Settings,
    *,
    source: Source | None = None,
    on_chunk: ProgressHook | None = None,
    stopwatch: Stopwatch | None = None,
    preview: bool = False,
    background: bool = False,
) -> PreparedSite:
    """Read the source, check the catalogue, bring into the cache what the target lacks and
    deliver it (a bucket gets its uploads here; a preview writes nowhere).

    With `background`, artifacts that travel with the site folder (no storage) are fetched in
    a thread: the caller keeps `source` open until `artifacts()` returned, or calls `stop()`.
    """
    package = settings.require_package()
    if source is None:  # a source made here is closed here: GitLab's holds open connections
        made = source_for(settings)
        try:
            return prepare(settings, source=made, on_chunk=on_chunk, stopwatch=stopwatch,
                           preview=preview)
        finally:
            getattr(made, "close", lambda: None)()
    layout = settings.layout
    if not layout.site_url:
        log.warning(
            "no site URL: index.json and latest.json carry site paths but no `url`, the feed "
            "links relative, no sitemap.xml is written, and _redirects holds only rules "
            "without a path prefix (right on a custom or unique domain; for "
            "<group>.<pages-domain>/<project>/ pass --site-url or build in GitLab CI)"
        )
    keep = settings.keep
    if keep is not None and settings.storage is not None:
        log.warning("keep: %d is ignored: with storage every version's files stay in %s",
                    keep, settings.storage.describe())
        keep = None
    with _phase(stopwatch, "registry"):
        catalog = build_catalog(
            source.versions(package),
            package=package,
            prereleases=settings.prereleases,
            keep=keep,
        )
    for warning in catalog.warnings:
        log.warning(warning)
    if not catalog.releases:
        log.warning("%s has no published version of %r yet", source.describe(), package)
    target = target_for(settings, preview=preview)
    # before a byte is fetched; artifacts in storage do not count against Pages' limit
    check_budget(catalog, max_bytes=settings.max_site_size,
                 artifacts_on_pages=settings.storage is None)
    refuse_oversized(catalog)
    with _phase(stopwatch, "fetch"):  # (a bucket's uploads are timed with the downloads)
        with download_progress() if on_chunk is None else nullcontext(on_chunk) as hook:
            fetcher = Fetcher(source, ArtifactCache(settings.cache_dir), on_chunk=hook,
                              workers=settings.api_concurrency)
            # Signatures first: a version that fails them fails before its big files download.
            signing_files = fetcher.fetch_pairs(catalog.signing_artifacts())
            catalog = signed_catalog(
                catalog, lambda a: signing_files[a.sha256.lower()].read_bytes(),
                public_key=settings.public_key, require=settings.require_signatures,
            )
            needed = target.plan(catalog)  # what the target lacks: all, on Pages
            downloads: Downloads | ChildDownloads | None = None
            if (background and settings.storage is None and settings.from_dir is None
                    and _lacking(fetcher.cache, needed) >= CHILD_MIN):  # (a folder copies fast)
                downloads = ChildDownloads(child_request(settings, needed), stopwatch=stopwatch)
                cached = signing_files
            elif background and settings.storage is None:  # nothing to upload first
                downloads = Downloads(
                    Fetcher(source, ArtifactCache(settings.cache_dir),
                            workers=settings.api_concurrency),
                    needed, stopwatch=stopwatch,
                    progress=download_progress if on_chunk is None
                    else lambda: nullcontext(on_chunk))
                cached = signing_files
            else:
                cached = {**signing_files, **fetcher.fetch_pairs(needed)}
        with download_progress(verb="uploading") if on_chunk is None else nullcontext() as up:
            target.deliver(needed, cached, on_chunk=up)
    return PreparedSite(catalog=catalog, layout=layout, cached=cached, target=target,
                        needed=tuple(needed), compressed_cache=settings.cache_dir / "compressed",
                        legacy_links=settings.legacy_links,
                        public_key=settings.public_key, downloads=downloads)


def _lacking(cache: ArtifactCache, items: Sequence[Item]) -> int:
    """How many of `items` the cache has no file for: what a build will download (a file
    there is still hashed before it is trusted, by whoever fetches)."""
    return sum(not cache.path_for(artifact.sha256).exists() for _, artifact in items)


def _phase(stopwatch: Stopwatch | None, name: str) -> AbstractContextManager[None]:
    return stopwatch.phase(name) if stopwatch is not None else nullcontext()


class SiteWriter:
    """The writing of one site, begun while MkDocs renders and finished after it.

        writer = SiteWriter(prepared, site_dir)  # once MkDocs has emptied site_dir
        writer.page_written(site_path, html)     # each page, as MkDocs is about to write it
        compressed = writer.finish()             # after MkDocs: the rest, once all is written
        writer.cancel()                          # instead, when the build failed or stopped

    MkDocs renders on one core, and creating a file here costs more than rendering a page
    does. So while it renders, a thread (spreading the files over `WRITERS`) writes the
    machine files (all but `_redirects`, which depends on every other file of the site) and
    places the artifacts (once downloaded, if `prepare` left that to the background), and two
    make the compressed copies: of the pages as they come, and, once the home page has said which
    files every page loads (those get the best ratio), of the files already written (MkDocs
    copies the theme's before the first page). `finish` raises what they failed with, puts
    back any machine file a later plugin wrote over (ours win, as when all came after MkDocs),
    then writes what depends on the whole site.

    With `previous` (the output this build replaces), only the folders and the copies of pages
    that changed are made early (new files, safe to write at once). In `finish`, once MkDocs
    and every other plugin are done, each file and compressed copy that did not change is
    hard-linked from it (`PreviousOutput`) and only the rest is written: a rebuild changes
    few files, and a link is much cheaper than a new file.
    """

    def __init__(self, prepared: PreparedSite, site_dir: Path, *,
                 previous: PreviousOutput | None = None) -> None:
        self.prepared, self.site_dir, self.previous = prepared, site_dir, previous
        self._artifacts = {prepared.layout.artifact_path(r.version, a.name)
                           for r, a in prepared.needed}
        self.copies = BackgroundCompressor(site_dir, cache=prepared.compressed_cache,
                                           avoid=self._artifacts, previous=previous)
        self._stop = threading.Event()
        self._home = threading.Event()  # the home page is written, or it never will be
        self._loaded: set[str] | None = None  # what the home page loads
        self._machine = machine_files_but_redirects(prepared.catalog, prepared.layout)
        self._signing = _signing_files(prepared)
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="site-writer")
        # With `previous`, `finish` starts it (nothing may be linked while others still write);
        # until then only the folders are made, which are many (one per version) and slow.
        self._early = (self._worker.submit(self._make_folders) if previous is not None
                       else self._worker.submit(self._write_early))

    def page_written(self, site_path: str, html: str) -> None:
        self.copies.add(site_path, html)  # (with `previous`, only a page that changed)
        if site_path == "index.html" and not self._home.is_set() and self.previous is None:
            self._loaded = loaded_by(html)
            self._home.set()
            self._compress_written()

    def _compress_written(self) -> None:
        """Hand the files already in the folder to the copies: the theme's, which MkDocs
        copies before the first page (in a cold build, brotli 11 of its bundles takes a
        second). What the writer's thread writes, it hands over itself."""
        assert self._loaded is not None
        ours = self._machine.keys() | self._signing.keys()
        for folder, _dirs, names in os.walk(self.site_dir):
            for name in names:
                site_path = Path(folder, name).relative_to(self.site_dir).as_posix()
                if is_text(site_path) and site_path not in ours:  # (pages are there already)
                    self.copies.add_file(site_path, shared=site_path in self._loaded)

    def _write_early(self) -> _Early:
        """The machine files, then (once downloaded) the artifacts and the registry's signing
        files. Where two meet at one path, the one that always came last still wins."""
        prepared, site = self.prepared, SiteFolder(self.site_dir)
        machine, signing = self._machine, self._signing
        placed = self._artifacts | signing.keys()
        self._spread(self._write_files, [(p, c) for p, c in machine.items() if p not in placed])
        cached = prepared.artifacts()
        artifacts = [path for paths in self._spread(
            lambda part: prepared.target.place(self._until_stopped(part), cached, self.site_dir,
                                               previous=self.previous),
            list(prepared.needed)) for path in paths]
        for path, cached_file in self._until_stopped(signing.items()):
            if not self._linked(path, site.path(path), cached_file.read_bytes()):
                place(cached_file, site.path(path))
        for path in self._until_stopped(placed & machine.keys()):
            write_new(site.path(path), machine[path])
        self._compress_own()
        return _Early(artifacts, machine)

    def _make_folders(self) -> _Early:
        site = SiteFolder(self.site_dir)
        for path in self._until_stopped(self._machine.keys() | self._artifacts):
            site.folder(path)
        return _Early([], {})

    def _spread(self, work: Callable[[list[T]], R], items: list[T]) -> list[R]:
        """`work` over `WRITERS` parts of `items` at once. While MkDocs holds the interpreter,
        a thread between two file system calls waits its turn for it: one thread alone
        writes ~800 files in the time MkDocs renders 400 pages, three in two thirds of it.
        After MkDocs (with `previous`) nothing else wants it, and the threads would only
        queue for it behind each other: one links ~800 files in half the time three take."""
        parts = WRITERS if self.previous is None else 1
        if parts == 1:
            return [work(items)]
        with ThreadPoolExecutor(parts, thread_name_prefix="site-writer") as pool:
            return list(pool.map(work, [items[i::parts] for i in range(parts)]))

    def _write_files(self, files: list[tuple[str, bytes]]) -> None:
        site = SiteFolder(self.site_dir)
        for path, content in self._until_stopped(files):
            if not self._linked(path, destination := site.path(path), content):
                write_new(destination, content)

    def _linked(self, site_path: str, destination: Path, content: bytes) -> bool:
        """Whether the previous output's file at `site_path` held `content` and is linked."""
        return self.previous is not None and self.previous.link_if(
            site_path, destination, lambda old: old == content)

    def _compress_own(self) -> None:
        """Once the home page has said which files every page loads, hand what this thread
        wrote (but the artifacts) to the copies."""
        while not self._home.wait(0.05):
            next(self._until_stopped([None]))
        if self._loaded is None:
            return  # no home page before the end: `precompress` does it all
        for site_path in self._until_stopped(self._machine.keys() | self._signing.keys()):
            self.copies.add_file(site_path, shared=site_path in self._loaded)

    def _until_stopped(self, items: Iterable[T]) -> Iterator[T]:
        for item in items:
            if self._stop.is_set() or cancelled():
                raise Interrupted()
            yield item

    def finish(self) -> Compressed:
        """Wait for the work in flight, then write the rest: `_redirects`, the public key, and
        compressed copies of every text file not copied yet."""
        self._home.set()  # (a site without a home page: the early copies need not wait for it)
        try:
            if self.previous is not None:
                self._early.result()  # the folders
                self._early = self._worker.submit(self._write_early)
            early = self._early.result()
            made = self.copies.finish()
        except BaseException:
            self.cancel()
            raise
        self._worker.shutdown()
        prepared, site_dir, layout = self.prepared, self.site_dir, self.prepared.layout
        site = SiteFolder(site_dir)
        if self.previous is None:  # (else they were written just now, after every plugin)
            for path, content in early.machine.items():
                if _content(site_dir / path) != content:  # another plugin wrote there after us
                    write_new(site.path(path), content)
        ours = {f"{path}{encoding}" for path, copies in made.items()
                for encoding in copies.encodings}  # (not there when the rules were first made)
        existing = frozenset(Path(folder, name).relative_to(site_dir).as_posix()
                             for folder, _dirs, names in os.walk(site_dir)
                             for name in names) - ours
        write_files(site, {"_redirects": redirect_rules(
            prepared.catalog, layout, legacy=prepared.legacy_links, taken=existing)})
        if prepared.public_key is not None:
            write_files(site, {PUBLIC_KEY_NAME: prepared.public_key.file_bytes()})
        if not layout.site_url:
            # MkDocs writes `<urlset/>` without a site URL: invalid against the sitemap schema,
            # which wants at least one absolute <loc>. No sitemap is better than a broken one.
            for name in ("sitemap.xml", "sitemap.xml.gz"):
                (site_dir / name).unlink(missing_ok=True)
        compressed = precompress(site_dir, skip=early.artifacts, cache=prepared.compressed_cache,
                                 made=made, previous=self.previous)
        world_readable(site_dir)
        return compressed

    def cancel(self) -> None:
        """Stop and wait for the work in flight, so nothing writes into a folder being removed."""
        self._stop.set()
        self.prepared.stop()  # the writer's thread may be waiting for the downloads
        self._worker.shutdown(wait=True, cancel_futures=True)
        self.copies.cancel()


@dataclass(frozen=True, slots=True)
class _Early:
    """What `SiteWriter` wrote while MkDocs rendered."""

    artifacts: list[str]  # site paths
    machine: dict[str, bytes]  # every machine file but `_redirects`


def _signing_files(prepared: PreparedSite) -> dict[str, Path]:
    """The registry's own SHA256SUMS and signature of each hosted release, to publish byte for
    byte: site path → cache file."""
    layout, found = prepared.layout, {}
    for release in prepared.catalog.releases:
        from_registry = {layout.sums_path(release.version): release.sums,
                         layout.signature_path(release.version): release.signature}
        for path, signing_file in from_registry.items():
            if release.hosted and signing_file is not None:
                found[path] = prepared.cached[signing_file.sha256.lower()]
    return found


def _content(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except OSError:
        return None


def write_site(prepared: PreparedSite, site_dir: Path, *,
               previous: PreviousOutput | None = None) -> Compressed:
    """Artifacts (byte for byte from the cache), every machine-readable file, and `.gz`/`.br`
    copies of all text in `site_dir`, at once (so call it once the pages are written)."""
    return SiteWriter(prepared, site_dir, previous=previous).finish()
