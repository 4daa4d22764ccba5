"""GitLab Pages' limits: sizes in the config, the budget check, and `keep` end to end."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from conftest import FolderRegistry

from site_builder import budget
from site_builder.budget import check_budget, parse_size
from site_builder.catalog import Artifact, Catalog, PackageVersion, Release, build_catalog
from site_builder.errors import BudgetError, ConfigError
from site_builder.settings import resolve

MB = 1000**2
KiB = 1024
WHEN = datetime(2026, 1, 1, tzinfo=UTC)


def catalog_of(sizes: dict[str, int], *, keep: int | None = None) -> Catalog:
    """One file per version of the given size; versions given oldest first."""
    rows = [
        PackageVersion(
            package="App",
            version=version,
            created_at=WHEN,
            files=(Artifact(name=f"App-{version}.zip", size=size, sha256="0" * 64),),
        )
        for version, size in sizes.items()
    ]
    return build_catalog(rows, package="App", keep=keep)


def set_plugin_options(project: Path, **options: object) -> None:
    """Add options under `downloads:` in the project's mkdocs.yml."""
    config = project / "mkdocs.yml"
    text = config.read_text()
    anchor = "      package: VoiceInput"
    lines = "".join(f"\n      {name}: {value}" for name, value in options.items())
    assert anchor in text
    config.write_text(text.replace(anchor, anchor + lines))


# -- sizes ----------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("written", "size"),
    [
        (104857600, 104857600),
        ("100MB", 100 * MB),
        ("100 MB", 100 * MB),
        ("1GiB", 1024**3),
        ("1.5GiB", 1024**3 * 3 // 2),
        ("512kib", 512 * 1024),
        ("2048", 2048),
    ],
)
def test_sizes_accept_bytes_and_units(written: object, size: int) -> None:
    """Whole bytes, SI units (MB = 10**6) and binary units (GiB = 2**30) are understood."""
    assert parse_size(written) == size


@pytest.mark.parametrize("written", ["lots", "100 MBs", "-5MB", "0", 0, -1, True, "", None, 1.5])
def test_a_size_that_is_not_one_is_a_config_error(written: object) -> None:
    """A wrong size says what it got and how to write one."""
    with pytest.raises(ConfigError, match=r"max_site_size .* e\.g\. 100MB or 1GiB"):
        parse_size(written)


def test_settings_read_a_human_max_site_size() -> None:
    """`max_site_size: 100MB` in mkdocs.yml becomes bytes in the settings."""
    assert resolve({"package": "App", "max_site_size": "100MB"}, env={}).max_site_size == 100 * MB
    assert resolve({"package": "App"}, env={}).max_site_size == 1024**3


# -- the check, on catalogues ---------------------------------------------------------------

def test_a_site_that_fits_passes() -> None:
    """1 GiB holds a few versions of 100 MB each."""
    check_budget(catalog_of({"v1.0.0": 100 * MB, "v1.1.0": 100 * MB}), max_bytes=1024**3)


def test_too_big_names_the_largest_versions_and_a_keep_that_fits() -> None:
    """The three heaviest hosted versions with sizes, and the largest `keep` under the budget."""
    catalog = catalog_of({
        "v1.0.0": 100 * MB, "v1.1.0": 500 * MB, "v1.2.0": 400 * MB,
        "v1.3.0": 200 * MB, "v1.4.0": 300 * MB,
    })
    with pytest.raises(BudgetError) as caught:
        check_budget(catalog, max_bytes=1024**3)
    message = str(caught.value)
    assert "\n" not in message
    assert "over max_site_size 1.0 GiB" in message
    assert "v1.1.0 (476.8 MiB), v1.2.0 (381.5 MiB), v1.4.0 (286.1 MiB)" in message
    # newest first: 300 + 200 + 400 MB fit in 1 GiB with the pages' margin; + 500 MB does not
    assert "`keep: 3`" in message


def test_keep_already_set_counts_only_hosted_versions() -> None:
    """Versions `keep` dropped weigh nothing; a keep still too big gets a smaller suggestion."""
    sizes = {f"v1.{i}.0": 300 * MB for i in range(10)}
    check_budget(catalog_of(sizes, keep=3), max_bytes=1024**3)
    with pytest.raises(BudgetError, match=r"`keep: 3`"):
        check_budget(catalog_of(sizes, keep=5), max_bytes=1024**3)


def test_channel_heads_count_even_beyond_keep() -> None:
    """`keep: 1` still hosts the latest stable below a newer pre-release: both weigh."""
    catalog = catalog_of({"v1.0.0": 600 * MB, "v2.0.0-rc.1": 600 * MB})
    with pytest.raises(BudgetError, match=r"even `keep: 1` does not fit"):
        check_budget(catalog, max_bytes=1024**3)


def test_a_budget_below_the_pages_themselves_says_raise_it() -> None:
    """A max_site_size smaller than the theme and pages can never work: say raise it."""
    with pytest.raises(BudgetError, match=r"less than the pages alone need.*raise max_site_size"):
        check_budget(catalog_of({"v1.0.0": 10}), max_bytes=1000)


def test_too_many_files_is_refused_with_a_keep() -> None:
    """Over 200,000 file entries (each artifact also gets a .sha256): name a keep that fits."""
    files = tuple(Artifact(name=f"f{i}.bin", size=1, sha256="0" * 64) for i in range(60_000))
    releases = tuple(
        Release(package="App", version=f"v1.{i}.0", released_at=WHEN, files=files)
        for i in (2, 1, 0)
    )
    catalog = Catalog(package="App", releases=releases, latest=releases[0])
    with pytest.raises(BudgetError) as caught:
        check_budget(catalog, max_bytes=1024**3)
    assert "over GitLab Pages' limit of 200,000" in str(caught.value)
    assert "`keep: 1`" in str(caught.value)


# -- end to end -----------------------------------------------------------------------------

def test_build_over_budget_fails_before_writing(
    registry: FolderRegistry, build, project: Path, tmp_path: Path
) -> None:
    """Exit 1, one line naming the heaviest versions and a keep; old site and cache untouched."""
    sizes = {"v1.0.0": 300, "v1.1.0": 700, "v1.2.0": 500, "v1.3.0": 400}  # KiB
    for day, (version, kib) in enumerate(sizes.items(), start=1):
        registry.add(version, {f"VoiceInput-{version}.zip": bytes(kib * KiB)},
                     released_at=f"2026-02-0{day}T10:00:00Z")
    # the pages' margin, plus room for the newest three (400 + 500 + 700 KiB) but not four
    limit = budget.SITE_BYTES + 4 * budget.RELEASE_BYTES + 1700 * KiB
    set_plugin_options(project, max_site_size=limit)
    old_site = project / "public"
    (old_site / "download").mkdir(parents=True)
    (old_site / "index.html").write_text("the site as it was")

    result = build()

    assert result.code == 1
    errors = [line for line in result.err.splitlines() if "error" in line]
    assert len(errors) == 1, result.err
    assert "v1.1.0 (700.0 KiB), v1.2.0 (500.0 KiB), v1.3.0 (400.0 KiB)" in errors[0]
    assert "`keep: 3`" in errors[0]
    assert (old_site / "index.html").read_text() == "the site as it was"
    assert sorted(p.name for p in old_site.iterdir()) == ["download", "index.html"]
    assert sorted(p.name for p in project.iterdir()) == sorted(
        ["mkdocs.yml", "content", "theme", "public"]
    )
    assert not any(p.is_file() for p in (tmp_path / "cache").rglob("*"))  # nothing fetched

    set_plugin_options(project, keep=3)  # the suggestion works
    assert build().code == 0
    assert not (old_site / "download" / "v1.0.0").exists()


@pytest.fixture
def kept(registry: FolderRegistry, build, project: Path) -> Path:
    """Four versions built with `keep: 1`: a pre-release on top, the latest stable below it."""
    versions = ("v1.0.0", "v1.1.0", "v1.2.0", "v2.0.0-rc.1")
    for day, version in enumerate(versions, start=1):
        registry.add(
            version,
            {f"VoiceInput-{version}.zip": version.encode() * 100, "docs/manual.txt": b"manual"},
            released_at=f"2026-02-0{day}T10:00:00Z",
        )
    set_plugin_options(project, keep=1)
    result = build()
    assert result.code == 0, result.err
    return project / "public"


def test_keep_old_versions_stay_listed_without_files(kept: Path) -> None:
    """index.json keeps old versions (SHA256, size) as `hosted: false`, `path: null`; no files."""
    index = json.loads((kept / "index.json").read_text())
    hosted = {r["version"]: r.get("hosted", True) for r in index["releases"]}
    assert hosted == {"v2.0.0-rc.1": True, "v1.2.0": True, "v1.1.0": False, "v1.0.0": False}
    for record in index["releases"]:
        for entry in record["files"]:
            assert re.fullmatch(r"[0-9a-f]{64}", entry["sha256"]) and entry["size"] > 0
            if hosted[record["version"]]:
                assert entry["path"].startswith(f"download/{record['version']}/")
            else:
                assert entry["path"] is None and "url" not in entry
    assert json.loads((kept / "latest.json").read_text())["version"] == "v1.2.0"
    assert sorted(p.name for p in (kept / "download").iterdir()) == ["v1.2.0", "v2.0.0-rc.1"]
    assert (kept / "download" / "v1.2.0" / "docs" / "manual.txt").read_bytes() == b"manual"


def test_keep_old_version_pages_say_so_and_nothing_links_there(kept: Path) -> None:
    """An old version's page shows files and SHA256 without links; no page links its files."""
    page = BeautifulSoup((kept / "releases" / "v1.0.0" / "index.html").read_text(), "html.parser")
    text = page.get_text(" ")
    assert "no longer hosted here" in text
    assert "VoiceInput-v1.0.0.zip" in text
    assert re.search(r"\b[0-9a-f]{64}\b", text)
    hrefs = [a["href"] for a in page.find_all("a", href=True)]
    assert not any("download/" in h or "SHA256SUMS" in h or h.endswith(".sha256") for h in hrefs)
    assert not page.find_all("a", attrs={"download": True})
    current = (kept / "releases" / "v1.2.0" / "index.html").read_text()
    assert "no longer hosted here" not in current and "download/v1.2.0/" in current
    for path in kept.rglob("*"):  # pages, feed, JSON, _redirects
        if path.suffix in (".html", ".xml", ".json", "") and path.is_file():
            text = path.read_text(errors="replace")
            assert "download/v1.0.0" not in text and "download/v1.1.0" not in text, path
    releases = (kept / "releases" / "index.html").read_text()
    assert "v1.0.0" in releases and "v1.1.0" in releases  # still listed
