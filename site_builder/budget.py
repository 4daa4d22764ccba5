"""GitLab Pages' limits: will the site fit, checked from the catalogue before anything is fetched.

A Pages site is at most 100 MB on a self-managed instance by default (an admin can change
it), 1 GB on GitLab.com, and 200,000 file entries everywhere. A site that carries its
artifacts grows with every release, so the build refuses, before downloading or writing a
byte, a site that would not deploy, and says which versions weigh most and which `keep`
would fit:

    check_budget(catalog, max_bytes=parse_size("100MB"))   # raises BudgetError or returns
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from .catalog import Catalog, Release
from .errors import BudgetError, ConfigError
from .render.pages import human_size

PAGES_MAX_FILES = 200_000  # `pages_file_entries`: files, folders and symlinks

# What the site holds besides the artifacts, estimated generously (a sample site with six
# versions weighs 2.7 MB and 120 entries): Material's assets, the search index, the
# machine files; and per version its page, search entry, JSON records and checksum files.
SITE_BYTES = 8 * 1024**2
SITE_FILES = 500
RELEASE_BYTES = 64 * 1024
# releases/<v>/, its index.html and that page's .gz and .br; download/<v>/, SHA256SUMS and
# its compressed copies (written once it passes 512 bytes)
RELEASE_FILES = 8
ARTIFACT_FILES = 2  # the file and its .sha256

_UNITS = {
    "": 1, "b": 1,
    "kb": 1000, "mb": 1000**2, "gb": 1000**3, "tb": 1000**4,
    "kib": 1024, "mib": 1024**2, "gib": 1024**3, "tib": 1024**4,
}
_SIZE = re.compile(r"\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*", re.IGNORECASE)


def parse_size(value: object, *, what: str = "max_site_size") -> int:
    """Bytes from `1048576`, `"100MB"` (SI, 10**6) or `"1GiB"` (binary, 2**30)."""
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return value
    match = _SIZE.fullmatch(value) if isinstance(value, str) else None
    unit = _UNITS.get(match.group(2).lower()) if match else None
    if match is None or unit is None or float(match.group(1)) <= 0:
        raise ConfigError(
            f"{what} {value!r} is not a size: write bytes (104857600) or a number with a "
            "unit, e.g. 100MB or 1GiB"
        )
    return int(float(match.group(1)) * unit)


@dataclass(frozen=True, slots=True)
class SiteEstimate:
    """What a site with a given set of hosted releases would weigh on GitLab Pages."""

    artifact_bytes: int
    bytes: int
    files: int

    @classmethod
    def of(cls, releases: Sequence[Release], hosted: Sequence[Release]) -> SiteEstimate:
        artifact_bytes = sum(r.total_size for r in hosted)
        return cls(
            artifact_bytes=artifact_bytes,
            bytes=SITE_BYTES + RELEASE_BYTES * len(releases) + artifact_bytes,
            files=SITE_FILES
            + RELEASE_FILES * len(releases)
            + sum(ARTIFACT_FILES * len(r.files) for r in hosted),
        )

    def fits(self, *, max_bytes: int, max_files: int = PAGES_MAX_FILES) -> bool:
        return self.bytes <= max_bytes and self.files <= max_files


def hosted_with_keep(catalog: Catalog, keep: int) -> list[Release]:
    """The releases `keep: N` would host: the newest N, and both channel heads always."""
    heads = {r.version for r in (catalog.latest, catalog.latest_prerelease) if r is not None}
    return [r for i, r in enumerate(catalog.releases) if i < keep or r.version in heads]


def largest_fitting_keep(catalog: Catalog, *, max_bytes: int) -> int | None:
    """The largest `keep` whose site fits, or None when not even `keep: 1` does."""
    releases = catalog.releases
    fitting = None
    for keep in range(1, len(releases) + 1):
        if not SiteEstimate.of(releases, hosted_with_keep(catalog, keep)).fits(
            max_bytes=max_bytes
        ):
            break
        fitting = keep
    return fitting


def check_budget(catalog: Catalog, *, max_bytes: int, artifacts_on_pages: bool = True) -> None:
    """Raise BudgetError, naming the heaviest versions and a `keep` that fits, if too big.

    With the artifacts in object storage (`artifacts_on_pages=False`) only the pages count.
    """
    releases = catalog.releases
    hosted = [r for r in releases if r.hosted and artifacts_on_pages]
    estimate = SiteEstimate.of(releases, hosted)
    if estimate.fits(max_bytes=max_bytes):
        return
    if not SiteEstimate.of(releases, []).fits(max_bytes=max_bytes):
        raise BudgetError(
            f"max_site_size {human_size(max_bytes)} is less than the pages alone need "
            f"(about {human_size(SiteEstimate.of(releases, []).bytes)}): raise max_site_size "
            "in mkdocs.yml to your GitLab's Pages limit (100MB self-managed default, 1GB on "
            "GitLab.com)"
        )
    if estimate.files > PAGES_MAX_FILES:
        problem = (
            f"the site would hold about {estimate.files:,} files, over GitLab Pages' "
            f"limit of {PAGES_MAX_FILES:,}"
        )
    else:
        total, limit = human_size(estimate.bytes), human_size(max_bytes)
        if total == limit:  # rounded alike: show what differs
            total, limit = f"{estimate.bytes:,} bytes", f"{max_bytes:,} bytes"
        problem = (
            f"the site would need about {total} ({human_size(estimate.artifact_bytes)} of "
            f"artifacts), over max_site_size {limit}"
        )
    heaviest = sorted(hosted, key=lambda r: r.total_size, reverse=True)[:3]
    named = ", ".join(f"{r.version} ({human_size(r.total_size)})" for r in heaviest)
    keep = largest_fitting_keep(catalog, max_bytes=max_bytes)
    if keep is not None:
        advice = (
            f"set `keep: {keep}` under the downloads plugin in mkdocs.yml to host only the "
            f"newest {keep} version(s); older ones stay listed with their SHA256"
        )
    else:
        advice = (
            "even `keep: 1` does not fit: make the latest version's files smaller, or raise "
            "max_site_size if your GitLab's Pages limit allows it"
        )
    raise BudgetError(f"{problem}; the largest hosted versions are {named}; {advice}")
