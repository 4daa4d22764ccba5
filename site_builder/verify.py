"""Re-check a built site the way its visitors and GitLab Pages will meet it.

    report = verify_site(Path("public"))
    report.problems        # () when all is well; else one readable line per problem

Four checks, each a function that returns problems rather than raising:
`check_checksums` (every artifact against `SHA256SUMS` and its `.sha256` sidecar, and every
`.gz`/`.br` copy against its original), `check_indexes` (`latest.json`, `index.json`,
`latest.txt` point at files that exist with that SHA256 and size), `check_links` (every
href/src of every page and every CSS `url()` resolves to a file of the site) and
`check_redirects` (`_redirects` syntax, GitLab Pages' limits, targets that exist, no file
shadowing a rule). Artifacts kept in object storage (and links and rules leading there) are
asked for over HTTP by `verify_storage.check_stored`. Paths in problems are relative to the
site folder.
"""

from __future__ import annotations

import contextlib
import gzip
import json
import posixpath
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urljoin, urlsplit

import brotli

from .catalog import SIGNING_NAMES, SUMS_NAME, SUMS_SIGNATURE_NAME
from .errors import SignatureError
from .hashing import file_sha256
from .layout import url_path
from .pages_server import lookup, read_rules
from .redirects import MAX_BYTES, MAX_RULES, RedirectRules, Rule, parse_redirects, rule_problem
from .signing import PUBLIC_KEY_NAME, PublicKey, comment_fields, parse_public_key
from .verify_storage import StoredFile, check_stored, storage_origins, stored_files

ENCODINGS = {".gz": gzip.decompress, ".br": brotli.decompress}
_IGNORED_SCHEMES = ("mailto", "tel", "javascript", "data", "blob", "about", "ftp", "sms")
_CSS_URL = re.compile(r"""url\(\s*(['"]?)([^'")]+)\1\s*\)""")
# What a browser fetches (or goes to) by itself, per tag: never from another host.
_LOADS = {"script": ("src",), "img": ("src", "srcset"), "iframe": ("src",), "frame": ("src",),
          "embed": ("src",), "object": ("data",), "video": ("src", "poster"),
          "audio": ("src",), "source": ("src", "srcset"), "track": ("src",),
          "input": ("src", "formaction"), "button": ("formaction",),
          "link": ("href", "imagesrcset"), "form": ("action",)}
# `<link>` relations that only name a URL (no browser fetches them by itself).
_NAMING_RELS = {"canonical", "alternate", "author", "license", "help", "next", "prev", "me"}
_REFRESH_URL = re.compile(r"url\s*=\s*(['\"]?)([^'\"]+)\1", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Report:
    """What `verify_site` found: problems (empty when all is well) and what it looked at."""

    problems: tuple[str, ...]
    artifacts: int = 0
    pages: int = 0
    links: int = 0
    rules: int = 0
    signatures: int = 0
    stored: int = 0  # artifacts checked in object storage

    @property
    def ok(self) -> bool:
        return not self.problems

    def summary(self, site: Path) -> str:
        signed = f", {self.signatures} signatures verify" if self.signatures else ""
        stored = f" ({self.stored} in storage)" if self.stored else ""
        return (f"{site}: {self.artifacts + self.stored} artifacts match their checksums{stored}, "
                f"{self.links} links in {self.pages} pages resolve, {self.rules} redirect rules "
                f"are valid{signed}")


@dataclass
class _Site:
    """The folder under test, with a SHA256 memo (artifacts are hashed once)."""

    root: Path
    prefix: str = ""  # "/project" for a project site, "" at a host's root
    built_prefix: str = ""  # the prefix of the URL the site was built with (index.json)
    netloc: str | None = None  # host[:port] of the site URL, when known
    built_netloc: str | None = None  # host[:port] of the URL the site was built with
    hashes: dict[str, str] = field(default_factory=dict)
    stored: dict[str, StoredFile] = field(default_factory=dict)  # url → artifact in storage
    remote: dict[str, str] = field(default_factory=dict)  # site path it would have → SHA256
    storage_links: set[str] = field(default_factory=set)  # other URLs into storage

    def file(self, site_path: str) -> Path | None:
        """The file a site path names, or None; never a path outside the folder."""
        parts = [p for p in site_path.split("/") if p]
        if any(p in (".", "..") for p in parts):
            return None
        path = self.root.joinpath(*parts)
        return path if path.is_file() else None

    def sha256(self, path: Path) -> str:
        key = str(path)
        if key not in self.hashes:
            self.hashes[key] = file_sha256(path)
        return self.hashes[key]

    def stored_at(self, url: str) -> StoredFile | None:
        """The artifact in storage at `url` (compared decoded), if index.json lists one."""
        wanted = unquote(url)
        return next((f for u, f in self.stored.items() if unquote(u) == wanted), None)

    def rel(self, path: Path) -> str:
        return path.relative_to(self.root).as_posix()


def verify_site(
    root: Path, *, site_url: str | None = None, default_site_url: str | None = None,
    public_key: PublicKey | None = None,
    deep: bool = False,
) -> Report:
    """Every check on the site in `root`; every signature too when `public_key` is given.

    The site URL (its path is the prefix `_redirects` rules carry) is `site_url`, else the
    one the build wrote into index.json, else `default_site_url`, else guessed from the rules.
    `deep` downloads and hashes artifacts in object storage instead of asking for a HEAD.
    """
    site = _Site(root=root)
    with contextlib.suppress(OSError, ValueError):  # check_indexes reports a broken index
        site.stored = stored_files(json.loads((root / "index.json").read_text("utf-8")))
    built_url = site_url_of(root)
    site.built_prefix = urlsplit(built_url).path.rstrip("/") if built_url else ""
    site.built_netloc = urlsplit(built_url).netloc if built_url else None
    site_url = site_url or built_url or default_site_url
    if site_url:
        parts = urlsplit(site_url)
        site.prefix, site.netloc = parts.path.rstrip("/"), parts.netloc
    rules = read_rules(root).rules
    if not site_url and rules:
        site.prefix = _prefix_from_rules(site, rules)
    problems: list[str] = []
    check_redirects(site, problems)
    artifact_count = check_checksums(site, problems)
    check_indexes(site, problems)
    redirected = {path for rule in rules if (path := _strip(site, rule.source)) is not None}
    pages, links = check_links(site, problems, redirected=redirected)
    signatures = check_signatures(site, public_key, problems) if public_key else 0
    stored = check_stored(site.stored, site.storage_links, problems, deep=deep)
    return Report(problems=tuple(problems), artifacts=artifact_count, pages=pages, links=links,
                  rules=len(rules), signatures=signatures, stored=stored)


# -- checksums -------------------------------------------------------------------------------

def parse_sums(text: str) -> Iterator[tuple[str, str]]:
    """`(sha256, name)` for each line of a `sha256sum` file (GNU text/binary mode)."""
    for line in text.splitlines():
        if not line.strip():
            continue
        digest, sep, name = line.partition(" ")
        if not sep or len(name) < 2 or name[0] not in " *":
            yield "", line
            continue
        yield digest.lstrip("\\").lower(), name[1:]


def check_checksums(site: _Site, problems: list[str]) -> int:
    """Artifacts against SHA256SUMS and sidecars; compressed copies against their originals.

    A checksum file that is not listed but only sums files of its folder under other names
    (what `latest/download/` aliases lead to) is checked through the rules instead.
    """
    listed: set[Path] = set()
    in_storage = {(f.sha256, f.name) for f in site.stored.values()}
    for sums in sorted(site.root.rglob(SUMS_NAME)):
        folder = sums.parent
        for digest, name in parse_sums(sums.read_text("utf-8", errors="replace")):
            where = f"{site.rel(sums)}: {name}"
            if not re.fullmatch(r"[0-9a-f]{64}", digest):
                problems.append(f"{site.rel(sums)}: not a `sha256  file` line: {name!r}")
                continue
            path = site.file(posixpath.join(site.rel(folder), name))
            if path is None and (digest, name) in in_storage:  # checked by check_stored
                site.remote[posixpath.join(site.rel(folder), name)] = digest
                continue
            if path is None:
                problems.append(f"{where} is listed but missing")
                continue
            listed.add(path)
            if site.sha256(path) != digest:
                problems.append(f"{where} has SHA256 {site.sha256(path)}, SHA256SUMS says {digest}")
    sums_folders = {sums.parent for sums in site.root.rglob(SUMS_NAME)}
    for path in sorted(p for p in site.root.rglob("*") if p.is_file() and p not in listed):
        original = path.with_name(path.name[: -len(path.suffix)]) if path.suffix else path
        if path.suffix in ENCODINGS and original.is_file() and original not in listed:
            _check_encoded(site, path, original, problems)
        elif path.name.endswith(".sha256") and original in listed:
            _check_sidecar(site, path, original, problems)
        elif path.name.endswith(".sha256") and site.rel(original) in site.remote:
            expected = (site.remote[site.rel(original)], original.name)
            if list(parse_sums(path.read_text("utf-8", errors="replace"))) != [expected]:
                problems.append(f"{site.rel(path)} does not match {original.name} in storage, "
                                f"whose line is `{expected[0]}  {expected[1]}`")
        elif _sums_of_folder(site, path, listed):
            continue
        elif path.name not in SIGNING_NAMES and not sums_folders.isdisjoint(path.parents):
            problems.append(f"{site.rel(path)} is not listed in its {SUMS_NAME}")
    return len(listed)


def _sums_of_folder(site: _Site, path: Path, listed: set[Path]) -> bool:
    """Whether `path` is a checksum file of its folder's files under other names."""
    if not (path.name.endswith(".sha256") or path.name.startswith(SUMS_NAME)):
        return False
    digests = {site.sha256(p) for p in listed if path.parent in p.parents}
    folder = site.rel(path.parent) + "/"
    digests |= {d for p, d in site.remote.items() if p.startswith(folder)}  # kept in storage
    entries = list(parse_sums(path.read_text("utf-8", errors="replace")))
    return bool(entries) and all(digest in digests for digest, _ in entries)


def _check_sidecar(site: _Site, sidecar: Path, artifact: Path, problems: list[str]) -> None:
    entries = list(parse_sums(sidecar.read_text("utf-8", errors="replace")))
    expected = (site.sha256(artifact), artifact.name)
    if entries != [expected]:
        problems.append(f"{site.rel(sidecar)} does not match {artifact.name} beside it, "
                        f"whose line is `{expected[0]}  {expected[1]}`")


def _check_encoded(site: _Site, copy: Path, original: Path, problems: list[str]) -> None:
    try:
        same = ENCODINGS[copy.suffix](copy.read_bytes()) == original.read_bytes()
    except (OSError, EOFError, gzip.BadGzipFile, brotli.error):
        same = False
    if not same:
        problems.append(f"{site.rel(copy)} does not decompress to {site.rel(original)}; "
                        "GitLab Pages would serve it instead")


# -- signatures ------------------------------------------------------------------------------

def check_signatures(site: _Site, public_key: PublicKey, problems: list[str]) -> int:
    """minisign.pub is the given key; every SHA256SUMS.minisig verifies over the SHA256SUMS
    beside it; every release index.json calls signed has one, made for that version."""
    published = site.file(PUBLIC_KEY_NAME)
    try:
        if published is None or parse_public_key(published.read_text("utf-8")) != public_key:
            problems.append(f"{PUBLIC_KEY_NAME} is missing or is not the key {public_key.key_id}")
    except SignatureError as e:
        problems.append(f"{PUBLIC_KEY_NAME}: {e}")
    made_for: dict[str, dict[str, str]] = {}
    for signature in sorted(site.root.rglob(SUMS_SIGNATURE_NAME)):
        sums = signature.with_name(SUMS_NAME)
        label = site.rel(sums)
        try:
            comment = public_key.verify(sums.read_bytes() if sums.is_file() else b"",
                                        signature.read_bytes(), label=label)
        except SignatureError as e:
            problems.append(str(e))
            continue
        made_for[site.rel(signature)] = comment_fields(comment)
    index = _load_json(site, "index.json", [])
    for record in (index.get("releases") or []) if isinstance(index, dict) else []:
        if not isinstance(record, dict) or not record.get("signed"):
            continue
        where, path = f"index.json: {record.get('version')}", record.get("signature")
        fields = made_for.get(str(path)) if path else None
        if path and fields is None:
            problems.append(f"{where} is signed, but {path} is missing or does not verify")
        elif fields and (fields.get("version"), fields.get("package")) != (
                record.get("version"), record.get("package")):
            problems.append(f"{where}: {path} was signed for another version ({fields})")
    return len(made_for)


# -- latest.json, index.json, latest.txt -----------------------------------------------------

def _load_json(site: _Site, name: str, problems: list[str]) -> Any:
    path = site.root / name
    if not path.is_file():
        problems.append(f"{name} is missing")
        return None
    try:
        return json.loads(path.read_text("utf-8"))
    except ValueError as e:
        problems.append(f"{name} is not valid JSON: {e}")
        return None


def check_indexes(site: _Site, problems: list[str]) -> None:
    latest = _load_json(site, "latest.json", problems)
    index = _load_json(site, "index.json", problems)
    if isinstance(latest, dict):
        _check_record(site, "latest.json", latest, problems)
    if isinstance(index, dict):
        for n, record in enumerate(index.get("releases") or []):
            _check_record(site, f"index.json releases[{n}]", record, problems)
        version = latest.get("version") if isinstance(latest, dict) else None
        if index.get("latest") != version:
            problems.append(f"index.json says latest is {index.get('latest')!r}, "
                            f"latest.json {version!r}")
        text_path = site.root / "latest.txt"
        if text_path.is_file() and text_path.read_text("utf-8").strip() != (version or ""):
            problems.append(f"latest.txt does not say {version!r}")


def _check_record(site: _Site, where: str, record: Any, problems: list[str]) -> None:
    if not isinstance(record, dict) or not isinstance(record.get("files"), list):
        problems.append(f"{where} is not a release record")
        return
    page = record.get("page")
    if isinstance(page, str) and site.file(posixpath.join(page, "index.html")) is None:
        problems.append(f"{where}: page {page} does not exist")
    for entry in record["files"]:
        if not isinstance(entry, dict) or entry.get("path") is None:
            continue  # a version whose files are no longer hosted
        path = site.file(str(entry["path"]))
        if path is None:
            problems.append(f"{where}: {entry['path']} does not exist")
            continue
        if site.sha256(path) != str(entry.get("sha256", "")).lower():
            problems.append(f"{where}: {entry['path']} does not have SHA256 {entry.get('sha256')}")
        if entry.get("size") != path.stat().st_size:
            problems.append(f"{where}: {entry['path']} is {path.stat().st_size} bytes, "
                            f"not {entry.get('size')}")


def site_url_of(root: Path) -> str | None:
    """The site URL the build used, recovered from an absolute `url` in index.json."""
    try:
        index = json.loads((root / "index.json").read_text("utf-8"))
        for record in index.get("releases") or []:
            for entry in record.get("files") or []:
                url, path = entry.get("url"), entry.get("path")
                parts = urlsplit(url) if isinstance(url, str) else None
                if parts and parts.scheme in ("http", "https") and isinstance(path, str):
                    # Compared decoded: a name's percent-encoding is longer than the name.
                    site_path = unquote(parts.path)
                    if site_path.endswith("/" + path):
                        base = url_path(site_path[: len(site_path) - len(path)])
                        return f"{parts.scheme}://{parts.netloc}{base}"
    except (OSError, ValueError, AttributeError):
        return None
    return None


# -- links -----------------------------------------------------------------------------------

class _LinkParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.urls: list[str] = []
        self.loads: list[tuple[str, str]] = []  # (what, url) a browser fetches or goes to
        self.base: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v for k, v in attrs if v is not None}
        rels = set(values.get("rel", "").lower().split())
        for name in _LOADS.get(tag, ()):
            if name in values and not (tag == "link" and rels and rels <= _NAMING_RELS):
                urls = (values[name].split(",") if name.endswith("srcset")
                        else [values[name]])
                self.loads += [(f"<{tag} {name}>", u.split()[0]) for u in urls if u.strip()]
        if tag == "base" and "href" in values:
            self.base = values["href"]
        for name in ("href", "src", "poster", "data"):
            if name in values and not (tag == "base" and name == "href"):
                self.urls.append(values[name])
        for name in ("srcset", "imagesrcset"):
            if name in values:
                self.urls += [c.split()[0] for c in values[name].split(",") if c.strip()]
        refresh = tag == "meta" and values.get("http-equiv", "").lower() == "refresh"
        if refresh and (match := _REFRESH_URL.search(values.get("content", ""))):
            self.urls.append(match.group(2))
            self.loads.append(("<meta refresh>", match.group(2)))


def check_links(site: _Site, problems: list[str], *, redirected: set[str]) -> tuple[int, int]:
    """Every internal URL of every page and stylesheet names a file; returns (pages, links)."""
    pages = links = 0
    for path in sorted(site.root.rglob("*")):
        if path.suffix not in (".html", ".css") or not path.is_file():
            continue
        text = path.read_text("utf-8", errors="replace")
        if path.suffix == ".html":
            pages += 1
            parser = _LinkParser()
            parser.feed(text)
            urls, base, loads = parser.urls, parser.base, parser.loads
        else:
            urls, base = [m.group(2) for m in _CSS_URL.finditer(text)], None
            loads = [("url()", url) for url in urls]
        page = site.rel(path)
        for what, url in loads:
            if host := _other_host(site, page, url.strip(), base):
                problems.append(f"{page}: {what} loads {url} from another host ({host}); "
                                "a page of the site must ask no other host for anything")
        for url in urls:
            problem, counted = _link_problem(site, page, url.strip(), base, redirected)
            links += counted
            if problem:
                problems.append(f"{page}: {problem}")
    return pages, links


def _other_host(site: _Site, page: str, url: str, base: str | None) -> str | None:
    """The host `url` (on `page`) would make a browser ask, when it is not the site's."""
    origin = f"http://{site.netloc or 'site.invalid'}"
    target = urlsplit(urljoin(urljoin(f"{origin}{site.prefix}/{url_path(page)}", base or ""),
                              url))
    if target.scheme.lower() in _IGNORED_SCHEMES or not target.netloc:
        return None
    own = {h.lower() for h in (site.netloc, site.built_netloc, "site.invalid") if h}
    return None if target.netloc.lower() in own else target.netloc


def _link_problem(site: _Site, page: str, url: str, base: str | None,
                  redirected: set[str]) -> tuple[str | None, int]:
    parts = urlsplit(url)
    if parts.scheme.lower() in _IGNORED_SCHEMES or not (parts.path or parts.netloc):
        return None, 0  # mailto:, data:, a fragment or query on this very page
    if not (parts.scheme or parts.netloc or parts.path.startswith("/")) and \
            posixpath.basename(page) == "404.html":
        return (f"{url} is relative, but 404.html is served at any depth: "
                "start it with the site path", 1)
    origin = f"http://{site.netloc or 'site.invalid'}"
    here = urljoin(f"{origin}{site.prefix}/{url_path(page)}", base or "")
    target = urlsplit(urljoin(here, url))
    if f"{target.scheme}://{target.netloc}" in storage_origins(site.stored):
        site.storage_links.add(target.geturl())  # asked for by check_stored
        return None, 1
    if f"{target.scheme}://{target.netloc}" != origin:
        return None, 0  # another host: not ours to check
    site_path = _strip(site, target.path)
    if site_path is None:
        return f"{url} leaves the site (not under {site.prefix}/)", 1
    decoded = unquote(site_path)
    if _resolves(site, decoded) or decoded in redirected or site_path in redirected:
        return None, 1
    return f"{url} does not resolve to a file of the site", 1


def _resolves(site: _Site, site_path: str) -> bool:
    """GitLab Pages' lookup: the file, `dir/index.html`, or `name.html` for `/name`."""
    bare = site_path.strip("/")
    if site_path.endswith("/") or not bare:
        return site.file(posixpath.join(bare, "index.html")) is not None
    return any(site.file(c) for c in (bare, f"{bare}/index.html", f"{bare}.html"))


def _strip(site: _Site, path: str) -> str | None:
    """`/prefix/a/b` → `a/b`; None when the path is not under the site's prefix."""
    if not site.prefix:
        return path.lstrip("/")
    if path == site.prefix or path.startswith(site.prefix + "/"):
        return path[len(site.prefix):].lstrip("/")
    return None


# -- _redirects ------------------------------------------------------------------------------

def _prefix_from_rules(site: _Site, rules: tuple[Rule, ...]) -> str:
    """The site prefix that makes the first rule's target a file, for sites without a URL."""
    local = [rule for rule in rules if rule.target.startswith("/")]  # not another host
    segments = [s for s in urlsplit(local[0].target if local else "").path.split("/") if s]
    for cut in range(len(segments)):
        if site.file(unquote("/".join(segments[cut:]))):
            return "/" + "/".join(segments[:cut]) if cut else ""
    return ""


def check_redirects(site: _Site, problems: list[str]) -> None:
    """`_redirects` as GitLab Pages reads and answers it.

    A rule is written for the site's prefix (`/<project>/…`) or for a custom domain (no
    prefix); its answer, resolved the way Pages resolves it, must be a file of the site. A
    `….sha256` or `SHA256SUMS` behind a rule must check the files its lines name when those
    are fetched through the same rules, as `curl -LO` then `sha256sum -c` would.
    """
    path = site.root / "_redirects"
    if not path.is_file():
        return
    size = path.stat().st_size
    if size > MAX_BYTES:
        problems.append(f"_redirects is {size} bytes; GitLab Pages ignores it above {MAX_BYTES}")
    parsed = parse_redirects(path.read_bytes(), max_bytes=None)
    if parsed.error:
        problems.append(f"_redirects: {parsed.error}")
    rules = parsed.rules
    if len(rules) > MAX_RULES:
        problems.append(f"_redirects has {len(rules)} rules; GitLab Pages reads the first "
                        f"{MAX_RULES}")
    if site.prefix and rules and not any(
            (r.source + "/").startswith(site.prefix + "/") for r in rules):
        problems.append(f"_redirects has no rule under {site.prefix}/, so at that address every "
                        "latest/download link answers 404: build with the site URL")
    served = read_rules(site.root)  # what Pages answers with: nothing when the file is ignored
    for n, rule in enumerate(rules[:MAX_RULES], start=1):
        where = f"_redirects rule {n} ({rule.source} {rule.target} {rule.status})"
        if problem := rule_problem(rule):
            problems.append(f"{where}: {problem}")
            continue
        parts = urlsplit(rule.target)
        if parts.scheme and f"{parts.scheme}://{parts.netloc}" in storage_origins(site.stored):
            site.storage_links.add(rule.target)  # asked for by check_stored
        if parts.scheme and parts.netloc.lower() not in {
                h.lower() for h in (site.netloc, site.built_netloc) if h}:
            if f"{parts.scheme}://{parts.netloc}" not in storage_origins(site.stored):
                problems.append(f"{where}: sends visitors to another host ({parts.netloc}); "
                                "a rule of this site must lead to a file of this site")
            continue
        if parts.scheme:
            continue  # the site's own absolute URL
        # Either address of the site: the one checked, and the one it was built for.
        prefix = next((p for p in (site.prefix, site.built_prefix)
                       if p and (rule.source + "/").startswith(p + "/")), "")
        prefixed = bool(prefix)
        source_path = rule.source[len(prefix):].lstrip("/")
        if not _has_placeholder(rule.source) and site.file(source_path):
            problems.append(f"{where}: {source_path} is a file, and files win over redirects")
            continue
        if _has_placeholder(rule.source) or served.error:
            continue
        answer = _follow(site, served, rule.source, prefix)
        if answer is None:
            domain = "" if prefixed or not site.prefix else " (on a custom domain, no prefix)"
            problems.append(f"{where}: {rule.target} does not exist{domain}")
            continue
        if isinstance(answer, Path):  # (a rule into storage: check_stored asks for it)
            _check_fetched_sums(site, served, rule.source, prefix, answer, where, problems)


def _follow(site: _Site, rules: RedirectRules, request: str,
            prefix: str) -> Path | StoredFile | None:
    """The file a request ends at after Pages' redirects (a few hops), or None; an artifact
    in object storage when a rule leads there (check_stored asks the store for it)."""
    for _ in range(5):
        answer = lookup(site.root, request, prefix=prefix, rules=rules)
        if answer.status == 200 and answer.file is not None:
            return answer.file
        if answer.location is not None and not answer.location.startswith("/"):
            return site.stored_at(answer.location)
        if answer.location is None:
            return None
        request = unquote(answer.location.partition("?")[0])
    return None


def _check_fetched_sums(site: _Site, rules: RedirectRules, request: str, prefix: str,
                        file: Path, where: str, problems: list[str]) -> None:
    """`curl -LO <request>` then `sha256sum -c`: the lines must check what the rules serve."""
    saved_as = posixpath.basename(request)
    if not (saved_as.endswith(".sha256") or saved_as == SUMS_NAME):
        return
    folder = posixpath.dirname(request)
    for digest, name in parse_sums(file.read_text("utf-8", errors="replace")):
        fetched = _follow(site, rules, f"{folder}/{name}", prefix)
        if fetched is None:
            if saved_as.endswith(".sha256"):
                problems.append(f"{where}: names {name!r}, which {folder}/ does not serve; "
                                f"save it with curl -LO and sha256sum -c fails")
            continue
        served = fetched.sha256 if isinstance(fetched, StoredFile) else site.sha256(fetched)
        if served != digest:
            problems.append(f"{where}: says {name} has SHA256 {digest}, but {folder}/{name} "
                            f"serves {served}")


def _has_placeholder(path: str) -> bool:
    return "*" in path or re.search(r"(^|/):[A-Za-z]", path) is not None
