"""GitLabClient against the fake GitLab over real HTTP: pages, retries, errors, safe redirects."""

from __future__ import annotations

import email.utils
import socket
import time
from collections.abc import Iterator

import httpx
import pytest

from site_builder import gitlab as gitlab_client
from site_builder.auth import Credential
from site_builder.errors import AuthError, SourceError, TransientError
from site_builder.gitlab import GitLabClient, RetryPolicy, server_wait

try:
    from fake_gitlab import FakeGitLab, FakeObjectStore
except ImportError:  # tests/ imported as a package
    from .fake_gitlab import FakeGitLab, FakeObjectStore  # type: ignore[no-redef]

TOKEN = "glpat-Client-Secret-7f3a"
FAST = RetryPolicy(max_attempts=4, max_total_seconds=10, base_wait=0.001, max_wait=2)
PACKAGES = "/projects/42/packages"


def credential(value: str = TOKEN, kind: str = "GITLAB_TOKEN") -> Credential:
    header = {"GITLAB_TOKEN": "PRIVATE-TOKEN", "CI_JOB_TOKEN": "JOB-TOKEN",
              "GITLAB_DEPLOY_TOKEN": "DEPLOY-TOKEN"}[kind]
    return Credential(variable=kind, header=header, value=value)


@pytest.fixture
def fast_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    """Clients made without a policy (as the CLI makes them) retry in milliseconds."""
    monkeypatch.setattr(gitlab_client, "DEFAULT_RETRY", FAST)


@pytest.fixture
def gitlab() -> Iterator[FakeGitLab]:
    """The fake GitLab with one developer token, `TOKEN`."""
    with FakeGitLab() as gl:
        gl.add_token(TOKEN, role="developer")
        yield gl
    assert not gl.errors, gl.errors[0]


@pytest.fixture
def client(gitlab: FakeGitLab) -> Iterator[GitLabClient]:
    with GitLabClient(gitlab.api_url, "42", credential(), retry=FAST) as c:
        yield c


def downloads(gitlab: FakeGitLab) -> list[int | None]:
    return [r.status for r in gitlab.requests if "/packages/generic/" in r.path]


# -- pagination -----------------------------------------------------------------------------------

def test_paginate_walks_every_page_at_100(gitlab: FakeGitLab, client: GitLabClient) -> None:
    """250 rows arrive over three pages of 100, each exactly once."""
    for i in range(250):
        gitlab.add_package("App", f"1.0.{i}", {})
    rows = list(client.paginate(PACKAGES, {"per_page": 500}))
    assert sorted(r["version"] for r in rows) == sorted(f"1.0.{i}" for i in range(250))
    pages = [r.path for r in gitlab.requests]
    assert len(pages) == 3 and all("per_page=100" in p for p in pages)


def test_paginate_needs_no_totals(gitlab: FakeGitLab, client: GitLabClient) -> None:
    """Above GitLab's count limit X-Total disappears; the walk still ends on the last page."""
    gitlab.pagination_count_limit = 50
    for i in range(120):
        gitlab.add_package("App", f"2.0.{i}", {})
    assert len(list(client.paginate(PACKAGES))) == 120


def test_paginate_falls_back_to_the_link_header(gitlab: FakeGitLab) -> None:
    """A proxy that drops X-Next-Page leaves `Link: rel="next"`, which is followed instead."""

    class DropNextPage(httpx.HTTPTransport):
        def handle_request(self, request: httpx.Request) -> httpx.Response:
            response = super().handle_request(request)
            del response.headers["x-next-page"]
            return response

    for i in range(130):
        gitlab.add_package("App", f"3.0.{i}", {})
    with GitLabClient(gitlab.api_url, "42", credential(), retry=FAST,
                      transport=DropNextPage()) as c:
        assert len(list(c.paginate(PACKAGES))) == 130


def test_project_path_and_generic_segments_are_encoded(gitlab: FakeGitLab) -> None:
    """`group/project` and a `+` version are encoded; a nested name travels as path segments."""
    gitlab.add_package("App", "1.0.0+build.7", {"docs/manual.pdf": b"manual"})
    with GitLabClient(gitlab.api_url, "group/speech-to-text", credential(), retry=FAST) as c:
        path = c.generic_path("App", "1.0.0+build.7", "docs/manual.pdf")
        assert path == ("/projects/group%2Fspeech-to-text/packages/generic/"
                        "App/1.0.0%2Bbuild.7/docs/manual.pdf")
        with c.stream(path) as chunks:
            assert b"".join(chunks) == b"manual"


# -- retries --------------------------------------------------------------------------------------

def test_retry_after_is_honoured(gitlab: FakeGitLab, client: GitLabClient) -> None:
    """A 429 `Retry later` with Retry-After: 1 is retried after a second, not the tiny backoff."""
    gitlab.fail_next("GET", "/packages", 429, headers={"Retry-After": "1"}, body=b"Retry later\n")
    start = time.monotonic()
    assert client.get_json(PACKAGES) == []
    assert time.monotonic() - start >= 0.95
    assert [r.status for r in gitlab.requests] == [429, 200]


def test_server_wait_reads_retry_after_then_ratelimit_reset() -> None:
    """Retry-After (seconds or HTTP date) wins over RateLimit-Reset; neither means backoff."""
    now = 1_800_000_000.0
    assert server_wait({"retry-after": "7", "ratelimit-reset": str(now + 60)}, now=now) == 7
    date = email.utils.formatdate(now + 10, usegmt=True)
    assert server_wait({"retry-after": date}, now=now) == 10
    assert server_wait({"ratelimit-reset": str(now + 30)}, now=now) == 30
    assert server_wait({}, now=now) is None


def test_retry_after_is_capped(gitlab: FakeGitLab) -> None:
    """A server asking for an hour waits at most `max_wait`."""
    gitlab.fail_next("GET", "/packages", 429, headers={"Retry-After": "3600"})
    policy = RetryPolicy(max_attempts=2, max_total_seconds=5, base_wait=0.001, max_wait=0.05)
    with GitLabClient(gitlab.api_url, "42", credential(), retry=policy) as c:
        start = time.monotonic()
        assert c.get_json(PACKAGES) == []
        assert time.monotonic() - start < 1
    assert [r.status for r in gitlab.requests] == [429, 200]


def test_server_errors_are_retried(gitlab: FakeGitLab, client: GitLabClient) -> None:
    """Two injected 503s, then the answer."""
    gitlab.fail_next("GET", "/packages", 503, times=2)
    assert client.get_json(PACKAGES) == []
    assert [r.status for r in gitlab.requests] == [503, 503, 200]


def test_retries_are_bounded(gitlab: FakeGitLab, client: GitLabClient) -> None:
    """A GitLab that keeps failing is given up on after `max_attempts`, in one line."""
    gitlab.fail_next("GET", "/packages", 502, times=99)
    gave_up = r"kept failing .*\(502 Bad Gateway\) after 4 attempts"
    with pytest.raises(SourceError, match=gave_up) as caught:
        client.get_json(PACKAGES)
    assert len(gitlab.requests) == 4 and "\n" not in str(caught.value)


def test_unreachable_gitlab_says_which_url() -> None:
    """A refused connection is retried, then reported naming the API URL to check."""
    port = closed_port()
    with GitLabClient(
        f"http://127.0.0.1:{port}/api/v4", "42", credential(), retry=FAST
    ) as c, pytest.raises(SourceError, match=r"cannot reach GitLab .* after 4 attempts") as caught:
        c.get_json(PACKAGES)
    assert f"127.0.0.1:{port}/api/v4" in str(caught.value) and TOKEN not in str(caught.value)


def test_write_requests_can_opt_out_of_retries(gitlab: FakeGitLab, client: GitLabClient) -> None:
    """`retry=False` sends once; `ok` lets a caller handle a status itself."""
    gitlab.fail_next("POST", "/releases", 503)
    with pytest.raises(SourceError):
        client.request("POST", "/projects/42/releases", json={"tag_name": "v1"}, retry=False)
    assert len(gitlab.requests) == 1
    missing = client.request("GET", "/projects/42/releases/v9", ok=(200, 404))
    assert missing.status_code == 404


# -- streaming ------------------------------------------------------------------------------------

def test_a_body_that_ends_short_without_an_error_is_transient() -> None:
    """A body that stops before its Content-Length with no transport error (a proxy that
    closes cleanly) is a TransientError, never a short file passed on as complete."""

    def short(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"Content-Length": "10"},
                              stream=httpx.ByteStream(b"12345"))

    with GitLabClient("http://gitlab.test/api/v4", "42", credential(), retry=FAST,
                      transport=httpx.MockTransport(short)) as c, \
            pytest.raises(TransientError, match=r"ended after 5 of 10 bytes"), \
            c.stream(c.generic_path("App", "1.0.0", "App.zip")) as chunks:
        b"".join(chunks)


def test_cut_body_raises_transient_error(gitlab: FakeGitLab, client: GitLabClient) -> None:
    """Half a body then a hang-up is a TransientError (the fetcher starts over), never bytes."""
    gitlab.add_package("App", "1.0.0", {"App.zip": b"z" * 100_000})
    gitlab.truncate_next("App.zip")
    path = client.generic_path("App", "1.0.0", "App.zip")
    with pytest.raises(TransientError, match="broke off after 50000 of 100000 bytes"), \
            client.stream(path) as chunks:
        b"".join(chunks)
    with client.stream(path) as chunks:
        assert b"".join(chunks) == b"z" * 100_000


@pytest.mark.parametrize(
    ("kind", "value"),
    [("GITLAB_TOKEN", TOKEN), ("CI_JOB_TOKEN", "job-Secret-91c2"),
     ("GITLAB_DEPLOY_TOKEN", "gldt-Secret-55e0")],
)
def test_redirect_to_storage_never_carries_the_token(
    gitlab: FakeGitLab, kind: str, value: str
) -> None:
    """GitLab gets the token; the presigned URL on another origin gets none, for every kind."""
    gitlab.add_token(value, kind={"GITLAB_TOKEN": "private", "CI_JOB_TOKEN": "job",
                                  "GITLAB_DEPLOY_TOKEN": "deploy"}[kind], role="reporter")
    gitlab.add_package("App", "1.0.0", {"App.zip": b"payload"})
    with FakeObjectStore() as store, GitLabClient(
        gitlab.api_url, "42", credential(value, kind), retry=FAST
    ) as c:
        gitlab.redirect_downloads_to(store)
        with c.stream(c.generic_path("App", "1.0.0", "App.zip")) as chunks:
            assert b"".join(chunks) == b"payload"
        assert store.leaks == [], "a token went to the object store"
        assert [r.status for r in store.requests] == [200]
    assert downloads(gitlab) == [302]
    assert value in gitlab.requests[-1].headers.values()


# -- errors ---------------------------------------------------------------------------------------

def forbidden_job_token(gitlab: FakeGitLab) -> Credential:
    gitlab.add_token("job-Other-Project-1", kind="job", project_id=7)
    return credential("job-Other-Project-1", "CI_JOB_TOKEN")


@pytest.mark.parametrize(
    ("make", "project", "error", "hint"),
    [
        # GitLab hides a private project from anonymous API reads: 404, not 401
        (lambda gl: None, "42", AuthError, "no token is set, so only public projects are visible"),
        (lambda gl: credential("glpat-Wrong-Value-0"), "42", AuthError,
         "GITLAB_TOKEN is wrong, expired or revoked"),
        (lambda gl: credential(), "99", AuthError, "project '99' does not exist"),
        (lambda gl: gl.add_token("glpat-Guest-5", role="guest") or credential("glpat-Guest-5"),
         "42", AuthError, "needs at least the Reporter role"),
        (forbidden_job_token, "42", AuthError, "job token allowlist"),
    ],
    ids=["404-no-token", "401-bad-token", "404-project", "403-role", "403-job-token"],
)
def test_refusals_become_one_line_errors(
    gitlab: FakeGitLab, make: object, project: str, error: type, hint: str
) -> None:
    """401, 404 Project Not Found and 403 each name what to check; no token value is shown."""
    cred = make(gitlab)  # type: ignore[operator]
    with GitLabClient(gitlab.api_url, project, cred, retry=FAST) as c, \
            pytest.raises(error) as caught:
        c.get_json(f"/projects/{c.project_ref}/packages")
    message = str(caught.value)
    assert hint in message and "\n" not in message
    assert cred is None or cred.value not in message
    assert len(gitlab.requests) == 1  # refusals are not retried


def test_job_token_refusal_quotes_gitlab(gitlab: FakeGitLab) -> None:
    """GitLab's own words about the allowlist are kept in the message."""
    with GitLabClient(gitlab.api_url, "42", forbidden_job_token(gitlab), retry=FAST) as c, \
            pytest.raises(AuthError, match="not allowed from project-7"):
        c.get_json(PACKAGES)


def closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
