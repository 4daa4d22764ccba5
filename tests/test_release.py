"""`site-builder release` against the loopback fake GitLab: created once, then kept up to date."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fake_gitlab import FakeGitLab

from site_builder.layout import SiteLayout
from site_builder.releases import AssetLink, asset_links, valid_direct_asset_path

TOKEN = "glpat-RELEASE-secret-1234"
SITE = "https://group.gitlab.io/speech-to-text/"
PACKAGE, VERSION = "VoiceInput", "v1.2.0"
CHANGELOG = """\
# Changelog

## [1.2.0] - 2026-02-08
### Added
- Push-to-talk

## [1.1.0] - 2026-01-10
- Older
"""


@pytest.fixture
def gitlab() -> Iterator[FakeGitLab]:
    with FakeGitLab() as fake:
        fake.add_token(TOKEN, role="developer")
        fake.add_package(PACKAGE, VERSION, {"VoiceInput-v1.2.0.zip": b"zip",
                                            "docs/manual.pdf": b"pdf"})
        yield fake
        assert not fake.errors, fake.errors


@pytest.fixture
def release_cli(run_cli: Callable[..., object], gitlab: FakeGitLab, tmp_path: Path,
                monkeypatch: pytest.MonkeyPatch) -> Callable[..., object]:
    """`site-builder release` in a project folder holding CHANGELOG.md, as a CI tag job."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "CHANGELOG.md").write_text(CHANGELOG, encoding="utf-8")
    for name, value in {"GITLAB_TOKEN": TOKEN, "CI_API_V4_URL": gitlab.api_url,
                        "CI_PROJECT_ID": "42", "CI_COMMIT_TAG": VERSION,
                        "CI_PAGES_URL": SITE}.items():
        monkeypatch.setenv(name, value)

    def run(*args: str) -> object:
        return run_cli("release", "--package", PACKAGE, *args)

    return run


def _link_writes(gitlab: FakeGitLab) -> list[str]:
    return [f"{r.method} {r.path}" for r in gitlab.requests
            if "/assets/links" in r.path and r.method != "GET"]


def test_create_links_to_the_pages_downloads(release_cli: Callable[..., object],
                                             gitlab: FakeGitLab) -> None:
    """A new release: the changelog section as notes, one `package` link per registry file."""
    result = release_cli()
    assert result.code == 0, result.err
    release = gitlab.releases[VERSION]
    assert release["name"] == "VoiceInput v1.2.0"
    assert release["description"] == "### Added\n- Push-to-talk"
    links = {link["name"]: link for link in release["assets"]["links"]}
    assert set(links) == {"VoiceInput-v1.2.0.zip", "docs/manual.pdf"}
    zip_link = links["VoiceInput-v1.2.0.zip"]
    assert zip_link["url"] == SITE + "download/v1.2.0/VoiceInput-v1.2.0.zip"
    assert zip_link["link_type"] == "package"
    assert zip_link["direct_asset_url"].endswith(
        "/-/releases/v1.2.0/downloads/VoiceInput-v1.2.0.zip")
    assert links["docs/manual.pdf"]["url"] == SITE + "download/v1.2.0/docs/manual.pdf"


def test_rerun_updates_the_release_and_reconciles_links(release_cli: Callable[..., object],
                                                        gitlab: FakeGitLab,
                                                        tmp_path: Path) -> None:
    """Create, then re-run after a new file and new notes: updated, no duplicate links."""
    assert release_cli().code == 0
    gitlab.add_file(gitlab.packages[0], "VoiceInput-v1.2.0.tar.gz", b"tgz")
    (tmp_path / "CHANGELOG.md").write_text(CHANGELOG.replace("Push-to-talk", "Push to talk"),
                                           encoding="utf-8")
    writes = len(_link_writes(gitlab))
    again = release_cli()
    assert again.code == 0, again.err
    assert "updated" in again.err and "links 1 created, 0 updated, 2 unchanged" in again.err
    release = gitlab.releases[VERSION]
    assert release["description"] == "### Added\n- Push to talk"
    names = sorted(link["name"] for link in release["assets"]["links"])
    assert names == ["VoiceInput-v1.2.0.tar.gz", "VoiceInput-v1.2.0.zip", "docs/manual.pdf"]
    assert len(_link_writes(gitlab)) == writes + 1
    assert release_cli().code == 0  # a third run has nothing to change
    assert len(_link_writes(gitlab)) == writes + 1


def test_moved_site_updates_the_link_urls(release_cli: Callable[..., object],
                                          gitlab: FakeGitLab) -> None:
    """Another site URL: every link is updated in place (PUT), none added."""
    assert release_cli().code == 0
    moved = "https://downloads.example.com/"
    assert release_cli("--site-url", moved).code == 0
    links = gitlab.releases[VERSION]["assets"]["links"]
    assert len(links) == 2 and all(link["url"].startswith(moved) for link in links)
    assert sum(w.startswith("PUT") for w in _link_writes(gitlab)) == 2


def test_hand_made_notes_survive_a_run_without_a_changelog_section(
    release_cli: Callable[..., object], gitlab: FakeGitLab, tmp_path: Path
) -> None:
    """Without notes for the version, an existing description is left as it is."""
    assert release_cli().code == 0
    gitlab.releases[VERSION]["description"] = "Edited in the GitLab UI"
    (tmp_path / "CHANGELOG.md").write_text("# Changelog\n", encoding="utf-8")
    assert release_cli().code == 0
    assert gitlab.releases[VERSION]["description"] == "Edited in the GitLab UI"


def test_without_changelog_the_notes_point_at_the_page(release_cli: Callable[..., object],
                                                       gitlab: FakeGitLab,
                                                       tmp_path: Path) -> None:
    """No CHANGELOG.md: a new release says where its downloads are."""
    (tmp_path / "CHANGELOG.md").unlink()
    assert release_cli().code == 0
    assert gitlab.releases[VERSION]["description"] == f"Downloads: {SITE}releases/v1.2.0/"


def test_changelog_option(release_cli: Callable[..., object], gitlab: FakeGitLab,
                          tmp_path: Path) -> None:
    """--changelog FILE reads another file."""
    (tmp_path / "NEWS.md").write_text("## v1.2.0\nFrom NEWS\n", encoding="utf-8")
    assert release_cli("--changelog", str(tmp_path / "NEWS.md")).code == 0
    assert gitlab.releases[VERSION]["description"] == "From NEWS"


def test_unpublished_version_is_one_line(release_cli: Callable[..., object],
                                         gitlab: FakeGitLab) -> None:
    """Nothing in the registry for the tag: say to publish first."""
    result = release_cli("--version", "v9.9.9")
    assert result.code == 1 and "publish --version v9.9.9` first" in result.err
    assert gitlab.releases == {}


def test_missing_site_url_is_one_line(release_cli: Callable[..., object], gitlab: FakeGitLab,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """The links need the public URL: the error names the three ways to give it."""
    monkeypatch.delenv("CI_PAGES_URL")
    result = release_cli()
    assert result.code == 1 and "--site-url" in result.err and "CI_PAGES_URL" in result.err


def test_no_token_in_output_on_success_or_failure(release_cli: Callable[..., object],
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """Neither a good run nor a refused token prints the token."""
    ok = release_cli("--verbose")
    assert ok.code == 0 and TOKEN not in ok.out + ok.err
    monkeypatch.setenv("GITLAB_TOKEN", "glpat-NOT-KNOWN-9999")
    refused = release_cli("--verbose")
    assert refused.code == 1 and "GITLAB_TOKEN" in refused.err
    assert "glpat-NOT-KNOWN-9999" not in refused.out + refused.err


def test_deploy_token_is_refused_up_front(release_cli: Callable[..., object],
                                         gitlab: FakeGitLab,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """Deploy tokens cannot write releases: one line says which token to use instead."""
    monkeypatch.delenv("GITLAB_TOKEN")
    monkeypatch.setenv("GITLAB_DEPLOY_TOKEN", "deploy-secret-token")
    result = release_cli()
    assert result.code == 1 and "GITLAB_DEPLOY_TOKEN holds a deploy token" in result.err
    assert gitlab.requests == [] and "deploy-secret-token" not in result.err


@pytest.mark.parametrize(("path", "valid"), [
    ("/VoiceInput-v1.2.0.zip", True), ("/docs/manual.pdf", True), ("/a", True),
    ("/", False), ("no-slash", False), ("/a//b", False), ("/ends-with-dot.", False),
    ("/a+b.zip", False), ("/" + "a" * 127, True), ("/" + "a" * 128, False),
    ("/" + "a-" * 40 + "!", False),
])
def test_direct_asset_path_rule(path: str, valid: bool) -> None:
    """GitLab's Releases::Link rule, quickly even on a near miss."""
    assert valid_direct_asset_path(path) is valid


def test_invalid_direct_path_is_skipped_with_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    """A name GitLab's rule refuses still gets its link, just without a direct path."""
    layout = SiteLayout(site_url=SITE)
    with caplog.at_level(logging.WARNING):
        links = asset_links(VERSION, ["a+b.zip", "ok.zip"], layout)
    assert links == [
        AssetLink("a+b.zip", SITE + "download/v1.2.0/a+b.zip", None),
        AssetLink("ok.zip", SITE + "download/v1.2.0/ok.zip", "/ok.zip"),
    ]
    assert "a+b.zip gets no direct asset path" in caplog.text
