"""`site-builder publish PATH...`: upload files and folders as one generic package version."""

from __future__ import annotations

import argparse
import logging
import tempfile
from contextlib import nullcontext
from pathlib import Path
from typing import Any

from ..cli import add_common, settings_for
from ..publish import (
    SKIPPED,
    STATUSES,
    Publisher,
    check_names,
    collect_files,
    refuse_signing_names,
)
from ..render.pages import human_size
from ..signing import load_signing_key
from ._common import add_version_option, gitlab_client, print_table, version_of

log = logging.getLogger("mkdocs.plugins.downloads")


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "publish", help="upload files or folders to the generic registry as one version",
        description="Upload files (folders recursively, named by their path inside the folder) "
                    "to the generic package registry, one at a time; files already there with "
                    "the same SHA256 are skipped.",
    )
    parser.add_argument("paths", nargs="+", type=Path, metavar="PATH", help="file or folder")
    add_common(parser)
    add_version_option(parser)
    parser.add_argument("--status", choices=STATUSES, default="default",
                        help="package status: hidden keeps it off the site (default: default)")
    parser.add_argument("--sign", action="store_true",
                        help="also upload SHA256SUMS of the version's files and its minisign "
                             "signature SHA256SUMS.minisig (key: $MINISIGN_SECRET_KEY_FILE or "
                             "$MINISIGN_SECRET_KEY, password: $MINISIGN_PASSWORD)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    settings = settings_for(args, "api_url", "project", "package")
    package, version = settings.require_package(), version_of(args)
    files = collect_files(args.paths)
    check_names(package, version, files)  # before any request
    key = None
    if args.sign:  # before any upload: a missing key or password fails with nothing sent
        refuse_signing_names(files)
        key = load_signing_key(expected=settings.public_key)
    with gitlab_client(settings) as client, tempfile.TemporaryDirectory() as folder, \
            key or nullcontext():
        publisher = Publisher(client, package, version, status=args.status)
        results = publisher.publish(files)
        if key is not None:
            results += publisher.sign(key, results, Path(folder))
    print_table(("file", "size", "SHA256", "result"),
                [(r.name, human_size(r.size), r.sha256, r.outcome) for r in results])
    uploaded = sum(r.outcome != SKIPPED for r in results)
    log.info("%s %s: %d uploaded, %d already there", package, version, uploaded,
             len(results) - uploaded)
    return 0

