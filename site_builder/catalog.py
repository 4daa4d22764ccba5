"""The catalogue: which versions are published, in which order, and which one is latest.

Pure functions over frozen values; nothing here does I/O. A source (GitLab, a local folder)
returns `PackageVersion` rows as the registry holds them; `build_catalog` turns them into a
`Catalog` that the fetcher and the renderer share:

    versions = source.versions("VoiceInput")
    catalog = build_catalog(versions, package="VoiceInput", keep=20)
    catalog.latest.version          # "v1.2.0"
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

import semver

from .boundary import admit, check_distinct_names

PUBLISHED_STATUS = "default"
GENERIC = "generic"
# A version's checksum list and its signature: the site's own files, not downloads.
SUMS_NAME = "SHA256SUMS"
SUMS_SIGNATURE_NAME = "SHA256SUMS.minisig"
SIGNING_NAMES = frozenset({SUMS_NAME, SUMS_SIGNATURE_NAME})

# `stable`: SemVer without a pre-release part; `prerelease`: SemVer with one (`v2.0.0-rc.1`);
# `build`: not SemVer at all (`nightly-20260115`), listed but never anyone's "latest".
Channel = Literal["stable", "prerelease", "build"]
CHANNELS: tuple[Channel, ...] = ("stable", "prerelease", "build")


@dataclass(frozen=True, slots=True)
class Artifact:
    """One file of a version: its decoded relative path, size and the registry's SHA256."""

    name: str
    size: int
    sha256: str
    file_id: int = 0  # the registry's row id; among duplicate names the highest is served
    uploaded_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class PackageVersion:
    """One package version exactly as a source lists it, before any filtering."""

    package: str
    version: str
    created_at: datetime
    files: tuple[Artifact, ...]
    status: str = PUBLISHED_STATUS
    package_type: str = GENERIC
    notes: str = ""  # Markdown, from the GitLab Release of the same tag


@dataclass(frozen=True, slots=True)
class Release:
    """A published version: deduplicated files, ordered position, channel and hosting."""

    package: str
    version: str
    released_at: datetime
    files: tuple[Artifact, ...]
    notes: str = ""
    channel: Channel = "stable"
    hosted: bool = True  # False when `keep` dropped its files from the site
    # The registry's own SHA256SUMS and its minisign signature, kept out of `files`;
    # `signed` is True only once the build verified them against the site's public key.
    sums: Artifact | None = None
    signature: Artifact | None = None
    signed: bool = False

    @property
    def prerelease(self) -> bool:
        """True for every release that is not stable, builds included: what updaters filter on."""
        return self.channel != "stable"

    @property
    def semver(self) -> bool:
        return self.channel != "build"

    @property
    def total_size(self) -> int:
        return sum(f.size for f in self.files)


@dataclass(frozen=True, slots=True)
class Catalog:
    """Every published release of one package, newest first, with its two channels."""

    package: str
    releases: tuple[Release, ...]
    latest: Release | None = None
    latest_prerelease: Release | None = None
    warnings: tuple[str, ...] = ()

    def hosted_artifacts(self) -> Iterable[tuple[Release, Artifact]]:
        for release in self.releases:
            if release.hosted:
                for artifact in release.files:
                    yield release, artifact

    def signing_artifacts(self) -> Iterable[tuple[Release, Artifact]]:
        """Every release's SHA256SUMS and signature from the registry, hosted or not."""
        for release in self.releases:
            for artifact in (release.sums, release.signature):
                if artifact is not None:
                    yield release, artifact


def channel_of(version: str) -> Channel:
    """The channel a version string belongs to (see `Channel`)."""
    parsed = parse_version(version)
    if parsed is None:
        return "build"
    return "prerelease" if parsed.prerelease else "stable"


def neighbours(releases: Iterable[Release]) -> dict[str, tuple[Release | None, Release | None]]:
    """`{version: (older, newer)}` within each release's own channel, for "previous/next" links.

    `releases` is newest first, as `Catalog.releases` is; a nightly's neighbours are nightlies.
    """
    by_channel: dict[str, list[Release]] = {}
    for release in releases:
        by_channel.setdefault(release.channel, []).append(release)
    out: dict[str, tuple[Release | None, Release | None]] = {}
    for lane in by_channel.values():
        for i, release in enumerate(lane):
            older = lane[i + 1] if i + 1 < len(lane) else None
            out[release.version] = (older, lane[i - 1] if i > 0 else None)
    return out


def parse_version(version: str) -> semver.Version | None:
    """SemVer 2.0 value of `version` with one leading `v` ignored; None when it is not SemVer."""
    text = version[1:] if version[:1] in ("v", "V") else version
    try:
        return semver.Version.parse(text)
    except (ValueError, TypeError):
        return None


def alias_name(file_name: str, version: str) -> str:
    """`VoiceInput-v1.2.0.zip` of `v1.2.0` → `VoiceInput-latest.zip`; names without it stay."""
    bare = version[1:] if version[:1] in ("v", "V") else version
    for written in dict.fromkeys((version, bare)):
        pattern = rf"(?<![0-9A-Za-z]){re.escape(written)}(?![0-9A-Za-z]|\.[0-9])"
        renamed, count = re.subn(pattern, "latest", file_name)
        if count:
            return renamed
    return file_name


def _newest_files(files: Iterable[Artifact]) -> tuple[Artifact, ...]:
    """Duplicates are additive in GitLab; the newest upload (highest id) is the one served."""
    newest: dict[str, Artifact] = {}
    for artifact in files:
        kept = newest.get(artifact.name)
        if kept is None or artifact.file_id >= kept.file_id:
            newest[artifact.name] = artifact
    return tuple(sorted(newest.values(), key=lambda a: a.name))


def _order_key(release: Release) -> tuple[object, ...]:
    parsed = parse_version(release.version)
    if parsed is None:
        return (0, release.released_at, release.version)
    return (1, parsed, release.released_at)


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def build_catalog(
    versions: Iterable[PackageVersion],
    *,
    package: str,
    prereleases: bool = True,
    keep: int | None = None,
) -> Catalog:
    """Filter, merge, order and classify a source's rows into the published catalogue.

    Only `generic` packages named exactly `package` with status `default` are published,
    and each of their rows passes the source boundary (`boundary.admit`) first.
    Versions sort by SemVer precedence (leading `v` ignored); the rest sort below, by
    upload time, each with a warning. With `keep`, only the newest `keep` releases (and
    always both channel heads) keep their files on the site.
    """
    merged: dict[str, PackageVersion] = {}
    for row in versions:
        if row.package_type != GENERIC or row.package != package:
            continue
        if row.status != PUBLISHED_STATUS:
            continue
        row = admit(row)
        seen = merged.get(row.version)
        if seen is None:
            merged[row.version] = row
        else:  # two packages of one version: GitLab serves the union, newest file wins
            merged[row.version] = dataclasses.replace(
                seen,
                created_at=max(_utc(seen.created_at), _utc(row.created_at)),
                files=seen.files + row.files,
                notes=seen.notes or row.notes,
            )

    warnings: list[str] = []
    releases: list[Release] = []
    for row in merged.values():
        files = _newest_files(row.files)
        check_distinct_names(package, row.version, (f.name for f in files))
        parsed = parse_version(row.version)
        if parsed is None:
            warnings.append(
                f"version {row.version!r} is not Semantic Versioning; "
                "it is listed below every SemVer version, ordered by upload time"
            )
        channel = channel_of(row.version)
        if channel != "stable" and not prereleases:
            continue
        by_name = {a.name: a for a in files}
        releases.append(
            Release(
                package=package,
                version=row.version,
                released_at=_utc(row.created_at),
                files=tuple(a for a in files if a.name not in SIGNING_NAMES),
                notes=row.notes,
                channel=channel,
                sums=by_name.get(SUMS_NAME),
                signature=by_name.get(SUMS_SIGNATURE_NAME),
            )
        )
    releases.sort(key=_order_key, reverse=True)

    latest_index = next((i for i, r in enumerate(releases) if r.channel == "stable"), None)
    latest = releases[latest_index] if latest_index is not None else None
    above_latest = releases if latest_index is None else releases[:latest_index]
    latest_prerelease = next((r for r in above_latest if r.channel == "prerelease"), None)

    if keep is not None:
        heads = {r.version for r in (latest, latest_prerelease) if r is not None}
        releases = [
            r if i < keep or r.version in heads else dataclasses.replace(r, hosted=False)
            for i, r in enumerate(releases)
        ]
        latest = next((r for r in releases if latest and r.version == latest.version), None)
        latest_prerelease = next(
            (r for r in releases if latest_prerelease and r.version == latest_prerelease.version),
            None,
        )

    return Catalog(
        package=package,
        releases=tuple(releases),
        latest=latest,
        latest_prerelease=latest_prerelease,
        warnings=tuple(sorted(warnings)),
    )
