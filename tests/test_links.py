"""Stable links as visitors meet them: `latest/download/` aliases, old flat links, both
addresses of a project site, GitLab Pages' limits — answered by GitLab Pages' rules."""

from __future__ import annotations

import hashlib
import http.client
import json
import logging
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from xml.etree import ElementTree

import pytest
from bs4 import BeautifulSoup
from sample_site import build_sample

from site_builder.catalog import Artifact, PackageVersion, build_catalog
from site_builder.layout import SiteLayout
from site_builder.pages_server import PagesServer, lookup
from site_builder.redirects import MAX_BYTES, MAX_RULES, parse_redirects, rule_problem
from site_builder.render.links import redirect_rules
from site_builder.render.machine import machine_files
from site_builder.verify import verify_site

SITE_URL = "https://group.gitlab.io/speech-to-text/"
PREFIX = "/speech-to-text"
ALIASES = ["VoiceInput-latest-linux-x64.zip", "VoiceInput-latest-macos-arm64.zip",
           "VoiceInput-latest-windows-x64.zip", "docs/manual.txt"]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The repository's sample, built as a project site under /speech-to-text/."""
    return build_sample(tmp_path_factory.mktemp("links"), site_url=SITE_URL)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def follow(root: Path, path: str, prefix: str) -> tuple[list[int], Path | None]:
    """The statuses a client sees for `path` and the file it ends with."""
    statuses = []
    for _ in range(5):
        answer = lookup(root, path, prefix=prefix)
        statuses.append(answer.status)
        if answer.location is None:
            return statuses, answer.file if answer.status == 200 else None
        path = answer.location
    return statuses, None


def test_every_rule_is_valid_and_answers_with_a_file(site: Path) -> None:
    """Each rule, resolved by GitLab Pages' matching, leads to a file of the site."""
    rules = parse_redirects((site / "_redirects").read_bytes())
    assert rules.error is None and 0 < len(rules.rules) <= MAX_RULES
    assert len((site / "_redirects").read_bytes()) <= MAX_BYTES
    for rule in rules.rules:
        assert rule_problem(rule) is None, rule
        prefix = PREFIX if rule.source.startswith(PREFIX + "/") else ""
        statuses, file = follow(site, rule.source, prefix)
        assert statuses == [rule.status, 200] and file is not None, rule
    assert not (site / "latest" / "download").exists()  # a file there would shadow the rules


@pytest.mark.parametrize("alias", ALIASES)
def test_aliases_answer_alike_with_and_without_the_prefix(site: Path, alias: str) -> None:
    """`/<project>/latest/download/x` and, on a custom domain, `/latest/download/x` agree."""
    prefixed = follow(site, f"{PREFIX}/latest/download/{alias}", PREFIX)
    bare = follow(site, f"/latest/download/{alias}", "")
    assert prefixed == bare
    statuses, file = prefixed
    assert statuses == [302, 200] and file is not None
    assert file.parent.parent.name == "v1.10.0" or file.parent.name == "v1.10.0"


def curl(url: str, cwd: Path) -> None:
    subprocess.run(["curl", "--fail", "--silent", "--show-error", "-L", "-O", url], cwd=cwd,
                   check=True, timeout=60)


@pytest.mark.parametrize("prefix", [PREFIX, ""], ids=["project-path", "custom-domain"])
def test_curl_then_sha256sum_passes_for_every_alias(site: Path, tmp_path: Path,
                                                    prefix: str) -> None:
    """The README's `curl -LO …` and `curl -L ….sha256 | sha256sum -c`, for real."""
    with PagesServer(site, prefix=prefix) as server:
        for alias in ALIASES:
            url = f"{server.url}latest/download/{alias}"
            folder = tmp_path / prefix.strip("/") / alias.replace("/", "_")
            folder.mkdir(parents=True)
            curl(url, folder)
            name = alias.rsplit("/", 1)[-1]
            assert (folder / name).is_file()
            line = subprocess.run(["curl", "--fail", "-sSL", f"{url}.sha256"],
                                  check=True, capture_output=True, timeout=60).stdout
            check = subprocess.run(["sha256sum", "-c"], input=line, cwd=folder,
                                   capture_output=True, timeout=60)
            assert check.returncode == 0, check.stdout + check.stderr
            assert check.stdout.decode().strip() == f"{name}: OK"
            # SHA256SUMS lists every latest file under its own name and its alias.
            curl(f"{server.url}latest/download/SHA256SUMS", folder)
            check = subprocess.run(["sha256sum", "-c", "--ignore-missing", "SHA256SUMS"],
                                   cwd=folder, capture_output=True, timeout=60)
            assert check.returncode == 0, check.stdout + check.stderr
            assert check.stdout.decode().strip() == f"{name}: OK"


def test_old_flat_links_answer_301_to_their_file(site: Path) -> None:
    """`/<project>/<file>` of the hand-made site moved for good to `download/<v>/<file>`."""
    with PagesServer(site, prefix=PREFIX) as server:
        host, port = server.origin.removeprefix("http://").split(":")
        conn = http.client.HTTPConnection(host, int(port), timeout=10)
        try:
            for version, name in (("v1.0.0", "VoiceInput-v1.0.0-windows-x64.zip"),
                                  ("v1.10.0", "VoiceInput-v1.10.0-linux-x64.zip")):
                conn.request("GET", f"{PREFIX}/{name}")
                response = conn.getresponse()
                response.read()
                assert response.status == 301
                assert response.getheader("Location") == f"{PREFIX}/download/{version}/{name}"
                assert (site / "download" / version / name).is_file()
        finally:
            conn.close()


def test_alias_sums_name_the_alias(site: Path) -> None:
    """The `.sha256` behind an alias names the alias, with the latest file's SHA256."""
    answer = lookup(site, f"{PREFIX}/latest/download/VoiceInput-latest-linux-x64.zip.sha256",
                    prefix=PREFIX)
    assert answer.location is not None
    _, sidecar = follow(site, answer.location, PREFIX)
    assert sidecar is not None
    real = site / "download/v1.10.0/VoiceInput-v1.10.0-linux-x64.zip"
    assert sidecar.read_text() == f"{sha256(real)}  VoiceInput-latest-linux-x64.zip\n"


# -- limits and hostile names ----------------------------------------------------------------

WHEN = datetime(2026, 1, 1, tzinfo=UTC)


def catalog_of(versions: dict[str, list[str]]):  # type: ignore[no-untyped-def]
    rows = [
        PackageVersion(package="App", version=v, created_at=WHEN,
                       files=tuple(Artifact(name=n, size=1, sha256="0" * 64) for n in names))
        for v, names in versions.items()
    ]
    return build_catalog(rows, package="App")


def test_limits_drop_the_unprefixed_set_first(caplog: pytest.LogCaptureFixture) -> None:
    """64 KiB or 1,000 rules: the prefixed set stays (aliases, then old links, newest first);
    what does not fit goes from the end, the unprefixed set first, with a warning."""
    versions = {f"v1.{i}.0": [f"App-v1.{i}.0-linux-x64.tar.gz", f"App-v1.{i}.0.zip"]
                for i in range(400)}
    catalog = catalog_of(versions)
    with caplog.at_level(logging.WARNING, logger="mkdocs.plugins.downloads"):
        text = redirect_rules(catalog, SiteLayout(site_url=SITE_URL)).decode()
    lines = text.splitlines()
    assert len(lines) <= MAX_RULES and len(text.encode()) <= MAX_BYTES
    assert lines[0] == (f"{PREFIX}/latest/download/App-latest-linux-x64.tar.gz "
                        f"{PREFIX}/download/v1.399.0/App-v1.399.0-linux-x64.tar.gz 302")
    assert (f"{PREFIX}/App-v1.399.0.zip {PREFIX}/download/v1.399.0/App-v1.399.0.zip 301"
            in lines)
    assert all(line.startswith(PREFIX + "/") for line in lines)  # no room left for the rest
    assert "left out" in caplog.text and "without a prefix" in caplog.text
    assert not any(line.startswith(f"{PREFIX}/App-v1.0.0.zip ") for line in lines)  # oldest
    short = catalog_of({f"1.0.{i}": [f"f{i}"] for i in range(700)})
    lines = redirect_rules(short, SiteLayout(site_url="https://h.example/p/")).decode()
    assert len(lines.splitlines()) == MAX_RULES  # the rule count, not the size, is the limit
    assert lines.startswith("/p/latest/download/f699 /p/download/1.0.699/f699 302\n"
                            "/p/latest/download/f699.sha256 /p/download/1.0.699/f699.sha256 302\n"
                            "/p/latest/download/SHA256SUMS /p/download/1.0.699/SHA256SUMS.latest "
                            "302\n/p/f699 /p/download/1.0.699/f699 301\n")
    assert "\n/latest/download/f699 /download/1.0.699/f699 302\n" in lines  # 703 + 3 fit


def test_hostile_names_never_become_wildcards() -> None:
    """A `*` or `:name` segment is made inert; a name Pages cannot redirect is left out."""
    catalog = catalog_of({"v1.0.0": ["*", ":splat", "a b.zip", "ok-v1.0.0.zip"]})
    rules = parse_redirects(redirect_rules(catalog, SiteLayout(site_url=SITE_URL)))
    assert rules.resolve(f"{PREFIX}/latest/download/anything") is None
    assert rules.resolve(f"{PREFIX}/latest/download/else/where") is None
    hit = rules.resolve(f"{PREFIX}/latest/download/ok-latest.zip")
    assert hit is not None and hit.location == f"{PREFIX}/download/v1.0.0/ok-v1.0.0.zip"
    assert not any(" " in r.source for r in rules.rules)


def test_old_links_never_name_the_sites_own_files() -> None:
    """A registry file called `feed.xml` or `about` would be shadowed: it gets no old link."""
    catalog = catalog_of({"v1.0.0": ["feed.xml", "about", "App-v1.0.0.zip"]})
    layout = SiteLayout(site_url=SITE_URL)
    text = machine_files(catalog, layout, existing=frozenset({"about/index.html"}))["_redirects"]
    sources = {line.split(" ")[0] for line in text.decode().splitlines()}
    assert f"{PREFIX}/App-v1.0.0.zip" in sources and "/App-v1.0.0.zip" in sources
    assert not sources & {f"{PREFIX}/feed.xml", "/feed.xml", f"{PREFIX}/about", "/about"}


def test_verify_says_when_no_rule_carries_the_prefix(unaddressed: Path, tmp_path: Path,
                                                     run_cli) -> None:
    """A site built without its URL, checked for group.gitlab.io/<project>/: one clear line."""
    result = run_cli("verify", str(unaddressed), "--site-url", SITE_URL)
    assert result.code == 1
    assert f"_redirects has no rule under {PREFIX}/" in result.out
    assert run_cli("verify", str(unaddressed)).code == 0


def test_verify_for_a_custom_domain_of_a_project_site(site: Path) -> None:
    """Checked at its custom domain, a site built for group.gitlab.io/<project>/ has sound
    rules: the unprefixed serve there, the prefixed serve the project address."""
    report = verify_site(site, site_url="https://downloads.example.com/")
    assert report.rules > 0
    assert [p for p in report.problems if "_redirects" in p] == []


# -- without a site URL ----------------------------------------------------------------------

@pytest.fixture(scope="module")
def unaddressed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample built with no site URL at all."""
    return build_sample(tmp_path_factory.mktemp("no-url"), site_url="")


def test_no_site_url_no_sitemap_and_unprefixed_rules(unaddressed: Path) -> None:
    """No `<urlset/>` without a single <loc>; rules only for a host's root."""
    assert not (unaddressed / "sitemap.xml").exists()
    assert not (unaddressed / "sitemap.xml.gz").exists()
    rules = parse_redirects((unaddressed / "_redirects").read_bytes()).rules
    assert rules and all(not r.source.startswith(PREFIX) for r in rules)
    for alias in ALIASES:
        statuses, file = follow(unaddressed, f"/latest/download/{alias}", "")
        assert statuses == [302, 200] and file is not None


def test_feed_ids_do_not_depend_on_the_host(site: Path, unaddressed: Path) -> None:
    """Atom ids are the same with a site URL, without one, and (so) on another host."""
    atom = "{http://www.w3.org/2005/Atom}"

    def ids(root: Path) -> list[str]:
        feed = ElementTree.parse(root / "feed.xml").getroot()
        return [feed.findtext(f"{atom}id") or ""] + [
            e.findtext(f"{atom}id") or "" for e in feed.iter(f"{atom}entry")]

    with_url, without = ids(site), ids(unaddressed)
    assert with_url == without and len(set(with_url)) == len(with_url)
    assert all(i.startswith("urn:uuid:") for i in with_url)
    assert not any("gitlab.io" in i for i in with_url)


def test_a_catalog_renders_the_same_rules_with_any_host() -> None:
    """Only the path prefix of the site URL reaches `_redirects`."""
    catalog = catalog_of({"v1.0.0": ["App-v1.0.0.zip"]})
    a = machine_files(catalog, SiteLayout(site_url="https://a.example/p/"))["_redirects"]
    b = machine_files(catalog, SiteLayout(site_url="https://b.example/p/"))["_redirects"]
    assert a == b


def test_channels_in_index_json(site: Path) -> None:
    """A nightly is channel `build` and `"prerelease": true`: no updater takes it for stable."""
    index = json.loads((site / "index.json").read_text())
    channels = {r["version"]: (r["channel"], r["prerelease"]) for r in index["releases"]}
    assert channels["nightly-20260115"] == ("build", True)
    assert channels["v2.0.0-rc.1"] == ("prerelease", True)
    assert channels["v1.10.0"] == ("stable", False)
    assert json.loads((site / "latest.json").read_text())["channel"] == "stable"


def test_version_pages_link_neighbours_in_their_own_channel(site: Path) -> None:
    """A nightly's page says it is a build and links no stable version as "next"."""

    def page(version: str) -> BeautifulSoup:
        html = (site / "releases" / version / "index.html").read_text()
        return BeautifulSoup(html, "html.parser")

    nightly = page("nightly-20260115")
    nav = nightly.select_one("nav.sb-neighbours")
    assert nav is not None and "Next" not in nav.get_text() and "v1." not in nav.get_text()
    assert "This is a build, not a release" in nightly.get_text()
    stable = page("v1.9.0").select_one("nav.sb-neighbours")
    assert stable is not None
    assert " ".join(stable.get_text(" ", strip=True).split()) == (
        "Previous version v1.0.0 All releases Next version v1.10.0")
    rc = page("v2.0.0-rc.1").select_one("nav.sb-neighbours")
    assert rc is not None and "v1.10.0" not in rc.get_text()


def test_a_build_without_a_site_url_warns_once(registry, build) -> None:  # type: ignore[no-untyped-def]
    """One warning line says what is missing and what to do; the build still succeeds."""
    registry.add("v1.0.0", {"App-v1.0.0.zip": b"one"}, package="VoiceInput")
    result = build()
    assert result.code == 0, result.err
    warnings = [line for line in result.err.splitlines() if "no site URL" in line]
    assert len(warnings) == 1 and "--site-url" in warnings[0]
    assert "no site URL" not in build("--site-url", SITE_URL).err


def test_site_relpath_agrees_with_posixpath_without_asking_for_the_working_folder(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Thousands of hrefs per build: the same answers as `posixpath.relpath`, and no getcwd."""
    import posixpath
    import random

    from site_builder.layout import site_relpath

    parts = ["a", "b", "releases", "v1.0.0", "download", ".", "x y", ""]
    rng = random.Random(14)
    cases = [(".", "."), ("a/b/", "a"), ("a", "a/b"), ("index.html", "releases/v1.0.0")]
    cases += [("/".join(rng.choice(parts) for _ in range(rng.randint(1, 4))).lstrip("/") or ".",
               "/".join(rng.choice(parts) for _ in range(rng.randint(1, 4))).lstrip("/") or ".")
              for _ in range(3000)]
    expected = [posixpath.relpath(p, q) for p, q in cases]
    monkeypatch.setattr("os.getcwd", lambda: pytest.fail("site_relpath asked for the cwd"))
    assert [site_relpath(p, q) for p, q in cases] == expected
