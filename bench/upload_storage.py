"""Upload throughput to object storage: site_builder's uploader against boto3's own transfer
manager (`upload_file`, the engine of `aws s3 cp`), on the same files, to the same S3 API
server (moto's ThreadedMotoServer on 127.0.0.1), measured in the same run.

Both send SHA256 checksums and use the same part size and threshold; ours also checks each
file's whole SHA256 before completing it and writes conditionally. Each side uploads into a
fresh bucket, best of `--rounds`. A ratio above 1.00 means ours is faster.

    python bench/upload_storage.py [--files 4] [--size 48] [--rounds 2]   # size in MiB
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests"))

from s3_server import KEY_ID, SECRET, S3Server  # noqa: E402

from site_builder.catalog import Artifact, Release  # noqa: E402
from site_builder.layout import SiteLayout  # noqa: E402
from site_builder.targets.bucket import Bucket  # noqa: E402
from site_builder.targets.config import StorageConfig  # noqa: E402

MIB = 1024**2
PART = 8 * MIB


def make_files(folder: Path, count: int, size: int) -> list[tuple[Path, Artifact]]:
    files = []
    for n in range(count):
        data = os.urandom(size)
        path = folder / f"VoiceInput-{n}.zip"
        path.write_bytes(data)
        files.append((path, Artifact(name=path.name, size=size,
                                     sha256=hashlib.sha256(data).hexdigest())))
    return files


def ours(s3: S3Server, bucket: str, files: list[tuple[Path, Artifact]], workers: int) -> None:
    config = StorageConfig.parse({"url": f"s3://{bucket}/releases", "endpoint_url": s3.endpoint,
                                  "public_url": s3.public_url(bucket, "releases"),
                                  "part_size": PART, "multipart_threshold": PART,
                                  "uploads": workers})
    assert config is not None
    target = Bucket.connect(config)
    release = Release(package="VoiceInput", version="v1", released_at=datetime.now(UTC),
                      files=tuple(a for _, a in files))
    uploads = target.uploads_for([(release, a) for _, a in files], SiteLayout())
    target.upload(uploads, {a.sha256: path for path, a in files})


def transfer_manager(s3: S3Server, bucket: str, files: list[tuple[Path, Artifact]],
                     workers: int) -> None:
    from boto3.s3.transfer import TransferConfig

    client = s3.client()
    config = TransferConfig(multipart_threshold=PART, multipart_chunksize=PART,
                            max_concurrency=10)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        list(pool.map(lambda pair: client.upload_file(
            str(pair[0]), bucket, f"releases/download/v1/{pair[1].name}", Config=config,
            ExtraArgs={"ChecksumAlgorithm": "SHA256"}), files))


def best(run, s3: S3Server, label: str, files, workers: int, rounds: int) -> float:
    times = []
    for n in range(rounds):
        bucket = f"bench-{label}-{n}"
        s3.client().create_bucket(Bucket=bucket)
        start = time.perf_counter()
        run(s3, bucket, files, workers)
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=4)
    parser.add_argument("--size", type=int, default=48, help="MiB per file")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--workers", type=int, default=4, help="files at a time")
    args = parser.parse_args()
    os.environ.update(AWS_ACCESS_KEY_ID=KEY_ID, AWS_SECRET_ACCESS_KEY=SECRET,
                      AWS_EC2_METADATA_DISABLED="true")
    with tempfile.TemporaryDirectory() as tmp, S3Server() as s3:
        files = make_files(Path(tmp), args.files, args.size * MIB)
        total = args.files * args.size
        theirs = best(transfer_manager, s3, "boto", files, args.workers, args.rounds)
        mine = best(ours, s3, "ours", files, args.workers, args.rounds)
    print(f"{args.files} files x {args.size} MiB, {PART // MIB} MiB parts, "
          f"{args.workers} files at a time, best of {args.rounds}")
    print(f"{'uploader':<34}{'seconds':>9}{'MiB/s':>9}")
    print(f"{'boto3 transfer manager (baseline)':<34}{theirs:>9.2f}{total / theirs:>9.1f}")
    print(f"{'site_builder Bucket.upload':<34}{mine:>9.2f}{total / mine:>9.1f}")
    print(f"ratio (ours / baseline throughput): {theirs / mine:.2f}")


if __name__ == "__main__":
    main()
