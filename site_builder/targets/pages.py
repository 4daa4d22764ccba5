"""The Pages site folder as the home of the artifacts: every hosted file is a file of the site."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from ..catalog import Catalog
from ..fetch import ProgressHook, place
from ..layout import SiteLayout
from ..output import PreviousOutput, SiteFolder
from . import Item


class PagesFolder:
    """Artifacts copied (0644, never hard-linked) from the cache into `download/<version>/`."""

    def __init__(self, layout: SiteLayout) -> None:
        self.layout = layout

    def describe(self) -> str:
        return "the Pages site"

    def plan(self, catalog: Catalog) -> list[Item]:
        return list(catalog.hosted_artifacts())  # a fresh site folder holds nothing yet

    def deliver(self, items: Sequence[Item], cached: Mapping[str, Path], *,
                on_chunk: ProgressHook | None = None) -> None:
        pass  # the bytes travel with the site folder

    def place(self, items: Iterable[Item], cached: Mapping[str, Path], site_dir: Path, *,
              previous: PreviousOutput | None = None) -> list[str]:
        paths = []
        site = SiteFolder(site_dir)  # each version's folder resolved once, not every file's
        for release, artifact in items:
            path = self.layout.artifact_path(release.version, artifact.name)
            destination = site.path(path)
            if previous is None or not previous.link_sha256(
                    path, destination, sha256=artifact.sha256, size=artifact.size):
                place(cached[artifact.sha256.lower()], destination)
            paths.append(path)
        return paths
