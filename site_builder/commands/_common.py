"""What the release-side commands (publish, release, notify) share: version, client, tables."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import TextIO

from ..errors import ConfigError
from ..gitlab import GitLabClient
from ..settings import Settings


def add_version_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--version", metavar="V",
                        help="package version, the Git tag (default: $CI_COMMIT_TAG)")


def version_of(args: argparse.Namespace) -> str:
    version = args.version or os.environ.get("CI_COMMIT_TAG", "")
    if not version:
        raise ConfigError("no version: pass --version V, or run in a tag pipeline (CI_COMMIT_TAG)")
    return str(version)


def gitlab_client(settings: Settings) -> GitLabClient:
    api_url, project = settings.require_gitlab()
    return GitLabClient.from_env(api_url=api_url, project=project, limits=settings.limits)


def print_table(headers: Sequence[str], rows: Sequence[Sequence[str]], *,
                stream: TextIO | None = None) -> None:
    """A rich table on a terminal; plain, aligned columns anywhere else (CI logs, pipes)."""
    stream = stream or sys.stdout
    if stream.isatty():
        from rich.console import Console
        from rich.table import Table

        table = Table()
        for header in headers:
            table.add_column(header, overflow="fold")  # a checksum must never lose characters
        for row in rows:
            table.add_row(*row)
        Console(file=stream).print(table)
        return
    widths = [max(len(str(c)) for c in column) for column in zip(headers, *rows, strict=False)]
    for row in (headers, *rows):
        print("  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)).rstrip(),
              file=stream)
