"""`site-builder notify`: tell Strapi the latest version, its download URL and SHA256."""

from __future__ import annotations

import argparse
import json
import logging
import os
from pathlib import Path
from typing import Any

from ..cli import add_config_option, plugin_options, settings_for
from ..errors import ConfigError
from ..strapi import (
    TOKEN_VARIABLE,
    choose_file,
    entry_data,
    read_latest,
    target_from_options,
    update_entry,
)

log = logging.getLogger("mkdocs.plugins.downloads")


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "notify", help="tell Strapi the latest version, its download URL and SHA256",
        description="Read latest.json of a built site and update the Strapi entry configured "
                    "under `strapi:` in the downloads plugin. Without that section it does "
                    "nothing.",
    )
    add_config_option(parser)
    parser.add_argument("--from-site", metavar="DIR|URL",
                        help="built site folder or site URL with latest.json "
                             "(default: public, else the site URL)")
    parser.add_argument("--site-url", metavar="URL",
                        help="public URL of the site (default: $CI_PAGES_URL, else site_url)")
    parser.add_argument("--dry-run", action="store_true",
                        help="print the update instead of sending it")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    options, _, _ = plugin_options(args.config)
    target = target_from_options(options.get("strapi") or {})
    if target is None:
        log.info("no `strapi:` section under the downloads plugin in %s: nothing to notify",
                 args.config)
        return 0
    settings = settings_for(args, "site_url")
    source = args.from_site or ("public" if Path("public").is_dir() else settings.site_url)
    if not source:
        raise ConfigError("no built site to read: pass --from-site DIR|URL or --site-url URL")
    record = read_latest(source)
    data = entry_data(record, choose_file(record, target.file), target, settings.layout)
    if args.dry_run:
        print(json.dumps({"PUT": target.endpoint, "params": target.params, "data": data},
                         indent=2))
        return 0
    token = os.environ.get(TOKEN_VARIABLE, "").strip()
    if not token:
        raise ConfigError(
            f"{TOKEN_VARIABLE} is not set: create a Strapi API token allowed to update "
            f"{target.collection} and set it as a masked CI/CD variable"
        )
    update_entry(target, data, token=token)
    log.info("Strapi %s/%s now says %s", target.collection, target.document_id,
             record["version"])
    return 0
