"""Shared by the benchmarks: their own virtual environment, the data, timing and tables.

The peers (torch, torchvision, pooch) are installed into a separate venv,
``$DATAMAESTRO_BENCH_VENV`` or ``bench-venv`` beside the checkout, never into
the project's environment; the runner re-executes itself there.
"""

from __future__ import annotations

import gzip
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Optional

REPO = Path(__file__).resolve().parents[1]
VENV = Path(os.environ.get("DATAMAESTRO_BENCH_VENV") or REPO.parent / "bench-venv")
DEBIAN_FASHION = Path("/usr/share/datasets/fashion-mnist")
FASHION_ID = "com.github.zalandoresearch.fashion-mnist"
FASHION_BASE = "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"
FASHION_FILES = {
    "train_images": "train-images-idx3-ubyte.gz",
    "train_labels": "train-labels-idx1-ubyte.gz",
    "test_images": "t10k-images-idx3-ubyte.gz",
    "test_labels": "t10k-labels-idx1-ubyte.gz",
}

#: pip requirements of each benchmark (torchvision goes in with --no-deps: see README)
TORCH = ["torch==2.13.0", "pillow"]
NO_DEPS = {"torchvision": "torchvision==0.28.0"}
PEERS = {
    "epoch": (TORCH, ["torchvision"]),
    "load": (TORCH, ["torchvision"]),
    "prepare": (["pooch"], []),
    "search": ([], []),
    "unpack": ([], []),
    "store": (["fsspec", "s3fs", "moto[server]"], []),
    "command": ([], []),
}


# --- environment ------------------------------------------------------------


def venv_python() -> Path:
    return VENV / "bin" / "python"


def in_venv() -> bool:
    return Path(sys.prefix).resolve() == VENV.resolve()


def ensure_venv(benchmarks: Iterable[str]) -> None:
    """Create the benchmark venv, install what ``benchmarks`` need, and re-run there."""
    if in_venv():
        return
    python = venv_python()
    if not python.exists():
        print(f"creating {VENV}", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    wanted, no_deps = [], []
    for name in benchmarks:
        plain, special = PEERS[name]
        wanted += [r for r in plain if r not in wanted]
        no_deps += [NO_DEPS[m] for m in special if NO_DEPS[m] not in no_deps]
    pip = [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
    missing = [r for r in wanted if not _installed(python, r)]
    if missing:
        print(f"installing {' '.join(missing)} into {VENV}", file=sys.stderr)
        subprocess.run([*pip, *missing], check=True)
    missing = [r for r in no_deps if not _installed(python, r)]
    if missing:
        print(f"installing {' '.join(missing)} (--no-deps) into {VENV}", file=sys.stderr)
        subprocess.run([*pip, "--no-deps", *missing], check=True)
    probe = "import datamaestro, sys; sys.stdout.write(datamaestro.__file__)"
    where = subprocess.run([str(python), "-c", probe], capture_output=True, text=True).stdout
    if not where.startswith(str(REPO / "src")):
        print(f"installing this checkout ({REPO}) into {VENV}", file=sys.stderr)
        subprocess.run([*pip, "-e", str(REPO)], check=True)
    os.execv(str(python), [str(python), *sys.argv])


def _installed(python: Path, requirement: str) -> bool:
    name, _, version = requirement.partition("==")
    name = name.split("[")[0]  # moto[server] is the distribution moto
    code = (
        "import importlib.metadata as m, sys\n"
        f"try: v = m.version({name!r})\n"
        "except m.PackageNotFoundError: sys.exit(1)\n"
        f"sys.exit(0 if not {version!r} or v.split('+')[0] == {version!r} else 1)\n"
    )
    return subprocess.run([str(python), "-c", code]).returncode == 0


def import_torchvision() -> object:
    """torchvision, importable beside the CPU build of torch.

    PyPI's torchvision wheels are built against CUDA torch; their compiled ops
    (``torchvision._C``) cannot load beside the CPU build, and torchvision then
    fails registering fake kernels for two of those ops. Declaring the two
    schemas first lets it import; datasets and transforms are pure Python and
    do not use the compiled ops.
    """
    import torch

    global _TORCHVISION_SHIM
    try:
        import torchvision

        return torchvision
    except RuntimeError:
        pass
    for name in [m for m in sys.modules if m.startswith("torchvision")]:
        del sys.modules[name]
    _TORCHVISION_SHIM = torch.library.Library("torchvision", "DEF")
    for op in ("nms", "qnms"):
        _TORCHVISION_SHIM.define(f"{op}(Tensor dets, Tensor scores, float iou_threshold) -> Tensor")
    import torchvision

    return torchvision


_TORCHVISION_SHIM = None


# --- data -------------------------------------------------------------------


def work_folder(name: str) -> Path:
    """A new temporary folder ``dm-bench-NAME-*``, removed when the run ends."""
    import atexit
    import shutil
    import tempfile

    folder = Path(tempfile.mkdtemp(prefix=f"dm-bench-{name}-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    return folder


def fashion_gz() -> dict[str, bytes]:
    """The four gzipped Fashion-MNIST files (Debian's), or generated ones of the same size."""
    if all((DEBIAN_FASHION / name).exists() for name in FASHION_FILES.values()):
        return {name: (DEBIAN_FASHION / name).read_bytes() for name in FASHION_FILES.values()}
    print("Debian's Fashion-MNIST files are absent: generating data of the same size", file=sys.stderr)
    import numpy as np

    sys.path.insert(0, str(REPO / "tests"))
    from makefiles import gz, idx_bytes

    rng = np.random.default_rng(0)
    arrays = {
        "train_images": rng.integers(0, 256, (60000, 28, 28), dtype=np.uint8),
        "train_labels": rng.integers(0, 10, 60000, dtype=np.uint8),
        "test_images": rng.integers(0, 256, (10000, 28, 28), dtype=np.uint8),
        "test_labels": rng.integers(0, 10, 10000, dtype=np.uint8),
    }
    return {FASHION_FILES[k]: gz(idx_bytes(a)) for k, a in arrays.items()}


def write_raw(folder: Path, files: dict[str, bytes]) -> Path:
    """Decompressed copies of ``files`` in ``folder`` (named without .gz); returns folder."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        target = folder / name.removesuffix(".gz")
        if not target.exists():
            target.write_bytes(gzip.decompress(data))
    return folder


def file_server(files: dict[str, bytes]) -> object:
    """The tests' loopback HTTP server (127.0.0.1), started, serving ``files`` by path."""
    sys.path.insert(0, str(REPO / "tests"))
    from httpserver import FileServer

    server = FileServer()
    server.files.update(files)
    return server.start()


# --- timing and tables --------------------------------------------------------


def timings(function: Callable[[], object], repeat: int, warmup: int = 0) -> list[float]:
    """Wall-clock seconds of ``repeat`` calls (after ``warmup`` untimed ones)."""
    for _ in range(warmup):
        function()
    out = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        out.append(time.perf_counter() - start)
    return out


def command_timings(argv: Sequence[str], repeat: int, env: Optional[dict[str, str]] = None) -> list[float]:
    """Wall-clock seconds of running a command ``repeat`` times (output discarded)."""
    def run() -> None:
        subprocess.run(argv, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    return timings(run, repeat)


def command_times(
    argv: Sequence[str], repeat: int, env: Optional[dict[str, str]] = None
) -> tuple[list[float], list[float]]:
    """Wall-clock and CPU (user + system, children included) seconds of ``repeat`` runs of a
    command. CPU time is what a loaded machine changes least: the figure to compare runs by."""
    walls, cpus = [], []
    for _ in range(repeat):
        start = time.perf_counter()
        process = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _, status, usage = os.wait4(process.pid, 0)
        walls.append(time.perf_counter() - start)
        cpus.append(usage.ru_utime + usage.ru_stime)
        if status:
            raise subprocess.CalledProcessError(status, argv)
    return walls, cpus


def seconds(value: float) -> str:
    """A duration with a sensible unit."""
    if value < 1e-3:
        return f"{value * 1e6:.0f} us"
    if value < 1:
        return f"{value * 1e3:.1f} ms"
    return f"{value:.2f} s"


def table(title: str, rows: list[tuple[str, list[float]]], reference: str, note: str = "") -> None:
    """Print median and best of each row, and the ratio of medians to ``reference``."""
    ref = statistics.median(dict(rows)[reference])
    width = max(len(name) for name, _ in rows)
    print(f"\n## {title}\n")
    print(f"| {'':<{width}} | median | best | runs | median / {reference} |")
    print(f"| {'-' * width} | ---: | ---: | ---: | ---: |")
    for name, values in rows:
        median = statistics.median(values)
        ratio = median / ref
        print(
            f"| {name:<{width}} | {seconds(median)} | {seconds(min(values))} | {len(values)} "
            f"| {ratio:.3g}x |"
        )
    if note:
        print(f"\n{note}")
    sys.stdout.flush()


def verdict(label: str, ok: bool, detail: str) -> None:
    print(f"- {label}: {'met' if ok else 'MISSED'} ({detail})")
    sys.stdout.flush()
