"""Stable links: `latest/download/<alias>`, old flat links, and the `_redirects` that serves them.

    files = alias_files(catalog, layout)            # {site path: bytes} behind the alias rules
    text = redirect_rules(catalog, layout)          # `_redirects`, within GitLab Pages' limits

Who reads what, and why it is built this way:
- `curl -LO …/latest/download/VoiceInput-latest.zip` saves `VoiceInput-latest.zip`, so
  `…/latest/download/VoiceInput-latest.zip.sha256` must name that alias: it leads to
  `download/<latest>/VoiceInput-latest.zip.sha256`, a line written for the alias, and
  `latest/download/SHA256SUMS` to `download/<latest>/SHA256SUMS.latest`, every latest file
  under its own name and its alias. Nothing is written under `latest/download/`: a file
  there would win over the rules (GitLab Pages serves files first).
- A project site answers at `/<project>/` on the namespace's host and, where set up, at the
  root of a custom or unique domain. Every rule is written in both forms, prefixed first.
  Without a site URL the prefix is unknown: only the unprefixed set is written (right on a
  custom or unique domain, and in `serve`), and the build says so once.
- `legacy_links`: the flat `/<project>/<file>` URLs of a hand-made Pages setup answer 301
  to `download/<version>/<file>`, the newest version first.
- GitLab Pages reads 1,000 rules and ignores a file over 64 KiB. Rules are written, and kept,
  in this order: prefixed aliases, prefixed old links, unprefixed aliases, unprefixed old
  links (old links newest version first); what does not fit is dropped from the end, so the
  unprefixed set goes first, with one warning saying what was left out.

`_redirects` is its own language, escaped by `SiteLayout.redirect_source` (a `from` is
matched against the *decoded* request path) and `SiteLayout.root_path` (a `to` is decoded
into `Location:`). `target` is the one place a rule's destination is computed.
"""

from __future__ import annotations

import logging
import posixpath
import re
from collections.abc import Set as AbstractSet
from dataclasses import dataclass

from ..catalog import Artifact, Catalog, Release, alias_name
from ..hashing import sums_line
from ..layout import SUMS_NAME, SiteLayout
from ..redirects import MAX_BYTES, MAX_RULES

log = logging.getLogger("mkdocs.plugins.downloads")

LATEST_DOWNLOAD = "latest/download"
LATEST_SUMS = f"{SUMS_NAME}.latest"  # in download/<latest>/, behind latest/download/SHA256SUMS
ALIAS_STATUS = 302  # the latest moves: never let a browser cache where it points
LEGACY_STATUS = 301  # an old flat link moved for good

_ABSOLUTE = re.compile(r"^https?://", re.IGNORECASE)
# A decoded `Location:` breaks on these; a `from` cannot hold whitespace at all.
_UNREACHABLE = re.compile(r"[\s\x00-\x1f\x7f?#%]")
# Site paths the build writes itself: an old flat link there would be shadowed by the file.
_SITE_FOLDERS = ("download", "latest", "releases", "assets", "search")


@dataclass(frozen=True, slots=True)
class Link:
    """One stable link: its site path and the site path it leads to."""

    source: str
    destination: str
    status: int


def target(layout: SiteLayout, destination: str, *, prefix: str) -> str:
    """A rule's `to`: site path `destination` under `prefix` (`""` on a custom domain).

    An absolute `http(s)://` destination (a file kept elsewhere) is used as it is: GitLab
    Pages 17.4+ redirects to other hosts with 301 and 302.
    """
    if _ABSOLUTE.match(destination):
        return layout.redirect_url(destination)
    return layout.root_path(destination, prefix=prefix)


def _home(layout: SiteLayout, release: Release, artifact: Artifact) -> str:
    """Where a link to `artifact` leads: its site path, or its absolute URL in storage."""
    location = layout.locate(release.version, artifact.name)
    return location.path if location.path is not None else location.url or ""


def _alias_sidecar(release: Release, layout: SiteLayout, alias: str) -> str:
    return layout.artifact_path(release.version, f"{alias}.sha256")


def _aliases(release: Release) -> list[tuple[str, Artifact]]:
    """`(alias, artifact)` for the files of `release`, first name wins on a clash."""
    seen: dict[str, Artifact] = {}
    for artifact in release.files:
        if artifact.name != SUMS_NAME:
            seen.setdefault(alias_name(artifact.name, release.version), artifact)
    return list(seen.items())


def alias_files(catalog: Catalog, layout: SiteLayout) -> dict[str, bytes]:
    """The files the latest aliases lead to, all in the latest version's folder."""
    latest = catalog.latest
    if latest is None or not latest.hosted:
        return {}
    names = {a.name for a in latest.files}
    out: dict[str, bytes] = {}
    for alias, artifact in _aliases(latest):
        if alias != artifact.name and f"{alias}.sha256" not in names:
            line = sums_line(artifact.sha256, posixpath.basename(alias))
            out[_alias_sidecar(latest, layout, alias)] = line.encode("utf-8")
    if LATEST_SUMS not in names:
        out[layout.artifact_path(latest.version, LATEST_SUMS)] = _latest_sums(latest)
    return out


def _latest_sums(latest: Release) -> bytes:
    """Every latest file under each name a download may be saved as: its own, its alias, and
    (for nested files, as `curl -LO` saves them) their last parts when no other file has them."""
    lines: dict[str, str] = {}
    ambiguous: set[str] = set()
    for alias, artifact in _aliases(latest):
        for name in dict.fromkeys((artifact.name, alias, posixpath.basename(artifact.name),
                                   posixpath.basename(alias))):
            if lines.setdefault(name, artifact.sha256) != artifact.sha256:
                ambiguous.add(name)
    return "".join(sums_line(digest, name) for name, digest in lines.items()
                   if name not in ambiguous).encode("utf-8")


def alias_links(catalog: Catalog, layout: SiteLayout) -> list[Link]:
    """`latest/download/<alias>` (and its `.sha256`, and `SHA256SUMS`) → the latest files."""
    latest = catalog.latest
    if latest is None or not latest.hosted:
        return []
    names = {a.name for a in latest.files}
    links: dict[str, str] = {}
    for alias, artifact in _aliases(latest):
        links.setdefault(alias, _home(layout, latest, artifact))
        if alias == artifact.name:
            links.setdefault(f"{alias}.sha256",
                             layout.artifact_path(latest.version, f"{artifact.name}.sha256"))
        elif f"{alias}.sha256" not in names:
            links.setdefault(f"{alias}.sha256", _alias_sidecar(latest, layout, alias))
    if LATEST_SUMS not in names:
        links.setdefault(SUMS_NAME, layout.artifact_path(latest.version, LATEST_SUMS))
    return [Link(f"{LATEST_DOWNLOAD}/{alias}", dest, ALIAS_STATUS)
            for alias, dest in links.items()]


def _shadowed(name: str, taken: AbstractSet[str]) -> bool:
    """Whether GitLab Pages would serve a file of the site for `/<name>` (files win)."""
    bare = name.rstrip("/")
    return name.split("/")[0] in _SITE_FOLDERS or any(
        candidate in taken for candidate in (bare, f"{bare}.html", f"{bare}/index.html"))


def legacy_links(catalog: Catalog, layout: SiteLayout, *,
                 taken: AbstractSet[str] = frozenset()) -> list[Link]:
    """The flat `/<file>` of a hand-made site → `download/<version>/<file>`, newest first.

    A name the site itself serves (`taken`: its pages and machine files) gets no link.
    """
    links: dict[str, Link] = {}
    for release in catalog.releases:
        if not release.hosted:
            continue
        for artifact in release.files:
            if artifact.name in links or _shadowed(artifact.name, taken):
                continue
            links[artifact.name] = Link(artifact.name, _home(layout, release, artifact),
                                        LEGACY_STATUS)
    return list(links.values())


def _rules(links: list[Link], layout: SiteLayout, prefix: str) -> list[str]:
    rules = []
    for link in links:
        local = not _ABSOLUTE.match(link.destination)
        if _UNREACHABLE.search(link.source) or (local and _UNREACHABLE.search(link.destination)):
            continue
        rules.append(f"{layout.redirect_source(link.source, prefix=prefix)} "
                     f"{target(layout, link.destination, prefix=prefix)} {link.status}\n")
    return rules


def redirect_rules(catalog: Catalog, layout: SiteLayout, *, legacy: bool = True,
                   taken: AbstractSet[str] = frozenset()) -> bytes:
    """`_redirects`: every stable link in both forms, the most useful first, within limits.

    `taken`: the site's own paths, which an old flat link must not name.
    """
    prefix = layout.prefix
    forms = [prefix, ""] if prefix else [""]
    groups: list[tuple[str, list[Link]]] = [("latest/download", alias_links(catalog, layout))]
    if legacy:
        groups.append(("old flat link", legacy_links(catalog, layout, taken=taken)))
    sets = [(what, form, _rules(links, layout, form)) for form in forms for what, links in groups]
    skipped = sum(len(links) for _, links in groups) * len(forms) - sum(len(r) for *_, r in sets)
    if skipped:
        log.warning("_redirects: %d links left out: their file names hold a space, control "
                    "character, '?', '#' or '%%', which GitLab Pages cannot redirect", skipped)
    kept: dict[tuple[str, str], list[str]] = {}
    count = size = 0
    dropped: list[str] = []
    for what, form, rules in sets:  # in order of worth: what does not fit goes from the end
        fits = kept[what, form] = []
        for rule in rules:
            if count == MAX_RULES or size + len(rule.encode()) > MAX_BYTES:
                break
            fits.append(rule)
            count, size = count + 1, size + len(rule.encode())
        if len(fits) < len(rules):
            where = f"under {form}/" if form else "without a prefix"
            dropped.append(f"{len(rules) - len(fits)} {what} rules {where}")
            size = MAX_BYTES + 1  # full: no shorter rule after this may slip in
    if dropped:
        log.warning("_redirects is full (GitLab Pages reads 1,000 rules or 64 KiB): left out %s",
                    ", ".join(dropped))
    return "".join(rule for what, form, _ in sets for rule in kept[what, form]).encode("utf-8")
