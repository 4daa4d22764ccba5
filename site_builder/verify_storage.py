"""Re-check the artifacts a site keeps in object storage, as a visitor reaches them.

    files = stored_files(json.loads(Path("public/index.json").read_text()))
    checked = check_stored(files, links, problems, deep=False)

Each object is asked for at its public `url` (anonymously, over HTTP, redirects followed),
so a bucket policy or CDN that hides it is caught too. A HEAD must answer 200 with the
size and the SHA256 index.json publishes (`x-amz-meta-sha256`, or the store's own full-object
`x-amz-checksum-sha256`); `deep` downloads the bytes instead and hashes them. Page links and
`_redirects` targets into storage that index.json does not list must at least answer 200.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx

from .hashing import CHUNK
from .targets.bucket import stored_sha256

TIMEOUT = httpx.Timeout(30.0)
AT_ONCE = 8


@dataclass(frozen=True, slots=True)
class StoredFile:
    """An artifact index.json says lives in storage."""

    url: str
    name: str
    size: int
    sha256: str
    where: str  # e.g. "index.json v1.2.0"


def stored_files(index: Any) -> dict[str, StoredFile]:
    """`{url: StoredFile}` for every `"hosted": "storage"` file of index.json."""
    found: dict[str, StoredFile] = {}
    releases = index.get("releases") if isinstance(index, dict) else None
    for record in releases if isinstance(releases, list) else []:
        for entry in (record.get("files") or []) if isinstance(record, dict) else []:
            if not isinstance(entry, dict) or entry.get("hosted") != "storage":
                continue
            url = entry.get("url")
            if isinstance(url, str) and urlsplit(url).scheme in ("http", "https"):
                found.setdefault(url, StoredFile(
                    url=url, name=str(entry.get("name")), size=int(entry.get("size") or 0),
                    sha256=str(entry.get("sha256", "")).lower(),
                    where=f"index.json {record.get('version')}",
                ))
    return found


def storage_origins(files: Mapping[str, StoredFile]) -> set[str]:
    """`scheme://host[:port]` of each storage URL: links there are checked, not skipped."""
    return {f"{p.scheme}://{p.netloc}" for p in map(urlsplit, files)}


def check_stored(files: Mapping[str, StoredFile], links: Iterable[str], problems: list[str], *,
                 deep: bool = False) -> int:
    """Check every stored file (and every other link into storage); returns how many."""
    others = sorted(set(links) - set(files))
    with httpx.Client(timeout=TIMEOUT, follow_redirects=True) as client, \
            ThreadPoolExecutor(max_workers=AT_ONCE) as pool:
        found = list(pool.map(lambda f: _check_file(client, f, deep=deep), files.values()))
        found += pool.map(lambda url: _check_link(client, url), others)
    problems.extend(p for p in found if p)
    return len(files)


def _check_link(client: httpx.Client, url: str) -> str | None:
    try:
        status = client.head(url).status_code
    except httpx.HTTPError as e:
        return f"{url} did not answer ({type(e).__name__})"
    return None if status == 200 else f"{url} answers {status}; a page or rule links to it"


def _check_file(client: httpx.Client, file: StoredFile, *, deep: bool) -> str | None:
    label = f"{file.where}: {file.name}"
    try:
        if deep:
            return _hash_body(client, file, label)
        answer = client.head(file.url, headers={"x-amz-checksum-mode": "ENABLED"})
    except httpx.HTTPError as e:
        return f"{label} did not answer from {file.url} ({type(e).__name__})"
    if answer.status_code != 200:
        return f"{label} answers {answer.status_code} from {file.url}"
    size = answer.headers.get("content-length")
    if size != str(file.size):
        return f"{label} is {size} bytes at {file.url}, not {file.size}"
    sha = stored_sha256({
        "ChecksumSHA256": answer.headers.get("x-amz-checksum-sha256"),
        "ChecksumType": answer.headers.get("x-amz-checksum-type"),
        "ETag": answer.headers.get("etag", ""),
        "Metadata": {"sha256": answer.headers.get("x-amz-meta-sha256", "")},
    })
    if sha is None:
        return (f"{label} at {file.url} answers no SHA256 (x-amz-meta-sha256); "
                "run verify --deep to hash its bytes")
    if sha != file.sha256:
        return f"{label} at {file.url} has SHA256 {sha}, index.json says {file.sha256}"
    return None


def _hash_body(client: httpx.Client, file: StoredFile, label: str) -> str | None:
    digest, received = hashlib.sha256(), 0
    with client.stream("GET", file.url) as answer:
        if answer.status_code != 200:
            return f"{label} answers {answer.status_code} from {file.url}"
        for chunk in answer.iter_bytes(CHUNK):
            received += len(chunk)
            if received > file.size:  # a longer body can never match: stop reading
                return f"{label} at {file.url} is longer than {file.size} bytes"
            digest.update(chunk)
    if received != file.size:
        return f"{label} at {file.url} is {received} bytes, not {file.size}"
    actual = digest.hexdigest()
    if actual != file.sha256:
        return f"{label} at {file.url} has SHA256 {actual}, index.json says {file.sha256}"
    return None
