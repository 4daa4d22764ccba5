"""GitLabSource against the fake GitLab: what it lists, what the catalogue keeps, what it reads."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from site_builder.catalog import Artifact, build_catalog
from site_builder.errors import AuthError, TransientError
from site_builder.fetch import ArtifactCache, Fetcher
from site_builder.gitlab import GitLabClient
from site_builder.sources.gitlab import GitLabSource

try:
    from fake_gitlab import FakeGitLab
    from test_gitlab_client import TOKEN, fast_retries, gitlab
except ImportError:  # tests/ imported as a package
    from .fake_gitlab import FakeGitLab  # type: ignore[no-redef]
    from .test_gitlab_client import TOKEN, fast_retries, gitlab  # type: ignore[no-redef]

__all__ = ["fast_retries", "gitlab"]  # fixtures shared with the client's tests
pytestmark = pytest.mark.usefixtures("fast_retries")
ENV = {"GITLAB_TOKEN": TOKEN}


@pytest.fixture
def source(gitlab: FakeGitLab) -> Iterator[GitLabSource]:
    made = GitLabSource.from_env(api_url=gitlab.api_url, project="42", env=ENV)
    yield made
    made.close()


def release_notes(gitlab: FakeGitLab, tag: str, text: str) -> None:
    with GitLabClient.from_env(api_url=gitlab.api_url, project="42", env=ENV) as c:
        c.request("POST", "/projects/42/releases", json={"tag_name": tag, "description": text})


def test_more_than_a_page_of_versions_and_only_the_exact_name(
    gitlab: FakeGitLab, source: GitLabSource
) -> None:
    """120 versions over two pages survive; `VoiceInput-beta` and `MyVoiceInput` are not ours."""
    for i in range(120):
        gitlab.add_package("VoiceInput", f"v1.{i}.0", {f"VoiceInput-v1.{i}.0.zip": b"%d" % i})
    gitlab.add_package("VoiceInput-beta", "v9.0.0", {"beta.zip": b"beta"})
    gitlab.add_package("MyVoiceInput", "v9.9.9", {"mine.zip": b"mine"})
    rows = source.versions("VoiceInput")
    assert len(rows) == 122  # passed through: filtering is the catalogue's job
    catalog = build_catalog(rows, package="VoiceInput")
    assert len(catalog.releases) == 120
    assert catalog.latest is not None and catalog.latest.version == "v1.119.0"
    assert catalog.latest.files[0].sha256 == hashlib.sha256(b"119").hexdigest()
    listed = [r.path for r in gitlab.requests if r.path.split("?")[0].endswith("/packages")]
    assert len(listed) == 2 and "package_type=generic" in listed[0]


def test_duplicates_hidden_error_and_nested_names(gitlab: FakeGitLab, source: GitLabSource) -> None:
    """Newest duplicate wins, hidden and error versions stay off, `docs%2Fmanual.pdf` decodes."""
    pkg = gitlab.add_package("VoiceInput", "v1.0.0", {"App.zip": b"first upload"})
    gitlab.add_file(pkg, "App.zip", b"second upload")
    gitlab.add_file(pkg, "docs/manual.pdf", b"manual")
    gitlab.add_package("VoiceInput", "v2.0.0", {"App.zip": b"hidden"}, status="hidden")
    gitlab.add_package("VoiceInput", "v3.0.0", {"App.zip": b"broken"}, status="error")
    rows = source.versions("VoiceInput")
    assert {(r.version, r.status) for r in rows} == {("v1.0.0", "default"), ("v3.0.0", "error")}
    (release,) = build_catalog(rows, package="VoiceInput").releases
    assert [f.name for f in release.files] == ["App.zip", "docs/manual.pdf"]
    assert release.files[0].sha256 == hashlib.sha256(b"second upload").hexdigest()


def test_release_notes_per_tag_and_by_listing(gitlab: FakeGitLab, source: GitLabSource) -> None:
    """A Release's description becomes the version's notes; a version without one has none."""
    for i in range(3):
        gitlab.add_package("VoiceInput", f"v1.{i}.0", {"a.zip": b"a"})
    release_notes(gitlab, "v1.1.0", "Faster *dictation*.")
    notes = {r.version: r.notes for r in source.versions("VoiceInput")}
    assert notes == {"v1.0.0": "", "v1.1.0": "Faster *dictation*.", "v1.2.0": ""}

    for i in range(3, 15):  # past the per-tag limit: one paginated listing instead
        gitlab.add_package("VoiceInput", f"v1.{i}.0", {"a.zip": b"a"})
    gitlab.requests.clear()
    notes = {r.version: r.notes for r in source.versions("VoiceInput")}
    assert notes["v1.1.0"] == "Faster *dictation*." and notes["v1.14.0"] == ""
    assert len([r for r in gitlab.requests if "/releases" in r.path]) == 1


def test_deploy_tokens_cannot_list(gitlab: FakeGitLab) -> None:
    """A deploy token is refused before any request, saying which token to use instead."""
    env = {"GITLAB_DEPLOY_TOKEN": "gldt-Deploy-Secret-1"}
    with GitLabClient.from_env(api_url=gitlab.api_url, project="42", env=env) as client:
        source = GitLabSource(client)
        with pytest.raises(AuthError, match="deploy tokens list packages") as caught:
            source.versions("VoiceInput")
    assert "GITLAB_TOKEN" in str(caught.value) and "gldt-Deploy-Secret-1" not in str(caught.value)
    assert gitlab.requests == []


def test_cut_downloads_are_retried_then_name_the_file(
    gitlab: FakeGitLab, source: GitLabSource, tmp_path: Path
) -> None:
    """One cut body is retried to success; a body cut every time fails naming the file."""
    gitlab.add_package("VoiceInput", "v1.0.0", {"docs/manual.pdf": b"m" * 50_000})
    gitlab.add_package("VoiceInput", "v1.1.0", {"VoiceInput-v1.1.0.zip": b"z" * 50_000})
    catalog = build_catalog(source.versions("VoiceInput"), package="VoiceInput")
    once = gitlab.truncate_next("manual", times=1)
    always = gitlab.truncate_next("VoiceInput-v1.1.0.zip", times=99)
    with pytest.raises(TransientError) as caught:
        Fetcher(source, ArtifactCache(tmp_path)).fetch(catalog)
    assert (once.taken, always.taken) == (1, 3)
    assert str(caught.value).startswith("VoiceInput v1.1.0 VoiceInput-v1.1.0.zip: ")
    manual = Artifact("docs/manual.pdf", 50_000, hashlib.sha256(b"m" * 50_000).hexdigest())
    assert ArtifactCache(tmp_path).holds(manual)


def test_describe_names_no_secret(source: GitLabSource) -> None:
    """The label used in logs names the project and URL, never the token."""
    assert "42" in source.describe() and TOKEN not in source.describe() + repr(source.client)
