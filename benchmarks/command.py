"""Benchmark 5: ``datamaestro -q prepare ID`` of a prepared dataset, against the same work in Python.

Fashion-MNIST is prepared once (``prepare --from`` a folder of its gzipped files: Debian's,
verified by their data checksums, or generated ones of the same size accepted with
``--no-verify``); then, each in a new process:

- ``python -c pass``, the interpreter alone;
- a Python script doing what the command does: ``prepare_dataset(ID)`` and printing
  ``to_json`` as JSON (the in-process peer);
- the ``datamaestro -q prepare ID`` command;
- the first call of ``prepare_dataset(ID)`` in a new process, timed inside it (imports
  of datamaestro included, the interpreter's start-up not).

Targets: the command within 1.2x of the script; the first call at most 50 ms (the budget of
loading a prepared dataset in a new process).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

import common

SCRIPT = (
    "import json, sys, datamaestro\n"
    "data = datamaestro.prepare_dataset(sys.argv[1], quiet=True)\n"
    "print(json.dumps(datamaestro.to_json(sys.argv[1], data), indent=2))\n"
)
FIRST_CALL = (
    "import json, sys, time\n"
    "start = time.perf_counter()\n"
    "import datamaestro\n"
    "datamaestro.prepare_dataset(sys.argv[1], quiet=True)\n"
    "print(json.dumps(time.perf_counter() - start))\n"
)


def prepare_fashion(env: dict[str, str], work: Path) -> str:
    """Prepare Fashion-MNIST in ``env``'s data folder from a local copy; returns the JSON printed."""
    folder = work / "fashion-files"
    folder.mkdir()
    for name, data in common.fashion_gz().items():
        (folder / name).write_bytes(data)
    unverified = [] if common.DEBIAN_FASHION.is_dir() else ["--no-verify"]  # generated data
    return subprocess.run(
        [sys.executable, "-m", "datamaestro", "-q", "prepare", common.FASHION_ID, "--from", str(folder), *unverified],
        env=env, check=True, capture_output=True, text=True,
    ).stdout


def setup(work: Path) -> dict[str, str]:
    """Fashion-MNIST prepared in ``work``, and the environment that finds it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DATAMAESTRO_")}
    env.update(DATAMAESTRO_DIR=str(work / "data"), DATAMAESTRO_CACHE=str(work / "cache"))
    prepare_fashion(env, work)
    return env


def run(repeat: int = 5) -> None:
    work = common.work_folder("command")
    env = setup(work)
    runs = max(10, 3 * repeat)
    command = [str(Path(sys.executable).parent / "datamaestro"), "-q", "prepare", common.FASHION_ID]
    script = [sys.executable, "-c", SCRIPT, common.FASHION_ID]
    for argv in (command, script):  # untimed: bytecode and the caches of plugins and config
        subprocess.run(argv, env=env, check=True, capture_output=True)
    same = [subprocess.run(a, env=env, check=True, capture_output=True).stdout for a in (command, script)]
    assert same[0] == same[1], "the command and the script print different JSON"
    firsts = [
        json.loads(subprocess.run(
            [sys.executable, "-c", FIRST_CALL, common.FASHION_ID], env=env, check=True,
            capture_output=True, text=True,
        ).stdout)
        for _ in range(runs)
    ]
    times = {
        "python -c pass": common.command_times([sys.executable, "-c", "pass"], runs, env),
        SCRIPT_ROW: common.command_times(script, runs, env),
        COMMAND_ROW: common.command_times(command, runs, env),
    }
    title = f"`datamaestro -q prepare {common.FASHION_ID}` of a prepared dataset"
    rows = [(name, wall) for name, (wall, _cpu) in times.items()]
    common.table(
        f"Command: {title}, wall time",
        [*rows, ("first prepare_dataset() in a process (inside)", firsts)],
        SCRIPT_ROW,
        note=f"Whole processes, except the last row (timed inside the process, imports included). "
        f"Load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs.",
    )
    common.table(f"Command: {title}, CPU time", [(n, cpu) for n, (_w, cpu) in times.items()], SCRIPT_ROW)
    wall = {name: statistics.median(w) for name, (w, _c) in times.items()}
    cpu = {name: statistics.median(c) for name, (_w, c) in times.items()}
    print()
    ratio = wall[COMMAND_ROW] / wall[SCRIPT_ROW]
    common.verdict(
        "the command within 1.2x of the Python script",
        ratio <= 1.2,
        f"{ratio:.2f}x wall, {cpu[COMMAND_ROW] / cpu[SCRIPT_ROW]:.2f}x CPU",
    )
    first = statistics.median(firsts)
    common.verdict("first prepare_dataset() at most 50 ms", first <= BUDGET, common.seconds(first))


#: seconds: loading a prepared dataset in a new process (imports included, the interpreter's start not)
BUDGET = 0.050
SCRIPT_ROW = "python script: prepare_dataset + JSON"
COMMAND_ROW = "datamaestro -q prepare"


if __name__ == "__main__":
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    run(int(sys.argv[1]) if len(sys.argv) > 1 else 5)
