"""Against a hostile registry: every wait has a deadline, every buffer a cap, no token leaks.

Each test meets one attack from `hostile_registry.HostileRegistry` (a real HTTP server on
127.0.0.1) and checks that the attack fired. Deadlines are configured small (about a second)
so the suite stays fast; the assertions leave generous slack for a loaded machine.
"""

from __future__ import annotations

import time
import tracemalloc
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import CliResult
from hostile_registry import HostileRegistry, MiB

from site_builder import bounds
from site_builder import gitlab as gitlab_module
from site_builder.auth import Credential
from site_builder.bounds import Limits
from site_builder.errors import (
    AuthError,
    ConfigError,
    PublishError,
    SourceError,
    TransientError,
)
from site_builder.gitlab import GitLabClient, RetryPolicy, server_wait
from site_builder.publish import Publisher, collect_files
from site_builder.settings import network_limits
from site_builder.sources.gitlab import GitLabSource
from site_builder.strapi import StrapiTarget
from site_builder.strapi_api import StrapiAPI

TOKEN = "glpat-Hostile-Registry-0123456789abcdef"
FAST = RetryPolicy(max_attempts=3, max_total_seconds=10, base_wait=0.001, max_wait=0.05)
PACKAGES = r"/projects/42/packages(\?|$)"
SLACK = 2.5  # seconds a loaded 2-core machine may add to a bound


def leaked_prefixes(text: str, secret: str = TOKEN) -> list[str]:
    """Every prefix of `secret` of 8 characters or more that appears in `text`."""
    return [secret[:n] for n in range(8, len(secret) + 1) if secret[:n] in text]


@pytest.fixture
def evil() -> Iterator[HostileRegistry]:
    with HostileRegistry() as server:
        server.add_token(TOKEN, role="developer")
        yield server
    assert not server.errors, server.errors[0]


def client_for(evil: HostileRegistry, **limits: float) -> GitLabClient:
    credential = Credential("GITLAB_TOKEN", "PRIVATE-TOKEN", TOKEN)
    return GitLabClient(evil.api_url, "42", credential, retry=FAST, timeout=30.0,
                        limits=Limits(**limits))  # type: ignore[arg-type]


# -- deadlines --------------------------------------------------------------------------------

def test_a_dripping_listing_is_cut_at_the_deadline(evil: HostileRegistry) -> None:
    """One byte every 0.1 s keeps every read alive; the 1 s deadline still ends the request."""
    evil.drip("GET", PACKAGES, every=0.1, length=60)  # today: 6 s, then "not JSON"
    started = time.monotonic()
    with client_for(evil, deadline=1.0) as client, \
            pytest.raises(SourceError, match=r"took longer than 1 s"):
        list(client.paginate("/projects/42/packages"))
    assert time.monotonic() - started < 1.0 + SLACK
    assert evil.hits["drip"] == 1  # a deadline is not retried into minutes


@pytest.mark.parametrize("connection", ["new", "reused"])
def test_headers_that_drip_are_cut_at_the_deadline(evil: HostileRegistry,
                                                   connection: str) -> None:
    """A server that never finishes its headers is cut too, on a new connection or on a
    kept-alive one, and the client works on afterwards."""
    with client_for(evil, deadline=1.0) as client:
        if connection == "reused":
            assert client.get_json("/projects/42/releases") == []
        evil.drip_headers("GET", PACKAGES, every=0.1, length=60)  # today: 6 s, then an answer
        started = time.monotonic()
        with pytest.raises(SourceError, match=r"took longer than 1 s"):
            client.get_json("/projects/42/packages")
        assert time.monotonic() - started < 1.0 + SLACK
        assert client.get_json("/projects/42/releases") == []
    assert evil.hits["drip_headers"] == 1


def test_a_dripping_download_is_cut_by_the_throughput_floor(evil: HostileRegistry) -> None:
    """A download that stays below `min_rate` for `rate_window` is cut as a TransientError."""
    evil.add_package("App", "1.0.0", {"App.zip": b"x" * 100})
    evil.drip("GET", r"/packages/generic/", every=0.1, head=b"", length=100,
              content_type="application/octet-stream")  # 100 bytes in 10 s
    started = time.monotonic()
    with client_for(evil, deadline=5.0, min_rate=1024, rate_window=0.5) as client, \
            pytest.raises(TransientError, match=r"slower than 1 KiB/s for 0.5 s"), \
            client.stream(client.generic_path("App", "1.0.0", "App.zip")) as chunks:
        b"".join(chunks)
    assert time.monotonic() - started < 0.5 + SLACK
    assert evil.hits["drip"] == 1


def test_a_stalled_download_is_retried_then_named(
    evil: HostileRegistry, project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    run_cli: Callable[..., CliResult],
) -> None:
    """The build cuts each stalled attempt, tries again, then fails naming the file."""
    config = project / "mkdocs.yml"
    anchor = "      package: VoiceInput\n"
    config.write_text(config.read_text().replace(
        anchor, anchor + "      min_download_rate: 1KiB\n      download_rate_window: 0.4\n"))
    monkeypatch.setattr(gitlab_module, "DEFAULT_RETRY", FAST)
    monkeypatch.setenv("GITLAB_TOKEN", TOKEN)
    evil.add_package("VoiceInput", "v1.0.0", {"VoiceInput-v1.0.0.zip": b"z" * 50})
    evil.drip("GET", r"/packages/generic/", every=0.1, head=b"", length=50,
              content_type="application/octet-stream")
    started = time.monotonic()
    result = run_cli("build", "--config", str(project / "mkdocs.yml"),
                     "--api-url", evil.api_url, "--project", "42", "--package", "VoiceInput",
                     "--output", str(project / "public"), "--cache-dir", str(tmp_path / "c"))
    assert result.code == 1
    assert "VoiceInput-v1.0.0.zip" in result.error and "slower than" in result.error
    assert evil.hits["drip"] == 3  # Fetcher's three attempts, each cut
    assert time.monotonic() - started < 3 * 0.4 + 3 * SLACK
    assert not (project / "public").exists()
    assert not list((tmp_path / "c").rglob(".part-*"))


def test_the_deadline_is_a_setting_of_the_build(
    evil: HostileRegistry, project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    run_cli: Callable[..., CliResult],
) -> None:
    """`request_deadline: 1` in mkdocs.yml cuts a dripping listing after a second, one line."""
    config = project / "mkdocs.yml"
    anchor = "      package: VoiceInput\n"
    config.write_text(config.read_text().replace(anchor, anchor + "      request_deadline: 1\n"))
    monkeypatch.setenv("GITLAB_TOKEN", TOKEN)
    evil.drip("GET", PACKAGES, every=0.1, length=80)
    started = time.monotonic()
    result = run_cli("build", "--config", str(config), "--api-url", evil.api_url,
                     "--project", "42", "--output", str(project / "public"),
                     "--cache-dir", str(tmp_path / "c"))
    assert result.code == 1 and "took longer than 1 s" in result.error
    assert time.monotonic() - started < 1.0 + 2 * SLACK  # the build's own start-up included
    assert evil.hits["drip"] == 1


def test_limits_settings_are_checked() -> None:
    """Each bound is read from the plugin options, sizes in words, and refused when absurd."""
    limits = network_limits({"request_deadline": 5, "max_response_size": "1MiB",
                             "min_download_rate": "1KiB", "download_rate_window": 2.5,
                             "max_pages": 7})
    assert limits == Limits(deadline=5.0, max_response=MiB, min_rate=1024, rate_window=2.5,
                            max_pages=7)
    assert network_limits({}) == bounds.DEFAULT_LIMITS
    for bad in ({"request_deadline": 0}, {"max_pages": 2.5}, {"max_response_size": "lots"},
                {"download_rate_window": True}):
        with pytest.raises(ConfigError, match=next(iter(bad))):
            network_limits(bad)


def test_an_upload_whose_answer_drips_is_cut_at_the_deadline(evil: HostileRegistry,
                                                             tmp_path: Path) -> None:
    """The body of an upload may take long; once it is sent, the answer has the deadline."""
    (tmp_path / "App-1.0.0.zip").write_bytes(b"a" * 300_000)
    evil.drip("PUT", r"/packages/generic/", every=0.1, length=60)
    started = time.monotonic()
    with client_for(evil, deadline=1.0) as client, \
            pytest.raises(PublishError, match=r"took longer than 1 s"):
        Publisher(client, "App", "1.0.0").publish(collect_files([tmp_path / "App-1.0.0.zip"]))
    assert time.monotonic() - started < 1.0 + SLACK
    assert evil.hits["drip"] == 1


def update_entry(target: StrapiTarget, data: dict[str, str], *, token: str) -> None:
    with StrapiAPI(target, token) as api:
        api.write(data, None)


def test_a_dripping_strapi_is_cut_at_the_deadline(
    evil: HostileRegistry, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`notify` has the same deadline: a CMS that drips its answer does not hold the job."""
    monkeypatch.setattr(bounds, "DEFAULT_LIMITS", Limits(deadline=1.0))
    evil.drip("PUT", r"^/api/apps/", every=0.1, length=60)
    target = StrapiTarget(url=evil.url, collection="apps", document_id="abc")
    started = time.monotonic()
    with pytest.raises(PublishError, match=r"took longer than 1 s"), \
            StrapiAPI(target, "strapi-token-123456789") as api:
        api.write({"version": "v1"}, None)
    assert time.monotonic() - started < 1.0 + SLACK
    assert evil.hits["drip"] == 1


# -- caps ---------------------------------------------------------------------------------------

def _peak_while(action: Callable[[], object]) -> int:
    tracemalloc.start()
    try:
        action()
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return peak


def test_a_gzip_bombed_listing_is_refused_in_little_memory(evil: HostileRegistry) -> None:
    """256 MiB of zeros in 256 KiB of gzip: refused at the 32 MiB cap, memory under 200 MB."""
    evil.gzip_bomb("GET", PACKAGES, size=256 * MiB)
    with client_for(evil) as client:

        def attempt() -> None:
            with pytest.raises(SourceError, match=r"larger than 32 MiB \(after decompression\)"):
                client.get_json("/projects/42/packages")

        assert _peak_while(attempt) < 200 * 1000 * 1000
    assert evil.hits["gzip_bomb"] == 1


def test_an_endless_chunked_listing_is_refused_in_little_memory(evil: HostileRegistry) -> None:
    """Rows that never end stop at the cap, with memory to match."""
    evil.endless_json("GET", PACKAGES, limit=300 * MiB)  # today: all 300 MiB in memory
    with client_for(evil, max_response=4 * MiB) as client:

        def attempt() -> None:
            with pytest.raises(SourceError, match=r"larger than 4 MiB"):
                list(client.paginate("/projects/42/packages"))

        assert _peak_while(attempt) < 200 * 1000 * 1000
    assert evil.hits["endless_json"] == 1


# -- pagination -------------------------------------------------------------------------------

def test_pages_that_keep_counting_end_at_the_hard_cap(evil: HostileRegistry) -> None:
    """An X-Next-Page that always says "one more" is an error after `max_pages` pages."""
    evil.counting_pages("GET", PACKAGES, times=60)
    with client_for(evil, max_pages=20) as client, \
            pytest.raises(SourceError, match=r"past 20 pages"):
        list(client.paginate("/projects/42/packages"))
    assert evil.hits["counting_pages"] == 20


def test_pagination_stops_at_x_total_pages(evil: HostileRegistry) -> None:
    """X-Total-Pages: 3 ends the walk after page 3, whatever X-Next-Page says."""
    evil.counting_pages("GET", PACKAGES, total_pages=3, times=60)
    with client_for(evil) as client:
        rows = list(client.paginate("/projects/42/packages"))
    assert [r["version"] for r in rows] == ["1.0.1", "1.0.2", "1.0.3"]
    assert evil.hits["counting_pages"] == 3


def test_a_next_page_pointing_back_ends_the_walk(evil: HostileRegistry) -> None:
    """X-Next-Page: 1 on page 1 (a loop) ends the walk: each row is read once."""
    evil.counting_pages("GET", PACKAGES, next_page=lambda page: 1, times=60)
    with client_for(evil) as client:
        rows = list(client.paginate("/projects/42/packages"))
    assert [r["version"] for r in rows] == ["1.0.1"]
    assert evil.hits["counting_pages"] == 1


def test_a_row_repeated_on_the_next_page_is_one_version(evil: HostileRegistry) -> None:
    """Offset pages shift when rows move mid-walk: a row seen twice is listed once, and its
    files are asked for once."""
    a, b, c = (evil.add_package("App", v, {f"App-{v}.zip": v.encode()})
               for v in ("1.0.0", "1.1.0", "1.2.0"))

    def row(p: Any) -> dict[str, Any]:
        return {"id": p.id, "name": p.name, "version": p.version, "package_type": "generic",
                "status": "default", "created_at": p.created_at}

    evil.pages("GET", PACKAGES, [[row(a), row(b)], [row(b), row(c)]])
    with client_for(evil) as client:
        versions = GitLabSource(client).versions("App")
    assert sorted(v.version for v in versions) == ["1.0.0", "1.1.0", "1.2.0"]
    assert evil.hits["pages"] == 2
    asked = [r.path for r in evil.requests if f"/packages/{b.id}/package_files" in r.path]
    assert len(asked) == 1


# -- secrets ------------------------------------------------------------------------------------

def _at_the_cut(token: str) -> str:
    """A message whose first 300 characters end with all of the token but its last one."""
    return "x" * (301 - len(token)) + token + " and more"


@pytest.mark.parametrize("status", [400, 401, 403, 404, 500, 429])
@pytest.mark.parametrize("echo", [_at_the_cut, lambda t: f"bad token {t[5:30]}!",
                                  lambda t: f"{t[:-3]}"], ids=["cut", "middle", "prefix"])
def test_a_token_echoed_in_an_error_never_shows_in_part(
    evil: HostileRegistry, status: int, echo: Callable[[str], str]
) -> None:
    """Whatever part of the token an error body echoes, the error line shows none of it."""
    evil.echo_token("GET", PACKAGES, status=status, text=echo,
                    headers={"Retry-After": "0"})
    with client_for(evil) as client, pytest.raises(SourceError) as raised:
        client.get_json("/projects/42/packages")
    assert evil.hits["echo_token"] >= 1
    assert "[MASKED]" in str(raised.value)
    assert leaked_prefixes(str(raised.value)) == []


def test_a_token_echoed_to_the_build_never_reaches_its_output(
    evil: HostileRegistry, project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    run_cli: Callable[..., CliResult],
) -> None:
    """End to end: the build's stderr and stdout hold no 8-character prefix of the token."""
    monkeypatch.setenv("GITLAB_TOKEN", TOKEN)
    evil.echo_token("GET", PACKAGES, status=403, text=_at_the_cut)
    result = run_cli("build", "--config", str(project / "mkdocs.yml"), "-v",
                     "--api-url", evil.api_url, "--project", "42", "--package", "VoiceInput",
                     "--output", str(project / "public"), "--cache-dir", str(tmp_path / "c"))
    assert result.code == 1 and evil.hits["echo_token"] == 1
    assert isinstance(result.error, str)
    assert leaked_prefixes(result.err + result.out) == []


@pytest.mark.parametrize("echo", [_at_the_cut, lambda t: f"bad token {t[7:25]}!"])
def test_a_strapi_token_echoed_in_an_error_never_shows_in_part(
    evil: HostileRegistry, echo: Callable[[str], str]
) -> None:
    """Strapi's error text is masked before it is cut to 200 characters."""
    token = "strapi-" + "Secret0123456789" * 8  # Strapi API tokens are long
    cut = (lambda t: "x" * (201 - len(t)) + t) if echo is _at_the_cut else echo
    evil.echo_token("PUT", r"^/api/apps/", status=401, text=cut)
    target = StrapiTarget(url=evil.url, collection="apps", document_id="abc")
    with pytest.raises(PublishError) as raised, StrapiAPI(target, token) as api:
        api.write({"version": "v1"}, None)
    assert evil.hits["echo_token"] == 1
    assert leaked_prefixes(str(raised.value), token) == []


def test_deploy_token_refusal_with_an_echo_is_still_an_auth_error(evil: HostileRegistry) -> None:
    """Masking keeps the kind of failure: a 401 stays an AuthError naming the variable."""
    evil.echo_token("GET", PACKAGES, status=401, text=lambda t: f"invalid token {t}")
    with client_for(evil) as client, pytest.raises(AuthError, match="GITLAB_TOKEN"):
        client.get_json("/projects/42/packages")


def test_retry_after_that_is_not_a_number_falls_back_to_backoff() -> None:
    """`Retry-After: nan` or `inf` is no instruction; backoff applies instead of a crash."""
    for value in ("nan", "inf", "-inf"):
        assert server_wait({"retry-after": value}) is None
    assert server_wait({"ratelimit-reset": "nan"}) is None


def test_an_upload_body_is_counted_in_small_pieces() -> None:
    """A 1 MiB chunk is handed over in pieces, so the floor sees a slow link's steady progress."""
    guard = bounds.Guard("PUT /x", deadline=5.0, min_rate=1024, rate_window=1.0)
    pieces = list(guard.sending(iter([b"a" * MiB])))
    assert b"".join(pieces) == b"a" * MiB and max(map(len, pieces)) <= 64 * 1024
    assert guard.min_rate == 0 and guard.expires is not None  # now the answer is due
