"""`notify` against a Strapi 5 with Draft & Publish, single types and locales (a loopback
double that answers as Strapi 5 does: see fake_strapi.py). A re-run changes nothing."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import CliResult, FolderRegistry
from fake_strapi import FakeStrapi

TOKEN = "strapi-SECRET-token-31337"
DOC = "a1b2c3d4e5f6g7h8i9j0klmn"
SITE = "https://group.gitlab.io/speech-to-text/"
SHA = hashlib.sha256(b"zip").hexdigest()
LATEST = {
    "package": "VoiceInput", "version": "v1.2.0", "prerelease": False,
    "released_at": "2026-02-08T15:23:00Z", "page": "releases/v1.2.0/",
    "files": [{"name": "VoiceInput-v1.2.0.zip", "path": "download/v1.2.0/VoiceInput-v1.2.0.zip",
               "url": SITE + "download/v1.2.0/VoiceInput-v1.2.0.zip", "size": 3, "sha256": SHA}],
}
OURS = {"version": "v1.2.0", "downloadUrl": SITE + "download/v1.2.0/VoiceInput-v1.2.0.zip",
        "sha256": SHA}
OLD = {"title": "VoiceInput", "description": "Speech to text", "version": "v1.1.0",
       "downloadUrl": "", "sha256": ""}


@pytest.fixture
def strapi() -> Iterator[FakeStrapi]:
    with FakeStrapi(token=TOKEN, locales=("en", "fr")) as cms:
        yield cms
        assert not cms.errors, cms.errors


@pytest.fixture
def notify(tmp_path: Path, strapi: FakeStrapi, run_cli: Callable[..., CliResult],
           monkeypatch: pytest.MonkeyPatch) -> Callable[..., CliResult]:
    """`site-builder notify` in a project whose `strapi:` section is `options`."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("STRAPI_TOKEN", TOKEN)
    (tmp_path / "public").mkdir()
    (tmp_path / "public" / "latest.json").write_text(json.dumps(LATEST), encoding="utf-8")
    (tmp_path / "content").mkdir()

    def run(*args: str, **options: Any) -> CliResult:
        section = {"url": strapi.url, **options}
        if "single_type" not in options:
            section = {"collection": "apps", "document_id": DOC, **section}
        config = {"site_name": "x", "docs_dir": "content",
                  "plugins": [{"downloads": {"package": "VoiceInput", "strapi": section}}]}
        (tmp_path / "mkdocs.yml").write_text(json.dumps(config), encoding="utf-8")
        return run_cli("notify", *args)

    return run


def says(entry: dict[str, Any] | None, values: dict[str, Any]) -> bool:
    return entry is not None and all(entry.get(k) == v for k, v in values.items())


def test_rerun_changes_nothing(notify: Callable[..., CliResult], strapi: FakeStrapi) -> None:
    """The second run reads, finds the entry up to date, and writes nothing: no new
    updatedAt or publishedAt, so no webhook fires and no front end rebuilds."""
    strapi.add_entry("apps", DOC, OLD)
    assert notify().code == 0
    first = strapi.published("apps", DOC)
    assert says(first, OURS) and says(strapi.draft("apps", DOC), OURS)
    before = strapi.snapshot()
    result = notify()
    assert result.code == 0 and "already says v1.2.0: nothing sent" in result.err
    assert len(strapi.updates) == 1
    assert strapi.snapshot() == before
    assert strapi.published("apps", DOC) == first  # updatedAt and publishedAt included


def test_safe_default_never_publishes_an_editors_draft(notify: Callable[..., CliResult],
                                                       strapi: FakeStrapi) -> None:
    """An unpublished edit to `description`: nothing is written, the line names it and
    the two ways out."""
    strapi.add_entry("apps", DOC, OLD, draft={"description": "Coming soon: WIP"})
    before = strapi.snapshot()
    result = notify()
    assert result.code == 1 and strapi.updates == []
    assert strapi.snapshot() == before
    assert "has unpublished edits to description: publishing v1.2.0 would publish them too" \
        in result.error
    assert "strapi.publish to all" in result.error and "draft (update the draft only)" \
        in result.error


def test_publish_all_publishes_the_whole_draft(notify: Callable[..., CliResult],
                                               strapi: FakeStrapi) -> None:
    """`publish: all` is Strapi's own PUT: the editor's draft goes live with our values."""
    strapi.add_entry("apps", DOC, OLD, draft={"description": "Coming soon: WIP"})
    assert notify(publish="all").code == 0
    [update] = strapi.updates
    assert update.query == {}
    live = strapi.published("apps", DOC)
    assert says(live, OURS) and live is not None and live["description"] == "Coming soon: WIP"


def test_publish_draft_leaves_the_live_entry_alone(notify: Callable[..., CliResult],
                                                   strapi: FakeStrapi) -> None:
    """`publish: draft` writes the draft (?status=draft) only; a re-run sends nothing."""
    strapi.add_entry("apps", DOC, OLD)
    live = strapi.published("apps", DOC)
    assert notify(publish="draft").code == 0
    assert strapi.updates[0].query == {"status": "draft"}
    assert says(strapi.draft("apps", DOC), OURS) and strapi.published("apps", DOC) == live
    before = strapi.snapshot()
    assert notify(publish="draft").code == 0
    assert len(strapi.updates) == 1 and strapi.snapshot() == before


def test_live_entry_right_but_draft_behind_updates_the_draft_only(
    notify: Callable[..., CliResult], strapi: FakeStrapi
) -> None:
    """Published already says v1.2.0 but the draft does not: fix the draft, publish nothing."""
    strapi.add_entry("apps", DOC, {**OLD, **OURS}, draft={"version": "v1.1.0"})
    live = strapi.published("apps", DOC)
    assert notify().code == 0
    [update] = strapi.updates
    assert update.query == {"status": "draft"} and strapi.published("apps", DOC) == live
    assert says(strapi.draft("apps", DOC), OURS)


def test_never_published_entry_is_not_published_by_default(
    notify: Callable[..., CliResult], strapi: FakeStrapi
) -> None:
    """A draft no one has published yet is someone's work in progress."""
    strapi.add_entry("apps", DOC, OLD, published=False)
    result = notify()
    assert result.code == 1 and strapi.updates == []
    assert "was never published and its draft holds description, title" in result.error


def test_single_type(notify: Callable[..., CliResult], strapi: FakeStrapi) -> None:
    """`single_type: latest-release`: PUT /api/latest-release (no document id); re-run: none."""
    strapi.add_single_type("latest-release", {"version": "v1.1.0", "downloadUrl": "",
                                              "sha256": ""})
    assert notify(single_type="latest-release").code == 0
    [update] = strapi.updates
    assert update.path == "/api/latest-release"
    assert says(strapi.published("latest-release"), OURS)
    before = strapi.snapshot()
    assert notify(single_type="latest-release").code == 0
    assert len(strapi.updates) == 1 and strapi.snapshot() == before


def test_content_type_without_draft_and_publish(notify: Callable[..., CliResult],
                                                strapi: FakeStrapi) -> None:
    """One version, always live: written once, then left alone."""
    strapi.add_entry("apps", DOC, OLD, draft_and_publish=False)
    assert notify().code == 0 and notify().code == 0
    assert len(strapi.updates) == 1 and says(strapi.published("apps", DOC), OURS)


def test_locale_must_be_one_strapi_has(notify: Callable[..., CliResult],
                                       strapi: FakeStrapi) -> None:
    """`locale: xx` would make Strapi create a new localisation: refused, naming en, fr."""
    strapi.add_entry("apps", DOC, OLD)
    before = strapi.snapshot()
    result = notify(locale="xx")
    assert result.code == 1 and strapi.updates == [] and strapi.snapshot() == before
    assert "strapi.locale 'xx' is not a locale of the Strapi at" in result.error
    assert "(it has en, fr)" in result.error


def test_locale_updates_that_localisation(notify: Callable[..., CliResult],
                                          strapi: FakeStrapi) -> None:
    strapi.add_entry("apps", DOC, OLD)
    strapi.add_entry("apps", DOC, {**OLD, "description": "Parole en texte"}, locale="fr")
    english = strapi.published("apps", DOC, "en")
    assert notify(locale="fr").code == 0
    assert strapi.updates[0].query == {"locale": "fr"}
    assert says(strapi.published("apps", DOC, "fr"), OURS)
    assert strapi.published("apps", DOC, "en") == english


def test_locales_the_token_may_not_read(notify: Callable[..., CliResult],
                                        strapi: FakeStrapi) -> None:
    """A token without i18n's permission: say which permission, write nothing."""
    strapi.add_entry("apps", DOC, OLD)
    strapi.denied.add("locales")
    result = notify(locale="en")
    assert result.code == 1 and strapi.updates == []
    assert "403" in result.error and "Internationalization > Locale > find" in result.error


def test_strapi_url_ending_in_api(notify: Callable[..., CliResult], strapi: FakeStrapi) -> None:
    """`https://cms.example.com/api/` is the same Strapi: no /api/api/… request."""
    strapi.add_entry("apps", DOC, OLD)
    assert notify(url=strapi.url + "/api/").code == 0
    assert strapi.requests and all(r.path.startswith("/api/apps/") for r in strapi.requests)


def test_field_type_error_hints_at_the_type(notify: Callable[..., CliResult],
                                            strapi: FakeStrapi) -> None:
    """Strapi's 400 for a value of the wrong type: its words, and a hint about the type
    (not about field names)."""
    strapi.add_entry("apps", DOC, {"build": 0}, schema={"build": "integer"})
    result = notify(fields={"version": "build"})
    assert result.code == 1
    assert 'build must be a `number` type, but the final value was: `"v1.2.0"`' in result.error
    assert "the field build refuses the value's type" in result.error
    assert "has no field" not in result.error


def test_page_comes_from_latest_json_without_a_site_url(notify: Callable[..., CliResult],
                                                        strapi: FakeStrapi) -> None:
    """No --site-url, no site_url: the page URL is the one the site was built with."""
    strapi.add_entry("apps", DOC, {"version": "", "pageUrl": ""})
    assert notify(fields={"version": "version", "page": "pageUrl"}).code == 0
    assert strapi.updates[0].body == {"data": {"version": "v1.2.0",
                                               "pageUrl": SITE + "releases/v1.2.0/"}}


def test_token_never_shown_in_strapi_errors(notify: Callable[..., CliResult],
                                            strapi: FakeStrapi) -> None:
    """Even when Strapi echoes it in an error."""
    strapi.add_entry("apps", DOC, OLD)
    strapi.fail_next("PUT", "/api/apps/", 500,
                     body=json.dumps({"data": None, "error": {
                         "status": 500, "name": "InternalServerError",
                         "message": f"token {TOKEN[3:20]} broke"}}).encode())
    result = notify()
    assert result.code == 1 and "run notify again later" in result.error
    assert TOKEN[3:20] not in result.err


def test_rerun_with_dates_as_strapi_returns_them(notify: Callable[..., CliResult],
                                                 strapi: FakeStrapi) -> None:
    """Strapi answers `…T15:23:00.000Z` for our `…T15:23:00Z` and a date field as the day:
    still the same values, so a re-run sends nothing."""
    strapi.add_entry("apps", DOC, {"version": "", "releasedAt": None, "releaseDay": None},
                     schema={"version": "string", "releasedAt": "datetime",
                             "releaseDay": "date"})
    fields = {"version": "version", "released_at": "releasedAt"}
    assert notify(fields=fields).code == 0
    assert strapi.draft("apps", DOC)["releasedAt"] == "2026-02-08T15:23:00.000Z"
    assert notify(fields=fields).code == 0 and len(strapi.updates) == 1
    day = {"version": "version", "released_at": "releaseDay"}
    assert notify(fields=day).code == 0 and notify(fields=day).code == 0
    assert len(strapi.updates) == 2 and strapi.draft("apps", DOC)["releaseDay"] == "2026-02-08"


def test_old_status_option_still_works(notify: Callable[..., CliResult],
                                       strapi: FakeStrapi) -> None:
    """`status: draft` of earlier releases means `publish: draft`, with a warning."""
    strapi.add_entry("apps", DOC, OLD)
    result = notify(status="draft")
    assert result.code == 0 and "strapi.status is deprecated" in result.err
    assert strapi.updates[0].query == {"status": "draft"}


def test_strapi4_habits_get_strapi5_answers(notify: Callable[..., CliResult],
                                            strapi: FakeStrapi) -> None:
    """A numeric id (Strapi 4's) is named as the likely cause of a missing entry."""
    strapi.add_entry("apps", DOC, OLD)
    result = notify(document_id=12)
    assert result.code == 1 and strapi.updates == []
    assert "not by Strapi 4's numeric id" in result.error


def test_build_checks_the_strapi_section_quietly(build: Callable[..., CliResult],
                                                 project: Path, registry: FolderRegistry) -> None:
    """`build` checks `strapi:` but leaves the deprecation warning to notify (strict mode
    fails a build on any warning)."""
    registry.add("v1.2.0", {"VoiceInput-v1.2.0.zip": b"zip"})
    config = project / "mkdocs.yml"
    config.write_text(config.read_text(encoding="utf-8").replace(
        "package: VoiceInput",
        "package: VoiceInput\n      strapi: {collection: apps, document_id: x, status: draft}"),
        encoding="utf-8")
    result = build("--site-url", SITE)
    assert result.code == 0 and "deprecated" not in result.err
