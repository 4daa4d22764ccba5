"""Every wait has a deadline, every buffer a cap: the bounds of one HTTP exchange.

    limits = Limits(deadline=2.0)                       # tests shrink them; Limits() in production
    guard = Guard("GET /projects/42/packages", deadline=limits.deadline)
    with watching(guard):
        response = http.send(http.build_request("GET", url, extensions=guard.extensions(30.0)),
                             stream=True)
        answer = read_capped(response, guard, limits.max_response)   # a loaded httpx.Response

A per-read timeout alone lets a server that drips a byte every 20 s hold a request forever, and
an answer read whole lets a gzip bomb or an endless chunked body fill memory. Here:

- a `Guard` is one request's clock. A watchdog thread checks every guard ten times a second and
  *trips* one whose deadline passed, or whose body flows slower than a floor over a window, by
  shutting its socket down: the blocked read returns at once, whatever the per-read timeout;
- `read_capped` reads an API answer as it arrives, decompressing it itself (gzip or deflate,
  `max_length`-bounded) and stops one byte past the cap;
- `cancel_all()` (the CLI's SIGINT/SIGTERM handler) trips every guard, shuts every socket opened
  through a guard, and makes every later request, retry pause and chunk loop stop at once.

Bound failures raise `Exceeded`, whose message completes "the answer to GET …": each client
turns it into its own one-line error.
"""

from __future__ import annotations

import contextlib
import signal
import socket
import threading
import time
import weakref
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx

from .errors import Interrupted

MiB = 1024 * 1024


@dataclass(frozen=True, slots=True)
class Limits:
    """How long and how much one exchange may take (README "Robustness" names each default;
    the plugin options that set them are in `settings.LIMIT_OPTIONS`).

    `deadline` bounds a whole API answer, redirects and body included, and the opening of a
    download; a download's body is bounded by `min_rate` bytes/s over any `rate_window`
    seconds instead (a big file may take long, but never stall); `max_response` caps an API
    answer after decompression; `max_pages` caps one paginated walk.
    """

    deadline: float = 120.0
    max_response: int = 32 * MiB
    min_rate: int = 16 * 1024
    rate_window: float = 30.0
    max_pages: int = 1000


DEFAULT_LIMITS = Limits()  # what a client gets unless told otherwise; tests swap it

_CHECK_EVERY = 0.1  # seconds between the watchdog's rounds
_PIECE = 16 * 1024  # bytes an upload's body is handed over in
_CANCELLED = threading.Event()
_SOCKETS: weakref.WeakSet[socket.socket] = weakref.WeakSet()  # every socket a guard saw open
_POOLS: weakref.WeakKeyDictionary[httpx.Client, weakref.WeakSet[socket.socket]] = \
    weakref.WeakKeyDictionary()
_POOLS_LOCK = threading.Lock()


def _pool_of(http: httpx.Client) -> weakref.WeakSet[socket.socket]:
    with _POOLS_LOCK:
        return _POOLS.setdefault(http, weakref.WeakSet())


class Exceeded(Exception):
    """An exchange went past a bound; `str()` ends the sentence "the answer to GET … "."""


def _size(n: float) -> str:
    for unit in ("bytes", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:g} {unit}" if unit == "bytes" else f"{n:.3g} {unit}"
        n /= 1024
    raise AssertionError("unreachable")


class Guard:
    """One request's clock: trips at its deadline, or when its body flows below a floor."""

    def __init__(self, what: str, *, deadline: float | None = None, min_rate: int = 0,
                 rate_window: float = 0.0, http: httpx.Client | None = None) -> None:
        self.what = what
        # the sockets `http` ever opened: the one a reused connection waits on is among them
        self.pool = _pool_of(http) if http is not None else None
        self.started = time.monotonic()
        self.deadline = deadline
        self.expires = self.started + deadline if deadline else None
        self.min_rate, self.rate_window = min_rate, rate_window
        self.received = 0
        self.tripped: str | None = None  # why the exchange was cut
        self._window: tuple[float, int] | None = None  # (start, bytes received by then)
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()

    # -- the request side -----------------------------------------------------------------------
    def extensions(self, timeout: float) -> dict[str, Any]:
        """httpx request extensions: per-read timeouts within the deadline, sockets recorded."""
        left = self.remaining()
        read = timeout if left is None else max(min(timeout, left), 0.001)
        return {"timeout": {"connect": read, "read": read, "write": timeout, "pool": read},
                "trace": self._trace}

    def _trace(self, event: str, info: dict[str, Any]) -> None:
        if event in ("connection.connect_tcp.complete", "connection.start_tls.complete"):
            stream = info.get("return_value")
            sock = stream.get_extra_info("socket") if stream is not None else None
            if isinstance(sock, socket.socket):
                self._watch_socket(sock)

    def attach(self, response: httpx.Response) -> None:
        """Know the socket of `response`, so a trip wakes the read blocked on it."""
        stream = response.extensions.get("network_stream")
        sock = stream.get_extra_info("socket") if stream is not None else None
        if isinstance(sock, socket.socket):
            self._watch_socket(sock)

    def _watch_socket(self, sock: socket.socket) -> None:
        _SOCKETS.add(sock)
        if self.pool is not None:
            self.pool.add(sock)
        with self._lock:
            self._sockets.append(sock)
            tripped = self.tripped is not None
        if tripped:
            _shut(sock)

    def flowing(self) -> None:
        """The body starts: from now on the rate floor counts, and the deadline no longer does
        when a floor is set (a download may be long, but never stalled)."""
        if self.min_rate:
            self.expires = None
            self._window = (time.monotonic(), self.received)

    def count(self, n: int) -> None:
        self.received += n

    def remaining(self) -> float | None:
        return None if self.expires is None else self.expires - time.monotonic()

    # -- the watchdog side ----------------------------------------------------------------------
    def check(self, now: float | None = None) -> str | None:
        """Trip the guard if a bound was passed; return why it is tripped, if it is."""
        if self.tripped is not None:
            return self.tripped
        now = time.monotonic() if now is None else now
        if _CANCELLED.is_set():
            self.trip("was cancelled: the build was interrupted")
        elif self.expires is not None and now >= self.expires:
            self.trip(f"took longer than {self.deadline:g} s")
        elif self._window is not None and now - self._window[0] >= self.rate_window:
            start, before = self._window
            if self.received - before < self.min_rate * (now - start):
                self.trip(f"arrived slower than {_size(self.min_rate)}/s for "
                          f"{self.rate_window:g} s")
            else:
                self._window = (now, self.received)
        return self.tripped

    def trip(self, why: str) -> None:
        with self._lock:
            if self.tripped is not None:
                return
            self.tripped = why
            sockets = list(self._sockets)
        if not sockets and self.pool is not None:
            # Waiting for the headers on a reused connection: its socket is not known, but it
            # is one of the client's that no other request in flight holds (idle ones are
            # harmless to shut: the pool sees them closed and connects afresh).
            with _WATCHDOG.wakeup:
                others = [g for g in _WATCHDOG.guards if g is not self]
            busy = {sock for g in others for sock in g._sockets}
            sockets = [sock for sock in list(self.pool) if sock not in busy]
        for sock in sockets:
            _shut(sock)

    def raise_if_tripped(self) -> None:
        if self.check() is not None:
            if _CANCELLED.is_set():
                raise Interrupted()
            raise Exceeded(self.tripped)

    def sending(self, content: Any) -> Iterator[bytes]:
        """An upload's body (chunks or a file), counted under the rate floor; once it is all
        sent, the answer is due within the deadline."""
        self.flowing()
        parts = iter(lambda: content.read(MiB), b"") if hasattr(content, "read") else content
        for chunk in parts:
            # in small pieces, so a slow but steady link counts as steady (a 1 MiB piece would
            # take longer than the window to send at a rate just above the floor)
            for start in range(0, len(chunk), _PIECE):
                piece = chunk[start:start + _PIECE]
                self.count(len(piece))
                self.raise_if_tripped()
                yield piece
        self._window, self.min_rate = None, 0  # the answer: a deadline, no floor
        self.expires = time.monotonic() + self.deadline if self.deadline else None

    def chunks(self, raw: Iterator[bytes]) -> Iterator[bytes]:
        """`raw`, counted and checked chunk by chunk; a cut read raises `Exceeded`."""
        self.flowing()
        try:
            for chunk in raw:
                self.count(len(chunk))
                self.raise_if_tripped()
                yield chunk
        except httpx.TransportError:
            self.raise_if_tripped()  # our own cut: say which bound, not "connection reset"
            raise


def _shut(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):  # already closed
        sock.shutdown(socket.SHUT_RDWR)


class _Watchdog:
    """One daemon thread that checks the guards of every request in flight."""

    def __init__(self) -> None:
        self.guards: set[Guard] = set()
        self.wakeup = threading.Condition()
        self.thread: threading.Thread | None = None

    def add(self, guard: Guard) -> None:
        with self.wakeup:
            self.guards.add(guard)
            if self.thread is None or not self.thread.is_alive():
                self.thread = threading.Thread(target=self._run, name="site-builder-watchdog",
                                               daemon=True)
                self.thread.start()
            self.wakeup.notify()

    def discard(self, guard: Guard) -> None:
        with self.wakeup:
            self.guards.discard(guard)

    def _run(self) -> None:
        while True:
            with self.wakeup:
                while not self.guards:
                    self.wakeup.wait()
                guards = list(self.guards)
            now = time.monotonic()
            for guard in guards:
                guard.check(now)
            time.sleep(_CHECK_EVERY)


_WATCHDOG = _Watchdog()


@contextlib.contextmanager
def watching(guard: Guard) -> Iterator[Guard]:
    """Keep `guard` checked while the block runs; refuse to start once cancelled."""
    if _CANCELLED.is_set():
        raise Interrupted()
    _WATCHDOG.add(guard)
    try:
        yield guard
    finally:
        _WATCHDOG.discard(guard)


# -- cancellation -------------------------------------------------------------------------------

def cancel_all() -> None:
    """Stop every exchange now and refuse new ones (the CLI calls it on SIGINT/SIGTERM)."""
    _CANCELLED.set()
    with _WATCHDOG.wakeup:
        guards = list(_WATCHDOG.guards)
    for guard in guards:
        guard.check()
    for sock in list(_SOCKETS):
        _shut(sock)


def reset_cancel() -> None:
    """Allow requests again (after an interrupted command returned, in the same process)."""
    _CANCELLED.clear()


def cancelled() -> bool:
    return _CANCELLED.is_set()


def pause(seconds: float) -> None:
    """`time.sleep` that an interrupt ends at once, raising Interrupted."""
    if _CANCELLED.wait(max(seconds, 0.0)):
        raise Interrupted()


# -- bounded bodies -----------------------------------------------------------------------------

def _decoder(encoding: str) -> Any:
    """A zlib decompressor for the Content-Encoding we asked for, None for identity."""
    encoding = encoding.strip().lower()
    if encoding in ("", "identity"):
        return None
    if encoding in ("gzip", "x-gzip"):
        return zlib.decompressobj(16 + zlib.MAX_WBITS)
    if encoding == "deflate":
        return zlib.decompressobj()
    raise Exceeded(f"came with Content-Encoding {encoding!r}, which was not asked for")


ACCEPT_ENCODING = "gzip, deflate"  # what `read_capped` can decompress within its cap


def read_capped(response: httpx.Response, guard: Guard, cap: int) -> httpx.Response:
    """The answer with its body read, decompressed and at most `cap` bytes; else `Exceeded`.

    The returned response holds the decoded body (`.json()`, `.text` work) and no longer the
    Content-Encoding header; `response` itself is closed.
    """
    try:
        guard.attach(response)
        decoder = _decoder(response.headers.get("content-encoding", ""))
        body = bytearray()
        too_big = f"was larger than {_size(cap)} (after decompression)"
        for raw in guard.chunks(response.iter_raw()):
            data = raw
            while data:
                if decoder is None:
                    piece, data = data, b""
                else:
                    try:
                        piece = decoder.decompress(data, cap - len(body) + 1)
                    except zlib.error as e:
                        raise Exceeded(f"could not be decompressed ({e})") from e
                    data = decoder.unconsumed_tail
                body += piece
                if len(body) > cap:
                    raise Exceeded(too_big)
    finally:
        response.close()
    skip = {"content-encoding", "content-length", "transfer-encoding"}
    return httpx.Response(
        response.status_code,
        headers=[(k, v) for k, v in response.headers.multi_items() if k.lower() not in skip],
        content=bytes(body),
        request=response.request,
        extensions={k: v for k, v in response.extensions.items() if k != "network_stream"},
    )


def fetch(http: httpx.Client, method: str, url: str, *, limits: Limits | None = None,
          timeout: float = 30.0, **kwargs: Any) -> httpx.Response:
    """One bounded exchange for a client with no policy of its own (Strapi, a site's JSON):
    `http.request` with the whole answer within `limits.deadline` and `max_response`.

    Raises httpx.TransportError for a network failure, `Exceeded` for a bound."""
    limits = limits or DEFAULT_LIMITS
    guard = Guard(f"{method} {url}", deadline=limits.deadline, http=http)
    with watching(guard):
        headers = {"Accept-Encoding": ACCEPT_ENCODING, **kwargs.pop("headers", {})}
        request = http.build_request(method, url, headers=headers,
                                     extensions=guard.extensions(timeout), **kwargs)
        try:
            response = http.send(request, stream=True)
        except httpx.TransportError:
            guard.raise_if_tripped()
            raise
        return read_capped(response, guard, limits.max_response)


@contextlib.contextmanager
def interruptible() -> Iterator[None]:
    """SIGINT and SIGTERM raise Interrupted in the main thread and cancel every exchange; a
    second signal while the first unwinds is ignored, so cleanup runs to its end.

    Outside the main thread (where handlers cannot be set) it changes nothing.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: Any) -> None:
        if _CANCELLED.is_set():
            return
        cancel_all()
        raise Interrupted(signum)

    previous = {signum: signal.signal(signum, handler)
                for signum in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for signum, old in previous.items():
            signal.signal(signum, old)
        reset_cancel()
