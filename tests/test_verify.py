"""`site-builder verify` on a real build, intact and then broken one way at a time; and the
precompressed copies it checks."""

from __future__ import annotations

import gzip
import re
import shutil
from pathlib import Path

import brotli
import pytest
from conftest import VOICE_URL

from site_builder.compress import precompress
from site_builder.verify import parse_sums, verify_site

SITE_URL = VOICE_URL


@pytest.fixture
def site(voice_site: Path, tmp_path: Path) -> Path:
    """A copy of the built sample that a test may break."""
    return Path(shutil.copytree(voice_site, tmp_path / "public"))


def problems(site: Path, **options: str) -> list[str]:
    return list(verify_site(site, **options).problems)


def rewrite(path: Path, text: str) -> None:
    """Change a generated file, dropping its compressed copies as a rebuild would."""
    path.write_text(text)
    for copy in (".gz", ".br"):
        Path(f"{path}{copy}").unlink(missing_ok=True)


def test_a_fresh_build_verifies(site: Path, run_cli) -> None:
    """Exit 0 and one summary line for the site the builder just wrote."""
    result = run_cli("verify", str(site))
    assert result.code == 0, result.out
    assert result.out.count("\n") == 1
    assert "16 artifacts" in result.out and "redirect rules" in result.out


def test_problems_are_listed_one_per_line(site: Path, run_cli) -> None:
    """Exit 1, each problem on its own line, a count on stderr."""
    (site / "download/v1.9.0/VoiceInput-v1.9.0-linux-x64.zip").write_bytes(b"tampered")
    (site / "releases/v1.0.0/index.html").unlink()
    result = run_cli("verify", str(site))
    assert result.code == 1
    lines = result.out.splitlines()
    assert any("VoiceInput-v1.9.0-linux-x64.zip has SHA256" in line for line in lines)
    assert any("releases/index.html: v1.0.0/ does not resolve" in line for line in lines)
    assert "problems in" in result.err


def test_not_a_site_is_a_clear_error(tmp_path: Path, run_cli) -> None:
    result = run_cli("verify", str(tmp_path))
    assert result.code == 1 and "not a built site" in result.err


def test_tampered_artifact_fails_sums_sidecar_and_index(site: Path) -> None:
    """One changed byte shows in SHA256SUMS, the .sha256 beside it and index.json."""
    artifact = site / "download/v1.10.0/VoiceInput-v1.10.0-windows-x64.zip"
    artifact.write_bytes(artifact.read_bytes()[:-1] + b"!")
    found = problems(site)
    assert any(p.startswith("download/v1.10.0/SHA256SUMS: VoiceInput") for p in found)
    assert any(p.startswith("download/v1.10.0/VoiceInput-v1.10.0-windows-x64.zip.sha256")
               for p in found)
    assert any(p.startswith("latest.json: download/v1.10.0/") for p in found)
    assert any(p.startswith("index.json releases[1]") for p in found)


def test_missing_and_unlisted_files(site: Path) -> None:
    """A listed file that is gone and a file nobody listed are both reported."""
    (site / "download/v1.0.0/VoiceInput-v1.0.0-macos-arm64.zip").unlink()
    (site / "download/v1.0.0/stray.bin").write_bytes(b"?")
    found = problems(site)
    assert "download/v1.0.0/SHA256SUMS: VoiceInput-v1.0.0-macos-arm64.zip is listed but missing" \
        in found
    assert "download/v1.0.0/stray.bin is not listed in its SHA256SUMS" in found


def test_broken_compressed_copy(site: Path) -> None:
    """A .br or .gz that is not the page would be served in its place."""
    (site / "releases/index.html.br").write_bytes(brotli.compress(b"old page"))
    assert problems(site) == [
        "releases/index.html.br does not decompress to releases/index.html; "
        "GitLab Pages would serve it instead"
    ]


def test_links_resolve_with_encoding_fragments_and_queries(site: Path) -> None:
    """Percent-encoding, #fragments, ?queries and folder URLs resolve; a typo does not."""
    page = site / "about/index.html"
    html = page.read_text()
    extra = ('<a href="../download/v1.10.0/docs/manual%2Etxt#top">m</a>'
             '<a href="../releases/v1.9.0?from=about">v</a>'
             '<a href="/voice/releases/#x">all</a>'
             '<a href="https://group.gitlab.io/voice/feed.xml">feed</a>'
             '<a href="https://example.com/elsewhere">away</a>'
             '<a href="mailto:team@example.com">mail</a>'
             '<img src="../assets/nope.png" alt="">'
             '<a href="/other-project/">other</a>')
    rewrite(page, html.replace("</article>", extra + "</article>", 1))
    found = problems(site)
    assert found == [
        "about/index.html: ../assets/nope.png does not resolve to a file of the site",
        "about/index.html: /other-project/ leaves the site (not under /voice/)",
    ]


def test_relative_link_on_404_is_reported(site: Path) -> None:
    """404.html is served for any missing path, so a relative link breaks at depth."""
    page = site / "404.html"
    rewrite(page, page.read_text().replace('href="/voice/releases/"', 'href="releases/"', 1))
    assert problems(site) == [
        "404.html: releases/ is relative, but 404.html is served at any depth: "
        "start it with the site path"
    ]


@pytest.mark.parametrize(("rule", "expected"), [
    ("/voice/latest/download/x.zip /voice/download/v1.10.0/nope.zip 302", "does not exist"),
    ("/voice/latest/download/y.zip /voice/releases/ 307", "status 307 is not one of"),
    ("/voice/index.html /voice/releases/ 302", "files win over redirects"),
    ("/latest/download/z.zip /voice/releases/ 302", "does not exist (on a custom domain"),
    ("voice/a /voice/releases/", "must start with /"),
    ("/voice/a", "line 51 has no destination, so GitLab Pages reads no rule"),
])
def test_redirect_rules(site: Path, rule: str, expected: str) -> None:
    """Each GitLab Pages rule: syntax, status, prefix, an existing target, no shadowing file."""
    with (site / "_redirects").open("a") as rules:
        rules.write(rule + "\n")
    found = problems(site)
    assert len(found) == 1 and expected in found[0], found


def test_redirect_limits(site: Path) -> None:
    """More than 1,000 rules or 64 KiB: GitLab Pages drops rules, so verify says so."""
    rule = "/voice/latest/download/SHA256SUMS /voice/download/v1.10.0/SHA256SUMS 302\n"
    (site / "_redirects").write_text(rule * 1001)
    found = problems(site)
    assert any("1001 rules" in p for p in found)
    assert any("bytes; GitLab Pages ignores it above 65536" in p for p in found)


def test_prefix_is_found_without_a_site_url(site: Path) -> None:
    """Without URLs in index.json, the rules' targets tell the site path."""
    for name in ("index.json", "latest.json"):
        text = (site / name).read_text()
        rewrite(site / name, re.sub(r'\n *"url": "[^"]*",', "", text))
    assert '"url"' not in (site / "index.json").read_text()
    assert problems(site) == []
    assert verify_site(site).rules == len((site / "_redirects").read_text().splitlines())


def test_parse_sums_reads_both_modes() -> None:
    lines = f"{'a' * 64}  text.zip\n{'B' * 64} *binary name.zip\nbroken\n"
    assert list(parse_sums(lines)) == [
        ("a" * 64, "text.zip"), ("b" * 64, "binary name.zip"), ("", "broken")]


# -- precompression --------------------------------------------------------------------------

def test_text_files_get_gz_and_br_artifacts_never(voice_site: Path) -> None:
    """Pages, CSS, JS, JSON and feeds are precompressed; artifacts and _redirects are not."""
    for name in ("index.html", "releases/index.html", "assets/downloads/downloads.css",
                 "assets/downloads/downloads.js", "index.json", "feed.xml",
                 "search/search_index.json", "404.html"):
        original = (voice_site / name).read_bytes()
        assert gzip.decompress((voice_site / f"{name}.gz").read_bytes()) == original, name
        assert brotli.decompress((voice_site / f"{name}.br").read_bytes()) == original, name
    for name in ("_redirects", "download/v1.10.0/docs/manual.txt",
                 "download/v1.10.0/VoiceInput-v1.10.0-linux-x64.zip"):
        assert not (voice_site / f"{name}.gz").exists() and not (voice_site / f"{name}.br").exists()


def test_precompress_is_deterministic_and_skips_small_files(tmp_path: Path) -> None:
    """Same bytes on every run (no gzip timestamp); tiny files and existing copies are left."""
    page = ("<p>" + "download " * 200 + "</p>").encode()
    for run in ("a", "b"):
        folder = tmp_path / run
        folder.mkdir()
        (folder / "page.html").write_bytes(page)
        (folder / "tiny.json").write_bytes(b"{}")
        (folder / "sitemap.xml").write_bytes(page)
        (folder / "sitemap.xml.gz").write_bytes(b"mkdocs wrote this")
        (folder / "notes.txt").write_bytes(page)
        done = precompress(folder, skip={"notes.txt"})
        assert done.files == 3 and done.written_bytes < done.original_bytes
    assert (tmp_path / "a/page.html.gz").read_bytes() == (tmp_path / "b/page.html.gz").read_bytes()
    assert not (tmp_path / "a/tiny.json.gz").exists()
    assert not (tmp_path / "a/notes.txt.br").exists()
    assert (tmp_path / "a/sitemap.xml.gz").read_bytes() == b"mkdocs wrote this"
    assert (tmp_path / "a/sitemap.xml.br").exists()
