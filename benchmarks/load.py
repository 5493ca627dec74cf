"""Benchmark 2: from ``prepare_dataset(id)`` on a prepared dataset to the train images as an array.

Against torchvision's ``FashionMNIST(root, download=False).data`` on the same
files, for Fashion-MNIST (60,000 images) and for a ten times larger copy
(600,000 images, 470 MB), to show whether the cost depends on the size. Each
side is timed in a new process (the first call, imports of numpy and torch
done before the clock starts) and then repeated in the same process.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import textwrap
from pathlib import Path

import common
import numpy as np
from command import BUDGET, prepare_fashion

BIG_ID = "org.bench.fashion-x10"
SCALE = 10

OURS = """
import json, sys, time
import numpy as np
import datamaestro
start = time.perf_counter()
ds = datamaestro.prepare_dataset(sys.argv[1], quiet=True)
images = np.asarray(ds.train.images.data())
first = time.perf_counter() - start
again = []
for _ in range(20):
    start = time.perf_counter()
    ds = datamaestro.prepare_dataset(sys.argv[1], quiet=True)
    images = np.asarray(ds.train.images.data())
    again.append(time.perf_counter() - start)
print(json.dumps({"first": first, "again": again, "shape": list(images.shape)}))
"""

TORCHVISION = """
import json, sys, time
sys.path.insert(0, sys.argv[2])
import numpy as np, torch
import common
torchvision = common.import_torchvision()
start = time.perf_counter()
ds = torchvision.datasets.FashionMNIST(sys.argv[1], train=True, download=False)
images = ds.data
first = time.perf_counter() - start
again = []
for _ in range(3):
    start = time.perf_counter()
    ds = torchvision.datasets.FashionMNIST(sys.argv[1], train=True, download=False)
    images = ds.data
    again.append(time.perf_counter() - start)
print(json.dumps({"first": first, "again": again, "shape": list(images.shape)}))
"""

BIG_MODULE = '''
from datamaestro.data.images import ImageClassification, LabelledImages
from datamaestro.data.tensor import IDX
from datamaestro.definitions import dataset
from datamaestro.download.single import filedownloader


@filedownloader("train_images.idx", {images_url!r}, checksum="sha256:{images_sha}")
@filedownloader("train_labels.idx", {labels_url!r}, checksum="sha256:{labels_sha}")
@dataset(ImageClassification, id="fashion-x10", name="Fashion-MNIST x10")
def fashion_x10(train_images, train_labels):
    """Fashion-MNIST's training set repeated ten times (benchmark data)."""
    return {{"train": LabelledImages(images=IDX(path=train_images), labels=IDX(path=train_labels))}}
'''


def setup(work: Path) -> tuple[dict[str, str], Path, Path, object]:
    """Prepared datasets (Fashion-MNIST, and the x10 copy) and torchvision roots on the same bytes."""
    import hashlib

    from datamaestro.formats import idx

    sys.path.insert(0, str(common.REPO / "tests"))
    from makefiles import idx_bytes

    gz = common.fashion_gz()
    raw = common.write_raw(work / "tv1" / "FashionMNIST" / "raw", gz)
    images = np.asarray(idx.read(raw / "train-images-idx3-ubyte"))
    labels = np.asarray(idx.read(raw / "train-labels-idx1-ubyte"))
    big_images = idx_bytes(np.tile(images, (SCALE, 1, 1)))
    big_labels = idx_bytes(np.tile(labels, SCALE))
    server = common.file_server({"/big/train-images-idx3-ubyte": big_images, "/big/train-labels-idx1-ubyte": big_labels})
    registry = work / "registry"
    (registry / "org").mkdir(parents=True)
    (registry / "org" / "bench.py").write_text(textwrap.dedent(BIG_MODULE.format(
        images_url=server.url("big/train-images-idx3-ubyte"),  # type: ignore[attr-defined]
        labels_url=server.url("big/train-labels-idx1-ubyte"),  # type: ignore[attr-defined]
        images_sha=hashlib.sha256(big_images).hexdigest(),
        labels_sha=hashlib.sha256(big_labels).hexdigest(),
    )))
    del big_images, big_labels
    env = {k: v for k, v in os.environ.items() if not k.startswith("DATAMAESTRO_")}
    env.update(DATAMAESTRO_DIR=str(work / "data"), DATAMAESTRO_CACHE=str(work / "cache"), DATAMAESTRO_PATH=str(registry))
    prepare_fashion(env, work)
    out = subprocess.run(
        [sys.executable, "-m", "datamaestro", "-q", "prepare", BIG_ID],
        env=env, check=True, capture_output=True, text=True,
    )
    prepared = {BIG_ID: json.loads(out.stdout)}
    # torchvision's root for the x10 copy: hard links to the files datamaestro prepared.
    big_raw = work / "tv10" / "FashionMNIST" / "raw"
    big_raw.mkdir(parents=True)
    split = prepared[BIG_ID]["train"]
    os.link(split["images"]["path"], big_raw / "train-images-idx3-ubyte")
    os.link(split["labels"]["path"], big_raw / "train-labels-idx1-ubyte")
    for name in ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"):
        os.link(raw / name, big_raw / name)
    return env, work / "tv1", work / "tv10", server


def measure(script: str, args: list[str], env: dict[str, str], runs: int) -> tuple[list[float], list[float], list[int]]:
    firsts, agains, shape = [], [], []
    for _ in range(runs):
        out = subprocess.run(
            [sys.executable, "-c", script, *args], env=env, check=True, capture_output=True, text=True
        )
        result = json.loads(out.stdout)
        firsts.append(result["first"])
        agains += result["again"]
        shape = result["shape"]
    return firsts, agains, shape


def run(repeat: int = 5) -> None:
    work = common.work_folder("load")
    env, tv1, tv10, server = setup(work)
    here = str(Path(__file__).resolve().parent)
    try:
        for label, dataset_id, root in (("60,000", common.FASHION_ID, tv1), (f"{60000 * SCALE:,}", BIG_ID, tv10)):
            ours_first, ours_again, shape = measure(OURS, [dataset_id], env, repeat)
            tv_first, tv_again, tv_shape = measure(TORCHVISION, [str(root), here], env, max(2, repeat // 2))
            assert shape == tv_shape, (shape, tv_shape)
            rows = [
                ("datamaestro, first call in a new process", ours_first),
                ("datamaestro, repeated call", ours_again),
                ("torchvision FashionMNIST(...).data, first", tv_first),
                ("torchvision, repeated", tv_again),
            ]
            common.table(
                f"Load: prepare_dataset(id) to train images as an array, {label} images {tuple(shape)}",
                rows,
                "datamaestro, first call in a new process",
                note=f"Load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs.",
            )
            RESULTS[label] = statistics.median(ours_first), statistics.median(ours_again)
    finally:
        server.stop()  # type: ignore[attr-defined]
    (small_first, small_again), (big_first, big_again) = RESULTS.values()
    print()
    common.verdict("a few milliseconds, repeated call", small_again < 0.01, common.seconds(small_again))
    common.verdict(
        f"first call in a new process at most {BUDGET * 1000:.0f} ms",
        small_first <= BUDGET,
        f"{common.seconds(small_first)}, mostly datamaestro's own imports (python -X importtime)",
    )
    common.verdict(
        "independent of dataset size",
        big_again < 2 * small_again + 0.001 and big_first < 1.5 * small_first,
        f"x{SCALE} data: repeated {common.seconds(big_again)}, first {common.seconds(big_first)}",
    )


RESULTS: dict[str, tuple[float, float]] = {}
