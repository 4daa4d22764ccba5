"""The human-readable half of the site: landing, release list and one page per version.

MkDocs + Material supply the frame (navigation, search, palette); this module supplies the
body of each generated page as HTML, rendered by Jinja with autoescaping on, so nothing from
the registry reaches a page unescaped. `page_sources` names the generated pages;
`PageRenderer.body(src_uri)` returns the HTML MkDocs puts inside the frame.
"""

from __future__ import annotations

import json
import posixpath
import re
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from typing import Any

import jinja2

from ..catalog import Artifact, Catalog, Release
from ..layout import SiteLayout, relative_href
from .notes import notes_html

LANDING = "index.md"
RELEASES = "releases/index.md"

_OS_WORDS = {
    "windows": ("windows", "win32", "win64", "win", "msi", "exe"),
    "macos": ("macos", "mac", "darwin", "osx", "dmg", "pkg"),
    "linux": ("linux", "deb", "rpm", "appimage"),
}
_ARCH_WORDS = {
    "x64": ("x64", "amd64", "x86_64", "win64"),
    "arm64": ("arm64", "aarch64"),
    "x86": ("x86", "i386", "i686", "win32"),
}


def platform_of(file_name: str) -> tuple[str, str]:
    """The (os, arch) a file name is for, from its words; `""` where it does not say."""
    words = set(re.split(r"[^a-z0-9_]+|_", file_name.lower()))

    def find(table: dict[str, tuple[str, ...]]) -> str:
        return next((key for key, names in table.items() if words & set(names)), "")

    return find(_OS_WORDS), find(_ARCH_WORDS)


def human_size(size: int) -> str:
    """1048576 → `1.0 MiB`; bytes below 1 KiB stay exact."""
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if value < 1024 or unit == "TiB":
            return f"{size} B" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


def human_date(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d")


def version_page_source(version: str) -> str:
    return f"releases/{version}/index.md"


def page_sources(catalog: Catalog) -> dict[str, str]:
    """Generated Markdown sources: their front matter gives MkDocs a title; bodies come later."""
    titles = {LANDING: f"{catalog.package} downloads", RELEASES: "All releases"}
    for release in catalog.releases:
        titles[version_page_source(release.version)] = f"{release.package} {release.version}"
    # JSON strings are valid YAML scalars, so any title is quoted safely.
    return {
        src: f"---\ntitle: {json.dumps(title)}\n---\n" for src, title in titles.items()
    }


@dataclass(frozen=True, slots=True)
class FileView:
    """One artifact as a page shows it."""

    name: str
    href: str
    sha256: str
    size: str
    bytes: int
    checksum_href: str | None
    os: str
    arch: str


class PageRenderer:
    """Renders generated page bodies for one catalogue and layout."""

    def __init__(self, catalog: Catalog, layout: SiteLayout, *, description: str = "") -> None:
        self.catalog = catalog
        self.layout = layout
        self.description = description
        self._by_source = {version_page_source(r.version): r for r in catalog.releases}

    @cached_property
    def env(self) -> jinja2.Environment:
        env = jinja2.Environment(
            loader=jinja2.PackageLoader("site_builder", "templates"),
            autoescape=True,
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        env.filters["size"] = human_size
        env.filters["date"] = human_date
        return env

    def is_generated(self, src_uri: str) -> bool:
        return src_uri in (LANDING, RELEASES) or src_uri in self._by_source

    def body(self, src_uri: str) -> str:
        page_dir = posixpath.dirname(src_uri)
        if src_uri == LANDING:
            return self._render("landing.html", page_dir)
        if src_uri == RELEASES:
            return self._render("releases.html", page_dir)
        release = self._by_source[src_uri]
        newer, older = self.catalog.neighbours(release)
        return self._render("release.html", page_dir, release=release, newer=newer, older=older)

    def _render(self, template: str, page_dir: str, **extra: Any) -> str:
        def href(path: str) -> str:
            return relative_href(page_dir, path)

        def files(release: Release) -> list[FileView]:
            return [self._file_view(release, a, href) for a in release.files]

        return self.env.get_template(template).render(
            catalog=self.catalog,
            latest=self.catalog.latest,
            prerelease=self.catalog.latest_prerelease,
            description=self.description,
            layout=self.layout,
            href=href,
            files=files,
            notes=lambda release: notes_html(release.notes),
            **extra,
        )

    def _file_view(self, release: Release, artifact: Artifact, href: Any) -> FileView:
        path = self.layout.artifact_path(release.version, artifact.name)
        os_name, arch = platform_of(artifact.name)
        return FileView(
            name=artifact.name,
            href=href(path) if release.hosted else "",
            sha256=artifact.sha256,
            size=human_size(artifact.size),
            bytes=artifact.size,
            checksum_href=href(path + ".sha256") if release.hosted else None,
            os=os_name,
            arch=arch,
        )
