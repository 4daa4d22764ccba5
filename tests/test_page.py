"""The human pages, without a browser: what they say, their structure, and their helpers."""

from __future__ import annotations

import hashlib
import itertools
import subprocess
from pathlib import Path

import pytest
from bs4 import BeautifulSoup, Tag
from conftest import FolderRegistry

from site_builder.render.pages import (
    NEVER_PRIMARY,
    demote_headings,
    platform_label,
    platform_of,
    rank_of,
    verify_commands,
)


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture
def sample(registry: FolderRegistry) -> FolderRegistry:
    """Three stable versions for three platforms, a manual, a pre-release and notes."""
    for version, day in (("v1.0.0", 1), ("v1.1.0", 2), ("v1.2.0", 3), ("v2.0.0-beta.1", 4)):
        registry.add(
            version,
            {f"App-{version}-{p}.zip": f"{version}-{p}".encode() * 300
             for p in ("windows-x64", "macos-arm64", "linux-x64")},
            released_at=f"2026-02-0{day}T10:00:00Z",
            notes=f"# {version}\n\n## Fixed\n\n- a bug\n",
        )
    return registry


def soup_of(path: Path) -> BeautifulSoup:
    return BeautifulSoup(path.read_text("utf-8"), "html.parser")


def article(path: Path) -> Tag:
    found = soup_of(path).find("article")
    assert isinstance(found, Tag)
    return found


# -- helpers ---------------------------------------------------------------------------------

@pytest.mark.parametrize(("name", "expected"), [
    ("App-v1.0.0-windows-x64.zip", ("windows", "x64")),
    ("App_1.0.0_win_amd64.msi", ("windows", "x64")),
    ("App-1.0.0-darwin-aarch64.tar.gz", ("macos", "arm64")),
    ("App-1.0.0-mac-universal.dmg", ("macos", "")),
    ("app_1.0.0_linux_x86_64.tar.gz", ("linux", "x64")),
    ("app-1.0.0-linux-arm64.AppImage", ("linux", "arm64")),
    ("docs/manual.pdf", ("", "")),
    ("Darwinism.zip", ("", "")),  # a word, not an OS
])
def test_platform_of_reads_os_and_cpu_words(name: str, expected: tuple[str, str]) -> None:
    """OS and CPU come from whole words of the file name."""
    assert platform_of(name) == expected


def test_platform_labels_use_familiar_names() -> None:
    """Mac CPUs go by Apple's names; unknown OS gives no label."""
    assert platform_label("macos", "arm64") == "macOS (Apple silicon)"
    assert platform_label("macos", "x64") == "macOS (Intel)"
    assert platform_label("windows", "x64") == "Windows (x64)"
    assert platform_label("linux", "") == "Linux"
    assert platform_label("", "x64") == ""


def test_rank_prefers_installers_and_never_offers_metadata() -> None:
    """Installers beat archives beat other files; signatures and checksums are never primary."""
    assert rank_of("App.msi") < rank_of("App.zip") < rank_of("App.bin")
    for name in ("App.zip.sig", "App.zip.sha256", "App.sbom.json", "notes.txt"):
        assert rank_of(name) == NEVER_PRIMARY


def test_demote_headings_keeps_their_order() -> None:
    """Notes' headings start below the page's h2 and keep their relative levels."""
    html = "<h1>A</h1><p>x</p><h2>B</h2><h6>C</h6>"
    assert demote_headings(html, top=3) == "<h3>A</h3><p>x</p><h4>B</h4><h6>C</h6>"
    assert demote_headings("<p>plain</p>", top=3) == "<p>plain</p>"


@pytest.mark.parametrize("name", ["App-v1.0.0-linux-x64.zip", "it's a file (1).zip",
                                  "docs/manual $HOME.txt"])
@pytest.mark.parametrize(("os_name", "tool"), [("linux", "sha256sum"), ("macos", "shasum")])
def test_verify_command_really_verifies(tmp_path: Path, name: str, os_name: str,
                                        tool: str) -> None:
    """The shown command prints OK for the right bytes and fails for others, odd names too."""
    if subprocess.run(["which", tool], capture_output=True).returncode != 0:
        pytest.skip(f"{tool} is not installed")
    saved = tmp_path / Path(name).name
    saved.write_bytes(b"the real bytes")
    command = verify_commands(name, sha(b"the real bytes"))[os_name]
    good = subprocess.run(["sh", "-c", command], cwd=tmp_path, capture_output=True, text=True)
    assert good.returncode == 0 and f"{saved.name}: OK" in good.stdout, good.stderr
    saved.write_bytes(b"tampered")
    bad = subprocess.run(["sh", "-c", command], cwd=tmp_path, capture_output=True, text=True)
    assert bad.returncode != 0


def test_powershell_command_quotes_the_name() -> None:
    """PowerShell gets a literal path with single quotes doubled, and the expected hash."""
    command = verify_commands("docs/it's.zip", "ab" * 32)["windows"]
    assert command == ("(Get-FileHash -Algorithm SHA256 -LiteralPath '.\\it''s.zip').Hash "
                       f"-eq '{'ab' * 32}'")


# -- built pages -----------------------------------------------------------------------------

def test_landing_shows_what_a_visitor_needs(sample, build, project: Path) -> None:
    """Name, description, latest version and date, files with sizes and hashes, verify help."""
    assert build().code == 0
    page = article(project / "public" / "index.html")
    text = page.get_text(" ", strip=True)
    assert page.h1 is not None and page.h1.get_text(strip=True) == "VoiceInput"
    assert "Speech to text for every desktop" in text  # site_description of mkdocs.yml
    assert "Latest version v1.2.0 · released 2026-02-03" in text
    rows = page.select("tr[data-sb-file]")
    assert [r["data-name"] for r in rows] == [
        "App-v1.2.0-linux-x64.zip", "App-v1.2.0-macos-arm64.zip", "App-v1.2.0-windows-x64.zip"]
    row = rows[2]
    expected = sha(b"v1.2.0-windows-x64" * 300)
    assert row["data-os"] == "windows" and row["data-arch"] == "x64"
    assert row.select_one("code.sb-sha256").get_text() == expected  # type: ignore[union-attr]
    assert row.select_one(".sb-size").get_text() == "5.3 KiB"  # type: ignore[union-attr]
    assert row["data-cmd-windows"] == verify_commands(str(row["data-name"]), expected)["windows"]
    verify = page.select_one("[data-sb-verify]")
    assert verify is not None
    assert {lab.get_text(strip=True) for lab in verify.select(".tabbed-labels label")} == {
        "Linux", "macOS", "Windows (PowerShell)"}
    commands = [c.get_text() for c in verify.select("pre code")]
    assert "sha256sum -c" in commands[0] and "shasum -a 256 -c" in commands[1]
    assert "Get-FileHash" in commands[2]
    assert page.find("a", string="All versions")["href"] == "releases/"  # type: ignore[index]
    assert page.select_one("#whats-new") is not None and "a bug" in text


def test_landing_marks_the_prerelease(sample, build, project: Path) -> None:
    """The pre-release is offered in its own section, badged and warned about."""
    assert build().code == 0
    page = article(project / "public" / "index.html")
    section = page.select_one("section.sb-prerelease")
    assert section is not None
    assert "v2.0.0-beta.1" in section.h2.get_text()  # type: ignore[union-attr]
    assert section.select_one(".sb-badge--pre") is not None
    assert section.select_one(".admonition.warning") is not None
    assert len(section.select("a[download]")) == 3


def test_without_a_script_the_button_leads_to_the_list(sample, build, project: Path) -> None:
    """Several platforms: the page alone cannot choose, so the button opens the file list."""
    assert build().code == 0
    page = article(project / "public" / "index.html")
    button = page.select_one("[data-sb-primary]")
    assert button is not None and button["href"] == "#downloads"
    assert page.select_one("#downloads") is not None
    assert all(b.has_attr("hidden") for b in page.select("button.sb-copy"))


def test_a_single_file_is_the_button_even_without_a_script(
    registry: FolderRegistry, build, project: Path
) -> None:
    """One real download: the button points at it and shows its hash straight away."""
    registry.add("v1.0.0", {"App-v1.0.0.zip": b"one", "App-v1.0.0.zip.sig": b"sig"})
    assert build().code == 0
    page = article(project / "public" / "index.html")
    button = page.select_one("[data-sb-primary]")
    assert button is not None and button["href"] == "download/v1.0.0/App-v1.0.0.zip"
    shown = page.select_one("[data-sb-pick-sha256]")
    assert shown is not None and shown.get_text() == sha(b"one")


def test_releases_table_newest_first_with_badges(sample, build, project: Path) -> None:
    """Version, date, file count and total size, newest first; pre-release and latest badged."""
    assert build().code == 0
    page = article(project / "public" / "releases" / "index.html")
    rows = page.select("tbody tr")
    versions = [r.th.a.get_text() for r in rows]  # type: ignore[union-attr]
    assert versions == ["v2.0.0-beta.1", "v1.2.0", "v1.1.0", "v1.0.0"]
    assert rows[0].select_one(".sb-badge--pre") is not None
    assert rows[1].select_one(".sb-badge--latest") is not None
    cells = [td.get_text(strip=True) for td in rows[1].find_all("td")]
    assert cells == ["2026-02-03", "3", "15.2 KiB"]
    assert [th.get_text() for th in page.select("thead th")] == [
        "Version", "Date", "Files", "Total size"]


def test_version_page_links_sums_and_neighbours(sample, build, project: Path) -> None:
    """A version page links its SHA256SUMS, the previous and next version, and all releases."""
    assert build().code == 0
    page = article(project / "public" / "releases" / "v1.1.0" / "index.html")
    assert page.find("a", string="SHA256SUMS")["href"] == "../../download/v1.1.0/SHA256SUMS"  # type: ignore[index]
    older = page.select_one(".sb-neighbour--older")
    newer = page.select_one(".sb-neighbour--newer")
    assert older is not None and older["href"] == "../v1.0.0/"
    assert newer is not None and newer["href"] == "../v1.2.0/"
    assert "A newer version is available" in page.get_text()
    notes = page.select_one(".sb-notes")
    assert notes is not None and notes.find("h3") and notes.find("h4")  # demoted under h2


def test_unhosted_version_says_so(sample, build, project: Path) -> None:
    """With `keep`, older versions keep a page with checksums and say their files are gone."""
    config = project / "mkdocs.yml"
    config.write_text(config.read_text().replace("package: VoiceInput",
                                                 "package: VoiceInput\n      keep: 2"))
    assert build().code == 0
    page = article(project / "public" / "releases" / "v1.0.0" / "index.html")
    assert "no longer hosted here" in page.get_text()
    assert page.select("tr[data-sb-file] a") == []  # nothing to download
    assert len(page.select("code.sb-sha256")) == 3  # but every checksum stays
    listing = article(project / "public" / "releases" / "index.html")
    assert len(listing.select("tbody .sb-badge--gone")) == 2


def test_every_page_is_accessible_in_structure(sample, build, project: Path) -> None:
    """lang set, one h1, headings never skip a level, every image has alt text."""
    assert build().code == 0
    site = project / "public"
    for path in sorted(site.rglob("*.html")):
        if path.parent.name == "latest":
            continue  # the redirect page: a sentence and a link
        soup = soup_of(path)
        assert soup.html is not None and soup.html.get("lang") == "en", path
        content = soup.find("article") or soup
        levels = [int(h.name[1]) for h in content.find_all(["h1", "h2", "h3", "h4", "h5", "h6"])]
        assert levels[:1] == [1] and levels.count(1) == 1, (path, levels)
        assert all(b - a <= 1 for a, b in itertools.pairwise(levels)), (path, levels)
        for image in soup.find_all("img"):
            assert image.has_attr("alt"), (path, image)


def test_hostile_names_stay_text(registry: FolderRegistry, build, project: Path) -> None:
    """Quotes and markup in file names are escaped in text, attributes and commands."""
    name = "App-v1.0.0-linux-x64 \"'><img src=x onerror=alert(1)>.zip"
    registry.add("v1.0.0", {name: b"x"})
    assert build().code == 0
    html = (project / "public" / "index.html").read_text()
    soup = BeautifulSoup(html, "html.parser")
    assert not soup.find("img", onerror=True)
    row = soup.select_one("tr[data-sb-file]")
    assert row is not None and row["data-name"] == name
    assert row["data-cmd-linux"] == verify_commands(name, sha(b"x"))["linux"]


def test_404_and_assets_use_the_site_path(sample, build, project: Path) -> None:
    """404.html links from the site root (it is served at any depth); CSS and JS are added."""
    assert build("--site-url", "https://group.gitlab.io/voice/").code == 0
    site = project / "public"
    soup = soup_of(site / "404.html")
    links = {a.get_text(strip=True): a["href"] for a in soup.select("article a")}
    assert links["Get VoiceInput v1.2.0, the latest version"] == "/voice/releases/v1.2.0/"
    assert links["All versions of VoiceInput"] == "/voice/releases/"
    # The feed links of the head and the footer too: `/voice//feed.xml` is another path.
    paths = [tag.get("href") or tag.get("src") for tag in soup.select("[href], [src]")]
    assert "/voice/feed.xml" in paths and "/voice/latest.json" in paths
    assert not [p for p in paths if "//" in p.split("://")[-1]]
    assert (site / "assets/downloads/downloads.css").is_file()
    assert (site / "assets/downloads/downloads.js").is_file()
    index = soup_of(site / "index.html")
    assert index.find("link", href="assets/downloads/downloads.css") is not None
    assert index.find("script", src="assets/downloads/downloads.js") is not None
    assert "Made with" not in (site / "index.html").read_text()
