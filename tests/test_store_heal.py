"""The team store heals and keeps what push needs: damaged blobs replaced once, push without the origin,
and what a record read may fail with (refused content is replaced, a failed read never is)."""

from __future__ import annotations

import json
import os

import pytest
from makefiles import sha256
from test_reliability import FAST
from test_store import ID, ORIGINALS, blob_path, expected_record, one_line_error
from test_store import team as team  # noqa: F401 (the fixture)

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
