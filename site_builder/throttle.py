"""How many API calls to have in flight at once: start high, back off when GitLab says so.

A listing of 400 versions is 400 `package_files` calls of ~40 ms each; one at a time that is
16 s, sixteen at a time 1 s. A server under load, or a user near their rate limit, answers
429 or 503: then the limit halves and every caller waits out `Retry-After` (or
`RateLimit-Reset`) together, and it creeps back up by one per limit's worth of successes
(additive increase, multiplicative decrease, as TCP does). A response whose
`RateLimit-Remaining` says the quota is spent pauses everyone until `RateLimit-Reset` too.

    limit = AdaptiveLimit(start=16)
    http = httpx.Client(transport=ThrottledTransport(httpx.HTTPTransport(), limit))

The transport is the seam: the GitLab client keeps its own retries and never knows.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager

import httpx

from . import bounds
from .errors import Interrupted
from .gitlab import server_wait
from .settings import DEFAULT_API_CONCURRENCY as DEFAULT_CONCURRENCY

THROTTLED = frozenset({429, 503})
MAX_PAUSE = 60.0  # never wait longer than this on a server's word (it may be wrong or hostile)
_POLL = 0.1  # seconds between looks at an interrupt while waiting for a place


class AdaptiveLimit:
    """A concurrency limit between `floor` and `ceiling` that follows the server's signals.

    Thread-safe. `slot()` blocks until a call may start; `observe()` takes its answer.
    """

    def __init__(
        self,
        *,
        start: int = DEFAULT_CONCURRENCY,
        floor: int = 1,
        ceiling: int | None = None,
        max_pause: float = MAX_PAUSE,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self.ceiling = max(1, ceiling if ceiling is not None else start)
        self.floor = max(1, min(floor, self.ceiling))
        self.limit = max(self.floor, min(start, self.ceiling))
        self.max_pause = max_pause
        self.throttled = 0  # how many 429/503 answers were seen (for reports and tests)
        self.peak = 0  # the most calls ever in flight at once
        self.lowest = self.limit  # the lowest the limit went
        self._clock, self._wall_clock = clock, wall_clock
        self._in_flight = 0
        self._successes = 0
        self._paused_until = 0.0
        self._last_cut = float("-inf")  # when the limit was last halved
        self._changed = threading.Condition()

    @contextmanager
    def slot(self) -> Iterator[float]:
        """Hold one of the `limit` places while a call runs; yields the call's start time.

        Waiting ends at once, raising Interrupted, when the CLI cancels all work (Ctrl-C).
        """
        with self._changed:
            while True:
                if bounds.cancelled():
                    raise Interrupted()
                wait = self._paused_until - self._clock()
                if wait <= 0 and self._in_flight < self.limit:
                    break
                self._changed.wait(timeout=min(wait, _POLL) if wait > 0 else _POLL)
            self._in_flight += 1
            self.peak = max(self.peak, self._in_flight)
            started = self._clock()
        try:
            yield started
        finally:
            with self._changed:
                self._in_flight -= 1
                self._changed.notify_all()

    def observe(self, status: int, headers: Mapping[str, str], *, started: float) -> None:
        """Adapt to one answer: back off on 429/503 or a spent quota, else grow slowly."""
        with self._changed:
            if status in THROTTLED:
                self.throttled += 1
                # Calls already in flight when the limit was cut answer 429 too: one cut per wave.
                if started >= self._last_cut:
                    self.limit = max(self.floor, self.limit // 2)
                    self.lowest = min(self.lowest, self.limit)
                    self._last_cut = self._clock()
                self._successes = 0
                self._pause(server_wait(headers, now=self._wall_clock()))
            else:
                self._successes += 1
                if self._successes >= self.limit and self.limit < self.ceiling:
                    self.limit += 1
                    self._successes = 0
                if _spent(headers):  # the next call would be a 429: wait for the new quota
                    self._pause(server_wait(headers, now=self._wall_clock()))
            self._changed.notify_all()

    def _pause(self, seconds: float | None) -> None:
        if seconds is None or seconds <= 0:
            return
        until = self._clock() + min(seconds, self.max_pause)
        self._paused_until = max(self._paused_until, until)


def _spent(headers: Mapping[str, str]) -> bool:
    remaining = headers.get("ratelimit-remaining", "").strip()
    return remaining.isdigit() and int(remaining) == 0


class ThrottledTransport(httpx.BaseTransport):
    """An httpx transport that runs every request through an `AdaptiveLimit`.

    The place is held until the answer's headers arrive: a listing's body is small, and a
    download's body must not block the API calls queued behind it.
    """

    def __init__(self, inner: httpx.BaseTransport, limit: AdaptiveLimit) -> None:
        self.inner = inner
        self.limit = limit

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        with self.limit.slot() as started:
            response = self.inner.handle_request(request)
        self.limit.observe(response.status_code, response.headers, started=started)
        return response

    def close(self) -> None:
        self.inner.close()


def throttled_transport(concurrency: int = DEFAULT_CONCURRENCY) -> ThrottledTransport:
    """The default HTTP transport behind an adaptive limit of at most `concurrency` calls."""
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    return ThrottledTransport(httpx.HTTPTransport(limits=limits),
                              AdaptiveLimit(start=concurrency))
