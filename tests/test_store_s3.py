"""The team store over the real S3 protocol: moto's standalone server on 127.0.0.1, s3fs, the CLI."""

from __future__ import annotations

import json
import uuid

import pytest
from makefiles import sha256
from test_reliability import FAST
from test_store import ID, ORIGINALS, expected_record, installed, machines_at_once, one_line_error, origin_gets
from test_store import team as team  # noqa: F401 (the fixture)

s3fs = pytest.importorskip("s3fs", reason="the S3 tests need s3fs and moto[server] (the 'test' extra)")
moto_server = pytest.importorskip("moto.server", reason="the S3 tests need moto[server] (the 'test' extra)")


@pytest.fixture(scope="module")
def moto():
    """A moto S3 server on a free loopback port; yields its endpoint URL."""
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def bucket(moto, monkeypatch, team):
    """A fresh bucket; the store URL s3://<bucket>/team in the config, the endpoint in AWS_ENDPOINT_URL."""
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ENDPOINT_URL": moto,
    }.items():
        monkeypatch.setenv(name, value)
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"):
        monkeypatch.delenv(name, raising=False)
    name = f"team-{uuid.uuid4().hex[:12]}"
    fs = s3fs.S3FileSystem(endpoint_url=moto, key="testing", secret="testing", skip_instance_cache=True)
    fs.mkdir(name)
    return fs, name


def configure(env, url: str, **store) -> None:
    env.write_config({**FAST, "store": {"url": url, **store}})


def test_push_from_one_data_folder_pull_into_another(env, server, bucket, cli, tmp_path, moto, monkeypatch):
    fs, name = bucket
    url = f"s3://{name}/team"
    monkeypatch.delenv("AWS_ENDPOINT_URL")  # this time the endpoint comes from the store's options
    configure(env, url, options={"endpoint_url": moto})
    assert cli("prepare", "-q", ID).returncode == 0
    pushed = cli("push", "-q", ID)
    assert pushed.returncode == 0, pushed.stderr
    assert pushed.stdout == f"{ID}: 4 uploaded, 0 already in the store ({url})\n"
    assert json.loads(fs.cat(f"{name}/team/records/{ID}.json"))["files"] == expected_record(server)
    for data in ORIGINALS.values():
        assert fs.cat(f"{name}/team/blobs/sha256/{sha256(data)}") == data
    gets = origin_gets(server)
    other = tmp_path / "machine2"
    pulled = cli("--data", str(other), "pull", ID)
    assert pulled.returncode == 0, pulled.stderr
    assert origin_gets(server) == gets
    assert installed(other) == installed(env.data)
    listing = json.loads(cli("store", "ls", "--json").stdout)
    assert [(r["id"], r["files"]) for r in listing] == [(ID, expected_record(server))]
    assert cli("store", "verify").stdout == f"{ID}: OK (4 files)\n"


def test_wrong_bytes_in_the_s3_store_are_refused_and_the_origin_used(env, server, bucket, cli, tmp_path):
    fs, name = bucket
    configure(env, f"s3://{name}/team", push="auto")
    assert cli("prepare", "-q", ID).returncode == 0
    key = f"{name}/team/blobs/sha256/{sha256(ORIGINALS['/o/c.idx'])}"
    fs.pipe_file(key, bytes(reversed(ORIGINALS["/o/c.idx"])))
    assert cli("store", "verify").returncode == 1
    other = tmp_path / "machine2"
    result = cli("--data", str(other), "prepare", ID)
    assert result.returncode == 0, result.stderr
    assert f"warning: {ID}: c.idx: s3://{name}/team/blobs/sha256/{sha256(ORIGINALS['/o/c.idx'])} holds bytes whose sha256 is" in result.stderr
    assert server.gets("/o/c.idx") == 2 and server.gets("/o/b.idx") == 1
    assert installed(other) == installed(env.data)
    assert fs.cat(key) == ORIGINALS["/o/c.idx"]  # replaced by the verified download


def test_eight_data_folders_at_once_contact_the_origin_once_per_file(env, server, bucket, tmp_path):
    fs, name = bucket
    configure(env, f"s3://{name}/team", push="auto")
    machines_at_once(server, tmp_path, 8)  # all eight get the same files ...
    assert origin_gets(server) == len(ORIGINALS)  # ... while the origin serves each file once
    assert json.loads(fs.cat(f"{name}/team/records/{ID}.json"))["files"] == expected_record(server)
    assert fs.find(f"{name}/team/leases") == []  # every lease released


def test_pull_from_s3_fails_clearly_when_a_file_is_missing(env, server, bucket, cli):
    fs, name = bucket
    configure(env, f"s3://{name}/team")
    result = cli("pull", ID)
    assert result.returncode == 3
    assert one_line_error(result).startswith(f"{ID}: the store s3://{name}/team has no copy of a.idx; push it")
    assert origin_gets(server) == 0


def test_hostile_record_in_s3_is_refused(env, server, bucket, cli):
    fs, name = bucket
    canary = env.root / "canary"
    canary.write_bytes(b"canary")
    configure(env, f"s3://{name}/team")
    record = {"format": 1, "id": ID, "files": {"../../canary": {"sha256": "0" * 64, "size": 6, "url": "x", "checksum": None}}}
    fs.pipe_file(f"{name}/team/records/{ID}.json", json.dumps(record).encode())
    result = cli("pull", ID)
    assert result.returncode == 1
    assert "'../../canary' is not a resource name" in one_line_error(result)
    assert canary.read_bytes() == b"canary"


def test_an_unreachable_store_is_skipped_with_a_warning(env, server, team, cli, monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    configure(env, "s3://nowhere/team", options={"endpoint_url": "http://127.0.0.1:9", "config_kwargs": {"retries": {"max_attempts": 1}}}, push="auto")
    result = cli("prepare", "-q", ID)
    assert result.returncode == 0, result.stderr
    assert f"warning: {ID}: a.idx: store s3://nowhere/team: cannot " in result.stderr
    assert origin_gets(server) == 4
