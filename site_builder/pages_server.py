"""A small static server that answers like GitLab Pages: files first, then `_redirects`.

    with PagesServer(Path("public"), prefix="/speech-to-text") as server:
        server.url          # http://127.0.0.1:PORT/speech-to-text/
    answer = lookup(Path("public"), "/speech-to-text/latest/", prefix="/speech-to-text")

`lookup` is the decision, pure apart from reading the folder, and follows gitlab-pages'
`internal/serving/disk` order: the file (a folder without its slash → 302 to it, with it →
its `index.html`; a missing name without `.html` → `name.html`), then the first matching rule
of `_redirects` (a 200 rule serves its target's file, no second round), then `404.html` with
status 404. `GET /<prefix>/_redirects` answers the rules' validity report, as Pages does.
A project site lives under `prefix`; `prefix=""` is a custom or unique domain.

The server binds 127.0.0.1 by default and serves GET and HEAD, single byte ranges (resumed
downloads, `curl -C -`), and `.br`/`.gz` copies negotiated like Pages (not for `Range`
requests). It is for tests and previews, not production.
"""

from __future__ import annotations

import mimetypes
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from urllib.parse import unquote

from .redirects import RedirectRules, parse_redirects

REDIRECTS_FILE = "_redirects"
_BAD_ESCAPE = re.compile(r"%(?![0-9A-Fa-f]{2})")
_CHUNK = 256 * 1024


@dataclass(frozen=True, slots=True)
class Answer:
    """How the site answers one request: a file, a redirect, a report, or not found."""

    status: int
    file: Path | None = None
    location: str | None = None
    text: str | None = None


def _within(root: Path, sub: str) -> Path | None:
    """The existing path `sub` names under `root`, symlinks followed; never outside it."""
    parts = [p for p in sub.split("/") if p]
    if any(p in (".", "..") or "\\" in p or "\x00" in p for p in parts):
        return None
    path = root.joinpath(*parts)
    try:
        real = path.resolve(strict=True)
    except (OSError, RuntimeError):
        return None
    if real != root.resolve() and root.resolve() not in real.parents:
        return None
    return real


def _try_file(root: Path, sub: str, request_path: str, host: str | None) -> Answer | None:
    found = _within(root, sub)
    if found is None:
        if not sub.endswith(".html"):
            found = _within(root, sub.rstrip("/") + ".html")
        if found is None or not found.is_file():
            return None
    if found.is_dir():
        if not request_path.endswith("/"):
            where = f"//{host}{request_path}/" if host else f"{request_path}/"
            return Answer(status=302, location=where)
        found = found / "index.html"
        if not found.is_file():
            return None
    if not found.is_file():
        return None
    if found == (root / REDIRECTS_FILE).resolve():
        report = read_rules(root).report()
        return Answer(status=200, text="\n".join(report) + "\n")
    return Answer(status=200, file=found)


def read_rules(root: Path) -> RedirectRules:
    """The site's `_redirects` as GitLab Pages reads it (none when absent or not a file)."""
    path = root / REDIRECTS_FILE
    if path.is_symlink() or not path.is_file():
        return RedirectRules()
    return parse_redirects(path.read_bytes())


def lookup(
    root: Path,
    path: str,
    *,
    prefix: str = "",
    host: str | None = None,
    rules: RedirectRules | None = None,
) -> Answer:
    """How GitLab Pages answers the decoded request `path` for the site in `root`."""
    prefix = prefix.rstrip("/")
    if path == prefix:
        return Answer(status=302, location=f"{prefix}/")
    if not path.startswith(prefix + "/"):
        return Answer(status=404)  # another project of the namespace: not this site
    sub = path[len(prefix) + 1:]
    answer = _try_file(root, sub, path, host)
    if answer is not None:
        return answer
    rules = read_rules(root) if rules is None else rules
    hit = rules.resolve(path, host=host)
    if hit is not None:
        if hit.status != 200:
            return Answer(status=hit.status, location=hit.location)
        rewritten = hit.location.removeprefix(prefix + "/")
        answer = _try_file(root, rewritten, path, host)
        if answer is not None:
            return answer
    page = _within(root, "404.html")
    return Answer(status=404, file=page if page is not None and page.is_file() else None)


def byte_range(header: str, size: int) -> tuple[int, int] | None:
    """`(start, length)` of a single `Range: bytes=…` (as Go's http.ServeContent reads it);
    the whole file for what it ignores (several ranges, other units); None: unsatisfiable."""
    unit, _, spec = header.partition("=")
    if unit.strip() != "bytes" or "," in spec:
        return (0, size)
    first, dash, last = spec.strip().partition("-")
    if not dash or not (first.isdigit() or last.isdigit()):
        return (0, size)
    if not first:  # the last N bytes
        length = min(int(last), size)
        return (size - length, length) if length > 0 else None
    start = int(first)
    if start >= size:
        return None
    end = min(int(last), size - 1) if last.isdigit() else size - 1
    return (start, end - start + 1) if end >= start else (0, size)


def _content_type(path: Path) -> str:
    kind, _ = mimetypes.guess_type(path.name, strict=False)
    if kind is None:
        return "application/octet-stream"
    return f"{kind}; charset=utf-8" if kind.startswith("text/") else kind


def _encoded_copy(path: Path, accept: str, ranged: bool) -> tuple[Path, str | None]:
    """Pages serves `X.br` or `X.gz` in place of `X` when the client accepts it."""
    if ranged:
        return path, None
    offered = {part.split(";")[0].strip().lower() for part in accept.split(",")}
    for encoding, suffix in (("br", ".br"), ("gzip", ".gz")):
        copy = path.with_name(path.name + suffix)
        if encoding in offered and copy.is_file():
            return copy, encoding
    return path, None


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"
    error_content_type = "text/plain; charset=utf-8"
    error_message_format = "%(code)d %(message)s\n"

    def log_message(self, format: str, *args: object) -> None:
        if self.server.log is not None:
            self.server.log(format % args)

    def do_HEAD(self) -> None:
        self._answer(body=False)

    def do_GET(self) -> None:
        self._answer(body=True)

    def _answer(self, *, body: bool) -> None:
        raw = self.path.partition("?")[0].partition("#")[0]
        if not raw.startswith("/") or _BAD_ESCAPE.search(raw):
            self.send_error(400, "Bad Request")
            return
        decoded = unquote(raw, errors="surrogateescape")
        answer = lookup(self.server.root, decoded, prefix=self.server.prefix,
                        host=self.headers.get("Host"))
        if answer.location is not None:
            self.send_response(answer.status)
            self.send_header("Location", answer.location)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if answer.text is not None:
            self._send_bytes(answer.status, answer.text.encode("utf-8"),
                             "text/plain; charset=utf-8", body)
            return
        if answer.file is None:
            self._send_bytes(answer.status, b"404 page not found\n",
                             "text/plain; charset=utf-8", body)
            return
        asked = self.headers.get("Range")
        source, encoding = _encoded_copy(answer.file, self.headers.get("Accept-Encoding", ""),
                                         asked is not None)
        size = source.stat().st_size
        status, start, length = answer.status, 0, size
        if asked is not None and answer.status == 200:
            span = byte_range(asked, size)
            if span is None:
                self.send_response(416)
                self.send_header("Content-Range", f"bytes */{size}")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            if span != (0, size):
                status, (start, length) = 206, span
        self.send_response(status)
        self.send_header("Content-Type", _content_type(answer.file))
        self.send_header("Content-Length", str(length))
        self.send_header("Accept-Ranges", "bytes")
        self.send_header("Cache-Control", "max-age=600")
        if status == 206:
            self.send_header("Content-Range", f"bytes {start}-{start + length - 1}/{size}")
        if encoding:
            self.send_header("Content-Encoding", encoding)
            self.send_header("Vary", "Accept-Encoding")
        self.end_headers()
        if body:
            with source.open("rb") as stream:
                stream.seek(start)
                while length > 0 and (chunk := stream.read(min(_CHUNK, length))):
                    self.wfile.write(chunk)
                    length -= len(chunk)

    def _send_bytes(self, status: int, data: bytes, kind: str, body: bool) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if body:
            self.wfile.write(data)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    root: Path
    prefix: str
    log: Callable[[str], None] | None = None


class PagesServer:
    """`lookup` over HTTP on 127.0.0.1 (port 0: any free one), in a background thread."""

    def __init__(self, root: Path, *, prefix: str = "", host: str = "127.0.0.1",
                 port: int = 0, log: Callable[[str], None] | None = None) -> None:
        self._server = _Server((host, port), _Handler)
        self._server.root = Path(root)
        self._server.prefix = prefix.rstrip("/")
        self._server.log = log
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        name="pages-server", daemon=True)

    @property
    def origin(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def url(self) -> str:
        """The site's address, prefix included, with a trailing slash."""
        return f"{self.origin}{self._server.prefix}/"

    def start(self) -> PagesServer:
        self._thread.start()
        return self

    def close(self) -> None:
        if self._thread.is_alive():
            self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> PagesServer:
        return self.start()

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.close()
