"""Blobs in S3-compatible storage: a real moto server on 127.0.0.1, the real boto3 client, the product's own commands."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

from datasette_client import get, make_datasette
from observatory.ingest.s3blobs import S3BlobStore
from observatory.settings import load_settings
from s3_server import s3_server
from screens import distinct_screens
from stores import q, run


@pytest.fixture(scope="module")
def s3():
    with s3_server() as server:
        yield server


@pytest.fixture
def store(s3, monkeypatch) -> S3BlobStore:
    for name, value in s3.env.items():
        monkeypatch.setenv(name, value)
    return S3BlobStore(f"s3://{s3.bucket}/shots/")


def test_put_get_exists_under_the_folders_content_addresses(store, s3):
    data = b"\x89PNG not really, but bytes"
    sha = hashlib.sha256(data).hexdigest()
    rel = store.put(sha, "png", data)
    assert rel == f"blobs/{sha[:2]}/{sha}.png"  # events name it as they name a blob in the folder
    assert f"shots/{sha[:2]}/{sha}.png" in s3.keys()
    assert store.exists(rel) and store.get(rel) == data
    assert not store.exists(f"blobs/00/{'0' * 64}.png")
    with pytest.raises(FileNotFoundError):
        store.get(f"blobs/00/{'0' * 64}.png")


def test_put_is_idempotent_and_refuses_content_that_is_not_its_address(store, s3):
    data = b"same bytes twice"
    sha = hashlib.sha256(data).hexdigest()
    first = store.put(sha, "jpg", data)
    modified = s3.client().head_object(Bucket=s3.bucket, Key=store.key(first))["LastModified"]
    assert store.put(sha, "jpg", data) == first
    assert s3.client().head_object(Bucket=s3.bucket, Key=store.key(first))["LastModified"] == modified
    assert [k for k in s3.keys() if sha in k] == [store.key(first)]
    wrong = hashlib.sha256(b"other").hexdigest()
    with pytest.raises(ValueError, match="not their sha256"):
        store.put(wrong, "jpg", data)
    assert not store.exists(f"blobs/{wrong[:2]}/{wrong}.jpg")


def test_a_local_copy_is_removed_after_use_and_a_missing_blob_has_no_copy(store):
    data = b"read me"
    rel = store.put(hashlib.sha256(data).hexdigest(), "png", data)
    copy = store.local_copy(rel)
    assert copy.read_bytes() == data
    store.drop_local_copy(copy)
    assert not copy.exists()
    assert not store.local_copy(f"blobs/00/{'0' * 64}.png").exists()
    store.close()


def test_a_bad_blob_url_is_one_line_naming_the_setting(home, monkeypatch):
    monkeypatch.setenv("OBSERVATORY_BLOB_URL", "https://bucket.example/prefix")
    result = run("config")
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [
        "Error: invalid setting OBSERVATORY_BLOB_URL: expected s3://BUCKET[/PREFIX] (or unset, for the folder "
        "EVENTS_DIR/blobs) (got 'https://bucket.example/prefix')"]


@pytest.mark.slow
def test_ingest_and_a_worker_on_s3_blobs_extract_without_any_blob_folder(home, s3, samples_dir, monkeypatch, tmp_path):
    url = f"s3://{s3.bucket}/e2e"
    for name, value in {**s3.env, "OBSERVATORY_BLOB_URL": url, "OBSERVATORY_LOCAL_OCR": "false"}.items():
        monkeypatch.setenv(name, value)
    files = distinct_screens(samples_dir, tmp_path / "drop", 4)
    result = run("ingest", "--community", "HEI", str(tmp_path / "drop"))
    assert result.exit_code == 0, result.output
    shas = {hashlib.sha256(f.read_bytes()).hexdigest() for f in files}
    assert {k.split("/")[-1].split(".")[0] for k in s3.keys() if k.startswith("e2e/")} == shas
    assert not (home / "events" / "blobs").exists() or not any((home / "events" / "blobs").rglob("*.png"))
    assert {r[0] for r in q(home, "SELECT status FROM screenshots")} == {"ingested"}  # LOCAL_OCR=false: not read here

    scratch = tmp_path / "worker-tmp"  # the worker's own temporary folder, to see what it leaves there
    scratch.mkdir()
    worker = subprocess.run([sys.executable, "-m", "observatory", "worker", "--once", "--concurrency", "1"],
                            env={**os.environ, "TMPDIR": str(scratch)}, capture_output=True, text=True, timeout=300)
    assert worker.returncode == 0, worker.stderr[-3000:]
    assert "read 4 screenshot(s), 0 failed" in worker.stderr
    assert run("project").exit_code == 0
    assert q(home, "SELECT status, COUNT(*) FROM screenshots GROUP BY status") == [("extracted", 4)]
    assert not list(scratch.glob("observatory-blobs-*"))  # downloaded copies are tidied away

    # the pages show the screenshot from S3 as they do from the folder
    ds = make_datasette(load_settings())
    sha = sorted(shas)[0]
    image = get(ds, f"/-/screenshot/{sha}")
    assert image.status_code == 200 and hashlib.sha256(image.content).hexdigest() == sha
    assert get(ds, f"/-/thumbnail/{sha}.jpg").status_code == 200
    assert get(ds, f"/-/screenshot/{'0' * 64}").status_code == 404


def test_aws_credentials_reach_datasette_only_for_s3_blobs_and_never_the_ocr_processes(home, monkeypatch):
    from observatory.child_env import allowed_env
    from observatory.process.worker import WORKER_ENV, WORKER_ENV_PREFIXES
    from observatory.serve.datasette_server import child_env

    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "s3cr3t")
    assert "AWS_SECRET_ACCESS_KEY" not in child_env(load_settings())
    monkeypatch.setenv("OBSERVATORY_BLOB_URL", "s3://shots")
    assert child_env(load_settings())["AWS_SECRET_ACCESS_KEY"] == "s3cr3t"
    assert "AWS_SECRET_ACCESS_KEY" not in allowed_env(os.environ, WORKER_ENV, WORKER_ENV_PREFIXES)


def test_a_bucket_that_cannot_be_used_is_one_line_before_anything_starts(home, s3, monkeypatch):
    for name, value in {**s3.env, "OBSERVATORY_BLOB_URL": "s3://no-such-bucket/x"}.items():
        monkeypatch.setenv(name, value)
    for args in (["ingest", str(home)], ["worker", "--once"], ["watch"]):
        done = subprocess.run([sys.executable, "-m", "observatory", *args], capture_output=True, text=True, timeout=120)
        assert done.returncode == 2, (args, done.stderr[-2000:])
        assert done.stderr.strip().splitlines() == [
            "Error: OBSERVATORY_BLOB_URL=s3://no-such-bucket/x: cannot use bucket 'no-such-bucket': "
            "An error occurred (404) when calling the HeadBucket operation: Not Found"], args
