"""Shared fixtures: a site project in a temp folder, a folder registry, and a CLI runner."""

from __future__ import annotations

import json
import logging
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from site_builder.cli import main

REPO = Path(__file__).resolve().parent.parent
SECRET_VARIABLES = ("GITLAB_TOKEN", "CI_JOB_TOKEN", "GITLAB_DEPLOY_TOKEN", "STRAPI_TOKEN",
                    "MINISIGN_SECRET_KEY_FILE", "MINISIGN_SECRET_KEY", "MINISIGN_PASSWORD",
                    "MINISIGN_PUBLIC_KEY")
CI_VARIABLES = ("CI_API_V4_URL", "CI_PROJECT_ID", "CI_PAGES_URL", "CI_COMMIT_TAG", "GITLAB_CI")
VOICE_URL = "https://group.gitlab.io/voice/"


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests never inherit a real token or CI variable from the machine running them."""
    for name in SECRET_VARIABLES + CI_VARIABLES:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    """`cli.main` points the `mkdocs` logger at this test's stderr; the next test gets it back."""
    loggers = [logging.getLogger(name) for name in ("mkdocs", "mkdocs.plugins.downloads")]
    saved = [(lg.handlers[:], lg.propagate, lg.level) for lg in loggers]
    yield
    for lg, (handlers, propagate, level) in zip(loggers, saved, strict=True):
        lg.handlers[:], lg.propagate = handlers, propagate
        lg.setLevel(level)  # setLevel, not `.level =`: it also clears logging's level cache


@dataclass
class CliResult:
    code: int
    out: str
    err: str

    @property
    def error(self) -> str:
        """The one error line of a failed run (asserting there is exactly one, no traceback)."""
        lines = [line for line in self.err.splitlines() if line.startswith("site-builder: error")]
        assert len(lines) == 1, self.err
        assert "Traceback" not in self.err
        return lines[0]

    def refused(self, *words: str) -> str:
        """The error line of a run that failed for the input's fault: exit 1, no "a bug",
        and every one of `words` in the line."""
        assert self.code == 1, self.err
        line = self.error
        assert "a bug" not in line and "unexpected" not in line, line
        for word in words:
            assert word in line, line
        return line


@pytest.fixture
def run_cli(capsys: pytest.CaptureFixture[str]) -> Callable[..., CliResult]:
    """Run `site-builder ARGS...` in-process; returns exit code, stdout and stderr."""

    def run(*args: str) -> CliResult:
        capsys.readouterr()
        try:
            code = main(list(args))
        except SystemExit as e:  # argparse usage errors
            code = int(e.code or 0)
        captured = capsys.readouterr()
        return CliResult(code, captured.out, captured.err)

    return run


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A copy of the repository's site project (mkdocs.yml, content/, theme/)."""
    root = tmp_path / "project"
    root.mkdir()
    shutil.copy(REPO / "mkdocs.yml", root / "mkdocs.yml")
    shutil.copytree(REPO / "content", root / "content")
    shutil.copytree(REPO / "theme", root / "theme")
    return root


class FolderRegistry:
    """Writes `root/<package>/<version>/<file>` with optional `.release.json` and notes."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def add(
        self,
        version: str,
        files: dict[str, bytes],
        *,
        package: str = "VoiceInput",
        released_at: str = "2026-01-01T00:00:00Z",
        notes: str = "",
        status: str = "default",
        sha256: dict[str, str] | None = None,
    ) -> Path:
        folder = self.root / package / version
        folder.mkdir(parents=True)
        for name, content in files.items():
            path = folder / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(content)
        meta: dict[str, object] = {"released_at": released_at, "status": status}
        if sha256:
            meta["sha256"] = sha256
        (folder / ".release.json").write_text(json.dumps(meta))
        if notes:
            (folder / ".notes.md").write_text(notes)
        return folder


@pytest.fixture
def registry(tmp_path: Path) -> FolderRegistry:
    return FolderRegistry(tmp_path / "registry")


@pytest.fixture
def build(
    project: Path, registry: FolderRegistry, tmp_path: Path, run_cli: Callable[..., CliResult]
) -> Callable[..., CliResult]:
    """`site-builder build` of `project` from `registry` into `project/public`."""

    def run(*extra: str) -> CliResult:
        return run_cli(
            "build",
            "--config", str(project / "mkdocs.yml"),
            "--from-dir", str(registry.root),
            "--output", str(project / "public"),
            "--cache-dir", str(tmp_path / "cache"),
            *extra,
        )

    return run


@pytest.fixture(scope="session")
def voice_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The repository's sample, built once for the whole run as a project site under /voice/.

    Shared by every module that reads it: copy it before changing anything in it.
    """
    from sample_site import build_sample

    return build_sample(tmp_path_factory.mktemp("voice"), site_url=VOICE_URL)


@pytest.fixture
def gitlab_build(run_cli: Callable[..., CliResult], project: Path, tmp_path: Path,
                 gitlab: object) -> Callable[[], CliResult]:
    """`site-builder build` of `project` from the test module's own `gitlab` fixture (a
    FakeGitLab with the token in GITLAB_TOKEN), package VoiceInput, into `project/public`."""

    def run() -> CliResult:
        return run_cli("build", "--config", str(project / "mkdocs.yml"),
                       "--output", str(project / "public"), "--cache-dir",
                       str(tmp_path / "cache"), "--api-url", gitlab.api_url,  # type: ignore[attr-defined]
                       "--project", "42", "--package", "VoiceInput")

    return run
