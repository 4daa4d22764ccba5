"""A real S3 API server for tests: moto's `ThreadedMotoServer` on 127.0.0.1, with a request log.

    with S3Server() as s3:
        s3.create_public_bucket("downloads", prefix="releases")
        ...                                   # the code under test talks S3 to s3.endpoint
        s3.writes()                           # every PUT/POST/DELETE the server answered

Tests set the bucket up through the S3 protocol (boto3 against `endpoint`), as an operator
would; only switching authentication on goes through moto's own control API, since a real
store always checks credentials. Bytes are fetched back anonymously over plain HTTP from the
bucket's public URL, the way a visitor's `curl` would.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self

import boto3
import httpx
from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from moto.server import ThreadedMotoServer
from werkzeug.serving import make_server

KEY_ID, SECRET = "AKIATESTSTORAGE00001", "test-secret-never-printed-4b1d"


@dataclass(frozen=True)
class Seen:
    """One request as the server received it."""

    method: str
    path: str
    query: str
    headers: dict[str, str]  # lower-case names

    @property
    def write(self) -> bool:
        return self.method in ("PUT", "POST", "DELETE")


class S3Server(ThreadedMotoServer):
    """ThreadedMotoServer whose WSGI app records each request before moto answers it."""

    def __init__(self) -> None:
        super().__init__(ip_address="127.0.0.1", port=0, verbose=False)
        self.log: list[Seen] = []
        self._lock = threading.Lock()
        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no access log on stderr

    def _server_entry(self) -> None:  # ThreadedMotoServer's own, with the app wrapped
        app = DomainDispatcherApplication(create_backend_app)

        def recorded(environ: dict[str, Any], start_response: Any) -> Any:
            headers = {k[5:].replace("_", "-").lower(): str(v)
                       for k, v in environ.items() if k.startswith("HTTP_")}
            seen = Seen(environ["REQUEST_METHOD"], environ.get("PATH_INFO", ""),
                        environ.get("QUERY_STRING", ""), headers)
            with self._lock:
                self.log.append(seen)
            return app(environ, start_response)

        self._server = make_server(self._ip_address, self._port, recorded, True,
                                   request_handler=MotoRequestHandler)
        self._server_ready_event.set()
        self._server.serve_forever()

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    @property
    def endpoint(self) -> str:
        host, port = self.get_host_and_port()
        return f"http://{host}:{port}"

    def client(self, key_id: str = KEY_ID, secret: str = SECRET) -> Any:
        return boto3.client("s3", endpoint_url=self.endpoint, region_name="us-east-1",
                            aws_access_key_id=key_id, aws_secret_access_key=secret)

    def public_url(self, bucket: str, prefix: str) -> str:
        return f"{self.endpoint}/{bucket}/{prefix}"

    def create_public_bucket(self, bucket: str, *, prefix: str) -> None:
        """A bucket whose prefix anyone may read, as the README's bucket policy makes it."""
        client = self.client()
        client.create_bucket(Bucket=bucket)
        client.put_bucket_policy(Bucket=bucket, Policy=json.dumps({
            "Version": "2012-10-17",
            "Statement": [{"Sid": "PublicRead", "Effect": "Allow", "Principal": "*",
                           # moto authorizes an anonymous HEAD as "s3:HeadObject"; S3 has
                           # no such action (s3:GetObject covers HEAD) and would refuse it
                           "Action": ["s3:GetObject", "s3:HeadObject"],
                           "Resource": f"arn:aws:s3:::{bucket}/{prefix}/*"}],
        }))

    def mark(self) -> int:
        with self._lock:
            return len(self.log)

    def since(self, mark: int) -> list[Seen]:
        with self._lock:
            return self.log[mark:]

    def writes(self, mark: int = 0) -> list[Seen]:
        return [s for s in self.since(mark) if s.write]

    @contextmanager
    def authentication(self) -> Iterator[None]:
        """Check every request's signature and IAM policy, as a real store does."""
        previous = httpx.post(f"{self.endpoint}/moto-api/reset-auth", content=b"0").json()
        try:
            yield
        finally:
            httpx.post(f"{self.endpoint}/moto-api/reset-auth",
                       content=str(previous["PREVIOUS_INITIAL_NO_AUTH_ACTION_COUNT"]).encode())

    def iam_user(self, name: str, policy: dict[str, Any] | None = None) -> tuple[str, str]:
        """An IAM user's access key (made before authentication is switched on)."""
        iam = boto3.client("iam", endpoint_url=self.endpoint, region_name="us-east-1",
                           aws_access_key_id=KEY_ID, aws_secret_access_key=SECRET)
        iam.create_user(UserName=name)
        if policy is not None:
            iam.put_user_policy(UserName=name, PolicyName="site", PolicyDocument=json.dumps(policy))
        key = iam.create_access_key(UserName=name)["AccessKey"]
        return key["AccessKeyId"], key["SecretAccessKey"]
