"""`_redirects` read and answered as GitLab Pages does, and the small server that uses it."""

from __future__ import annotations

import http.client
import subprocess
from pathlib import Path

import pytest

from site_builder.pages_server import PagesServer, lookup
from site_builder.redirects import MAX_RULES, parse_redirects, rule_problem

# (rule, request path, Location or None) — the behaviour gitlab-pages' own matching tests pin.
MATCHING = [
    ("/foo/ /bar/", "/foo/", "/bar/"),
    ("/foo/ /bar/", "/foo", "/bar/"),
    ("/foo /bar/", "/foo/", "/bar/"),
    ("/foo /bar/", "/foo/bar", None),
    ("/foo/ /bar/", "/foo//", "/bar/"),
    ("/foo/ /bar/", "//foo", "/bar/"),
    ("/foo/bar /baz/", "/foo//bar", "/baz/"),
    ("/foo/*/bar /foo/:splat/qux", "/foo/baz/bar", "/foo/baz/qux"),
    ("/foo/*/bar /foo/:splat/qux", "/foo/hello/world/bar", "/foo/hello/world/qux"),
    ("/foo/*/bar /foo/:splat/qux", "/foo/baz/bar/", "/foo/baz/qux"),
    ("/foo/* /qux/:splat", "/foo/baz/bar/", "/qux/baz/bar/"),
    ("/*/baz/bar /qux/:splat", "/foo/baz/bar", "/qux/foo"),
    ("/foo/* /qux/:splat", "/foo", "/qux/"),
    ("/*/foo /qux/:splat", "/foo", "/qux/"),
    ("/foo*bar /qux/:splat", "/foobazbar", None),
    ("/* /qux/:splat", "/foo/bar", "/qux/foo/bar"),
    ("/foo/*/bar/*/baz /qux/:splat", "/foo/hello/bar/world/baz", "/qux/hello"),
    ("/foo/* /qux/:splat/:splat", "/foo/hello", "/qux/hello/hello"),
    ("/foo/*/bar /foo/:splat/qux", "/foo/bar", "/foo/qux"),
    ("/foo/ /qux/:splat", "/foo/", "/qux/"),
    ("/foo/:year/:month/:day/bar /qux/:year-:month-:day", "/foo/2021/08/16/bar",
     "/qux/2021-08-16"),
    ("/foo/:placeholder/bar /foo/:placeholder/qux", "/foo/hello/world/bar", None),
    ("/:placeholder/foo /qux/:placeholder", "/foo", None),
    ("/foo/:placeholder /qux/:placeholder", "/foo/", None),
    ("/foo:placeholder /qux/:placeholder", "/foorbar", None),
    ("/foo/:placeholder /qux/bar:placeholder", "/foo/baz", "/qux/barbaz"),
    ("/:foo /:foobar", "/baz", "/"),
    ("/foo/:foo/:foobar /qux/:foo/:foobar", "/foo/baz/quux", "/qux/baz/quux"),
    ("/foo/:placeholder/bar/:placeholder/baz /qux/:placeholder", "/foo/hello/bar/world/baz",
     "/qux/hello"),
    ("/foo/*/bar/:splat /qux/:splat", "/foo/hello/bar/world", "/qux/hello"),
    ("/foo/:splat/bar/* /qux/:splat", "/foo/hello/bar/world", "/qux/hello"),
    ("/foo/:placeholderA /qux/:placeholderB", "/foo/bar", "/qux/"),
    # Case: the exact comparison is case-sensitive, the pattern one is not.
    ("/P/Latest/x.zip /P/download/x.zip 302", "/p/latest/X.ZIP", "/P/download/x.zip"),
    # A `$` in `to` is Go template syntax once the pattern path is taken.
    ("/a/* /b/$1-:splat-$$-$x", "/a/q", "/b/q-q-$-"),
    ("/a/ /b/$1 302", "/a", "/b/$1"),
]


@pytest.mark.parametrize(("rules", "path", "location"), MATCHING)
def test_matching_follows_gitlab_pages(rules: str, path: str, location: str | None) -> None:
    """Splats, placeholders, slashes and case match exactly as gitlab-pages matches them."""
    hit = parse_redirects(rules).resolve(path)
    assert (hit.location if hit else None) == location


def test_first_valid_match_wins_and_invalid_rules_are_skipped() -> None:
    """A skipped rule never answers; among valid ones the first that matches does."""
    rules = parse_redirects(
        "# comment\n"
        "/a /x 404\n"            # unsupported status: skipped
        "/a /x 302!\n"           # force: skipped
        "/a /x 302 Country=au\n"  # params: skipped
        "/a //evil.example/x\n"  # another host without a scheme: skipped
        "/a /\\evil.example\n"   # slash-backslash: skipped
        "/a relative\n"          # does not start with /: skipped
        "/a /first 302\n"
        "/a /second 301\n"
    )
    hit = rules.resolve("/a")
    assert hit is not None and (hit.status, hit.location) == (302, "/first")
    assert [rule_problem(r) is None for r in rules.rules] == [False] * 6 + [True] * 2
    assert parse_redirects("/a /b").rules[0].status == 301  # default status


def test_whole_file_failures() -> None:
    """A bad status breaks the whole file; a one-field line empties it; 64 KiB is the cap."""
    assert parse_redirects("/a /b 302\n/c /d abc\n").error
    assert parse_redirects("/a /b 302\nfoobar::baz\n").rules == ()
    too_big = ("/a /b 302\n" * 7000).encode()
    assert len(too_big) > 64 * 1024
    assert parse_redirects(too_big).error == "_redirects file too large"
    assert parse_redirects(too_big).resolve("/a") is None


def test_only_the_first_thousand_rules_count() -> None:
    """Rule 1,001 is never looked at, even when nothing before it matches."""
    text = "".join(f"/r{i} /t{i} 302\n" for i in range(MAX_RULES + 1))
    rules = parse_redirects(text)
    assert rules.resolve(f"/r{MAX_RULES - 1}") is not None
    assert rules.resolve(f"/r{MAX_RULES}") is None
    assert rules.report()[0].startswith("The _redirects file contains (1001) rules")


def test_limits_on_segments_and_hosts() -> None:
    """26 slashes are too many; a host is allowed only for 301/302 to or from http(s)."""
    deep = "/" + "/".join("s" * 26)
    assert rule_problem(parse_redirects(f"{deep} /x").rules[0])
    rules = parse_redirects(
        "/a https://cdn.example/v1/a.zip 200\n"
        "/a https://cdn.example/v1/a.zip 302\n"
        "https://old.example/* https://new.example/:splat 301\n"
    )
    hit = rules.resolve("/a")
    assert hit is not None and (hit.status, hit.location) == (302, "https://cdn.example/v1/a.zip")
    assert rules.resolve("/z") is None
    moved = rules.resolve("/z/y", host="old.example")
    assert moved is not None and moved.location == "https://new.example/z/y"


def test_location_is_the_decoded_cleaned_path() -> None:
    """Like `http.Redirect`: the target's decoded path, cleaned, non-ASCII escaped."""
    rules = parse_redirects(
        "/p/a /p/download/v1/My%20File%C3%A9.zip 302\n"
        "/p/b /p/x/../download/a%3Fb 302\n"
        "/p/c /p/download/a%3Ab 302\n"
    )
    assert rules.resolve("/p/a").location == "/p/download/v1/My File%C3%A9.zip"  # type: ignore[union-attr]
    assert rules.resolve("/p/b").location == "/p/download/a?b"  # type: ignore[union-attr]
    assert rules.resolve("/p/c").location == "/p/download/a:b"  # type: ignore[union-attr]
    assert parse_redirects("/* /x 200").resolve("/.well-known/acme-challenge/t") is None


# -- lookup and the server ------------------------------------------------------------------

@pytest.fixture
def site(tmp_path: Path) -> Path:
    root = tmp_path / "public"
    (root / "download" / "v1").mkdir(parents=True)
    (root / "download" / "v1" / "a.zip").write_bytes(b"zip")
    (root / "releases").mkdir()
    (root / "releases" / "index.html").write_text("releases")
    (root / "about.html").write_text("about")
    (root / "404.html").write_text("not found page")
    (root / "_redirects").write_text(
        "/p/download/v1/a.zip /p/elsewhere 302\n"   # a file exists there: files win
        "/p/latest/a.zip /p/download/v1/a.zip 302\n"
        "/p/old/* /p/download/v1/:splat 200\n"
        "/p/gone /p/nothing-here 200\n"
    )
    return root


def test_lookup_files_win_then_rules_then_404(site: Path) -> None:
    """The order of gitlab-pages' disk serving, prefix included."""
    assert lookup(site, "/p/download/v1/a.zip", prefix="/p").file == (
        site / "download/v1/a.zip").resolve()
    hit = lookup(site, "/p/latest/a.zip", prefix="/p")
    assert (hit.status, hit.location) == (302, "/p/download/v1/a.zip")
    rewritten = lookup(site, "/p/old/a.zip", prefix="/p")
    assert (rewritten.status, rewritten.file) == (200, (site / "download/v1/a.zip").resolve())
    missing = lookup(site, "/p/gone", prefix="/p")
    assert (missing.status, missing.file) == (404, (site / "404.html").resolve())
    assert lookup(site, "/latest/a.zip", prefix="/p").status == 404  # rules carry the prefix
    assert lookup(site, "/p/about", prefix="/p").file == (site / "about.html").resolve()
    folder = lookup(site, "/p/releases", prefix="/p", host="h")
    assert (folder.status, folder.location) == (302, "//h/p/releases/")
    assert lookup(site, "/p/releases/", prefix="/p").file == (
        site / "releases/index.html").resolve()
    assert lookup(site, "/p/../public/about.html", prefix="/p").status == 404
    report = lookup(site, "/p/_redirects", prefix="/p")
    assert report.text is not None and report.text.startswith("4 rules\nrule 1: valid")


def test_server_answers_over_http(site: Path) -> None:
    """Redirects carry Location; files their bytes; unknown paths the 404 page."""
    with PagesServer(site, prefix="/p") as server:
        host, port = server.origin.removeprefix("http://").split(":")
        conn = http.client.HTTPConnection(host, int(port), timeout=10)
        try:
            conn.request("GET", "/p/latest/a.zip")
            response = conn.getresponse()
            response.read()
            assert (response.status, response.getheader("Location")) == (
                302, "/p/download/v1/a.zip")
            conn.request("GET", "/p/download/v1/a.zip")
            response = conn.getresponse()
            assert (response.status, response.read()) == (200, b"zip")
            conn.request("GET", "/p/nope")
            response = conn.getresponse()
            assert (response.status, response.read()) == (404, b"not found page")
            conn.request("GET", "/p/bad%zzescape")
            response = conn.getresponse()
            response.read()
            assert response.status == 400
        finally:
            conn.close()


def test_ranges_resume_a_download_with_real_curl(site: Path, tmp_path: Path) -> None:
    """`curl -C -` finishes a cut-short download; a range past the end is 416."""
    big = site / "download" / "v1" / "big.bin"
    big.write_bytes(bytes(range(256)) * 4096)
    (tmp_path / "big.bin").write_bytes(big.read_bytes()[:300_000])  # an interrupted download
    with PagesServer(site, prefix="/p") as server:
        subprocess.run(["curl", "-fsS", "-C", "-", "-O", f"{server.url}download/v1/big.bin"],
                       cwd=tmp_path, check=True, timeout=60)
        assert (tmp_path / "big.bin").read_bytes() == big.read_bytes()
        host, port = server.origin.removeprefix("http://").split(":")
        conn = http.client.HTTPConnection(host, int(port), timeout=10)
        try:
            conn.request("GET", "/p/download/v1/a.zip", headers={"Range": "bytes=1-"})
            response = conn.getresponse()
            assert (response.status, response.read()) == (206, b"ip")
            assert response.getheader("Content-Range") == "bytes 1-2/3"
            conn.request("GET", "/p/download/v1/a.zip", headers={"Range": "bytes=9-"})
            response = conn.getresponse()
            response.read()
            assert response.status == 416
        finally:
            conn.close()
