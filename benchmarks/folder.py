"""Decoding an image folder: one pass of ImageFolder.batches, by number of decoding threads.

    python benchmarks/folder.py [--images 512] [--repeat 5]

Writes Imagenette-160-like JPEG files (160x213, quality 90) into a temporary
folder, then times (in turn, repeatedly) one unshuffled pass of ``batches(64, resize=(128, 128))``
with 1, 2 and 4 decoding threads, against the peer: a plain sequential loop
decoding each file with Pillow and resizing it with Pillow (bilinear), as
torchvision's default image loader followed by ``Resize`` does. Prints a
Markdown table (median and best wall time, images per second, process CPU time
over wall time, above 1 when threads decode at once, and the ratio of medians
to the one-thread row). Needs only Pillow.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image

from datamaestro.data.folder import ImageFolder
from datamaestro.loaders.folder import write_index


def make_folder(folder: Path, count: int) -> ImageFolder:
    rng = np.random.default_rng(0)
    root = folder / "images"
    items = []
    y, x = np.mgrid[0:160, 0:213]
    for k in range(count):
        label = k % 10
        noise = rng.integers(0, 40, (160, 213, 3))
        array = ((np.stack([x, y, x + y], axis=-1) + noise + 25 * label) % 256).astype(np.uint8)
        path = root / f"c{label}" / f"{k}.JPEG"
        path.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(array).save(path, quality=90)
        items.append((f"c{label}/{k}.JPEG", label))
    index = folder / "index"
    index.mkdir()
    write_index(index, "train", root, items)
    return ImageFolder.from_index(root, index, "train", [str(c) for c in range(10)])


def pillow_loop(split: ImageFolder) -> None:
    paths = split.paths()
    for start in range(0, len(paths), 64):
        batch = []
        for path in paths[start : start + 64]:
            with Image.open(path) as im:
                batch.append(np.asarray(im.convert("RGB").resize((128, 128), Image.BILINEAR)))
        np.stack(batch).astype(np.float32) / 255


def timed(actions: dict[str, Callable[[], None]], repeat: int) -> dict[str, list[tuple[float, float]]]:
    """(wall, process CPU) times of each action, run in turn (so that a busy machine weighs
    on all alike). CPU time above wall time means threads ran at once."""
    times: dict[str, list[tuple[float, float]]] = {name: [] for name in actions}
    for action in actions.values():
        action()  # warm the page cache
    for _ in range(repeat):
        for name, action in actions.items():
            start, cpu = time.perf_counter(), time.process_time()
            action()
            times[name].append((time.perf_counter() - start, time.process_time() - cpu))
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--images", type=int, default=512)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        split = make_folder(Path(tmp), args.images)
        actions: dict[str, Callable[[], None]] = {}
        for workers in (1, 2, 4):
            def one_pass(workers: int = workers) -> None:
                for _ in split.batches(64, shuffle=False, resize=(128, 128), workers=workers):
                    pass

            actions[f"datamaestro batches, {workers} thread(s)"] = one_pass
        actions["peer: sequential Pillow decode + resize"] = lambda: pillow_loop(split)
        rows = list(timed(actions, args.repeat).items())
    reference = statistics.median(wall for wall, _ in rows[0][1])
    load = os.getloadavg()[0]
    print(f"# image folder: {args.images} JPEG files 160x213, batches of 64 resized to 128x128")
    print(f"# {os.cpu_count()} cores, load average {load:.1f} at the end")
    print()
    print("| run | median s | best s | images/s | CPU s / wall s | ratio to 1 thread |")
    print("| --- | --- | --- | --- | --- | --- |")
    for name, runs in rows:
        walls = [wall for wall, _ in runs]
        median = statistics.median(walls)
        busy = statistics.median(cpu / wall for wall, cpu in runs)
        print(
            f"| {name} | {median:.3f} | {min(walls):.3f} | {args.images / median:.0f} | {busy:.2f} "
            f"| {median / reference:.2f} |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
