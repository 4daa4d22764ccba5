"""A fake GitLab (REST API v4: generic packages, packages list, releases) for site_builder's tests.

A real HTTP server on 127.0.0.1 with in-memory state, built to the facts in GITLAB.md: a
private project, token kinds and roles, GitLab's offset pagination headers, additive duplicate
uploads (downloads serve the newest row), substring `package_name` search, hidden packages that
are downloadable but never listed, and 302 downloads to a separate object store. Faults are
queued with `fail_next` / `truncate_next` (see fake_object_store.FakeHTTPServer).

As strict as GitLab, since a lenient double hides bugs: without credentials only a generic
download answers 401 with a Basic challenge (other reads of the private project answer 404
Project Not Found); HTTP Basic counts only on the generic package routes; a nested file name
sent as one `%2F` segment is a 400; `package_version` is ignored unless `gitlab_version` is
16.6 or later; `tampered` can serve a `null` `file_sha256`; `rate_limit` throttles every route
(downloads and uploads too) with Retry-After and RateLimit-* headers.

    with FakeGitLab() as gl:
        gl.add_token("glpat-x", role="developer")
        gl.add_package("VoiceInput", "v1.0.0", {"VoiceInput-v1.0.0.zip": b"..."})
        client = httpx.Client(base_url=gl.api_url, headers={"PRIVATE-TOKEN": "glpat-x"})
"""

from __future__ import annotations

import base64
import hashlib
import math
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit

try:  # tests/ on sys.path (pytest's default for a folder without __init__.py)
    from fake_object_store import (
        FakeHTTPServer,
        FakeObjectStore,
        HTTPError,
        Request,
        RequestRecord,
        content_disposition,
        iso,
        iso_now,
    )
except ImportError:  # tests/ imported as a package
    from .fake_object_store import (  # type: ignore[no-redef]
        FakeHTTPServer,
        FakeObjectStore,
        HTTPError,
        Request,
        RequestRecord,
        content_disposition,
        iso,
        iso_now,
    )

__all__ = ["FakeFile", "FakeGitLab", "FakeObjectStore", "FakePackage", "RequestRecord", "Token"]

# lib/gitlab/regex/packages.rb; re.ASCII because Ruby's \w is ASCII-only.
NAME_RE = re.compile(r"[A-Za-z0-9._+-]+")
VERSION_RE = re.compile(r"(?!.*\.\.)[\w+.-]+", re.ASCII)
FILE_RE = re.compile(r"(?!~)[A-Za-z0-9._+~-]+(?<!~)")
# app/models/releases/link.rb's \A/(?:[\-\.\w]+/?)*[\da-zA-Z]+\z, rewritten without the nested
# quantifier (it backtracks exponentially in Python): no "//", and ends alphanumeric.
ASSET_PATH_RE = re.compile(r"/[-.\w][-.\w/]*[\da-zA-Z]|/[\da-zA-Z]", re.ASCII)
PACKAGE_TYPES = {"maven", "npm", "conan", "nuget", "pypi", "composer", "generic", "golang",
                 "debian", "rubygems", "helm", "terraform_module", "rpm", "ml_model"}
STATUSES = {"default", "hidden", "processing", "error", "pending_destruction", "deprecated"}
DISPLAYABLE = {"default", "error", "deprecated"}  # listed when no `status` filter is given
INSTALLABLE = {"default", "hidden", "deprecated"}  # downloadable by exact URL
DETAILED = {"default", "deprecated"}  # have _links.web_path; single GET and package_files work
ROLES = {"guest": 10, "reporter": 20, "developer": 30, "maintainer": 40, "owner": 50}
LINK_TYPES = {"other", "runbook", "image", "package"}
KEEP_CONTENT_LIMIT = 64 * 1024 * 1024  # bigger uploads are hashed, not kept
FORBIDDEN = {"message": "403 Forbidden"}

_PROJECT = r"^/api/v4/projects/(?P<id>[^/]+)"
_GENERIC = r"/packages/generic/(?P<name>[^/]+)/(?P<ver>[^/]+)/(?P<file>.+)"
_TAG = r"/releases/(?P<tag>[^/]+)"

Params = dict[str, str]
ABSENT = object()  # in `FakeGitLab.tampered`: serve the row without this field


def encode_file_name(name: str) -> str:
    """Stored form of a file name: nested paths go through URI.encode_uri_component."""
    return quote(name, safe="-_.!~*'()") if "/" in name else name


@dataclass
class FakeFile:
    id: int
    package_id: int
    file_name: str  # stored form, e.g. 'docs%2Fmanual.pdf'
    content: bytes  # b"" when an upload was too big to keep
    created_at: str = field(default_factory=iso_now)
    sha256: str = ""  # "" means: the real SHA256 of content (tests may set a wrong one)
    size: int = -1  # -1 means: len(content)

    def __post_init__(self) -> None:
        self.sha256 = self.sha256 or hashlib.sha256(self.content).hexdigest()
        self.size = len(self.content) if self.size < 0 else self.size

    def json(self) -> dict[str, Any]:
        return {"id": self.id, "package_id": self.package_id, "created_at": self.created_at,
                "file_name": self.file_name, "size": self.size, "file_md5": None,
                "file_sha1": None, "file_sha256": self.sha256}


@dataclass
class FakePackage:
    id: int
    name: str
    version: str
    package_type: str = "generic"
    status: str = "default"
    created_at: str = field(default_factory=iso_now)
    files: list[FakeFile] = field(default_factory=list)
    last_downloaded_at: str | None = None


@dataclass(frozen=True)
class Token:
    kind: str  # 'private' | 'job' | 'deploy'
    role: str
    project_id: int | None  # job tokens: the job's project (None: this project)


class FakeGitLab(FakeHTTPServer):
    """One private project's package registry and releases, served over real HTTP."""

    def __init__(self, *, project_id: int = 42, project_path: str = "group/speech-to-text"):
        super().__init__()
        self.project_id, self.project_path = project_id, project_path
        self.tokens: dict[str, Token] = {}
        self.job_token_allowlist: set[int] = set()
        self.packages: list[FakePackage] = []
        self.releases: dict[str, dict[str, Any]] = {}
        self.upload_delay = 0.0
        self.latency = 0.0  # seconds every request waits before its answer (bench: ~0.04)
        self.max_file_size = 5 * 1024**3  # plan limit; 0 = unlimited
        self.duplicates_allowed = True
        self.pagination_count_limit = 10_000  # above it X-Total(-Pages) and rel="last" vanish
        self.max_parallel_uploads = 0
        self.fail_after_store: list[int] = []  # next uploads: stored, then answered this status
        self._active_uploads = 0
        self._store: FakeObjectStore | None = None
        self._link_paths: dict[int, str | None] = {}  # link id -> direct_asset_path
        # Hostile rows: package or file id -> fields served instead of the real ones (a lying
        # proxy or instance; ids of packages and files are disjoint).
        self.tampered: dict[int, dict[str, Any]] = {}
        # GitLab before 16.6 ignores `package_version` on the packages list (GITLAB.md 2.1).
        self.gitlab_version: tuple[int, int] = (17, 6)
        # Rack::Attack: at most `requests` in any `seconds`, on every route (downloads and
        # uploads too), then 429 with Retry-After and RateLimit-* headers. None: no limit.
        self.rate_limit: tuple[int, float] | None = None
        self.throttled: list[RequestRecord] = []  # requests answered 429 by the rate limit
        self._recent: list[float] = []
        self._last_time = datetime(2000, 1, 1, tzinfo=UTC)
        self._ids = {"package": 0, "file": 1000, "link": 0}  # disjoint ids catch mix-ups
        routes: list[tuple[str, str, Callable[[Request, Params], None]]] = [
            ("GET", r"/packages", self._list_packages),
            ("GET", r"/packages/(?P<pid>\d+)", self._get_package),
            ("GET", r"/packages/(?P<pid>\d+)/package_files", self._list_files),
            ("GET HEAD", _GENERIC, self._download),
            ("PUT", _GENERIC, self._upload),
            ("GET", r"/releases", self._list_releases),
            ("POST", r"/releases", self._create_release),
            ("GET PUT", _TAG, self._release),
            ("GET", _TAG + r"/assets/links", self._list_links),
            ("POST", _TAG + r"/assets/links", self._create_link),
            ("GET PUT DELETE", _TAG + r"/assets/links/(?P<lid>\d+)", self._link),
        ]
        self._routes = [(m.split(), re.compile(_PROJECT + p + "$"), h) for m, p, h in routes]

    @property
    def api_url(self) -> str:
        return f"{self.url}/api/v4"

    # -- test setup -----------------------------------------------------------------------------
    def add_token(self, value: str, *, kind: str = "private", role: str = "developer",
                  project_id: int | None = None) -> None:
        """Register a token. Deploy tokens: reporter = read_package_registry, developer+ = write."""
        assert kind in ("private", "job", "deploy") and role in ROLES, (kind, role)
        self.tokens[value] = Token(kind, role, project_id if kind == "job" else None)

    def add_package(self, name: str, version: str, files: dict[str, bytes], *,
                    status: str = "default", package_type: str = "generic",
                    created_at: str | None = None) -> FakePackage:
        with self._lock:
            pkg = FakePackage(self._next("package"), name, version, package_type, status,
                              created_at or self._timestamp())
            self.packages.append(pkg)
            for file_name, content in files.items():
                self.add_file(pkg, file_name, content)
        return pkg

    def add_file(self, package: FakePackage, name: str, content: bytes, *,
                 sha256: str | None = None) -> FakeFile:
        """Add a file row; the same name again is a duplicate row with a higher id (GitLab 1.4)."""
        with self._lock:
            f = FakeFile(self._next("file"), package.id, encode_file_name(name), content,
                         self._timestamp(), sha256 or "")
            package.files.append(f)
        return f

    def package_files(self, name: str, version: str) -> list[FakeFile]:
        with self._lock:
            return [f for p in self.packages if (p.name, p.version) == (name, version)
                    for f in p.files]

    def redirect_downloads_to(self, store: FakeObjectStore | None) -> None:
        """Serve generic downloads as 302 to presigned URLs on `store` (None: serve them again)."""
        self._store = store

    @property
    def uploads(self) -> list[RequestRecord]:
        """Generic PUTs that reached the body, in arrival order (for overlap assertions)."""
        return [r for r in self.requests if r.upload_start is not None]

    def _next(self, kind: str) -> int:
        self._ids[kind] += 1
        return self._ids[kind]

    def _timestamp(self) -> str:
        # Strictly increasing, so order_by=created_at is deterministic even within a millisecond.
        now = datetime.now(UTC)
        now = now.replace(microsecond=now.microsecond // 1000 * 1000)
        self._last_time = max(now, self._last_time + timedelta(milliseconds=1))
        return iso(self._last_time)

    # -- routing and auth -----------------------------------------------------------------------
    def route(self, req: Request) -> None:
        if self.latency:  # a real instance's per-call time; concurrent calls overlap, as there
            time.sleep(self.latency)
        self._throttle(req)
        path_known = False
        for methods, pattern, handler in self._routes:
            if m := pattern.match(req.url.path):
                path_known = True
                if req.command in methods:
                    handler(req, m.groupdict())
                    return
        if path_known:
            raise HTTPError(405, {"error": "405 Not Allowed"})
        raise HTTPError(404, {"error": "404 Not Found"})

    def _throttle(self, req: Request) -> None:
        if self.rate_limit is None:
            return
        limit, seconds = self.rate_limit
        now = time.monotonic()
        with self._lock:
            self._recent = [t for t in self._recent if now - t < seconds]
            if len(self._recent) < limit:
                self._recent.append(now)
                return
            wait = seconds - (now - self._recent[0])
            self.throttled.append(req.rec)
        raise HTTPError(429, b"Retry later\n", {
            "Retry-After": str(max(math.ceil(wait), 1)), "RateLimit-Limit": str(limit),
            "RateLimit-Remaining": "0", "RateLimit-Reset": str(math.ceil(time.time() + wait)),
        })

    def _credentials(self, req: Request, *, basic: bool) -> tuple[str | None, str] | None:
        """(token kind the header demands, or None for any; value), from the first auth header.

        HTTP Basic counts only where GitLab accepts it (`basic`: the generic package routes);
        elsewhere it is no credential at all."""
        h = req.rec.headers
        for header in ("private-token", "job-token", "deploy-token"):
            if header in h:
                return header.split("-")[0], h[header]
        scheme, _, value = h.get("authorization", "").partition(" ")
        if scheme.lower() == "bearer":  # PAT or OAuth token
            return "private", value.strip()
        if scheme.lower() == "basic" and basic:
            try:  # the user name is ignored; the password is the token, of any kind
                return None, base64.b64decode(value.strip()).decode().partition(":")[2]
            except ValueError:
                return None, ""
        return None

    def _auth(self, req: Request, project: str, action: str) -> Token:
        """Authorize `action`: read_package, list, write_package, read_release, write_release.

        Without credentials only a generic download answers 401 with a Basic challenge
        (basic_auth_helpers.rb); an upload or a write answers a plain 401; every other read
        of this private project answers 404, as if it did not exist (GITLAB.md 1.6)."""
        creds = self._credentials(req, basic=action in ("read_package", "write_package"))
        if creds is None:
            if action == "read_package":
                raise HTTPError(401, {"message": "401 Unauthorized"},
                                {"WWW-Authenticate": 'Basic realm="GitLab Packages Registry"'})
            if action.startswith("write"):
                raise HTTPError(401, {"message": "401 Unauthorized"})
            raise HTTPError(404, {"message": "404 Project Not Found"})
        token = self.tokens.get(creds[1])
        if token is None or creds[0] not in (None, token.kind):
            raise HTTPError(401, {"message": "401 Unauthorized"})
        key = unquote(project)  # numeric id or URL-encoded path
        if key != str(self.project_id) and key.lower() != self.project_path.lower():
            raise HTTPError(404, {"message": "404 Project Not Found"})
        source = token.project_id
        if token.kind == "job" and source not in (None, self.project_id,
                                                  *self.job_token_allowlist):
            target = self.project_path.rsplit("/", 1)[-1]
            raise HTTPError(403, {"message": "403 Forbidden - Authentication by CI/CD job token"
                                             f" not allowed from project-{source} to {target}."})
        if token.kind == "deploy" and action not in ("read_package", "write_package"):
            raise HTTPError(403, FORBIDDEN)  # deploy tokens only work on the format endpoints
        needed = {"read_release": "guest", "read_package": "reporter", "list": "reporter"}
        if ROLES[token.role] < ROLES[needed.get(action, "developer")]:
            raise HTTPError(403, FORBIDDEN)
        return token

    def _paginate(self, req: Request, items: list[Any]) -> tuple[list[Any], dict[str, str]]:
        """Kaminari-style offset page plus GitLab's X-* and Link headers."""
        try:
            page = max(int(req.query.get("page") or 1), 1)
            per_page = int(req.query.get("per_page") or 20)
        except ValueError as e:
            raise HTTPError(400, {"error": "page is invalid"}) from e
        per_page = 20 if per_page < 1 else min(per_page, 100)  # clamped silently, like GitLab
        total = len(items)
        pages = max(math.ceil(total / per_page), 1)
        nxt = page + 1 if page < pages else None
        prev = page - 1 if 1 < page <= pages else None
        kept = [(k, v) for k, v in parse_qsl(req.url.query, keep_blank_values=True)
                if k not in ("page", "per_page")]

        def href(n: int) -> str:
            query = urlencode([*kept, ("page", n), ("per_page", per_page)])
            return f"{self.url}{req.url.path}?{query}"

        headers = {"X-Page": str(page), "X-Per-Page": str(per_page),
                   "X-Next-Page": str(nxt or ""), "X-Prev-Page": str(prev or "")}
        rels = [(prev, "prev"), (nxt, "next"), (1, "first")]
        if total <= self.pagination_count_limit:
            headers |= {"X-Total": str(total), "X-Total-Pages": str(pages)}
            rels.append((pages, "last"))
        headers["Link"] = ", ".join(f'<{href(n)}>; rel="{rel}"' for n, rel in rels if n)
        return items[(page - 1) * per_page: page * per_page], headers

    # -- packages API ---------------------------------------------------------------------------
    def _package_json(self, p: FakePackage, token: Token) -> dict[str, Any]:
        links: dict[str, str] = {}
        if p.status in DETAILED:
            links["web_path"] = f"/{self.project_path}/-/packages/{p.id}"
        if ROLES[token.role] >= ROLES["maintainer"]:
            links["delete_api_path"] = f"{self.api_url}/projects/{self.project_id}/packages/{p.id}"
        return self._tamper({
            "id": p.id, "name": p.name, "version": p.version, "package_type": p.package_type,
            "status": p.status, "_links": links, "created_at": p.created_at,
            "last_downloaded_at": p.last_downloaded_at, "tags": []})

    def _tamper(self, row: dict[str, Any]) -> dict[str, Any]:
        fields = {**row, **self.tampered.get(row["id"], {})}
        return {k: v for k, v in fields.items() if v is not ABSENT}

    def _list_packages(self, req: Request, m: Params) -> None:
        token = self._auth(req, m["id"], "list")
        q = req.query
        order_by = {"created_at": "created_at", "name": "name", "version": "version",
                    "type": "package_type"}
        for param, valid in (("package_type", PACKAGE_TYPES), ("status", STATUSES),
                             ("order_by", order_by), ("sort", {"asc", "desc"})):
            if param in q and q[param] not in valid:
                raise HTTPError(400, {"error": f"{param} does not have a valid value"})
        with self._lock:
            rows = [p for p in self.packages
                    if (p.status == q["status"] if "status" in q else p.status in DISPLAYABLE)
                    and p.package_type == q.get("package_type", p.package_type)
                    and q.get("package_name", "").lower() in p.name.lower()  # ILIKE %name%
                    and (self.gitlab_version < (16, 6)  # older GitLab ignores the filter
                         or p.version == q.get("package_version", p.version))]
        attr = order_by[q.get("order_by", "created_at")]
        # A plain string sort with no tie-breaker, as in SQL: "1.10.0" < "1.9.0".
        rows.sort(key=lambda p: getattr(p, attr), reverse=q.get("sort") == "desc")
        page, headers = self._paginate(req, rows)
        req.send_json(200, [self._package_json(p, token) for p in page], headers)

    def _find_package(self, package_id: str) -> FakePackage:
        with self._lock:
            for p in self.packages:
                if str(p.id) == package_id and p.status in DETAILED:
                    return p
        raise HTTPError(404, {"message": "404 Package Not Found"})

    def _get_package(self, req: Request, m: Params) -> None:
        token = self._auth(req, m["id"], "list")
        req.send_json(200, self._package_json(self._find_package(m["pid"]), token))

    def _list_files(self, req: Request, m: Params) -> None:
        self._auth(req, m["id"], "list")
        package = self._find_package(m["pid"])  # hidden packages: 404
        order_by = req.query.get("order_by", "id")
        if order_by not in ("id", "created_at", "file_name"):
            raise HTTPError(400, {"error": "order_by does not have a valid value"})
        with self._lock:
            files = sorted(package.files, key=lambda f: (getattr(f, order_by), f.id),
                           reverse=req.query.get("sort") == "desc")
        page, headers = self._paginate(req, files)
        req.send_json(200, [self._tamper(f.json()) for f in page], headers)

    # -- generic packages -----------------------------------------------------------------------
    def _generic_params(self, m: Params) -> tuple[str, str, str]:
        """Validate like the Grape params; return name, version and the stored file name."""
        name, version = unquote(m["name"]), unquote(m["ver"])
        if "%2f" in m["file"].lower():  # a nested name must come as real path segments
            raise HTTPError(400, {"error": "file_name is invalid"})
        segments = unquote(m["file"]).split("/")
        checks = (("package_name", NAME_RE.fullmatch(name) and name != ".."),
                  ("package_version", VERSION_RE.fullmatch(version)),
                  ("file_name", all(FILE_RE.fullmatch(s) and s != ".." for s in segments)))
        for param, ok in checks:
            if not ok:
                raise HTTPError(400, {"error": f"{param} is invalid"})
        return name, version, encode_file_name("/".join(segments))

    def _generic_package(self, name: str, version: str, statuses: set[str]) -> FakePackage | None:
        matches = [p for p in self.packages if p.name == name and p.version == version
                   and p.package_type == "generic" and p.status in statuses]
        return matches[-1] if matches else None

    def _download(self, req: Request, m: Params) -> None:
        self._auth(req, m["id"], "read_package")
        name, version, file_name = self._generic_params(m)
        with self._lock:
            package = self._generic_package(name, version, INSTALLABLE)
            files = [f for f in (package.files if package else []) if f.file_name == file_name]
            if package is None or not files:
                raise HTTPError(404, {"message": "404 Package Not Found"})
            f = max(files, key=lambda f: f.id)  # duplicates: the newest row wins
            package.last_downloaded_at = iso_now()
        if len(f.content) != f.size:
            raise HTTPError(500, {"message": "fake_gitlab keeps no content over 64 MiB"})
        truncate = req.command == "GET" and bool(self._take(self._truncations, "GET", req.path))
        if self._store is not None:  # object storage with direct download: no checksum header
            key = f"{self.project_id}/packages/{f.package_id}/files/{f.id}/{file_name}"
            location = self._store.presign(key, f.content, filename=file_name, truncate=truncate)
            req.send(302, b"", {"Location": location, "Cache-Control": "no-cache"})
            return
        headers = {"Content-Type": "application/octet-stream",
                   "Content-Disposition": content_disposition(file_name),
                   "Content-Transfer-Encoding": "binary", "X-Checksum-SHA256": f.sha256}
        req.send_content(f.content, headers, truncate=truncate)

    def _upload(self, req: Request, m: Params) -> None:
        self._auth(req, m["id"], "write_package")
        name, version, file_name = self._generic_params(m)
        status, select = req.query.get("status"), req.query.get("select")
        if status not in (None, "default", "hidden"):
            raise HTTPError(400, {"error": "status does not have a valid value"})
        if select not in (None, "package_file"):
            raise HTTPError(400, {"error": "select does not have a valid value"})
        with self._lock:
            self._active_uploads += 1
            self.max_parallel_uploads = max(self.max_parallel_uploads, self._active_uploads)
        req.rec.upload_start = time.monotonic()
        try:
            size, digest, content = self._receive(req)
            time.sleep(self.upload_delay)
        finally:
            with self._lock:
                self._active_uploads -= 1
            req.rec.upload_end = time.monotonic()
        if self.max_file_size and size > self.max_file_size:
            raise HTTPError(400, {"message": "400 Bad request - File is too large"})
        with self._lock:
            live = STATUSES - {"pending_destruction"}
            package = self._generic_package(name, version, live) or self.add_package(
                name, version, {}, status=status or "default")
            if not self.duplicates_allowed and any(f.file_name == file_name for f in package.files):
                raise HTTPError(400, {"message": "400 Bad request - Duplicate package is not "
                                                 "allowed"})
            if status and status != package.status:
                package.status = status  # the whole package changes status (GITLAB.md 1.2)
            f = FakeFile(self._next("file"), package.id, file_name, content, self._timestamp(),
                         digest, size)
            package.files.append(f)
            failure = self.fail_after_store.pop(0) if self.fail_after_store else None
        if failure:  # a proxy timeout or crash after the file landed: the client can't tell
            raise HTTPError(failure, {"message": f"{failure} Internal Server Error"})
        if select != "package_file":
            req.send_json(201, {"message": "201 Created"})
            return
        req.send_json(201, {  # the raw model is presented, internal columns and all
            **f.json(), "updated_at": f.created_at, "file_store": 1,
            "file": {"url": f"/{digest[:2]}/{digest[2:4]}/packages/{package.id}/files/{f.id}"},
            "verification_retry_at": None, "verified_at": None, "verification_failure": None,
            "verification_retry_count": None, "verification_checksum": None,
            "verification_state": 0, "verification_started_at": None, "new_file_path": None})

    def _receive(self, req: Request) -> tuple[int, str, bytes]:
        """Hash the body as it streams in; keep it only while it is small enough to hold."""
        h, buf, size = hashlib.sha256(), bytearray(), 0
        for chunk in req.iter_body():
            h.update(chunk)
            size += len(chunk)
            if size <= KEEP_CONTENT_LIMIT:
                buf += chunk
            elif buf:
                buf = bytearray()
        return size, h.hexdigest(), bytes(buf) if size <= KEEP_CONTENT_LIMIT else b""

    # -- releases -------------------------------------------------------------------------------
    def _release_url(self, tag: str) -> str:
        return f"{self.url}/{self.project_path}/-/releases/{quote(tag, safe='')}"

    def _get_release(self, tag: str) -> dict[str, Any]:
        if (release := self.releases.get(unquote(tag))) is None:
            raise HTTPError(404, {"message": "404 Not Found"})
        return release

    def _released_at(self, params: dict[str, Any], default: str) -> str:
        if not params.get("released_at"):
            return default
        try:
            when = datetime.fromisoformat(str(params["released_at"]).replace("Z", "+00:00"))
        except ValueError as e:
            raise HTTPError(400, {"error": "released_at is invalid"}) from e
        return iso(when if when.tzinfo else when.replace(tzinfo=UTC))

    def _make_link(self, tag: str, params: dict[str, Any], others: list[dict[str, Any]],
                   link_id: int | None = None) -> dict[str, Any]:
        """Validate one asset link as Releases::Link does; return its JSON or raise 400."""
        name, url = params.get("name"), params.get("url")
        path = params.get("direct_asset_path") or params.get("filepath")  # filepath: old alias
        link_type = params.get("link_type") or "other"
        parts = urlsplit(url or "")
        errors = [message for failed, message in (
            (not name, "name can't be blank"),
            (parts.scheme not in ("http", "https", "ftp") or not parts.netloc,
             "url is blocked: Only allowed schemes are http, https, ftp"),
            (path and (len(path) > 128 or "//" in path or not ASSET_PATH_RE.fullmatch(path)),
             "filepath is in an invalid format"),
            (link_type not in LINK_TYPES, "link_type is not included in the list")) if failed]
        for other in others:
            theirs = {"name": other["name"], "url": other["url"],
                      "filepath": self._link_paths.get(other["id"])}
            ours = {"name": name, "url": url, "filepath": path}
            errors += [f"{k} has already been taken" for k, v in ours.items()
                       if v and v == theirs[k]]
        if errors:
            raise HTTPError(400, {"message": errors})
        link_id = link_id or self._next("link")
        self._link_paths[link_id] = path
        direct = f"{self._release_url(tag)}/downloads{path}" if path else url
        return {"id": link_id, "name": name, "url": url, "direct_asset_url": direct,
                "link_type": link_type}

    def _list_releases(self, req: Request, m: Params) -> None:
        self._auth(req, m["id"], "read_release")
        with self._lock:
            rows = sorted(self.releases.values(), key=lambda r: r["released_at"], reverse=True)
        page, headers = self._paginate(req, rows)
        req.send_json(200, page, headers)

    def _create_release(self, req: Request, m: Params) -> None:
        self._auth(req, m["id"], "write_release")
        params = req.read_params()
        if not (tag := params.get("tag_name")):
            raise HTTPError(400, {"error": "tag_name is missing"})
        with self._lock:
            if tag in self.releases:
                raise HTTPError(409, {"message": "Release already exists"})
            links: list[dict[str, Any]] = []
            for link in (params.get("assets") or {}).get("links", []):
                try:
                    links.append(self._make_link(tag, link, links))
                except HTTPError as e:  # the model's errors, as RecordInvalid words them
                    assert isinstance(e.body, dict)
                    detail = ", ".join(f"Links {msg}" for msg in e.body["message"])
                    raise HTTPError(400, {"message": f"Validation failed: {detail}"}) from None
            now, sha = iso_now(), hashlib.sha1(tag.encode()).hexdigest()
            released_at = self._released_at(params, now)
            self.releases[tag] = release = {
                "tag_name": tag, "name": params.get("name") or tag,
                "description": params.get("description"), "created_at": now,
                "released_at": released_at, "upcoming_release": released_at > now,
                "author": {"id": 1, "username": "fake-user", "name": "Fake User"},
                "commit": {"id": sha, "short_id": sha[:8], "title": "Fake commit"},
                "milestones": [], "commit_path": f"/{self.project_path}/-/commit/{sha}",
                "tag_path": f"/{self.project_path}/-/tags/{quote(tag, safe='')}",
                "assets": {"count": len(links), "sources": [], "links": links},
                "evidences": [],
                "_links": {"self": self._release_url(tag),
                           "edit_url": f"{self._release_url(tag)}/edit"},
            }
        req.send_json(201, release)

    def _release(self, req: Request, m: Params) -> None:
        self._auth(req, m["id"], "read_release" if req.command == "GET" else "write_release")
        params = req.read_params() if req.command == "PUT" else {}
        with self._lock:
            release = self._get_release(m["tag"])
            release.update({k: params[k] for k in ("name", "description") if k in params})
            release["released_at"] = self._released_at(params, release["released_at"])
        req.send_json(200, release)

    def _list_links(self, req: Request, m: Params) -> None:
        self._auth(req, m["id"], "read_release")
        with self._lock:
            links = list(self._get_release(m["tag"])["assets"]["links"])
        page, headers = self._paginate(req, links)
        req.send_json(200, page, headers)

    def _create_link(self, req: Request, m: Params) -> None:
        self._auth(req, m["id"], "write_release")
        params = req.read_params()
        with self._lock:
            release = self._get_release(m["tag"])
            links = release["assets"]["links"]
            links.append(link := self._make_link(release["tag_name"], params, links))
            release["assets"]["count"] = len(links) + len(release["assets"]["sources"])
        req.send_json(201, link)

    def _link(self, req: Request, m: Params) -> None:
        write = req.command != "GET"
        self._auth(req, m["id"], "write_release" if write else "read_release")
        params = req.read_params() if req.command == "PUT" else {}
        with self._lock:
            release = self._get_release(m["tag"])
            links = release["assets"]["links"]
            index = next((i for i, ln in enumerate(links) if str(ln["id"]) == m["lid"]), None)
            if index is None:
                raise HTTPError(404, {"message": "404 Not found"})
            link = links[index]
            if req.command == "PUT":
                merged = {**link, "direct_asset_path": self._link_paths.get(link["id"]), **params}
                others = [other for other in links if other is not link]
                link = self._make_link(release["tag_name"], merged, others, link["id"])
                links[index] = link
            elif req.command == "DELETE":
                del links[index]
            release["assets"]["count"] = len(links) + len(release["assets"]["sources"])
        req.send_json(200, link)
