"""The catalogue: which versions are published, their order, channels and files."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from site_builder.boundary import check_relative_path
from site_builder.catalog import (
    Artifact,
    PackageVersion,
    alias_name,
    build_catalog,
    neighbours,
)
from site_builder.errors import UnsafePathError

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def row(version: str, *, day: int = 0, status: str = "default", package: str = "App",
        package_type: str = "generic", files: tuple[Artifact, ...] = ()) -> PackageVersion:
    files = files or (Artifact(f"App-{version}.zip", 10, "a" * 64),)
    return PackageVersion(package=package, version=version, created_at=T0 + timedelta(days=day),
                          files=files, status=status, package_type=package_type)


def versions(catalog) -> list[str]:
    return [r.version for r in catalog.releases]


def test_semver_precedence_not_string_order() -> None:
    """v1.10.0 sorts above v1.9.0, and a release above its release candidate."""
    catalog = build_catalog(
        [row("v1.9.0"), row("v1.10.0"), row("v2.0.0-rc.1"), row("v2.0.0"), row("v2.0.0-rc.2")],
        package="App",
    )
    assert versions(catalog) == ["v2.0.0", "v2.0.0-rc.2", "v2.0.0-rc.1", "v1.10.0", "v1.9.0"]


def test_leading_v_is_ignored_when_comparing() -> None:
    """`1.2.0` and `v1.10.0` compare as SemVer values, whatever their prefix."""
    catalog = build_catalog([row("1.2.0"), row("v1.10.0"), row("v1.3.0")], package="App")
    assert versions(catalog) == ["v1.10.0", "v1.3.0", "1.2.0"]


def test_prerelease_is_never_latest() -> None:
    """latest skips pre-releases; latest_prerelease is the highest one above it."""
    catalog = build_catalog([row("v1.0.0"), row("v1.1.0-beta.1"), row("v1.1.0-rc.1")],
                            package="App")
    assert catalog.latest is not None and catalog.latest.version == "v1.0.0"
    assert catalog.latest_prerelease is not None
    assert catalog.latest_prerelease.version == "v1.1.0-rc.1"


def test_no_latest_prerelease_below_latest() -> None:
    """A pre-release older than the latest stable is not offered as the preview."""
    catalog = build_catalog([row("v1.0.0-rc.1"), row("v1.0.0")], package="App")
    assert catalog.latest_prerelease is None


def test_non_semver_sorts_last_by_upload_time_with_a_warning() -> None:
    """Non-SemVer versions go below every SemVer one, newest upload first, and are named."""
    catalog = build_catalog(
        [row("nightly-b", day=5), row("v0.1.0", day=1), row("nightly-a", day=9)], package="App"
    )
    assert versions(catalog) == ["v0.1.0", "nightly-a", "nightly-b"]
    assert any("nightly-a" in w for w in catalog.warnings)
    assert any("nightly-b" in w for w in catalog.warnings)


def test_only_default_status_exact_name_generic() -> None:
    """hidden/error/processing rows, other names and other package types are never published."""
    rows = [
        row("v1.0.0"),
        row("v1.1.0", status="hidden"),
        row("v1.2.0", status="error"),
        row("v1.3.0", status="processing"),
        row("v1.4.0", status="pending_destruction"),
        row("v1.5.0", package="App-extras"),
        row("v1.6.0", package_type="maven"),
    ]
    assert versions(build_catalog(rows, package="App")) == ["v1.0.0"]


def test_newest_duplicate_file_wins() -> None:
    """Of several uploads of one file name, the highest registry id is published."""
    files = (Artifact("App.zip", 1, "1" * 64, file_id=7), Artifact("App.zip", 2, "2" * 64,
             file_id=9), Artifact("App.zip", 3, "3" * 64, file_id=8))
    release = build_catalog([row("v1.0.0", files=files)], package="App").releases[0]
    assert [(a.name, a.sha256[0]) for a in release.files] == [("App.zip", "2")]


def test_prereleases_false_hides_them() -> None:
    """With `prereleases: false` no pre-release is listed or offered."""
    catalog = build_catalog([row("v1.0.0"), row("v2.0.0-rc.1")], package="App", prereleases=False)
    assert versions(catalog) == ["v1.0.0"] and catalog.latest_prerelease is None


def test_keep_unhosts_older_but_never_the_latest() -> None:
    """`keep: 1` hosts only the newest, plus the latest stable when a pre-release is newest."""
    catalog = build_catalog([row("v1.0.0"), row("v1.1.0"), row("v2.0.0-rc.1")], package="App",
                            keep=1)
    hosted = {r.version: r.hosted for r in catalog.releases}
    assert hosted == {"v2.0.0-rc.1": True, "v1.1.0": True, "v1.0.0": False}


@pytest.mark.parametrize(
    ("name", "version", "alias"),
    [
        ("VoiceInput-v1.2.0.zip", "v1.2.0", "VoiceInput-latest.zip"),
        ("VoiceInput-1.2.0-linux-x64.tar.gz", "v1.2.0", "VoiceInput-latest-linux-x64.tar.gz"),
        ("VoiceInput.zip", "v1.2.0", "VoiceInput.zip"),
        ("app-v1.2.0.1.zip", "v1.2.0", "app-v1.2.0.1.zip"),
    ],
)
def test_alias_names(name: str, version: str, alias: str) -> None:
    """The version in a file name (with or without `v`) becomes `latest`."""
    assert alias_name(name, version) == alias


@pytest.mark.parametrize(
    "name", ["../evil.zip", "a/../../b", "/etc/passwd", "a\\b.zip", "bad\nname", "C:/x", "a//b", ""]
)
def test_escaping_names_are_refused(name: str) -> None:
    """A name that could land outside its folder raises UnsafePathError naming it."""
    with pytest.raises(UnsafePathError, match="refusing"):
        check_relative_path(name)


def test_escaping_version_is_refused() -> None:
    """A version is a path segment too: `..` is refused while building the catalogue."""
    with pytest.raises(UnsafePathError, match=r"'\.\.'"):
        build_catalog([row("..")], package="App")


def test_channels_and_their_neighbours() -> None:
    """Stable, pre-release, build; a build is never latest; neighbours stay in a channel."""
    catalog = build_catalog(
        [row("v1.0.0", day=1), row("nightly-1", day=2), row("v1.1.0-rc.1", day=3),
         row("v1.1.0", day=4), row("nightly-2", day=5)],
        package="App",
    )
    channels = {r.version: (r.channel, r.prerelease) for r in catalog.releases}
    assert channels == {
        "v1.1.0": ("stable", False), "v1.1.0-rc.1": ("prerelease", True),
        "v1.0.0": ("stable", False), "nightly-2": ("build", True), "nightly-1": ("build", True),
    }
    assert catalog.latest is not None and catalog.latest.version == "v1.1.0"
    lanes = {v: (o and o.version, n and n.version)
             for v, (o, n) in neighbours(catalog.releases).items()}
    assert lanes["nightly-1"] == (None, "nightly-2")
    assert lanes["v1.0.0"] == (None, "v1.1.0")
    assert lanes["v1.1.0-rc.1"] == (None, None)
    only_builds = build_catalog([row("nightly-1"), row("nightly-2", day=1)], package="App")
    assert only_builds.latest is None and only_builds.latest_prerelease is None
    rows = [row("v1.0.0"), row("nightly-1"), row("v2.0.0-rc.1")]
    assert versions(build_catalog(rows, package="App", prereleases=False)) == ["v1.0.0"]
