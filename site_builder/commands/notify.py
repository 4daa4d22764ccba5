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
    PUBLISH_MODES,
    TOKEN_VARIABLE,
    check_locale,
    choose_file,
    entry_data,
    plan_update,
    read_latest,
    target_from_options,
)
from ..strapi_api import StrapiAPI

log = logging.getLogger("mkdocs.plugins.downloads")


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "notify", help="tell Strapi the latest version, its download URL and SHA256",
        description="Read latest.json of a built site and update the Strapi 5 entry (or single "
                    "type) configured under `strapi:` in the downloads plugin. It reads the "
                    "entry first and sends nothing when it already says the same; "
                    "`strapi.publish` says whether the draft is published ("
                    + "; ".join(f"{mode}: {what}" for mode, what in PUBLISH_MODES.items())
                    + "). Without a `strapi:` section it does nothing.",
    )
    add_config_option(parser)
    parser.add_argument("--from-site", metavar="DIR|URL",
                        help="built site folder or site URL with latest.json "
                             "(default: public, else the site URL)")
    parser.add_argument("--site-url", metavar="URL",
                        help="public URL of the site (default: $CI_PAGES_URL, else site_url, "
                             "else the URL the site was built with)")
    parser.add_argument("--dry-run", action="store_true",
                        help="print the update instead of sending it (reads nothing from Strapi)")
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
    version = str(record["version"])
    data = entry_data(record, choose_file(record, target.file), target, settings.layout)
    if args.dry_run:
        status = "draft" if target.publish == "draft" else None
        print(json.dumps({"PUT": target.endpoint, "params": target.params(status),
                          "data": data, "publish": target.publish}, indent=2))
        return 0
    token = os.environ.get(TOKEN_VARIABLE, "").strip()
    if not token:
        raise ConfigError(
            f"{TOKEN_VARIABLE} is not set: create a Strapi API token allowed to read and "
            f"update {target.collection or target.single_type} and set it as a masked CI/CD "
            "variable"
        )
    with StrapiAPI(target, token) as api:
        if target.locale:
            check_locale(target.locale, api.locales(), target.url)
        draft, published = api.read("draft"), api.read("published")
        plan = plan_update(target, data, draft, published, label=version)
        if not plan.write:
            log.info("%s already says %s: nothing sent", target.what, version)
            return 0
        api.write(data, plan.status)
    log.info("%s now says %s (%s)", target.what, version, plan.reason)
    return 0
