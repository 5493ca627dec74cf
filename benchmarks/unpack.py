"""Benchmark 5: unpacking a CIFAR-10-sized tar.gz, and gunzipping Fashion-MNIST's training images.

``untar`` (plan every member, then write and hash) against what it replaces:
``tarfile.extractall(filter="data")`` after a ``getmembers`` check, then a
pass hashing every file; and ``gunzip`` against ``gzip.open`` copied and
hashed. The tar.gz is generated: 8 files, 178 MB of nearly incompressible
bytes (like CIFAR-10's batches), about 170 MB compressed.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import shutil
import statistics
import tarfile
from pathlib import Path

import common

from datamaestro.download.unpack import Limits, gunzip, untar
from datamaestro.hashing import hash_file

LIMITS = Limits(max_bytes=1 << 40, max_files=1_000_000)


def cifar_like(folder: Path) -> Path:
    """A tar.gz shaped like cifar-10-python.tar.gz: one folder, 8 files, 178 MB."""
    import numpy as np

    rng = np.random.default_rng(0)
    path = folder / "cifar-like.tar.gz"
    with tarfile.open(path, "w:gz") as tar:
        for i in range(8):
            data = rng.integers(0, 256, 178_000_000 // 8, dtype=np.uint8)
            data[::7] = 0
            info = tarfile.TarInfo(f"batches/data_batch_{i}")
            info.size = data.size
            tar.addfile(info, io.BytesIO(data.tobytes()))
    return path


def run(repeat: int = 5) -> None:
    work = common.work_folder("unpack")
    archive = cifar_like(work)
    out = work / "out"

    def fresh() -> Path:
        if out.is_dir():
            shutil.rmtree(out)
        out.unlink(missing_ok=True)
        return out

    def ours() -> object:
        return untar(archive, fresh(), LIMITS, "cifar-like.tar.gz", subpath="batches")

    def extractall_then_hash() -> object:
        dest = fresh()
        dest.mkdir()
        with tarfile.open(archive, "r:*") as tar:
            members = tar.getmembers()
            tar.extractall(dest, members=members, filter="data")
        return {p: hash_file(p) for p in (dest / "batches").rglob("*") if p.is_file()}

    rows = [("untar", common.timings(ours, repeat, warmup=1)), ("extractall + hash", common.timings(extractall_then_hash, repeat))]
    common.table(f"untar: {archive.stat().st_size / 1e6:.0f} MB tar.gz, 8 files", rows, "untar")
    ratio = statistics.median(rows[1][1]) / statistics.median(rows[0][1])
    common.verdict("untar not slower than extractall + hash", ratio >= 1, f"{ratio:.2f}x faster")

    gz = common.fashion_gz()["train-images-idx3-ubyte.gz"]
    source = work / "train-images-idx3-ubyte.gz"
    source.write_bytes(gz)

    def ours_gunzip() -> object:
        fresh()
        return gunzip(source, out, LIMITS, "train-images-idx3-ubyte.gz")

    def gzip_copy_and_hash() -> object:
        digest = hashlib.sha256()
        with gzip.open(source) as f, open(fresh(), "wb") as o:
            while chunk := f.read(1 << 20):
                digest.update(chunk)
                o.write(chunk)
        return digest.hexdigest()

    rows = [("gunzip", common.timings(ours_gunzip, repeat, warmup=1)), ("gzip.open + hash", common.timings(gzip_copy_and_hash, repeat))]
    common.table("gunzip: Fashion-MNIST train images", rows, "gunzip")
    ratio = statistics.median(rows[1][1]) / statistics.median(rows[0][1])
    common.verdict("gunzip not slower than gzip.open + hash", ratio >= 1, f"{ratio:.2f}x faster")
