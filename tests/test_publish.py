"""`site-builder publish` against the loopback fake GitLab: serial, idempotent, verified."""

from __future__ import annotations

import hashlib
import itertools
import json
import logging
import tracemalloc
from collections.abc import Callable, Iterator
from pathlib import Path

import fake_gitlab
import pytest
from fake_gitlab import FakeGitLab

from site_builder.auth import Credential, credential_from_env
from site_builder.errors import ConfigError, PublishError
from site_builder.gitlab import GitLabClient, RetryPolicy
from site_builder.publish import LocalFile, Publisher, check_names, collect_files

TOKEN = "glpat-PUBLISH-secret-4711"
PACKAGE, VERSION = "VoiceInput", "v1.2.0"
FAST = RetryPolicy(max_attempts=3, base_wait=0.01, max_wait=0.05)


@pytest.fixture
def gitlab() -> Iterator[FakeGitLab]:
    with FakeGitLab() as fake:
        fake.add_token(TOKEN, role="developer")
        yield fake
        assert not fake.errors, fake.errors


@pytest.fixture
def client(gitlab: FakeGitLab) -> Iterator[GitLabClient]:
    with GitLabClient(gitlab.api_url, "42", _credential(), retry=FAST) as c:
        yield c


def _credential() -> Credential | None:
    return credential_from_env({"GITLAB_TOKEN": TOKEN})


@pytest.fixture
def dist(tmp_path: Path) -> Path:
    """A build output: two top-level files and one nested one."""
    root = tmp_path / "dist"
    (root / "docs").mkdir(parents=True)
    (root / "VoiceInput-v1.2.0.zip").write_bytes(b"zip" * 1000)
    (root / "VoiceInput-v1.2.0.tar.gz").write_bytes(b"tgz" * 700)
    (root / "docs" / "manual.pdf").write_bytes(b"%PDF-1.7 manual")
    return root


@pytest.fixture
def publish_cli(run_cli: Callable[..., object], gitlab: FakeGitLab, tmp_path: Path,
                monkeypatch: pytest.MonkeyPatch) -> Callable[..., object]:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GITLAB_TOKEN", TOKEN)

    def run(*args: str) -> object:
        return run_cli("publish", *args, "--api-url", gitlab.api_url, "--project", "42",
                       "--package", PACKAGE)

    return run


def _puts(gitlab: FakeGitLab) -> list[fake_gitlab.RequestRecord]:
    return [r for r in gitlab.requests if r.method == "PUT"]


def _stored(gitlab: FakeGitLab) -> dict[str, str]:
    return {f.file_name: f.sha256 for f in gitlab.package_files(PACKAGE, VERSION)}


def test_uploads_never_overlap_in_time(publish_cli: Callable[..., object], gitlab: FakeGitLab,
                                       dist: Path) -> None:
    """Into a new version, each upload starts only after the previous one was answered."""
    gitlab.upload_delay = 0.15
    result = publish_cli(str(dist), "--version", VERSION)
    assert result.code == 0, result.err
    uploads = sorted(gitlab.uploads, key=lambda r: r.start)
    assert len(uploads) == 3 and gitlab.max_parallel_uploads == 1
    for earlier, later in itertools.pairwise(uploads):
        assert earlier.end is not None and later.start >= earlier.end


def test_second_publish_uploads_nothing(publish_cli: Callable[..., object], gitlab: FakeGitLab,
                                        dist: Path) -> None:
    """A re-run finds every file with the same SHA256 and sends no PUT."""
    assert publish_cli(str(dist), "--version", VERSION).code == 0
    before = len(gitlab.package_files(PACKAGE, VERSION))
    puts = len(_puts(gitlab))
    again = publish_cli(str(dist), "--version", VERSION)
    assert again.code == 0, again.err
    assert len(_puts(gitlab)) == puts and len(gitlab.package_files(PACKAGE, VERSION)) == before
    assert again.out.count("skipped (already there)") == 3


def test_nested_files_land_as_sub_file(publish_cli: Callable[..., object], gitlab: FakeGitLab,
                                       dist: Path) -> None:
    """docs/manual.pdf is stored as GitLab stores nested names, with its real SHA256."""
    assert publish_cli(str(dist), "--version", VERSION).code == 0
    stored = _stored(gitlab)
    assert stored["docs%2Fmanual.pdf"] == hashlib.sha256(b"%PDF-1.7 manual").hexdigest()
    assert set(stored) == {"VoiceInput-v1.2.0.zip", "VoiceInput-v1.2.0.tar.gz",
                           "docs%2Fmanual.pdf"}
    assert any("/v1.2.0/docs/manual.pdf?" in r.path for r in _puts(gitlab))


def test_summary_is_plain_aligned_text_off_a_terminal(publish_cli: Callable[..., object],
                                                      dist: Path) -> None:
    """Not a TTY: a header and one aligned row per file, with the full SHA256."""
    result = publish_cli(str(dist), "--version", VERSION)
    lines = result.out.splitlines()
    assert lines[0].split() == ["file", "size", "SHA256", "result"]
    digest = hashlib.sha256(b"%PDF-1.7 manual").hexdigest()
    row = next(line for line in lines if line.startswith("docs/manual.pdf"))
    assert digest in row and row.endswith("uploaded")
    assert lines[0].index("SHA256") == row.index(digest)


def test_version_defaults_to_the_ci_tag(publish_cli: Callable[..., object], gitlab: FakeGitLab,
                                        dist: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """In a tag pipeline --version is not needed."""
    monkeypatch.setenv("CI_COMMIT_TAG", "v2.0.0")
    assert publish_cli(str(dist / "docs")).code == 0
    assert [f.file_name for f in gitlab.package_files(PACKAGE, "v2.0.0")] == ["manual.pdf"]


def test_hash_mismatch_after_upload_is_an_error(client: GitLabClient, gitlab: FakeGitLab,
                                                dist: Path) -> None:
    """GitLab reporting another SHA256 than the bytes sent stops the publish, naming the file."""
    wrong = {"id": 9, "package_id": 1, "file_name": "VoiceInput-v1.2.0.zip", "size": 3000,
             "file_sha256": "0" * 64}
    gitlab.fail_next("PUT", r"VoiceInput-v1\.2\.0\.zip", 201, body=json.dumps(wrong).encode())
    with pytest.raises(PublishError, match=r"VoiceInput-v1\.2\.0\.zip: GitLab stored SHA256 0+"):
        Publisher(client, PACKAGE, VERSION).publish(collect_files([dist]))


def test_500_after_the_file_landed_is_not_uploaded_again(client: GitLabClient,
                                                         gitlab: FakeGitLab, dist: Path) -> None:
    """The files are listed again after a 5xx; a file that landed is not sent twice."""
    gitlab.fail_after_store = [500]
    results = Publisher(client, PACKAGE, VERSION).publish(collect_files([dist]))
    assert [r.outcome for r in results] == ["uploaded"] * 3
    assert len(_puts(gitlab)) == 3 and len(gitlab.package_files(PACKAGE, VERSION)) == 3


def test_500_before_the_file_landed_is_retried(client: GitLabClient, gitlab: FakeGitLab,
                                               dist: Path) -> None:
    """A racing-create 500 that stored nothing is retried, and the file lands once."""
    gitlab.fail_next("PUT", r"manual\.pdf", 500, times=2)
    Publisher(client, PACKAGE, VERSION).publish(collect_files([dist]))
    assert [f.file_name for f in gitlab.package_files(PACKAGE, VERSION)].count(
        "docs%2Fmanual.pdf") == 1
    assert len(_puts(gitlab)) == 5


def test_retry_after_on_a_throttled_put_is_honoured(gitlab: FakeGitLab, dist: Path) -> None:
    """A 429 to a PUT with `Retry-After: 1` is sent again a second later, not at once."""
    policy = RetryPolicy(max_attempts=3, base_wait=0.01, max_wait=5)
    gitlab.fail_next("PUT", r"manual\.pdf", 429, headers={"Retry-After": "1"})
    with GitLabClient(gitlab.api_url, "42", _credential(), retry=policy) as slow_client:
        Publisher(slow_client, PACKAGE, VERSION).publish(collect_files([dist]))
    first, second = [r for r in _puts(gitlab) if "manual.pdf" in r.path]
    assert first.status == 429 and second.status == 201
    assert first.end is not None and second.start - first.end >= 0.9


def test_older_gitlab_ignoring_package_version_is_filtered_here(gitlab: FakeGitLab,
                                                                client: GitLabClient,
                                                                dist: Path) -> None:
    """GitLab before 16.6 lists every version (and `VoiceInput-beta`): only the exact name and
    version count, so a file of another version is no reason to skip an upload."""
    gitlab.gitlab_version = (16, 5)
    files = collect_files([dist])
    same = {f.name: f.path.read_bytes() for f in files}
    gitlab.add_package(PACKAGE, "v1.0.0", same)
    gitlab.add_package(f"{PACKAGE}-beta", VERSION, same)
    results = Publisher(client, PACKAGE, VERSION).publish(files)
    assert [r.outcome for r in results] == ["uploaded"] * 3
    assert len(gitlab.package_files(PACKAGE, VERSION)) == 3


def test_a_rate_limited_publish_waits_and_finishes(gitlab: FakeGitLab, dist: Path) -> None:
    """GitLab throttles uploads and lists alike; publish waits as told and stores each once."""
    gitlab.rate_limit = (2, 1.0)  # the two lists pass; the first upload is throttled
    policy = RetryPolicy(max_attempts=6, base_wait=0.01, max_wait=2)
    with GitLabClient(gitlab.api_url, "42", _credential(), retry=policy) as slow_client:
        results = Publisher(slow_client, PACKAGE, VERSION).publish(collect_files([dist]))
    assert [r.outcome for r in results] == ["uploaded"] * 3
    assert len(gitlab.package_files(PACKAGE, VERSION)) == 3
    throttled = {r.method for r in gitlab.throttled}
    assert "PUT" in throttled  # the limit really met the uploads, not only the lists


def test_persistent_500_gives_up_with_one_line(client: GitLabClient, gitlab: FakeGitLab,
                                               dist: Path) -> None:
    """After the policy's attempts the error says to re-run."""
    gitlab.fail_next("PUT", r"manual\.pdf", 503, times=10)
    with pytest.raises(PublishError, match=r"docs/manual\.pdf failed 3 times.*re-run publish"):
        Publisher(client, PACKAGE, VERSION).publish(collect_files([dist]))


def test_changed_file_is_uploaded_again(client: GitLabClient, gitlab: FakeGitLab,
                                        dist: Path) -> None:
    """Same name, other bytes: uploaded as a new (newest, served) duplicate."""
    gitlab.add_package(PACKAGE, VERSION, {"VoiceInput-v1.2.0.zip": b"old"})
    results = Publisher(client, PACKAGE, VERSION).publish(collect_files([dist]))
    assert {r.name: r.outcome for r in results}["VoiceInput-v1.2.0.zip"] == "uploaded"
    assert [f.content for f in gitlab.package_files(PACKAGE, VERSION)][:2] == [b"old", b"tgz" * 700]


def test_duplicate_not_allowed_is_one_clear_line(publish_cli: Callable[..., object],
                                                 gitlab: FakeGitLab, dist: Path) -> None:
    """A group that refuses duplicates: say so, and what to do."""
    gitlab.duplicates_allowed = False
    gitlab.add_package(PACKAGE, VERSION, {"VoiceInput-v1.2.0.zip": b"old"})
    result = publish_cli(str(dist / "VoiceInput-v1.2.0.zip"), "--version", VERSION)
    assert result.code == 1
    error = result.err.strip().splitlines()[-1]
    assert error.startswith("site-builder: error: VoiceInput v1.2.0 already has a different")
    assert "does not allow duplicates" in error and "new version" in error


def test_too_large_is_one_clear_line(publish_cli: Callable[..., object], gitlab: FakeGitLab,
                                     dist: Path) -> None:
    """The plan limit: the error names the file and the 5 GiB default."""
    gitlab.max_file_size = 100
    result = publish_cli(str(dist), "--version", VERSION)
    assert result.code == 1 and "larger than this GitLab allows" in result.err
    assert "5 GiB" in result.err


@pytest.mark.parametrize(("token_role", "needle"), [
    ("wrong", "wrong, expired or revoked"),
    ("reporter", "Developer to publish"),
])
def test_auth_failures_never_print_the_token(publish_cli: Callable[..., object],
                                             gitlab: FakeGitLab, dist: Path,
                                             monkeypatch: pytest.MonkeyPatch,
                                             caplog: pytest.LogCaptureFixture,
                                             token_role: str, needle: str) -> None:
    """401 and 403 are one line naming the variable, never the value."""
    secret = "glpat-OTHER-secret-0815"
    if token_role != "wrong":
        gitlab.add_token(secret, role=token_role)
    monkeypatch.setenv("GITLAB_TOKEN", secret)
    with caplog.at_level(logging.DEBUG):
        result = publish_cli(str(dist), "--version", VERSION)
    assert result.code == 1 and needle in result.err and "GITLAB_TOKEN" in result.err
    assert secret not in result.out + result.err + caplog.text


def test_success_never_prints_the_token(publish_cli: Callable[..., object], dist: Path,
                                        caplog: pytest.LogCaptureFixture) -> None:
    """Verbose output of a whole publish holds no token."""
    with caplog.at_level(logging.DEBUG):
        result = publish_cli(str(dist), "--version", VERSION, "--verbose")
    assert result.code == 0
    assert TOKEN not in result.out + result.err + caplog.text


def test_logs_of_retries_hold_no_token(client: GitLabClient, gitlab: FakeGitLab, dist: Path,
                                       caplog: pytest.LogCaptureFixture) -> None:
    """Debug logs of a publish with failures (ours and httpx's) never show the token."""
    gitlab.fail_after_store = [502]
    gitlab.fail_next("PUT", r"\.zip", 503)
    with caplog.at_level(logging.DEBUG):
        Publisher(client, PACKAGE, VERSION).publish(collect_files([dist]))
    assert "trying again" in caplog.text and "landed despite" in caplog.text
    assert TOKEN not in caplog.text


@pytest.mark.parametrize(("version", "name"), [
    ("1..2", "a.zip"), ("v1 2", "a.zip"), ("v1/2", "a.zip"), (VERSION, "a b.zip"),
    (VERSION, "~a.zip"), (VERSION, "a@b.zip"),
])
def test_names_are_checked_before_any_request(publish_cli: Callable[..., object],
                                              gitlab: FakeGitLab, tmp_path: Path,
                                              version: str, name: str) -> None:
    """GitLab's regexes refuse them; so do we, before uploading half a version."""
    (tmp_path / name).write_bytes(b"x")
    result = publish_cli(str(tmp_path / name), "--version", version)
    assert result.code == 1 and "not allowed by GitLab" in result.err
    assert gitlab.requests == []


def test_check_names_accepts_gitlab_examples() -> None:
    """Versions from GitLab's own spec pass; a nested name is checked per segment."""
    files = [LocalFile("sub/a+b~c.zip", Path("x"), 1)]
    for version in ("1.2.3", "1.3.350-20201230123456", "v1.2.4-build", "1.2.bananas", "a" * 40):
        check_names("Voice.Input_x-y+z", version, files)
    with pytest.raises(ConfigError):
        check_names("group/pkg", "1.0.0", files)


def test_folders_without_files_and_name_clashes_are_refused(tmp_path: Path) -> None:
    """Nothing to publish, or two files for one registry name: a ConfigError."""
    (tmp_path / "empty").mkdir()
    with pytest.raises(ConfigError, match="nothing to publish"):
        collect_files([tmp_path / "empty"])
    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "same.zip").write_bytes(folder.encode())
    with pytest.raises(ConfigError, match=r"same\.zip"):
        collect_files([tmp_path / "a", tmp_path / "b"])


def test_hidden_publish_is_idempotent_and_default_reveals_it(
    client: GitLabClient, gitlab: FakeGitLab, dist: Path
) -> None:
    """Hidden files cannot be listed; a re-run checks them by HEAD, and --status default
    flips the package with one re-upload of the smallest file."""
    files = collect_files([dist])
    Publisher(client, PACKAGE, VERSION, status="hidden").publish(files)
    puts = len(_puts(gitlab))
    again = Publisher(client, PACKAGE, VERSION, status="hidden").publish(files)
    assert {r.outcome for r in again} == {"skipped (already there)"}
    assert len(_puts(gitlab)) == puts
    shown = Publisher(client, PACKAGE, VERSION, status="default").publish(files)
    assert [r.name for r in shown if r.outcome.startswith("uploaded again")] == ["docs/manual.pdf"]
    assert {p.status for p in gitlab.packages} == {"default"}
    assert len(_puts(gitlab)) == puts + 1


def test_deploy_token_publishes_and_reruns_without_listing(
    gitlab: FakeGitLab, dist: Path
) -> None:
    """Deploy tokens cannot list packages; each file is checked by HEAD instead."""
    gitlab.add_token("deploy-secret-token", kind="deploy", role="developer")
    credential = credential_from_env({"GITLAB_DEPLOY_TOKEN": "deploy-secret-token"})
    with GitLabClient(gitlab.api_url, "42", credential, retry=FAST) as deploy:
        files = collect_files([dist])
        Publisher(deploy, PACKAGE, VERSION).publish(files)
        again = Publisher(deploy, PACKAGE, VERSION).publish(files)
    assert {r.outcome for r in again} == {"skipped (already there)"}
    assert len(gitlab.package_files(PACKAGE, VERSION)) == 3
    assert not [r for r in gitlab.requests if r.path.startswith("/api/v4/projects/42/packages?")]


def test_streaming_keeps_memory_flat(client: GitLabClient, gitlab: FakeGitLab, tmp_path: Path,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """A 64 MiB upload never holds more than a few chunks (bench/upload_memory.py: 2 GiB)."""
    monkeypatch.setattr(fake_gitlab, "KEEP_CONTENT_LIMIT", 0)  # the fake hashes, keeps nothing
    big = tmp_path / "big.bin"
    size = 64 * 1024 * 1024
    with big.open("wb") as handle:
        handle.truncate(size)  # sparse: no disk, no time
    tracemalloc.start()
    try:
        Publisher(client, PACKAGE, VERSION).publish([LocalFile("big.bin", big, size)])
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < size / 8, f"peak {peak} bytes for a {size}-byte upload"
    assert gitlab.package_files(PACKAGE, VERSION)[0].size == size
