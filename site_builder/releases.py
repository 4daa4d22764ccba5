"""The GitLab Release of a version: created once, brought up to date on every re-run.

    links = asset_links("v1.2.0", ["VoiceInput-v1.2.0.zip"], layout)   # Pages download URLs
    outcome = save_release(client, tag="v1.2.0", name="VoiceInput v1.2.0",
                           notes=section_of_changelog, links=links)

Asset links point at the public Pages site (the registry is private), typed `package`. Each
gets a `direct_asset_path` (`/VoiceInput-v1.2.0.zip`) when GitLab's rule allows one, so
`…/-/releases/<tag>/downloads/<file>` and the `permalink/latest` URLs work too.

Creating answers `409 Release already exists` on a re-run; then the release is updated and
its links reconciled through the links API: missing ones created, changed ones updated, the
rest (ours unchanged, or added by hand) left alone.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from .errors import AuthError, ConfigError, PublishError, SourceError
from .gitlab import GitLabClient
from .layout import SiteLayout
from .publish import version_state

log = logging.getLogger("mkdocs.plugins.downloads")

DIRECT_PATH_MAX = 128
# app/models/releases/link.rb: \A/(?:[\-\.\w]+/?)*[\da-zA-Z]+\z, rewritten without the nested
# quantifier (Python would backtrack exponentially on a near miss); `//` is checked apart.
_DIRECT_PATH = re.compile(r"/[-.\w/]*[\da-zA-Z]", re.ASCII)


@dataclass(frozen=True, slots=True)
class AssetLink:
    """One release asset link as the Release links API takes it."""

    name: str
    url: str
    direct_asset_path: str | None = None
    link_type: str = "package"

    def payload(self) -> dict[str, str]:
        body = {"name": self.name, "url": self.url, "link_type": self.link_type}
        if self.direct_asset_path:
            body["direct_asset_path"] = self.direct_asset_path
        return body


@dataclass(frozen=True, slots=True)
class ReleaseOutcome:
    """What `save_release` did, for the command's report."""

    created: bool
    links_created: int = 0
    links_updated: int = 0
    links_unchanged: int = 0


def valid_direct_asset_path(path: str) -> bool:
    return (len(path) <= DIRECT_PATH_MAX and "//" not in path
            and _DIRECT_PATH.fullmatch(path) is not None)


def asset_links(version: str, file_names: Iterable[str], layout: SiteLayout) -> list[AssetLink]:
    """A `package` link per file to its Pages download URL; direct paths only where valid."""
    links = []
    for name in file_names:
        url = layout.locate(version, name).url
        if url is None:
            raise ConfigError(
                "the release links need the site's public URL: pass --site-url, set "
                "site_url in mkdocs.yml, or run in GitLab CI (CI_PAGES_URL)"
            )
        path = "/" + name if valid_direct_asset_path("/" + name) else None
        if path is None:
            log.warning("%s gets no direct asset path: GitLab allows at most %d characters of "
                        "letters, digits, - . _ and /, ending in a letter or digit",
                        name, DIRECT_PATH_MAX)
        links.append(AssetLink(name=name, url=url, direct_asset_path=path))
    return links


def registry_file_names(client: GitLabClient, package: str, version: str) -> list[str]:
    """The file names of a published version, or a PublishError saying to publish first."""
    if client.credential is not None and client.credential.is_deploy_token:
        raise AuthError(
            f"{client.credential.variable} holds a deploy token, which cannot read packages "
            "or write releases: set GITLAB_TOKEN (api scope, Developer) or use CI_JOB_TOKEN"
        )
    state = version_state(client, package, version)
    if not state.exists or not state.files:
        hidden = " (it is hidden: publish it with --status default)" if state.exists else ""
        raise PublishError(
            f"the registry has no files of {package} {version}{hidden}: run "
            f"`site-builder publish --version {version}` first, or check --package and --version"
        )
    return sorted({f.name for f in state.files})


def _link_changes(wanted: AssetLink, existing: dict[str, Any]) -> bool:
    if (existing.get("url"), existing.get("link_type")) != (wanted.url, wanted.link_type):
        return True
    if existing.get("name") != wanted.name:
        return True
    # GitLab returns `direct_asset_url` (…/-/releases/<tag>/downloads<path>), not the path.
    direct = str(existing.get("direct_asset_url") or "")
    return bool(wanted.direct_asset_path) and not direct.endswith(
        "/downloads" + str(wanted.direct_asset_path))


def save_release(
    client: GitLabClient,
    *,
    tag: str,
    name: str,
    notes: str | None,
    links: list[AssetLink],
    default_notes: str = "",
) -> ReleaseOutcome:
    """Create the release of `tag`, or update it and reconcile its links if it exists."""
    releases = client.releases_path()
    body: dict[str, Any] = {"tag_name": tag, "name": name,
                            "description": notes if notes is not None else default_notes,
                            "assets": {"links": [link.payload() for link in links]}}
    try:
        response = client.request("POST", releases, json=body, ok=(201, 409))
    except AuthError:
        raise
    except SourceError as e:  # 400/422: most often a tag that was never pushed
        raise PublishError(f"{e}; check that the tag {tag} exists (push it first)") from e
    if response.status_code == 201:
        return ReleaseOutcome(created=True, links_created=len(links))

    tag_path = client.releases_path(tag)
    update: dict[str, Any] = {"name": name}
    if notes is not None:
        update["description"] = notes
    client.request("PUT", tag_path, json=update)
    return _reconcile_links(client, f"{tag_path}/assets/links", links)


def _reconcile_links(client: GitLabClient, links_path: str,
                     links: list[AssetLink]) -> ReleaseOutcome:
    existing = list(client.paginate(links_path))
    created = updated = unchanged = 0
    for wanted in links:
        match = next((e for e in existing if e.get("name") == wanted.name), None) or next(
            (e for e in existing if e.get("url") == wanted.url), None)
        if match is None:
            client.request("POST", links_path, json=wanted.payload(), ok=(201,))
            created += 1
        elif _link_changes(wanted, match):
            client.request("PUT", f"{links_path}/{match['id']}", json=wanted.payload())
            updated += 1
        else:
            unchanged += 1
    return ReleaseOutcome(created=False, links_created=created, links_updated=updated,
                          links_unchanged=unchanged)
