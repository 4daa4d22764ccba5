"""The `storage:` section of the plugin config, checked once into a frozen value.

    storage:
      url: s3://voiceinput-downloads/releases        # bucket and key prefix
      endpoint_url: https://s3.example.com            # omit for AWS
      region: eu-central-1                            # optional
      public_url: https://downloads.example.com/releases

Credentials never come from here: boto3 reads `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`,
`AWS_SESSION_TOKEN` or the rest of its default chain (profile, web identity, instance role).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from ..budget import parse_size
from ..errors import ConfigError

MIB = 1024**2
PART_SIZE_MIN = 5 * MIB  # S3's smallest part but the last (moto enforces it too)
PART_SIZE_MAX = 5 * 1024**3
DEFAULT_PART_SIZE = 16 * MIB
DEFAULT_MULTIPART_THRESHOLD = 64 * MIB
DEFAULT_UPLOADS = 4

OPTIONS = ("url", "endpoint_url", "region", "public_url", "multipart_threshold", "part_size",
           "uploads")
# Lower-cased option names that would put a secret into a file in the repository.
_SECRET_WORDS = ("key", "secret", "token", "password", "credential")
# S3 bucket names; R2, MinIO and GCS accept the same shape.
_BUCKET = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")


@dataclass(frozen=True, slots=True)
class StorageConfig:
    """Where the artifacts go and where visitors fetch them; no secrets."""

    bucket: str
    prefix: str  # "" or a key prefix without slashes at either end
    public_url: str
    endpoint_url: str | None = None
    region: str | None = None
    multipart_threshold: int = DEFAULT_MULTIPART_THRESHOLD
    part_size: int = DEFAULT_PART_SIZE
    uploads: int = DEFAULT_UPLOADS  # files sent at a time

    def key(self, site_path: str) -> str:
        """The object key of a site path: the prefix, then the path as the site would hold it."""
        return f"{self.prefix}/{site_path}" if self.prefix else site_path

    def describe(self, key: str | None = None) -> str:
        """`s3://bucket/prefix` (or one key's full name), for messages."""
        return f"s3://{self.bucket}/{key if key is not None else self.prefix}".rstrip("/")

    @classmethod
    def parse(cls, options: Mapping[str, Any] | None) -> StorageConfig | None:
        """The section as a StorageConfig, None when it is absent or empty; ConfigError if bad."""
        if not options:
            return None
        for name in options:
            lowered = str(name).lower()
            if any(word in lowered for word in _SECRET_WORDS):
                raise ConfigError(
                    f"storage.{name}: credentials never go in mkdocs.yml; set "
                    "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY as masked, protected CI/CD "
                    "variables (or use an instance role or profile)"
                )
            if name not in OPTIONS:
                raise ConfigError(f"storage.{name} is not an option; use {', '.join(OPTIONS)}")
        url = options.get("url")
        parts = urlsplit(url) if isinstance(url, str) else None
        if parts is None or parts.scheme != "s3" or not _BUCKET.fullmatch(parts.netloc):
            raise ConfigError(
                f"storage.url {url!r} must be s3://BUCKET or s3://BUCKET/PREFIX "
                "(bucket: 3-63 lower-case letters, digits, dots and hyphens)"
            )
        prefix = parts.path.strip("/")
        segments = prefix.split("/") if prefix else []
        if any(s in ("", ".", "..") for s in segments) or any(
            ord(c) < 32 or c in "\\\x7f" for c in prefix
        ):
            raise ConfigError(f"storage.url {url!r}: the prefix must be plain folder names")
        public_url = _http_url(options.get("public_url"), "public_url", required=True)
        assert public_url is not None
        part_size = parse_size(options.get("part_size", DEFAULT_PART_SIZE),
                               what="storage.part_size")
        if not PART_SIZE_MIN <= part_size <= PART_SIZE_MAX:
            raise ConfigError(
                f"storage.part_size must be between 5MiB and 5GiB (S3's limits), not {part_size}"
            )
        uploads = options.get("uploads", DEFAULT_UPLOADS)
        if not isinstance(uploads, int) or isinstance(uploads, bool) or not 1 <= uploads <= 32:
            raise ConfigError(
                f"storage.uploads must be a whole number from 1 to 32, not {uploads!r}"
            )
        region = options.get("region")
        if region is not None and not (isinstance(region, str)
                                       and re.fullmatch(r"[a-z0-9-]{1,40}", region)):
            raise ConfigError(f"storage.region {region!r} is not a region name like eu-central-1")
        return cls(
            bucket=parts.netloc,
            prefix=prefix,
            public_url=public_url.rstrip("/"),
            endpoint_url=_http_url(options.get("endpoint_url"), "endpoint_url", required=False),
            region=region,
            multipart_threshold=parse_size(
                options.get("multipart_threshold", DEFAULT_MULTIPART_THRESHOLD),
                what="storage.multipart_threshold",
            ),
            part_size=part_size,
            uploads=uploads,
        )


def _http_url(value: Any, name: str, *, required: bool) -> str | None:
    if value in (None, "") and not required:
        return None
    parts = urlsplit(value) if isinstance(value, str) else None
    if parts is None or parts.scheme not in ("http", "https") or not parts.netloc \
            or parts.query or parts.fragment or parts.username or parts.password:
        what = ("the address visitors download from, e.g. https://downloads.example.com/releases "
                "(the bucket's public endpoint or a CDN in front of it)"
                if name == "public_url" else "the S3 API address, e.g. https://s3.example.com")
        raise ConfigError(f"storage.{name} {value!r} must be an http(s) URL: {what}")
    return value
