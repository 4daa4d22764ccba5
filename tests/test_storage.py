"""Artifacts in S3-compatible object storage, against a real S3 API server (moto) on 127.0.0.1.

A three-version site whose big files go up in parts is built once and rebuilt; visitors'
requests (links, `_redirects`, `curl -L`) are followed over HTTP to the bucket's public URL.
Every failure a CI job can meet ends in one line naming the bucket, with the old site intact.
"""

from __future__ import annotations

import base64
import hashlib
import json
import random
import re
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urljoin, urlsplit

import httpx
import pytest
from bs4 import BeautifulSoup
from conftest import REPO, CliResult, FolderRegistry
from s3_server import KEY_ID, SECRET, S3Server

from site_builder.cli import main
from site_builder.pages_server import PagesServer

pytestmark = pytest.mark.slow  # a real S3 API server and full builds

MIB = 1024**2
BIG = 5 * MIB + 64 * 1024  # over the 5 MiB multipart threshold: two parts of S3's minimum size
SITE_URL = "https://group.gitlab.io/voice/"
AWS_VARIABLES = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE",
                 "AWS_DEFAULT_PROFILE", "AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE",
                 "AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
                 "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_DEFAULT_REGION", "AWS_REGION")


def aws_environment(patch: pytest.MonkeyPatch, home: Path, *, key: tuple[str, str] | None) -> None:
    """Only what a test gives: no profile files, no instance metadata (169.254.169.254)."""
    for name in AWS_VARIABLES:
        patch.delenv(name, raising=False)
    patch.setenv("AWS_CONFIG_FILE", str(home / "no-aws-config"))
    patch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(home / "no-aws-credentials"))
    patch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    if key is not None:
        patch.setenv("AWS_ACCESS_KEY_ID", key[0])
        patch.setenv("AWS_SECRET_ACCESS_KEY", key[1])


def storage_project(root: Path, storage: dict[str, Any]) -> Path:
    """The repository's site project with a `storage:` section under the downloads plugin."""
    root.mkdir(parents=True, exist_ok=True)
    text = (REPO / "mkdocs.yml").read_text()
    anchor = "      package: VoiceInput"
    assert anchor in text
    (root / "mkdocs.yml").write_text(text.replace(anchor, f"{anchor}\n      storage: "
                                                            f"{json.dumps(storage)}"))
    for folder in ("content", "theme"):
        shutil.copytree(REPO / folder, root / folder, dirs_exist_ok=True)
    return root


def storage_options(s3: S3Server, bucket: str, **extra: Any) -> dict[str, Any]:
    return {"url": f"s3://{bucket}/releases", "endpoint_url": s3.endpoint,
            "public_url": s3.public_url(bucket, "releases"),
            "multipart_threshold": "5MiB", "part_size": "5MiB", **extra}


def build_args(project: Path, registry: Path, cache: Path) -> list[str]:
    return ["build", "--config", str(project / "mkdocs.yml"), "--from-dir", str(registry),
            "--output", str(project / "public"), "--cache-dir", str(cache),
            "--site-url", SITE_URL]


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture(scope="module")
def s3() -> Iterator[S3Server]:
    with S3Server() as server:
        yield server


# -- one site, three versions, built twice ---------------------------------------------------

@dataclass
class Published:
    public: Path
    bucket: str
    public_url: str
    first: list[Any] = field(repr=False)  # the requests of the first build
    second: list[Any] = field(repr=False)  # the requests of the rebuild
    files: dict[str, bytes] = field(repr=False)  # "<version>/<name>" → bytes


@pytest.fixture(scope="module")
def published(s3: S3Server, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Published]:
    work = tmp_path_factory.mktemp("storage")
    bucket = "voice-downloads"
    s3.create_public_bucket(bucket, prefix="releases")
    registry = FolderRegistry(work / "registry")
    rng = random.Random(13)
    files: dict[str, bytes] = {}
    for n, version in enumerate(("v1.0.0", "v1.1.0", "v1.2.0")):
        content = {f"VoiceInput-{version}-linux-x64.zip": rng.randbytes(BIG),
                   f"VoiceInput-{version}-windows-x64.msi": rng.randbytes(3000 + n),
                   "docs/manual: read me.pdf": f"manual {version}".encode()}
        registry.add(version, content, released_at=f"2026-0{n + 1}-01T00:00:00Z")
        files.update({f"{version}/{name}": data for name, data in content.items()})
    project = storage_project(work / "project", storage_options(s3, bucket))
    args = build_args(project, registry.root, work / "cache")
    with pytest.MonkeyPatch.context() as patch:
        aws_environment(patch, work, key=(KEY_ID, SECRET))
        mark = s3.mark()
        assert main(args) == 0, "the first build failed"
        first = s3.since(mark)
        mark = s3.mark()
        assert main(args) == 0, "the rebuild failed"
        second = s3.since(mark)
    yield Published(project / "public", bucket, s3.public_url(bucket, "releases"), first,
                    second, files)


def index_files(public: Path) -> list[dict[str, Any]]:
    """Every file entry of index.json, with its release's version added."""
    index = json.loads((public / "index.json").read_text())
    return [{**f, "version": release["version"]}
            for release in index["releases"] for f in release["files"]]


def test_each_file_is_uploaded_once_big_ones_in_parts_with_their_sha256(
    published: Published,
) -> None:
    """3 multipart uploads of 2 parts, 6 single PUTs; every body carries its SHA256."""
    writes = [r for r in published.first if r.write]
    creates = [r for r in writes if r.method == "POST" and r.query.rstrip("=") == "uploads"]
    parts = [r for r in writes if r.method == "PUT" and "partNumber=" in r.query]
    completes = [r for r in writes if r.method == "POST" and r.query.startswith("uploadId=")]
    puts = [r for r in writes if r.method == "PUT" and not r.query]
    assert (len(creates), len(parts), len(completes), len(puts)) == (3, 6, 3, 6)
    assert len(writes) == 18  # nothing else written: no deletes, no second tries
    by_key = {unquote(f["url"].removeprefix(published.public_url)): f
              for f in index_files(published.public)}
    for put in puts:
        entry = by_key[put.path.removeprefix(f"/{published.bucket}/releases")]
        expected = base64.b64encode(bytes.fromhex(entry["sha256"])).decode()
        assert put.headers["x-amz-checksum-sha256"] == expected
        assert put.headers["if-none-match"] == "*"
    for part in parts:
        assert part.headers["x-amz-checksum-sha256"]  # the store checks each part
    assert all(c.headers["if-none-match"] == "*" for c in completes)


def test_a_rebuild_uploads_nothing(published: Published) -> None:
    """The second build lists once and HEADs each of the 9 objects: no byte goes up again."""
    methods = sorted(r.method for r in published.second)
    assert methods == ["GET"] + ["HEAD"] * 9


def test_bytes_from_the_public_url_hash_to_the_published_sha256(published: Published) -> None:
    """Every file of index.json, fetched anonymously from its url, has its size and SHA256."""
    entries = index_files(published.public)
    assert len(entries) == 9
    for entry in entries:
        assert entry["path"] is None and entry["hosted"] == "storage"
        assert entry["url"].startswith(published.public_url + "/download/")
        answer = httpx.get(entry["url"])
        assert answer.status_code == 200, entry["url"]
        assert len(answer.content) == entry["size"]
        original = published.files[f"{entry['version']}/{entry['name']}"]
        assert sha256(answer.content) == entry["sha256"] == sha256(original)
    latest = json.loads((published.public / "latest.json").read_text())
    assert latest["files"][0]["url"].startswith(published.public_url + "/download/v1.2.0/")


def test_pages_keep_checksums_but_no_artifact(published: Published) -> None:
    """SHA256SUMS and .sha256 stay on Pages; the big files do not weigh on the site."""
    folder = published.public / "download" / "v1.2.0"
    assert (folder / "SHA256SUMS").is_file()
    assert (folder / "VoiceInput-v1.2.0-linux-x64.zip.sha256").is_file()
    assert not (folder / "VoiceInput-v1.2.0-linux-x64.zip").exists()
    site_bytes = sum(p.stat().st_size for p in published.public.rglob("*") if p.is_file())
    assert site_bytes < 3 * BIG


def test_every_page_link_into_storage_resolves_to_an_object(published: Published) -> None:
    """Each download link of each page answers 200 from the bucket's public URL."""
    links: set[str] = set()
    for page in published.public.rglob("*.html"):
        soup = BeautifulSoup(page.read_text(), "html.parser")
        links |= {a["href"] for a in soup.find_all("a", href=True)
                  if str(a["href"]).startswith(published.public_url)}
    assert len(links) == 9
    for link in links:
        assert httpx.head(link).status_code == 200, link


def test_every_redirect_into_storage_resolves_to_an_object(published: Published) -> None:
    """Each `_redirects` target on the bucket's host (latest aliases, old flat links) is there."""
    rules = (published.public / "_redirects").read_text().splitlines()
    targets = {line.split()[1] for line in rules if line.split()[1].startswith("http")}
    assert len(targets) == 6  # the zip and msi of every version (old flat links), latest too
    for target in targets:
        assert target.startswith(published.public_url), target
        assert httpx.head(target).status_code == 200, target


def test_curl_of_a_latest_link_ends_in_the_bucket_and_checks(published: Published) -> None:
    """`curl -L latest/download/<alias>` ends in the bucket; its `.sha256` line matches."""
    with PagesServer(published.public, prefix="/voice") as pages, \
            httpx.Client(follow_redirects=True) as client:
        for alias in ("VoiceInput-latest-linux-x64.zip", "VoiceInput-latest-windows-x64.msi"):
            answer = client.get(urljoin(pages.url, f"latest/download/{alias}"))
            assert answer.status_code == 200, alias
            assert str(answer.url).startswith(published.public_url)
            line = client.get(urljoin(pages.url, f"latest/download/{alias}.sha256")).text
            assert line == f"{sha256(answer.content)}  {alias}\n"


def test_verify_checks_objects_by_head_and_deep_by_hashing(
    published: Published, run_cli: Callable[..., CliResult],
) -> None:
    """`verify` passes on the built site, with and without --deep."""
    for extra in ((), ("--deep",)):
        result = run_cli("verify", str(published.public), *extra)
        assert result.code == 0, result.out + result.err
        assert "9 in storage" in result.out


# -- failures: one line, the old site intact, nothing written -------------------------------

@pytest.fixture
def small(tmp_path: Path, registry: FolderRegistry) -> FolderRegistry:
    registry.add("v1.0.0", {"VoiceInput-v1.0.0.zip": b"zip bytes v1.0.0"})
    return registry


@pytest.fixture
def old_site(tmp_path: Path) -> Path:
    public = tmp_path / "project" / "public"
    public.mkdir(parents=True)
    (public / "index.html").write_text("the old site")
    return public


def build_small(s3: S3Server, tmp_path: Path, small: FolderRegistry,
                run_cli: Callable[..., CliResult], bucket: str, **extra: Any) -> CliResult:
    project = storage_project(tmp_path / "project", storage_options(s3, bucket, **extra))
    return run_cli(*build_args(project, small.root, tmp_path / "cache"))


def assert_failed_cleanly(result: CliResult, old_site: Path, *phrases: str) -> None:
    assert result.code == 1
    for phrase in phrases:
        assert phrase in result.error, result.error
    assert SECRET not in result.out + result.err
    assert (old_site / "index.html").read_text() == "the old site"
    assert [p.name for p in old_site.parent.iterdir() if p.name.startswith(".")] == []


def test_an_object_with_other_bytes_is_never_overwritten(
    s3: S3Server, tmp_path: Path, small: FolderRegistry, old_site: Path,
    run_cli: Callable[..., CliResult], monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The build fails naming the key; the object keeps its bytes; nothing is uploaded."""
    aws_environment(monkeypatch, tmp_path, key=(KEY_ID, SECRET))
    s3.create_public_bucket("taken", prefix="releases")
    key = "releases/download/v1.0.0/VoiceInput-v1.0.0.zip"
    s3.client().put_object(Bucket="taken", Key=key, Body=b"someone else's zip")
    mark = s3.mark()
    result = build_small(s3, tmp_path, small, run_cli, "taken")
    assert_failed_cleanly(result, old_site, f"s3://taken/{key} already holds other bytes",
                          "never overwritten")
    assert s3.writes(mark) == []
    body = s3.client().get_object(Bucket="taken", Key=key)["Body"].read()
    assert body == b"someone else's zip"


def test_the_same_bytes_already_there_are_not_sent_again(
    s3: S3Server, tmp_path: Path, small: FolderRegistry, run_cli: Callable[..., CliResult],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An object put there by another tool, same bytes, no SHA256 on record: read, kept."""
    aws_environment(monkeypatch, tmp_path, key=(KEY_ID, SECRET))
    s3.create_public_bucket("same", prefix="releases")
    key = "releases/download/v1.0.0/VoiceInput-v1.0.0.zip"
    s3.client().put_object(Bucket="same", Key=key, Body=b"zip bytes v1.0.0")
    mark = s3.mark()
    assert build_small(s3, tmp_path, small, run_cli, "same").code == 0
    assert s3.writes(mark) == []


def test_a_missing_bucket_is_one_line(
    s3: S3Server, tmp_path: Path, small: FolderRegistry, old_site: Path,
    run_cli: Callable[..., CliResult], monkeypatch: pytest.MonkeyPatch,
) -> None:
    aws_environment(monkeypatch, tmp_path, key=(KEY_ID, SECRET))
    result = build_small(s3, tmp_path, small, run_cli, "no-such-bucket")
    assert_failed_cleanly(result, old_site, "bucket 'no-such-bucket' does not exist",
                          "storage.url")


def test_missing_credentials_are_one_line(
    s3: S3Server, tmp_path: Path, small: FolderRegistry, old_site: Path,
    run_cli: Callable[..., CliResult], monkeypatch: pytest.MonkeyPatch,
) -> None:
    aws_environment(monkeypatch, tmp_path, key=None)
    mark = s3.mark()
    result = build_small(s3, tmp_path, small, run_cli, "voice-downloads")
    assert_failed_cleanly(result, old_site, "no credentials for s3://voice-downloads/releases",
                          "AWS_ACCESS_KEY_ID")
    assert s3.since(mark) == []


def test_an_endpoint_that_does_not_answer_is_one_line(
    s3: S3Server, tmp_path: Path, small: FolderRegistry, old_site: Path,
    run_cli: Callable[..., CliResult], monkeypatch: pytest.MonkeyPatch,
) -> None:
    aws_environment(monkeypatch, tmp_path, key=(KEY_ID, SECRET))
    with S3Server() as gone:
        endpoint = gone.endpoint
    result = build_small(s3, tmp_path, small, run_cli, "voice-downloads", endpoint_url=endpoint)
    assert_failed_cleanly(result, old_site, f"endpoint {endpoint} did not answer",
                          "s3://voice-downloads/releases")


def test_wrong_credentials_and_denied_access_are_one_line_without_the_secret(
    s3: S3Server, tmp_path: Path, small: FolderRegistry, old_site: Path,
    run_cli: Callable[..., CliResult], monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With authentication on: a bad key is 'rejected', a key without rights 'denied'."""
    s3.create_public_bucket("guarded", prefix="releases")
    powerless = s3.iam_user("powerless")
    with s3.authentication():
        aws_environment(monkeypatch, tmp_path, key=(KEY_ID + "X", SECRET))
        result = build_small(s3, tmp_path, small, run_cli, "guarded")
        assert_failed_cleanly(result, old_site, "rejected the credentials",
                              "s3://guarded/releases", "AWS_SECRET_ACCESS_KEY")
        assert KEY_ID not in result.err
        aws_environment(monkeypatch, tmp_path, key=powerless)
        result = build_small(s3, tmp_path, small, run_cli, "guarded")
        assert_failed_cleanly(result, old_site, "access denied to s3://guarded/releases",
                              "s3:PutObject")
        assert powerless[1] not in result.out + result.err


def test_an_interrupted_upload_leaves_no_object(s3: S3Server, tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """Ctrl-C after the first part: no object under the key, and the parts are aborted."""
    from datetime import UTC, datetime

    from site_builder.catalog import Artifact, Release
    from site_builder.layout import SiteLayout
    from site_builder.targets.bucket import Bucket
    from site_builder.targets.config import StorageConfig

    aws_environment(monkeypatch, tmp_path, key=(KEY_ID, SECRET))
    s3.create_public_bucket("cut", prefix="releases")
    data = random.Random(1).randbytes(BIG)
    cached = tmp_path / "cached"
    cached.write_bytes(data)
    artifact = Artifact(name="big.zip", size=BIG, sha256=sha256(data))
    release = Release(package="VoiceInput", version="v1", released_at=datetime.now(UTC),
                      files=(artifact,))
    config = StorageConfig.parse(storage_options(s3, "cut"))
    assert config is not None
    bucket = Bucket.connect(config)
    uploads = bucket.uploads_for([(release, artifact)], SiteLayout())

    def interrupt(artifact: Artifact, size: int) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        bucket.upload(uploads, {artifact.sha256: cached}, on_chunk=interrupt)
    assert bucket.head(uploads[0].key) is None
    assert s3.client().list_multipart_uploads(Bucket="cut").get("Uploads", []) == []


def test_serve_links_to_the_bucket_without_writing_to_it(
    s3: S3Server, tmp_path: Path, small: FolderRegistry, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A preview needs no credentials and sends nothing to the bucket."""
    from site_builder import pipeline
    from site_builder.render.machine import machine_files
    from site_builder.settings import resolve

    aws_environment(monkeypatch, tmp_path, key=None)
    settings = resolve({"package": "VoiceInput", "storage": storage_options(s3, "preview")},
                       flags={"from_dir": str(small.root), "cache_dir": str(tmp_path / "c")},
                       env={})
    mark = s3.mark()
    prepared = pipeline.prepare(settings, preview=True)
    assert s3.since(mark) == []
    latest = json.loads(machine_files(prepared.catalog, prepared.layout)["latest.json"])
    assert latest["files"][0]["url"] == (s3.public_url("preview", "releases")
                                         + "/download/v1.0.0/VoiceInput-v1.0.0.zip")


def test_verify_finds_an_object_that_changed_or_vanished(
    s3: S3Server, tmp_path: Path, small: FolderRegistry, run_cli: Callable[..., CliResult],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Replaced bytes fail --deep (and the HEAD, whose SHA256 is gone); a deleted object 404s."""
    aws_environment(monkeypatch, tmp_path, key=(KEY_ID, SECRET))
    s3.create_public_bucket("changing", prefix="releases")
    assert build_small(s3, tmp_path, small, run_cli, "changing").code == 0
    public = tmp_path / "project" / "public"
    key = "releases/download/v1.0.0/VoiceInput-v1.0.0.zip"
    s3.client().put_object(Bucket="changing", Key=key, Body=b"zip bytes v6.6.6")
    result = run_cli("verify", str(public), "--deep")
    assert result.code == 1
    assert re.search(r"VoiceInput-v1\.0\.0\.zip .*SHA256", result.out), result.out
    s3.client().delete_object(Bucket="changing", Key=key)
    result = run_cli("verify", str(public))
    assert result.code == 1
    assert "VoiceInput-v1.0.0.zip answers 404" in result.out, result.out
    assert urlsplit(s3.endpoint).netloc in result.out


# -- the configuration and the renderers, without a server ----------------------------------

@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"url": "s3://b/r", "public_url": "https://d", "aws_secret_access_key": "x"},
         "credentials never go in mkdocs.yml"),
        ({"url": "https://b/r", "public_url": "https://d"}, "must be s3://BUCKET"),
        ({"url": "s3://bucket/../r", "public_url": "https://d"}, "plain folder names"),
        ({"url": "s3://bucket/r"}, "storage.public_url None must be an http(s) URL"),
        ({"url": "s3://bucket/r", "public_url": "https://d", "part_size": "1MiB"},
         "between 5MiB and 5GiB"),
        ({"url": "s3://bucket/r", "public_url": "https://d", "publc_url": "x"},
         "storage.publc_url is not an option"),
    ],
)
def test_a_bad_storage_section_is_refused_before_anything_runs(
    options: dict[str, Any], message: str,
) -> None:
    from site_builder.errors import ConfigError
    from site_builder.settings import resolve

    with pytest.raises(ConfigError, match=re.escape(message)):
        resolve({"package": "VoiceInput", "storage": options}, env={})


def test_json_pages_and_rules_take_the_artifact_url_from_the_layout() -> None:
    """`path: null`, `hosted: storage`; rules point at the bucket, checksums stay on Pages."""
    from datetime import UTC, datetime

    from site_builder.catalog import Artifact, PackageVersion, build_catalog
    from site_builder.layout import SiteLayout
    from site_builder.render.machine import machine_files
    from site_builder.render.pages import PageRenderer

    name = "VoiceInput-v2.0.0-linux:x64.zip"
    catalog = build_catalog([PackageVersion(
        "VoiceInput", "v2.0.0", datetime(2026, 1, 1, tzinfo=UTC),
        (Artifact(name=name, size=3, sha256="ab" * 32),),
    )], package="VoiceInput")
    layout = SiteLayout(site_url=SITE_URL, storage_url="https://dl.example.com/releases/")
    files = machine_files(catalog, layout)
    entry = json.loads(files["latest.json"])["files"][0]
    url = "https://dl.example.com/releases/download/v2.0.0/VoiceInput-v2.0.0-linux:x64.zip"
    assert entry == {"name": name, "path": None, "url": url, "hosted": "storage", "size": 3,
                     "sha256": "ab" * 32}
    rules = files["_redirects"].decode().splitlines()
    assert rules[0] == ("/voice/latest/download/VoiceInput-latest-linux:x64.zip "
                        "https://dl.example.com/releases/download/v2.0.0/"
                        "VoiceInput-v2.0.0-linux%3Ax64.zip 302")
    assert rules[1].split()[1] == "/voice/download/v2.0.0/VoiceInput-latest-linux%3Ax64.zip.sha256"
    assert "download/v2.0.0/SHA256SUMS" in files
    page = PageRenderer(catalog, layout).body("releases/v2.0.0/index.md")
    assert f'href="{url}"' in page
    assert 'href="../../download/v2.0.0/VoiceInput-v2.0.0-linux:x64.zip.sha256"' in page


def test_pages_limits_count_only_what_pages_holds(
    tmp_path: Path, registry: FolderRegistry, monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Files far over max_site_size fit when they go to storage; `keep` is ignored, said once."""
    import os

    from site_builder import pipeline
    from site_builder.budget import check_budget
    from site_builder.errors import BudgetError
    from site_builder.settings import resolve

    aws_environment(monkeypatch, tmp_path, key=None)
    for version in ("v1.0.0", "v1.1.0"):
        folder = registry.add(version, {f"VoiceInput-{version}.zip": b""})
        os.truncate(folder / f"VoiceInput-{version}.zip", 30 * MIB)  # sparse: no disk used
    options = {"package": "VoiceInput", "keep": 1, "max_site_size": "20MB",
               "storage": {"url": "s3://b-kept/r", "public_url": "https://dl.example.com/r"}}
    settings = resolve(options, flags={"from_dir": str(registry.root),
                                       "cache_dir": str(tmp_path / "c")}, env={})
    prepared = pipeline.prepare(settings, preview=True)  # the budget is checked in here
    assert all(r.hosted for r in prepared.catalog.releases)
    assert "keep: 1 is ignored" in caplog.text
    with pytest.raises(BudgetError):  # the same files on Pages would not fit
        check_budget(prepared.catalog, max_bytes=settings.max_site_size)
