"""Every output language escapes hostile names its own way: `_redirects`, HTML, shell lines.

Names here pass the source boundary (they are legal file names), so only the escaping of
each renderer stands between them and a splat rule, an element or a broken command line.
"""

from __future__ import annotations

import hashlib
import re
import shlex
import subprocess
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from xml.etree import ElementTree

import pytest
from bs4 import BeautifulSoup
from conftest import CliResult, FolderRegistry

from site_builder import boundary
from site_builder.catalog import Artifact, PackageVersion, build_catalog
from site_builder.layout import SiteLayout
from site_builder.redirects import parse_redirects
from site_builder.render.links import redirect_rules
from site_builder.render.machine import atom_feed
from site_builder.render.notes import notes_html
from site_builder.render.pages import fetch_command, verify_commands

SHA = "ab" * 32
T0 = datetime(2026, 1, 1, tzinfo=UTC)

# internal/redirects (gitlab-pages): what turns a rule path into a pattern or a template.
PAGES_SPLAT = re.compile(r"^\*$")
PAGES_PLACEHOLDER = re.compile(r"(?i)^:[a-z]+$")
PAGES_TEMPLATE = re.compile(r"(?i)\*|:[a-z]+")


def catalog_of(*names: str, version: str = "v1.0.0"):  # type: ignore[no-untyped-def]
    row = PackageVersion(
        package="App", version=version, created_at=T0,
        files=tuple(Artifact(name=n, size=1, sha256=SHA, file_id=i) for i, n in enumerate(names)),
    )
    return build_catalog([row], package="App")


def test_redirect_rules_never_become_splats_or_placeholders() -> None:
    """Files named `*`, `:x` and `v1-:b*c` give literal `_redirects` paths: no source segment
    is a splat or placeholder, no target holds a template (Pages only templates targets)."""
    catalog = catalog_of("*", ":x", "v1-:b*c.zip", "sub/:name/f.zip")
    layout = SiteLayout(site_url="https://group.gitlab.io/app/")
    text = redirect_rules(catalog, layout, legacy=False)
    rules = text.decode().splitlines()
    assert len(rules) == 18  # 4 files, 4 sidecars, SHA256SUMS; with and without /app
    for rule in rules:
        source, target, status = rule.split(" ")
        assert status == "302"
        for segment in source.split("/"):
            assert not PAGES_SPLAT.match(segment) and not PAGES_PLACEHOLDER.match(segment), rule
        assert not PAGES_TEMPLATE.search(target), rule
    assert "/app/latest/download/%2A /app/download/v1.0.0/%2A 302" in rules
    assert "/app/latest/download/%3Ax /app/download/v1.0.0/%3Ax 302" in rules
    # A `:` or `*` inside a segment is literal to Pages, so that alias keeps working.
    hit = parse_redirects(text).resolve("/app/latest/download/v1-:b*c.zip")
    assert hit is not None and hit.location == "/app/download/v1.0.0/v1-:b*c.zip"


def test_a_file_named_star_does_not_capture_other_aliases() -> None:
    """Served as GitLab Pages serves it, a `*` file's rule answers no other alias's request."""
    catalog = catalog_of("*", ":x", "App-v1.0.0.zip")
    layout = SiteLayout(site_url="https://group.gitlab.io/app/")
    rules = parse_redirects(redirect_rules(catalog, layout))
    hit = rules.resolve("/app/latest/download/App-latest.zip")
    assert hit is not None and hit.location == "/app/download/v1.0.0/App-v1.0.0.zip"
    assert rules.resolve("/app/latest/download/anything-else.zip") is None
    # `:x.sha256` is one literal segment to Pages: it answers its own file, never a template.
    sidecar = rules.resolve("/app/latest/download/:x.sha256")
    assert sidecar is not None and sidecar.location == "/app/download/v1.0.0/:x.sha256"
    assert rules.resolve("/app/latest/download/:x") is None  # a lone `:x` is made inert


# -- shell and PowerShell copy-paste lines ------------------------------------------------------

HOSTILE_NAMES = [
    "App'; rm -rf ~; '.zip",
    "App\u2019; Remove-Item -Recurse ~; \u2018.zip",
    "App\u201a\u201b$(whoami)`ls`.zip",
    "App $HOME \"quoted\" & | ; *.zip",
    "-n App.zip",
]
PS_QUOTES = "'\u2018\u2019\u201a\u201b"


def powershell_single_quoted(line: str, start: int) -> tuple[str, int]:
    """PowerShell's tokenizer (ScanStringLiteral): the value of the '…' string at `start`, and
    where it ends. Any of its five quote characters closes the string unless another follows."""
    assert line[start] in PS_QUOTES, line[start:]
    value, i = [], start + 1
    while True:
        assert i < len(line), "unterminated string"
        c = line[i]
        if c in PS_QUOTES:
            if i + 1 >= len(line) or line[i + 1] not in PS_QUOTES:
                return "".join(value), i + 1
            i += 1
            c = line[i]
        value.append(c)
        i += 1


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_powershell_line_is_two_quoted_arguments(name: str) -> None:
    """The Windows line keeps the file name and the hash each inside one PowerShell string."""
    sha = hashlib.sha256(name.encode()).hexdigest()
    line = verify_commands(name, sha)["windows"]
    head = "(Get-FileHash -Algorithm SHA256 -LiteralPath "
    assert line.startswith(head)
    path, end = powershell_single_quoted(line, len(head))
    assert path == ".\\" + name
    middle = ").Hash -eq "
    assert line[end:end + len(middle)] == middle
    digest, end = powershell_single_quoted(line, end + len(middle))
    assert (digest, end) == (sha, len(line))


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_posix_line_checks_the_file_in_a_real_shell(name: str, tmp_path: Path) -> None:
    """`echo '<sha>  name' | sha256sum -c`, run by bash beside the file, says OK and no more."""
    content = b"the download"
    (tmp_path / name).write_bytes(content)
    line = verify_commands(name, hashlib.sha256(content).hexdigest())["linux"]
    assert shlex.split(line)[0] == "echo" and shlex.split(line)[2:] == ["|", "sha256sum", "-c"]
    assert subprocess.run(["bash", "-n", "-c", line]).returncode == 0
    result = subprocess.run(["bash", "-c", line], cwd=tmp_path, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"{name}: OK\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == [name]


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_download_line_passes_each_url_as_one_word(name: str, tmp_path: Path) -> None:
    """The landing page's `curl -LO … && curl -L ….sha256 | sha256sum -c`, run by bash with a
    stand-in curl: each curl gets the stable URL as one argument, and nothing else runs."""
    url = SiteLayout(site_url="https://group.gitlab.io/app/").url(f"latest/download/{name}")
    assert url is not None
    line = fetch_command(url)
    assert subprocess.run(["bash", "-n", "-c", line]).returncode == 0
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    curl = bin_dir / "curl"
    curl.write_text('#!/bin/sh\nfor a in "$@"; do printf "%s\\n" "$a"; done >> "$CALLS"\n')
    curl.chmod(0o755)
    work = tmp_path / "work"
    work.mkdir()
    env = {"PATH": f"{bin_dir}:/usr/bin:/bin", "CALLS": str(tmp_path / "calls"), "HOME": str(work)}
    subprocess.run(["bash", "-c", line], cwd=work, env=env, capture_output=True)
    calls = (tmp_path / "calls").read_text().splitlines()
    assert calls == ["-LO", url, "-L", url + ".sha256"]
    assert list(work.iterdir()) == []


# -- release notes and the feed -----------------------------------------------------------------

def test_notes_images_from_another_host_become_links() -> None:
    """`![](https://other.host/pixel.png)` asks no host: it is a link to the image."""
    html = notes_html("Look: ![pixel](https://other.host/pixel.png) ![](//x.example/a.png)")
    soup = BeautifulSoup(html, "html.parser")
    assert soup.find("img") is None
    assert [a["href"] for a in soup.find_all("a")] == [
        "https://other.host/pixel.png", "//x.example/a.png"]


def test_feed_stays_xml_whatever_the_notes_hold() -> None:
    """Control characters XML cannot carry at all are replaced, so feed readers can parse it."""
    row = PackageVersion(package="App", version="v1.0.0", created_at=T0, files=(),
                         notes="bell\x07 and \x0b tab \ufffe end")
    feed = atom_feed(build_catalog([row], package="App"), SiteLayout())
    content = ElementTree.fromstring(feed).find(".//{http://www.w3.org/2005/Atom}content")
    assert content is not None and "bell" in (content.text or "")


# -- every page of a real build -----------------------------------------------------------------

XSS_VERSION = "v2.0.0-<img src=x onerror=alert(1)>"


def test_no_element_from_a_hostile_version_in_any_page(
    registry: FolderRegistry, build: Callable[..., CliResult], project: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Even past a bypassed version check, every page, title and search entry stays text.

    The boundary refuses this version; here it is let through on purpose, so the escaping of
    Material's `<title>`, header (`md-header__topic`), nav and search index is what is tested.
    """
    monkeypatch.setattr(boundary, "VERSION_RE", re.compile(r".+", re.S), raising=False)
    registry.add(XSS_VERSION, {"<img src=x onerror=alert(2)>.zip": b"payload"},
                 notes="<img src=x onerror=alert(3)> ![px](https://other.host/pixel.png)\n",
                 released_at="2026-02-01T00:00:00Z")
    registry.add("v1.0.0", {"App-v1.0.0.zip": b"one"}, released_at="2026-01-01T00:00:00Z")
    result = build()
    assert result.code == 0, result.err
    site = project / "public"
    pages = sorted(site.rglob("*.html"))
    assert any("img src=x" in p.read_text() or "&lt;img" in p.read_text() for p in pages)
    for page in pages:  # html.parser reads even <title> as markup: the strictest reading
        soup = BeautifulSoup(page.read_text(), "html.parser")
        assert soup.find("img", src="x") is None, page
        handlers = [(t.name, a) for t in soup.find_all(True) for a in t.attrs
                    if a.lower().startswith("on")]
        assert handlers == [], page
        assert not [i["src"] for i in soup.find_all("img") if "//" in i.get("src", "")]
    title = BeautifulSoup((site / "releases" / XSS_VERSION / "index.html").read_text(),
                          "html.parser")
    topic = title.select_one(".md-header__topic[data-md-component=header-topic] .md-ellipsis")
    assert topic is not None and XSS_VERSION in topic.get_text()
    search = (site / "search" / "search_index.json").read_text()
    assert "<img" not in search
