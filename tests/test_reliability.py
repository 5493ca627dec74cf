"""Downloads against a misbehaving server on 127.0.0.1: drops, 5xx, 429, short bodies, timeouts."""

from __future__ import annotations

import hashlib
import json
import os
import resource
import time
from pathlib import Path

import pytest
from httpserver import Fault
from makefiles import md5, write_module

from datamaestro.download.transport import Policy, TransferError, fetch
from datamaestro.errors import DownloadError

ID = "org.rel.blob"
SIZE = 256 * 1024
#: retries and timeouts small enough for fast tests
FAST = {"retries": 2, "backoff": 0.01, "connect_timeout": 2, "read_timeout": 5}


def payload(size: int = SIZE, seed: int = 0) -> bytes:
    """Deterministic pseudo-random bytes."""
    out = bytearray()
    counter = 0
    while len(out) < size:
        out += hashlib.sha256(f"{seed}:{counter}".encode()).digest()
        counter += 1
    return bytes(out[:size])


def blob_module(datasets: dict[str, list[tuple[str, str, str | None]]]) -> str:
    """Definition source: datasets id -> [(file name, url, checksum or None)], typed IDX."""
    parts = [
        "from datamaestro.data.tensor import IDX",
        "from datamaestro.download.single import filedownloader",
        "from datamaestro.definitions import dataset",
    ]
    for dataset_id, files in datasets.items():
        parts.append("")
        for name, url, checksum in files:
            extra = f", checksum={checksum!r}" if checksum else ""
            parts.append(f"@filedownloader({name!r}, {url!r}{extra})")
        args = ", ".join(name.split(".")[0] for name, _, _ in files)
        parts.append(f"@dataset(IDX, id={dataset_id!r})")
        parts.append(f"def _{dataset_id}({args}):")
        parts.append(f"    return {{'path': {files[0][0].split('.')[0]}}}")
    return "\n".join(parts) + "\n"


def serve(env, server, files: dict[str, bytes], *, dataset: str = "blob", config=FAST, checksums=True) -> None:
    """Serve ``files`` (name -> bytes) under /d/<dataset>/ as dataset org.rel.<dataset>."""
    for name, data in files.items():
        server.files[f"/d/{dataset}/{name}"] = data
    entries = [
        (name, server.url(f"d/{dataset}/{name}"), f"md5:{md5(data)}" if checksums else None)
        for name, data in files.items()
    ]
    write_module(env.use_registry(), "org.rel", blob_module({dataset: entries}))
    env.write_config(dict(config))


def prepared(env, name: str = "a.idx", dataset: str = ID) -> Path:
    return env.data / "datasets" / dataset / name


def partial(env, name: str = "a.idx", dataset: str = ID) -> Path:
    return env.data / "downloads" / dataset / f"{name}.part"


def mirrored(env, server, data: bytes) -> None:
    """org.rel.blob: a.idx from /first/a.idx, with the mirror /second/a.idx."""
    source = f'''
from datamaestro.data.tensor import IDX
from datamaestro.download.single import filedownloader
from datamaestro.definitions import dataset

@filedownloader("a.idx", {server.url("first/a.idx")!r}, mirrors=[{server.url("second/a.idx")!r}],
                checksum="md5:{md5(data)}")
@dataset(IDX, id="blob")
def blob(a):
    return {{"path": a}}
'''
    write_module(env.use_registry(), "org.rel", source)
    env.write_config(FAST)


def leave_partial(env, data: bytes, url: str) -> Path:
    """A partial download of a.idx, as an interrupted run from ``url`` leaves it."""
    part = partial(env)
    part.parent.mkdir(parents=True)
    part.write_bytes(data)
    part.with_name("a.idx.part.json").write_text(json.dumps({"url": url}))
    return part


def last_line(result) -> str:
    return result.stderr.splitlines()[-1]


# -- resume -----------------------------------------------------------------------------------


def test_dropped_connections_resume_with_range(env, server, cli):
    data = payload()
    serve(env, server, {"a.idx": data})
    server.faults["/d/blob/a.idx"] = Fault(drop_after=100_000)
    result = cli("prepare", ID)
    assert result.returncode == 0, result.stderr
    assert prepared(env).read_bytes() == data
    assert [r for _, _, r in server.log] == [None, "bytes=100000-", "bytes=200000-"]
    assert server.bytes_sent("/d/blob/a.idx") == SIZE  # not one byte sent twice
    assert "org.rel.blob: a.idx: resuming after 100000 bytes" in result.stderr.splitlines()
    assert not partial(env).exists()


def test_server_ignoring_range_restarts_from_the_start(env, server, cli):
    data = payload()
    serve(env, server, {"a.idx": data})
    server.faults["/d/blob/a.idx"] = Fault(drop_after=50_000, drop_times=1, ignore_range=True)
    result = cli("prepare", ID)
    assert result.returncode == 0, result.stderr
    assert prepared(env).read_bytes() == data
    assert [r for _, _, r in server.log] == [None, "bytes=50000-"]
    assert server.bytes_sent("/d/blob/a.idx") == 50_000 + SIZE
    assert "org.rel.blob: a.idx: the server ignores Range; downloading from the start" in result.stderr


def test_resumed_download_is_hashed_whole(env, server, cli):
    """A partial file with a wrong prefix fails the checksum after resuming, and is discarded."""
    data = payload()
    serve(env, server, {"a.idx": data})
    part = leave_partial(env, b"\0" * 1000, server.url("d/blob/a.idx"))  # not the file's start
    result = cli("prepare", ID)
    assert result.returncode == 1
    assert server.log == [("GET", "/d/blob/a.idx", "bytes=1000-")]
    wrong = md5(b"\0" * 1000 + data[1000:])
    assert last_line(result) == (
        f"datamaestro: error: checksum mismatch for a.idx of {ID}: {server.url('d/blob/a.idx')}: "
        f"expected md5:{md5(data)}, got md5:{wrong}; the download was discarded, nothing was kept"
    )
    assert not part.exists() and not prepared(env).exists()
    again = cli("prepare", "-q", ID)  # the next run starts from scratch
    assert again.returncode == 0, again.stderr
    assert server.log[-1] == ("GET", "/d/blob/a.idx", None)
    assert prepared(env).read_bytes() == data


def test_complete_partial_is_not_downloaded_again(env, server, cli):
    data = payload()
    serve(env, server, {"a.idx": data})
    leave_partial(env, data, server.url("d/blob/a.idx"))
    result = cli("prepare", "-q", ID)
    assert result.returncode == 0, result.stderr
    assert server.log == [("GET", "/d/blob/a.idx", f"bytes={SIZE}-")]  # answered 416
    assert server.bytes_sent("/d/blob/a.idx") == 0
    assert prepared(env).read_bytes() == data


def test_partial_from_another_url_is_not_resumed(env, server, cli):
    data = payload()
    serve(env, server, {"a.idx": data})
    leave_partial(env, data[:5000], "http://127.0.0.1:9/elsewhere")
    result = cli("prepare", "-q", ID)
    assert result.returncode == 0, result.stderr
    assert server.log == [("GET", "/d/blob/a.idx", None)]
    assert prepared(env).read_bytes() == data


# -- retries ----------------------------------------------------------------------------------


def test_5xx_then_success_is_retried(env, server, cli):
    data = payload()
    serve(env, server, {"a.idx": data})
    server.faults["/d/blob/a.idx"] = Fault(errors=[500, 503])
    result = cli("prepare", ID)
    assert result.returncode == 0, result.stderr
    assert server.gets("/d/blob/a.idx") == 3
    assert prepared(env).read_bytes() == data
    assert f"org.rel.blob: a.idx: HTTP 500 Internal Server Error from {server.url('d/blob/a.idx')}; retrying in" in result.stderr


def test_5xx_exhausting_retries_fails_with_what_was_tried(env, server, cli):
    serve(env, server, {"a.idx": payload()})
    server.faults["/d/blob/a.idx"] = Fault(errors=[503] * 10)
    result = cli("prepare", ID)
    assert result.returncode == 1
    assert server.gets("/d/blob/a.idx") == 3  # retries: 2
    assert last_line(result) == (
        f"datamaestro: error: could not download a.idx of {ID}: {server.url('d/blob/a.idx')}: "
        "HTTP 503 Service Unavailable, tried 3 times; check the network or the 'mirrors' setting, "
        f"or use 'datamaestro prepare org.rel.blob --from DIR' with a copy of its files, "
        "or --offline to use only prepared datasets"
    )
    assert not (env.data / "datasets").exists() or not prepared(env).exists()


def test_429_honours_retry_after(env, server, cli):
    data = payload()
    serve(env, server, {"a.idx": data})
    server.faults["/d/blob/a.idx"] = Fault(errors=[429], retry_after="1")
    start = time.monotonic()
    result = cli("prepare", ID)
    assert result.returncode == 0, result.stderr
    assert time.monotonic() - start >= 1.0  # the wait under test (a lower bound): backoff alone is 0.01 s
    assert "HTTP 429 Too Many Requests" in result.stderr
    assert "retrying in 1.0 s" in result.stderr
    assert server.gets("/d/blob/a.idx") == 2


def test_4xx_fails_fast_then_next_mirror(env, server, cli):
    data = payload()
    server.files["/second/a.idx"] = data
    server.faults["/first/a.idx"] = Fault(errors=[403] * 5)
    server.files["/first/a.idx"] = data
    mirrored(env, server, data)
    result = cli("prepare", "-q", ID)
    assert result.returncode == 0, result.stderr
    assert [p for _, p, _ in server.log] == ["/first/a.idx", "/second/a.idx"]  # 403: no retry
    assert prepared(env).read_bytes() == data


def test_short_body_is_an_error_then_resumes(env, server, cli):
    data = payload()
    serve(env, server, {"a.idx": data})
    server.faults["/d/blob/a.idx"] = Fault(short_by=1000)
    result = cli("prepare", ID)
    assert result.returncode == 1
    kept = partial(env)
    assert last_line(result) == (
        f"datamaestro: error: could not download a.idx of {ID}: {server.url('d/blob/a.idx')}: "
        f"connection closed early after {SIZE - 1000} bytes, tried 4 times; "
        f"{SIZE - 1000} bytes were kept in {kept}: run again to resume; "
        "check the network or the 'mirrors' setting, "
        f"or use 'datamaestro prepare org.rel.blob --from DIR' with a copy of its files, "
        "or --offline to use only prepared datasets"
    )
    assert not prepared(env).exists()
    assert kept.read_bytes() == data[: SIZE - 1000]
    # the first try got the short body (progress), then 1 + 2 retries asked for the rest in vain
    assert [r for _, _, r in server.log] == [None] + [f"bytes={SIZE - 1000}-"] * 3
    del server.faults["/d/blob/a.idx"]
    again = cli("prepare", "-q", ID)
    assert again.returncode == 0, again.stderr
    assert server.sent[-1] == ("/d/blob/a.idx", f"bytes={SIZE - 1000}-", 1000)
    assert prepared(env).read_bytes() == data


def test_slow_server_hits_the_read_timeout(env, server, cli):
    serve(env, server, {"a.idx": payload()}, config={**FAST, "read_timeout": 0.3, "retries": 1})
    server.faults["/d/blob/a.idx"] = Fault(delay=1.0)
    result = cli("prepare", ID)
    assert result.returncode == 1
    assert server.gets("/d/blob/a.idx") == 2
    assert last_line(result) == (
        f"datamaestro: error: could not download a.idx of {ID}: {server.url('d/blob/a.idx')}: "
        "timed out (no data for 0.3 s), tried 2 times; check the network or the 'mirrors' setting, "
        f"or use 'datamaestro prepare org.rel.blob --from DIR' with a copy of its files, "
        "or --offline to use only prepared datasets"
    )


def test_stalling_body_times_out_and_resumes(env, server):
    """``fetch`` itself: the body stalls after each 64 KiB; every read timeout keeps what arrived."""
    data = payload()
    server.files["/slow"] = data
    server.faults["/slow"] = Fault(trickle=65536, pause=3.0)
    dest = env.root / "slow.part"
    policy = Policy(retries=0, backoff=0.01, connect_timeout=2, read_timeout=0.3)
    transfer = fetch(server.url("slow"), dest, ["md5", "sha256"], "slow", True, policy)
    # never waited for the stalled server: each read timeout ended a try, the next resumed
    assert [r for _, _, r in server.log] == [None, "bytes=65536-", "bytes=131072-", "bytes=196608-"]
    assert transfer.resumed_from == 196608 and transfer.size == SIZE and transfer.requests == 4
    assert transfer.digests == {"md5": md5(data), "sha256": hashlib.sha256(data).hexdigest()}
    assert dest.read_bytes() == data


def test_progress_resets_the_retry_count(env, server):
    """Five drops with retries=1 still succeed: every try got further than the one before."""
    data = payload()
    server.files["/f"] = data
    server.faults["/f"] = Fault(drop_after=40_000, drop_times=5)
    dest = env.root / "f.part"
    transfer = fetch(server.url("f"), dest, [], "f", True, Policy(retries=1, backoff=0.01))
    assert transfer.requests == 6 and dest.read_bytes() == data
    assert server.bytes_sent("/f") == SIZE


def test_no_progress_gives_up(env, server):
    """A server that ignores Range and always drops at the same place is not retried forever."""
    server.files["/f"] = payload()
    server.faults["/f"] = Fault(drop_after=40_000, ignore_range=True)
    dest = env.root / "f.part"
    with pytest.raises(DownloadError, match="^connection closed early after 40000 bytes, tried 4 times$"):
        fetch(server.url("f"), dest, [], "f", True, Policy(retries=2, backoff=0.01))
    assert server.gets("/f") == 4  # the first try made progress, then 1 + 2 retries made none


def test_connection_refused_is_retried(env):
    dest = env.root / "x.part"
    start = time.monotonic()
    with pytest.raises(TransferError) as info:
        fetch("http://127.0.0.1:9/x", dest, [], "x", True, Policy(retries=2, backoff=0.2))
    assert str(info.value) == "connection failed ([Errno 111] Connection refused), tried 3 times"
    # the waits under test (a lower bound): backoff with jitter, 0.1-0.2 s, then 0.2-0.4 s
    assert time.monotonic() - start >= 0.3


# -- offline ----------------------------------------------------------------------------------


def test_offline_mode(env, server, cli):
    data = payload()
    serve(env, server, {"a.idx": data, "b.idx": payload(1000, seed=1)})
    for args, environ in ((["--offline"], None), ([], "1")):
        if environ:
            env.monkeypatch.setenv("DATAMAESTRO_OFFLINE", environ)
        result = cli(*args, "prepare", ID)
        assert result.returncode == 1
        assert result.stderr == (
            f"datamaestro: error: offline mode: {ID} is not prepared (missing a.idx, b.idx); "
            f"run 'datamaestro prepare {ID}' with network access, "
            f"or 'datamaestro prepare {ID} --from DIR' with a copy of its files\n"
        )
    assert server.log == []
    env.monkeypatch.delenv("DATAMAESTRO_OFFLINE")
    assert cli("prepare", "-q", ID).returncode == 0
    requests = len(server.log)
    server.stop()  # no network at all now
    offline = cli("prepare", "--offline", ID)
    assert offline.returncode == 0, offline.stderr
    assert json.loads(offline.stdout) == {"id": ID, "type": "datamaestro.data.tensor.IDX", "path": str(prepared(env))}
    assert len(server.log) == requests


def test_offline_setting_validation(env, cli):
    env.monkeypatch.setenv("DATAMAESTRO_OFFLINE", "maybe")
    result = cli("prepare", ID)
    assert result.returncode == 2
    assert result.stderr == (
        "datamaestro: error: DATAMAESTRO_OFFLINE='maybe': expected one of 1, true, yes, on "
        "or 0, false, no, off\n"
    )
    env.monkeypatch.delenv("DATAMAESTRO_OFFLINE")
    env.write_config({"retries": -1})
    result = cli("prepare", ID)
    assert result.returncode == 2
    assert result.stderr == f"datamaestro: error: config file {env.config}: 'retries' must be >= 0, got -1\n"
    env.write_config({"read_timeout": True})
    assert cli("prepare", ID).stderr == (
        f"datamaestro: error: config file {env.config}: 'read_timeout' must be a number, got a boolean\n"
    )


# -- nothing lost -----------------------------------------------------------------------------


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture
def prepared_blob(env, server, cli):
    """org.rel.blob prepared with two files; returns a snapshot of its folder."""
    serve(env, server, {"a.idx": payload(), "b.idx": payload(5000, seed=1)})
    assert cli("prepare", "-q", ID).returncode == 0
    folder = env.data / "datasets" / ID
    return snapshot(folder)


@pytest.mark.parametrize("fault", ["500", "wrong bytes", "dropped"])
def test_failed_re_prepare_leaves_prepared_copy_identical(env, server, cli, prepared_blob, fault):
    folder = env.data / "datasets" / ID
    path = "/d/blob/b.idx"  # the second file: a.idx is fetched again and replaced first
    server.faults[path] = {
        "500": Fault(errors=[500] * 10),
        "wrong bytes": Fault(body=b"x" * 5000),
        "dropped": Fault(drop_after=10),
    }[fault]
    if fault == "dropped":
        server.faults[path].ignore_range = True
    result = cli("prepare", "--force", ID)
    assert result.returncode == 1
    assert "datamaestro: error: " in last_line(result) and "b.idx of org.rel.blob" in last_line(result)
    assert snapshot(folder) == prepared_blob


def test_disk_full_during_re_prepare_leaves_prepared_copy_identical(env, server, prepared_blob):
    """EFBIG (a file size limit, as a full disk would) while writing: a clear error, nothing damaged."""
    import subprocess
    import sys

    folder = env.data / "datasets" / ID

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (100_000, 100_000))

    result = subprocess.run(
        [sys.executable, "-m", "datamaestro", "prepare", "--force", ID],
        capture_output=True, text=True, env=os.environ.copy(), preexec_fn=limit, timeout=60,
    )
    assert result.returncode == 1
    part = partial(env)
    assert last_line(result) == (
        f"datamaestro: error: cannot write {part}: File too large; free some space and run again "
        "(the download resumes where it stopped)"
    )
    assert snapshot(folder) == prepared_blob
    assert not list(folder.glob(".*.tmp"))


def test_atomic_write_on_a_full_disk_keeps_the_old_file(env):
    """EFBIG while writing (the gunzip path): StorageError, the old file intact, no temporary left."""
    from datamaestro.storage import StorageError, atomic_file

    dest = env.root / "kept.idx"
    dest.write_bytes(b"old")
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    resource.setrlimit(resource.RLIMIT_FSIZE, (50_000, hard))
    try:
        with pytest.raises(StorageError) as info:
            with atomic_file(dest) as out:
                for _ in range(10):
                    out.write(b"n" * 10_000)
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
    assert str(info.value) == (
        f"cannot write {dest}: File too large; free some space and run again "
        "(nothing prepared before was changed)"
    )
    assert dest.read_bytes() == b"old"
    assert [p.name for p in env.root.iterdir() if p.name.startswith(".kept")] == []


def test_temporaries_of_a_killed_run_are_removed_by_the_next(env, server, cli):
    serve(env, server, {"a.idx": payload()})
    leftover = env.data / "datasets" / ID / ".a.idx.k1ll3d.tmp"
    leftover.parent.mkdir(parents=True)
    leftover.write_bytes(b"half")
    result = cli("prepare", ID)
    assert result.returncode == 0, result.stderr
    assert f"{ID}: removing .a.idx.k1ll3d.tmp, left by an interrupted run" in result.stderr.splitlines()
    assert sorted(p.name for p in leftover.parent.iterdir()) == [".manifest.json", "a.idx"]


def test_partial_download_is_resumed_from_its_mirror_first(env, server, cli):
    data = payload()
    for folder in ("first", "second"):
        server.files[f"/{folder}/a.idx"] = data
    mirrored(env, server, data)
    leave_partial(env, data[:100_000], server.url("second/a.idx"))
    result = cli("prepare", "-q", ID)
    assert result.returncode == 0, result.stderr
    assert server.log == [("GET", "/second/a.idx", "bytes=100000-")]
    assert prepared(env).read_bytes() == data


def test_resume_sends_if_range_with_the_etag(env, server, cli):
    data = payload()
    serve(env, server, {"a.idx": data}, checksums=False)
    server.faults["/d/blob/a.idx"] = Fault(etag='"v1"', drop_after=100_000, drop_times=1)
    if_range = []
    server.hook = lambda handler, path: if_range.append(handler.headers.get("If-Range")) or False
    result = cli("prepare", "-q", ID)
    assert result.returncode == 0, result.stderr
    assert [r for _, _, r in server.log] == [None, "bytes=100000-"]
    assert if_range == [None, '"v1"']
    assert prepared(env).read_bytes() == data


def test_file_changed_on_the_server_is_not_spliced(env, server, cli):
    """Without a checksum, If-Range keeps the bytes of two versions of a file apart."""
    old, new = payload(seed=1), payload(seed=2)
    serve(env, server, {"a.idx": new}, checksums=False)
    server.faults["/d/blob/a.idx"] = Fault(etag='"v2"')
    part = leave_partial(env, old[:100_000], server.url("d/blob/a.idx"))
    part.with_name("a.idx.part.json").write_text(
        json.dumps({"url": server.url("d/blob/a.idx"), "validator": '"v1"'})
    )
    result = cli("prepare", ID)
    assert result.returncode == 0, result.stderr
    assert server.log == [("GET", "/d/blob/a.idx", "bytes=100000-")]
    assert server.bytes_sent("/d/blob/a.idx") == SIZE  # the whole new file
    assert prepared(env).read_bytes() == new
    assert f"{ID}: a.idx: the file changed on the server (or it ignores Range); downloading from the start" in result.stderr
