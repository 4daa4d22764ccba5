"""The machine-readable half of the site: JSON indexes, checksum files, feed, redirects.

Stable links (`latest/download/…`, old flat links, `_redirects`) are built in `links.py`.

`machine_files(catalog, layout)` returns `{site path: bytes}` and touches nothing else, so
every format is testable without a build. Shapes are fixed by SPEC.md.
"""

from __future__ import annotations

import json
import logging
import posixpath
import re
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from markupsafe import escape

from ..catalog import Catalog, Release
from ..hashing import sums_line
from ..layout import SiteLayout, url_path
from .links import alias_files, redirect_rules
from .notes import notes_html

log = logging.getLogger("mkdocs.plugins.downloads")

ATOM = "http://www.w3.org/2005/Atom"
# Characters XML 1.0 cannot carry at all, escaped or not; ElementTree would write them raw.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def release_record(release: Release, layout: SiteLayout) -> dict[str, Any]:
    """One release as `latest.json` and each `index.json` entry carry it."""
    files = []
    for artifact in release.files:
        entry: dict[str, Any] = {"name": artifact.name}
        if release.hosted:
            location = layout.locate(release.version, artifact.name)
            entry["path"] = location.path
            if location.url:
                entry["url"] = location.url
            if location.hosted:
                entry["hosted"] = location.hosted
        else:
            entry["path"] = None
        entry["size"] = artifact.size
        entry["sha256"] = artifact.sha256
        files.append(entry)
    record: dict[str, Any] = {
        "package": release.package,
        "version": release.version,
        "channel": release.channel,
        "prerelease": release.prerelease,
        "released_at": iso(release.released_at),
        "page": layout.page_path(release.version),
        "files": files,
    }
    if not release.hosted:
        record["hosted"] = False
    record.update(signature_fields(release, layout))
    return record


def signature_fields(release: Release, layout: SiteLayout) -> dict[str, Any]:
    """Where the release's minisign signature is on the site (or null), and whether the build
    verified it with the site's public key."""
    fields: dict[str, Any] = {"signature": None}
    if release.hosted and release.signature is not None:
        fields["signature"] = path = layout.signature_path(release.version)
        if url := layout.url(path):
            fields["signature_url"] = url
    fields["signed"] = release.signed
    return fields


def _json(value: Any) -> bytes:
    return (json.dumps(value, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def sums_text(entries: Iterable[tuple[str, str]]) -> bytes:
    """A `SHA256SUMS` of `(sha256, name)` pairs, in the order given."""
    return "".join(sums_line(sha256, name) for sha256, name in entries).encode("utf-8")


def checksum_files(release: Release, layout: SiteLayout) -> dict[str, bytes]:
    """`SHA256SUMS` for the version folder and a `<file>.sha256` beside every file.

    A registry file that already has one of these names is published as it is and wins:
    it is the team's own, and overwriting it would change bytes they uploaded. The
    registry's `SHA256SUMS` (signed, or checked against the files) is placed from the cache.
    """
    names = {a.name for a in release.files}
    out: dict[str, bytes] = {}
    if release.sums is None:
        out[layout.sums_path(release.version)] = sums_text(
            (a.sha256, a.name) for a in release.files)
    for artifact in release.files:
        sidecar = f"{artifact.name}.sha256"
        if sidecar in names:
            continue
        # Basename only: users check the sidecar next to the file they downloaded.
        line = sums_line(artifact.sha256, posixpath.basename(artifact.name))
        out[layout.artifact_path(release.version, sidecar)] = line.encode("utf-8")
    return out


def latest_page(catalog: Catalog, layout: SiteLayout) -> bytes:
    """`latest/index.html`: sends a browser on to the latest version's page, JS or not."""
    if catalog.latest is None:
        target, label = "../releases/", "all releases"
    else:
        target = "../" + url_path(layout.page_path(catalog.latest.version))
        label = f"{catalog.package} {catalog.latest.version}"
    href, text = escape(target), escape(label)
    html = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>Latest release: {text}</title>
<meta name="viewport" content="width=device-width,initial-scale=1">
<meta http-equiv="refresh" content="0; url={href}">
<link rel="canonical" href="{href}">
<meta name="robots" content="noindex">
</head><body>
<p>The latest release is <a href="{href}">{text}</a>.</p>
<script>location.replace(document.querySelector("link[rel=canonical]").href)</script>
</body></html>
"""
    return html.encode("utf-8")


_CHANNEL_NOTE = {"stable": "", "prerelease": " (pre-release)", "build": " (build)"}
_FEED_NAMESPACE = uuid.UUID("5b7c1d3e-8f0a-4c2b-9d6e-1a2b3c4d5e6f")  # site-builder's feeds


def feed_urn(package: str, version: str | None = None) -> str:
    """An Atom id from package (and version) alone: moving the site to another host, or
    building without a site URL, never makes a feed reader see every release as new."""
    name = package if version is None else f"{package}\n{version}"
    return uuid.uuid5(_FEED_NAMESPACE, name).urn


def atom_feed(catalog: Catalog, layout: SiteLayout) -> bytes:
    """An Atom entry per release, newest first, notes as escaped HTML."""
    ET.register_namespace("", ATOM)
    feed = ET.Element(f"{{{ATOM}}}feed")

    def sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
        node = ET.SubElement(parent, f"{{{ATOM}}}{tag}", attrs)
        node.text = None if text is None else _NOT_XML.sub("\ufffd", text)
        return node

    def link(path: str) -> str:
        return layout.url(path) or url_path(path)

    feed_id = feed_urn(catalog.package)
    sub(feed, "title", f"{catalog.package} releases")
    sub(feed, "id", feed_id)
    newest = max((r.released_at for r in catalog.releases), default=datetime.now(UTC))
    sub(feed, "updated", iso(newest))
    sub(feed, "link", rel="self", href=link("feed.xml"))
    sub(feed, "link", rel="alternate", type="text/html", href=link("releases/"))
    sub(sub(feed, "author"), "name", catalog.package)
    for release in catalog.releases:
        entry = sub(feed, "entry")
        page = layout.page_path(release.version)
        title = f"{release.package} {release.version}"
        sub(entry, "title", title + _CHANNEL_NOTE[release.channel])
        sub(entry, "id", feed_urn(release.package, release.version))
        sub(entry, "updated", iso(release.released_at))
        sub(entry, "published", iso(release.released_at))
        sub(entry, "link", rel="alternate", type="text/html", href=link(page))
        summary = notes_html(release.notes) if release.notes else f"<p>{title}</p>"
        sub(entry, "content", summary, type="html")
    ET.indent(feed)
    return ET.tostring(feed, encoding="utf-8", xml_declaration=True) + b"\n"


def machine_files(
    catalog: Catalog,
    layout: SiteLayout,
    *,
    legacy_links: bool = True,
    existing: frozenset[str] = frozenset(),
) -> dict[str, bytes]:
    """Every file of the output tree that is not an HTML page or an artifact.

    `existing`: site paths already written (pages, assets); with these files an old flat
    link that a file would shadow gets no rule.
    """
    out = machine_files_but_redirects(catalog, layout)
    out["_redirects"] = redirect_rules(catalog, layout, legacy=legacy_links,
                                       taken=existing | out.keys())
    return out


def machine_files_but_redirects(catalog: Catalog, layout: SiteLayout) -> dict[str, bytes]:
    """`machine_files` but `_redirects`, the one that depends on what else the site holds:
    these can be written before the pages are."""
    out: dict[str, bytes] = {}
    for release in catalog.releases:
        if release.hosted:
            out.update(checksum_files(release, layout))
    latest = catalog.latest
    out["latest.json"] = _json(release_record(latest, layout) if latest else None)
    out["latest.txt"] = f"{latest.version}\n".encode() if latest else b""
    out["index.json"] = _json(
        {
            "package": catalog.package,
            "latest": latest.version if latest else None,
            "latest_prerelease": (
                catalog.latest_prerelease.version if catalog.latest_prerelease else None
            ),
            "releases": [release_record(r, layout) for r in catalog.releases],
        }
    )
    out["feed.xml"] = atom_feed(catalog, layout)
    out.update(alias_files(catalog, layout))
    out["latest/index.html"] = latest_page(catalog, layout)
    return out
