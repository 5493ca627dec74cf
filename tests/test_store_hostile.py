"""Hostile team stores: what a store holds or is never crashes, hangs or writes outside, locally and on S3.

Every test plants its hostile input, runs the real command line in a subprocess
and checks that a canary outside the data folder and the store stays intact.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from makefiles import sha256
from test_reliability import FAST
from test_store import ID, ORIGINALS, installed, one_line_error, origin_gets
from test_store import team as team  # noqa: F401 (the fixture)
from test_store_s3 import bucket as bucket  # noqa: F401 (the fixture)
from test_store_s3 import configure
from test_store_s3 import moto as moto  # noqa: F401 (the fixture)

from datamaestro import errors
from datamaestro.errors import NotInStoreError

#: a record of 400,000 nested arrays: under the record size limit, far past any parser's recursion
NESTED = b"[" * 400_000


def cli60(*args: str) -> subprocess.CompletedProcess[str]:
    """``datamaestro ARGS`` in a subprocess that must finish within 60 s (a hang fails the test)."""
    return subprocess.run(
        [sys.executable, "-m", "datamaestro", *args],
        capture_output=True, text=True, env=os.environ.copy(), timeout=60,
    )


@pytest.fixture
def canary(env) -> Path:
    """A file outside the data folder and the store, which nothing may change."""
    path = env.root / "canary"
    path.write_bytes(b"canary")
    return path


def refused_record(where: str, problem: str) -> str:
    return f"refused the record {where}: {problem}; remove it from the store and push the dataset again from a trusted machine"


def test_a_deeply_nested_record_is_refused_and_prepare_uses_the_origin(env, server, team, canary, tmp_path):
    (team / "records").mkdir()
    (team / "records" / f"{ID}.json").write_bytes(NESTED)
    env.write_config({**FAST, "store": {"url": team.as_uri()}})  # push: never, so the record stays
    where = f"{team.as_uri()}/records/{ID}.json"
    pulled = cli60("pull", ID)
    assert pulled.returncode == 1
    assert one_line_error(pulled) == f"{ID}: a.idx: {refused_record(where, 'JSON nested too deeply')}; pull never uses the origin"
    assert origin_gets(server) == 0
    prepared = cli60("prepare", "-q", ID)
    assert prepared.returncode == 0, prepared.stderr
    assert f"warning: {ID}: c.idx: {refused_record(where, 'JSON nested too deeply')}; refused, trying the origin" in prepared.stderr
    assert "Traceback" not in prepared.stderr
    assert installed(env.data)["b.idx"] == ORIGINALS["/o/b.idx"]
    listed = cli60("store", "ls")
    assert listed.returncode == 0 and listed.stdout == f"{ID}: {refused_record(where, 'JSON nested too deeply')}\n"
    assert canary.read_bytes() == b"canary"


def test_a_deeply_nested_record_in_s3_is_refused_and_prepare_uses_the_origin(env, server, bucket, canary):
    fs, name = bucket
    url = f"s3://{name}/team"
    configure(env, url)
    fs.pipe_file(f"{name}/team/records/{ID}.json", NESTED)
    pulled = cli60("pull", ID)
    assert pulled.returncode == 1
    assert one_line_error(pulled).endswith(f"{refused_record(url + f'/records/{ID}.json', 'JSON nested too deeply')}; pull never uses the origin")
    prepared = cli60("prepare", "-q", ID)
    assert prepared.returncode == 0, prepared.stderr
    assert f"{refused_record(url + f'/records/{ID}.json', 'JSON nested too deeply')}; refused, trying the origin" in prepared.stderr
    assert installed(env.data)["a.idx"] and server.gets("/o/a.idx.gz") == 1
    assert fs.cat(f"{name}/team/records/{ID}.json") == NESTED  # push: never
    assert canary.read_bytes() == b"canary"


def not_regular(where: str) -> str:
    return f"refused {where}: not a regular file; only regular files are read from a store"


def test_a_fifo_as_a_record_is_refused_without_waiting(env, server, team, canary):
    (team / "records").mkdir()
    os.mkfifo(team / "records" / f"{ID}.json")  # opening it for reading waits for a writer forever
    env.write_config({**FAST, "store": {"url": team.as_uri()}})
    where = f"{team.as_uri()}/records/{ID}.json"
    pulled = cli60("pull", ID)
    assert pulled.returncode == 1
    assert one_line_error(pulled) == f"{ID}: a.idx: {not_regular(where)}; pull never uses the origin"
    prepared = cli60("prepare", "-q", ID)
    assert prepared.returncode == 0, prepared.stderr
    assert f"warning: {ID}: c.idx: {not_regular(where)}; refused, trying the origin" in prepared.stderr
    assert installed(env.data)["b.idx"] == ORIGINALS["/o/b.idx"]
    verified = cli60("store", "verify")
    assert verified.returncode == 1 and verified.stdout == f"{ID}: CORRUPT: {not_regular(where)}\n"
    assert canary.read_bytes() == b"canary"


def test_a_fifo_as_a_blob_is_refused_without_waiting(env, server, team, canary, tmp_path):
    assert cli60("prepare", "-q", ID).returncode == 0  # push: auto fills the store
    blob = team / "blobs" / "sha256" / sha256(ORIGINALS["/o/c.idx"])
    blob.unlink()
    os.mkfifo(blob)
    env.write_config({**FAST, "store": {"url": team.as_uri()}})  # push: never, so the FIFO stays
    where = f"{team.as_uri()}/blobs/sha256/{sha256(ORIGINALS['/o/c.idx'])}"
    pulled = cli60("--data", str(tmp_path / "m2"), "pull", ID)
    assert pulled.returncode == 1
    assert one_line_error(pulled) == f"{ID}: c.idx: {not_regular(where)}; pull never uses the origin"
    prepared = cli60("--data", str(tmp_path / "m3"), "prepare", "-q", ID)
    assert prepared.returncode == 0, prepared.stderr
    assert f"warning: {ID}: c.idx: {not_regular(where)}; refused, trying the origin" in prepared.stderr
    assert installed(tmp_path / "m3") == installed(env.data) and server.gets("/o/c.idx") == 2
    verified = cli60("store", "verify")  # the dataset is reported, the command goes on
    assert verified.returncode == 1 and verified.stdout == f"{ID}: CORRUPT: c.idx: {not_regular(where)}\n"
    assert canary.read_bytes() == b"canary"


@pytest.mark.parametrize("linked", ["records", "blobs", "blobs/sha256", "leases"])
def test_push_into_a_store_folder_linked_outside_writes_nothing_there(env, server, team, canary, linked):
    outside = env.root / "outside"
    outside.mkdir()
    (outside / "keep").write_bytes(b"keep")
    link = team / linked
    link.parent.mkdir(parents=True, exist_ok=True)
    link.symlink_to(outside, target_is_directory=True)
    env.write_config({**FAST, "store": {"url": team.as_uri()}})
    assert cli60("prepare", "-q", ID).returncode == 0
    refused = f"store {team.as_uri()}: {link} is a symbolic link out of the store (to {outside}): refused to write or delete through it"
    pushed = cli60("push", "-q", ID)
    assert pushed.returncode == 1
    assert one_line_error(pushed) == refused
    env.write_config({**FAST, "store": {"url": team.as_uri(), "push": "auto"}})
    prepared = cli60("--data", str(env.root / "m2"), "prepare", "-q", ID)  # the store is skipped, not written
    assert prepared.returncode == 0, prepared.stderr
    assert f"{refused}; the store was not updated" in prepared.stderr
    assert sorted(p.name for p in outside.rglob("*")) == ["keep"]
    assert (outside / "keep").read_bytes() == b"keep" and canary.read_bytes() == b"canary"


def test_links_inside_the_store_are_followed(env, server, team):
    (team / "elsewhere").mkdir()
    (team / "records").symlink_to(team / "elsewhere", target_is_directory=True)
    assert cli60("prepare", "-q", ID).returncode == 0
    assert (team / "elsewhere" / f"{ID}.json").is_file()


@pytest.mark.parametrize("kind", ["file", "folder"])
def test_a_record_that_is_a_link_outside_is_replaced_not_written_through(env, server, team, canary, kind):
    outside = env.root / "outside"
    if kind == "folder":
        outside.mkdir()
    else:
        outside.write_bytes(b"keep")
    (team / "records").mkdir()
    record = team / "records" / f"{ID}.json"
    record.symlink_to(outside)
    prepared = cli60("prepare", "-q", ID)  # push: auto rewrites the record
    assert prepared.returncode == 0, prepared.stderr
    assert not record.is_symlink() and record.is_file()
    if kind == "folder":
        assert list(outside.iterdir()) == []
    else:
        assert outside.read_bytes() == b"keep"
    assert canary.read_bytes() == b"canary"


def test_an_s3_store_whose_bucket_is_missing_is_unreachable_not_lacking_a_file(env, server, bucket, cli, canary):
    fs, name = bucket
    url = f"s3://{name}-missing/team"
    configure(env, url)
    unreachable = f"the store {url} is unreachable: its bucket {name}-missing was not found"
    pulled = cli("pull", ID)
    assert pulled.returncode == 1
    line = one_line_error(pulled)
    assert line.startswith(f"{ID}: ") and line.endswith(f": {unreachable}; pull never uses the origin")
    listed = cli("store", "ls")
    assert listed.returncode == 1 and one_line_error(listed) == unreachable
    configure(env, url, push="auto")
    prepared = cli("prepare", "-q", ID)
    assert prepared.returncode == 0, prepared.stderr
    assert f"{unreachable}; refused, trying the origin" in prepared.stderr and origin_gets(server) == 4
    pushed = cli("push", "-q", ID)
    assert pushed.returncode == 1 and pushed.stderr.splitlines()[-1] == f"datamaestro: error: {unreachable}"
    configure(env, f"s3://{name}/team")  # reachable, but without the file: exit code 3
    lacking = cli("--data", str(env.root / "m2"), "pull", ID)
    assert lacking.returncode == 3 and f"the store s3://{name}/team has no copy of" in one_line_error(lacking)
    assert canary.read_bytes() == b"canary"


def test_an_endpoint_that_is_not_s3_makes_the_store_unreachable(env, server, bucket, cli):
    fs, name = bucket
    url = f"s3://{name}/team"
    configure(env, url, options={"endpoint_url": server.url("")})  # answers 404 to every S3 request
    pulled = cli("pull", ID)
    assert pulled.returncode == 1
    assert one_line_error(pulled).endswith(f": the store {url} is unreachable: its bucket {name} was not found; pull never uses the origin")
    # a refused connection says so, with its cause
    configure(env, url, options={"endpoint_url": "http://127.0.0.1:9", "config_kwargs": {"retries": {"max_attempts": 1}}})
    refused = cli("--data", str(env.root / "m2"), "pull", ID)
    assert refused.returncode == 1
    line = one_line_error(refused)
    assert f"store {url}: cannot " in line and "Could not connect to the endpoint URL" in line and "has no copy" not in line


def test_every_exit_code_of_an_error_is_in_the_documented_table():
    table = (Path(__file__).resolve().parents[1] / "docs" / "reliability.md").read_text()
    documented = {int(m) for m in re.findall(r"^\| (\d+) \|", table, flags=re.M)}
    classes, codes = [errors.DatamaestroError], set()
    while classes:
        cls = classes.pop()
        codes.add(cls.exit_code)
        classes.extend(cls.__subclasses__())
    assert NotInStoreError.exit_code == 3 and codes <= documented
