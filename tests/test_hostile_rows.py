"""A registry that lies: hostile rows served over real HTTP by the fake GitLab (`tampered`).

Each test is one attack from issue 9. The build must stop with one line naming package,
version, file and field, never "a bug", and must touch nothing outside its cache.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

try:
    from conftest import CliResult
    from fake_gitlab import ABSENT, FakeGitLab
    from test_gitlab_client import TOKEN, fast_retries
except ImportError:  # tests/ imported as a package
    from .conftest import CliResult  # type: ignore[no-redef]
    from .fake_gitlab import ABSENT, FakeGitLab  # type: ignore[no-redef]
    from .test_gitlab_client import TOKEN, fast_retries  # type: ignore[no-redef]

__all__ = ["fast_retries"]
pytestmark = pytest.mark.usefixtures("fast_retries")
CONTENT = b"the real bytes of App v1.0.0"


@pytest.fixture
def gitlab(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeGitLab]:
    with FakeGitLab() as gl:
        gl.add_token(TOKEN, role="developer")
        monkeypatch.setenv("GITLAB_TOKEN", TOKEN)
        yield gl


@pytest.fixture
def build(run_cli: Callable[..., CliResult], project: Path, tmp_path: Path,
          gitlab: FakeGitLab) -> Callable[[], CliResult]:
    def run() -> CliResult:
        return run_cli("build", "--config", str(project / "mkdocs.yml"),
                       "--api-url", gitlab.api_url, "--project", "42", "--package", "App",
                       "--output", str(project / "public"),
                       "--cache-dir", str(tmp_path / "cache"))
    return run


def test_a_sha256_that_is_a_path_touches_no_file_beside_the_cache(
    gitlab: FakeGitLab, build: Callable[[], CliResult], tmp_path: Path, project: Path
) -> None:
    """`file_sha256: "/…/victim"` of the victim's size: refused; the victim is untouched."""
    victim = tmp_path / "victim"
    victim.write_bytes(b"v" * len(CONTENT))
    package = gitlab.add_package("App", "v1.0.0", {"App-v1.0.0.zip": CONTENT})
    gitlab.tampered[package.files[0].id] = {"file_sha256": str(victim)}
    result = build()
    assert victim.read_bytes() == b"v" * len(CONTENT)
    result.refused("App v1.0.0 App-v1.0.0.zip", "sha256", "64 hexadecimal")
    assert not (project / "public").exists()


def test_a_relative_sha256_creates_no_folder(
    gitlab: FakeGitLab, build: Callable[[], CliResult], tmp_path: Path
) -> None:
    """`file_sha256: "/…/made/x"` makes no folder outside the cache (nor downloads into it)."""
    package = gitlab.add_package("App", "v1.0.0", {"App-v1.0.0.zip": CONTENT})
    gitlab.tampered[package.files[0].id] = {"file_sha256": str(tmp_path / "made" / "x")}
    result = build()
    assert not (tmp_path / "made").exists()
    result.refused("sha256")


@pytest.mark.parametrize(
    ("field", "value", "words"),
    [
        ("size", "abc", ("App v1.0.0 App-v1.0.0.zip", "size", "'abc' is not an integer")),
        ("size", -5, ("size", "below 0")),
        ("size", True, ("size", "not an integer")),
        ("id", "7", ("file id", "'7' is not an integer")),
        ("created_at", "yesterday", ("created_at", "'yesterday' is not an ISO 8601 date")),
        ("file_name", 5, ("file_name", "5 is not a string")),
        ("file_name", "App\u202egpj.zip", ("'App\\u202egpj.zip'", "bidi")),
        ("file_name", "a\u2028b.zip", ("'a\\u2028b.zip'", "line-separator")),
        ("file_sha256", 12, ("sha256", "12 is not a string")),
        ("file_sha256", "a" * 63, ("sha256", "64 hexadecimal")),
    ],
)
def test_malformed_file_rows_are_one_clear_line(
    gitlab: FakeGitLab, build: Callable[[], CliResult], field: str, value: object,
    words: tuple[str, ...],
) -> None:
    """Wrong types and forms in `package_files` name the field, never "a bug"."""
    package = gitlab.add_package("App", "v1.0.0", {"App-v1.0.0.zip": CONTENT})
    gitlab.tampered[package.files[0].id] = {field: value}
    build().refused(*words)


@pytest.mark.parametrize(
    ("fields", "words"),
    [
        ({"id": ABSENT}, ("App v1.0.0", "refusing id: None is not an integer")),
        ({"id": "abc"}, ("refusing id", "'abc'")),
        ({"created_at": "2026-13-45"}, ("created_at", "ISO 8601")),
        ({"version": None}, ("refusing version: None is not a string",)),
        ({"version": 2}, ("version", "2 is not a string")),
        ({"version": "v2.0.0-<img src=x onerror=alert(1)>"},
         ("version", "not a GitLab package version")),
        ({"version": "v1\u202e0"}, ("version", "bidi")),
    ],
)
def test_malformed_package_rows_are_one_clear_line(
    gitlab: FakeGitLab, build: Callable[[], CliResult], project: Path,
    fields: dict[str, object], words: tuple[str, ...],
) -> None:
    """A missing id, a bad date or a null or hostile version is refused; `None` is never shown."""
    package = gitlab.add_package("App", "v1.0.0", {"App-v1.0.0.zip": CONTENT})
    gitlab.tampered[package.id] = fields
    build().refused(*words)
    assert not (project / "public").exists()


def test_names_differing_only_in_case_are_refused(
    gitlab: FakeGitLab, build: Callable[[], CliResult]
) -> None:
    """`App.zip` and `app.zip` in one version are one file on Windows and macOS: refused."""
    gitlab.add_package("App", "v1.0.0", {"App.zip": b"one", "app.zip": b"two"})
    build().refused("App v1.0.0", "'App.zip' and 'app.zip' differ only in case")


def test_upper_case_sha256_is_normalised(
    gitlab: FakeGitLab, build: Callable[[], CliResult], project: Path
) -> None:
    """An upper-case digest is the same digest: the site lists it in lower case."""
    package = gitlab.add_package("App", "v1.0.0", {"App-v1.0.0.zip": CONTENT})
    gitlab.tampered[package.files[0].id] = {"file_sha256": package.files[0].sha256.upper()}
    assert build().code == 0
    sums = (project / "public" / "download" / "v1.0.0" / "SHA256SUMS").read_text()
    assert sums == f"{package.files[0].sha256}  App-v1.0.0.zip\n"
