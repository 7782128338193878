"""The blob store in S3-compatible object storage (OBSERVATORY_BLOB_URL=s3://bucket/prefix).

OCR workers on other machines read the screenshots from here, so no folder has to be
shared. The keys are the folder's: `<prefix>/<2 hex>/<sha256>.<ext>`, and events keep
naming a blob `blobs/<2 hex>/<sha256>.<ext>`, so a log does not care which backend
holds its blobs. A PUT is atomic (an object is whole or absent); bytes that are
not their address are refused before sending, and the PUT carries the SHA-256 so that S3
checks the body it receives too; a blob already stored is not sent again. boto3 is imported only when this backend is chosen
and reads credentials and endpoint the standard way (AWS_ACCESS_KEY_ID,
AWS_SECRET_ACCESS_KEY, AWS_ENDPOINT_URL, AWS_DEFAULT_REGION, ~/.aws).
"""

from __future__ import annotations

import base64
import hashlib
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..settings import SettingsError, parse_blob_url
from .blobs import BlobStoreUnavailable

BLOBS_FOLDER = "blobs/"  # how events name a blob: relative to the events dir, under blobs/


class S3BlobStore:
    remote = True  # readers get a downloaded copy (`local_copy`), removed after use

    def __init__(self, url: str, events_dir: Path | None = None, *, client: Any = None) -> None:
        self.url = url
        self.bucket, self.prefix = parse_blob_url(url)
        self.events_dir = events_dir
        if client is None:
            try:
                import boto3
            except ImportError:
                raise SettingsError(f"OBSERVATORY_BLOB_URL={url} needs boto3: pip install 'observatory[s3]'") from None
            client = boto3.client("s3")
        self.client = client
        self._scratch: str | None = None

    def check(self) -> None:
        """Can this bucket be used? BlobStoreUnavailable with one line naming the setting, the bucket and why."""
        try:
            self.client.head_bucket(Bucket=self.bucket)
        except Exception as exc:  # noqa: BLE001 - no credentials, no endpoint, no bucket, no rights: one line each
            text = str(exc).strip().splitlines()
            raise BlobStoreUnavailable(f"OBSERVATORY_BLOB_URL={self.url}: cannot use bucket {self.bucket!r}: "
                                       f"{text[0] if text else type(exc).__name__}") from None

    # -- naming ------------------------------------------------------------------
    @staticmethod
    def relative_for(sha256: str, ext: str) -> str:
        return f"{BLOBS_FOLDER}{sha256[:2]}/{sha256}.{ext}"

    def key(self, blob_path: str) -> str:
        """The object key of the blob an event names."""
        if not blob_path.startswith(BLOBS_FOLDER) or ".." in blob_path.split("/"):
            raise ValueError(f"not a blob path: {blob_path!r}")
        return self.prefix + blob_path[len(BLOBS_FOLDER):]

    # -- writing -----------------------------------------------------------------
    def put(self, sha256: str, ext: str, data: bytes) -> str:
        """Store `data` under its hash (once: a stored blob of the same size is not sent again); returns its path."""
        if hashlib.sha256(data).hexdigest() != sha256:
            raise ValueError(f"refusing to store bytes under {sha256[:12]}…: that is not their sha256")
        rel = self.relative_for(sha256, ext)
        key = self.key(rel)
        if self._size(key) == len(data):
            return rel
        checksum = base64.b64encode(bytes.fromhex(sha256)).decode("ascii")
        self.client.put_object(Bucket=self.bucket, Key=key, Body=data, ChecksumSHA256=checksum)
        return rel

    # -- reading -----------------------------------------------------------------
    def _size(self, key: str) -> int | None:
        from botocore.exceptions import ClientError

        try:
            return int(self.client.head_object(Bucket=self.bucket, Key=key)["ContentLength"])
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return None
            raise

    def exists(self, blob_path: str) -> bool:
        return self._size(self.key(blob_path)) is not None

    def get(self, blob_path: str) -> bytes:
        """The blob's bytes; FileNotFoundError when it is not stored."""
        from botocore.exceptions import ClientError

        try:
            return self.client.get_object(Bucket=self.bucket, Key=self.key(blob_path))["Body"].read()
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                raise FileNotFoundError(f"{self.url}: no blob {blob_path}") from None
            raise

    def local_copy(self, blob_path: str) -> Path:
        """The blob downloaded to a private temporary file; a missing blob gives a path that does not exist
        (the OCR worker then records "blob missing", as for the folder)."""
        if self._scratch is None:
            self._scratch = tempfile.mkdtemp(prefix="observatory-blobs-")
        path = Path(self._scratch) / f"{uuid.uuid4().hex[:8]}-{Path(blob_path).name}"  # one per read, even of one blob
        self.download(blob_path, path)
        return path

    def download(self, blob_path: str, path: Path) -> bool:
        """Write the blob to `path`, whole or not at all (a temp name, then a rename); False when it is not stored."""
        try:
            data = self.get(blob_path)
        except FileNotFoundError:
            return False
        tmp = path.with_name(f".{uuid.uuid4().hex}.part")  # unique: two readers may fetch one blob at once
        tmp.write_bytes(data)
        os.replace(tmp, path)
        return True

    def drop_local_copy(self, path: Path) -> None:
        Path(path).unlink(missing_ok=True)

    def iter_blobs(self) -> Iterator[tuple[str, str]]:
        """(sha256, object key) of every stored blob."""
        pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=self.prefix)
        for page in pages:
            for obj in page.get("Contents", []):
                name = obj["Key"].rsplit("/", 1)[-1]
                yield name.split(".", 1)[0], obj["Key"]

    def remove_temp_files(self) -> int:
        """Nothing is half-written in object storage (a PUT is whole or absent); only local copies are tidied."""
        return 0

    def close(self) -> None:
        if self._scratch is not None:
            shutil.rmtree(self._scratch, ignore_errors=True)
            self._scratch = None
