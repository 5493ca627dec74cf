"""The team store heals and keeps what push needs: damaged blobs replaced once, push without the origin,
and what a record read may fail with (refused content is replaced, a failed read never is)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from httpserver import Fault
from makefiles import sha256
from test_reliability import FAST
from test_store import ID, ORIGINALS, blob_path, expected_record, installed, one_line_error, origin_gets
from test_store import team as team  # noqa: F401 (the fixture)
from test_store_s3 import bucket as bucket  # noqa: F401 (the fixture)
from test_store_s3 import configure
from test_store_s3 import moto as moto  # noqa: F401 (the fixture)

from datamaestro.errors import RefusedObjectError, StoreError
from datamaestro.store.backend import Store
from datamaestro.store.records import Entry
from datamaestro.store.transfer import add_to_record, read_record

# store verify and the reads of a record --------------------------------------------------------


def test_store_verify_reports_a_blob_that_is_not_a_file_and_goes_on(env, server, team, cli):
    assert cli("prepare", "-q", ID).returncode == 0  # push: auto fills the store
    record = json.loads((team / "records" / f"{ID}.json").read_text())
    other = "org.team.other"  # a second dataset, sharing the good blobs of a.idx and b.idx
    record.update(id=other, files={n: record["files"][n] for n in ("a.idx", "b.idx")})
    (team / "records" / f"{other}.json").write_text(json.dumps(record))
    blob = blob_path(team, ORIGINALS["/o/c.idx"])
    blob.unlink()
    os.mkfifo(blob)  # its size cannot be trusted, and reading it would wait forever
    verified = cli("store", "verify")
    where = f"{team.as_uri()}/blobs/sha256/{sha256(ORIGINALS['/o/c.idx'])}"
    assert verified.returncode == 1, verified.stderr
    assert verified.stdout == (
        f"{ID}: CORRUPT: c.idx: refused {where}: not a regular file; only regular files are read from a store\n"
        f"{other}: OK (2 files)\n"
    )


def test_push_fails_on_a_store_it_cannot_read_and_never_says_it_replaces_the_record(env, server, team, cli):
    env.write_config({**FAST, "store": {"url": team.as_uri()}})  # push: never
    assert cli("prepare", "-q", ID).returncode == 0
    (team / "records").mkdir()
    loop = team / "records" / f"{ID}.json"
    loop.symlink_to(loop)  # reading it fails (too many levels of links), as a network failure would
    pushed = cli("push", "-q", ID)
    assert pushed.returncode == 1
    assert one_line_error(pushed).startswith(f"store {team.as_uri()}: cannot read records/{ID}.json: ")
    assert "replaced" not in pushed.stderr and loop.is_symlink()
    loop.unlink()
    (team / "records" / f"{ID}.json").write_text("not json")  # refused content: replaced by the push
    replaced = cli("push", "-q", ID)
    assert replaced.returncode == 0, replaced.stderr
    assert "it will be replaced" in replaced.stderr
    assert json.loads((team / "records" / f"{ID}.json").read_text())["files"] == expected_record(server)


def entry(n: int) -> Entry:
    return Entry(f"{n:064x}", n, f"http://origin/{n}")


def test_a_record_that_cannot_be_read_is_never_rewritten(env, tmp_path):
    store = Store(str(tmp_path / "store"))
    add_to_record(store, ID, {"a.idx": entry(1), "b.idx": entry(2)})
    record = tmp_path / "store" / "records" / f"{ID}.json"
    kept = record.read_bytes()
    moved = record.with_name("elsewhere.json")
    record.rename(moved)
    record.symlink_to(record)  # the read fails for a reason that is not its content
    with pytest.raises(StoreError, match="cannot read") as failed:
        add_to_record(store, ID, {"c.idx": entry(3)})
    assert not isinstance(failed.value, RefusedObjectError)
    assert record.is_symlink()  # not replaced by a record of c.idx alone
    record.unlink()
    moved.rename(record)
    assert record.read_bytes() == kept


@pytest.mark.parametrize("content", ["fifo", "large", "bad"])
def test_a_record_with_refused_content_is_replaced(env, tmp_path, content):
    store = Store(str(tmp_path / "store"))
    record = tmp_path / "store" / "records" / f"{ID}.json"
    record.parent.mkdir(parents=True)
    if content == "fifo":
        os.mkfifo(record)
    elif content == "large":
        record.write_bytes(b" " * (2 << 20))
    else:
        record.write_text("[1, 2")
    add_to_record(store, ID, {"c.idx": entry(3)})
    found = read_record(store, ID)
    assert found is not None and found.files == {"c.idx": entry(3)}


# a damaged store heals: one origin request per damaged file, whatever the number of machines ----------

#: URL path -> how its blob is damaged: other bytes of the same size, or a truncated copy
DAMAGED = {
    "/o/a.idx.gz": lambda data: bytes(reversed(data)),  # md5 published: the md5 refuses it
    "/o/b.idx": lambda data: data[:100],  # sha256 published (the blob's key): no record needed
    "/o/c.idx": lambda data: bytes(reversed(data)),  # no checksum: the store's record refuses it
}


def crowd(server, tmp_path, count: int) -> dict[str, int]:
    """``count`` processes, each with its own data folder, preparing org.team.mix at once; the origin's
    GET requests per file. All must succeed with the same files as the first machine."""
    for path in ORIGINALS:  # slow enough that the others start while the first downloads
        server.faults[path] = Fault(trickle=4000, pause=0.05)
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "datamaestro", "--data", str(tmp_path / f"m{i}"), "prepare", ID],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=os.environ.copy(),
        )
        for i in range(count)
    ]
    results = [(p.communicate(timeout=180), p.returncode) for p in processes]
    for (_, stderr), code in results:
        assert code == 0, stderr
    for i in range(count):
        assert installed(tmp_path / f"m{i}") == installed(tmp_path / "m0")
    return {path: server.gets(path) for path in ORIGINALS}


def damage(read, write) -> None:
    """Damage the blobs of DAMAGED through ``read(data) -> bytes`` and ``write(data, bytes)``."""
    for path, change in DAMAGED.items():
        write(ORIGINALS[path], change(read(ORIGINALS[path])))


def test_eight_machines_on_a_damaged_store_refetch_each_damaged_file_once(env, server, team, cli, tmp_path):
    assert cli("prepare", "-q", ID).returncode == 0  # push: auto fills the store
    damage(lambda data: blob_path(team, data).read_bytes(), lambda data, bad: blob_path(team, data).write_bytes(bad))
    server.log.clear()
    gets = crowd(server, tmp_path, 8)
    assert gets == {path: int(path in DAMAGED) for path in ORIGINALS}
    assert installed(tmp_path / "m0") == installed(env.data)
    for data in ORIGINALS.values():  # replaced by the verified downloads
        assert blob_path(team, data).read_bytes() == data
    assert json.loads((team / "records" / f"{ID}.json").read_text())["files"] == expected_record(server)
    assert [p for p in (team / "leases").rglob("*") if p.is_file()] == []
    assert cli("store", "verify").stdout == f"{ID}: OK (4 files)\n"


def test_eight_machines_on_a_damaged_s3_store_refetch_each_damaged_file_once(env, server, team, bucket, cli, tmp_path):
    fs, name = bucket
    configure(env, f"s3://{name}/team", push="auto")
    assert cli("prepare", "-q", ID).returncode == 0

    def key(data: bytes) -> str:
        return f"{name}/team/blobs/sha256/{sha256(data)}"

    damage(lambda data: fs.cat(key(data)), lambda data, bad: fs.pipe_file(key(data), bad))
    server.log.clear()
    gets = crowd(server, tmp_path, 8)
    assert gets == {path: int(path in DAMAGED) for path in ORIGINALS}
    fs.invalidate_cache()
    for data in ORIGINALS.values():
        assert fs.cat(key(data)) == data
    assert fs.find(f"{name}/team/leases") == []
    assert cli("store", "verify").stdout == f"{ID}: OK (4 files)\n"


# push right after prepare: what push needs was kept --------------------------------------------


def kept_files(data) -> list[str]:
    folder = data / "downloads" / ID
    return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []


def test_push_right_after_prepare_makes_no_origin_request(env, server, team, cli, tmp_path):
    env.write_config({**FAST, "store": {"url": team.as_uri()}})  # push: never
    assert cli("prepare", "-q", ID).returncode == 0
    assert origin_gets(server) == 4
    # the two gunzipped files' originals are kept (the plain ones are their own originals)
    assert kept_files(env.data) == ["a.idx.original", "d.idx.original"]
    assert (env.data / "downloads" / ID / "a.idx.original").read_bytes() == ORIGINALS["/o/a.idx.gz"]
    cleaned = cli("clean", "--yes")  # a kept original is not garbage
    assert cleaned.returncode == 0 and kept_files(env.data) == ["a.idx.original", "d.idx.original"]
    assert f"left alone: {env.data / 'downloads' / ID / 'a.idx.original'}: an original kept for 'datamaestro push'" in cleaned.stderr
    pushed = cli("push", ID)
    assert pushed.returncode == 0, pushed.stderr
    assert pushed.stdout == f"{ID}: 4 uploaded, 0 already in the store ({team.as_uri()})\n"
    assert origin_gets(server) == 4  # nothing fetched again
    assert "fetching its original again" not in pushed.stderr
    for data in ORIGINALS.values():
        assert blob_path(team, data).read_bytes() == data
    assert json.loads((team / "records" / f"{ID}.json").read_text())["files"] == expected_record(server)
    assert kept_files(env.data) == []  # the store has them now
    other = tmp_path / "machine2"
    assert cli("--data", str(other), "pull", ID).returncode == 0
    assert installed(other) == installed(env.data) and origin_gets(server) == 4


def test_originals_are_kept_only_when_the_store_lacks_them(env, server, team, cli, tmp_path):
    assert cli("prepare", "-q", ID).returncode == 0  # push: auto: the store took them
    assert kept_files(env.data) == []
    second = tmp_path / "machine2"
    env.write_config({**FAST, "store": {"url": team.as_uri()}})
    assert cli("--data", str(second), "prepare", "-q", ID).returncode == 0  # from the store
    assert kept_files(second) == []
    env.write_config(FAST)  # no store: nothing kept
    third = tmp_path / "machine3"
    assert cli("--data", str(third), "prepare", "-q", ID).returncode == 0
    assert kept_files(third) == []


def test_a_kept_original_that_changed_is_not_pushed(env, server, team, cli):
    env.write_config({**FAST, "store": {"url": team.as_uri()}})
    assert cli("prepare", "-q", ID).returncode == 0
    kept = env.data / "downloads" / ID / "a.idx.original"
    kept.unlink()  # (a hard link to the download: never written through)
    kept.write_bytes(bytes(reversed(ORIGINALS["/o/a.idx.gz"])))
    pushed = cli("push", ID)
    assert pushed.returncode == 0, pushed.stderr
    assert f"{kept} does not match its manifest: not pushed from it" in pushed.stderr
    assert server.gets("/o/a.idx.gz") == 2 and server.gets("/o/d.idx.gz") == 1
    assert blob_path(team, ORIGINALS["/o/a.idx.gz"]).read_bytes() == ORIGINALS["/o/a.idx.gz"]
    assert not blob_path(team, bytes(reversed(ORIGINALS["/o/a.idx.gz"]))).exists()
