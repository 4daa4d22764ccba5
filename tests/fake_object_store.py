"""The HTTP plumbing shared by the test doubles, and a fake S3-style object store.

`FakeHTTPServer` is a real `ThreadingHTTPServer` on 127.0.0.1 (ephemeral port) in a background
thread, with a request log, fault injection (`fail_next`, `truncate_next`) and a clean `stop()`
that joins every thread, so pytest's `filterwarnings = error` never sees a ResourceWarning.
Subclasses implement `route(req)` and answer through `Request.send*`, or raise `HTTPError`.

`FakeObjectStore` plays the bucket GitLab redirects downloads to (GITLAB.md 1.5, mode 2): a
different port is a different origin, so a client that forwards its GitLab token across the
redirect is caught: the store records the request in `leaks` and answers 400, as S3 does when a
presigned URL arrives with a second auth mechanism.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import re
import secrets
import socket
import threading
import time
import traceback
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self
from urllib.parse import SplitResult, parse_qsl, quote, urlencode, urlsplit

TOKEN_HEADERS = ("private-token", "job-token", "deploy-token", "authorization")
_DRAIN_LIMIT = 64 * 1024 * 1024  # an unread body larger than this is dropped with the connection
_CHUNK = 1024 * 1024


@dataclass
class RequestRecord:
    """One request as the server saw it. `end` is when the response headers went out."""

    method: str
    path: str  # raw request target, still percent-encoded, with the query
    headers: dict[str, str]  # lower-case names
    start: float  # time.monotonic()
    end: float | None = None
    status: int | None = None
    upload_start: float | None = None  # generic PUT: body reading began
    upload_end: float | None = None  # generic PUT: body stored (after upload_delay)


class HTTPError(Exception):
    """Raised by a route to answer with an error; keeps the handlers straight-line code."""

    def __init__(
        self,
        status: int,
        body: dict[str, Any] | bytes = b"",
        headers: dict[str, str] | None = None,
        content_type: str = "text/plain; charset=utf-8",
    ) -> None:
        super().__init__(status)
        self.status, self.body, self.headers = status, body, headers
        self.content_type = content_type


@dataclass
class _Rule:
    """A queued fault: the next `times` requests matching method + path regex get it."""

    method: str
    pattern: re.Pattern[str]
    times: int
    status: int = 0
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    taken: int = 0  # how many requests got it: a test asserts its fault really fired


def content_disposition(file_name: str) -> str:
    """`attachment` header as Rails' ActionDispatch::Http::ContentDisposition.format builds it."""
    ascii_name = file_name.encode("ascii", "replace").decode().replace('"', '\\"')
    return (
        f'attachment; filename="{ascii_name}"; '
        f"filename*=UTF-8''{quote(file_name, safe='!#$&+^`|~-._')}"
    )


def iso(when: datetime) -> str:
    """GitLab's timestamp format: UTC, milliseconds, `Z`."""
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def iso_now() -> str:
    return iso(datetime.now(UTC))


class Request(BaseHTTPRequestHandler):
    """One connection's handler; also the per-request object routes receive."""

    protocol_version = "HTTP/1.1"  # keep-alive and chunked uploads, like a real server
    disable_nagle_algorithm = True  # headers and body go out in separate writes: avoid 40 ms stalls
    server: _Server
    rec: RequestRecord
    url: SplitResult
    query: dict[str, str]

    def log_message(self, format: str, *args: Any) -> None:
        pass  # keep test output clean; everything is in `requests`

    def do_GET(self) -> None:
        app = self.server.app
        headers = {k.lower(): v for k, v in self.headers.items()}
        self.rec = RequestRecord(self.command, self.path, headers, time.monotonic())
        app._record(self.rec)
        self.url = urlsplit(self.path)
        self.query = dict(parse_qsl(self.url.query, keep_blank_values=True))
        te = self.headers.get("Transfer-Encoding", "").lower()
        self._chunked = "chunked" in te
        self._left = 0 if self._chunked else int(self.headers.get("Content-Length") or 0)
        self._body_done = not self._chunked and self._left == 0
        try:
            rule = app._take(app._faults, self.command, self.path)
            if rule is not None:
                json_body = rule.body.startswith(b"{")
                ctype = "application/json" if json_body else "text/plain; charset=utf-8"
                self.send(rule.status, rule.body, {"Content-Type": ctype, **rule.headers})
            else:
                app.route(self)
        except HTTPError as e:
            if isinstance(e.body, dict):
                self.send_json(e.status, e.body, e.headers)
            else:
                self.send(e.status, e.body, {"Content-Type": e.content_type, **(e.headers or {})})
        except (ConnectionError, TimeoutError):
            self.close_connection = True  # the client went away; nothing to answer
        except Exception:
            app.errors.append(traceback.format_exc())  # a bug in the fake: make it visible
            if self.rec.status is None:
                self.send_json(500, {"message": "500 Internal Server Error"})
            self.close_connection = True
        self._finish_body()

    do_HEAD = do_PUT = do_POST = do_DELETE = do_PATCH = do_GET

    # -- request body ---------------------------------------------------------------------------
    def iter_body(self) -> Iterator[bytes]:
        """Yield the body in chunks as it arrives (Content-Length or chunked), never all at once."""
        if self._body_done:
            return
        if self._chunked:
            while size := int(self.rfile.readline(65537).split(b";")[0].strip() or b"0", 16):
                yield from self._read_exactly(size)
                self.rfile.readline()  # the CRLF after each chunk
            while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                pass  # trailers
        else:
            yield from self._read_exactly(self._left)
        self._body_done = True

    def _read_exactly(self, n: int) -> Iterator[bytes]:
        while n:
            data = self.rfile.read(min(n, _CHUNK))
            if not data:
                raise ConnectionResetError("client closed the connection mid-body")
            n -= len(data)
            if not self._chunked:
                self._left = n
            yield data

    def read_body(self) -> bytes:
        return b"".join(self.iter_body())

    def read_params(self) -> dict[str, Any]:
        """Grape merges query, form and JSON body parameters; so do we."""
        params: dict[str, Any] = dict(self.query)
        body = self.read_body()
        if body and "json" in self.headers.get("Content-Type", ""):
            try:
                loaded = json.loads(body)
            except ValueError as e:
                raise HTTPError(400, {"error": f"{e}"}) from e
            params.update(loaded if isinstance(loaded, dict) else {})
        elif body:
            params.update(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
        return params

    def _finish_body(self) -> None:
        # An unread body would be parsed as the next request; drain small ones, drop big ones.
        if self._body_done or self.close_connection:
            return
        if self._chunked or self._left > _DRAIN_LIMIT:
            self.close_connection = True
            return
        try:
            for _ in self.iter_body():
                pass
        except (ConnectionError, TimeoutError):
            self.close_connection = True

    # -- responses ------------------------------------------------------------------------------
    def send(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None, *,
             truncate: bool = False) -> None:
        """Answer with Content-Length of the full body; `truncate` sends half, then hangs up."""
        self.rec.status = status
        self.send_response(status)
        for name, value in {"Content-Length": str(len(body)), **(headers or {})}.items():
            self.send_header(name, value)
        self.end_headers()
        self.rec.end = time.monotonic()
        if self.command == "HEAD":
            return
        if truncate:
            self.wfile.write(body[: len(body) // 2])
            self.close_connection = True
            return
        self.wfile.write(body)

    def send_json(self, status: int, obj: Any, headers: dict[str, str] | None = None) -> None:
        body = json.dumps(obj).encode()
        self.send(status, body, {"Content-Type": "application/json", **(headers or {})})

    def send_content(self, content: bytes, headers: dict[str, str], *,
                     truncate: bool = False) -> None:
        """200 with the bytes, or 206 for a single `Range: bytes=a-b` (object stores support it)."""
        headers = {"Accept-Ranges": "bytes", **headers}
        m = re.fullmatch(r"bytes=(\d*)-(\d*)", self.headers.get("Range", "").strip())
        if m is None or not (m[1] or m[2]):
            return self.send(200, content, headers, truncate=truncate)
        n = len(content)
        start, end = (int(m[1]), int(m[2] or n - 1)) if m[1] else (max(n - int(m[2]), 0), n - 1)
        if start >= n or start > end:
            raise HTTPError(416, b"", {"Content-Range": f"bytes */{n}"})
        end = min(end, n - 1)
        headers["Content-Range"] = f"bytes {start}-{end}/{n}"
        self.send(206, content[start : end + 1], headers, truncate=truncate)


class _Server(ThreadingHTTPServer):
    daemon_threads = False  # so server_close() joins every handler thread
    block_on_close = True

    def __init__(self, app: FakeHTTPServer) -> None:
        self.app = app
        self.open_connections: set[socket.socket] = set()
        self.conn_lock = threading.Lock()
        super().__init__(("127.0.0.1", 0), Request)

    def process_request(self, request: Any, client_address: Any) -> None:
        # Registered here, on the accept thread, so stop() sees every connection it must wake.
        with self.conn_lock:
            self.open_connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self.conn_lock:
            self.open_connections.discard(request)
        super().shutdown_request(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        self.app.errors.append(traceback.format_exc())


class FakeHTTPServer:
    """Start/stop, request log and fault queues; subclasses implement `route`."""

    def __init__(self) -> None:
        self.url = ""
        self.requests: list[RequestRecord] = []
        self.errors: list[str] = []  # tracebacks of bugs in the fake itself
        self._faults: list[_Rule] = []
        self._truncations: list[_Rule] = []
        self._lock = threading.RLock()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    def route(self, req: Request) -> None:
        raise NotImplementedError

    def start(self) -> Self:
        self._server = _Server(self)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is None or self._thread is None:
            return
        server.shutdown()
        self._thread.join()
        # Idle keep-alive connections block their thread in readline(); wake them with EOF.
        with server.conn_lock:
            connections = list(server.open_connections)
        for conn in connections:
            with contextlib.suppress(OSError):  # already closed by its client
                conn.shutdown(socket.SHUT_RDWR)
        server.server_close()  # joins the handler threads

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    def fail_next(
        self,
        method: str,
        path_regex: str,
        status: int,
        *,
        times: int = 1,
        headers: dict[str, str] | None = None,
        body: bytes = b"",
    ) -> _Rule:
        """Answer the next `times` matching requests (method or "*", re.search on the raw path).

        Returns the rule: `rule.taken` says how many requests it answered."""
        with self._lock:
            rule = _Rule(method.upper(), re.compile(path_regex), times, status, headers or {}, body)
            self._faults.append(rule)
        return rule

    def truncate_next(self, path_regex: str, *, times: int = 1) -> _Rule:
        """The next `times` GET downloads of a matching path send half the body, then hang up.

        Returns the rule: `rule.taken` says how many downloads it cut."""
        with self._lock:
            rule = _Rule("GET", re.compile(path_regex), times)
            self._truncations.append(rule)
        return rule

    def _take(self, rules: list[_Rule], method: str, path: str) -> _Rule | None:
        with self._lock:
            for rule in rules:
                if rule.times > 0 and rule.method in ("*", method) and rule.pattern.search(path):
                    rule.times -= 1
                    rule.taken += 1
                    return rule
        return None

    def _record(self, rec: RequestRecord) -> None:
        with self._lock:
            self.requests.append(rec)


@dataclass
class StoredObject:
    content: bytes
    truncate_once: bool = False


def _s3_error(status: int, code: str, message: str) -> HTTPError:
    xml = (f"<?xml version='1.0' encoding='UTF-8'?>"
           f"<Error><Code>{code}</Code><Message>{message}</Message></Error>")
    return HTTPError(status, xml.encode(), content_type="application/xml")


class FakeObjectStore(FakeHTTPServer):
    """A bucket serving bytes at presigned URLs; any auth header on a request is a leak."""

    bucket = "gitlab-packages"

    def __init__(self) -> None:
        super().__init__()
        self.objects: dict[str, StoredObject] = {}  # raw URL path -> object
        self.leaks: list[RequestRecord] = []
        self._secret = secrets.token_bytes(16)

    def presign(self, key: str, content: bytes, *, filename: str, truncate: bool = False) -> str:
        """Store `content` and return a presigned GET/HEAD URL with S3's query parameters."""
        assert self.url, "start() the FakeObjectStore before redirecting downloads to it"
        path = f"/{self.bucket}/{quote(key)}"
        with self._lock:
            self.objects[path] = StoredObject(content, truncate)
        params = {
            "X-Amz-Algorithm": "AWS4-HMAC-SHA256",
            "X-Amz-Credential": "FAKEACCESSKEY/20260101/us-east-1/s3/aws4_request",
            "X-Amz-Date": datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ"),
            "X-Amz-Expires": "900",
            "X-Amz-SignedHeaders": "host",
            "response-content-disposition": content_disposition(filename),
            "response-content-type": "application/octet-stream",
        }
        params["X-Amz-Signature"] = self._sign(path, params)
        return f"{self.url}{path}?{urlencode(params, quote_via=quote)}"

    def _sign(self, path: str, params: dict[str, str]) -> str:
        signed = "&".join(f"{k}={params[k]}" for k in sorted(params) if k != "X-Amz-Signature")
        return hmac.new(self._secret, f"{path}\n{signed}".encode(), hashlib.sha256).hexdigest()

    def route(self, req: Request) -> None:
        if any(name in req.rec.headers for name in TOKEN_HEADERS):
            with self._lock:
                self.leaks.append(req.rec)
            raise _s3_error(400, "InvalidArgument", "Only one auth mechanism allowed")
        if req.command not in ("GET", "HEAD"):
            raise _s3_error(405, "MethodNotAllowed", "The specified method is not allowed")
        obj = self.objects.get(req.url.path)
        if obj is None:
            raise _s3_error(404, "NoSuchKey", "The specified key does not exist.")
        expected = self._sign(req.url.path, req.query)
        if not hmac.compare_digest(req.query.get("X-Amz-Signature", ""), expected):
            raise _s3_error(403, "SignatureDoesNotMatch", "The request signature does not match")
        truncate = False
        if req.command == "GET":
            with self._lock:
                truncate, obj.truncate_once = obj.truncate_once, False
            truncate = truncate or self._take(self._truncations, "GET", req.path) is not None
        headers = {
            "Content-Type": req.query.get("response-content-type", "binary/octet-stream"),
            "ETag": f'"{hashlib.md5(obj.content).hexdigest()}"',  # S3's ETag is the MD5
        }
        if "response-content-disposition" in req.query:
            headers["Content-Disposition"] = req.query["response-content-disposition"]
        req.send_content(obj.content, headers, truncate=truncate)
