"""Tell a Strapi v5 CMS entry the latest version, its download URL and SHA256.

The latest release is read from a built site's `latest.json` (a folder such as `public/`, or
the live site's URL): it is exactly what the site publishes, URLs included, and it needs no
GitLab token. The entry is configured under the `downloads` plugin in `mkdocs.yml`:

    strapi:
      url: https://cms.example.com          # STRAPI_URL wins when set
      collection: apps                      # the plural API id: PUT /api/apps/<document_id>
      document_id: a1b2c3d4e5f6g7h8i9j0klmn
      file: "*-windows-x64.zip"             # which file of the release (a glob)
      fields: {version: version, url: downloadUrl, sha256: sha256}
      locale: en                            # optional, i18n
      status: published                     # optional, draft to leave the entry unpublished

The request is `PUT {url}/api/{collection}/{document_id}` with `{"data": {...}}` and
`Authorization: Bearer $STRAPI_TOKEN`; the token comes from the environment only.
"""

from __future__ import annotations

import fnmatch
import json
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import httpx

from . import bounds
from .auth import mask_secret
from .errors import ConfigError, PublishError
from .layout import SiteLayout

log = logging.getLogger("mkdocs.plugins.downloads")

DEFAULT_FIELDS = {"version": "version", "url": "downloadUrl", "sha256": "sha256"}
# What a field may be filled with; `fields` maps these to the content type's field names.
VALUES = ("version", "url", "sha256", "size", "name", "released_at", "page", "package")
TOKEN_VARIABLE = "STRAPI_TOKEN"


@dataclass(frozen=True, slots=True)
class StrapiTarget:
    """The entry to update and how our values map to its fields."""

    url: str
    collection: str
    document_id: str
    fields: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_FIELDS))
    file: str | None = None
    locale: str | None = None
    status: str | None = None

    @property
    def endpoint(self) -> str:
        return (f"{self.url.rstrip('/')}/api/{quote(self.collection, safe='')}/"
                f"{quote(self.document_id, safe='')}")

    @property
    def params(self) -> dict[str, str]:
        return {k: v for k, v in (("locale", self.locale), ("status", self.status)) if v}


def target_from_options(options: Mapping[str, Any],
                        env: Mapping[str, str] | None = None) -> StrapiTarget | None:
    """The configured target, None when there is no `strapi:` section, or a ConfigError."""
    env = os.environ if env is None else env
    if not options:
        return None
    url = env.get("STRAPI_URL") or options.get("url")
    missing = [key for key, value in (("url", url), ("collection", options.get("collection")),
                                      ("document_id", options.get("document_id"))) if not value]
    if missing:
        raise ConfigError(
            f"the `strapi:` settings lack {', '.join(missing)}: set them under the "
            "`downloads` plugin in mkdocs.yml (url may also come from STRAPI_URL)"
        )
    if urlsplit(str(url)).scheme not in ("http", "https"):
        raise ConfigError(f"Strapi URL {url!r} must start with https:// (or http://)")
    fields = options.get("fields") or DEFAULT_FIELDS
    if not isinstance(fields, Mapping) or any(key not in VALUES for key in fields):
        raise ConfigError(
            f"strapi.fields must map some of {', '.join(VALUES)} to the entry's field names "
            f"(got {fields!r})"
        )
    return StrapiTarget(
        url=str(url), collection=str(options["collection"]),
        document_id=str(options["document_id"]),
        fields={k: str(v) for k, v in fields.items() if v},
        file=options.get("file"), locale=options.get("locale"), status=options.get("status"),
    )


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


def entry_data(record: Mapping[str, Any], file: Mapping[str, Any],
               target: StrapiTarget, layout: SiteLayout) -> dict[str, Any]:
    """The `data` object of the update: our values under the entry's field names."""
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
    return {name: values[key] for key, name in target.fields.items() if values[key] is not None}


def update_entry(target: StrapiTarget, data: Mapping[str, Any], *, token: str,
                 transport: httpx.BaseTransport | None = None) -> None:
    """PUT the entry; any failure becomes one PublishError line that never holds the token."""
    what = f"Strapi entry {target.collection}/{target.document_id}"
    try:
        with httpx.Client(transport=transport) as http:
            response = bounds.fetch(http, "PUT", target.endpoint, params=target.params,
                                    json={"data": dict(data)},
                                    headers={"Authorization": f"Bearer {token}"})
    except httpx.HTTPError as e:
        raise PublishError(
            f"cannot reach Strapi at {target.url} ({type(e).__name__}): check strapi.url "
            "or STRAPI_URL and the network"
        ) from e
    except bounds.Exceeded as e:
        raise PublishError(
            mask_secret(f"Strapi's answer to updating {what} {e}, so it was cut: check "
                        "strapi.url and run notify again later", token)
        ) from e
    if response.status_code < 300:
        return
    hints = {
        400: "check that strapi.fields name fields of that content type",
        401: f"{TOKEN_VARIABLE} is wrong or expired",
        403: f"the API token in {TOKEN_VARIABLE} needs the update permission on "
             f"{target.collection}",
        404: "check strapi.collection (the plural API id) and strapi.document_id",
        405: "check strapi.collection (the plural API id) and strapi.document_id",
    }
    hint = hints.get(response.status_code, "Strapi failed; run notify again later")
    said = _strapi_message(response, token)  # a server may echo what it got
    raise PublishError(f"updating {what} failed: {response.status_code} {said}; {hint}")


def _strapi_message(response: httpx.Response, token: str) -> str:
    """Strapi v5 errors read `{"data": null, "error": {"status", "name", "message"}}`.

    The token is masked, whole or in part, before the text is cut."""
    try:
        error = response.json().get("error") or {}
        text = str(error.get("message") or "")
    except (ValueError, AttributeError):
        text = response.text
    return mask_secret(" ".join(text.split()), token)[:200] or response.reason_phrase
