"""Benchmark 5: a second machine gets a dataset from the team store versus from the origin, over loopback.

Two datasets: MNIST-sized (the four Fashion-MNIST .gz files, 30 MB) and
CIFAR-sized (one 170 MB .tar.gz, extracted). The origin is the tests' HTTP
server on 127.0.0.1; the stores are a shared folder (file://) and S3 (moto's
server on 127.0.0.1, through s3fs). Each "machine" is a ``datamaestro``
command with a new empty data folder: ``prepare`` from the origin, ``pull``
from a store. Then 8 machines start at once against one S3 store with
``push: auto``, and the origin counts its requests (with and without a store).

Two more cases (``python benchmarks/store.py heal`` runs only them, MNIST-sized):
8 machines at once on an S3 store where two of the four blobs are damaged (the
origin should be asked once per damaged file), and ``push`` right after
``prepare`` with ``push: never`` (the origin should not be asked at all).
"""

from __future__ import annotations

import hashlib
import io
import os
import subprocess
import sys
import tarfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import common

MACHINES = 8


def cifar_sized() -> bytes:
    """A CIFAR-10-sized .tar.gz (six 28 MB batch files of incompressible bytes), made once per run."""
    import numpy as np

    rng = np.random.default_rng(0)
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w:gz", compresslevel=1) as tar:
        for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
            data = rng.integers(0, 256, 28_000_000, dtype=np.uint8).tobytes()
            info = tarfile.TarInfo(f"cifar-10-batches-py/{name}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return raw.getvalue()


def definitions(base: str, mnist: dict[str, bytes], cifar: bytes) -> str:
    """A definition module: bench.mnist (4 gzipped files) and bench.cifar (one archive), with md5s."""
    lines = [
        "from datamaestro.data.tensor import IDX",
        "from datamaestro.download.archive import archivedownloader",
        "from datamaestro.download.single import filedownloader",
        "from datamaestro.definitions import dataset",
        "",
    ]
    names = []
    for i, (name, data) in enumerate(mnist.items()):
        md5 = hashlib.md5(data).hexdigest()
        lines.append(f"@filedownloader('f{i}.idx', {base + 'mnist/' + name!r}, checksum='md5:{md5}')")
        names.append(f"f{i}")
    lines += [
        "@dataset(IDX, id='mnist')",
        f"def _mnist({', '.join(names)}):",
        "    return {'path': f0}",
        "",
        f"@archivedownloader('batches', {base + 'cifar/cifar-10-python.tar.gz'!r}, "
        f"checksum='md5:{hashlib.md5(cifar).hexdigest()}', subpath='cifar-10-batches-py')",
        "@dataset(IDX, id='cifar')",
        "def _cifar(batches):",
        "    return {'path': batches / 'test_batch'}",
    ]
    return "\n".join(lines) + "\n"


def origin_gets(server: Any, before: int, paths: list[str]) -> int:
    """The origin's GET requests for ``paths`` since its log had ``before`` entries."""
    return sum(1 for method, path, _ in server.log[before:] if method == "GET" and path in paths)


def damaged_crowd(server: Any, machine: Callable[..., subprocess.Popen[bytes]], s3: Any, paths: list[str]) -> None:
    """8 machines at once on an S3 store where 2 of the 4 blobs of bench.mnist are damaged."""
    store = f"s3://bench/damaged-{uuid.uuid4().hex[:8]}"
    if machine("prepare", "bench.mnist", store=store, push="auto").wait() != 0:
        raise SystemExit("the first machine failed")
    damaged = sorted(s3.find(f"{store[5:]}/blobs"))[:2]
    s3.pipe_file(damaged[0], bytes(reversed(s3.cat(damaged[0]))))  # same size, other bytes
    s3.pipe_file(damaged[1], s3.cat(damaged[1])[:1000])  # truncated
    before = len(server.log)
    start = time.perf_counter()
    machines = [machine("prepare", "bench.mnist", store=store, push="auto") for _ in range(MACHINES)]
    codes = [m.wait() for m in machines]
    elapsed = time.perf_counter() - start
    gets = origin_gets(server, before, paths)
    verify = machine("store", "verify", store=store, stdout=subprocess.PIPE)
    verified = verify.communicate()[0].decode().strip()
    print(f"\n## {MACHINES} machines prepare bench.mnist at once on an S3 store with 2 damaged blobs of 4\n")
    print("| origin GET requests | per damaged file | wall time | all succeeded | store verify afterwards |")
    print("| ---: | ---: | ---: | --- | --- |")
    print(f"| {gets} | {gets / 2:g} | {common.seconds(elapsed)} | {all(c == 0 for c in codes)} | {verified} |")
    common.verdict("one origin request per damaged file", gets == 2, f"{gets} GET for 2 damaged files")


def push_after_prepare(server: Any, machine: Callable[..., subprocess.Popen[bytes]], work: Path, paths: list[str]) -> None:
    """``push`` right after ``prepare`` (``push: never``, a shared-folder store): the origin's requests."""
    store = (work / f"push-store-{uuid.uuid4().hex[:8]}").as_uri()
    data = str(work / f"push-{uuid.uuid4().hex[:8]}")
    before = len(server.log)
    if machine("prepare", "bench.mnist", store=store, data=data).wait() != 0:
        raise SystemExit("prepare failed")
    prepared = origin_gets(server, before, paths)
    before = len(server.log)
    start = time.perf_counter()
    code = machine("push", "bench.mnist", store=store, data=data).wait()
    elapsed = time.perf_counter() - start
    pushed = origin_gets(server, before, paths)
    print("\n## push right after prepare (bench.mnist: 4 gzipped files, installed decompressed; `push: never`)\n")
    print("| origin GET requests: prepare | origin GET requests: push | push wall time | push succeeded |")
    print("| ---: | ---: | ---: | --- |")
    print(f"| {prepared} | {pushed} | {common.seconds(elapsed)} | {code == 0} |")
    common.verdict("push right after prepare asks the origin nothing", pushed == 0 and code == 0, f"{pushed} GET")


def run(repeat: int = 3, only_heal: bool = False) -> None:
    from moto.server import ThreadedMotoServer

    mnist = common.fashion_gz()
    cifar = b""
    if not only_heal:
        print("generating a CIFAR-sized archive...", file=sys.stderr)
        cifar = cifar_sized()
    files = {f"/mnist/{name}": data for name, data in mnist.items()}
    files["/cifar/cifar-10-python.tar.gz"] = cifar
    server = common.file_server(files)
    work = common.work_folder("store")
    (work / "registry").mkdir()
    (work / "registry" / "bench.py").write_text(definitions(server.url(""), mnist, cifar))  # type: ignore[attr-defined]
    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    moto.start()
    host, port = moto.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    base_env = {
        **os.environ,
        "DATAMAESTRO_PATH": str(work / "registry"),
        "DATAMAESTRO_CACHE": str(work / "cache"),
        "DATAMAESTRO_CONFIG": str(work / "config.yaml"),
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ENDPOINT_URL": endpoint,
    }
    (work / "config.yaml").write_text("retries: 2\n")
    import s3fs

    s3fs.S3FileSystem(endpoint_url=endpoint, key="bench", secret="bench").mkdir("bench")
    command = str(Path(sys.executable).parent / "datamaestro")
    counter = iter(range(10**6))

    def machine(
        *args: str, store: str = "", push: str = "never", data: str = "", stdout: int = subprocess.DEVNULL
    ) -> subprocess.Popen[bytes]:
        env = {**base_env, "DATAMAESTRO_DIR": data or str(work / f"m{next(counter)}")}
        if store:
            env.update(DATAMAESTRO_STORE=store, DATAMAESTRO_STORE_PUSH=push)
        return subprocess.Popen([command, "-q", *args], env=env, stdout=stdout)

    def once(*args: str, store: str = "", data: str = "") -> None:
        if machine(*args, store=store, data=data).wait() != 0:
            raise SystemExit(f"datamaestro {' '.join(args)} failed")

    mnist_paths = [p for p in files if p.startswith("/mnist/")]
    damaged_crowd(server, machine, s3fs.S3FileSystem(endpoint_url=endpoint, key="bench", secret="bench"), mnist_paths)
    push_after_prepare(server, machine, work, mnist_paths)
    if only_heal:
        moto.stop()
        server.stop()  # type: ignore[attr-defined]
        return
    shared = (work / "shared-store").as_uri()
    s3 = "s3://bench/team"
    first = str(work / "first")
    for dataset in ("bench.mnist", "bench.cifar"):  # the first machine: prepares and pushes
        once("prepare", dataset, data=first)
        once("push", dataset, store=shared, data=first)
        once("push", dataset, store=s3, data=first)
    for dataset, label in (("bench.mnist", "MNIST-sized, 4 files, 30 MB"), ("bench.cifar", "CIFAR-sized, 1 archive, 170 MB")):
        size = sum(len(d) for d in mnist.values()) if dataset == "bench.mnist" else len(cifar)
        rows = [
            ("origin: prepare (HTTP, 127.0.0.1)", common.timings(lambda: once("prepare", dataset), repeat)),
            ("shared folder store: pull", common.timings(lambda: once("pull", dataset, store=shared), repeat)),
            ("S3 store (moto, 127.0.0.1): pull", common.timings(lambda: once("pull", dataset, store=s3), repeat)),
        ]
        common.table(
            f"A second machine gets {label} ({size / 1e6:.0f} MB downloaded), new data folder each run",
            rows,
            "origin: prepare (HTTP, 127.0.0.1)",
            note="Every run starts a `datamaestro` process (imports included); the store copies are "
            "re-hashed (sha256 and the published md5) before they are installed.",
        )
    for dataset in ("bench.mnist", "bench.cifar"):
        paths = [p for p in files if p.startswith("/mnist/" if dataset == "bench.mnist" else "/cifar/")]
        results = []
        for store in ("", f"s3://bench/cluster-{uuid.uuid4().hex[:8]}"):
            before = len(server.log)  # type: ignore[attr-defined]
            start = time.perf_counter()
            machines = [machine("prepare", dataset, store=store, push="auto") for _ in range(MACHINES)]
            codes = [m.wait() for m in machines]
            elapsed = time.perf_counter() - start
            log = server.log[before:]  # type: ignore[attr-defined]
            gets = sum(1 for method, path, _ in log if method == "GET" and path in paths)
            results.append((store or "no store", gets, elapsed, codes))
        print(f"\n## {MACHINES} machines prepare {dataset} at once ({len(paths)} origin file(s))\n")
        print("| store | origin GET requests | per file | wall time | all succeeded |")
        print("| --- | ---: | ---: | ---: | --- |")
        for name, gets, elapsed, codes in results:
            print(f"| {name} | {gets} | {gets / len(paths):g} | {common.seconds(elapsed)} | {all(c == 0 for c in codes)} |")
        common.verdict(
            "origin contacted once per file with the store",
            results[1][1] == len(paths),
            f"{results[1][1]} GET for {len(paths)} file(s), against {results[0][1]} without a store",
        )
    moto.stop()
    server.stop()  # type: ignore[attr-defined]


if __name__ == "__main__":
    if sys.argv[1:] not in ([], ["heal"]):
        raise SystemExit("usage: python benchmarks/store.py [heal]")
    run(only_heal=sys.argv[1:] == ["heal"])
