"""An S3-compatible bucket as the home of the artifacts (AWS S3, MinIO, Ceph, R2, GCS).

    bucket = Bucket.connect(config)                 # boto3; credentials from the SDK's chain
    missing = bucket.survey(wanted)                 # one LIST probe, a HEAD per object present
    bucket.upload(missing, cached, on_chunk=hook)   # from the verified cache, SHA256 on the wire

Published bytes are immutable. An object already under an artifact's key with the artifact's
SHA256 is left alone (a HEAD, no download); one with other bytes fails the build naming it,
and every write is conditional (`If-None-Match: *`), so a racing writer cannot be overwritten
either. Every upload carries its SHA256 for the store to check: the whole file's for a single
PUT, each part's for a multipart upload (whose full SHA256 we check while reading, before the
upload is completed). A multipart upload that fails or is interrupted is aborted, and S3 shows
no object under the key until `CompleteMultipartUpload`: nothing partial is ever published.

boto3 (not obstore): it is the reference client every S3-compatible store tests against, its
credential chain is the one AWS documents (variables, profiles, web identity, instance roles),
and it lets us send precomputed per-part SHA256 checksums and conditional writes.
Every botocore failure is translated here, at the boundary, into one StorageError line that
names the bucket and what to check, built from the error code, never from a server's text.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import mimetypes
import posixpath
import re
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from ..catalog import Artifact, Release
from ..errors import IntegrityError, StorageError
from ..fetch import ProgressHook
from ..hashing import CHUNK
from ..layout import SiteLayout
from .config import StorageConfig

log = logging.getLogger("mkdocs.plugins.downloads")

MAX_PARTS = 10_000  # S3's limit per multipart upload
HEADS_AT_ONCE = 8
CACHE_CONTROL = "public, max-age=31536000, immutable"  # a published key never changes
_HEX64 = re.compile(r"[0-9a-f]{64}")

_CREDENTIAL_CODES = {"InvalidAccessKeyId", "SignatureDoesNotMatch", "InvalidToken",
                     "ExpiredToken", "TokenRefreshRequired", "InvalidClientTokenId"}
_DIGEST_CODES = {"BadDigest", "InvalidDigest", "XAmzContentSHA256Mismatch"}
_REGION_CODES = {"PermanentRedirect", "AuthorizationHeaderMalformed",
                 "IllegalLocationConstraintException"}


@dataclass(frozen=True, slots=True)
class Upload:
    """One artifact bound for one key."""

    release: Release
    artifact: Artifact
    key: str

    @property
    def label(self) -> str:
        return f"{self.release.package} {self.release.version} {self.artifact.name}"


def checksum_b64(sha256_hex: str) -> str:
    """The `x-amz-checksum-sha256` form of a hex SHA256: the raw digest in base64."""
    return base64.b64encode(bytes.fromhex(sha256_hex)).decode("ascii")


def stored_sha256(head: Mapping[str, Any]) -> str | None:
    """The SHA256 of an object's bytes as a HEAD tells it, or None when it does not.

    The store's own full-object checksum wins; a multipart upload only has a composite one
    (a checksum of part checksums, `…-3`), so our uploads also carry `x-amz-meta-sha256`.
    """
    checksum = str(head.get("ChecksumSHA256") or "")
    kind = head.get("ChecksumType")
    # Without a ChecksumType (older stores, moto), a multipart ETag (`"…-3"`) marks it composite.
    multipart = "-" in checksum or "-" in str(head.get("ETag", ""))
    if checksum and (kind == "FULL_OBJECT" or (kind is None and not multipart)):
        try:
            return base64.b64decode(checksum, validate=True).hex()
        except ValueError:
            pass
    meta = str((head.get("Metadata") or {}).get("sha256", "")).lower()
    return meta if _HEX64.fullmatch(meta) else None


def content_disposition(name: str) -> str:
    """`attachment` with the file's own name (RFC 6266, percent-encoded: header-safe)."""
    return "attachment; filename*=UTF-8''" + quote(posixpath.basename(name), safe="")


class Bucket:
    """The bucket of one `storage:` config, reached through one thread-safe boto3 client."""

    def __init__(self, config: StorageConfig, client: Any) -> None:
        self.config = config
        self.client = client
        self.where = config.describe()

    @classmethod
    def connect(cls, config: StorageConfig) -> Bucket:
        """A client with deadlines on every wait; StorageError when no credentials are found."""
        import boto3
        from botocore.config import Config

        where = config.describe()
        with translated(where, config):
            session = boto3.session.Session()
            if session.get_credentials() is None:
                raise StorageError(
                    f"no credentials for {where}: set AWS_ACCESS_KEY_ID and "
                    "AWS_SECRET_ACCESS_KEY (masked, protected CI/CD variables), or give the "
                    "runner an AWS profile or role"
                )
            client = session.client(
                "s3",
                endpoint_url=config.endpoint_url,
                region_name=config.region or ("us-east-1" if config.endpoint_url else None),
                config=Config(
                    connect_timeout=10,
                    read_timeout=60,
                    retries={"max_attempts": 3, "mode": "standard"},
                    max_pool_connections=max(HEADS_AT_ONCE, config.uploads) + 2,
                    s3={"addressing_style": "path" if config.endpoint_url else "auto"},
                    # We send our own SHA256s; no CRC32 on top, no checksums on reads we skip.
                    request_checksum_calculation="when_required",
                    response_checksum_validation="when_required",
                ),
            )
        return cls(config, client)

    def uploads_for(self, items: Sequence[tuple[Release, Artifact]],
                    layout: SiteLayout) -> list[Upload]:
        """One Upload per key; keys mirror the site's paths under the prefix."""
        seen: dict[str, Upload] = {}
        for release, artifact in items:
            key = self.config.key(layout.artifact_path(release.version, artifact.name))
            seen.setdefault(key, Upload(release, artifact, key))
        return list(seen.values())

    # -- what is there ---------------------------------------------------------------------

    def survey(self, uploads: Sequence[Upload]) -> list[Upload]:
        """The uploads the bucket lacks; StorageError naming any key that holds other bytes."""
        with translated(self.where, self.config):
            # One LIST first: it answers a missing bucket, bad credentials or a wrong region
            # with an error code (a HEAD's error has no body), before any HEAD is spent.
            self.client.list_objects_v2(Bucket=self.config.bucket, MaxKeys=1,
                                        Prefix=self.config.key(""))
        with ThreadPoolExecutor(max_workers=HEADS_AT_ONCE) as pool:
            states = list(pool.map(self._state, uploads))
        pairs = list(zip(uploads, states, strict=True))
        conflicts = [(u, s) for u, s in pairs if s not in (None, "same")]
        if conflicts:
            upload, found = conflicts[0]
            more = f" (and {len(conflicts) - 1} more)" if len(conflicts) > 1 else ""
            raise StorageError(
                f"{self.config.describe(upload.key)} already holds other bytes ({found}) than "
                f"{upload.label} (SHA256 {upload.artifact.sha256}){more}: published files are "
                "never overwritten; delete the object if it is wrong, or publish a new version"
            )
        return [u for u, s in pairs if s is None]

    def _state(self, upload: Upload) -> str | None:
        """None when the key is free, "same" when it holds the artifact, else what it holds."""
        head = self.head(upload.key)
        if head is None:
            return None
        size = head.get("ContentLength")
        if size != upload.artifact.size:
            return f"{size} bytes, not {upload.artifact.size}"
        sha = stored_sha256(head)
        if sha is None:  # put there by another tool without a SHA256: hash it once
            log.info("%s has no SHA256 on record; reading it to compare",
                     self.config.describe(upload.key))
            sha = self.read_sha256(upload.key)
        return "same" if sha == upload.artifact.sha256.lower() else f"SHA256 {sha}"

    def head(self, key: str) -> dict[str, Any] | None:
        """The HEAD of `key` with its stored checksum, or None when there is no such object."""
        from botocore.exceptions import ClientError

        with translated(self.where, self.config, key=key):
            try:
                result: dict[str, Any] = self.client.head_object(
                    Bucket=self.config.bucket, Key=key, ChecksumMode="ENABLED"
                )
            except ClientError as e:
                if _status(e) == 404:
                    return None
                raise
        return result

    def read_sha256(self, key: str) -> str:
        """Stream an object and hash it, keeping nothing (for objects without a SHA256)."""
        digest = hashlib.sha256()
        with translated(self.where, self.config, key=key):
            body = self.client.get_object(Bucket=self.config.bucket, Key=key)["Body"]
            try:
                for chunk in body.iter_chunks(CHUNK):
                    digest.update(chunk)
            finally:
                body.close()
        return digest.hexdigest()

    # -- sending ---------------------------------------------------------------------------

    def upload(self, uploads: Sequence[Upload], cached: Mapping[str, Path], *,
               on_chunk: ProgressHook | None = None) -> None:
        """Send each upload from its verified cache file, a few at a time.

        On any failure (or Ctrl-C) the other workers stop at their next part and abort.
        """
        if not uploads:
            return
        total = sum(u.artifact.size for u in uploads)
        log.info("uploading %d file(s), %.1f MB, to %s", len(uploads), total / 1024**2, self.where)
        cancel = threading.Event()
        with ThreadPoolExecutor(max_workers=self.config.uploads) as pool:
            futures = [pool.submit(self._send, u, cached[u.artifact.sha256.lower()], cancel,
                                   on_chunk) for u in uploads]
            try:
                for future in futures:
                    future.result()
            except BaseException:
                cancel.set()
                for future in futures:
                    future.cancel()
                raise

    def _send(self, upload: Upload, path: Path, cancel: threading.Event,
              on_chunk: ProgressHook | None) -> None:
        if cancel.is_set():
            return

        def progress(size: int) -> None:
            if on_chunk is not None:
                on_chunk(upload.artifact, size)

        with translated(self.where, self.config, key=upload.key):
            if upload.artifact.size >= self.config.multipart_threshold:
                self._send_parts(upload, path, cancel, progress)
            else:
                self._send_whole(upload, path, progress)
        log.debug("uploaded %s", self.config.describe(upload.key))

    def _object_args(self, upload: Upload) -> dict[str, Any]:
        content_type = mimetypes.guess_type(upload.artifact.name)[0] or "application/octet-stream"
        return {
            "Bucket": self.config.bucket,
            "Key": upload.key,
            "ContentType": content_type,
            "ContentDisposition": content_disposition(upload.artifact.name),
            "CacheControl": CACHE_CONTROL,
            "Metadata": {"sha256": upload.artifact.sha256.lower()},
        }

    def _send_whole(self, upload: Upload, path: Path, progress: Callable[[int], None]) -> None:
        # The checksum is the registry's SHA256, not one computed from what we read now:
        # the store refuses the PUT unless the bytes it received are the verified ones.
        with _conflict_check(self, upload), path.open("rb") as handle:
            self.client.put_object(
                **self._object_args(upload),
                Body=_Counted(handle, progress),
                ContentLength=upload.artifact.size,
                ChecksumAlgorithm="SHA256",
                ChecksumSHA256=checksum_b64(upload.artifact.sha256),
                IfNoneMatch="*",
            )

    def _send_parts(self, upload: Upload, path: Path, cancel: threading.Event,
                    progress: Callable[[int], None]) -> None:
        size = upload.artifact.size
        part_size = max(self.config.part_size, -(-size // MAX_PARTS))
        bucket, key = self.config.bucket, upload.key
        upload_id = self.client.create_multipart_upload(
            **self._object_args(upload), ChecksumAlgorithm="SHA256"
        )["UploadId"]
        completed = False
        try:
            digest = hashlib.sha256()
            parts = []
            with path.open("rb") as handle:
                for number, data in enumerate(iter(lambda: handle.read(part_size), b""), 1):
                    if cancel.is_set():
                        raise StorageError(f"upload of {self.config.describe(key)} cancelled")
                    digest.update(data)
                    part_sum = base64.b64encode(hashlib.sha256(data).digest()).decode("ascii")
                    answer = self.client.upload_part(
                        Bucket=bucket, Key=key, UploadId=upload_id, PartNumber=number,
                        Body=data, ChecksumAlgorithm="SHA256", ChecksumSHA256=part_sum,
                    )
                    parts.append({"PartNumber": number, "ETag": answer["ETag"],
                                  "ChecksumSHA256": part_sum})
                    progress(len(data))
            if digest.hexdigest() != upload.artifact.sha256.lower():
                raise IntegrityError(
                    f"{upload.label}: the cached copy no longer hashes to its SHA256; "
                    "clear the cache folder and build again"
                )
            with _conflict_check(self, upload):
                self.client.complete_multipart_upload(
                    Bucket=bucket, Key=key, UploadId=upload_id,
                    MultipartUpload={"Parts": parts}, IfNoneMatch="*",
                )
            completed = True
        finally:
            if not completed:  # S3 shows nothing under the key; free the parts it holds
                try:
                    self.client.abort_multipart_upload(Bucket=bucket, Key=key,
                                                       UploadId=upload_id)
                except Exception as e:  # the first failure is the one to report
                    log.warning("could not abort the multipart upload of %s (%s); a "
                                "lifecycle rule for incomplete uploads will clear it",
                                self.config.describe(key), type(e).__name__)


class _Counted:
    """A file wrapper that reports how much botocore has read (the progress of one PUT)."""

    def __init__(self, handle: Any, progress: Callable[[int], None]) -> None:
        self.handle = handle
        self.progress = progress

    def read(self, size: int = -1) -> bytes:
        data: bytes = self.handle.read(size)
        self.progress(len(data))
        return data

    def __getattr__(self, name: str) -> Any:  # seek, tell, fileno for retries and length
        return getattr(self.handle, name)


@contextmanager
def _conflict_check(bucket: Bucket, upload: Upload) -> Iterator[None]:
    """A conditional write that lost a race: fine if the winner wrote the same bytes."""
    from botocore.exceptions import ClientError

    try:
        yield
    except ClientError as e:
        if _status(e) != 412 and _code(e) != "PreconditionFailed":
            raise
        if bucket._state(upload) != "same":
            raise StorageError(
                f"{bucket.config.describe(upload.key)} was written by someone else during "
                f"this build, with other bytes than {upload.label}: published files are "
                "never overwritten; find the other writer, then build again"
            ) from None


def _code(error: Any) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def _status(error: Any) -> int:
    return int(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)


@contextmanager
def translated(where: str, config: StorageConfig, *, key: str | None = None) -> Iterator[None]:
    """botocore's failures as one StorageError line: what happened to which bucket, what to do."""
    from botocore import exceptions as bx

    endpoint = config.endpoint_url or "AWS S3"
    try:
        yield
    except (bx.NoCredentialsError, bx.PartialCredentialsError) as e:
        raise StorageError(
            f"no usable credentials for {where}: set AWS_ACCESS_KEY_ID and "
            "AWS_SECRET_ACCESS_KEY (masked, protected CI/CD variables), or give the runner an "
            "AWS profile or role"
        ) from e
    except (bx.EndpointConnectionError, bx.ConnectTimeoutError, bx.ReadTimeoutError,
            bx.ConnectionClosedError) as e:
        raise StorageError(
            f"the storage endpoint {endpoint} did not answer for {where}: check "
            "storage.endpoint_url and that the runner can reach it"
        ) from e
    except bx.ClientError as e:
        code, status = _code(e), _status(e)
        target = config.describe(key) if key else where
        if code == "NoSuchBucket" or (status == 404 and key is None):
            message = (f"bucket {config.bucket!r} does not exist at {endpoint}: check "
                       "storage.url, storage.endpoint_url and storage.region, or create it")
        elif code in _CREDENTIAL_CODES:
            message = (f"{endpoint} rejected the credentials for {where} ({code}): check "
                       "AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN")
        elif code in _DIGEST_CODES:
            message = (f"{endpoint} refused the bytes sent to {target} ({code}): they do not "
                       "match their SHA256; clear the cache folder and build again")
        elif code in _REGION_CODES or status == 301:
            message = (f"{where} is in another region or behind another endpoint "
                       f"({code or status}): check storage.region and storage.endpoint_url")
        elif code == "AccessDenied" or status == 403:
            message = (f"access denied to {target}: the credentials need s3:ListBucket on the "
                       f"bucket and s3:GetObject, s3:PutObject, s3:AbortMultipartUpload on "
                       f"{where}/*")
        else:
            message = (f"{endpoint} answered {code or 'an error'} (HTTP {status}) for {target}; "
                       "try again, and check the bucket's settings if it persists")
        raise StorageError(message) from e
    except bx.BotoCoreError as e:
        raise StorageError(
            f"could not use {where}: {type(e).__name__}; check the storage settings and the "
            "AWS configuration of the runner"
        ) from e
