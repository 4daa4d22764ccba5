"""The human-readable half of the site: landing, release list and one page per version.

MkDocs + Material supply the frame (navigation, search, palette); this module supplies the
body of each generated page as HTML, rendered by Jinja with autoescaping on, so nothing from
the registry reaches a page unescaped. `page_sources` names the generated pages;
`PageRenderer.body(src_uri)` returns the HTML MkDocs puts inside the frame.

The landing page's download button is chosen in the browser (assets/downloads.js) from
data this module puts on each file row: `platform_of` reads the OS and CPU from the file
name, `rank_of` says how good a main download the file is, `verify_commands` spells out
the checksum command for each OS. Without JavaScript the page still lists every file.
"""

from __future__ import annotations

import json
import posixpath
import re
import shlex
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from importlib import resources
from typing import Any

import jinja2
from markupsafe import Markup, escape

from ..catalog import Artifact, Catalog, Release, alias_name, neighbours
from ..layout import SiteLayout, relative_href
from ..signing import PUBLIC_KEY_NAME, PublicKey, trusted_comment
from .machine import iso, sums_text
from .notes import notes_html

_PS_QUOTES = re.compile("['\u2018\u2019\u201a\u201b]")

LANDING = "index.md"
RELEASES = "releases/index.md"
# The pages' own CSS and JS, shipped in the package and added to every site by the plugin.
STYLESHEET = "assets/downloads/downloads.css"
SCRIPT = "assets/downloads/downloads.js"
# hash-wasm's SHA-256 (MIT, npm `hash-wasm` 4.13.0, dist/sha256.umd.min.js), loaded only by
# the "check a file" section: streaming SHA-256, which WebCrypto lacks. Shipped with its licence.
HASHER = "assets/downloads/sha256.umd.min.js"
HASHER_LICENSE = "assets/downloads/hash-wasm-LICENSE.txt"

_OS_WORDS = {
    "windows": ("windows", "win32", "win64", "win", "msi", "exe"),
    "macos": ("macos", "mac", "darwin", "osx", "dmg", "pkg"),
    "linux": ("linux", "deb", "rpm", "appimage"),
    "android": ("android", "apk", "aab"),
}
_ARCH_WORDS = {
    "x64": ("x64", "amd64", "win64"),
    "arm64": ("arm64", "aarch64"),
    "x86": ("x86", "i386", "i686", "win32"),
}
_OS_LABELS = {"windows": "Windows", "macos": "macOS", "linux": "Linux", "android": "Android"}
# Material's bundled Material Design Icons (Apache 2.0), inlined: the page fetches nothing.
_OS_ICONS = {"windows": "microsoft-windows", "macos": "apple", "linux": "linux",
             "android": "android", "": "package-variant"}
_ARCH_LABELS = {"x64": "x64", "arm64": "ARM64", "x86": "32-bit"}
_MAC_ARCH_LABELS = {"x64": "Intel", "arm64": "Apple silicon"}

# Lower is a better main download; NEVER_PRIMARY files are only ever listed.
_INSTALLERS = (".exe", ".msi", ".msix", ".dmg", ".pkg", ".deb", ".rpm", ".appimage", ".apk")
_ARCHIVES = (".zip", ".tar.gz", ".tgz", ".tar.xz", ".txz", ".tar.bz2", ".tar.zst", ".7z")
_METADATA = (".sig", ".asc", ".pem", ".cert", ".crt", ".sha256", ".sha512", ".md5", ".sbom",
             ".spdx", ".json", ".yml", ".yaml", ".txt", ".md", ".blockmap", ".intoto.jsonl")
NEVER_PRIMARY = 9


def platform_of(file_name: str) -> tuple[str, str]:
    """The (os, arch) a file name is for, from its words; `""` where it does not say."""
    # `x86_64` is one word whichever separator the name uses elsewhere.
    name = re.sub(r"x86[-_]64", "x64", file_name.lower())
    words = set(re.split(r"[^a-z0-9]+", name))

    def find(table: dict[str, tuple[str, ...]]) -> str:
        return next((key for key, names in table.items() if words & set(names)), "")

    return find(_OS_WORDS), find(_ARCH_WORDS)


def platform_label(os_name: str, arch: str) -> str:
    """`("macos", "arm64")` → `macOS (Apple silicon)`; `""` when the OS is unknown."""
    if not os_name:
        return ""
    label = _OS_LABELS[os_name]
    arch_label = (_MAC_ARCH_LABELS if os_name == "macos" else _ARCH_LABELS).get(arch, arch)
    return f"{label} ({arch_label})" if arch_label else label


def rank_of(file_name: str) -> int:
    """How good a main download a file is: installers 0, archives 1, other 2, metadata never."""
    name = file_name.lower()
    if name.endswith(_METADATA):
        return NEVER_PRIMARY
    if name.endswith(_INSTALLERS):
        return 0
    return 1 if name.endswith(_ARCHIVES) else 2


def verify_commands(file_name: str, sha256: str) -> dict[str, str]:
    """The one-line check of a downloaded file, per OS, run in the folder it was saved to.

    Linux and macOS read a `sha256sum -c` line (two spaces); PowerShell prints True or False.
    """
    saved_as = posixpath.basename(file_name)
    line = shlex.quote(f"{sha256}  {saved_as}")
    ps_path = powershell_quote(".\\" + saved_as)
    return {
        "linux": f"echo {line} | sha256sum -c",
        "macos": f"echo {line} | shasum -a 256 -c",
        "windows": f"(Get-FileHash -Algorithm SHA256 -LiteralPath {ps_path}).Hash -eq "
                   f"{powershell_quote(sha256)}",
    }


def fetch_command(url: str) -> str:
    """`curl -LO` of a stable link, then its `.sha256` line checked: each URL one shell word.

    A URL keeps `$ ' ( ) & ;` unescaped (they are legal in a path), so it is quoted for the
    shell like any other value; `downloads.js` quotes the same way when it swaps the URL.
    """
    return (f"curl -LO {shlex.quote(url)} && curl -L {shlex.quote(url + '.sha256')} "
            "| sha256sum -c")


def powershell_quote(text: str) -> str:
    """`text` as one PowerShell single-quoted string: every quote PowerShell closes a string on
    (`'` and the typographic U+2018, U+2019, U+201A, U+201B) is doubled, which PowerShell reads
    as that one quote."""
    return "'" + _PS_QUOTES.sub(lambda m: m.group(0) * 2, text) + "'"


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


def breakable(text: str, *, every: int = 0) -> Markup:
    """`text` escaped, with line-break opportunities (`<wbr>`) only at safe points.

    A name may break after `/`, `-`, `_` or `.`; with `every`, a hash breaks into groups of
    that many characters. Nothing else breaks, so no word is split and copying the text
    gives it back unchanged (`<wbr>` adds no character).
    """
    if every:
        parts = [text[i:i + every] for i in range(0, len(text), every)]
    else:
        parts = re.findall(r"[^/\-_.]*[/\-_.]|[^/\-_.]+$", text) or [text]
    return Markup("<wbr>").join(escape(part) for part in parts)


def os_icon(os_name: str) -> Markup:
    """An inline SVG for an OS (a package icon when unknown), hidden from screen readers."""
    icons = resources.files("material") / "templates" / ".icons" / "material"
    svg = (icons / f"{_OS_ICONS.get(os_name, _OS_ICONS[''])}.svg").read_text("utf-8")
    return Markup(svg.replace("<svg ", '<svg aria-hidden="true" focusable="false" '
                              'class="sb-os-icon" width="40" height="40" ', 1))


def demote_headings(html: str, *, top: int) -> str:
    """Shift the headings of rendered notes so the highest becomes `<h{top}>` (at most h6).

    Notes sit under a page's own h2, and headings must stay in order for screen readers.
    """
    levels = [int(n) for n in re.findall(r"<h([1-6])>", html)]
    if not levels:
        return html
    shift = top - min(levels)
    return re.sub(
        r"<(/?)h([1-6])>",
        lambda m: f"<{m.group(1)}h{max(1, min(6, int(m.group(2)) + shift))}>",
        html,
    )


def version_page_source(version: str) -> str:
    return f"releases/{version}/index.md"


def page_sources(catalog: Catalog) -> dict[str, str]:
    """Generated Markdown sources: their front matter gives MkDocs a title; bodies come later."""
    titles = {LANDING: "Download", RELEASES: "All releases"}
    for release in catalog.releases:
        titles[version_page_source(release.version)] = f"{release.package} {release.version}"
    # Material prints a front-matter title unescaped (header, nav, <title>, search results),
    # so it is HTML-escaped here, once; JSON strings are valid YAML scalars, so any title is
    # quoted safely. The table of contents would be empty (the bodies are HTML), so its
    # sidebar gives way to the tables.
    # Version pages stay out of the search index: the releases list already finds every
    # version, and indexing a thousand checksum tables would triple the build time.
    # The landing page is a product page, not a chapter: no navigation sidebar either.
    return {
        src: f"---\ntitle: {json.dumps(str(escape(title)))}\nhide:\n  - toc\n"
        + ("  - navigation\n" if src == LANDING else "")
        + ("" if src in (LANDING, RELEASES) else "search:\n  exclude: true\n")
        + "---\n"
        for src, title in titles.items()
    }


# Hand-written pages in the docs folder whose text the landing page shows, when present.
GUIDES = {"requirements": "requirements.md", "install": "install.md"}


def guide_html(markdown: str) -> str:
    """A hand-written guide's body for the landing page: its own h1 dropped, headings under h2."""
    body = re.sub(r"\A\s*(?:---\n.*?\n---\n)?\s*# [^\n]*\n", "", markdown, flags=re.S)
    return demote_headings(notes_html(body), top=3)


def page_assets() -> dict[str, str]:
    """`{site path: text}` of the stylesheet and script the generated pages rely on."""
    folder = resources.files("site_builder") / "assets"
    return {path: (folder / posixpath.basename(path)).read_text("utf-8")
            for path in (STYLESHEET, SCRIPT, HASHER, HASHER_LICENSE)}


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
    platform: str
    rank: int
    commands: dict[str, str]

    @property
    def basename(self) -> str:
        return posixpath.basename(self.name)

    @property
    def kind(self) -> str:
        """What the file is, as a button says it: `.zip`, `.tar.gz`, `installer (.msi)`."""
        name = self.basename.lower()
        suffix = next((s for s in _ARCHIVES if name.endswith(s)), posixpath.splitext(name)[1])
        return f"installer ({suffix})" if name.endswith(_INSTALLERS) else suffix or "file"


@dataclass(frozen=True, slots=True)
class PlatformCard:
    """One platform of a release as the landing page shows it: its best file, then the rest."""

    os: str
    arch: str
    os_label: str
    arch_label: str
    main: FileView
    others: tuple[FileView, ...]
    stable_path: str  # latest/download/<alias>: a link that always leads to the newest file

    @property
    def icon(self) -> Markup:
        return os_icon(self.os)


def platform_cards(views: list[FileView], version: str) -> list[PlatformCard]:
    """A card per (OS, CPU) among `views` that can be downloaded, in OS then CPU order."""
    groups: dict[tuple[str, str], list[FileView]] = {}
    for view in views:
        if view.os and view.href and view.rank < NEVER_PRIMARY:
            groups.setdefault((view.os, view.arch), []).append(view)
    os_order, arch_order = list(_OS_LABELS), ["x64", "arm64", "x86", ""]
    cards = []
    for (os_name, arch), group in sorted(groups.items(), key=lambda item: (
            os_order.index(item[0][0]), arch_order.index(item[0][1]))):
        main, *others = sorted(group, key=lambda v: v.rank)
        arch_label = (_MAC_ARCH_LABELS if os_name == "macos" else _ARCH_LABELS).get(arch, arch)
        cards.append(PlatformCard(
            os=os_name, arch=arch, os_label=_OS_LABELS[os_name],
            arch_label=arch_label or "any CPU", main=main, others=tuple(others),
            stable_path="latest/download/" + alias_name(main.name, version),
        ))
    return cards


@dataclass(frozen=True, slots=True)
class SignedFiles:
    sums_href: str
    signature_href: str


@dataclass(frozen=True, slots=True)
class SignatureView:
    """The site's public key as a page shows it (templates/_signature.html)."""

    key: PublicKey
    layout: SiteLayout
    href: Callable[[str], str]

    @property
    def key_id(self) -> str:
        return self.key.key_id

    @property
    def line(self) -> str:
        return self.key.line

    @property
    def command(self) -> str:
        """The check, as minisign's own docs write it; the base64 line needs no shell quoting."""
        return f"minisign -Vm SHA256SUMS -P {self.key.line}"

    @property
    def pub_href(self) -> str:
        return self.href(PUBLIC_KEY_NAME)

    def files(self, release: Release) -> SignedFiles | None:
        if not (release.hosted and release.signature):
            return None
        return SignedFiles(self.href(self.layout.sums_path(release.version)),
                           self.href(self.layout.signature_path(release.version)))

    @staticmethod
    def comment(release: Release) -> str:
        return trusted_comment(release.package, release.version)


class PageRenderer:
    """Renders generated page bodies for one catalogue and layout."""

    def __init__(self, catalog: Catalog, layout: SiteLayout, *, description: str = "",
                 public_key: PublicKey | None = None, product: str = "",
                 guides: dict[str, str] | None = None) -> None:
        self.catalog = catalog
        self.layout = layout
        self.description = description
        self.public_key = public_key
        self.product = product or catalog.package
        # {GUIDES key: Markdown} of the hand-written pages found in the docs folder
        self.guides = {key: guide_html(text) for key, text in (guides or {}).items()}
        self._by_source = {version_page_source(r.version): r for r in catalog.releases}
        self._neighbours = neighbours(catalog.releases)  # previous/next within a channel

    @cached_property
    def env(self) -> jinja2.Environment:
        env = jinja2.Environment(
            loader=jinja2.PackageLoader("site_builder", "templates"),
            autoescape=True,
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            auto_reload=False,  # package files: no need to stat each one for every page
        )
        env.filters["size"] = human_size
        env.filters["date"] = human_date
        env.filters["isodate"] = iso  # for <time datetime=...>, as the JSON files write it
        env.filters["breakable"] = breakable
        env.filters["fetch_command"] = fetch_command
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
        older, newer = self._neighbours[release.version]
        return self._render("release.html", page_dir, release=release, newer=newer, older=older)

    def _render(self, template: str, page_dir: str, **extra: Any) -> str:
        def href(path: str) -> str:
            return relative_href(page_dir, path)

        def files(release: Release) -> list[FileView]:
            return [self._file_view(release, a, page_dir) for a in release.files]

        def notes(release: Release, *, top: int = 3) -> str:
            return demote_headings(notes_html(release.notes), top=top)

        def checksums(release: Release) -> str:
            # SHA256SUMS's lines (a signed list names the same files with the same hashes)
            return sums_text((a.sha256, a.name) for a in release.files).decode("utf-8")

        return self.env.get_template(template).render(
            catalog=self.catalog,
            latest=self.catalog.latest,
            prerelease=self.catalog.latest_prerelease,
            description=self.description,
            product=self.product,
            guides=self.guides,
            guide_pages={key: GUIDES[key].removesuffix(".md") + "/" for key in self.guides},
            cards=platform_cards,
            layout=self.layout,
            href=href,
            files=files,
            notes=notes,
            sums_text=checksums,
            hasher=HASHER,
            example=example_file,
            primary=primary_file,
            signing=SignatureView(self.public_key, self.layout, href) if self.public_key else None,
            **extra,
        )

    def _file_view(self, release: Release, artifact: Artifact, page_dir: str) -> FileView:
        path = self.layout.artifact_path(release.version, artifact.name)
        location = self.layout.locate(release.version, artifact.name)
        os_name, arch = platform_of(artifact.name)
        return FileView(
            name=artifact.name,
            href=location.href(page_dir) if release.hosted else "",
            sha256=artifact.sha256,
            size=human_size(artifact.size),
            bytes=artifact.size,
            checksum_href=relative_href(page_dir, path + ".sha256") if release.hosted else None,
            os=os_name,
            arch=arch,
            platform=platform_label(os_name, arch),
            rank=rank_of(artifact.name),
            commands=verify_commands(artifact.name, artifact.sha256),
        )


def primary_file(views: list[FileView]) -> FileView | None:
    """The download button's file before the browser is asked: the only real download, if any.

    With several platforms the choice is left to assets/downloads.js; without JavaScript
    the button leads to the full list.
    """
    candidates = [v for v in views if v.rank < NEVER_PRIMARY and v.href]
    return candidates[0] if len(candidates) == 1 else None


def example_file(views: list[FileView]) -> FileView | None:
    """The file the verify commands show until the visitor picks one: the best main download."""
    ranked = sorted(views, key=lambda v: (v.rank, not v.os))
    return ranked[0] if ranked else None
