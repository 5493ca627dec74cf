"""Converting the 70,000 Fashion-MNIST images between array layouts: datamaestro vs Datumaro.

For each pair of the layouts mnist, mnist_csv and cifar, the same input
folder (written once by datamaestro from Debian's Fashion-MNIST files) is
converted by ``datamaestro convert`` and by Datumaro's
``Dataset.import_from(...).export(...)``, the latter run in its own venv
(``$DATAMAESTRO_DATUMARO_VENV``, default ``/work/bench-venv-datumaro``,
created with ``pip install datumaro`` when missing). Each Datumaro run has a
time limit (``--limit``, default 300 s); runs over it are reported as such.

    python benchmarks/convert.py [--repeat 3] [--limit 300] [--no-datumaro] [--subset test]

Prints a Markdown table: our median wall time (in-process and through the
CLI, start-up included), Datumaro's, and the ratio, then a check that
Datumaro reads back what we wrote (same item count, labels and pixels).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))

FASHION = Path("/usr/share/datasets/fashion-mnist")
LAYOUTS = ["mnist", "mnist_csv", "cifar"]
DEFAULT_VENV = Path(os.environ.get("DATAMAESTRO_DATUMARO_VENV", "/work/bench-venv-datumaro"))

DATUMARO_CONVERT = textwrap.dedent(
    """
    import sys, time, warnings, logging
    warnings.filterwarnings("ignore"); logging.disable(logging.WARNING)
    t0 = time.perf_counter()
    from datumaro.components.dataset import Dataset
    t1 = time.perf_counter()
    src, fin, out, fout = sys.argv[1:5]
    Dataset.import_from(src, fin).export(out, fout, save_media=True)
    print(f"{t1 - t0:.3f} {time.perf_counter() - t1:.3f}")
    """
)

DATUMARO_READ = textwrap.dedent(
    """
    import sys, json, hashlib, warnings, logging
    warnings.filterwarnings("ignore"); logging.disable(logging.WARNING)
    from datumaro.components.dataset import Dataset
    from datumaro.components.annotation import AnnotationType
    ds = Dataset.import_from(sys.argv[1], sys.argv[2])
    items = []
    for item in ds:
        labels = [a.label for a in item.annotations if a.type == AnnotationType.label]
        image = item.media.data
        items.append([item.subset, item.id, labels[0] if labels else -1, int(image.astype("int64").sum())])
    print(json.dumps(sorted(items)))
    """
)


def datumaro_python(venv: Path) -> Path | None:
    """The venv's python with datumaro importable (installing it if needed); None if impossible."""
    python = venv / "bin" / "python"
    if not python.exists():
        print(f"creating {venv} and installing datumaro there...", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    if subprocess.run([str(python), "-c", "import datumaro"], capture_output=True).returncode != 0:
        result = subprocess.run([str(python), "-m", "pip", "install", "-q", "datumaro"], capture_output=True, text=True)
        if result.returncode != 0:
            print(f"datumaro could not be installed: {result.stderr.strip().splitlines()[-1:]}", file=sys.stderr)
            return None
    return python


def source_dataset(subset: str | None):
    """Fashion-MNIST in memory (Debian's files), or random data of the same shapes."""
    import numpy as np

    from datamaestro.formats import Dataset, Subset, read

    if FASHION.is_dir():
        ds = read(FASHION, "mnist")
        origin = f"Fashion-MNIST from {FASHION}"
    else:
        rng = np.random.default_rng(0)
        ds = Dataset(
            {
                "train": Subset(rng.integers(0, 256, (60000, 28, 28), dtype=np.uint8), rng.integers(0, 10, 60000)),
                "test": Subset(rng.integers(0, 256, (10000, 28, 28), dtype=np.uint8), rng.integers(0, 10, 10000)),
            },
            [str(i) for i in range(10)],
        )
        origin = "random data shaped like Fashion-MNIST (Debian's files are absent)"
    if subset:
        ds = Dataset({subset: ds.subsets[subset]}, ds.categories)
    return ds, origin


def timed(function, repeat: int) -> list[float]:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="timed runs of datamaestro per pair")
    parser.add_argument("--limit", type=float, default=300, help="seconds allowed to one Datumaro run")
    parser.add_argument("--no-datumaro", action="store_true", help="only datamaestro's figures")
    parser.add_argument("--subset", choices=["train", "test"], help="only this subset (test = 10,000 images)")
    parser.add_argument("--venv", type=Path, default=DEFAULT_VENV, help="Datumaro's venv")
    args = parser.parse_args()

    from datamaestro.formats import write
    from datamaestro.formats.registry import convert

    work = Path(tempfile.mkdtemp(prefix="dm-bench-convert-"))
    try:
        dataset, origin = source_dataset(args.subset)
        print(f"data: {origin}, {len(dataset)} images; work folder {work}\n")
        inputs = {}
        for fmt in LAYOUTS:
            inputs[fmt] = work / f"in-{fmt}"
            write(dataset, inputs[fmt], fmt)
        python = None if args.no_datumaro else datumaro_python(args.venv)
        rows = []
        for source in LAYOUTS:
            for target in LAYOUTS:
                if source == target:
                    continue
                out = work / f"out-{source}-{target}"

                def ours() -> None:
                    shutil.rmtree(out, ignore_errors=True)
                    convert(inputs[source], source, out, target)

                ours_times = timed(ours, args.repeat)
                shutil.rmtree(out, ignore_errors=True)
                start = time.perf_counter()
                cli = subprocess.run(
                    [sys.executable, "-m", "datamaestro", "convert", "-if", source, "-i", str(inputs[source]),
                     "-f", target, "-o", str(out), "-q"],
                    capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT / "src")},
                )
                cli_time = time.perf_counter() - start
                if cli.returncode:
                    raise SystemExit(f"datamaestro convert failed: {cli.stderr}")
                theirs = run_datumaro(python, inputs[source], source, work / f"dm-{source}-{target}", target, args.limit)
                rows.append((source, target, statistics.median(ours_times), cli_time, theirs))
        print_table(rows, args)
        if python is not None:
            print()
            check_datumaro_reads(python, work, dataset, args.limit)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


def run_datumaro(python, src: Path, fin: str, out: Path, fout: str, limit: float) -> dict:
    """Datumaro's wall time (or why there is none)."""
    if python is None:
        return {"status": "not run"}
    start = time.perf_counter()
    try:
        result = subprocess.run(
            [str(python), "-c", DATUMARO_CONVERT, str(src), fin, str(out), fout],
            capture_output=True, text=True, timeout=limit,
        )
    except subprocess.TimeoutExpired:
        return {"status": f"over {limit:.0f} s (stopped)"}
    wall = time.perf_counter() - start
    if result.returncode != 0:
        last = (result.stderr.strip().splitlines() or ["?"])[-1]
        return {"status": f"failed: {last[:70]}"}
    shutil.rmtree(out, ignore_errors=True)
    return {"status": "ok", "wall": wall, "convert": float(result.stdout.split()[1])}


def print_table(rows, args) -> None:
    print(f"datamaestro: median of {args.repeat} in-process runs; CLI: one run, start-up included.")
    print("Datumaro: one run, wall time including its import (convert only in brackets).\n")
    print("| conversion | datamaestro | datamaestro CLI | Datumaro | Datumaro / datamaestro CLI |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for source, target, ours, cli, theirs in rows:
        if theirs["status"] == "ok":
            dm = f"{theirs['wall']:.2f} s ({theirs['convert']:.2f} s)"
            ratio = f"{theirs['wall'] / cli:.1f}x"
        else:
            dm, ratio = theirs["status"], "-"
        print(f"| {source} -> {target} | {ours:.2f} s | {cli:.2f} s | {dm} | {ratio} |")
    slowest = max(r[3] for r in rows)
    print(f"\ntarget 'seconds, not minutes': slowest CLI conversion {slowest:.2f} s -> "
          f"{'met' if slowest < 60 else 'NOT met'}")


def check_datumaro_reads(python, work: Path, dataset, limit: float) -> None:
    """Datumaro reads what we wrote: same items, labels and pixel sums (on the test subset)."""
    import numpy as np

    from datamaestro.formats import Dataset, write

    small = Dataset({"test": dataset.subsets["test"].select(np.arange(len(dataset.subsets["test"])) < 2000)},
                    dataset.categories)
    expected = sorted(
        ["test", item_id, int(label), int(np.asarray(image, np.int64).sum())]
        for item_id, label, image in zip(small.subsets["test"].item_ids(), small.subsets["test"].labels,
                                         small.subsets["test"].images)
    )
    for fmt in LAYOUTS:
        folder = work / f"compat-{fmt}"
        write(small, folder, fmt)
        result = subprocess.run([str(python), "-c", DATUMARO_READ, str(folder), fmt],
                                capture_output=True, text=True, timeout=limit)
        if result.returncode != 0:
            print(f"Datumaro reading our {fmt}: failed: {result.stderr.strip().splitlines()[-1:]}")
            continue
        got = json.loads(result.stdout)
        if fmt == "cifar":  # grey written as 3 equal channels
            expected_fmt = [[s, i, label, 3 * total] for s, i, label, total in expected]
        else:
            expected_fmt = expected
        same = got == expected_fmt
        print(f"Datumaro reading our {fmt} output (2,000 test images): "
              f"{'identical ids, labels and pixels' if same else 'DIFFERENT'}")


if __name__ == "__main__":
    sys.exit(main())
