"""Many processes preparing on one data folder: one download per file, the same verified result."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading

from httpserver import Fault
from makefiles import md5, write_module
from test_reliability import FAST, ID, blob_module, payload, prepared


def start(*args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "datamaestro", "prepare", *args],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=os.environ.copy(),
    )


def test_eight_processes_download_each_file_once(env, server):
    files = {"a.idx": payload(300_000), "b.idx": payload(100_000, seed=1), "c.idx": payload(50_000, seed=2)}
    entries = []
    for name, data in files.items():
        server.files[f"/d/blob/{name}"] = data
        # slow enough that the other processes start while the first one downloads
        server.faults[f"/d/blob/{name}"] = Fault(trickle=50_000, pause=0.15)
        entries.append((name, server.url(f"d/blob/{name}"), f"md5:{md5(data)}"))
    write_module(env.use_registry(), "org.rel", blob_module({"blob": entries}))
    env.write_config(FAST)
    processes = [start(ID) for _ in range(8)]
    results = [(p.communicate(timeout=90), p.returncode) for p in processes]
    for (_stdout, stderr), code in results:
        assert code == 0, stderr
    waited = [e for (_, e), _ in results if f"{ID}: another process is preparing it; waiting" in e]
    assert waited  # the lock was contended...
    assert all("downloading" not in e for e in waited)  # ...and who waited downloaded nothing
    outputs = {stdout for (stdout, _), _ in results}
    assert len(outputs) == 1  # identical JSON from all eight
    assert json.loads(outputs.pop())["path"] == str(prepared(env))
    for name, data in files.items():
        assert server.gets(f"/d/blob/{name}") == 1
        assert prepared(env, name).read_bytes() == data
    assert [p for p in (env.data / "downloads").rglob("*") if p.is_file()] == []


def test_different_datasets_prepare_in_parallel(env, server):
    """Each server answer waits until the other dataset's request arrived: serializing would time out."""
    one, two = payload(10_000), payload(10_000, seed=1)
    server.files["/d/one/a.idx"] = one
    server.files["/d/two/a.idx"] = two
    arrived = {"/d/one/a.idx": threading.Event(), "/d/two/a.idx": threading.Event()}
    met: dict[str, bool] = {}

    def hook(handler, path):
        arrived[path].set()
        other = next(p for p in arrived if p != path)
        met[path] = arrived[other].wait(timeout=15)
        return False  # then answer normally

    server.hook = hook
    write_module(env.use_registry(), "org.rel", blob_module({
        "one": [("a.idx", server.url("d/one/a.idx"), f"md5:{md5(one)}")],
        "two": [("a.idx", server.url("d/two/a.idx"), f"md5:{md5(two)}")],
    }))
    env.write_config({**FAST, "read_timeout": 30})
    processes = [start("-q", "org.rel.one"), start("-q", "org.rel.two")]
    for p in processes:
        _, stderr = p.communicate(timeout=60)
        assert p.returncode == 0, stderr
    assert met == {"/d/one/a.idx": True, "/d/two/a.idx": True}
    assert prepared(env, dataset="org.rel.one").read_bytes() == one
    assert prepared(env, dataset="org.rel.two").read_bytes() == two
