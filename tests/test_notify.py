"""`site-builder notify` against a loopback fake Strapi: the right JSON, the token kept secret."""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from conftest import CliResult, FolderRegistry
from fake_object_store import FakeHTTPServer, Request
from fake_strapi import FakeStrapi

from site_builder.errors import ConfigError
from site_builder.strapi import check_options, choose_file, target_from_options

STRAPI_TOKEN = "strapi-SECRET-token-31337"
DOC = "a1b2c3d4e5f6g7h8i9j0klmn"
SITE = "https://group.gitlab.io/speech-to-text/"
ZIP_SHA = hashlib.sha256(b"zip").hexdigest()
LATEST = {
    "package": "VoiceInput", "version": "v1.2.0", "prerelease": False,
    "released_at": "2026-02-08T15:23:00Z", "page": "releases/v1.2.0/",
    "files": [
        {"name": "VoiceInput-v1.2.0-linux.tar.gz",
         "path": "download/v1.2.0/VoiceInput-v1.2.0-linux.tar.gz",
         "url": SITE + "download/v1.2.0/VoiceInput-v1.2.0-linux.tar.gz",
         "size": 3, "sha256": hashlib.sha256(b"tgz").hexdigest()},
        {"name": "VoiceInput-v1.2.0-windows.zip",
         "path": "download/v1.2.0/VoiceInput-v1.2.0-windows.zip",
         "url": SITE + "download/v1.2.0/VoiceInput-v1.2.0-windows.zip",
         "size": 3, "sha256": ZIP_SHA},
    ],
}


@pytest.fixture
def strapi() -> Iterator[FakeStrapi]:
    with FakeStrapi(token=STRAPI_TOKEN) as cms:
        cms.add_entry("apps", DOC, {"name": "VoiceInput", "version": "v1.1.0",
                                    "downloadUrl": "", "sha256": ""})
        yield cms
        assert not cms.errors, cms.errors


@pytest.fixture
def site_project(tmp_path: Path, strapi: FakeStrapi,
                 monkeypatch: pytest.MonkeyPatch) -> Callable[..., Path]:
    """A project folder with a built `public/latest.json` and a `strapi:` section."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "public").mkdir()
    (tmp_path / "public" / "latest.json").write_text(json.dumps(LATEST), encoding="utf-8")
    (tmp_path / "content").mkdir()

    def configure(**strapi_options: object) -> Path:
        options = {"url": strapi.url, "collection": "apps", "document_id": DOC,
                   "file": "*-windows.zip", **strapi_options}
        plugin = {"downloads": {"package": "VoiceInput", "strapi": options}}
        config = {"site_name": "x", "docs_dir": "content", "plugins": [plugin]}
        (tmp_path / "mkdocs.yml").write_text(json.dumps(config), encoding="utf-8")
        return tmp_path

    return configure


def test_notify_sends_the_latest_with_bearer_token(run_cli: Callable[..., object],
                                                   strapi: FakeStrapi,
                                                   site_project: Callable[..., Path],
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """One PUT /api/apps/<id> with {"data": {version, downloadUrl, sha256}} and the Bearer."""
    site_project()
    monkeypatch.setenv("STRAPI_TOKEN", STRAPI_TOKEN)
    result = run_cli("notify")
    assert result.code == 0, result.err
    [update] = strapi.updates
    assert update.path == f"/api/apps/{DOC}"
    assert update.headers["authorization"] == f"Bearer {STRAPI_TOKEN}"
    assert update.headers["content-type"] == "application/json"
    assert update.body == {"data": {
        "version": "v1.2.0",
        "downloadUrl": SITE + "download/v1.2.0/VoiceInput-v1.2.0-windows.zip",
        "sha256": ZIP_SHA,
    }}
    published = strapi.published("apps", DOC)
    assert published is not None and published["version"] == "v1.2.0"
    assert STRAPI_TOKEN not in result.out + result.err


def test_field_names_locale_and_status_come_from_the_config(
    run_cli: Callable[..., object], strapi: FakeStrapi, site_project: Callable[..., Path],
    monkeypatch: pytest.MonkeyPatch
) -> None:
    """`fields` renames (and chooses) what is sent; locale and `publish: draft` the query."""
    strapi.add_entry("apps", DOC, {"latestVersion": "", "checksum": "", "bytes": 0})
    site_project(fields={"version": "latestVersion", "sha256": "checksum", "size": "bytes"},
                 locale="en", publish="draft")
    monkeypatch.setenv("STRAPI_TOKEN", STRAPI_TOKEN)
    assert run_cli("notify").code == 0
    [update] = strapi.updates
    assert update.body == {"data": {"latestVersion": "v1.2.0", "checksum": ZIP_SHA, "bytes": 3}}
    assert update.query == {"locale": "en", "status": "draft"}


def test_strapi_url_from_the_environment_wins(run_cli: Callable[..., object],
                                              strapi: FakeStrapi,
                                              site_project: Callable[..., Path],
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """STRAPI_URL overrides `strapi.url` (a staging CMS, say)."""
    site_project(url="http://127.0.0.1:9/unused")
    monkeypatch.setenv("STRAPI_URL", strapi.url)
    monkeypatch.setenv("STRAPI_TOKEN", STRAPI_TOKEN)
    assert run_cli("notify").code == 0
    assert len(strapi.updates) == 1


def test_not_configured_says_so_and_succeeds(run_cli: Callable[..., object], tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """No `strapi:` section (here: no mkdocs.yml at all): exit 0, one informative line."""
    monkeypatch.chdir(tmp_path)
    result = run_cli("notify")
    assert result.code == 0 and "nothing to notify" in result.err


@pytest.mark.parametrize(("token", "status", "needle"), [
    ("strapi-WRONG-token-0000", 401, "STRAPI_TOKEN is wrong or expired"),
    (STRAPI_TOKEN, 403, "needs the find permission on apps"),
])
def test_strapi_errors_are_one_line_without_the_token(
    run_cli: Callable[..., object], strapi: FakeStrapi, site_project: Callable[..., Path],
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture,
    token: str, status: int, needle: str
) -> None:
    """A refused token or an unknown entry: exit 1, one line, no token anywhere."""
    site_project()
    if status == 403:
        strapi.denied.add("find")
    monkeypatch.setenv("STRAPI_TOKEN", token)
    with caplog.at_level(logging.DEBUG):
        result = run_cli("notify", "--verbose")
    assert result.code == 1
    error = result.err.strip().splitlines()[-1]
    assert error.startswith("site-builder: error: reading Strapi entry apps/") and needle in error
    assert f" {status} " in error
    assert token not in result.out + result.err + caplog.text


def test_unknown_entry_says_what_to_check(run_cli: Callable[..., CliResult],
                                          strapi: FakeStrapi, site_project: Callable[..., Path],
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """A document id Strapi does not know: nothing written, the options to check named."""
    site_project(document_id="nope")
    monkeypatch.setenv("STRAPI_TOKEN", STRAPI_TOKEN)
    result = run_cli("notify")
    assert result.code == 1 and strapi.updates == []
    assert "Strapi entry apps/nope has no version to update: check strapi.collection" \
        in result.error


def test_unknown_field_is_named_before_anything_is_written(
    run_cli: Callable[..., CliResult], strapi: FakeStrapi, site_project: Callable[..., Path],
    monkeypatch: pytest.MonkeyPatch
) -> None:
    """A field the entry lacks: caught from the read, with the close name; no PUT."""
    site_project(fields={"version": "releaseVersion"})
    monkeypatch.setenv("STRAPI_TOKEN", STRAPI_TOKEN)
    result = run_cli("notify")
    assert result.code == 1 and strapi.updates == []
    assert "has no field `releaseVersion`: did you mean `version`? fix strapi.fields" \
        in result.error


def test_unreachable_strapi_is_one_line(run_cli: Callable[..., object],
                                        site_project: Callable[..., Path],
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """Nothing listening: say which URL to check."""
    site_project(url="http://127.0.0.1:9")
    monkeypatch.setenv("STRAPI_TOKEN", STRAPI_TOKEN)
    result = run_cli("notify")
    assert result.code == 1 and "cannot reach Strapi at http://127.0.0.1:9" in result.err


def test_missing_token_and_missing_site(run_cli: Callable[..., object], tmp_path: Path,
                                        site_project: Callable[..., Path]) -> None:
    """Configured but no STRAPI_TOKEN, or no built site: a ConfigError naming the fix."""
    site_project()
    result = run_cli("notify")
    assert result.code == 1 and "STRAPI_TOKEN is not set" in result.err
    (tmp_path / "public" / "latest.json").unlink()
    result = run_cli("notify", "--from-site", str(tmp_path / "public"))
    assert result.code == 1 and "run `site-builder build` first" in result.err


def test_dry_run_prints_the_update_and_sends_nothing(run_cli: Callable[..., object],
                                                     strapi: FakeStrapi,
                                                     site_project: Callable[..., Path]) -> None:
    """--dry-run needs no token and shows exactly what would be sent."""
    site_project()
    result = run_cli("notify", "--dry-run")
    assert result.code == 0 and strapi.updates == []
    shown = json.loads(result.out)
    assert shown["PUT"] == f"{strapi.url}/api/apps/{DOC}"
    assert shown["data"]["sha256"] == ZIP_SHA


def test_reads_latest_json_from_the_live_site(run_cli: Callable[..., object],
                                              strapi: FakeStrapi,
                                              site_project: Callable[..., Path],
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """--from-site URL fetches <URL>/latest.json (here served by a second fake)."""
    site_project()

    class LiveSite(FakeHTTPServer):
        def route(self, req: Request) -> None:
            req.send_json(200, {**LATEST, "version": "v1.3.0"})

    monkeypatch.setenv("STRAPI_TOKEN", STRAPI_TOKEN)
    with LiveSite() as site:
        assert run_cli("notify", "--from-site", site.url + "/speech-to-text/").code == 0
        assert site.requests[0].path == "/speech-to-text/latest.json"
    assert strapi.updates[0].body["data"]["version"] == "v1.3.0"


def test_end_to_end_after_a_real_build(build: Callable[..., CliResult],
                                       registry: FolderRegistry,
                                       project: Path, strapi: FakeStrapi,
                                       run_cli: Callable[..., object],
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """build then notify: the URL and SHA256 sent are the ones the site publishes."""
    registry.add("v1.2.0", {"VoiceInput-v1.2.0.zip": b"zip"})
    config = project / "mkdocs.yml"
    config.write_text(config.read_text(encoding="utf-8").replace(
        "package: VoiceInput",
        f"package: VoiceInput\n      strapi: {{url: '{strapi.url}', collection: apps, "
        f"document_id: {DOC}}}"), encoding="utf-8")
    assert build("--site-url", SITE).code == 0
    monkeypatch.chdir(project)
    monkeypatch.setenv("STRAPI_TOKEN", STRAPI_TOKEN)
    assert run_cli("notify").code == 0
    assert strapi.updates[0].body["data"] == {
        "version": "v1.2.0", "downloadUrl": SITE + "download/v1.2.0/VoiceInput-v1.2.0.zip",
        "sha256": ZIP_SHA}


def test_configuration_errors() -> None:
    """Incomplete sections, unknown value keys and ambiguous file choices are refused."""
    with pytest.raises(ConfigError, match="lack collection, document_id"):
        target_from_options({"url": "https://cms.example.com"}, env={})
    with pytest.raises(ConfigError, match=r"strapi\.fields"):
        target_from_options({"url": "https://c", "collection": "a", "document_id": "b",
                             "fields": {"checksum": "x"}}, env={})
    assert target_from_options({}, env={}) is None
    with pytest.raises(ConfigError, match="has 2 files"):
        choose_file(LATEST, None)
    with pytest.raises(ConfigError, match="matches none"):
        choose_file(LATEST, "*.dmg")
    with pytest.raises(ConfigError, match=r"no option `colection`: did you mean `collection`\?"):
        check_options({"colection": "apps"})
    with pytest.raises(ConfigError, match='publish "sometimes" is not one of safe, all, draft'):
        check_options({"publish": "sometimes"})
    with pytest.raises(ConfigError, match="either single_type, or collection and document_id"):
        check_options({"single_type": "release", "collection": "apps"})
