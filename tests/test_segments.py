"""Large files over several connections: exact content, resume after SIGKILL, fall back on lies."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
import tracemalloc

import pytest
from httpserver import Fault
from test_reliability import payload

from datamaestro.download.transport import Policy, fetch, kept_bytes
from datamaestro.download.transport.partial import merge, read_state, state_path

MB = 1 << 20
#: 4 connections for files of 1 MiB and more
SPLIT = Policy(retries=2, backoff=0.01, connect_timeout=2, read_timeout=5, segments=4,
               segment_threshold=MB)


#: bytes per second per connection: slow enough that more connections are worth opening
SLOW = 2_000_000


def ranged(server, path: str) -> list[str]:
    return [r for m, p, r in server.log if m == "GET" and p == path and r]


def test_segmented_download_is_exact(env, server):
    data = payload(3 * MB + 12345)
    server.files["/big"] = data
    server.rate = SLOW
    dest = env.root / "big.part"
    transfer = fetch(server.url("big"), dest, ["md5", "sha256"], "big", True, SPLIT)
    assert dest.read_bytes() == data
    assert transfer.digests == {"md5": hashlib.md5(data).hexdigest(),
                                "sha256": hashlib.sha256(data).hexdigest()}
    assert transfer.segments == 4 and transfer.size == len(data) and transfer.resumed_from == 0
    assert server.log[0] == ("GET", "/big", None)  # the first answer serves the first range
    assert len(ranged(server, "/big")) >= 3
    assert transfer.requests == len(server.log)
    assert not state_path(dest).exists()


def test_memory_stays_flat(env, server):
    data = payload(24 * MB)
    server.files["/big"] = data
    tracemalloc.start()
    try:
        fetch(server.url("big"), env.root / "big.part", ["sha256"], "big", True, SPLIT)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 4 * MB


def test_fast_server_is_read_over_one_connection(env, server):
    """Uncapped, the file would be done before more connections pay off: one request only."""
    data = payload(8 * MB)
    server.files["/big"] = data
    transfer = fetch(server.url("big"), env.root / "big.part", ["sha256"], "big", True, SPLIT)
    assert transfer.segments == 1 and server.log == [("GET", "/big", None)]
    assert transfer.digests["sha256"] == hashlib.sha256(data).hexdigest()


def test_small_files_and_one_connection_are_not_segmented(env, server):
    server.files["/small"] = payload(MB - 1)
    transfer = fetch(server.url("small"), env.root / "s.part", [], "s", True, SPLIT)
    assert transfer.segments == 1 and ranged(server, "/small") == []
    server.files["/big"] = payload(2 * MB)
    transfer = fetch(server.url("big"), env.root / "b.part", [], "b", True,
                     Policy(segments=1, segment_threshold=MB))
    assert transfer.segments == 1 and ranged(server, "/big") == []


def test_per_connection_cap_is_beaten_by_more_connections(env, server):
    """At 1 MB/s per connection, 4 MiB take 4 s over one connection; over 8, about 0.5 s."""
    data = payload(4 * MB)
    server.files["/big"] = data
    server.rate = 1_000_000
    start = time.monotonic()
    transfer = fetch(server.url("big"), env.root / "big.part", ["sha256"], "big", True,
                     Policy(segments=8, segment_threshold=MB))
    took = time.monotonic() - start
    assert transfer.segments == 8 and server.most_active >= 6
    assert took < 2.5
    assert transfer.digests["sha256"] == hashlib.sha256(data).hexdigest()


@pytest.mark.parametrize("fault, why", [
    (Fault(ignore_range=True), None),  # announces Accept-Ranges: none: one stream from the start
    (Fault(range_200=True), "the server answered 200 to a range request"),
    (Fault(range_shift=7), "the server sent range "),
    (Fault(etag='"v1"', range_etag='"v2"'), "the file changed on the server"),
])
def test_servers_that_refuse_or_lie_about_ranges_get_one_stream(env, server, caplog, fault, why):
    data = payload(3 * MB)
    server.files["/big"] = data
    server.faults["/big"] = fault
    server.rate = SLOW
    dest = env.root / "big.part"
    with caplog.at_level("INFO", logger="datamaestro"):
        transfer = fetch(server.url("big"), dest, ["sha256"], "big", True, SPLIT)
    assert dest.read_bytes() == data and transfer.segments == 1
    assert transfer.digests["sha256"] == hashlib.sha256(data).hexdigest()
    assert not state_path(dest).exists()
    if why:
        assert any(why in r.getMessage() and "downloading over one connection" in r.getMessage()
                   for r in caplog.records)
        assert server.log[-1] == ("GET", "/big", None)  # the last request: the whole file again


KILLED = """
import sys
from pathlib import Path
from datamaestro.download.transport import Policy, fetch
policy = Policy(segments=4, segment_threshold=1 << 20)
fetch(sys.argv[1], Path(sys.argv[2]), ["sha256"], "big", True, policy, resumable_without_validator=True)
"""


def test_sigkill_mid_download_resumes_only_the_missing_ranges(env, server):
    data = payload(6 * MB)
    server.files["/big"] = data
    server.rate = 1_000_000  # 4 connections: about 1.5 s for the file
    dest = env.root / "big.part"
    process = subprocess.Popen([sys.executable, "-c", KILLED, server.url("big"), str(dest)],
                               env=os.environ.copy())
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        state = read_state(dest)
        if state is not None and state.done_bytes() >= 2 * MB:
            break
        time.sleep(0.02)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=10)
    state = read_state(dest)  # as the killed process left it
    assert state is not None and 0 < state.done_bytes() < len(data)
    assert kept_bytes(dest) == state.done_bytes() and dest.stat().st_size == len(data)
    missing = state.missing()
    assert len(missing) >= 2  # holes in several ranges, not one prefix
    server.rate = None
    before = len(server.log)
    transfer = fetch(server.url("big"), dest, ["sha256"], "big", True, SPLIT,
                     resumable_without_validator=True)
    assert dest.read_bytes() == data
    assert transfer.resumed_from == state.done_bytes()
    assert transfer.digests["sha256"] == hashlib.sha256(data).hexdigest()
    asked = [r for _, _, r in server.log[before:]]
    assert all(r is not None for r in asked)  # nothing from the start again
    spans = [tuple(int(v) for v in r.removeprefix("bytes=").split("-")) for r in asked]
    for start, last in spans:  # every range asked for lies within a missing range
        assert any(s <= start and last < e for s, e in missing), (start, last, missing)
    assert merge([(s, last + 1) for s, last in spans]) == missing  # and all are asked for
    assert not state_path(dest).exists()


def test_corrupt_state_file_restarts_from_the_start(env, server):
    data = payload(2 * MB)
    server.files["/big"] = data
    dest = env.root / "big.part"
    dest.write_bytes(b"\0" * len(data))  # preallocated, but what was written is unknown
    state_path(dest).write_text(json.dumps({"size": len(data), "validator": None,
                                            "done": [[0, 10 * len(data)]]}))
    fetch(server.url("big"), dest, [], "big", True, SPLIT, resumable_without_validator=True)
    assert dest.read_bytes() == data and server.log[0] == ("GET", "/big", None)


def test_segments_without_validator_or_checksum_are_not_resumed(env, server):
    data = payload(2 * MB)
    server.files["/big"] = data
    dest = env.root / "big.part"
    dest.write_bytes(data[:MB] + b"\0" * MB)
    state_path(dest).write_text(json.dumps({"size": len(data), "validator": None, "done": [[0, MB]]}))
    transfer = fetch(server.url("big"), dest, [], "big", True, SPLIT, resumable_without_validator=False)
    assert transfer.resumed_from == 0 and server.log[0] == ("GET", "/big", None)
    assert dest.read_bytes() == data


def test_file_changed_since_the_kill_is_downloaded_whole(env, server):
    """The state's validator is sent as If-Range: the new version comes whole (200), never spliced."""
    old, new = payload(2 * MB, seed=1), payload(2 * MB, seed=2)
    server.files["/big"] = new
    server.faults["/big"] = Fault(etag='"new"')
    dest = env.root / "big.part"
    dest.write_bytes(old[:MB] + b"\0" * MB)
    state_path(dest).write_text(json.dumps({"size": len(old), "validator": '"old"', "done": [[0, MB]]}))
    fetch(server.url("big"), dest, [], "big", True, SPLIT, validator='"old"')
    assert dest.read_bytes() == new
