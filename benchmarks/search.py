"""Benchmark 4: wall time of ``datamaestro search mnist``, the built-in registry alone and
with 10,000 generated definitions in 1,000 modules on DATAMAESTRO_PATH.

Each case runs the ``datamaestro`` command beside the running Python in a new
process: with an empty cache folder (cold: the index is built by importing
every definition module in worker processes), then repeatedly with the
cached index (warm). ``python -c pass`` gives the interpreter's own start-up
cost for scale.

Standalone (``python benchmarks/search.py``) it times the ``datamaestro`` of
whichever Python runs it: how the figures of another checkout were taken.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
from pathlib import Path

import common

DEFINITIONS = 10_000
PER_MODULE = 10
TARGETS = {"cold": 2.0, "warm": 0.150}

MODULE_HEAD = '''"""Generated definitions {first} to {last} (benchmark data)."""

from datamaestro.data.images import ImageClassification, LabelledImages
from datamaestro.data.tensor import IDX
from datamaestro.definitions import dataset
from datamaestro.download.single import filedownloader
'''

DEFINITION = '''

@filedownloader("images.idx", "https://example.org/set{n}/images.gz", checksum="sha256:{sha}")
@filedownloader("labels.idx", "https://example.org/set{n}/labels.gz", checksum="sha256:{sha}")
@dataset(ImageClassification, id="set{n}", name="Set {n}", url="https://example.org/set{n}/",
         tags=["images", "{tag}"])
def set{n}(images, labels):
    """Generated dataset number {n}, {kind} images.

    A longer description so that the index holds realistic text.
    """
    return {{"train": LabelledImages(images=IDX(path=images), labels=IDX(path=labels))}}
'''


def generate(folder: Path, count: int = DEFINITIONS, per_module: int = PER_MODULE) -> None:
    """``count`` definitions in modules of ``per_module``, under ``folder/org/gen/``; one
    in a hundred mentions mnist."""
    for start in range(0, count, per_module):
        path = folder / "org" / "gen" / f"g{start // 1000:02d}" / f"m{start:05d}.py"
        path.parent.mkdir(parents=True, exist_ok=True)
        body = MODULE_HEAD.format(first=start, last=start + per_module - 1)
        for n in range(start, min(start + per_module, count)):
            kind = "mnist-like" if n % 100 == 0 else "colour"
            body += DEFINITION.format(n=n, sha="0" * 64, tag=f"t{n % 7}", kind=kind)
        path.write_text(body)


def run(repeat: int = 5) -> None:
    work = common.work_folder("search")
    generated = work / "registry"
    generate(generated)
    command = [str(Path(sys.executable).parent / "datamaestro"), "search", "mnist"]
    base = {k: v for k, v in os.environ.items() if not k.startswith("DATAMAESTRO_")}
    warm_runs = max(10, 2 * repeat)
    walls, cpus = common.command_times([sys.executable, "-c", "pass"], warm_runs, base)
    rows, cpu_rows = [("python -c pass", walls)], [("python -c pass", cpus)]
    medians = {}
    for label, path in (("built-in registry", None), (f"+ {DEFINITIONS:,} definitions", generated)):
        # One untimed run first, so that bytecode caches exist, as after an install.
        subprocess.run(command, env=dict(base, DATAMAESTRO_CACHE=str(work / "cache-warmup")),
                       capture_output=True, check=True)
        times: dict[str, tuple[list[float], list[float]]] = {"cold": ([], []), "warm": ([], [])}
        for run_number in range(max(3, repeat)):
            env = dict(base, DATAMAESTRO_CACHE=str(work / f"cache-{label[:2]}-{run_number}"))
            if path:
                env["DATAMAESTRO_PATH"] = str(path)
            wall, cpu = common.command_times(command, 1, env)
            times["cold"][0].extend(wall)
            times["cold"][1].extend(cpu)
        times["warm"] = common.command_times(command, warm_runs, env)
        found = subprocess.run(command, env=env, capture_output=True, text=True, check=True).stdout
        for kind, name in (("cold", "cold (no index)"), ("warm", "warm (cached index)")):
            rows.append((f"{label}, {name}", times[kind][0]))
            cpu_rows.append((f"{label}, {name}", times[kind][1]))
        medians[label] = {kind: (statistics.median(w), statistics.median(c)) for kind, (w, c) in times.items()}
        medians[label]["hits"] = (len(found.splitlines()), 0)
    note = (
        f"The generated registry has {DEFINITIONS:,} definitions in {DEFINITIONS // PER_MODULE} "
        f"modules; cold runs start with an empty cache folder. Load average {os.getloadavg()[0]:.1f} "
        f"on {os.cpu_count()} CPUs."
    )
    reference = "built-in registry, warm (cached index)"
    common.table("Search: `datamaestro search mnist`, wall time of the whole command", rows, reference, note)
    common.table(
        "Search: CPU time (user + system, with the worker processes of a cold index) of the same runs", cpu_rows, reference
    )
    print()
    for label, figures in medians.items():
        hits = figures["hits"][0]
        for kind in ("warm", "cold"):
            wall, cpu = figures[kind]
            common.verdict(
                f"{label}, {kind}: under {TARGETS[kind] * 1000:.0f} ms",
                wall < TARGETS[kind],
                f"{common.seconds(wall)} wall, {common.seconds(cpu)} CPU, {hits} results",
            )


if __name__ == "__main__":
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    run(int(sys.argv[1]) if len(sys.argv) > 1 else 5)
