"""Object storage as the home of the artifacts: the `Target` face of `bucket.Bucket`."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from ..catalog import Catalog
from ..fetch import ProgressHook
from ..layout import SiteLayout
from ..output import PreviousOutput
from . import Item
from .config import StorageConfig

log = logging.getLogger("mkdocs.plugins.downloads")


class StorageTarget:
    """Uploads what the bucket lacks; the site folder gets no artifact."""

    def __init__(self, config: StorageConfig, layout: SiteLayout, *, preview: bool = False) -> None:
        self.config = config
        self.layout = layout
        self.preview = preview

    def describe(self) -> str:
        return self.config.describe()

    def plan(self, catalog: Catalog) -> list[Item]:
        if self.preview:
            log.info("preview: links lead to %s; nothing is uploaded", self.config.public_url)
            return []
        from .bucket import Bucket

        self.bucket = Bucket.connect(self.config)
        uploads = self.bucket.uploads_for(list(catalog.hosted_artifacts()), self.layout)
        self.missing = self.bucket.survey(uploads)
        held = len(uploads) - len(self.missing)
        log.info("%s holds %d of %d artifacts", self.describe(), held, len(uploads))
        return [(u.release, u.artifact) for u in self.missing]

    def deliver(self, items: Sequence[Item], cached: Mapping[str, Path], *,
                on_chunk: ProgressHook | None = None) -> None:
        if items:
            self.bucket.upload(self.bucket.uploads_for(items, self.layout), cached,
                               on_chunk=on_chunk)

    def place(self, items: Iterable[Item], cached: Mapping[str, Path], site_dir: Path, *,
              previous: PreviousOutput | None = None) -> list[str]:
        return []
