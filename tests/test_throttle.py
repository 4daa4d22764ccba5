"""Concurrent listing: every row once, in order, and a server's 429s slow everyone down."""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Iterator

import httpx
import pytest

from site_builder import bounds
from site_builder.catalog import build_catalog
from site_builder.errors import Interrupted
from site_builder.sources.gitlab import GitLabSource
from site_builder.throttle import AdaptiveLimit, ThrottledTransport

try:
    from fake_gitlab import FakeGitLab, HTTPError, Request
    from test_gitlab_client import TOKEN, fast_retries, gitlab
except ImportError:  # tests/ imported as a package
    from .fake_gitlab import FakeGitLab, HTTPError, Request  # type: ignore[no-redef]
    from .test_gitlab_client import TOKEN, fast_retries, gitlab  # type: ignore[no-redef]

__all__ = ["fast_retries", "gitlab"]
ENV = {"GITLAB_TOKEN": TOKEN}


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_one_cut_per_wave_then_additive_growth() -> None:
    """Sixteen 429s from one wave halve the limit once; it grows back one per limit's successes."""
    clock = Clock()
    limit = AdaptiveLimit(start=16, clock=clock, wall_clock=clock)
    for _ in range(16):  # all started before the first 429 came back
        limit.observe(429, {}, started=clock.now - 0.1)
    assert limit.limit == 8 and limit.throttled == 16
    clock.now += 1
    limit.observe(429, {}, started=clock.now)  # a call started after the cut: cut again
    assert limit.limit == 4
    for _ in range(4):
        limit.observe(200, {}, started=clock.now)
    assert limit.limit == 5
    for _ in range(1000):
        limit.observe(200, {}, started=clock.now)
    assert limit.limit == 16  # never above where it started


def test_waits_follow_retry_after_and_ratelimit_headers() -> None:
    """Retry-After pauses every caller, a spent RateLimit-Remaining too; both capped."""
    clock = Clock()
    limit = AdaptiveLimit(start=4, clock=clock, wall_clock=clock, max_pause=30)
    limit.observe(429, {"retry-after": "7"}, started=clock.now)
    assert limit._paused_until == pytest.approx(clock.now + 7)
    limit.observe(200, {"ratelimit-remaining": "0", "ratelimit-reset": str(clock.now + 20)},
                  started=clock.now)
    assert limit._paused_until == pytest.approx(clock.now + 20)
    limit.observe(503, {"retry-after": "86400"}, started=clock.now)  # a hostile or broken server
    assert limit._paused_until == pytest.approx(clock.now + 30)


def test_slots_never_exceed_the_limit() -> None:
    """However many threads ask, no more than `limit` calls run at once."""
    limit = AdaptiveLimit(start=3)
    running, most = 0, 0
    lock = threading.Lock()
    barrier = threading.Event()

    def call() -> None:
        nonlocal running, most
        with limit.slot():
            with lock:
                running += 1
                most = max(most, running)
            barrier.wait(0.02)
            with lock:
                running -= 1

    threads = [threading.Thread(target=call) for _ in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert most == 3 == limit.peak


class RateLimitedGitLab(FakeGitLab):
    """Answers `package_files` with 429 + Retry-After once `budget` calls were served."""

    def __init__(self, budget: int, retry_after: int) -> None:
        super().__init__()
        self.budget, self.retry_after = budget, retry_after
        self.throttled_at: float | None = None

    def route(self, req: Request) -> None:
        if req.url.path.endswith("/package_files"):
            with self._lock:
                self.budget -= 1
                over = self.budget < 0 and self.throttled_at is None
            if over:
                self.throttled_at = req.rec.start
                raise HTTPError(429, b"Retry later\n", {"Retry-After": str(self.retry_after)})
        super().route(req)


@pytest.fixture
def limited() -> Iterator[RateLimitedGitLab]:
    with RateLimitedGitLab(budget=40, retry_after=2) as gl:
        gl.add_token(TOKEN, role="reporter")
        yield gl
    assert not gl.errors, gl.errors[0]


@pytest.mark.usefixtures("fast_retries")
def test_concurrent_listing_is_complete_ordered_and_backs_off(limited: RateLimitedGitLab) -> None:
    """120 versions listed 16 at a time, one 429 mid-way: every file once, and a real pause."""
    limited.latency = 0.01
    for i in range(120):
        pkg = limited.add_package("App", f"v1.{i}.0", {f"App-{i}.zip": b"first %d" % i})
        if i % 10 == 0:  # additive duplicate: the newest row wins
            limited.add_file(pkg, f"App-{i}.zip", b"second %d" % i)
    source = GitLabSource.from_env(api_url=limited.api_url, project="42", env=ENV)
    transport = source.client._http._transport
    assert isinstance(transport, ThrottledTransport)
    transport.inner = sent = Recording(transport.inner)
    try:
        rows = source.versions("App")
    finally:
        source.close()
    assert [r.version for r in rows] == [f"v1.{i}.0" for i in range(120)]
    catalog = build_catalog(rows, package="App")
    for release in catalog.releases:
        i = int(release.version.split(".")[1])
        (artifact,) = release.files
        expected = b"second %d" % i if i % 10 == 0 else b"first %d" % i
        assert (artifact.name, artifact.sha256) == (f"App-{i}.zip",
                                                   hashlib.sha256(expected).hexdigest())
    assert transport.limit.throttled == 1 and transport.limit.lowest == 8
    assert transport.limit.peak > 4  # it did run calls side by side
    # After the 429, no new wave starts until Retry-After has nearly passed: only calls that
    # were already on their way (at most the 16 in flight) may reach the server early, however
    # slow a loaded machine makes them. Without the pause the ~80 calls left would all start
    # within a few tenths of a second.
    assert limited.throttled_at is not None
    files = [r.start - limited.throttled_at for r in limited.requests
             if "/package_files" in r.path]
    early = [t for t in files if 0 < t < 1.5]
    assert len(early) <= 16, early
    assert len([t for t in files if t >= 1.5]) >= 60
    # Once the 429 came back, no call went out until Retry-After (2 s) had passed (0.3 s
    # allows for a call whose place was taken just before). Times are the client's: a loaded
    # server may start reading a request that was sent earlier much later.
    (answered,) = [end for _, end, status in sent.calls if status == 429]
    after = [start - answered for start, _, _ in sent.calls if start > answered]
    assert not [t for t in after if 0.3 < t < 1.9] and max(after) >= 1.9


class Recording(httpx.BaseTransport):
    """Notes when each request left and its answer came back, as the client saw it."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self.inner = inner
        self.calls: list[tuple[float, float, int]] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        start = time.monotonic()
        response = self.inner.handle_request(request)
        self.calls.append((start, time.monotonic(), response.status_code))
        return response

    def close(self) -> None:
        self.inner.close()


def test_an_interrupt_ends_the_wait_for_a_place() -> None:
    """Ctrl-C (bounds.cancel_all) ends a caller's wait behind a long Retry-After at once."""
    limit = AdaptiveLimit(start=2)
    limit.observe(429, {"retry-after": "60"}, started=0.0)
    caught: list[BaseException] = []

    def call() -> None:
        try:
            with limit.slot():
                pass
        except BaseException as e:  # Interrupted is a KeyboardInterrupt
            caught.append(e)

    waiter = threading.Thread(target=call)
    waiter.start()
    try:
        bounds.cancel_all()
        waiter.join(timeout=5)
    finally:
        bounds.reset_cancel()
    assert not waiter.is_alive()
    assert len(caught) == 1 and isinstance(caught[0], Interrupted)
