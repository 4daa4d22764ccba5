"""`site-builder verify DIR`: re-check a built site before (or after) it is deployed."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from ..signing import PUBLIC_KEY_VARIABLE, parse_public_key
from ..verify import verify_site


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "verify", help="re-check a built site: checksums, internal links, _redirects",
        description="Check every artifact against SHA256SUMS and its .sha256 file, every "
                    "precompressed copy against its original, latest.json and index.json "
                    "against the files, every internal link of every page, and _redirects "
                    "against GitLab Pages' rules. Prints one line per problem.",
    )
    parser.add_argument("dir", nargs="?", default="public", metavar="DIR",
                        help="the built site (default: public)")
    parser.add_argument("--site-url", metavar="URL",
                        help="public URL of the site (default: read from index.json, "
                             "else $CI_PAGES_URL)")
    parser.add_argument("--public-key", metavar="KEY",
                        help="also check every SHA256SUMS.minisig with this minisign public "
                             "key (its base64 line, or minisign.pub; default: "
                             "$MINISIGN_PUBLIC_KEY)")
    parser.add_argument("--deep", action="store_true",
                        help="download artifacts kept in object storage from their public URL "
                             "and hash them (default: a HEAD checks size and SHA256)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    site = Path(args.dir)
    if not (site / "index.html").is_file():
        raise ConfigError(f"{site} is not a built site (no index.html): pass the output folder")
    key_text = args.public_key or os.environ.get(PUBLIC_KEY_VARIABLE, "")
    key = parse_public_key(key_text, source="--public-key") if key_text else None
    report = verify_site(site, site_url=args.site_url,
                         default_site_url=os.environ.get("CI_PAGES_URL"), public_key=key,
                         deep=args.deep)
    if report.ok:
        print(f"ok: {report.summary(site)}")
        return 0
    for problem in report.problems:
        print(problem)
    print(f"site-builder: error: {len(report.problems)} problem"
          f"{'s' if len(report.problems) != 1 else ''} in {site}", file=sys.stderr)
    return 1

