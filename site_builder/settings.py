"""One resolved view of the options every command shares.

Precedence, highest first: command-line flags; then, for the site URL only, `CI_PAGES_URL`
(GitLab knows the real address, path prefix included); then the `downloads` section of
`mkdocs.yml`; then GitLab CI's variables (`CI_API_V4_URL`, `CI_PROJECT_ID`). The file beats
CI's project so a pipeline can read another project's registry.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import platformdirs

from .bounds import DEFAULT_LIMITS, Limits
from .budget import parse_size
from .errors import ConfigError
from .layout import DEFAULT_DOWNLOAD_PATH, SiteLayout
from .signing import PUBLIC_KEY_VARIABLE, PublicKey, parse_public_key
from .targets.config import StorageConfig

DEFAULT_MAX_SITE_SIZE = 1024**3  # GitLab.com's Pages limit; self-managed defaults to 100 MB
DEFAULT_API_CONCURRENCY = 16  # API calls in flight at most; fewer while GitLab answers 429
MAX_API_CONCURRENCY = 64


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything a command needs to know, secrets excepted (see `auth.py`)."""

    package: str = ""
    api_url: str | None = None
    project: str | None = None
    from_dir: Path | None = None
    site_url: str | None = None
    download_path: str = DEFAULT_DOWNLOAD_PATH
    keep: int | None = None
    prereleases: bool = True
    cache_dir: Path = Path(platformdirs.user_cache_dir("site-builder"))
    description: str = ""
    max_site_size: int = DEFAULT_MAX_SITE_SIZE
    api_concurrency: int = DEFAULT_API_CONCURRENCY
    legacy_links: bool = True  # old flat `/<project>/<file>` links answer 301 (links.py)
    public_key: PublicKey | None = None  # the site's minisign key: the build verifies with it
    require_signatures: bool = False  # True by default when a public key is set
    limits: Limits = DEFAULT_LIMITS  # deadlines and caps of every request (bounds.py)
    storage: StorageConfig | None = None  # artifacts in object storage instead of on Pages

    @property
    def layout(self) -> SiteLayout:
        return SiteLayout(download_path=self.download_path, site_url=self.site_url,
                          storage_url=self.storage.public_url if self.storage else None)

    def require_package(self) -> str:
        if not self.package:
            raise ConfigError(
                "no package name: pass --package NAME or set `package:` under the "
                "`downloads` plugin in mkdocs.yml"
            )
        return self.package

    def require_gitlab(self) -> tuple[str, str]:
        """The API URL and project, or a ConfigError saying how to give them."""
        if not self.api_url:
            raise ConfigError(
                "no GitLab API URL: pass --api-url https://gitlab.example.com/api/v4, set "
                "`api_url` in mkdocs.yml, or run in GitLab CI (CI_API_V4_URL); "
                "for a local folder use --from-dir"
            )
        if not self.project:
            raise ConfigError(
                "no GitLab project: pass --project ID|group/project, set `project` in "
                "mkdocs.yml, or run in GitLab CI (CI_PROJECT_ID)"
            )
        return self.api_url.rstrip("/"), self.project


def _first(*values: Any) -> Any:
    return next((v for v in values if v not in (None, "")), None)


def _origin(name: str, flags: Mapping[str, Any], options: Mapping[str, Any],
            env_name: str | None = None) -> str:
    """Where a value came from, as a user would look for it: a flag, the file, a variable."""
    if flags.get(name) not in (None, ""):
        return "--" + name.replace("_", "-")
    if options.get(name) not in (None, "") or env_name is None:
        return f"`{name}` in mkdocs.yml"
    return f"${env_name}"


def check_http_url(url: str, *, what: str, example: str, origin: str = "") -> None:
    """A URL this tool may request: http(s) with a host. Anything else cannot succeed."""
    try:
        parts = urlsplit(url)
        ok = parts.scheme in ("http", "https") and bool(parts.hostname)
        parts.port  # noqa: B018  (a bad port raises here)
    except ValueError:
        ok = False
    if not ok or any(ch.isspace() for ch in url):
        origin = f" ({origin})" if origin else ""
        raise ConfigError(f"{what} {url!r}{origin} is not an http(s) URL: write it like {example}")


def _check(settings: Settings, options: Mapping[str, Any], where: Any) -> None:
    """Every value checked, with a message naming where it came from, before any request."""
    if settings.api_url:
        check_http_url(settings.api_url, what="the GitLab API URL", origin=where("api_url"),
                       example="https://gitlab.example.com/api/v4")
        if not urlsplit(settings.api_url).path.rstrip("/").endswith("/api/v4"):
            raise ConfigError(
                f"the GitLab API URL {settings.api_url!r} ({where('api_url')}) must end in "
                "/api/v4, e.g. https://gitlab.example.com/api/v4"
            )
    if settings.project is not None and (
        not settings.project.strip() or settings.project != settings.project.strip()
        or settings.project.startswith("/") or settings.project.endswith("/")
        or "//" in settings.project
    ):
        raise ConfigError(
            f"project {settings.project!r} ({where('project')}) is not a GitLab project: "
            "write its numeric id (42) or its path (group/project)"
        )
    if settings.package:
        from .publish import PACKAGE_NAME_RE

        if not PACKAGE_NAME_RE.fullmatch(settings.package):
            raise ConfigError(
                f"package {settings.package!r} ({where('package')}) is not a GitLab generic "
                "package name: use letters, digits and . _ - +"
            )
    if settings.from_dir is not None and not settings.from_dir.is_dir():
        raise ConfigError(
            f"{settings.from_dir} ({where('from_dir')}) is not a folder: pass the folder "
            "that holds <package>/<version>/<file>"
        )
    if options.get("strapi"):  # notify runs later, in another job: catch its typos now
        from .strapi import check_options

        check_options(options["strapi"])
    if settings.cache_dir.exists() and not settings.cache_dir.is_dir():
        raise ConfigError(
            f"the cache folder {settings.cache_dir} ({where('cache_dir')}) is a file: "
            "point cache_dir at a folder"
        )


def _signature_settings(public_key: Any, require: Any) -> dict[str, Any]:
    """`public_key` parsed at the boundary; `require_signatures` defaults to having one."""
    key = parse_public_key(str(public_key), source="public_key") if public_key else None
    if require is not None and not isinstance(require, bool):
        raise ConfigError(f"require_signatures must be true or false (got {require!r})")
    if require and key is None:
        raise ConfigError(
            "require_signatures is true but no public key is set: add `public_key:` (the "
            f"base64 line of minisign.pub) to mkdocs.yml, pass --public-key, or set "
            f"{PUBLIC_KEY_VARIABLE}"
        )
    return {"public_key": key, "require_signatures": key is not None if require is None
            else require}


def resolve(
    options: Mapping[str, Any],
    *,
    flags: Mapping[str, Any] | None = None,
    env: Mapping[str, str] | None = None,
    config_site_url: str | None = None,
    base_dir: Path | None = None,
) -> Settings:
    """Merge plugin options, CI variables and flags into Settings (see module docstring).

    Relative paths in the file are taken relative to the file's folder (`base_dir`).
    """
    flags = flags or {}
    env = os.environ if env is None else env

    def pick(name: str, env_name: str | None = None) -> Any:
        return _first(flags.get(name), options.get(name), env.get(env_name) if env_name else None)

    def path(name: str) -> Path | None:
        flag, option = flags.get(name), options.get(name)
        if flag:
            return Path(flag)
        if option:
            return (base_dir or Path.cwd()) / option
        return None

    keep = _first(flags.get("keep"), options.get("keep"))
    if keep is not None and (not isinstance(keep, int) or isinstance(keep, bool) or keep < 1):
        raise ConfigError(f"keep must be a whole number of versions, 1 or more (got {keep!r})")
    concurrency = _first(options.get("api_concurrency"), DEFAULT_API_CONCURRENCY)
    if (not isinstance(concurrency, int) or isinstance(concurrency, bool)
            or not 1 <= concurrency <= MAX_API_CONCURRENCY):
        raise ConfigError(f"api_concurrency must be a whole number from 1 to "
                          f"{MAX_API_CONCURRENCY} (got {concurrency!r})")
    project = pick("project", "CI_PROJECT_ID")
    defaults = Settings()
    settings = Settings(
        package=pick("package") or "",
        api_url=pick("api_url", "CI_API_V4_URL"),
        project=str(project) if project is not None else None,
        from_dir=path("from_dir"),
        site_url=_first(flags.get("site_url"), env.get("CI_PAGES_URL"), config_site_url),
        download_path=pick("download_path") or DEFAULT_DOWNLOAD_PATH,
        keep=keep,
        prereleases=bool(_first(flags.get("prereleases"), options.get("prereleases"), True)),
        cache_dir=path("cache_dir") or defaults.cache_dir,
        description=pick("description") or "",
        max_site_size=parse_size(_first(options.get("max_site_size"), DEFAULT_MAX_SITE_SIZE)),
        api_concurrency=concurrency,
        limits=network_limits(options),
        legacy_links=bool(_first(options.get("legacy_links"), True)),
        **_signature_settings(pick("public_key", PUBLIC_KEY_VARIABLE),
                              _first(flags.get("require_signatures"),
                                     options.get("require_signatures"))),
        storage=StorageConfig.parse(options.get("storage")),
    )
    settings.layout  # validates download_path and the site URL early  # noqa: B018
    _check(settings, options, lambda name: _origin(name, flags, options, _ENV_NAMES.get(name)))
    return settings


_ENV_NAMES = {"api_url": "CI_API_V4_URL", "project": "CI_PROJECT_ID"}

# option → (Limits field, what it is); README "Robustness" documents them
LIMIT_OPTIONS = {
    "request_deadline": ("deadline", "seconds"),
    "max_response_size": ("max_response", "a size"),
    "min_download_rate": ("min_rate", "a size per second"),
    "download_rate_window": ("rate_window", "seconds"),
    "max_pages": ("max_pages", "a whole number"),
}


def network_limits(options: Mapping[str, Any]) -> Limits:
    """`Limits` from the plugin options; what is not set keeps its default."""
    values: dict[str, Any] = {}
    for option, (name, kind) in LIMIT_OPTIONS.items():
        value = options.get(option)
        if value is None:
            continue
        if kind.startswith("a size"):
            values[name] = parse_size(value, what=option)
            continue
        number = value if isinstance(value, int | float) and not isinstance(value, bool) else 0
        if number <= 0 or (kind == "a whole number" and not isinstance(number, int)):
            raise ConfigError(f"{option} must be {kind}, more than 0 (got {value!r})")
        values[name] = int(number) if kind == "a whole number" else float(number)
    return dataclasses.replace(DEFAULT_LIMITS, **values)
