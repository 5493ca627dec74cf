"""Decoding audio clips: one pass of AudioClips.batches against plain loops reading the same WAV files.

    python benchmarks/audio.py [--clips 2000] [--repeat 5]

Writes Speech-Commands-like clips (1 s, 16 kHz, mono, 16-bit PCM WAV) into a
temporary folder and indexes them, then times (in turn, repeatedly) one
unshuffled pass of ``batches(64, length=16000)`` with 1 and 2 decoding
threads, against the peers: a plain sequential loop reading each file with
the standard library's ``wave`` and converting it with numpy to float32, and
(when installed) the same loop with ``soundfile.read``. Each peer stacks
batches of 64 as the loaders do. Prints a Markdown table: median and best
wall time, clips per second, and the ratio of medians to the ``wave`` loop.
Needs only numpy (soundfile optional).
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
import wave
from collections.abc import Callable
from pathlib import Path

import numpy as np

from datamaestro.data.audio import AudioClips
from datamaestro.formats.wav import write_wav
from datamaestro.loaders.audio import write_index

RATE = 16000


def make_clips(folder: Path, count: int) -> AudioClips:
    rng = np.random.default_rng(0)
    root = folder / "clips"
    items = []
    for k in range(count):
        label = k % 35
        path = root / f"w{label}" / f"{k:05d}_nohash_0.wav"
        path.parent.mkdir(parents=True, exist_ok=True)
        write_wav(path, rng.uniform(-0.5, 0.5, RATE), RATE)
        items.append((f"w{label}/{path.name}", label))
    index = folder / "index"
    index.mkdir()
    write_index(index, "train", root, items)
    return AudioClips.from_index(root, index, "train")


def wave_loop(paths: list[Path]) -> None:
    for start in range(0, len(paths), 64):
        batch = []
        for path in paths[start : start + 64]:
            with wave.open(str(path), "rb") as f:
                data = f.readframes(f.getnframes())
            batch.append(np.frombuffer(data, dtype="<i2").astype(np.float32) / 32768)
        np.stack(batch)


def soundfile_loop(paths: list[Path]) -> None:
    import soundfile

    for start in range(0, len(paths), 64):
        np.stack([soundfile.read(str(path), dtype="float32")[0] for path in paths[start : start + 64]])


def timed(actions: dict[str, Callable[[], None]], repeat: int) -> dict[str, list[float]]:
    """Wall times of each action, run in turn (so that a busy machine weighs on all alike)."""
    times: dict[str, list[float]] = {name: [] for name in actions}
    for action in actions.values():
        action()  # warm the page cache
    for _ in range(repeat):
        for name, action in actions.items():
            start = time.perf_counter()
            action()
            times[name].append(time.perf_counter() - start)
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clips", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="dm-bench-") as tmp:
        split = make_clips(Path(tmp), args.clips)
        paths = split.paths()
        actions: dict[str, Callable[[], None]] = {"peer: wave + numpy loop": lambda: wave_loop(paths)}
        try:
            import soundfile  # noqa: F401

            actions["peer: soundfile.read loop"] = lambda: soundfile_loop(paths)
        except ImportError:
            pass
        for workers in (1, 2):
            def one_pass(workers: int = workers) -> None:
                for _ in split.batches(64, shuffle=False, length=RATE, workers=workers):
                    pass

            actions[f"datamaestro batches, {workers} thread(s)"] = one_pass
        rows = list(timed(actions, args.repeat).items())
    reference = statistics.median(rows[0][1])
    print(f"# audio: {args.clips} WAV clips (1 s, 16 kHz, mono, 16-bit), batches of 64 of length 16000")
    print(f"# {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at the end")
    print()
    print("| run | median s | best s | clips/s | ratio to the wave loop |")
    print("| --- | --- | --- | --- | --- |")
    for name, walls in rows:
        median = statistics.median(walls)
        print(f"| {name} | {median:.3f} | {min(walls):.3f} | {args.clips / median:.0f} | {median / reference:.2f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
