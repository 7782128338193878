"""A real S3-compatible server on 127.0.0.1 for the blob store's tests: moto in server mode, spoken to over HTTP.

`env` is what a process needs to reach it the standard way (boto3 reads AWS_ENDPOINT_URL
and the AWS_* credentials), so subprocesses of the product use it with no test hook.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from polling import free_port, wait_for


@dataclass
class S3:
    endpoint: str
    bucket: str
    env: dict[str, str]

    def client(self) -> Any:
        import boto3

        return boto3.client("s3", endpoint_url=self.endpoint, region_name="us-east-1",
                            aws_access_key_id="testing", aws_secret_access_key="testing")

    def keys(self) -> list[str]:
        found = self.client().list_objects_v2(Bucket=self.bucket).get("Contents", [])
        return sorted(o["Key"] for o in found)


@contextmanager
def s3_server(bucket: str = "observatory-test") -> Iterator[S3]:
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        endpoint = f"http://127.0.0.1:{port}"
        env = {"AWS_ENDPOINT_URL": endpoint, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
               "AWS_DEFAULT_REGION": "us-east-1"}
        s3 = S3(endpoint, bucket, env)
        wait_for(lambda: s3.client().list_buckets() is not None, 20, what="moto to answer", tolerate=(Exception,))
        s3.client().create_bucket(Bucket=bucket)
        yield s3
    finally:
        server.stop()
