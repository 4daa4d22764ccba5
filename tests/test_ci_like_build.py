"""`site-builder build` as a GitLab CI job runs it: only CI's variables, a job token, a fake GitLab.

Every test goes through `site_builder.cli.main`, so what is checked is what a pipeline log shows.
"""

from __future__ import annotations

import hashlib
import io
import logging
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from site_builder.catalog import Artifact
from site_builder.progress import download_progress

try:
    from conftest import CliResult
    from fake_gitlab import FakeGitLab, FakeObjectStore
    from test_gitlab_client import fast_retries
except ImportError:  # tests/ imported as a package
    from .conftest import CliResult  # type: ignore[no-redef]
    from .fake_gitlab import FakeGitLab, FakeObjectStore  # type: ignore[no-redef]
    from .test_gitlab_client import fast_retries  # type: ignore[no-redef]

__all__ = ["fast_retries"]  # a fixture shared with the client's tests
pytestmark = pytest.mark.usefixtures("fast_retries")

JOB_TOKEN = "ci-job-Distinctive-Secret-8d2e4f"
PAGES_URL = "https://group.gitlab.example.io/speech-to-text"


@pytest.fixture
def gitlab(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeGitLab]:
    """A project with two releases, a duplicate, a nested file and packages never published."""
    with FakeGitLab() as gl, FakeObjectStore() as store:
        gl.add_token(JOB_TOKEN, kind="job", role="developer")
        gl.redirect_downloads_to(store)
        old = gl.add_package("VoiceInput", "v1.0.0", {"VoiceInput-v1.0.0.zip": b"stale build"})
        gl.add_file(old, "VoiceInput-v1.0.0.zip", b"one point oh")
        gl.add_package("VoiceInput", "v1.1.0", {"VoiceInput-v1.1.0.zip": b"x" * 300_000,
                                                "docs/manual.pdf": b"%PDF manual"})
        gl.add_package("VoiceInput", "v2.0.0", {"VoiceInput-v2.0.0.zip": b"hidden"},
                       status="hidden")
        gl.add_package("VoiceInput-nightly", "v9.0.0", {"nightly.zip": b"not ours"})
        for name in ("GITLAB_TOKEN", "GITLAB_DEPLOY_TOKEN"):
            monkeypatch.delenv(name, raising=False)
        monkeypatch.setenv("CI_API_V4_URL", gl.api_url)
        monkeypatch.setenv("CI_PROJECT_ID", str(gl.project_id))
        monkeypatch.setenv("CI_JOB_TOKEN", JOB_TOKEN)
        monkeypatch.setenv("CI_PAGES_URL", PAGES_URL)
        yield gl
        assert store.leaks == [], "a token reached the object store"
    assert not gl.errors, gl.errors[0]


@pytest.fixture
def ci_build(
    run_cli: Callable[..., CliResult], project: Path, tmp_path: Path
) -> Callable[[], CliResult]:
    """The pages job's command: everything else comes from CI's variables."""

    def run() -> CliResult:
        return run_cli("build", "--config", str(project / "mkdocs.yml"),
                       "--output", str(project / "public"),
                       "--cache-dir", str(tmp_path / "cache"), "--package", "VoiceInput")

    return run


def downloads(gitlab: FakeGitLab) -> int:
    return sum(1 for r in gitlab.requests if r.method == "GET" and "/packages/generic/" in r.path)


def files_under(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()]


def test_pages_job_builds_a_verifiable_site(
    gitlab: FakeGitLab, ci_build: Callable[[], CliResult], project: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Exit 0; `sha256sum -c` passes; newest duplicate published; the token is nowhere."""
    result = ci_build()
    assert result.code == 0, result.err
    public = project / "public"
    folder = public / "download" / "v1.1.0"
    check = subprocess.run(["sha256sum", "-c", "SHA256SUMS"], cwd=folder,
                           capture_output=True, text=True, check=False)
    assert check.returncode == 0, check.stdout + check.stderr
    assert "docs/manual.pdf: OK" in check.stdout
    old = public / "download" / "v1.0.0"
    assert (old / "VoiceInput-v1.0.0.zip").read_bytes() == b"one point oh"
    assert (old / "SHA256SUMS").read_text() == (
        f"{hashlib.sha256(b'one point oh').hexdigest()}  VoiceInput-v1.0.0.zip\n")
    assert not (public / "download" / "v2.0.0").exists()
    assert "nightly" not in (public / "index.json").read_text()
    assert PAGES_URL in (public / "latest.json").read_text()
    shown = result.out + result.err + caplog.text
    assert JOB_TOKEN not in shown
    assert not [p for p in files_under(public) if JOB_TOKEN.encode() in p.read_bytes()]


def test_warm_cache_downloads_nothing(
    gitlab: FakeGitLab, ci_build: Callable[[], CliResult]
) -> None:
    """A second build with the same cache lists the registry again but fetches no artifact."""
    assert ci_build().code == 0
    assert downloads(gitlab) == 3
    assert ci_build().code == 0
    assert downloads(gitlab) == 3


def test_throttling_and_server_errors_are_ridden_out(
    gitlab: FakeGitLab, ci_build: Callable[[], CliResult]
) -> None:
    """A 429 on the listing, 503s on a download and a body cut in half still build the site."""
    throttled = gitlab.fail_next("GET", r"/packages\?", 429, headers={"Retry-After": "0"},
                                 body=b"Retry later\n")
    failing = gitlab.fail_next("GET", "VoiceInput-v1.1.0.zip", 503, times=2)
    cut = gitlab.truncate_next("manual.pdf")
    result = ci_build()
    assert result.code == 0, result.err
    assert (throttled.taken, failing.taken, cut.taken) == (1, 2, 1)  # every fault fired
    assert [r.status for r in gitlab.requests if "manual.pdf" in r.path] == [302, 302]


def test_a_body_always_cut_fails_naming_the_file(
    gitlab: FakeGitLab, ci_build: Callable[[], CliResult], project: Path
) -> None:
    """Every attempt cut short: exit 1, one error line naming the file, no output written."""
    cut = gitlab.truncate_next("VoiceInput-v1.1.0.zip", times=99)
    result = ci_build()
    assert result.code == 1
    assert cut.taken == 3  # each of the fetcher's attempts was cut
    assert "VoiceInput v1.1.0 VoiceInput-v1.1.0.zip" in result.error
    assert not (project / "public").exists()


def wrong_project(gitlab: FakeGitLab, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI_PROJECT_ID", "4242")


def foreign_job(gitlab: FakeGitLab, monkeypatch: pytest.MonkeyPatch) -> None:
    gitlab.tokens[JOB_TOKEN] = type(gitlab.tokens[JOB_TOKEN])("job", "developer", 7)


def expired_job(gitlab: FakeGitLab, monkeypatch: pytest.MonkeyPatch) -> None:
    del gitlab.tokens[JOB_TOKEN]


@pytest.mark.parametrize(
    ("break_it", "hint"),
    [(expired_job, "CI_JOB_TOKEN is wrong, expired or revoked"),
     (foreign_job, "job token allowlist"),
     (wrong_project, "project '4242' does not exist")],
    ids=["401", "403", "404"],
)
def test_refusals_are_one_line_without_the_token(
    gitlab: FakeGitLab, ci_build: Callable[[], CliResult], monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture, break_it: Callable[..., None], hint: str,
) -> None:
    """401, 403 and 404 each end the job with exit 1 and one stderr line saying what to check."""
    break_it(gitlab, monkeypatch)
    with caplog.at_level(logging.DEBUG):
        result = ci_build()
    assert result.code == 1
    assert result.err.count("\n") == 1 and hint in result.err
    assert JOB_TOKEN not in result.out + result.err + caplog.text
    assert downloads(gitlab) == 0


def test_ci_logs_get_plain_progress_lines(caplog: pytest.LogCaptureFixture) -> None:
    """Without a terminal, progress is a log line now and then, never a bar's escape codes."""
    artifact = Artifact("VoiceInput-v1.1.0.zip", 3 * 1024**2, "ab" * 32)
    with caplog.at_level(logging.DEBUG, "mkdocs.plugins.downloads"), \
            download_progress(io.StringIO(), interval=0) as on_chunk:
        for _ in range(3):
            on_chunk(artifact, 1024**2)
    assert "downloading: 1.0 MB so far, 1 file(s) started" in caplog.text
    assert "downloaded VoiceInput-v1.1.0.zip (3.0 MB)" in caplog.text
    assert "\x1b" not in caplog.text


def test_terminals_get_a_bar_per_file() -> None:
    """On a terminal, each file gets a rich bar labelled with its name."""

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    screen = Terminal()
    with download_progress(screen) as on_chunk:
        on_chunk(Artifact("docs/manual.pdf", 10, "cd" * 32), 10)
    assert "docs/manual.pdf" in screen.getvalue()
