"""`site-builder release`: create or update the GitLab Release of a version."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path
from typing import Any

from ..changelog import notes_for
from ..cli import add_common, settings_for
from ..releases import asset_links, registry_file_names, save_release
from ._common import add_version_option, gitlab_client, version_of

log = logging.getLogger("mkdocs.plugins.downloads")


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "release", help="create or update the GitLab Release of a version",
        description="Create the GitLab Release of tag V with asset links to the Pages download "
                    "URLs of the version's registry files, or update it if it exists. Notes "
                    "come from the version's section of CHANGELOG.md, if there is one.",
    )
    add_common(parser)
    add_version_option(parser)
    parser.add_argument("--site-url", metavar="URL",
                        help="public URL of the site (default: $CI_PAGES_URL, else site_url)")
    parser.add_argument("--changelog", type=Path, metavar="FILE",
                        help="Keep a Changelog file with the notes (default: ./CHANGELOG.md)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    settings = settings_for(args, "api_url", "project", "package", "site_url")
    package, version = settings.require_package(), version_of(args)
    notes = notes_for(version, args.changelog)
    if notes is None:
        log.info("no notes for %s in %s", version, args.changelog or "CHANGELOG.md")
    layout = settings.layout
    with gitlab_client(settings) as client:
        links = asset_links(version, registry_file_names(client, package, version), layout)
        page = layout.url(layout.page_path(version))
        outcome = save_release(client, tag=version, name=f"{package} {version}", notes=notes,
                               links=links, default_notes=f"Downloads: {page}" if page else "")
    verb = "created" if outcome.created else "updated"
    log.info("release %s %s: links %d created, %d updated, %d unchanged", version, verb,
             outcome.links_created, outcome.links_updated, outcome.links_unchanged)
    return 0
