"""Where artifacts go: the `Target` protocol, the mirror of `sources.Source`.

The Pages folder and an S3 bucket both take verified bytes from the cache; neither decides
where a page links to (that is `SiteLayout.locate`, the one answer renderers ask). The
pipeline asks a target three things, in order:

    needed = target.plan(catalog)             # what it lacks: the fetcher brings these in
    target.deliver(needed, cached, on_chunk)  # network side: a bucket uploads them
    target.place(needed, cached, site_dir)    # site side: the Pages folder gets its files
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from ..catalog import Artifact, Catalog, Release

if TYPE_CHECKING:  # settings imports targets.config: no cycle at run time
    from ..fetch import ProgressHook
    from ..output import PreviousOutput
    from ..settings import Settings

Item = tuple[Release, Artifact]


class Target(Protocol):
    """A home for artifacts."""

    def describe(self) -> str:
        """A short name for logs, e.g. `s3://bucket/prefix`; never a secret."""
        ...

    def plan(self, catalog: Catalog) -> list[Item]:
        """The hosted artifacts this target does not hold yet (raise if it holds other bytes)."""
        ...

    def deliver(self, items: Sequence[Item], cached: Mapping[str, Path], *,
                on_chunk: ProgressHook | None = None) -> None:
        """Send planned artifacts from the verified cache (SHA256 → file) where they live."""
        ...

    def place(self, items: Iterable[Item], cached: Mapping[str, Path], site_dir: Path, *,
              previous: PreviousOutput | None = None) -> list[str]:
        """Put planned artifacts into the site folder (linked from `previous` where unchanged);
        returns the site paths written."""
        ...


def target_for(settings: Settings, *, preview: bool = False) -> Target:
    """The bucket when `storage:` is set, else the Pages folder.

    A preview (`serve`) links to the bucket but never writes to it, and needs no credentials.
    """
    if settings.storage is None:
        from .pages import PagesFolder

        return PagesFolder(settings.layout)
    from .storage import StorageTarget

    return StorageTarget(settings.storage, settings.layout, preview=preview)
