"""A fake Strapi 5 REST API on 127.0.0.1 for notify tests, with Draft & Publish and i18n.

    with FakeStrapi(token="strapi-x") as cms:
        cms.add_entry("apps", "abc123", {"version": "v1.0.0"})          # a collection type
        cms.add_single_type("latest-release", {"version": "v1.0.0"})    # a single type
        cms.draft("apps", "abc123")["version"]; cms.published("apps", "abc123")["updatedAt"]

What it does as Strapi 5 does (docs.strapi.io: REST API, Draft & Publish, Error handling):
- `GET|PUT /api/<plural>/<documentId>` and `GET|PUT /api/<singular>` (single types), with
  `?status=draft|published` (default published) and `?locale=` (default: the default locale);
- with Draft & Publish on, a document has a draft and, once published, a published version;
  `GET ?status=published` of a never-published document is 404; `PUT` writes the draft and,
  without `?status=draft`, publishes the whole draft (an editor's unpublished edits included);
  every write sets `updatedAt` (and a publish `publishedAt`) from a clock that always moves;
- `PUT ?locale=xx` for a localisation the document lacks creates it, even when Strapi has no
  locale `xx` (the mistake `GET /api/i18n/locales` lets a client catch first);
- errors read `{"data": null, "error": {"status", "name", "message", "details"}}`: 401 without a
  valid Bearer token, 403 for an action the token may not do, 404 for an unknown route or
  document, 400 `ValidationError` for `Invalid key <name>` (details `{key, path}`) or a value of
  the wrong type (yup's message, details `{errors: [{path, message, name, value}]}`).
"""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

try:  # tests/ on sys.path (pytest's default for a folder without __init__.py)
    from fake_object_store import FakeHTTPServer, HTTPError, Request, iso
except ImportError:  # tests/ imported as a package
    from .fake_object_store import (  # type: ignore[no-redef]
        FakeHTTPServer,
        HTTPError,
        Request,
        iso,
    )

_ENTRY = re.compile(r"^/api/(?P<name>[^/]+)(?:/(?P<document_id>[^/]+))?$")
SYSTEM_FIELDS = ("id", "documentId", "createdAt", "updatedAt", "publishedAt", "locale")
# yup's words for the types Strapi validates scalar attributes with
_YUP_TYPES = {"string": "string", "text": "string", "integer": "number", "biginteger": "number",
              "float": "number", "decimal": "number", "boolean": "boolean"}


@dataclass
class Update:
    """One PUT as it arrived."""

    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: Any


@dataclass
class ContentType:
    """A collection type (`plural` + documentId) or a single type (`singular`)."""

    singular: str
    plural: str
    kind: str  # "collectionType" | "singleType"
    schema: dict[str, str]  # attribute -> Strapi type
    draft_and_publish: bool = True


@dataclass
class Document:
    """One document: per locale, its draft and (once published) its published version."""

    content_type: ContentType
    document_id: str
    drafts: dict[str, dict[str, Any]] = field(default_factory=dict)
    published: dict[str, dict[str, Any]] = field(default_factory=dict)


def strapi_error(status: int, name: str, message: str,
                 details: dict[str, Any] | None = None) -> HTTPError:
    return HTTPError(status, {"data": None, "error": {"status": status, "name": name,
                                                      "message": message,
                                                      "details": details or {}}})


def _stored(type_name: str, value: Any) -> Any:
    """A value as Strapi returns it later: datetimes with milliseconds, dates as the day."""
    if type_name in ("datetime", "date") and isinstance(value, str):
        when = datetime.fromisoformat(value)
        return when.date().isoformat() if type_name == "date" else iso(when)
    return value


def _schema_of(fields: dict[str, Any]) -> dict[str, str]:
    def kind(value: Any) -> str:
        if isinstance(value, bool):
            return "boolean"
        if isinstance(value, int):
            return "integer"
        if isinstance(value, float):
            return "float"
        return "string"

    return {name: kind(value) for name, value in fields.items()}


class FakeStrapi(FakeHTTPServer):
    """Content types, documents and locales in memory; see the module docstring."""

    def __init__(self, *, token: str, locales: tuple[str, ...] = ("en",)) -> None:
        super().__init__()
        self.token = token
        self.locales = list(locales)  # the first is the default locale
        self.denied: set[str] = set()  # "find", "update", "locales": answered 403
        self.types: dict[str, ContentType] = {}  # by the name in the URL
        self.documents: dict[tuple[str, str], Document] = {}  # (plural|singular, documentId)
        self.updates: list[Update] = []
        self._now = datetime(2026, 1, 1, tzinfo=UTC)
        self._ids = 0

    # -- set-up ---------------------------------------------------------------------------------
    def add_entry(self, collection: str, document_id: str, fields: dict[str, Any], *,
                  schema: dict[str, str] | None = None, draft_and_publish: bool = True,
                  published: bool = True, locale: str | None = None,
                  draft: dict[str, Any] | None = None) -> None:
        """A document of collection type `collection`; `draft` holds unpublished edits."""
        kind = ContentType(collection.rstrip("s") or collection, collection, "collectionType",
                           schema or _schema_of({**fields, **(draft or {})}), draft_and_publish)
        self._add(kind, collection, document_id, fields, published, locale, draft)

    def add_single_type(self, singular: str, fields: dict[str, Any], *,
                        schema: dict[str, str] | None = None, draft_and_publish: bool = True,
                        published: bool = True, locale: str | None = None,
                        draft: dict[str, Any] | None = None) -> None:
        kind = ContentType(singular, singular + "s", "singleType",
                           schema or _schema_of({**fields, **(draft or {})}), draft_and_publish)
        self._add(kind, singular, "single", fields, published, locale, draft)

    def _add(self, kind: ContentType, name: str, document_id: str, fields: dict[str, Any],
             published: bool, locale: str | None, draft: dict[str, Any] | None) -> None:
        with self._lock:
            known = self.types.setdefault(name, kind)
            for attribute, type_name in kind.schema.items():
                known.schema.setdefault(attribute, type_name)
            kind = known
            doc = self.documents[(name, document_id)] = Document(kind, document_id)
            locale = locale or self.locales[0]
            values = {key: fields.get(key) for key in kind.schema}
            stamp = self._tick()
            version = {"id": self._next_id(), "documentId": document_id, **values,
                       "createdAt": stamp, "updatedAt": stamp, "publishedAt": None,
                       "locale": locale}
            doc.drafts[locale] = {**version, **(draft or {})}
            if published or not kind.draft_and_publish:
                doc.published[locale] = {**version, "id": self._next_id(), "publishedAt": stamp}
                if not kind.draft_and_publish:
                    doc.drafts[locale] = doc.published[locale]

    # -- what tests read ------------------------------------------------------------------------
    def draft(self, name: str, document_id: str = "single", locale: str | None = None
              ) -> dict[str, Any]:
        return self.documents[(name, document_id)].drafts[locale or self.locales[0]]

    def published(self, name: str, document_id: str = "single", locale: str | None = None
                  ) -> dict[str, Any] | None:
        return self.documents[(name, document_id)].published.get(locale or self.locales[0])

    def snapshot(self) -> str:
        """Every document version, timestamps included: equal snapshots mean nothing changed."""
        with self._lock:
            return json.dumps({f"{k[0]}/{k[1]}": (d.drafts, d.published)
                               for k, d in sorted(self.documents.items())}, sort_keys=True)

    # -- the API --------------------------------------------------------------------------------
    def route(self, req: Request) -> None:
        path = req.url.path
        if path == "/api/i18n/locales":
            self._authorize(req, "locales")
            return self._list_locales(req)
        match = _ENTRY.match(path)
        kind = self.types.get(match["name"]) if match else None
        if match is None or kind is None or (
            (kind.kind == "singleType") != (match["document_id"] is None)
        ):
            raise strapi_error(404, "NotFoundError", "Not Found")
        if req.command not in ("GET", "PUT"):
            raise strapi_error(405, "MethodNotAllowedError", "Method Not Allowed")
        self._authorize(req, "find" if req.command == "GET" else "update")
        document_id = match["document_id"] or "single"
        locale = req.query.get("locale") or self.locales[0]
        status = req.query.get("status") or "published"
        if status not in ("draft", "published"):
            raise strapi_error(400, "ValidationError", "Invalid status",
                               {"key": "status", "path": "status", "source": "query"})
        with self._lock:
            if req.command == "GET":
                return self._find(req, kind, match["name"], document_id, locale, status)
            return self._update(req, kind, match["name"], document_id, locale, status)

    def _authorize(self, req: Request, action: str) -> None:
        if req.rec.headers.get("authorization") != f"Bearer {self.token}":
            raise strapi_error(401, "UnauthorizedError", "Missing or invalid credentials")
        if action in self.denied:
            raise strapi_error(403, "ForbiddenError", "Forbidden")

    def _list_locales(self, req: Request) -> None:
        req.send_json(200, [
            {"id": n + 1, "documentId": f"locale{n}", "name": f"Locale ({code})", "code": code,
             "isDefault": n == 0, "createdAt": iso(self._now), "updatedAt": iso(self._now),
             "publishedAt": iso(self._now)}
            for n, code in enumerate(self.locales)
        ])

    def _find(self, req: Request, kind: ContentType, name: str, document_id: str, locale: str,
              status: str) -> None:
        doc = self.documents.get((name, document_id))
        versions = doc.drafts if doc and status == "draft" else doc.published if doc else {}
        version = versions.get(locale)
        if version is None:
            raise strapi_error(404, "NotFoundError", "Not Found")
        req.send_json(200, {"data": version, "meta": {}})

    def _update(self, req: Request, kind: ContentType, name: str, document_id: str,
                locale: str, status: str) -> None:
        body = json.loads(req.read_body() or b"null")
        self.updates.append(Update(req.url.path, dict(req.query), req.rec.headers, body))
        doc = self.documents.get((name, document_id))
        if doc is None and kind.kind == "collectionType":
            raise strapi_error(404, "NotFoundError", "Not Found")
        data = body.get("data") if isinstance(body, dict) else None
        if not isinstance(data, dict):
            raise strapi_error(400, "ValidationError",
                               'Missing "data" payload in the request body')
        self._validate(kind, data)
        if doc is None:
            doc = self.documents[(name, document_id)] = Document(kind, document_id)
        stamp = self._tick()
        current = doc.drafts.get(locale)
        if current is None:  # a new localisation, whether or not Strapi has that locale
            current = {"id": self._next_id(), "documentId": document_id,
                       **dict.fromkeys(kind.schema), "createdAt": stamp, "locale": locale,
                       "publishedAt": None}
        data = {key: _stored(kind.schema[key], value) for key, value in data.items()}
        draft = {**copy.deepcopy(current), **data, "updatedAt": stamp}
        if not kind.draft_and_publish:
            draft["publishedAt"] = stamp
            doc.drafts[locale] = doc.published[locale] = draft
            return req.send_json(200, {"data": draft, "meta": {}})
        doc.drafts[locale] = draft
        if status == "draft":
            return req.send_json(200, {"data": draft, "meta": {}})
        published = {**copy.deepcopy(draft), "id": self._next_id(), "publishedAt": stamp}
        doc.published[locale] = published
        req.send_json(200, {"data": published, "meta": {}})

    @staticmethod
    def _validate(kind: ContentType, data: dict[str, Any]) -> None:
        for key in data:
            if key not in kind.schema:
                raise strapi_error(400, "ValidationError", f"Invalid key {key}",
                                   {"key": key, "path": key, "source": "body"})
        errors = []
        for key, value in data.items():
            expected = _YUP_TYPES.get(kind.schema[key], "string")
            actual = ("boolean" if isinstance(value, bool) else
                      "number" if isinstance(value, int | float) else
                      "string" if isinstance(value, str) else "object")
            if value is not None and actual != expected:
                errors.append({"path": [key], "name": "ValidationError", "value": value,
                               "message": f"{key} must be a `{expected}` type, but the final "
                                          f"value was: `{json.dumps(value)}`."})
        if errors:
            message = errors[0]["message"] if len(errors) == 1 else (
                f"{len(errors)} errors occurred")
            raise strapi_error(400, "ValidationError", message, {"errors": errors})

    def _tick(self) -> str:
        self._now += timedelta(milliseconds=1)
        return iso(self._now)

    def _next_id(self) -> int:
        self._ids += 1
        return self._ids
