"""Where releases come from: the `Source` protocol and its implementations.

A source lists a package's versions as catalogue values and streams one artifact's bytes.
It never filters, orders or verifies: that is the catalogue's and the fetcher's work, so a
new source (GitLab, a local folder, a snapshot) slots in without touching either.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager
from typing import Protocol

from ..catalog import Artifact, PackageVersion
from ..settings import Settings


class Source(Protocol):
    """A registry of generic packages."""

    def describe(self) -> str:
        """A short human name for logs, e.g. `folder examples/registry`; never a secret."""
        ...

    def versions(self, package: str) -> list[PackageVersion]:
        """Every version of `package` the registry lists, with its files; unfiltered."""
        ...

    def open(
        self, package: str, version: str, artifact: Artifact
    ) -> AbstractContextManager[Iterator[bytes]]:
        """Stream the bytes the registry serves for `artifact` (raise TransientError to retry)."""
        ...


def source_for(settings: Settings) -> Source:
    """The folder source when `from_dir` is set, else the GitLab registry."""
    if settings.from_dir is not None:
        from .folder import FolderSource

        return FolderSource(settings.from_dir)
    from .gitlab import GitLabSource

    api_url, project = settings.require_gitlab()
    return GitLabSource.from_env(api_url=api_url, project=project,
                                 concurrency=settings.api_concurrency, limits=settings.limits)
