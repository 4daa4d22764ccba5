"""Tell a Strapi 5 CMS entry the latest version, its download URL and SHA256.

The latest release is read from a built site's `latest.json` (a folder such as `public/`, or
the live site's URL): it is exactly what the site publishes, URLs included, and it needs no
GitLab token. The entry is configured under the `downloads` plugin in `mkdocs.yml`:

    strapi:
      url: https://cms.example.com          # STRAPI_URL wins when set; a trailing /api is fine
      collection: apps                      # a collection type's plural API id, with
      document_id: a1b2c3d4e5f6g7h8i9j0klmn #   the entry's documentId: /api/apps/<id>
      # single_type: latest-release         # or a single type's singular API id
      file: "*-windows-x64.zip"             # which file of the release (a glob)
      fields: {version: version, url: downloadUrl, sha256: sha256}
      locale: en                            # optional, i18n: must be one of Strapi's locales
      publish: safe                         # safe | all | draft (see PUBLISH_MODES)

`notify` reads before it writes (`GET …?status=draft` and `…?status=published`): when the entry
already says what it would write, nothing is sent, so a re-run fires no webhook and rebuilds
no front end. With Draft & Publish, Strapi's `PUT` publishes the *whole* draft, an editor's
unpublished edits included; `publish` says whether that may happen. The token comes from
`STRAPI_TOKEN` only and is sent as `Authorization: Bearer` (see `strapi_api.py`).
"""

from __future__ import annotations

import fnmatch
import json
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import httpx

from . import bounds
from .errors import ConfigError, PublishError
from .layout import SiteLayout, url_path
from .options import did_you_mean, shown

log = logging.getLogger("mkdocs.plugins.downloads")

DEFAULT_FIELDS = {"version": "version", "url": "downloadUrl", "sha256": "sha256"}
# What a field may be filled with; `fields` maps these to the content type's field names.
VALUES = ("version", "url", "sha256", "size", "name", "released_at", "page", "package")
TOKEN_VARIABLE = "STRAPI_TOKEN"
PUBLISH_MODES = {
    "safe": "publish the new values, unless the draft holds someone's unpublished edits to "
            "other fields: then change nothing and fail, naming them",
    "all": "publish the whole draft with the new values, unpublished edits included "
           "(what Strapi's PUT does)",
    "draft": "update the draft only (?status=draft); an editor publishes it",
}
OPTIONS = ("url", "collection", "document_id", "single_type", "file", "fields", "locale",
           "publish", "status")
# Attributes every Strapi 5 document has; never compared, never ours.
SYSTEM_FIELDS = frozenset({"id", "documentId", "createdAt", "updatedAt", "publishedAt",
                           "firstPublishedAt", "locale", "localizations", "createdBy",
                           "updatedBy"})


@dataclass(frozen=True, slots=True)
class StrapiTarget:
    """The entry to update (a collection type's document or a single type), and how."""

    url: str  # the Strapi base URL, without /api
    collection: str | None = None
    document_id: str | None = None
    single_type: str | None = None
    fields: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_FIELDS))
    file: str | None = None
    locale: str | None = None
    publish: str = "safe"

    @property
    def what(self) -> str:
        if self.single_type:
            return f"Strapi single type {self.single_type}"
        return f"Strapi entry {self.collection}/{self.document_id}"

    @property
    def endpoint(self) -> str:
        if self.single_type:
            return f"{self.url}/api/{quote(self.single_type, safe='')}"
        return (f"{self.url}/api/{quote(self.collection or '', safe='')}/"
                f"{quote(self.document_id or '', safe='')}")

    def params(self, status: str | None) -> dict[str, str]:
        return {k: v for k, v in (("locale", self.locale), ("status", status)) if v}


def check_options(options: object) -> dict[str, Any]:
    """The `strapi:` section, checked without the network (also by `build`), or ConfigError."""
    if not isinstance(options, Mapping):
        raise ConfigError(f"`strapi` must be a mapping of {', '.join(OPTIONS[:-1])} "
                          f"(got {shown(options)})")
    for key, value in options.items():
        if key not in OPTIONS:
            suggestion = did_you_mean(str(key), OPTIONS[:-1])
            raise ConfigError(f"strapi has no option `{key}`:{suggestion or ''} (the options "
                              f"are {', '.join(OPTIONS[:-1])})")
        if key != "fields" and value is not None and not isinstance(value, str | int):
            raise ConfigError(f"strapi.{key} must be text (got {shown(value)})")
    fields = options.get("fields") or DEFAULT_FIELDS
    if not isinstance(fields, Mapping) or any(key not in VALUES for key in fields):
        raise ConfigError(
            f"strapi.fields must map some of {', '.join(VALUES)} to the entry's field names "
            f"(got {shown(fields)})"
        )
    old_status = {"draft": "draft", "published": "all"}.get(str(options.get("status")))
    publish = options.get("publish") or old_status or "safe"
    if publish not in PUBLISH_MODES:
        raise ConfigError(f"strapi.publish {shown(publish)} is not one of "
                          f"{', '.join(PUBLISH_MODES)}: see the README's notify section")
    single, collection = options.get("single_type"), options.get("collection")
    if single and (collection or options.get("document_id")):
        raise ConfigError("strapi: set either single_type, or collection and document_id")
    if options.get("url"):
        _check_url(str(options["url"]), "strapi.url")
    return {**options, "fields": fields, "publish": publish}


def _check_url(url: str, where: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"{where} {url!r} must be a URL starting with https:// (or http://)")


def target_from_options(options: Mapping[str, Any],
                        env: Mapping[str, str] | None = None) -> StrapiTarget | None:
    """The configured target, None when there is no `strapi:` section, or a ConfigError."""
    env = os.environ if env is None else env
    if not options:
        return None
    if options.get("status"):  # said here, not by `build` (strict mode fails on warnings)
        log.warning("strapi.status is deprecated: use strapi.publish (safe, all or draft; "
                    "status: draft is publish: draft, status: published is publish: all)")
    options = check_options(options)
    url = env.get("STRAPI_URL") or options.get("url")
    entry = ("single_type",) if options.get("single_type") else ("collection", "document_id")
    missing = [key for key in ("url", *entry) if not (url if key == "url" else options.get(key))]
    if missing:
        raise ConfigError(
            f"the `strapi:` settings lack {', '.join(missing)}: set them under the "
            "`downloads` plugin in mkdocs.yml (url may also come from STRAPI_URL; a single "
            "type needs single_type instead of collection and document_id)"
        )
    _check_url(str(url), "STRAPI_URL" if env.get("STRAPI_URL") else "strapi.url")
    base = str(url).rstrip("/")
    base = base.removesuffix("/api")  # the REST prefix is ours to add: no /api/api/…
    text = {k: str(options[k]) if options.get(k) not in (None, "") else None
            for k in ("collection", "document_id", "single_type", "file", "locale")}
    return StrapiTarget(
        url=base, **text,
        fields={k: str(v) for k, v in options["fields"].items() if v},
        publish=options["publish"],
    )


# -- what to send ----------------------------------------------------------------------------

def read_latest(source: str, *, transport: httpx.BaseTransport | None = None) -> dict[str, Any]:
    """`latest.json` of a built site: a folder, or the site's URL (or the file's own URL)."""
    if urlsplit(source).scheme in ("http", "https"):
        url = source if source.endswith(".json") else source.rstrip("/") + "/latest.json"
        try:
            with httpx.Client(transport=transport, follow_redirects=True) as http:
                response = bounds.fetch(http, "GET", url)
        except httpx.HTTPError as e:
            raise PublishError(f"cannot read {url} ({type(e).__name__}): check the site URL") from e
        except bounds.Exceeded as e:
            raise PublishError(f"the answer of {url} {e}: check the site URL") from e
        if response.status_code != 200:
            raise PublishError(f"{url} answered {response.status_code}: is the site deployed?")
        text, where = response.text, url
    else:
        path = Path(source)
        path = path / "latest.json" if path.is_dir() else path
        if not path.is_file():
            raise ConfigError(
                f"{path} not found: run `site-builder build` first, or pass "
                "--from-site with the built folder or the site's URL"
            )
        text, where = path.read_text(encoding="utf-8"), str(path)
    try:
        record = json.loads(text)
    except ValueError as e:
        raise PublishError(f"{where} is not JSON: point --from-site at a built site") from e
    if not isinstance(record, dict) or not record.get("version") or not record.get("files"):
        raise PublishError(f"{where} names no latest release with files: nothing to announce")
    return record


def choose_file(record: Mapping[str, Any], pattern: str | None) -> dict[str, Any]:
    """The release's file that `pattern` (a glob) names; without one, its only file."""
    files = [f for f in record["files"] if isinstance(f, dict) and f.get("name")]
    names = ", ".join(f["name"] for f in files)
    if pattern is None:
        if len(files) != 1:
            raise ConfigError(
                f"{record['version']} has {len(files)} files ({names}): set strapi.file to "
                "a pattern that picks the one to announce, e.g. \"*.zip\""
            )
        return files[0]
    chosen = [f for f in files if fnmatch.fnmatchcase(f["name"], pattern)]
    if not chosen:
        raise ConfigError(f"strapi.file {pattern!r} matches none of {names}: fix the pattern")
    if len(chosen) > 1:
        log.warning("strapi.file %r matches %d files; announcing %s",
                    pattern, len(chosen), chosen[0]["name"])
    return chosen[0]


def built_site_url(record: Mapping[str, Any]) -> str | None:
    """The site URL `latest.json` was built with: a file's `url` less its site `path`."""
    for file in record.get("files") or ():
        url, path = file.get("url"), file.get("path")
        if isinstance(url, str) and isinstance(path, str) and path:
            suffix = url_path(path)
            if url.endswith("/" + suffix):
                return url[: -len(suffix)]
    return None


def entry_data(record: Mapping[str, Any], file: Mapping[str, Any],
               target: StrapiTarget, layout: SiteLayout) -> dict[str, Any]:
    """The `data` object of the update: our values under the entry's field names.

    Relative paths become URLs with the given site URL, else the one the site was built with.
    """
    if not layout.site_url and (built := built_site_url(record)):
        layout = SiteLayout(download_path=layout.download_path, site_url=built)
    url = file.get("url") or (layout.url(file["path"]) if file.get("path") else None)
    if not url:
        raise ConfigError(
            "the download URL is unknown: build the site with its URL (--site-url or "
            "site_url), or pass --site-url to notify"
        )
    page = record.get("page")
    values = {
        "version": record["version"], "url": url, "sha256": file.get("sha256"),
        "size": file.get("size"), "name": file["name"],
        "released_at": record.get("released_at"), "package": record.get("package"),
        "page": layout.url(page) if page else None,
    }
    if "page" in target.fields and values["page"] is None:
        log.warning("strapi.fields names page, but the site URL is unknown: page not sent "
                    "(pass --site-url)")
    return {name: values[key] for key, name in target.fields.items() if values[key] is not None}


# -- whether, and how, to write ---------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Plan:
    """What `notify` will do: nothing, or one PUT with `status` (None publishes)."""

    write: bool
    status: str | None = None
    reason: str = ""


def _same(have: Any, want: Any) -> bool:
    """Equal as Strapi returns them: a biginteger or decimal field may come back as text, a
    datetime with milliseconds (`…:00.000Z` for our `…:00Z`), a date field as its date."""
    if have == want:
        return True
    numbers = (int, float)
    if isinstance(want, numbers) and not isinstance(want, bool) and isinstance(have, str):
        return have.strip() == str(want)
    if isinstance(want, str) and isinstance(have, str) and len(want) >= 10:
        try:
            wanted, had = datetime.fromisoformat(want), datetime.fromisoformat(have)
        except ValueError:
            return False
        if len(have) == 10:  # a `date` field keeps the day only
            return had.date() == wanted.date()
        return had == wanted
    return False


def says(entry: Mapping[str, Any] | None, data: Mapping[str, Any]) -> bool:
    """Whether an entry version already holds every one of our values."""
    return entry is not None and all(_same(entry.get(k), v) for k, v in data.items())


def unpublished_edits(draft: Mapping[str, Any], published: Mapping[str, Any] | None,
                      ours: Mapping[str, Any]) -> list[str]:
    """Fields other than ours whose draft differs from what is live (all, if nothing is)."""
    others = sorted(set(draft) - SYSTEM_FIELDS - set(ours))
    if published is None:
        return [k for k in others if draft.get(k) not in (None, "", [], {})]
    return [k for k in others if draft.get(k) != published.get(k)]


def plan_update(target: StrapiTarget, data: Mapping[str, Any],
                draft: Mapping[str, Any] | None, published: Mapping[str, Any] | None, *,
                label: str = "the new values") -> Plan:
    """Decide from the entry as it is (draft and published version) what to send, if anything.

    Raises PublishError, before anything is written, when `publish: safe` would publish an
    editor's unpublished edits, or when the entry (or its localisation) does not exist.
    """
    if draft is None:
        if target.single_type:  # a single type not yet saved: the PUT creates it
            return Plan(True, "draft" if target.publish == "draft" else None, "created")
        numeric = (" (Strapi 5 names an entry by its documentId, 24 letters and digits, not "
                   "by Strapi 4's numeric id)" if (target.document_id or "").isdigit() else "")
        raise PublishError(
            f"{target.what} has no {target.locale + ' ' if target.locale else ''}version to "
            "update: check strapi.collection (the plural API id), strapi.document_id"
            f"{' and that the entry has that localisation' if target.locale else ''}{numeric}"
        )
    fields = sorted(set(draft) - SYSTEM_FIELDS)
    unknown = [name for name in data if name not in draft]
    if unknown:
        raise ConfigError(
            f"{target.what} has no field `{unknown[0]}`:{did_you_mean(unknown[0], fields)} "
            f"fix strapi.fields (the entry's fields are {', '.join(fields) or 'none'})"
        )
    if draft.get("publishedAt") is not None:  # no Draft & Publish: one version, always live
        return Plan(False) if says(draft, data) else Plan(True, None, "updated")
    live, drafted = says(published, data), says(draft, data)
    if drafted and (live or target.publish == "draft"):
        return Plan(False)
    if live or target.publish == "draft":
        return Plan(True, "draft", "draft updated")
    if target.publish == "safe":
        edits = unpublished_edits(draft, published, data)
        if edits:
            state = ("was never published and its draft holds" if published is None
                     else "has unpublished edits to")
            raise PublishError(
                f"{target.what} {state} {', '.join(edits)}: publishing {label} "
                "would publish them too, so nothing was changed. Publish or discard them in "
                "Strapi and run notify again, or set strapi.publish to all (publish the whole "
                "draft) or draft (update the draft only)"
            )
    return Plan(True, None, "published")


def check_locale(locale: str, available: list[str], where: str) -> None:
    if locale not in available:
        raise ConfigError(
            f"strapi.locale {locale!r} is not a locale of the Strapi at {where} (it has "
            f"{', '.join(available) or 'none'}): use one of those, or add it under Settings > "
            "Internationalization"
        )
