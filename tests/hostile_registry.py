"""A hostile registry: the fake GitLab, plus answers an attacker (or a broken proxy) would give.

A real HTTP server on 127.0.0.1. Each attack is queued for requests whose method and raw path
match, and served instead of GitLab's answer; everything else is the strict fake GitLab.

    with HostileRegistry() as evil:
        evil.add_token(TOKEN)
        evil.drip("GET", r"/packages\\?", every=0.2)        # one byte every 0.2 s, forever
        evil.gzip_bomb("GET", r"/packages\\?", size=300 * MiB)
        evil.endless_json("GET", r"/packages\\?")           # chunked rows that never end
        evil.counting_pages("GET", r"/packages\\?")         # X-Next-Page: page + 1, forever
        evil.echo_token("GET", r"/packages\\?", status=500)  # the token in the error body
        evil.hits["drip"]                                    # how often each attack fired

`hits` lets a test prove its fault really fired: a test of a defence that never met the attack
passes for the wrong reason.
"""

from __future__ import annotations

import json
import re
import struct
import threading
import time
import zlib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

try:  # tests/ on sys.path (pytest's default for a folder without __init__.py)
    from fake_gitlab import FakeGitLab
    from fake_object_store import Request
except ImportError:  # tests/ imported as a package
    from .fake_gitlab import FakeGitLab  # type: ignore[no-redef]
    from .fake_object_store import Request  # type: ignore[no-redef]

MiB = 1024 * 1024


@cache
def gzip_of_zeros(size: int) -> bytes:
    """A gzip member that inflates to `size` zero bytes (about 1000:1), made in milliseconds:
    each MiB is compressed once and repeated (a full flush makes the pieces independent)."""
    packer = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    block = bytes(MiB)
    piece = packer.compress(block) + packer.flush(zlib.Z_FULL_FLUSH)
    crc = 0
    for _ in range(size // MiB):
        crc = zlib.crc32(block, crc)
    deflated = piece * (size // MiB) + packer.flush()
    header = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"
    return header + deflated + struct.pack("<II", crc, size & 0xFFFFFFFF)


@dataclass
class Attack:
    name: str
    method: str
    pattern: re.Pattern[str]
    serve: Callable[[Request], None]
    times: int | None  # None: every matching request


class HostileRegistry(FakeGitLab):
    """The fake GitLab with queued attacks; `hits` counts the attacks that were served."""

    def __init__(self, **kw: Any) -> None:
        super().__init__(**kw)
        self.attacks: list[Attack] = []
        self.hits: Counter[str] = Counter()
        self._stopping = threading.Event()

    def stop(self) -> None:
        self._stopping.set()  # drips end, so the server's threads can be joined
        super().stop()

    def route(self, req: Request) -> None:
        with self._lock:
            attack = next((a for a in self.attacks if a.method in ("*", req.command)
                           and a.pattern.search(req.path) and a.times != 0), None)
            if attack is not None:
                if attack.times is not None:
                    attack.times -= 1
                self.hits[attack.name] += 1
        if attack is None:
            super().route(req)
        else:
            attack.serve(req)

    def attack(self, name: str, method: str, path_regex: str, serve: Callable[[Request], None],
               times: int | None = None) -> None:
        with self._lock:
            self.attacks.append(Attack(name, method, re.compile(path_regex), serve, times))

    # -- the attacks ----------------------------------------------------------------------------
    def drip(self, method: str, path_regex: str, *, every: float, status: int = 200,
             content_type: str = "application/json", head: bytes = b"[",
             length: int = 10 * MiB, times: int | None = None) -> None:
        """Headers at once, then `head`, then one byte every `every` seconds, never finishing."""

        def serve(req: Request) -> None:
            for _ in req.iter_body():  # an upload is taken whole; then its answer drips
                pass
            self._headers(req, status, {"Content-Type": content_type,
                                        "Content-Length": str(length)})
            req.wfile.write(head)
            sent = len(head)
            while sent < length and not self._stopping.wait(every):
                req.wfile.write(b" ")
                sent += 1
            req.close_connection = True

        self.attack("drip", method, path_regex, serve, times)

    def drip_headers(self, method: str, path_regex: str, *, every: float, length: int = 4000,
                     times: int | None = None) -> None:
        """A status line, then a header one byte every `every` seconds: no answer ever starts."""

        def serve(req: Request) -> None:
            req.close_connection = True
            req.rec.status = 200
            req.wfile.write(b"HTTP/1.1 200 OK\r\nX-Slow: ")
            for _ in range(length):
                if self._stopping.wait(every):
                    return
                req.wfile.write(b"a")
            req.wfile.write(b"\r\nContent-Length: 2\r\nConnection: close\r\n\r\n[]")

        self.attack("drip_headers", method, path_regex, serve, times)

    def gzip_bomb(self, method: str, path_regex: str, *, size: int,
                  times: int | None = None) -> None:
        """`Content-Encoding: gzip` whose body inflates to `size` bytes (of zeros)."""

        def serve(req: Request) -> None:
            body = gzip_of_zeros(size)
            self._headers(req, 200, {"Content-Type": "application/json",
                                     "Content-Encoding": "gzip",
                                     "Content-Length": str(len(body))})
            req.wfile.write(body)

        self.attack("gzip_bomb", method, path_regex, serve, times)

    def endless_json(self, method: str, path_regex: str, *, limit: int = 1 << 40,
                     times: int | None = None) -> None:
        """A chunked JSON list of rows that never ends (until the client hangs up, or `limit`
        bytes went out: a client without a cap then fails without taking the machine down)."""
        row = json.dumps({"id": 1, "name": "App", "version": "1.0.0"}).encode() + b","
        chunk = row * 2000

        def serve(req: Request) -> None:
            self._headers(req, 200, {"Content-Type": "application/json",
                                     "Transfer-Encoding": "chunked"})
            req.wfile.write(b"1\r\n[\r\n")
            frame = f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n"
            sent = 0
            while sent < limit and not self._stopping.is_set():
                req.wfile.write(frame)
                sent += len(chunk)
            req.wfile.write(b"0\r\n\r\n")

        self.attack("endless_json", method, path_regex, serve, times)

    def counting_pages(self, method: str, path_regex: str, *, total_pages: int | None = None,
                       next_page: Callable[[int], int] = lambda page: page + 1,
                       times: int | None = None) -> None:
        """One row per page and an `X-Next-Page` that keeps counting (or what `next_page` says);
        `X-Total-Pages` only when `total_pages` is given."""

        def serve(req: Request) -> None:
            page = int(req.query.get("page") or 1)
            headers = {"X-Page": str(page), "X-Next-Page": str(next_page(page)),
                       "X-Per-Page": req.query.get("per_page", "20")}
            if total_pages is not None:
                headers["X-Total-Pages"] = str(total_pages)
            row = {"id": page, "name": "App", "version": f"1.0.{page}",
                   "package_type": "generic", "status": "default",
                   "created_at": "2026-01-01T00:00:00.000Z"}
            req.send_json(200, [row], headers)

        self.attack("counting_pages", method, path_regex, serve, times)

    def echo_token(self, method: str, path_regex: str, *, status: int,
                   text: Callable[[str], str], times: int | None = None,
                   headers: dict[str, str] | None = None) -> None:
        """An error whose JSON `message` is `text(token)`, the token the request carried."""

        def serve(req: Request) -> None:
            h = req.rec.headers
            token = next((h[k] for k in ("private-token", "job-token", "deploy-token")
                          if k in h), h.get("authorization", "").partition(" ")[2])
            req.send_json(status, {"message": text(token)}, headers)

        self.attack("echo_token", method, path_regex, serve, times)

    def pages(self, method: str, path_regex: str, pages: list[list[Any]], *,
              times: int | None = None) -> None:
        """A list answered page by page with these rows (`X-Next-Page` until the last), e.g.
        a row repeated on two pages, as offset pagination does when rows move mid-walk."""

        def serve(req: Request) -> None:
            page = int(req.query.get("page") or 1)
            rows = pages[page - 1] if page <= len(pages) else []
            after = str(page + 1) if page < len(pages) else ""
            req.send_json(200, rows, {"X-Page": str(page), "X-Next-Page": after})

        self.attack("pages", method, path_regex, serve, times)

    def rows(self, method: str, path_regex: str, rows: list[Any], *,
             times: int | None = None) -> None:
        """A list answer of exactly these rows (wrong types, missing fields, …)."""

        def serve(req: Request) -> None:
            req.send_json(200, rows, {"X-Page": "1", "X-Next-Page": "", "X-Total-Pages": "1"})

        self.attack("rows", method, path_regex, serve, times)

    @staticmethod
    def _headers(req: Request, status: int, headers: dict[str, str]) -> None:
        """The headers of a streamed attack; the connection is not reused (the client may hang
        up mid-body, which is no bug of the server's)."""
        req.close_connection = True
        req.rec.status = status
        req.send_response(status)
        for name, value in {**headers, "Connection": "close"}.items():
            req.send_header(name, value)
        req.end_headers()
        req.rec.end = time.monotonic()
