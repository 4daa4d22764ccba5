"""Ctrl-C, SIGTERM and SIGKILL: a build stops within 2 s and leaves nothing half-built.

The build runs as a real `site-builder` process against the hostile registry, stalled in the
middle of its downloads (the registry drips), and is signalled there.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from conftest import CliResult, FolderRegistry
from hostile_registry import HostileRegistry

from site_builder import bounds, output
from site_builder.errors import Interrupted
from site_builder.fetch_child import CHILD_MIN
from site_builder.output import StagedOutput
from site_builder.throttle import AdaptiveLimit

TOKEN = "glpat-Interrupt-Me-0123456789"
SLACK = 2.0  # seconds a loaded 2-core machine may add


@contextmanager
def stalling_registry(files: int) -> Iterator[HostileRegistry]:
    """A registry of `files` files whose downloads start, then drip forever."""
    with HostileRegistry() as evil:
        evil.add_token(TOKEN, role="developer")
        evil.add_package("VoiceInput", "v1.0.0", {f"VoiceInput-{n}.zip": b"%d" % n * 4096
                                                   for n in range(files)})
        evil.drip("GET", r"/packages/generic/", every=0.2, head=b"zz", length=4096,
                  content_type="application/octet-stream")
        yield evil


@pytest.fixture
def stalling() -> Iterator[HostileRegistry]:
    """Three files: the build downloads them in its own threads."""
    with stalling_registry(3) as evil:
        yield evil


def start_build(evil: HostileRegistry, project: Path, cache: Path) -> subprocess.Popen[str]:
    env = {**os.environ, "GITLAB_TOKEN": TOKEN}
    for name in ("CI_JOB_TOKEN", "GITLAB_DEPLOY_TOKEN", "CI_API_V4_URL", "CI_PROJECT_ID"):
        env.pop(name, None)
    return subprocess.Popen(
        [sys.executable, "-m", "site_builder", "build", "--config", str(project / "mkdocs.yml"),
         "--api-url", evil.api_url, "--project", "42", "--package", "VoiceInput",
         "--output", str(project / "public"), "--cache-dir", str(cache)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


def parts(cache: Path) -> list[Path]:
    return list(cache.rglob(".part-*"))


def wait_mid_download(build: subprocess.Popen[str], evil: HostileRegistry, cache: Path) -> None:
    """Until three downloads are dripping and their `.part-*` files exist."""
    deadline = time.monotonic() + 60
    while not (evil.hits["drip"] >= 3 and len(parts(cache)) >= 3):
        assert build.poll() is None, build.communicate()
        assert time.monotonic() < deadline, "the build never reached its downloads"
        time.sleep(0.05)


def signal_mid_download(evil: HostileRegistry, project: Path, cache: Path, signum: int, *,
                        midway: Callable[[], object] = lambda: True) -> str:
    """A build signalled (alone, as `kill` or CI does it) while its downloads drip, once
    `midway()` holds; asserts it ended within 2 s with 128 + signum; returns its stderr."""
    build = start_build(evil, project, cache)
    try:
        wait_mid_download(build, evil, cache)
        assert midway(), "not at the point the test is about"
        signalled = time.monotonic()
        build.send_signal(signum)
        _out, err = build.communicate(timeout=30)
        elapsed = time.monotonic() - signalled
    finally:
        build.kill()
    assert build.returncode == 128 + signum, err
    assert elapsed < 2.0 + SLACK
    return err


@pytest.mark.slow
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_stops_the_build_within_2_s_with_no_leftovers(
    stalling: HostileRegistry, project: Path, tmp_path: Path, signum: int
) -> None:
    """Exit 130/143 within 2 s, one line, the old output untouched, no staging, no `.part-*`."""
    old = project / "public"
    old.mkdir()
    (old / "index.html").write_text("the old site")
    cache = tmp_path / "cache"
    err = signal_mid_download(stalling, project, cache, signum)
    lines = [line for line in err.splitlines() if line.startswith("site-builder:")]
    assert lines == [line for line in lines if signal.Signals(signum).name in line]
    assert len(lines) == 1 and "Traceback" not in err, err
    assert parts(cache) == []
    assert sorted(p.name for p in project.iterdir() if p.name.startswith(".public")) == []
    assert (old / "index.html").read_text() == "the old site"


@pytest.fixture
def stalling_many() -> Iterator[HostileRegistry]:
    """Enough files that the build downloads them in a child process."""
    with stalling_registry(CHILD_MIN) as evil:
        yield evil


@pytest.mark.slow
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_stops_downloads_in_a_child_too(
    stalling_many: HostileRegistry, project: Path, tmp_path: Path, signum: int
) -> None:
    """The signal reaches the build only (as `kill` or CI sends it): the child downloading
    beside MkDocs ends with it, and its part files go."""
    cache = tmp_path / "cache"
    err = signal_mid_download(stalling_many, project, cache, signum,
                              midway=lambda: children_running("site_builder.fetch_child"))
    assert "Traceback" not in err and TOKEN not in err
    assert children_running("site_builder.fetch_child") == []
    assert parts(cache) == []
    assert sorted(p.name for p in project.iterdir() if p.name.startswith(".public")) == []


@pytest.mark.slow
def test_the_next_build_removes_what_a_killed_one_left(
    stalling: HostileRegistry, project: Path, tmp_path: Path, registry: FolderRegistry,
    build: Callable[..., CliResult],
) -> None:
    """SIGKILL leaves `.part-*` files; the next build (of the same cache) removes them."""
    cache = tmp_path / "cache"
    killed = start_build(stalling, project, cache)
    try:
        wait_mid_download(killed, stalling, cache)
    finally:
        killed.kill()
        killed.communicate()
    assert len(parts(cache)) >= 3
    # killed while downloading in the background, its staging folder already made
    (project / f".public.staging-{killed.pid}").mkdir(exist_ok=True)
    registry.add("v1.0.0", {"App-v1.0.0.zip": b"x"})
    result = build()
    assert result.code == 0, result.err
    assert parts(cache) == []
    assert not (project / f".public.staging-{killed.pid}").exists()


def dead_pid() -> int:
    process = subprocess.Popen(["true"])
    process.wait()
    return process.pid


def test_a_swap_cut_between_its_renames_is_undone_by_the_next_build(tmp_path: Path) -> None:
    """Killed between the fallback's two renames: the next build puts the old output back."""
    pid = dead_pid()
    retired = tmp_path / f".public.old-{pid}"
    retired.mkdir()
    (retired / "index.html").write_text("the last complete site")
    staged = StagedOutput(tmp_path / "public")
    staged.prepare()
    assert (tmp_path / "public" / "index.html").read_text() == "the last complete site"
    assert not retired.exists()
    staged.discard()


def test_staging_of_a_live_build_is_left_alone(tmp_path: Path) -> None:
    """Two builds may share an output folder: a running one's staging is not removed."""
    live = tmp_path / f".public.staging-{os.getppid()}"
    live.mkdir()
    StagedOutput(tmp_path / "public").prepare()
    assert live.is_dir()


@pytest.mark.skipif(output._RENAMEAT2 is None, reason="renameat2 is Linux-only")
def test_the_swap_is_one_atomic_exchange_on_linux(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """On Linux the output is swapped by renameat2(RENAME_EXCHANGE), never by two renames."""
    target = tmp_path / "public"
    target.mkdir()
    (target / "index.html").write_text("old")
    staged = StagedOutput(target)
    (staged.prepare() / "index.html").write_text("new")

    def no_rename(*args: object) -> None:
        raise AssertionError("a rename would leave a moment without an output folder")

    monkeypatch.setattr(output.os, "replace", no_rename)
    staged.commit()
    assert (target / "index.html").read_text() == "new"
    assert [p.name for p in tmp_path.iterdir()] == ["public"]


def test_the_fallback_swap_still_replaces_the_output(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """Without renameat2 (other systems, some filesystems) the two-rename swap is used."""
    monkeypatch.setattr(output, "_RENAMEAT2", None)
    target = tmp_path / "public"
    target.mkdir()
    (target / "index.html").write_text("old")
    staged = StagedOutput(target)
    (staged.prepare() / "index.html").write_text("new")
    staged.commit()
    assert (target / "index.html").read_text() == "new"
    assert [p.name for p in tmp_path.iterdir()] == ["public"]


def test_an_interrupt_ends_a_wait_for_the_servers_pause() -> None:
    """A call queued behind a 60 s `Retry-After` stops at once on Ctrl-C, not a minute later."""
    limit = AdaptiveLimit(start=1)
    limit.observe(429, {"retry-after": "60"}, started=time.monotonic())
    timer = threading.Timer(0.2, bounds.cancel_all)
    started = time.monotonic()
    timer.start()
    try:
        with pytest.raises(Interrupted), limit.slot():
            pass
    finally:
        timer.join()
        bounds.reset_cancel()
    assert time.monotonic() - started < 0.2 + SLACK


def relisting_children() -> list[str]:
    """Live `relist` children started with this module's token (not another suite's)."""
    return children_running("site_builder.sources.relist")


def children_running(module: str) -> list[str]:
    """Live `python -m module` processes started with this module's token."""
    found = subprocess.run(["pgrep", "-f", module], capture_output=True, text=True).stdout.split()
    ours = []
    for pid in found:
        try:
            if TOKEN.encode() in Path(f"/proc/{pid}/environ").read_bytes():
                ours.append(pid)
        except OSError:  # ended meanwhile
            continue
    return ours


@pytest.mark.slow
def test_a_signal_while_gitlab_is_listed_again_in_the_background_stops_both(
    project: Path, tmp_path: Path
) -> None:
    """A warm build renders from the saved listing while a child lists GitLab again; GitLab is
    slow to answer and the job is cancelled: both processes end, the old site stays."""
    cache = tmp_path / "cache"
    with HostileRegistry() as evil:
        evil.add_token(TOKEN, role="developer")
        evil.add_package("VoiceInput", "v1.0.0", {"VoiceInput-v1.0.0.zip": b"one"})
        first = start_build(evil, project, cache)
        _out, err = first.communicate(timeout=120)
        assert first.returncode == 0, err
        before = (project / "public" / "index.json").read_bytes()
        evil.drip("GET", r"/package_files", every=0.2)  # the listing starts, then drips
        build = start_build(evil, project, cache)
        try:
            deadline = time.monotonic() + 60
            while not (evil.hits["drip"] >= 1 and relisting_children()):
                assert build.poll() is None, build.communicate()
                assert time.monotonic() < deadline, "the listing never started"
                time.sleep(0.05)
            signalled = time.monotonic()
            build.send_signal(signal.SIGTERM)  # to the build only, as `kill` or CI would
            _out, err = build.communicate(timeout=30)
            elapsed = time.monotonic() - signalled
        finally:
            build.kill()
    assert build.returncode == 128 + signal.SIGTERM, err
    assert elapsed < 2.0 + SLACK
    assert "Traceback" not in err and TOKEN not in err
    assert relisting_children() == []
    assert (project / "public" / "index.json").read_bytes() == before
    assert sorted(p.name for p in project.iterdir() if p.name.startswith(".public")) == []
