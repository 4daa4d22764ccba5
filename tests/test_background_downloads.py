"""A cold build downloads while MkDocs renders; a build that ends early stops its downloads."""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from datetime import UTC
from pathlib import Path

from site_builder.catalog import Artifact, Release
from site_builder.fetch import ArtifactCache, Fetcher
from site_builder.pipeline import Downloads

try:
    from conftest import CliResult, FolderRegistry
except ImportError:  # tests/ imported as a package
    from .conftest import CliResult, FolderRegistry  # type: ignore[no-redef]


class EndlessSource:
    """Serves every file as a trickle that never ends (a stalled mirror)."""

    def __init__(self) -> None:
        self.started = threading.Event()
        self.ended = threading.Event()  # set by the test, so a failing one does not hang

    def describe(self) -> str:
        return "an endless source"

    def versions(self, package: str) -> list:  # type: ignore[type-arg]
        return []

    @contextmanager
    def open(self, package: str, version: str, artifact: Artifact) -> Iterator[Iterator[bytes]]:
        def chunks() -> Iterator[bytes]:
            self.started.set()
            while not self.ended.is_set():
                time.sleep(0.01)
                yield b"x" * 1024

        yield chunks()


def test_a_stopped_build_stops_its_downloads_and_leaves_no_part_file(tmp_path: Path) -> None:
    source = EndlessSource()
    big = Artifact("big.zip", 10**12, hashlib.sha256(b"big").hexdigest())
    release = Release("App", "v1.0.0", released_at=None, files=(big,))  # type: ignore[arg-type]
    downloads = Downloads(Fetcher(source, ArtifactCache(tmp_path)), [(release, big)],
                          progress=lambda: nullcontext(None))
    assert source.started.wait(10)
    # what the plugin does when the build fails or is interrupted
    cancelling = threading.Thread(target=downloads.cancel)
    cancelling.start()
    cancelling.join(10)
    stopped = not cancelling.is_alive()
    source.ended.set()
    assert stopped, "the download went on after cancel()"
    assert list(tmp_path.rglob(".part-*")) == []


def test_a_cold_build_downloads_in_the_background(
        registry: FolderRegistry, build: Callable[..., CliResult], project: Path) -> None:
    """The build-times line says so, and every file still arrives byte for byte."""
    for version in ("v1.0.0", "v1.1.0"):
        registry.add(version, {f"App-{version}.zip": version.encode() * 100}, package="App")
    (project / "mkdocs.yml").write_text(
        (project / "mkdocs.yml").read_text().replace("package: VoiceInput", "package: App"))
    result = build()
    assert result.code == 0, result.err
    assert "artifact check and download" in result.err and "in the background" in result.err
    for version in ("v1.0.0", "v1.1.0"):
        site_file = project / "public" / "download" / version / f"App-{version}.zip"
        assert site_file.read_bytes() == version.encode() * 100


def test_a_failed_build_stops_the_writer_waiting_for_a_stalled_download(tmp_path: Path) -> None:
    """The site writer waits for the downloads to place them; cancelling it ends both."""
    from datetime import datetime

    from site_builder.catalog import Catalog
    from site_builder.layout import SiteLayout
    from site_builder.pipeline import PreparedSite, SiteWriter
    from site_builder.targets.pages import PagesFolder

    source = EndlessSource()
    big = Artifact("big.zip", 10**12, hashlib.sha256(b"big").hexdigest())
    release = Release("App", "v1.0.0", released_at=datetime(2026, 1, 1, tzinfo=UTC),
                      files=(big,))
    layout = SiteLayout()
    downloads = Downloads(Fetcher(source, ArtifactCache(tmp_path / "cache")),
                          [(release, big)], progress=lambda: nullcontext(None))
    try:
        prepared = PreparedSite(catalog=Catalog("App", (release,)), layout=layout, cached={},
                                target=PagesFolder(layout), needed=((release, big),),
                                downloads=downloads)
        (tmp_path / "site").mkdir()
        writer = SiteWriter(prepared, tmp_path / "site")
        assert source.started.wait(10)
        cancelling = threading.Thread(target=writer.cancel)  # what on_build_error does
        cancelling.start()
        cancelling.join(10)
        assert not cancelling.is_alive(), "cancel() waited for a download that never ends"
    finally:
        source.ended.set()  # a failing test must not hang the run
    assert not (tmp_path / "site" / layout.artifact_path("v1.0.0", "big.zip")).exists()
