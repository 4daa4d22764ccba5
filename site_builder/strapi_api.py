"""Strapi 5's REST API, as `notify` uses it: read an entry (draft and published), list the
locales, write the entry. Each call is bounded (`bounds.fetch`); each failure is one
PublishError line that names the real cause and never holds the token, whole or in part.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx

from . import bounds
from .auth import mask_secret
from .errors import PublishError
from .strapi import TOKEN_VARIABLE, StrapiTarget


class StrapiAPI:
    """The calls `notify` makes for one target, with one token."""

    def __init__(self, target: StrapiTarget, token: str, *,
                 transport: httpx.BaseTransport | None = None) -> None:
        self.target, self._token = target, token
        self._http = httpx.Client(transport=transport)

    def __enter__(self) -> StrapiAPI:
        return self

    def __exit__(self, *_: object) -> None:
        self._http.close()

    def locales(self) -> list[str]:
        """The codes of `GET /api/i18n/locales` (the i18n plugin's list)."""
        url = f"{self.target.url}/api/i18n/locales"
        response = self._call("GET", url, "reading Strapi's locales")
        if response.status_code != 200:
            raise self._failure(response, "reading Strapi's locales", {
                403: f"the API token in {TOKEN_VARIABLE} needs Internationalization > Locale "
                     "> find (or full access) so strapi.locale can be checked",
                404: f"the Strapi at {self.target.url} has no i18n plugin: remove strapi.locale",
            })
        try:
            return [str(row["code"]) for row in response.json()]
        except (ValueError, TypeError, KeyError) as e:
            raise PublishError(f"{url} answered no list of locales: is strapi.url a Strapi 5?") \
                from e

    def read(self, status: str) -> dict[str, Any] | None:
        """The entry's draft or published version, or None when it has none (404)."""
        doing = f"reading {self.target.what}"
        response = self._call("GET", self.target.endpoint, doing,
                              params=self.target.params(status))
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise self._failure(response, doing, {
                403: f"the API token in {TOKEN_VARIABLE} needs the find permission on "
                     f"{self.target.collection or self.target.single_type}",
            })
        try:
            entry = response.json()["data"]
        except (ValueError, TypeError, KeyError) as e:
            raise PublishError(f"{doing}: the answer is not Strapi 5's {{\"data\": …}}: is "
                               "strapi.url a Strapi 5?") from e
        if isinstance(entry, dict) and isinstance(entry.get("attributes"), dict):
            raise PublishError(f"{doing}: the answer nests fields under `attributes`, as "
                               "Strapi 4 does; notify speaks Strapi 5's REST API")
        return entry if isinstance(entry, dict) else None

    def write(self, data: Mapping[str, Any], status: str | None) -> None:
        doing = f"updating {self.target.what}"
        response = self._call("PUT", self.target.endpoint, doing,
                              params=self.target.params(status), json={"data": dict(data)})
        if response.status_code >= 300:
            raise self._failure(response, doing, {
                403: f"the API token in {TOKEN_VARIABLE} needs the update permission on "
                     f"{self.target.collection or self.target.single_type}",
            })

    def _call(self, method: str, url: str, doing: str, **kwargs: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self._token}"}
        try:
            return bounds.fetch(self._http, method, url, headers=headers, **kwargs)
        except httpx.HTTPError as e:
            raise PublishError(
                f"cannot reach Strapi at {self.target.url} ({type(e).__name__}): check "
                "strapi.url or STRAPI_URL and the network"
            ) from e
        except bounds.Exceeded as e:
            raise PublishError(mask_secret(
                f"Strapi's answer to {doing} {e}, so it was cut: check strapi.url and run "
                "notify again later", self._token)) from e

    def _failure(self, response: httpx.Response, doing: str,
                 hints: Mapping[int, str]) -> PublishError:
        status = response.status_code
        error = _strapi_error(response)
        hint = hints.get(status) or {
            400: validation_hint(error),
            401: f"{TOKEN_VARIABLE} is wrong or expired: create an API token in Strapi "
                 "(Settings > API Tokens)",
            404: self._not_found_hint(),
            405: self._not_found_hint(),
        }.get(status, "Strapi failed; run notify again later")
        said = " ".join(str(error.get("message") or response.reason_phrase).split())
        said = mask_secret(said, self._token)[:200]  # masked before the cut: no part survives
        return PublishError(f"{doing} failed: {status} {said}; {hint}")

    def _not_found_hint(self) -> str:
        if self.target.single_type:
            return "check strapi.single_type (the singular API id) and strapi.url"
        return ("check strapi.collection (the plural API id), strapi.document_id and "
                "strapi.url")


def _strapi_error(response: httpx.Response) -> dict[str, Any]:
    """Strapi 5's `{"data": null, "error": {"status", "name", "message", "details"}}`."""
    try:
        error = response.json().get("error")
    except (ValueError, AttributeError):
        return {"message": response.text[:200]}
    return error if isinstance(error, dict) else {}


def validation_hint(error: Mapping[str, Any]) -> str:
    """What a 400 `ValidationError` says is wrong: an unknown field, or a value's type."""
    details = error.get("details")
    details = details if isinstance(details, dict) else {}
    if details.get("key"):
        return (f"the content type has no field `{details['key']}`: fix strapi.fields to name "
                "fields it has")
    problems = details.get("errors")
    fields = [_path(p.get("path")) for p in problems if isinstance(p, dict)] \
        if isinstance(problems, list) else []
    if fields:
        return (f"the field{'s' if len(fields) > 1 else ''} {', '.join(fields)} refuse"
                f"{'' if len(fields) > 1 else 's'} the value's type: map {', '.join(fields)} "
                "in strapi.fields to a field of the right type (text for version, url, sha256, "
                "name, page; a number for size), or change the field's type in Strapi")
    return "check strapi.fields and strapi.locale"


def _path(path: object) -> str:
    """yup's error path: `["size"]` (Strapi 5) or `"size"`."""
    return ".".join(map(str, path)) if isinstance(path, list) else str(path or "?")
