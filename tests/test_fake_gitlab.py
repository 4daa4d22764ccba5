"""The fake GitLab behaves like GitLab where site_builder depends on it (GITLAB.md)."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator
from urllib.parse import quote

import httpx
import pytest

try:
    from fake_gitlab import FakeGitLab, FakeObjectStore
except ImportError:  # tests/ imported as a package
    from .fake_gitlab import FakeGitLab, FakeObjectStore  # type: ignore[no-redef]

TOKEN = "glpat-test-token"
GENERIC = "/projects/42/packages/generic"


@pytest.fixture
def gitlab() -> Iterator[FakeGitLab]:
    with FakeGitLab() as gl:
        gl.add_token(TOKEN, role="developer")
        yield gl
    assert not gl.errors, gl.errors[0]  # a traceback inside the fake fails the test


@pytest.fixture
def client(gitlab: FakeGitLab) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=gitlab.api_url, headers={"PRIVATE-TOKEN": TOKEN}) as c:
        yield c


def test_pagination_walk_returns_every_package_exactly_once(
    gitlab: FakeGitLab, client: httpx.Client
) -> None:
    """Looping on X-Next-Page over 250 packages sees each id once, with GitLab's headers."""
    for i in range(250):
        gitlab.add_package("VoiceInput", f"1.0.{i}", {"a.zip": b"x"})
    seen: list[int] = []
    page = "1"
    while page:
        r = client.get("/projects/42/packages", params={"per_page": 100, "page": page})
        assert r.status_code == 200 and r.headers["content-type"] == "application/json"
        assert r.headers["x-total"] == "250" and r.headers["x-total-pages"] == "3"
        seen += [p["id"] for p in r.json()]
        page = r.headers["x-next-page"]
    assert sorted(seen) == sorted(p.id for p in gitlab.packages) and len(seen) == 250
    assert r.headers["x-page"] == "3" and r.headers["x-prev-page"] == "2"
    assert 'rel="next"' not in r.headers["link"]
    first = r.links["first"]["url"]
    assert first.startswith(gitlab.api_url + "/projects/42/packages?") and "page=1" in first


def test_per_page_is_clamped_and_totals_vanish_above_the_count_limit(
    gitlab: FakeGitLab, client: httpx.Client
) -> None:
    """per_page > 100 is clamped; above the limit X-Total(-Pages) and rel=last are omitted."""
    for i in range(120):
        gitlab.add_package("VoiceInput", f"1.0.{i}", {})
    gitlab.pagination_count_limit = 100
    r = client.get("/projects/42/packages", params={"per_page": 500})
    assert len(r.json()) == 100 and r.headers["x-per-page"] == "100"
    assert "x-total" not in r.headers and "x-total-pages" not in r.headers
    assert set(r.links) == {"next", "first"} and r.headers["x-next-page"] == "2"


def test_package_name_filter_is_a_substring_match(gitlab: FakeGitLab, client: httpx.Client) -> None:
    """package_name matches partial names, case-insensitively, like GitLab's ILIKE search."""
    gitlab.add_package("VoiceInput", "1.0.0", {})
    gitlab.add_package("VoiceInput-Pro", "1.0.0", {})
    gitlab.add_package("Other", "1.0.0", {})
    r = client.get(f"/projects/{quote('group/speech-to-text', safe='')}/packages",
                   params={"package_name": "voiceinput", "package_type": "generic"})
    assert sorted(p["name"] for p in r.json()) == ["VoiceInput", "VoiceInput-Pro"]


def test_hidden_packages_are_not_listed_but_can_be_downloaded(
    gitlab: FakeGitLab, client: httpx.Client
) -> None:
    """Default listing shows default/error/deprecated; hidden only via status=hidden or URL."""
    shown = gitlab.add_package("App", "1.0.0", {"a.zip": b"1"})
    gitlab.add_package("App", "1.1.0", {"a.zip": b"2"}, status="error")
    hidden = gitlab.add_package("App", "2.0.0", {"a.zip": b"3"}, status="hidden")
    listed = client.get("/projects/42/packages").json()
    assert [p["version"] for p in listed] == ["1.0.0", "1.1.0"]
    assert "web_path" in listed[0]["_links"] and "web_path" not in listed[1]["_links"]
    assert [p["id"] for p in client.get("/projects/42/packages?status=hidden").json()] == [
        hidden.id]
    assert client.get(f"/projects/42/packages/{hidden.id}/package_files").status_code == 404
    assert client.get(f"/projects/42/packages/{shown.id}/package_files").status_code == 200
    assert client.get(f"{GENERIC}/App/2.0.0/a.zip").content == b"3"


def test_no_credentials_gives_401_with_basic_challenge(gitlab: FakeGitLab) -> None:
    """A private project answers 401 plus WWW-Authenticate; an unknown token is 401 too."""
    gitlab.add_package("App", "1.0.0", {"a.zip": b"1"})
    with httpx.Client(base_url=gitlab.api_url) as anonymous:
        r = anonymous.get(f"{GENERIC}/App/1.0.0/a.zip")
        assert r.status_code == 401 and r.json() == {"message": "401 Unauthorized"}
        assert r.headers["www-authenticate"] == 'Basic realm="GitLab Packages Registry"'
        r = anonymous.get("/projects/42/packages", headers={"PRIVATE-TOKEN": "nope"})
        assert r.status_code == 401
        r = anonymous.get(f"{GENERIC}/App/1.0.0/a.zip", auth=("anyone", TOKEN))
        assert r.content == b"1"  # Basic auth: the password is the token


def test_anonymous_reads_of_a_private_project_answer_404_not_401(gitlab: FakeGitLab) -> None:
    """Only a generic download challenges; lists and releases deny that the project exists."""
    with httpx.Client(base_url=gitlab.api_url) as anonymous:
        for path in ("/projects/42/packages", "/projects/42/releases"):
            r = anonymous.get(path)
            assert r.status_code == 404 and r.json() == {"message": "404 Project Not Found"}
            assert "www-authenticate" not in r.headers
        r = anonymous.put(f"{GENERIC}/App/1.0.0/a.zip", content=b"1")
        assert r.status_code == 401 and "www-authenticate" not in r.headers


def test_basic_auth_counts_only_on_generic_package_routes(gitlab: FakeGitLab) -> None:
    """`user:token` downloads a file, but the packages API takes it for no credential."""
    gitlab.add_package("App", "1.0.0", {"a.zip": b"1"})
    with httpx.Client(base_url=gitlab.api_url, auth=("anyone", TOKEN)) as basic:
        assert basic.get(f"{GENERIC}/App/1.0.0/a.zip").content == b"1"
        assert basic.get("/projects/42/packages").status_code == 404


def test_package_version_filter_needs_gitlab_16_6(gitlab: FakeGitLab,
                                                  client: httpx.Client) -> None:
    """Before 16.6 `package_version` is ignored: every version of the name comes back."""
    gitlab.add_package("App", "1.0.0", {})
    gitlab.add_package("App", "2.0.0", {})
    query = {"package_name": "App", "package_version": "2.0.0"}
    assert [p["version"] for p in client.get("/projects/42/packages", params=query).json()] \
        == ["2.0.0"]
    gitlab.gitlab_version = (16, 5)
    assert [p["version"] for p in client.get("/projects/42/packages", params=query).json()] \
        == ["1.0.0", "2.0.0"]


def test_the_rate_limit_throttles_every_route(gitlab: FakeGitLab, client: httpx.Client) -> None:
    """Downloads and uploads are throttled like lists: 429, Retry-After, RateLimit-*."""
    gitlab.add_package("App", "1.0.0", {"a.zip": b"1"})
    gitlab.rate_limit = (2, 60.0)
    assert client.get("/projects/42/packages").status_code == 200
    assert client.get(f"{GENERIC}/App/1.0.0/a.zip").status_code == 200
    for r in (client.get(f"{GENERIC}/App/1.0.0/a.zip"),
              client.put(f"{GENERIC}/App/1.0.0/b.zip", content=b"2")):
        assert r.status_code == 429 and r.headers["ratelimit-remaining"] == "0"
        assert 1 <= int(r.headers["retry-after"]) <= 60
    assert len(gitlab.throttled) == 2


def test_a_null_sha256_can_be_served(gitlab: FakeGitLab, client: httpx.Client) -> None:
    """`tampered` lets a row say `file_sha256: null`, as an old or broken instance may."""
    package = gitlab.add_package("App", "1.0.0", {"a.zip": b"1"})
    gitlab.tampered[package.files[0].id] = {"file_sha256": None}
    rows = client.get(f"/projects/42/packages/{package.id}/package_files").json()
    assert rows[0]["file_sha256"] is None


def test_roles_and_token_kinds(gitlab: FakeGitLab) -> None:
    """Guests can't read packages, deploy tokens can't list, job tokens need the allowlist."""
    gitlab.add_package("App", "1.0.0", {"a.zip": b"1"})
    gitlab.add_token("guest", role="guest")
    gitlab.add_token("deploy", kind="deploy", role="reporter")
    gitlab.add_token("job-other", kind="job", project_id=7)
    with httpx.Client(base_url=gitlab.api_url) as c:
        download = f"{GENERIC}/App/1.0.0/a.zip"
        assert c.get(download, headers={"PRIVATE-TOKEN": "guest"}).status_code == 403
        assert c.get(download, headers={"DEPLOY-TOKEN": "deploy"}).content == b"1"
        r = c.get("/projects/42/packages", headers={"DEPLOY-TOKEN": "deploy"})
        assert r.status_code == 403
        assert c.put(f"{GENERIC}/App/1.0.0/b.zip", content=b"x",
                     headers={"DEPLOY-TOKEN": "deploy"}).status_code == 403
        r = c.get(download, headers={"JOB-TOKEN": "job-other"})
        assert r.status_code == 403 and r.json() == {
            "message": "403 Forbidden - Authentication by CI/CD job token not allowed from "
                       "project-7 to speech-to-text."}
        gitlab.job_token_allowlist.add(7)
        assert c.get(download, headers={"JOB-TOKEN": "job-other"}).status_code == 200
        assert c.get("/projects/99/packages", headers={"PRIVATE-TOKEN": TOKEN}).json() == {
            "message": "404 Project Not Found"}


def test_redirected_download_reaches_the_store_and_token_leaks_are_caught(
    gitlab: FakeGitLab, client: httpx.Client
) -> None:
    """Downloads 302 to another origin; forwarding a token header there is recorded as a leak."""
    gitlab.add_package("App", "1.0.0", {"App-1.0.0.zip": b"payload"})
    with FakeObjectStore() as store:
        gitlab.redirect_downloads_to(store)
        r = client.get(f"{GENERIC}/App/1.0.0/App-1.0.0.zip")
        assert r.status_code == 302 and "x-checksum-sha256" not in r.headers
        location = r.headers["location"]
        assert location.startswith(store.url) and "X-Amz-Signature=" in location
        fetched = httpx.get(location)
        assert fetched.content == b"payload" and not store.leaks
        assert "App-1.0.0.zip" in fetched.headers["content-disposition"]
        # httpx drops Authorization across origins, but not custom headers like PRIVATE-TOKEN.
        leaked = client.get(f"{GENERIC}/App/1.0.0/App-1.0.0.zip", follow_redirects=True)
        assert leaked.status_code == 400 and len(store.leaks) == 1
        assert store.leaks[0].headers["private-token"] == TOKEN
        tampered = location.replace("X-Amz-Expires=900", "X-Amz-Expires=999999")
        assert httpx.get(tampered).status_code == 403


def test_duplicate_uploads_are_additive_and_the_newest_is_served(
    gitlab: FakeGitLab, client: httpx.Client
) -> None:
    """Re-uploading a file name adds a row; package_files lists both; GET serves the newest."""
    for content in (b"old", b"new"):
        r = client.put(f"{GENERIC}/App/1.0.0/a.zip", content=content)
        assert r.status_code == 201 and r.json() == {"message": "201 Created"}
    (package,) = gitlab.packages
    rows = client.get(f"/projects/42/packages/{package.id}/package_files").json()
    assert [f["file_name"] for f in rows] == ["a.zip", "a.zip"] and rows[0]["id"] < rows[1]["id"]
    r = client.get(f"{GENERIC}/App/1.0.0/a.zip")
    assert r.content == b"new"
    assert r.headers["x-checksum-sha256"] == hashlib.sha256(b"new").hexdigest()
    assert r.headers["content-disposition"].startswith('attachment; filename="a.zip"')
    gitlab.duplicates_allowed = False
    r = client.put(f"{GENERIC}/App/1.0.0/a.zip", content=b"again")
    assert r.status_code == 400 and "Duplicate package is not allowed" in r.json()["message"]


def test_put_select_package_file_returns_the_file_record(
    gitlab: FakeGitLab, client: httpx.Client
) -> None:
    """select=package_file answers 201 with the raw model, including internal columns."""
    r = client.put(f"{GENERIC}/App/1.0.0/docs/manual.pdf",
                   params={"select": "package_file", "status": "hidden"}, content=b"pdf")
    assert r.status_code == 201
    body = r.json()
    assert body["file_name"] == "docs%2Fmanual.pdf" and body["size"] == 3
    assert body["file_sha256"] == hashlib.sha256(b"pdf").hexdigest()
    assert body["file_md5"] is None and "file_store" in body
    assert body["package_id"] == gitlab.packages[0].id and gitlab.packages[0].status == "hidden"
    assert client.get(f"{GENERIC}/App/1.0.0/docs/manual.pdf").content == b"pdf"
    assert client.get(f"{GENERIC}/App/1.0.0/docs%2Fmanual.pdf").status_code == 400  # one segment
    assert client.put(f"{GENERIC}/App/1..0/x.zip", content=b"").json() == {
        "error": "package_version is invalid"}


def test_streamed_chunked_uploads_are_hashed_and_recorded(
    gitlab: FakeGitLab, client: httpx.Client
) -> None:
    """A chunked body is stored intact; upload_start/upload_end let tests check for overlap."""
    gitlab.upload_delay = 0.01
    for name in ("a.bin", "b.bin"):
        r = client.put(f"{GENERIC}/App/1.0.0/{name}", content=iter([b"ab", b"cd" * 1000]))
        assert r.status_code == 201
    assert gitlab.requests[0].headers["transfer-encoding"] == "chunked"
    assert gitlab.package_files("App", "1.0.0")[1].content == b"ab" + b"cd" * 1000
    first, second = gitlab.uploads
    assert first.upload_end is not None and second.upload_start is not None
    assert first.upload_end <= second.upload_start and gitlab.max_parallel_uploads == 1


def test_second_release_create_conflicts(gitlab: FakeGitLab, client: httpx.Client) -> None:
    """POST /releases for an existing tag is 409; links are validated and exposed."""
    link = {"name": "App.zip", "url": "https://example.com/App.zip",
            "direct_asset_path": "/App.zip", "link_type": "package"}
    body = {"tag_name": "v1.0.0", "name": "v1.0.0", "assets": {"links": [link]}}
    r = client.post("/projects/42/releases", json=body)
    assert r.status_code == 201
    (exposed,) = r.json()["assets"]["links"]
    assert exposed["direct_asset_url"].endswith("/-/releases/v1.0.0/downloads/App.zip")
    r = client.post("/projects/42/releases", json=body)
    assert r.status_code == 409 and r.json() == {"message": "Release already exists"}
    r = client.post("/projects/42/releases/v1.0.0/assets/links", json=link)
    assert r.status_code == 400
    r = client.put("/projects/42/releases/v1.0.0", json={"description": "notes"})
    assert r.status_code == 200 and gitlab.releases["v1.0.0"]["description"] == "notes"
    assert client.get("/projects/42/releases/v9").json() == {"message": "404 Not Found"}


def test_truncated_download_raises_in_the_client(gitlab: FakeGitLab, client: httpx.Client) -> None:
    """truncate_next promises the full Content-Length, sends half, then closes the connection."""
    gitlab.add_package("App", "1.0.0", {"a.zip": b"0123456789"})
    gitlab.truncate_next(r"/a\.zip$")
    with pytest.raises(httpx.RemoteProtocolError):
        client.get(f"{GENERIC}/App/1.0.0/a.zip")
    assert client.get(f"{GENERIC}/App/1.0.0/a.zip").content == b"0123456789"


def test_injected_throttling_and_server_errors(gitlab: FakeGitLab, client: httpx.Client) -> None:
    """fail_next answers matching requests in order: a plain-text 429, then a 503, then real."""
    gitlab.fail_next("GET", r"/packages\b", 429, headers={"Retry-After": "1"},
                     body=b"Retry later\n")
    gitlab.fail_next("*", r"/packages\b", 503)
    r = client.get("/projects/42/packages")
    assert r.status_code == 429 and r.text == "Retry later\n"
    assert r.headers["retry-after"] == "1" and r.headers["content-type"].startswith("text/plain")
    assert client.get("/projects/42/packages").status_code == 503
    assert client.get("/projects/42/packages").status_code == 200


def test_stop_is_prompt_with_an_idle_keep_alive_connection() -> None:
    """stop() wakes idle keep-alive handler threads instead of waiting for the client."""
    gl = FakeGitLab().start()
    gl.add_token(TOKEN)
    with httpx.Client(headers={"PRIVATE-TOKEN": TOKEN}) as c:
        assert c.get(f"{gl.api_url}/projects/42/packages").status_code == 200
        began = time.monotonic()
        gl.stop()
        assert time.monotonic() - began < 2
