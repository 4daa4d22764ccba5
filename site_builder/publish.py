"""Upload local files into the generic package registry as one package version, safely re-runnable.

    files = collect_files([Path("dist")])            # dist/a.zip → "a.zip", dist/sub/b → "sub/b"
    check_names("VoiceInput", "v1.2.0", files)        # GitLab's regexes, before any upload
    results = Publisher(client, "VoiceInput", "v1.2.0").publish(files)

Uploads go strictly one at a time: GitLab answers 500 when uploads into a new version race
to create the package (GITLAB.md 1.2). The version's files are listed first; a file already
there with the same SHA256 is skipped, so a re-run adds no duplicates. Each body streams from
disk and is hashed on the way; the registry's `file_sha256` must equal that hash. After a 5xx
or a dropped connection the upload may still have landed, so the files are listed again
before the upload is repeated.

Nested files are sent as real path segments (`…/v1.2.0/sub/b`): the newest GitLab's
`(*path/)` route stores them as `sub%2Fb`. Older GitLab refuses a `/` in a file name
whichever way it is sent, so flat names are the portable choice; see `NESTED_HINT`.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote

import httpx

from .boundary import leaves_folder
from .bounds import pause
from .catalog import SIGNING_NAMES, SUMS_NAME, SUMS_SIGNATURE_NAME
from .errors import AuthError, ConfigError, PublishError, SourceError
from .gitlab import RETRY_STATUSES, GitLabClient, server_wait
from .hashing import CHUNK, file_sha256
from .render.machine import sums_text
from .signing import SigningKey, trusted_comment

log = logging.getLogger("mkdocs.plugins.downloads")

# lib/gitlab/regex/packages.rb (GITLAB.md 1.3); re.ASCII because Ruby's \w is ASCII-only.
PACKAGE_NAME_RE = re.compile(r"[A-Za-z0-9._+-]+")
VERSION_RE = re.compile(r"(?!.*\.\.)[\w+.-]+", re.ASCII)
FILE_NAME_RE = re.compile(r"(?!~)[A-Za-z0-9._+~-]+(?<!~)")
STATUSES = ("default", "hidden")
SKIPPED = "skipped (already there)"
LISTABLE = ("default", "deprecated")  # package_files of other statuses answer 404
DEFAULT_MAX_FILE_SIZE = 5 * 1024**3  # plan limit `generic_packages_max_file_size`
NESTED_HINT = (
    "nested file names need a GitLab with sub-directory support in generic packages; "
    "on older GitLab flatten the folder (for example `docs-manual.pdf`)"
)


@dataclass(frozen=True, slots=True)
class LocalFile:
    """A file to upload and the registry file name it gets (`sub/file` for nested files)."""

    name: str
    path: Path
    size: int


@dataclass(frozen=True, slots=True)
class RemoteFile:
    """One package-file row of the version, its name percent-decoded."""

    id: int
    name: str
    size: int
    sha256: str


@dataclass(frozen=True, slots=True)
class Uploaded:
    """The outcome for one file, one row of the summary table."""

    name: str
    size: int
    sha256: str
    outcome: str  # "uploaded", "skipped (already there)", …


@dataclass(slots=True)
class VersionState:
    """What the registry holds for one name and version: status and files, if listable."""

    exists: bool = False
    status: str | None = None
    listable: bool = True  # hidden packages' files cannot be listed (GITLAB.md 2.2)
    files: list[RemoteFile] = field(default_factory=list)

    def matching(self, name: str, sha256: str) -> RemoteFile | None:
        return next((f for f in self.files if f.name == name and f.sha256 == sha256), None)

    def names(self) -> set[str]:
        return {f.name for f in self.files}


# -- pure helpers -------------------------------------------------------------------------------

def collect_files(paths: Sequence[Path]) -> list[LocalFile]:
    """Files as given, folders recursively (names relative to the folder); sorted, no clashes."""
    found: dict[str, LocalFile] = {}
    for root in paths:
        if root.is_file():
            pairs = [(root.name, root)]
        elif root.is_dir():
            entries = sorted(root.rglob("*"))
            pairs = [(p.relative_to(root).as_posix(), p) for p in entries if p.is_file()]
            escaping = [str(p) for p in entries if p.is_symlink() and leaves_folder(p, root)]
            if escaping:
                raise ConfigError(
                    f"refusing to publish links that leave {root}: {', '.join(escaping)}; "
                    "copy those files into the folder, or name them on the command line"
                )
        else:
            raise ConfigError(f"{root} is not a file or folder: check the paths to publish")
        for name, path in pairs:
            if name in found and found[name].path != path:
                raise ConfigError(
                    f"two files would both be named {name!r} in the registry "
                    f"({found[name].path} and {path}): publish one of them"
                )
            found[name] = LocalFile(name=name, path=path, size=path.stat().st_size)
    if not found:
        raise ConfigError("nothing to publish: the given folders hold no files")
    return sorted(found.values(), key=lambda f: f.name)


def check_names(package: str, version: str, files: Iterable[LocalFile]) -> None:
    """Refuse, before anything is uploaded, what GitLab's regexes would refuse midway."""
    if not PACKAGE_NAME_RE.fullmatch(package):
        raise ConfigError(
            f"package name {package!r} is not allowed by GitLab: use letters, digits and . _ - +"
        )
    if not VERSION_RE.fullmatch(version):
        raise ConfigError(
            f"version {version!r} is not allowed by GitLab: use letters, digits and _ + . - "
            "without '..' (for example 1.2.0 or v1.2.0-rc.1)"
        )
    for local in files:
        if not all(FILE_NAME_RE.fullmatch(part) for part in local.name.split("/")):
            raise ConfigError(
                f"file name {local.name!r} ({local.path}) is not allowed by GitLab: use "
                "letters, digits and . _ - + ~ (not ~ first or last), no spaces; rename it"
            )
        if local.size > DEFAULT_MAX_FILE_SIZE:
            log.warning("%s is %d bytes, above GitLab's default 5 GiB limit for generic "
                        "files; the upload fails unless an admin raised the limit",
                        local.name, local.size)


def refuse_signing_names(files: Iterable[LocalFile]) -> None:
    """With --sign, the version's SHA256SUMS and its signature are written, never uploaded."""
    for local in files:
        if local.name in SIGNING_NAMES:
            raise ConfigError(
                f"{local.path} would be replaced by the {local.name} that --sign writes: "
                "leave it out, or publish without --sign"
            )


class HashingReader:
    """The bytes of a file in chunks, hashed on the way; never the whole file in memory.

    It stops with an error if the file is not the size it had when it was planned: a file
    still being written would otherwise upload as something nobody built.
    """

    def __init__(self, local: LocalFile) -> None:
        self.local = local
        self.digest = hashlib.sha256()
        self.sent = 0

    def __iter__(self) -> Iterator[bytes]:
        with self.local.path.open("rb") as handle:
            while self.sent < self.local.size and (chunk := handle.read(CHUNK)):
                chunk = chunk[: self.local.size - self.sent]
                self.digest.update(chunk)
                self.sent += len(chunk)
                yield chunk
        if self.sent != self.local.size:
            raise PublishError(
                f"{self.local.path} changed size while uploading: publish it when it is complete"
            )

    @property
    def complete(self) -> bool:
        return self.sent == self.local.size

    def hexdigest(self) -> str:
        return self.digest.hexdigest()


# -- talking to the registry --------------------------------------------------------------------

def version_state(client: GitLabClient, package: str, version: str) -> VersionState:
    """The registry's status and files of exactly `package` `version` (name filter is fuzzy).

    A deploy token may upload but not list packages (GITLAB.md 2.1): its files are then
    checked one by one, as those of a hidden package are.
    """
    state = VersionState()
    if client.credential is not None and client.credential.is_deploy_token:
        state.listable = False
        return state
    base = f"/projects/{client.project_ref}/packages"
    params = {"package_type": "generic", "package_name": package, "package_version": version}
    rows = [*client.paginate(base, params), *client.paginate(base, {**params, "status": "hidden"})]
    for row in rows:
        if (row.get("name"), row.get("version")) != (package, version):
            continue
        if row.get("package_type", "generic") != "generic":
            continue
        status = str(row.get("status", "default"))
        if status == "pending_destruction":
            continue
        state.exists, state.status = True, status
        if status not in LISTABLE:
            state.listable = False
            continue
        for item in client.paginate(f"{base}/{row['id']}/package_files"):
            state.files.append(RemoteFile(
                id=int(item["id"]), name=unquote(str(item["file_name"])),
                size=int(item.get("size") or 0), sha256=str(item.get("file_sha256") or "").lower(),
            ))
    return state


class Publisher:
    """Uploads one package version's files, one at a time, skipping what is already there."""

    def __init__(
        self,
        client: GitLabClient,
        package: str,
        version: str,
        *,
        status: str = "default",
    ) -> None:
        if status not in STATUSES:
            raise ConfigError(f"--status must be one of {', '.join(STATUSES)} (got {status!r})")
        self.client, self.package, self.version, self.status = client, package, version, status

    def publish(self, files: Sequence[LocalFile]) -> list[Uploaded]:
        check_names(self.package, self.version, files)
        state = version_state(self.client, self.package, self.version)
        results: list[Uploaded] = []
        for local in files:
            existing = self._existing_sha256(state, local)
            if existing is not None:
                results.append(Uploaded(local.name, local.size, existing, SKIPPED))
                continue
            sha256 = self._upload(local, state)
            results.append(Uploaded(local.name, local.size, sha256, "uploaded"))
        if state.exists and state.status not in (None, self.status) and all(
            r.outcome == SKIPPED for r in results
        ):
            results = self._apply_status(files, results)
        return results

    def sign(self, key: SigningKey, results: Sequence[Uploaded], folder: Path) -> list[Uploaded]:
        """Write `SHA256SUMS` of the version's files and its signature into `folder`, and
        upload both (skipped when the registry already holds the same bytes).

        The list names every file the version now holds (the build requires exactly that),
        with the SHA256 the registry stored, each checked against what was just uploaded.
        """
        state = version_state(self.client, self.package, self.version)
        newest: dict[str, RemoteFile] = {}
        for remote in state.files:
            if remote.name not in SIGNING_NAMES and (
                    remote.name not in newest or remote.id > newest[remote.name].id):
                newest[remote.name] = remote
        listed = ({n: f.sha256 for n, f in newest.items()} if state.listable
                  else {r.name: r.sha256 for r in results})
        if not state.listable:
            log.warning("the version's files cannot be listed (a hidden package, or a deploy "
                        "token): %s names only the files of this run; the build refuses the "
                        "version if it holds others", SUMS_NAME)
        for result in results:
            if listed.get(result.name) != result.sha256:
                raise PublishError(
                    f"{result.name}: the registry serves other bytes than were uploaded "
                    f"(SHA256 {listed.get(result.name) or 'none'}); nothing was signed: "
                    "publish again"
                )
        sums = sums_text((listed[name], name) for name in sorted(listed))
        signature = key.sign(sums, comment=trusted_comment(self.package, self.version))
        (folder / SUMS_NAME).write_bytes(sums)
        (folder / SUMS_SIGNATURE_NAME).write_bytes(signature)
        return self.publish(collect_files([folder / SUMS_NAME, folder / SUMS_SIGNATURE_NAME]))

    def _existing_sha256(self, state: VersionState, local: LocalFile) -> str | None:
        """The local SHA256 when the registry already holds those bytes under that name."""
        if state.listable:
            if local.name not in state.names():
                return None  # hashing first would read a big new file twice
            sha256 = file_sha256(local.path)
            return sha256 if state.matching(local.name, sha256) else None
        served = self._served(local)
        if served is None:
            return None
        sha256 = file_sha256(local.path)
        return sha256 if sha256 == served else None

    def _served(self, local: LocalFile) -> str | None:
        """The SHA256 GitLab reports for a file of a hidden package (its files cannot be listed)."""
        path = self.client.generic_path(self.package, self.version, local.name)
        response = self.client.request("HEAD", path, ok=(200, 404))  # redirects are followed
        if response.status_code != 200:
            return None  # absent, or redirected to object storage: it carries no checksum
        return response.headers.get("X-Checksum-SHA256", "").lower() or None

    def _apply_status(self, files: Sequence[LocalFile], results: list[Uploaded]) -> list[Uploaded]:
        """GitLab changes a package's status only with an upload: repeat the smallest file."""
        smallest = min(files, key=lambda f: f.size)
        self._upload(smallest, VersionState(exists=True, listable=False))
        outcome = f"uploaded again (sets status {self.status})"
        return [Uploaded(r.name, r.size, r.sha256, outcome) if r.name == smallest.name else r
                for r in results]

    def _upload(self, local: LocalFile, state: VersionState) -> str:
        """PUT one file; after a 5xx or a dropped connection, check before trying again.

        The client's own retries are off for this request: repeating a PUT blindly could
        store the file twice. The pauses and attempts follow the client's RetryPolicy, and a
        server's `Retry-After` (or `RateLimit-Reset`) wins over the backoff, up to `max_wait`.
        A 429 is refused before the body is stored, so it needs no check that the file landed.
        """
        known = {f.id for f in state.files}
        path = self.client.generic_path(self.package, self.version, local.name)
        params = {"select": "package_file", "status": self.status}
        policy = self.client.retry_policy
        for attempt in range(max(policy.max_attempts, 1)):
            asked: float | None = None  # seconds the server asked us to wait
            throttled = False
            reader = HashingReader(local)
            log.info("uploading %s (%d bytes)", local.name, local.size)
            try:
                response = self.client.request(
                    "PUT", path, params=params, content=iter(reader),
                    headers={"Content-Length": str(local.size),
                             "Content-Type": "application/octet-stream"},
                    retry=False, ok=(200, 201, *RETRY_STATUSES),
                )
            except SourceError as e:
                if isinstance(e, AuthError) or not isinstance(e.__cause__, httpx.TransportError):
                    raise self._refused(local, e) from e
                failure = f"the connection failed ({type(e.__cause__).__name__})"
            else:
                if response.status_code in (200, 201):
                    return self._verified(local, reader, response, known)
                failure = f"GitLab answered {response.status_code}"
                asked, throttled = server_wait(response.headers), response.status_code == 429
            sha256 = reader.hexdigest() if reader.complete else file_sha256(local.path)
            if not throttled and self._landed(local, sha256, known):
                log.info("%s landed despite: %s", local.name, failure)
                return sha256
            if attempt + 1 >= policy.max_attempts:
                raise PublishError(
                    f"uploading {local.name} failed {attempt + 1} times, last: {failure}; "
                    "re-run publish later (files already uploaded are skipped)"
                )
            log.warning("uploading %s: %s; trying again", local.name, failure)
            wait = policy.base_wait * 2**attempt if asked is None else max(asked, 0.0)
            pause(min(wait, policy.max_wait))
        raise AssertionError("unreachable")

    def _verified(self, local: LocalFile, reader: HashingReader, response: httpx.Response,
                  known: set[int]) -> str:
        sent = reader.hexdigest()
        try:
            body = response.json()
        except ValueError:
            body = None
        stored = str(body.get("file_sha256") or "").lower() if isinstance(body, dict) else ""
        if not stored and self._landed(local, sent, known):
            return sent  # an answer without `select=package_file` support: the listing agrees
        if stored != sent:
            raise PublishError(
                f"{local.name}: GitLab stored SHA256 {stored or 'unknown'} but {sent} was sent; "
                "the upload was damaged on the way: delete that package file and publish again"
            )
        return sent

    def _landed(self, local: LocalFile, sha256: str, known: set[int]) -> bool:
        state = version_state(self.client, self.package, self.version)
        if not state.listable:
            return self._served(local) == sha256
        return any(f.name == local.name and f.sha256 == sha256 and f.id not in known
                   for f in state.files)

    def _refused(self, local: LocalFile, error: SourceError) -> PublishError:
        """The one line for an upload GitLab will not take, whatever the number of tries."""
        said = str(error)
        if "Duplicate package is not allowed" in said:
            return PublishError(
                f"{self.package} {self.version} already has a different {local.name} and this "
                "group does not allow duplicates: publish a new version, or allow duplicates "
                "(group Settings → Packages and registries)"
            )
        if "File is too large" in said or " 413 " in said:
            return PublishError(
                f"{local.name} ({local.size} bytes) is larger than this GitLab allows for "
                "generic packages (5 GiB by default): split it, or ask an admin to raise "
                "the limit"
            )
        nested = "/" in local.name and not isinstance(error, AuthError) and (
            " 404 " in said or "file_name" in said)
        hint = f"; {NESTED_HINT}" if nested else ""
        return PublishError(f"cannot upload {local.name}: {said}{hint}")
