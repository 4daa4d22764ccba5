"""A GitLab project's generic package registry as a `Source`.

    source = GitLabSource.from_env(api_url="https://gitlab.example.com/api/v4", project="42")
    rows = source.versions("VoiceInput")      # every listed package row, with files and notes

Listing is one paginated walk of the packages API (GitLab's `package_name` also matches
`VoiceInput-beta`; the catalogue keeps the exact name) and, as each page arrives, the files
of every row the catalogue could publish, up to 16 calls at a time: the transport
(`throttle.py`) halves that when GitLab answers 429 or 503 and waits as long as it asks.
Rows it could not publish (another name, `hidden`, `error`…) pass through with no files:
GitLab answers 404 to their file lists anyway.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any
from urllib.parse import unquote

from .. import boundary
from ..auth import Credential
from ..catalog import GENERIC, PUBLISHED_STATUS, Artifact, PackageVersion
from ..errors import AuthError, RegistryValueError, SourceError, TransientError
from ..gitlab import GitLabClient
from ..throttle import DEFAULT_CONCURRENCY, throttled_transport

log = logging.getLogger("mkdocs.plugins.downloads")

PER_TAG_NOTES_LIMIT = 10  # up to this many versions, ask for each tag's release; else list all


class GitLabSource:
    """Reads one project's generic packages, files and release notes through a GitLabClient."""

    def __init__(self, client: GitLabClient, *, workers: int = DEFAULT_CONCURRENCY) -> None:
        self.client = client
        self.workers = workers

    @classmethod
    def from_env(
        cls, *, api_url: str, project: str, env: Mapping[str, str] | None = None,
        concurrency: int = DEFAULT_CONCURRENCY, **kw: Any
    ) -> GitLabSource:
        """A source whose token comes from GITLAB_TOKEN, CI_JOB_TOKEN or GITLAB_DEPLOY_TOKEN.

        At most `concurrency` API calls are in flight, fewer while GitLab pushes back.
        """
        kw.setdefault("transport", throttled_transport(concurrency))
        client = GitLabClient.from_env(api_url=api_url, project=project, env=env, **kw)
        return cls(client, workers=concurrency)

    def describe(self) -> str:
        return f"GitLab project {self.client.project} at {self.client.api_url}"

    def close(self) -> None:
        self.client.close()

    # -- listing --------------------------------------------------------------------------------
    def versions(self, package: str) -> list[PackageVersion]:
        self._require_listing_token()
        project = f"/projects/{self.client.project_ref}"
        params = {"package_type": GENERIC, "package_name": package,
                  "order_by": "created_at", "sort": "asc"}
        rows: dict[int, Any] = {}  # JSON objects, their values unchecked
        listing: dict[int, Future[tuple[Artifact, ...]]] = {}
        with ThreadPoolExecutor(max_workers=self.workers) as pool:
            try:
                # A row's files are asked for as soon as its page arrives, while the walk goes on.
                for row in self.client.paginate(f"{project}/packages", params):
                    at = _row_at(row, package)
                    row_id = boundary.integer(row.get("id"), at=at, field="id")
                    if row_id in rows:  # offset pages can repeat a row mid-walk
                        continue
                    rows[row_id] = row
                    if _publishable(row, package):
                        # a version goes into request paths: checked before its first is sent
                        boundary.version(row.get("version"), at=at)
                        listing[row_id] = pool.submit(self._files, row)
                notes = self._notes(sorted({rows[i]["version"] for i in listing}), pool)
                files = {row_id: done.result() for row_id, done in listing.items()}
            except BaseException:  # the first failure (or Ctrl-C) stops the calls not yet sent
                pool.shutdown(wait=False, cancel_futures=True)
                raise
        # Values pass as GitLab sent them, typed or not: the catalogue's boundary checks each.
        return [
            PackageVersion(
                package=row.get("name"),
                version=row.get("version"),
                created_at=boundary.timestamp(row.get("created_at"), at=_row_at(row, package),
                                              field="created_at"),
                files=files.get(row_id, ()),
                status=row.get("status", PUBLISHED_STATUS),
                package_type=row.get("package_type", GENERIC),
                notes=notes.get(row["version"], "") if row_id in files else "",
            )
            for row_id, row in rows.items()
        ]

    def _require_listing_token(self) -> None:
        credential: Credential | None = self.client.credential
        if credential is not None and credential.is_deploy_token:
            raise AuthError(
                f"{credential.variable} holds a deploy token, and GitLab does not let deploy "
                "tokens list packages: set GITLAB_TOKEN (an access token with read_api), or run "
                "in GitLab CI where CI_JOB_TOKEN is set"
            )

    def _files(self, row: dict[str, Any]) -> tuple[Artifact, ...]:
        path = f"/projects/{self.client.project_ref}/packages/{row['id']}/package_files"
        artifacts = []
        for f in self.client.paginate(path):
            at = boundary.where(row["name"], row["version"])
            if not isinstance(f, dict):
                raise RegistryValueError(f"{at}: refusing a package file that is not a JSON "
                                         f"object: {boundary.quoted(f)}")
            raw: Any = f  # values pass as GitLab sent them: the catalogue's boundary checks them
            # Nested names come back encoded (`docs%2Fmanual.pdf`); the site uses the real path.
            name = unquote(boundary.text(raw.get("file_name"), at=at, field="file_name"))
            at = boundary.where(row["name"], row["version"], name)
            if raw.get("file_sha256") is None:
                raise SourceError(
                    f"GitLab lists no SHA256 for {at}, so it cannot be verified: "
                    "upload it again through the generic packages API"
                )
            uploaded = raw.get("created_at")
            artifacts.append(Artifact(
                name=name,
                size=raw.get("size"),
                sha256=raw.get("file_sha256"),
                file_id=raw.get("id"),
                uploaded_at=None if uploaded is None
                else boundary.timestamp(uploaded, at=at, field="created_at"),
            ))
        return tuple(artifacts)

    def _notes(self, versions: list[str], pool: ThreadPoolExecutor) -> dict[str, str]:
        """Release notes by tag; optional, so a project without Releases just has none."""
        if not versions:
            return {}
        try:
            if len(versions) <= PER_TAG_NOTES_LIMIT:
                found = dict(zip(versions, pool.map(self._release_notes, versions), strict=True))
            else:
                releases = self.client.paginate(self.client.releases_path())
                found = {r["tag_name"]: _description(r, r["tag_name"]) for r in releases
                         if isinstance(r, dict) and isinstance(r.get("tag_name"), str)}
        except SourceError as e:
            if isinstance(e, TransientError):
                raise
            log.warning("release notes are left out: %s", e)
            return {}
        return {v: found.get(v, "") for v in versions}

    def _release_notes(self, tag: str) -> str:
        response = self.client.request("GET", self.client.releases_path(tag), ok=(200, 404))
        if response.status_code == 404:  # no Release for this tag: no notes
            return ""
        body = response.json()
        return _description(body, tag) if isinstance(body, dict) else ""

    # -- bytes ----------------------------------------------------------------------------------
    @contextmanager
    def open(self, package: str, version: str, artifact: Artifact) -> Iterator[Iterator[bytes]]:
        label = f"{package} {version} {artifact.name}"
        try:
            with self.client.stream(self.client.generic_path(package, version, artifact.name)) \
                    as chunks:
                yield chunks
        except SourceError as e:  # name the file the user knows, not just the URL
            raise type(e)(f"{label}: {e}") from e


def _row_at(row: Any, package: str) -> str:
    """Where a listed row sits, for errors; refuses a row that is not a JSON object."""
    if not isinstance(row, dict):
        raise RegistryValueError(f"{package}: refusing a listed package that is not a JSON "
                                 f"object: {boundary.quoted(row)}")
    return boundary.where(row.get("name", package), row.get("version"))


def _description(release: dict[str, Any], tag: object) -> str:
    """A Release's Markdown notes; GitLab sends null for none."""
    text = release.get("description")
    return "" if text is None else boundary.text(text, at=f"release {boundary.shown(tag)}",
                                                 field="description")


def _publishable(row: dict[str, Any], package: str) -> bool:
    """Rows the catalogue could publish; only these have their files listed."""
    return (row.get("name") == package and row.get("status") == PUBLISHED_STATUS
            and row.get("package_type", GENERIC) == GENERIC)
