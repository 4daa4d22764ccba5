"""The one module that speaks HTTP to GitLab's REST API v4.

    client = GitLabClient.from_env(api_url="https://gitlab.example.com/api/v4", project="42")
    for row in client.paginate(f"/projects/{client.project_ref}/packages"): ...
    with client.stream(client.generic_path("VoiceInput", "v1.0.0", "a.zip")) as chunks: ...

What it takes care of, so callers don't have to:
- the token header (`auth.credential_from_env`), sent to GitLab's origin only: redirects are
  followed here, by hand, because httpx strips only `Authorization` when a redirect leaves the
  host, and a generic download usually answers 302 to a presigned object-storage URL;
- retries (`RetryPolicy`, via tenacity) of 429, 5xx and connection errors, honouring
  `Retry-After` then `RateLimit-Reset`, else exponential backoff with jitter, in bounded time;
- one-line errors (`errors.AuthError`, `SourceError`, `TransientError`) that say what to check
  and never contain the token;
- offset pagination (`X-Next-Page`, else `Link: rel="next"`), which also works above the
  10,000 rows where GitLab stops sending `X-Total`; it ends at `X-Total-Pages` when sent, at a
  page that does not move forward, and at `Limits.max_pages` (an error, never a silent cut);
- bounds (`bounds.Limits`): an API answer must arrive whole within `deadline` and at most
  `max_response` bytes after decompression; a download's opening has the deadline, its body
  a throughput floor; an interrupt (`bounds.cancel_all`) stops every request at once.
"""

from __future__ import annotations

import email.utils
import math
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self
from urllib.parse import quote

import httpx
import tenacity

from . import __version__, bounds
from .auth import AUTH_HEADERS, Credential, credential_from_env, mask_secret
from .bounds import Exceeded, Guard, Limits
from .errors import AuthError, SourceError, TransientError

RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
MAX_REDIRECTS = 5
PER_PAGE = 100  # GitLab's maximum; larger values are silently clamped


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How hard to retry a request GitLab may answer later: 429, 5xx, a dropped connection.

    `max_wait` caps each pause, a server's `Retry-After` included; no retry starts once
    `max_total_seconds` would be exceeded. Tests use `RetryPolicy(base_wait=0.01, ...)`.
    """

    max_attempts: int = 5
    max_total_seconds: float = 120.0
    base_wait: float = 1.0
    max_wait: float = 60.0


DEFAULT_RETRY = RetryPolicy()  # what a client gets unless told otherwise; tests swap it


class _Retryable(Exception):
    """One attempt GitLab may answer differently later; carries what to report if it won't."""

    def __init__(self, *, response: httpx.Response | None = None,
                 error: httpx.TransportError | None = None) -> None:
        super().__init__()
        self.response, self.error = response, error


class _WaitForServer(tenacity.wait.wait_base):
    """`Retry-After` (seconds or a date), else `RateLimit-Reset` (Unix time), else backoff."""

    def __init__(self, policy: RetryPolicy) -> None:
        self.policy = policy
        self.backoff = tenacity.wait_random_exponential(
            multiplier=policy.base_wait, max=policy.max_wait
        )

    def __call__(self, retry_state: tenacity.RetryCallState) -> float:
        outcome = retry_state.outcome
        failure = outcome.exception() if outcome is not None else None
        response = failure.response if isinstance(failure, _Retryable) else None
        asked = server_wait(response.headers) if response is not None else None
        if asked is None:
            return float(self.backoff(retry_state))
        return min(max(asked, 0.0), self.policy.max_wait)


def server_wait(headers: Mapping[str, str], *, now: float | None = None) -> float | None:
    """Seconds the server asked us to wait, or None when it did not say."""
    now = time.time() if now is None else now
    retry_after = headers.get("retry-after", "").strip()
    if retry_after:
        try:
            seconds = float(retry_after)
        except ValueError:
            pass
        else:
            return seconds if math.isfinite(seconds) else None
        try:
            return email.utils.parsedate_to_datetime(retry_after).timestamp() - now
        except (TypeError, ValueError):
            pass
    try:
        reset = float(headers.get("ratelimit-reset", "")) - now
    except ValueError:
        return None
    return reset if math.isfinite(reset) else None


def _same_origin(a: httpx.URL, b: httpx.URL) -> bool:
    default = {"http": 80, "https": 443}
    return (a.scheme, a.host, a.port or default.get(a.scheme)) == (
        b.scheme, b.host, b.port or default.get(b.scheme)
    )


def _gitlab_message(response: httpx.Response, mask: Callable[[str], str]) -> str:
    """GitLab's own words: `message` or `error` of a JSON body, else the first line of text.

    Secrets are masked before the text is cut: a token echoed at the cut stays masked whole.
    """
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict):
        found = body.get("message") or body.get("error") or ""
        text = "; ".join(map(str, found)) if isinstance(found, list) else str(found)
    else:
        text = response.text.strip().splitlines()[0] if response.text.strip() else ""
    return mask(" ".join(text.split()))[:300] or response.reason_phrase


class GitLabClient:
    """One GitLab project's API, with its credential, retries and safe redirects.

    Thread-safe (one `httpx.Client` underneath); close it, or use it as a context manager.
    """

    def __init__(
        self,
        api_url: str,
        project: str,
        credential: Credential | None,
        *,
        retry: RetryPolicy | None = None,  # None: DEFAULT_RETRY, read when the client is made
        timeout: float = 30.0,
        limits: Limits | None = None,  # None: bounds.DEFAULT_LIMITS, read when the client is made
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.api_url = api_url.rstrip("/")
        self.project = str(project)
        self.project_ref = quote(self.project, safe="")
        self.credential = credential
        self.retry_policy = retry or DEFAULT_RETRY
        self.limits = limits or bounds.DEFAULT_LIMITS
        self.timeout = timeout
        self._origin = httpx.URL(self.api_url)
        self._http = httpx.Client(
            timeout=timeout,
            transport=transport,
            follow_redirects=False,  # followed in `_send`, which decides who sees the token
            headers={"User-Agent": f"site-builder/{__version__}",
                     "Accept-Encoding": bounds.ACCEPT_ENCODING},
        )

    @classmethod
    def from_env(
        cls, *, api_url: str, project: str, env: Mapping[str, str] | None = None, **kw: Any
    ) -> GitLabClient:
        """A client with the token of GITLAB_TOKEN, CI_JOB_TOKEN or GITLAB_DEPLOY_TOKEN."""
        return cls(api_url, project, credential_from_env(env), **kw)

    def __repr__(self) -> str:
        return f"GitLabClient({self.api_url!r}, {self.project!r})"

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    # -- paths ----------------------------------------------------------------------------------
    def generic_path(self, package: str, version: str, file_name: str) -> str:
        """The download/upload path of a generic file, every reserved byte (`+` too) encoded.

        A nested name (`docs/manual.pdf`) goes as real path segments: that is the newest
        GitLab's `(*path/):file_name` route, the only one that stores nested names at all.
        """
        parts = (package, version, *file_name.split("/"))
        return f"/projects/{self.project_ref}/packages/generic/" + "/".join(
            quote(part, safe="") for part in parts
        )

    def releases_path(self, tag: str | None = None) -> str:
        """The Releases API path of the project, or of one tag's release (`/` encoded)."""
        path = f"/projects/{self.project_ref}/releases"
        return f"{path}/{quote(tag, safe='')}" if tag is not None else path

    # -- requests -------------------------------------------------------------------------------
    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        content: Any = None,
        headers: Mapping[str, str] | None = None,
        retry: bool = True,
        ok: tuple[int, ...] = (200, 201, 204),
    ) -> httpx.Response:
        """One API call, body read; a status outside `ok` raises AuthError or SourceError.

        `path` is relative to the API URL (`/projects/{client.project_ref}/releases`).
        With `retry`, 429, 5xx and connection errors are retried per the RetryPolicy; a
        seekable `content` (an open file) is rewound before each attempt.
        """
        start = content.tell() if hasattr(content, "seek") else None
        # An upload may take long: its body has the throughput floor, its answer the deadline.
        uploading = content is not None and not isinstance(content, bytes | str)
        limits = self.limits

        def attempt() -> httpx.Response:
            if start is not None:
                content.seek(start)
            guard = Guard(f"{method} {path}", http=self._http, deadline=limits.deadline,
                          min_rate=limits.min_rate if uploading else 0,
                          rate_window=limits.rate_window)
            body = guard.sending(content) if uploading else content
            with bounds.watching(guard):
                response = self._send(method, path, guard, params=params, json=json,
                                      content=body, headers=headers)
                response = self._read(response, method, path, guard)
            if response.status_code in RETRY_STATUSES and response.status_code not in ok:
                raise _Retryable(response=response)
            return response

        response = self._with_retries(attempt, method, path, retry=retry)
        if response.status_code not in ok:
            raise self._error(response, method, path)
        return response

    def get_json(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        return self._json(self.request("GET", path, params=params), path)

    def paginate(self, path: str, params: Mapping[str, Any] | None = None) -> Iterator[Any]:
        """Every row of a list endpoint, page by page, `per_page` at GitLab's maximum (100).

        The walk ends on an empty page, at `X-Total-Pages`, or at a next page that does not
        move forward; more than `Limits.max_pages` pages is an error, never a silent cut.
        """
        query = {"per_page": PER_PAGE, **(params or {})}
        query["per_page"] = min(int(query["per_page"]), PER_PAGE)
        page = _page_number(str(query.get("page", 1))) or 1
        for _ in range(self.limits.max_pages):
            response = self.request("GET", path, params=query)
            rows = self._json(response, path)
            if not isinstance(rows, list):
                raise SourceError(f"GitLab's answer to GET {path} is not a list of rows")
            yield from rows
            next_page = _page_number(response.headers.get("x-next-page", ""))
            if next_page is None:  # some proxies drop X-* headers; Link survives
                next_url = response.links.get("next", {}).get("url", "")
                next_page = _page_number(httpx.URL(next_url).params.get("page", "")) \
                    if next_url else None
            last = _page_number(response.headers.get("x-total-pages", ""))
            if not rows or next_page is None or next_page <= page or (last and page >= last):
                return
            page = next_page
            query = {**query, "page": str(next_page)}
        raise SourceError(
            f"GitLab's list GET {path} goes on past {self.limits.max_pages} pages of "
            f"{PER_PAGE}: a proxy or the server is looping; check the API URL {self.api_url}"
        )

    @contextmanager
    def stream(self, path: str) -> Iterator[Iterator[bytes]]:
        """GET a file's bytes in chunks, following redirects without leaking the token.

        The opening is retried like `request`; a body that ends early (or a connection that
        drops mid-body) raises TransientError, so the caller can start the download over.
        """

        limits = self.limits
        guards: list[Guard] = []  # the last attempt's: its body is read under it

        def attempt() -> httpx.Response:
            # The opening has the deadline; the body a throughput floor instead (`_body`).
            guard = Guard(f"GET {path}", deadline=limits.deadline, min_rate=limits.min_rate,
                          rate_window=limits.rate_window, http=self._http)
            guards[:] = [guard]
            with bounds.watching(guard):
                # identity: the bytes must be the registry's own, to match its SHA256 and size
                response = self._send("GET", path, guard,
                                      headers={"Accept-Encoding": "identity"})
                if response.status_code in RETRY_STATUSES:
                    raise _Retryable(response=self._read(response, "GET", path, guard))
            return response

        response = self._with_retries(attempt, "GET", path, retry=True)
        guard = guards[0]
        try:
            if response.status_code != 200:
                with suppress(httpx.TransportError, _Retryable, SourceError), \
                        bounds.watching(guard):
                    response = self._read(response, "GET", path, guard)  # for its message
                raise self._error(response, "GET", path)
            with bounds.watching(guard):
                yield self._body(response, path, guard)
        finally:
            response.close()

    # -- internals ------------------------------------------------------------------------------
    def _json(self, response: httpx.Response, path: str) -> Any:
        try:
            return response.json()
        except ValueError as e:  # usually an API URL without /api/v4: a web page came back
            raise SourceError(
                f"GitLab's answer to GET {path} is not JSON: check that the API URL "
                f"{self.api_url} ends in /api/v4"
            ) from e

    def _headers_for(self, url: httpx.URL, extra: Mapping[str, str] | None) -> dict[str, str]:
        """The token goes to GitLab's own origin only, never to object storage or a CDN."""
        headers = dict(extra or {})
        if _same_origin(url, self._origin):
            if self.credential is not None:
                headers[self.credential.header] = self.credential.value
        else:
            headers = {k: v for k, v in headers.items() if k.lower() not in AUTH_HEADERS}
        return headers

    def _send(self, method: str, path: str, guard: Guard, *, params: Any = None,
              json: Any = None, content: Any = None,
              headers: Mapping[str, str] | None = None) -> httpx.Response:
        """One attempt, body unread; GET and HEAD follow redirects here, re-deciding the
        headers per hop. `guard` bounds it all; its trip is a SourceError, never retried."""
        url = httpx.URL(self.api_url + path, params=params)
        for _ in range(MAX_REDIRECTS + 1):
            request = self._http.build_request(
                method, url, json=json, content=content, headers=self._headers_for(url, headers),
                extensions=guard.extensions(self.timeout),
            )
            try:
                response = self._http.send(request, stream=True)
            except httpx.UnsupportedProtocol as e:  # asking again cannot help: no retry
                raise SourceError(self._mask(
                    f"cannot request {url} ({e}): check the API URL {self.api_url}"
                )) from e
            except httpx.TransportError as e:
                self._raise_if_tripped(guard, method, path)
                raise _Retryable(error=e) from e
            except Exceeded as e:  # raised while sending an upload's body
                raise self._exceeded(e, method, path) from e
            guard.attach(response)
            self._raise_if_tripped(guard, method, path)
            if method not in ("GET", "HEAD") or not response.has_redirect_location:
                return response
            response.close()
            try:
                url = url.join(response.headers["location"])
            except httpx.InvalidURL as e:
                raise SourceError(
                    f"GitLab redirected {method} {path} to an invalid URL ({e})"
                ) from e
        raise SourceError(f"GitLab redirected GET {path} more than {MAX_REDIRECTS} times")

    def _read(self, response: httpx.Response, method: str, path: str,
              guard: Guard) -> httpx.Response:
        """The answer, body read within the guard's deadline and `Limits.max_response`."""
        try:
            return bounds.read_capped(response, guard, self.limits.max_response)
        except httpx.TransportError as e:  # the body was cut: same as a failed attempt
            raise _Retryable(error=e) from e
        except Exceeded as e:
            raise self._exceeded(e, method, path) from e

    def _raise_if_tripped(self, guard: Guard, method: str, path: str) -> None:
        try:
            guard.raise_if_tripped()
        except Exceeded as e:
            raise self._exceeded(e, method, path) from e

    def _exceeded(self, error: Exceeded, method: str, path: str) -> SourceError:
        return SourceError(self._mask(
            f"GitLab's answer to {method} {path} {error}, so it was cut: the server or a "
            f"proxy on the way misbehaves; check the API URL {self.api_url} and run again later"
        ))

    def _with_retries(self, attempt: Callable[[], httpx.Response], method: str, path: str, *,
                      retry: bool) -> httpx.Response:
        policy = self.retry_policy
        retrying = tenacity.Retrying(
            stop=tenacity.stop_after_attempt(policy.max_attempts if retry else 1)
            | tenacity.stop_before_delay(policy.max_total_seconds),
            wait=_WaitForServer(policy),
            sleep=bounds.pause,  # an interrupt ends a pause at once
            retry=tenacity.retry_if_exception_type(_Retryable),
            reraise=True,
        )
        try:
            response: httpx.Response = retrying(attempt)
        except _Retryable as failed:
            tries = retrying.statistics.get("attempt_number", 1)
            raise self._gave_up(failed, method, path, tries) from failed.error
        return response

    def _gave_up(self, failed: _Retryable, method: str, path: str, tries: int) -> SourceError:
        times = f"{tries} attempt{'s' if tries != 1 else ''}"
        if failed.response is None:
            return SourceError(self._mask(
                f"cannot reach GitLab for {method} {path} ({type(failed.error).__name__}: "
                f"{failed.error}) after {times}: check the API URL {self.api_url} and the network"
            ))
        response = failed.response
        status = f"{response.status_code} {_gitlab_message(response, self._mask)}"
        if response.status_code == 429:
            return SourceError(self._mask(
                f"GitLab kept rate-limiting {method} {path} ({status}) after {times}: "
                "wait a few minutes and run again"
            ))
        return SourceError(self._mask(
            f"GitLab kept failing {method} {path} ({status}) after {times}: "
            "it may be down or overloaded; run again later"
        ))

    def _error(self, response: httpx.Response, method: str, path: str) -> SourceError:
        """A one-line error for a final, unexpected status, naming what to check."""
        status, message = response.status_code, _gitlab_message(response, self._mask)
        if not _same_origin(response.url, self._origin):
            return SourceError(
                f"the storage at {response.url.host} that GitLab redirected {method} {path} to "
                f"answered {status} ({message}); run again, and if it persists ask the "
                "GitLab administrator to check the object storage"
            )
        said = f"GitLab answered {method} {path} with {status} ({message})"
        variable = self.credential.variable if self.credential else None
        token = f"the token in {variable}" if variable else "the token"
        if status == 401:
            if variable is None:
                return AuthError(
                    f"{said}: no token is set; set GITLAB_TOKEN (an access token with "
                    "read_api) or run in GitLab CI, where CI_JOB_TOKEN is set"
                )
            return AuthError(self._mask(
                f"{said}: {token} is wrong, expired or revoked; check {variable}"
            ))
        if status == 403:
            return AuthError(self._mask(f"{said}: {self._forbidden_hint(message, token)}"))
        if status == 404 and "project not found" in message.lower():
            hint = "no token is set, so only public projects are visible; set GITLAB_TOKEN" \
                if variable is None else f"{token} cannot see it"
            return AuthError(self._mask(
                f"{said}: project {self.project!r} does not exist or {hint}; check --project "
                "(a numeric id or group/project path) and the token's access"
            ))
        return SourceError(self._mask(said))

    def _forbidden_hint(self, message: str, token: str) -> str:
        if "job token" in message.lower():
            return (f"add this pipeline's project to the CI/CD job token allowlist of "
                    f"{self.project!r} (Settings > CI/CD > Job token permissions)")
        if self.credential is not None and self.credential.is_deploy_token:
            return ("deploy tokens can only download and upload package files; set "
                    "GITLAB_TOKEN (read_api) or use CI_JOB_TOKEN to read the package list")
        return (f"{token} needs at least the Reporter role on {self.project!r} (Developer to "
                "publish), and the project's package registry must be enabled")

    def _mask(self, text: str) -> str:
        """`text` without the token, whole or in part (see `auth.mask_secret`)."""
        if self.credential is not None and self.credential.value:
            text = mask_secret(text, self.credential.value)
        return text

    def _body(self, response: httpx.Response, path: str, guard: Guard) -> Iterator[bytes]:
        # Errors here are not caught by `_send`: they happen while *streaming* the body, after
        # the opening succeeded, so the whole download has to start over (TransientError).
        expected = response.headers.get("content-length", "")
        of_total = f" of {expected}" if expected.isdigit() else ""
        received = 0
        try:
            # as the bytes arrive, under the throughput floor; the caller writes them
            for chunk in guard.chunks(response.iter_raw()):
                received += len(chunk)
                yield chunk
        except Exceeded as e:
            raise TransientError(self._mask(
                f"the download of GET {path} {e}, so it was cut after {received}{of_total} "
                "bytes; the network or the server is too slow: run again later"
            )) from e
        except httpx.TransportError as e:
            raise TransientError(self._mask(
                f"the download of GET {path} broke off after {received}{of_total} bytes "
                f"({type(e).__name__}): the connection dropped; run again later"
            )) from e
        if of_total and received < int(expected):
            raise TransientError(
                f"the download of GET {path} ended after {received}{of_total} bytes: "
                "the connection dropped; run again later"
            )


def _page_number(text: str) -> int | None:
    """A page number from a header or query, None when absent or not a positive integer."""
    text = text.strip()
    return int(text) if text.isdigit() and 0 < int(text) < 10**9 else None
