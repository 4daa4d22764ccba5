"""The MkDocs plugin `downloads`: the thin glue between MkDocs events and the pipeline.

    on_config       resolve settings, read the source, verify every artifact into the cache,
                    and point MkDocs at a staging folder (nothing is written yet)
    on_files        add the generated pages (landing, releases, one per version); start
                    writing artifacts and machine files into the (now emptied) site folder
    on_page_content give each generated page its body
    on_post_page    hand each page's final HTML to the site writer (compressed copies)
    on_post_build   finish the site (_redirects, what is left to compress), then swap it in
    on_build_error  throw the staging folder away: the old output stays as it was
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from mkdocs.config import config_options as c
from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError
from mkdocs.plugins import BasePlugin, event_priority
from mkdocs.structure.files import File, Files, InclusionLevel
from mkdocs.structure.pages import Page
from mkdocs.utils import CountHandler

from . import ci_log, pipeline
from .errors import SiteBuilderError
from .layout import DEFAULT_DOWNLOAD_PATH
from .options import StrictConfig
from .output import StagedOutput, check_target
from .render.pages import (
    GUIDES,
    LANDING,
    RELEASES,
    SCRIPT,
    STYLESHEET,
    PageRenderer,
    page_assets,
    page_sources,
)
from .settings import DEFAULT_API_CONCURRENCY, DEFAULT_MAX_SITE_SIZE, Settings, resolve
from .signing import PUBLIC_KEY_NAME
from .sources import Source
from .sources.snapshot import Speculative
from .timing import Stopwatch

log = logging.getLogger("mkdocs.plugins.downloads")

# Site paths the plugin writes; a hand-written page there would shadow or be shadowed.
RESERVED = ("latest.json", "latest.txt", "index.json", "feed.xml", "_redirects", "latest/",
            "minisign.pub")


class DownloadsConfig(StrictConfig):  # an unknown option is an error naming the close one
    enabled = c.Type(bool, default=True)
    package = c.Type(str, default="")
    project = c.Optional(c.Type((str, int)))
    api_url = c.Optional(c.Type(str))
    from_dir = c.Optional(c.Type(str))
    download_path = c.Type(str, default=DEFAULT_DOWNLOAD_PATH)
    keep = c.Optional(c.Type(int))
    prereleases = c.Type(bool, default=True)
    cache_dir = c.Optional(c.Type(str))
    description = c.Type(str, default="")
    product = c.Type(str, default="")  # the name pages show; the package name when empty
    max_site_size = c.Type((int, str), default=DEFAULT_MAX_SITE_SIZE)  # or "100MB", "1GiB"
    strapi = c.Type(dict, default={})
    api_concurrency = c.Type(int, default=DEFAULT_API_CONCURRENCY)  # see settings.py
    legacy_links = c.Type(bool, default=True)
    public_key = c.Optional(c.Type(str))  # minisign public key: verify every release with it
    require_signatures = c.Optional(c.Type(bool))  # default: true when public_key is set
    # bounds of every request (settings.LIMIT_OPTIONS, README "Robustness")
    request_deadline = c.Optional(c.Type((int, float)))
    max_response_size = c.Optional(c.Type((int, str)))
    min_download_rate = c.Optional(c.Type((int, str)))
    download_rate_window = c.Optional(c.Type((int, float)))
    max_pages = c.Optional(c.Type(int))
    storage = c.Type(dict, default={})  # artifacts in an S3-compatible bucket (targets/config.py)


class DownloadsPlugin(BasePlugin[DownloadsConfig]):
    """Turns a generic package registry into download pages and machine files."""

    supports_multiple_instances = False

    def __init__(self) -> None:
        self.flags: dict[str, Any] = {}  # set by `site-builder build`; flags win over the file
        # Set by `site-builder build`, which builds again when the guess was wrong: start from
        # the last build's listing while GitLab is listed again (sources/snapshot.py).
        self.speculate = False
        # GitLab's listing, when this build started from an outdated copy of it (the next
        # attempt's), and the one an earlier attempt read (set by `site-builder build`: used
        # as is, GitLab is not asked again)
        self.retry_listing: bytes | None = None
        self.known_listing: bytes | None = None
        self.source: Source | None = None
        self.command = "build"
        self.settings: Settings | None = None
        self.prepared: pipeline.PreparedSite | None = None
        self.renderer: PageRenderer | None = None
        self.staged: StagedOutput | None = None
        self.writer: pipeline.SiteWriter | None = None  # from on_files to on_post_build
        self.rendering = ci_log.Section("render", "Rendering pages")  # GitLab CI log only
        self.stopwatch, self.rendered = Stopwatch(), 0

    def on_startup(self, *, command: str, dirty: bool) -> None:
        self.command = command

    def on_shutdown(self) -> None:
        # MkDocs reuses this instance for every build in the process: forget this one's flags.
        self.flags = {}
        self._stop_writing()
        self.speculate, self.known_listing = False, None
        if self.staged is not None:  # an interrupt skips on_build_error: no staging left behind
            self.staged.discard()
            self.staged = None
        self._close_source()

    def on_config(self, config: MkDocsConfig) -> MkDocsConfig | None:
        if not self.config.enabled:
            return None
        self.stopwatch, self.rendered = Stopwatch(), 0
        self.retry_listing = None
        with as_plugin_error():
            if self.command == "build":  # before any request: the swap replaces the folder
                check_target(Path(config.site_dir))
            settings = resolve(
                self.config,
                flags=self.flags,
                config_site_url=config.site_url,
                base_dir=Path(config.config_file_path or ".").parent,
            )
            if settings.site_url:
                config.site_url = settings.site_url
            self._close_source()  # (one left by an earlier build of this process)
            self.source = pipeline.open_source(
                settings, guess=self.speculate and self.command == "build",
                known=self.known_listing)
            with ci_log.Section("fetch", "Reading the registry, verifying artifacts"):
                prepared = pipeline.prepare(settings, source=self.source,
                                            stopwatch=self.stopwatch,
                                            preview=self.command == "serve", background=True)
        self.settings, self.prepared = settings, prepared
        catalog = prepared.catalog
        self.renderer = PageRenderer(
            catalog,
            prepared.layout,
            description=settings.description or config.site_description or "",
            public_key=prepared.public_key,
            product=self.config.product,
            guides=_guides(Path(config.docs_dir)),
        )
        latest = catalog.latest
        newest = max((r.released_at for r in catalog.releases), default=None)
        config.extra["downloads"] = {
            "package": catalog.package,
            "product": self.renderer.product,
            "updated": newest.strftime("%Y-%m-%d") if newest else None,
            "latest": latest.version if latest else None,
            "latest_page": prepared.layout.page_path(latest.version) if latest else None,
            "public_key": PUBLIC_KEY_NAME if prepared.public_key else None,  # footer link
        }
        config.extra_css.append(STYLESHEET)  # the pages' own look and OS detection
        config.extra_javascript.append(SCRIPT)
        if self.command == "build":
            self.staged = StagedOutput(Path(config.site_dir))
            config.site_dir = str(self.staged.prepare())
        self.rendering.open()
        return config

    def on_files(self, files: Files, *, config: MkDocsConfig) -> Files | None:
        if self.prepared is None:
            return None
        catalog, layout = self.prepared.catalog, self.prepared.layout
        reserved = (*RESERVED, layout.download_path.partition("{")[0] or "download/")
        for file in files:
            if file.src_uri.startswith(reserved) or file.dest_uri.startswith(reserved):
                raise PluginError(
                    f"{config.docs_dir}/{file.src_uri} would collide with a generated file "
                    f"under {file.dest_uri}; move or rename it"
                )
        with self.stopwatch.phase("render"):
            sources = page_sources(catalog)
        for src_uri, markdown in sources.items():
            if (existing := files.get_file_from_path(src_uri)) is not None:
                log.warning("%s is generated by the downloads plugin; ignoring yours", src_uri)
                files.remove(existing)
            in_nav = src_uri in (LANDING, RELEASES)
            files.append(
                File.generated(
                    config,
                    src_uri,
                    content=markdown,
                    inclusion=InclusionLevel.UNDEFINED if in_nav else InclusionLevel.NOT_IN_NAV,
                )
            )
        for src_uri, text in page_assets().items():
            if files.get_file_from_path(src_uri) is None:
                files.append(File.generated(config, src_uri, content=text))
        # MkDocs has emptied the site folder by now: writing into it can begin
        previous = self.staged.previous() if self.staged is not None else None
        self.writer = pipeline.SiteWriter(self.prepared, Path(config.site_dir),
                                          previous=previous)
        return files

    def on_page_content(
        self, html: str, *, page: Page, config: MkDocsConfig, files: Files
    ) -> str | None:
        self._check_listing()
        if self.renderer and self.renderer.is_generated(page.file.src_uri):
            self.rendered += 1
            with self.stopwatch.phase("render"):
                return self.renderer.body(page.file.src_uri)
        return html

    @event_priority(-100)  # last: the copies are of what every other plugin made of the page
    def on_post_page(self, output: str, *, page: Page, config: MkDocsConfig) -> str | None:
        self._check_listing()
        if self.writer is not None and output.strip():  # MkDocs writes no empty page
            self.writer.page_written(page.file.dest_uri, output)
        return None

    @event_priority(-100)  # last: other plugins write their files into the staging folder first
    def on_post_build(self, *, config: MkDocsConfig) -> None:
        self.rendering.close()
        if self.prepared is None:
            return
        with ci_log.Section("write", "Writing artifacts and machine files"), as_plugin_error():
            if isinstance(self.source, Speculative):  # nothing is published unconfirmed
                self.source.confirm()
                if self.source.guessed and self.source.listed_in is not None:
                    self.stopwatch.background["registry"] = self.source.listed_in
            site_dir = Path(config.site_dir)
            with self.stopwatch.phase("write"):
                writer, self.writer = self.writer, None
                compressed = (writer.finish() if writer is not None
                              else pipeline.write_site(self.prepared, site_dir))
            log.info(self.stopwatch.summary(pages=self.rendered,
                                            reused=compressed.reused, compressed=compressed.files))
            if self.staged is not None:
                if _strict_warnings(config):  # MkDocs aborts after this hook: keep the old site
                    return
                self.staged.commit()
                config.site_dir = str(self.staged.target)
                self.staged = None
            if isinstance(self.source, Speculative):
                self.source.save()  # the next build's starting point
            self._close_source()

    def on_build_error(self, *, error: Exception) -> None:
        self.rendering.close()
        self._stop_writing()
        if self.staged is not None:
            self.staged.discard()
            self.staged = None
        if isinstance(self.source, Speculative) and self.source.outdated():
            # Built from an outdated copy of the listing: found out (ListingChanged), or the
            # likely cause of this failure (a file since deleted): build again from GitLab's.
            self.retry_listing = self.source.fresh
        self._close_source()

    def _check_listing(self) -> None:
        """Page by page: once GitLab's listing is in, a wrong guess stops the build at once."""
        if isinstance(self.source, Speculative):
            with as_plugin_error():
                self.source.check_early()

    def _close_source(self) -> None:
        if self.source is not None:
            getattr(self.source, "close", lambda: None)()
            self.source = None

    def _stop_writing(self) -> None:
        """Wait for the writing and downloading in flight: the staging folder may be removed
        next, and the source closed."""
        if self.writer is not None:
            self.writer.cancel()
            self.writer = None
        if self.prepared is not None:
            self.prepared.stop()


def _guides(docs_dir: Path) -> dict[str, str]:
    """The hand-written pages the landing page quotes (requirements, install steps), if any."""
    found = {key: docs_dir / name for key, name in GUIDES.items()}
    return {key: path.read_text("utf-8") for key, path in found.items() if path.is_file()}


def _strict_warnings(config: MkDocsConfig) -> bool:
    """Whether `strict: true` will make MkDocs abort this build once the hook returns."""
    if not config.strict:
        return False
    return any(
        isinstance(handler, CountHandler) and handler.get_counts()
        for handler in logging.getLogger("mkdocs").handlers
    )


@contextmanager
def as_plugin_error() -> Iterator[None]:
    """Let MkDocs report our errors its own way: one `Error: …` line, no traceback."""
    try:
        yield
    except SiteBuilderError as error:
        raise PluginError(str(error)) from error
