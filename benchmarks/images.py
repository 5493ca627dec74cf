"""Image folders: one pass of batches(64, resize=(128, 128)) with datamaestro's loader against torchvision.

    python benchmarks/images.py [--images 512] [--repeat 11] [--large 128]

Writes ``--images`` Imagenette-160-like JPEG files (shorter side 160 px, the
longer 160 to 240 px, quality 90, textured content) as a prepared dataset
in a temporary data folder (images, index, manifest), then times, in turn and
``--repeat`` times, one unshuffled pass of 64-image batches resized to
128 x 128, float32 in [0, 1]:

- datamaestro ``split.batches(64, resize=(128, 128))`` with 1 decoding thread,
  with the default (one per core, at most 8), and with ``draft=False``;
- the decoded cache: ``split.cached(resize=(128, 128))`` built (its first
  epoch, timed alone: decoded again each round), and one pass of
  ``batches(64)`` over the cached split a training loop would keep, on which
  the earlier rounds made their passes (a later epoch);
- torchvision ``datasets.ImageFolder`` with ``transforms.Resize((128, 128))``
  and ``ToTensor()``, through ``DataLoader(batch_size=64, num_workers=2)``
  (a new pair of worker processes each epoch, torch's default) and with
  ``persistent_workers=True`` (the workers kept: later epochs only);
- a plain sequential Pillow loop (open, convert, resize, stack, scale);
- the ceiling of these cores: two worker processes (kept between passes)
  each decoding and resizing half the files as the loaders do
  (``decoding.decode``), nothing batched, scaled or sent back: no GIL, no
  batch, no transfer.

Then, on ``--large`` larger JPEGs (shorter side 512 to 640 px), the default
threads with ``draft`` on and off: JPEG draft decoding only applies when an
image is at least 4 times the target (it leaves a factor of 2 to the
antialiased resize), so it changes nothing at 160 -> 128.

Prints Markdown tables: median and best wall time, images per second, CPU time
over wall time (the process and its reaped children; above 1 when work runs at
once; "-" where worker processes outlive the pass), CPU time per image (what
a busy machine changes least), and images per second relative to
torchvision's ``num_workers=2``. "cores free" is the CPU / wall of
two threads hashing at the same time (hashlib releases the GIL): the most any
row could reach while the rest of the machine runs as it does. Then the
targets, as ratios taken round by round (each row against the torchvision
pass of the same round, which ran moments before: a machine whose speed
drifts weighs less on them than on a ratio of medians).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path
from typing import Any, Optional

import numpy as np
from PIL import Image

from datamaestro.data.folder import ImageFolder
from datamaestro.hashing import hash_file
from datamaestro.loaders.decoding import decode, default_workers
from datamaestro.loaders.folder import write_index
from datamaestro.manifest import Entry, folder_files
from datamaestro.storage import DataFolder

DATASET = "org.example.bench-images"
SIZE = (128, 128)


def photo(rng: np.random.Generator, height: int, width: int, label: int) -> np.ndarray:
    """Gradients, 8-pixel blocks and noise: about the size of a photo once in JPEG."""
    y, x = np.mgrid[0:height, 0:width]
    base = np.stack([x * 255 // width, y * 255 // height, (x + y) * 127 // (width + height)], axis=-1)
    blocks = np.kron(rng.integers(0, 60, (height // 8 + 1, width // 8 + 1, 3)), np.ones((8, 8, 1), dtype=np.int64))
    noise = rng.integers(0, 30, (height, width, 3))
    return ((base + blocks[:height, :width] + noise + 25 * label) % 256).astype(np.uint8)


def make_dataset(data: Path, count: int, shorter: tuple[int, int], name: str = DATASET) -> ImageFolder:
    """``count`` JPEG files in 10 class folders, as a prepared dataset ``name`` of the data folder ``data``."""
    folder = DataFolder(data)
    home = folder.dataset_dir(name)
    rng = np.random.default_rng(0)
    items = []
    for k in range(count):
        label = k % 10
        short = int(rng.integers(shorter[0], shorter[1] + 1))
        long = int(short * rng.uniform(1.0, 1.5))
        height, width = (short, long) if k % 4 else (long, short)
        path = home / "images" / f"n{label:02d}" / f"{k}.JPEG"
        path.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(photo(rng, height, width, label)).save(path, quality=90)
        items.append((f"n{label:02d}/{k}.JPEG", label))
    (home / "index").mkdir()
    write_index(home / "index", "train", home / "images", items)
    for part in ("images", "index"):
        files = {rel: hash_file(p) for rel, p in folder_files(home / part).items()}
        folder.record(name, Entry.of_folder(part, files, verified_by="derived"))
    return ImageFolder.from_index(home / "images", home / "index", "train", [f"n{c:02d}" for c in range(10)])


def pillow_loop(split: ImageFolder) -> None:
    """The plain way: each file opened, converted, resized, then the batch stacked and scaled."""
    paths = split.paths()
    for start in range(0, len(paths), 64):
        batch = []
        for path in paths[start : start + 64]:
            with Image.open(path) as im:
                batch.append(np.asarray(im.convert("RGB").resize((SIZE[1], SIZE[0]), Image.Resampling.BILINEAR)))
        np.stack(batch).astype(np.float32) / 255


def decode_files(paths: list[Path]) -> None:
    """Each file decoded and resized as the loaders do (``decoding.decode``), nothing kept or scaled."""
    for path in paths:
        decode(path, "RGB", SIZE)


def two_processes(paths: list[Path]) -> Callable[[], Any]:
    """One pass of ``decode_files`` by two processes at once, half the files each: what Pillow
    decodes on two cores with no GIL, no batch and no transfer."""
    pool = ProcessPoolExecutor(2)
    halves = [paths[: len(paths) // 2], paths[len(paths) // 2 :]]
    return lambda: list(pool.map(decode_files, halves)) and None


def torchvision_pass(root: Path, persistent: bool) -> Callable[[], None]:
    """One pass of torchvision's ImageFolder through a DataLoader with 2 worker processes."""
    import torch.utils.data
    from torchvision import datasets, transforms

    dataset = datasets.ImageFolder(str(root), transforms.Compose([transforms.Resize(SIZE), transforms.ToTensor()]))
    loader = torch.utils.data.DataLoader(
        dataset, batch_size=64, shuffle=False, num_workers=2, persistent_workers=persistent
    )

    def one_pass() -> None:
        for _ in loader:
            pass

    return one_pass


PEERS = {
    "torchvision ImageFolder + DataLoader(num_workers=2)": "torchvision",
    "torchvision, num_workers=2, persistent_workers=True": "persistent",
    "two processes, decode + resize, no batches (ceiling)": "ceiling",
}
CEILING = "two processes, decode + resize, no batches (ceiling)"


def serve_peer(root: Path) -> int:
    """The peer rows, in a process of their own (``--peer ROOT``): reads a row's word per line, runs
    one pass of it and answers its wall and CPU seconds. The worker processes torch forks each
    epoch would otherwise make every page of the benchmark's own process copy-on-write, and its
    next writes fault: each loader runs in a process of its own, as a user runs one."""
    passes = {"torchvision": torchvision_pass(root, False), "persistent": torchvision_pass(root, True)}
    passes["ceiling"] = two_processes(sorted(root.glob("*/*.JPEG")))
    print("ready", flush=True)
    for line in sys.stdin:
        start, cpu = time.perf_counter(), cpu_time()
        passes[line.strip()]()
        print(time.perf_counter() - start, cpu_time() - cpu, flush=True)
    return 0


def peer_rows(root: Path) -> Optional[tuple[dict[str, Callable[[], tuple[float, float]]], Callable[[], Any]]]:
    """The peer rows run by a ``--peer`` process, and the call that ends it (None when torchvision
    is not installed)."""
    try:
        import torchvision  # noqa: F401
    except ImportError as e:
        print(f"# torchvision is not installed ({e}): no torchvision rows")
        return None
    peer = subprocess.Popen([sys.executable, __file__, "--peer", str(root)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert peer.stdin and peer.stdout and peer.stdout.readline().strip() == "ready"

    def row(word: str) -> Callable[[], tuple[float, float]]:
        def one_pass() -> tuple[float, float]:
            assert peer.stdin and peer.stdout
            peer.stdin.write(word + "\n")
            peer.stdin.flush()
            wall, cpu = (float(v) for v in peer.stdout.readline().split())
            return wall, cpu

        return one_pass

    def stop() -> int:
        assert peer.stdin
        peer.stdin.close()
        return peer.wait()

    return {name: row(word) for name, word in PEERS.items()}, stop


def cpu_time() -> float:
    """CPU seconds of this process and of its children that have ended."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def cores_free() -> float:
    """CPU / wall of two threads hashing 64 MB each at once: the cores this process gets now."""
    data = os.urandom(1 << 26)
    start, cpu = time.perf_counter(), cpu_time()
    with ThreadPoolExecutor(2) as pool:
        list(pool.map(lambda _: hashlib.sha256(data).digest(), range(2)))
    return (cpu_time() - cpu) / (time.perf_counter() - start)


def timed(actions: dict[str, Callable[[], Any]], repeat: int) -> tuple[dict[str, list[tuple[float, float]]], list[float]]:
    """(wall, CPU) times of each action, run in turn (so that a busy machine weighs on all alike),
    and the cores free before each round. An action run by another process answers its own times."""
    times: dict[str, list[tuple[float, float]]] = {name: [] for name in actions}
    for action in actions.values():
        action()  # warm the page cache (and build the decoded cache)
    free = []
    for _ in range(repeat):
        free.append(cores_free())
        for name, action in actions.items():
            start, cpu = time.perf_counter(), cpu_time()
            answered = action()
            measured = (time.perf_counter() - start, cpu_time() - cpu)
            times[name].append(answered if isinstance(answered, tuple) else measured)
    return times, free


def table(title: str, count: int, rows: dict[str, list[tuple[float, float]]], free: list[float], reference: Optional[str]) -> None:
    """Print the Markdown table of ``rows`` (ratios of images/s to the row ``reference``)."""
    base = count / statistics.median(w for w, _ in rows[reference]) if reference else None
    print(f"\n## {title}\n")
    print(f"{os.cpu_count()} cores; cores free (2 threads hashing): median {statistics.median(free):.2f}, "
          f"range {min(free):.2f}-{max(free):.2f}; load average {os.getloadavg()[0]:.1f} at the end\n")
    print("| run | median s | best s | images/s | CPU / wall | CPU ms / image | images/s vs torchvision |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for name, runs in rows.items():
        walls = [w for w, _ in runs]
        median = statistics.median(walls)
        persistent = "persistent" in name or name == CEILING  # (its workers' CPU time is not counted)
        busy = "-" if persistent else f"{statistics.median(c / w for w, c in runs):.2f}"
        cost = "-" if persistent else f"{statistics.median(c for _, c in runs) / count * 1000:.2f}"
        ratio = f"{count / median / base:.2f}x" if base else ""
        print(f"| {name} | {median:.3f} | {min(walls):.3f} | {count / median:,.0f} | {busy} | {cost} | {ratio} |")



def paired(rows: dict[str, list[tuple[float, float]]], name: str, reference: str) -> list[float]:
    """Images/s of row ``name`` over those of ``reference``, round by round (each pair ran side by side)."""
    return [theirs / ours for (ours, _), (theirs, _) in zip(rows[name], rows[reference])]


def ratios(values: list[float]) -> str:
    """Median and range of ratios, as ``1.9x (1.7x-2.1x)``."""
    return f"{statistics.median(values):.2f}x ({min(values):.2f}x-{max(values):.2f}x)"


def small_images(data: Path, count: int, repeat: int) -> None:
    split = make_dataset(data, count, (160, 160))
    cache: dict[str, Any] = {}

    def batches(**options: Any) -> Callable[[], Any]:
        return lambda: [None for _ in split.batches(64, shuffle=False, resize=SIZE, **options)]

    def build_cache() -> None:
        for path in (data / "datasets" / DATASET).glob("decoded-*"):
            DataFolder(data).forget(DATASET, path.name)
        split.cached(resize=SIZE)

    def cached_pass() -> None:  # (on the split a training loop keeps: its earlier passes ran on it)
        if "split" not in cache:
            cache["split"] = split.cached(resize=SIZE)
        for _ in cache["split"].batches(64, shuffle=False):
            pass

    actions: dict[str, Callable[[], Any]] = {
        "datamaestro batches, 1 thread": batches(workers=1),
        f"datamaestro batches, default threads ({default_workers()})": batches(),
        "datamaestro batches, default threads, draft=False": batches(draft=False),
        "datamaestro decoded cache: first epoch (decode + write + hash)": build_cache,
        "datamaestro decoded cache: a later epoch": cached_pass,
    }
    peers = peer_rows(split.root)
    reference = "torchvision ImageFolder + DataLoader(num_workers=2)" if peers else None
    actions.update(peers[0] if peers else {})
    actions["plain sequential Pillow loop"] = lambda: pillow_loop(split)
    rows, free = timed(actions, repeat)
    if peers:
        peers[1]()
    table(f"{count} Imagenette-160-like JPEGs -> 128 x 128, batches of 64", count, rows, free, reference)
    if reference:
        ours = paired(rows, f"datamaestro batches, default threads ({default_workers()})", reference)
        cached = paired(rows, "datamaestro decoded cache: a later epoch", reference)
        most = paired(rows, CEILING, reference)
        print(f"\nrounds ({repeat}): images/s against torchvision's in the same round, median (range)")
        print(f"- without the cache: {ratios(ours)}: target 2x {'met' if statistics.median(ours) >= 2 else 'NOT met'}")
        print(f"- the decoded cache, a later epoch: {ratios(cached)}: target 30x "
              f"{'met' if statistics.median(cached) >= 30 else 'NOT met'}")
        print(f"- two processes decoding, no batches (the ceiling of these cores): {ratios(most)}")


def large_images(data: Path, count: int, repeat: int) -> None:
    split = make_dataset(data, count, (512, 640), name=f"{DATASET}-large")
    actions: dict[str, Callable[[], Any]] = {
        "datamaestro batches, default threads, draft (default)": lambda: [
            None for _ in split.batches(64, shuffle=False, resize=SIZE)
        ],
        "datamaestro batches, default threads, draft=False": lambda: [
            None for _ in split.batches(64, shuffle=False, resize=SIZE, draft=False)
        ],
    }
    rows, free = timed(actions, repeat)
    table(f"{count} JPEGs of 512-640 px (shorter side) -> 128 x 128: draft decoding", count, rows, free, None)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--images", type=int, default=512)
    parser.add_argument("--repeat", type=int, default=11)
    parser.add_argument("--large", type=int, default=128, help="larger JPEGs for the draft rows (0: none)")
    parser.add_argument("--peer", type=Path, help=argparse.SUPPRESS)  # (the process of the peer rows)
    args = parser.parse_args()
    if args.peer:
        return serve_peer(args.peer)
    with tempfile.TemporaryDirectory(prefix="dm-bench-images-") as tmp:
        small_images(Path(tmp), args.images, args.repeat)
        if args.large:
            large_images(Path(tmp), args.large, args.repeat)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
