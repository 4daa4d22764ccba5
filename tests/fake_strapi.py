"""A fake Strapi v5 (REST `PUT /api/<collection>/<documentId>`) on 127.0.0.1 for notify tests.

    with FakeStrapi(token="strapi-x") as cms:
        cms.add_entry("apps", "abc123", {"version": "v1.0.0"})
        ...                                 # the code under test PUTs {"data": {...}}
        cms.updates[-1].body                # what arrived, with its headers

Answers as Strapi does: 401 without a valid Bearer token, 404 for an unknown entry, 400 for a
field the content type does not have, and `{"data": {...}, "meta": {}}` on success.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

try:  # tests/ on sys.path (pytest's default for a folder without __init__.py)
    from fake_object_store import FakeHTTPServer, HTTPError, Request
except ImportError:  # tests/ imported as a package
    from .fake_object_store import FakeHTTPServer, HTTPError, Request  # type: ignore[no-redef]

_ENTRY = re.compile(r"^/api/(?P<collection>[^/]+)/(?P<document_id>[^/]+)$")


@dataclass
class Update:
    """One PUT as it arrived."""

    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: Any


def _error(status: int, name: str, message: str) -> HTTPError:
    return HTTPError(status, {"data": None, "error": {"status": status, "name": name,
                                                      "message": message, "details": {}}})


class FakeStrapi(FakeHTTPServer):
    """Entries by (collection, documentId); only the fields they start with may be written."""

    def __init__(self, *, token: str) -> None:
        super().__init__()
        self.token = token
        self.entries: dict[tuple[str, str], dict[str, Any]] = {}
        self.updates: list[Update] = []

    def add_entry(self, collection: str, document_id: str, fields: dict[str, Any]) -> None:
        self.entries[(collection, document_id)] = dict(fields)

    def route(self, req: Request) -> None:
        match = _ENTRY.match(req.url.path)
        if match is None:
            raise _error(404, "NotFoundError", "Not Found")
        if req.rec.headers.get("authorization") != f"Bearer {self.token}":
            raise _error(401, "UnauthorizedError", "Missing or invalid credentials")
        key = (match["collection"], match["document_id"])
        entry = self.entries.get(key)
        if req.command != "PUT":
            raise _error(405, "MethodNotAllowedError", "Method Not Allowed")
        body = json.loads(req.read_body() or b"null")
        with self._lock:
            self.updates.append(Update(req.url.path, dict(req.query), req.rec.headers, body))
        if entry is None:
            raise _error(404, "NotFoundError", "Not Found")
        data = body.get("data") if isinstance(body, dict) else None
        if not isinstance(data, dict):
            raise _error(400, "ValidationError", 'Missing "data" payload in the request body')
        unknown = sorted(set(data) - set(entry))
        if unknown:
            raise _error(400, "ValidationError", f"Invalid key {unknown[0]}")
        entry.update(data)
        req.send_json(200, {"data": {"documentId": key[1], **entry}, "meta": {}})
