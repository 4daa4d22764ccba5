"""One resolved view of the options every command shares.

Precedence, highest first: command-line flags; then, for the site URL only, `CI_PAGES_URL`
(GitLab knows the real address, path prefix included); then the `downloads` section of
`mkdocs.yml`; then GitLab CI's variables (`CI_API_V4_URL`, `CI_PROJECT_ID`). The file beats
CI's project so a pipeline can read another project's registry.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import platformdirs

from .budget import parse_size
from .errors import ConfigError
from .layout import DEFAULT_DOWNLOAD_PATH, SiteLayout

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

    @property
    def layout(self) -> SiteLayout:
        return SiteLayout(download_path=self.download_path, site_url=self.site_url)

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
    if keep is not None and (not isinstance(keep, int) or keep < 1):
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
    )
    settings.layout  # validates download_path and the site URL early  # noqa: B018
    return settings
