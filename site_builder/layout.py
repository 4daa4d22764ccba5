"""Where things live on the site: paths relative to the root, and absolute URLs when known.

    layout = SiteLayout(site_url="https://group.gitlab.io/speech-to-text/")
    layout.artifact_path("v1.2.0", "VoiceInput-v1.2.0.zip")  # download/v1.2.0/VoiceInput-v1.2.0.zip
    layout.url("latest.json")         # https://group.gitlab.io/speech-to-text/latest.json
    layout.prefix                     # /speech-to-text  (what `_redirects` rules must carry)
    layout.locate("v1.2.0", "VoiceInput-v1.2.0.zip")   # where the file is served: a Location

`locate` is the one answer to "where does this artifact live, and what is its URL": on the
Pages site by default, in object storage when `storage_url` (the bucket's public URL) is set.
Renderers ask it and never look at how the bytes got there.
"""

from __future__ import annotations

import posixpath
import re
import string
from dataclasses import dataclass
from urllib.parse import quote, unquote, urlsplit

from .catalog import SUMS_NAME, SUMS_SIGNATURE_NAME
from .errors import ConfigError

DEFAULT_DOWNLOAD_PATH = "download/{version}/{file}"

# RFC 3986 path characters that need no escaping; `+` stays literal in a path.
_PATH_SAFE = "/:@!$&'()*+,;=-._~"
# In a `_redirects` target, GitLab Pages reads any `*` or `:letters` as a template and `$` as
# Go's `Regexp.Expand` syntax: those are escaped too (it decodes the target into Location:).
_REDIRECT_SAFE = _PATH_SAFE.replace(":", "").replace("*", "").replace("$", "")
_WILDCARD_SEGMENT = re.compile(r"^(\*|:[A-Za-z]+)$")


def url_path(path: str) -> str:
    """Percent-encode a site path for use in an href or a URL."""
    return quote(path, safe=_PATH_SAFE)


def relative_href(from_dir: str, to_path: str) -> str:
    """An href from a page whose folder is `from_dir` (site-relative) to `to_path`."""
    target = site_relpath(to_path or ".", from_dir or ".")
    if to_path.endswith("/") and not target.endswith("/"):
        target += "/"
    if target == "./":
        target = "./"
    return url_path(target)


def site_relpath(path: str, start: str) -> str:
    """`posixpath.relpath` for two site-relative paths, in strings only: the working folder
    plays no part (relpath asks the system for it on every call, thousands per build)."""
    to = [p for p in posixpath.normpath(path).split("/") if p not in ("", ".")]
    base = [p for p in posixpath.normpath(start).split("/") if p not in ("", ".")]
    if ".." in to or ".." in base:  # leaves the site: let the library say what that means
        return posixpath.relpath(path, start)
    shared = 0
    while shared < min(len(to), len(base)) and to[shared] == base[shared]:
        shared += 1
    return "/".join([".."] * (len(base) - shared) + to[shared:]) or "."


def check_download_path(pattern: str) -> None:
    """Refuse a `download_path` that could leave the site or that `str.format` cannot fill."""
    head, _, tail = pattern.rpartition("/")
    problem = None
    if tail != "{file}" or "{version}" not in head:
        problem = "its folder must hold {version} and its last part must be {file}"
    elif head.startswith("/") or "\\" in pattern:
        problem = "it must be a relative path with / between folders"
    elif any(part in ("", ".", "..") for part in head.split("/")):
        problem = "it must not have empty, '.' or '..' parts (files must stay inside the site)"
    else:
        try:
            fields = [(name, spec, conv) for _, name, spec, conv in string.Formatter().parse(head)
                      if name is not None]
        except ValueError:
            fields = [("?", "", None)]
        if any(field != ("version", "", None) for field in fields):
            problem = "{version} is the only placeholder its folder may hold"
    if problem:
        raise ConfigError(
            f"download_path {pattern!r} is not usable: {problem}; "
            f"e.g. {DEFAULT_DOWNLOAD_PATH!r}"
        )


@dataclass(frozen=True, slots=True)
class Location:
    """Where one artifact is served from: a file of the site, or an object in storage."""

    path: str | None  # site path when the file is part of the Pages site, else None
    url: str | None  # absolute URL, when known
    hosted: str | None = None  # "storage" when the bytes live outside the site

    def href(self, from_dir: str) -> str:
        """The link from a page whose folder is `from_dir`: relative on the site, else absolute."""
        if self.path is not None:
            return relative_href(from_dir, self.path)
        return self.url or ""


@dataclass(frozen=True, slots=True)
class SiteLayout:
    """Paths of the output tree, configured by `download_path` and the site URL."""

    download_path: str = DEFAULT_DOWNLOAD_PATH
    site_url: str | None = None
    storage_url: str | None = None  # public URL of the bucket prefix that holds the artifacts

    def __post_init__(self) -> None:
        check_download_path(self.download_path)
        if self.site_url and (urlsplit(self.site_url).scheme not in ("http", "https")
                              or not urlsplit(self.site_url).hostname):
            raise ConfigError(
                f"site URL {self.site_url!r} must be an https:// (or http://) URL with a host, "
                "like https://group.gitlab.io/project/; set --site-url or site_url in mkdocs.yml"
            )

    def version_folder(self, version: str) -> str:
        return self.download_path.rpartition("/")[0].format(version=version)

    def artifact_path(self, version: str, file: str) -> str:
        return f"{self.version_folder(version)}/{file}"

    def locate(self, version: str, file: str) -> Location:
        """Where `file` of `version` is served; storage keys mirror the site's paths."""
        path = self.artifact_path(version, file)
        if self.storage_url:
            url = self.storage_url.rstrip("/") + "/" + url_path(path)
            return Location(path=None, url=url, hosted="storage")
        return Location(path=path, url=self.url(path))

    def redirect_url(self, url: str) -> str:
        """An absolute `_redirects` `to` (another host, GitLab 17.4+), its path escaped as
        `root_path` escapes one: Pages templates `:name` and `$` in any target."""
        parts = urlsplit(url)
        return f"{parts.scheme}://{parts.netloc}" + quote(unquote(parts.path), safe=_REDIRECT_SAFE)

    def sums_path(self, version: str) -> str:
        return f"{self.version_folder(version)}/{SUMS_NAME}"

    def signature_path(self, version: str) -> str:
        return f"{self.version_folder(version)}/{SUMS_SIGNATURE_NAME}"

    @staticmethod
    def page_path(version: str) -> str:
        return f"releases/{version}/"

    @property
    def prefix(self) -> str:
        """The site's path on its host, without a trailing slash (`""` at the root)."""
        if not self.site_url:
            return ""
        return urlsplit(self.site_url).path.rstrip("/")

    def url(self, path: str) -> str | None:
        """The absolute URL of a site path, or None when the site URL is unknown."""
        if not self.site_url:
            return None
        return self.site_url.rstrip("/") + "/" + url_path(path)

    def root_path(self, path: str, *, prefix: str | None = None) -> str:
        """The host-absolute path (`/prefix/path`) of a site path, escaped as a `_redirects` `to`.

        GitLab Pages decodes a target into `Location:`, so it is percent-encoded, `*`, `:` and
        `$` too: a file named `*` or `:x` is a literal path, never a template. `prefix`
        defaults to the site's; `""` writes the form for a custom or unique domain.
        """
        base = unquote(self.prefix if prefix is None else prefix)
        return quote(f"{base}/{path}", safe=_REDIRECT_SAFE)

    def redirect_source(self, path: str, *, prefix: str | None = None) -> str:
        """The `_redirects` `from` of a site path: decoded, as Pages matches the decoded
        request path; a segment that is exactly `*` or `:name` (a splat or placeholder to
        Pages) is percent-encoded, which makes its rule inert rather than a wildcard."""
        base = unquote(self.prefix if prefix is None else prefix)
        return "/".join(
            f"%{ord(s[0]):02X}{s[1:]}" if _WILDCARD_SEGMENT.match(s) else s
            for s in f"{base}/{path}".split("/")
        )
