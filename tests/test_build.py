"""End to end: a real MkDocs build from a folder registry, checked as a user would check it."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from urllib.parse import unquote, urlsplit
from xml.etree import ElementTree

import pytest
from bs4 import BeautifulSoup
from conftest import FolderRegistry

ZIP = b"PK\x03\x04" + os.urandom(3000)


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture
def sample(registry: FolderRegistry) -> FolderRegistry:
    """Five versions: string order and SemVer order disagree; one pre-release, one non-SemVer."""
    for version, day in (("v1.9.0", 1), ("v1.10.0", 3), ("v1.2.0", 2), ("v2.0.0-rc.1", 4)):
        registry.add(
            version,
            {
                f"VoiceInput-{version}-windows-x64.zip": ZIP + version.encode(),
                f"VoiceInput-{version}-linux-x64.tar.gz": b"\x1f\x8b" + version.encode() * 50,
            },
            released_at=f"2026-02-0{day}T10:00:00Z",
            notes=f"## Changes in {version}\n\n- faster\n",
        )
    registry.add("nightly-2026", {"VoiceInput-nightly.zip": b"nightly"},
                 released_at="2026-03-01T00:00:00Z")
    registry.add("v1.10.0-hidden", {"x.zip": b"secret"}, status="hidden")
    registry.add(
        "v1.1.0",
        {"VoiceInput-v1.1.0.zip": b"old", "docs/manual.pdf": b"%PDF-1.4 manual"},
        released_at="2026-01-01T00:00:00Z",
    )
    return registry


def test_sha256sum_passes_in_every_download_folder(sample, build, project: Path) -> None:
    """The real `sha256sum -c SHA256SUMS` passes inside each version's download folder."""
    assert build().code == 0
    folders = sorted((project / "public" / "download").iterdir())
    assert [f.name for f in folders] == sorted(
        ["v1.9.0", "v1.10.0", "v1.2.0", "v2.0.0-rc.1", "nightly-2026", "v1.1.0"]
    )
    for folder in folders:
        result = subprocess.run(["sha256sum", "-c", "--strict", "SHA256SUMS"], cwd=folder,
                                capture_output=True, text=True)
        assert result.returncode == 0, result.stdout + result.stderr
        listed = len(result.stdout.strip().splitlines())
        assert listed == len((folder / "SHA256SUMS").read_text().splitlines())


def test_sidecar_checks_the_file_next_to_it(sample, build, project: Path) -> None:
    """`<file>.sha256` verifies the downloaded file, nested ones included."""
    assert build().code == 0
    manual = project / "public" / "download" / "v1.1.0" / "docs"
    result = subprocess.run(["sha256sum", "-c", "manual.pdf.sha256"], cwd=manual,
                            capture_output=True, text=True)
    assert result.returncode == 0 and "manual.pdf: OK" in result.stdout


def test_artifacts_are_byte_for_byte(sample, build, project: Path) -> None:
    """Every published file has the bytes the registry holds."""
    assert build().code == 0
    for source in (sample.root / "VoiceInput" / "v1.10.0").glob("*.zip"):
        published = project / "public" / "download" / "v1.10.0" / source.name
        assert published.read_bytes() == source.read_bytes()


def test_latest_json_shape(sample, build, project: Path) -> None:
    """latest.json is the SPEC's record of the highest stable version."""
    assert build("--site-url", "https://group.gitlab.io/speech-to-text/").code == 0
    latest = json.loads((project / "public" / "latest.json").read_text())
    assert set(latest) == {"package", "version", "channel", "prerelease", "released_at", "page",
                           "files", "signature", "signed"}
    assert latest["channel"] == "stable"
    assert latest["signature"] is None and latest["signed"] is False  # no key, no signature
    assert latest["package"] == "VoiceInput"
    assert latest["version"] == "v1.10.0"
    assert latest["prerelease"] is False
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", latest["released_at"])
    assert latest["page"] == "releases/v1.10.0/"
    name = "VoiceInput-v1.10.0-windows-x64.zip"
    record = next(f for f in latest["files"] if f["name"] == name)
    assert record == {
        "name": name,
        "path": f"download/v1.10.0/{name}",
        "url": f"https://group.gitlab.io/speech-to-text/download/v1.10.0/{name}",
        "size": len(ZIP + b"v1.10.0"),
        "sha256": sha(ZIP + b"v1.10.0"),
    }
    assert (project / "public" / "latest.txt").read_text() == "v1.10.0\n"
    assert (project / "public" / latest["files"][0]["path"]).is_file()


def test_index_json_order_and_channels(sample, build, project: Path) -> None:
    """index.json lists SemVer order newest first, non-SemVer last, hidden never."""
    result = build()
    assert result.code == 0
    index = json.loads((project / "public" / "index.json").read_text())
    assert set(index) == {"package", "latest", "latest_prerelease", "releases"}
    assert index["latest"] == "v1.10.0"
    assert index["latest_prerelease"] == "v2.0.0-rc.1"
    assert [r["version"] for r in index["releases"]] == [
        "v2.0.0-rc.1", "v1.10.0", "v1.9.0", "v1.2.0", "v1.1.0", "nightly-2026"
    ]
    assert [r["prerelease"] for r in index["releases"]] == [True] + [False] * 4 + [True]
    assert [r["channel"] for r in index["releases"]] == (
        ["prerelease"] + ["stable"] * 4 + ["build"])
    assert "url" not in index["releases"][0]["files"][0]  # no site URL known: no absolute URL
    assert "nightly-2026" in result.err and "not Semantic Versioning" in result.err


def test_redirects_carry_every_link_in_both_forms(sample, build, project: Path) -> None:
    """Aliases (302) and old flat links (301), prefixed first, then for a custom domain."""
    assert build("--site-url", "https://group.gitlab.io/speech-to-text/").code == 0
    public = project / "public"
    rules = [line.split(" ") for line in (public / "_redirects").read_text().splitlines()]
    alias = ["/speech-to-text/latest/download/VoiceInput-latest-windows-x64.zip",
             "/speech-to-text/download/v1.10.0/VoiceInput-v1.10.0-windows-x64.zip", "302"]
    assert alias in rules
    assert [a.removeprefix("/speech-to-text") for a in alias[:2]] + ["302"] in rules
    prefixed = [r for r in rules if r[0].startswith("/speech-to-text/")]
    assert rules[: len(prefixed)] == prefixed  # every prefixed rule comes first
    assert rules[len(prefixed):] == [
        [source.removeprefix("/speech-to-text"), target.removeprefix("/speech-to-text"), status]
        for source, target, status in prefixed
    ]
    legacy = ["/speech-to-text/VoiceInput-v1.9.0-windows-x64.zip",
              "/speech-to-text/download/v1.9.0/VoiceInput-v1.9.0-windows-x64.zip", "301"]
    assert legacy in rules
    for source, target, status in rules:
        assert status in ("301", "302")
        relative = target.removeprefix("/speech-to-text/").lstrip("/")
        assert (public / relative).is_file(), (source, target)
        assert not (public / source.removeprefix("/speech-to-text/").lstrip("/")).exists()
    assert not (public / "latest" / "download").exists()


def test_feed_has_an_entry_per_release(sample, build, project: Path) -> None:
    """feed.xml is Atom with one entry per published release."""
    assert build().code == 0
    atom = "{http://www.w3.org/2005/Atom}"
    feed = ElementTree.parse(project / "public" / "feed.xml").getroot()
    assert feed.tag == f"{atom}feed"
    titles = [e.findtext(f"{atom}title") for e in feed.iter(f"{atom}entry")]
    assert titles[:2] == ["VoiceInput v2.0.0-rc.1 (pre-release)", "VoiceInput v1.10.0"]
    assert len(titles) == 6


def _internal_targets(html_file: Path, site: Path) -> list[tuple[str, Path]]:
    soup = BeautifulSoup(html_file.read_text(encoding="utf-8"), "html.parser")
    found = []
    for tag in soup.find_all(["a", "link", "script", "img"]):
        url = tag.get("href") or tag.get("src")
        if not url:
            continue
        parts = urlsplit(url)
        if parts.scheme or parts.netloc or url.startswith(("#", "mailto:")):
            continue
        path = unquote(parts.path)
        target = (html_file.parent / path) if path else html_file
        if url.endswith("/") or target.is_dir():
            target = target / "index.html"
        found.append((url, target.resolve()))
    return found


def test_every_internal_link_resolves(sample, build, project: Path) -> None:
    """Every href/src on every page (404.html aside) points at a file in the site."""
    assert build().code == 0
    site = project / "public"
    pages = [p for p in site.rglob("*.html") if p.name != "404.html"]
    assert len(pages) >= 9
    broken = [
        f"{page.relative_to(site)} → {url}"
        for page in pages
        for url, target in _internal_targets(page, site)
        if not target.is_file() or site.resolve() not in target.parents
    ]
    assert broken == []


def test_script_in_notes_never_runs(registry: FolderRegistry, build, project: Path) -> None:
    """Raw HTML in release notes and in file names is shown as text, never as markup."""
    registry.add(
        "v1.0.0",
        {"App-v1.0.0.zip": b"x"},
        notes=(
            "<script>alert('notes')</script>\n\n<img src=x onerror=alert(1)>\n\n"
            "[click](javascript:alert(2))\n"
        ),
    )
    assert build().code == 0
    for page in ("index.html", "releases/v1.0.0/index.html"):
        html = (project / "public" / page).read_text()
        soup = BeautifulSoup(html, "html.parser")
        assert not any("alert" in (s.string or "") for s in soup.find_all("script")), page
        assert not soup.find("img", onerror=True)
        assert not soup.find("a", href=re.compile("^javascript:", re.I))
        assert "&lt;script&gt;alert(&#x27;notes&#x27;)&lt;/script&gt;" in html or \
            "&lt;script&gt;alert('notes')&lt;/script&gt;" in html


def test_mismatching_checksum_fails_and_keeps_old_output(
    registry: FolderRegistry, build, project: Path
) -> None:
    """A file whose bytes disagree with the registry's SHA256: exit 1, one line, old site kept."""
    registry.add("v1.0.0", {"App-v1.0.0.zip": b"good"})
    assert build().code == 0
    before = snapshot(project / "public")
    registry.add("v1.1.0", {"App-v1.1.0.zip": b"tampered"},
                 sha256={"App-v1.1.0.zip": sha(b"original")})
    result = build()
    assert result.code == 1
    assert "App-v1.1.0.zip" in result.error and "SHA256" in result.error
    assert snapshot(project / "public") == before
    assert not [p for p in project.iterdir() if p.name.startswith(".public")]


def test_escaping_file_name_fails_and_writes_nothing(
    registry: FolderRegistry, build, project: Path
) -> None:
    """A registry name with backslashes (`sub\\..\\..\\evil`) exits 1 naming it; old site kept."""
    registry.add("v1.0.0", {"App-v1.0.0.zip": b"good"})
    assert build().code == 0
    before = snapshot(project / "public")
    registry.add("v1.1.0", {"sub\\..\\..\\evil.zip": b"evil"})
    result = build()
    assert result.code == 1
    assert "evil.zip" in result.error and "backslash" in result.error
    assert snapshot(project / "public") == before


def test_unsafe_registry_name_is_refused(run_cli, project: Path, tmp_path: Path) -> None:
    """A source listing `../../evil` is stopped before anything is downloaded or written."""
    from site_builder.catalog import Artifact, PackageVersion
    from site_builder.errors import UnsafePathError
    from site_builder.pipeline import prepare
    from site_builder.settings import Settings

    class EvilSource:
        def describe(self) -> str:
            return "evil"

        def versions(self, package: str) -> list[PackageVersion]:
            bad = Artifact("../../evil.sh", 1, "0" * 64)
            return [PackageVersion(package, "v1.0.0", created_at=__import__("datetime").datetime
                                   .now(), files=(bad,))]

        def open(self, *args: object) -> object:
            raise AssertionError("nothing may be downloaded")

    settings = Settings(package="App", cache_dir=tmp_path / "cache")
    with pytest.raises(UnsafePathError, match=r"'\.\./\.\./evil\.sh'"):
        prepare(settings, source=EvilSource())
    assert not (tmp_path / "cache").exists()


def test_plain_mkdocs_build_works(sample, project: Path, tmp_path: Path) -> None:
    """`mkdocs build` with the plugin configured in mkdocs.yml builds the same site."""
    config = project / "mkdocs.yml"
    text = config.read_text().replace(
        "package: VoiceInput",
        f"package: VoiceInput\n      from_dir: {sample.root}\n      cache_dir: {tmp_path / 'c'}",
    )
    config.write_text(text)
    mkdocs = shutil.which("mkdocs", path=str(Path(os.sys.executable).parent))
    result = subprocess.run([mkdocs, "build", "-q", "-f", str(config)], cwd=project,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert (project / "site" / "latest.txt").read_text() == "v1.10.0\n"


def snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def test_poisoned_cache_entry_is_replaced(
    registry: FolderRegistry, build, project: Path, tmp_path: Path
) -> None:
    """A cache file whose bytes no longer match its SHA256 is fetched again, never published."""
    registry.add("v1.0.0", {"App-v1.0.0.zip": b"genuine bytes"})
    assert build().code == 0
    digest = sha(b"genuine bytes")
    entry = tmp_path / "cache" / "sha256" / digest[:2] / digest
    entry.write_bytes(b"planted bytes")  # same size, other content
    result = build()
    assert result.code == 0 and "damaged" in result.err
    published = project / "public" / "download" / "v1.0.0" / "App-v1.0.0.zip"
    assert published.read_bytes() == b"genuine bytes"


def test_strict_mode_warning_keeps_the_old_site(
    registry: FolderRegistry, build, project: Path
) -> None:
    """With `strict: true`, a warning aborts the build and the previous output stays."""
    registry.add("v1.0.0", {"App-v1.0.0.zip": b"good"})
    assert build().code == 0
    before = snapshot(project / "public")
    config = project / "mkdocs.yml"
    config.write_text("strict: true\n" + config.read_text())
    (project / "content" / "broken.md").write_text("# Broken\n\n[gone](missing.md)\n")
    result = build()
    assert result.code == 1 and "strict" in result.err
    assert snapshot(project / "public") == before
    assert not [p for p in project.iterdir() if p.name.startswith(".public")]


def test_site_dir_of_the_config_is_the_default_output(
    registry: FolderRegistry, run_cli, project: Path, tmp_path: Path
) -> None:
    """Without --output, `site_dir` from mkdocs.yml is used; without either, `public`."""
    registry.add("v1.0.0", {"App-v1.0.0.zip": b"x"})
    config = project / "mkdocs.yml"
    config.write_text("site_dir: out/site\n" + config.read_text())
    result = run_cli("build", "--config", str(config), "--from-dir", str(registry.root),
                     "--cache-dir", str(tmp_path / "cache"))
    assert result.code == 0, result.err
    assert (project / "out" / "site" / "latest.txt").read_text() == "v1.0.0\n"


def test_a_bug_is_one_redacted_line(
    registry: FolderRegistry, build, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An unexpected exception is reported as one line, with any token masked."""
    import site_builder.pipeline

    token = "glpat-bug-report-SECRET-42"
    monkeypatch.setenv("GITLAB_TOKEN", token)

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError(f"header PRIVATE-TOKEN: {token}")

    monkeypatch.setattr(site_builder.pipeline, "prepare", broken)
    registry.add("v1.0.0", {"App-v1.0.0.zip": b"x"})
    result = build()
    assert result.code == 1
    assert "unexpected RuntimeError" in result.error and "[MASKED]" in result.error
    assert token not in result.err + result.out
