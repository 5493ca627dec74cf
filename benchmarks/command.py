"""Benchmark 5: ``datamaestro -q prepare ID`` of a prepared dataset, against the same work in Python.

Fashion-MNIST is prepared once (from a loopback server); then, each in a new process:

- ``python -c pass``, the interpreter alone;
- a Python script doing what the command does: ``prepare_dataset(ID)`` and printing
  ``to_json`` as JSON (the in-process peer);
- the ``datamaestro -q prepare ID`` command;
- the first call of ``prepare_dataset(ID)`` in a new process, timed inside it (imports
  of datamaestro included, the interpreter's start-up not).

Targets: the command within 1.2x of the script; the first call under 10 ms.
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


def setup(work: Path) -> tuple[dict[str, str], object]:
    """Fashion-MNIST prepared in ``work``, and the environment that finds it."""
    server = common.file_server({f"/fashion/{name}": data for name, data in common.fashion_gz().items()})
    config = work / "config.yaml"
    config.write_text(json.dumps({"mirrors": {common.FASHION_BASE: server.url("fashion/")}}))  # type: ignore[attr-defined]
    env = {k: v for k, v in os.environ.items() if not k.startswith("DATAMAESTRO_")}
    env.update(
        DATAMAESTRO_DIR=str(work / "data"), DATAMAESTRO_CACHE=str(work / "cache"), DATAMAESTRO_CONFIG=str(config)
    )
    subprocess.run(
        [sys.executable, "-m", "datamaestro", "-q", "prepare", common.FASHION_ID],
        env=env, check=True, capture_output=True,
    )
    return env, server


def run(repeat: int = 5) -> None:
    work = common.work_folder("command")
    env, server = setup(work)
    runs = max(10, 3 * repeat)
    command = [str(Path(sys.executable).parent / "datamaestro"), "-q", "prepare", common.FASHION_ID]
    script = [sys.executable, "-c", SCRIPT, common.FASHION_ID]
    try:
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
        rows = [
            ("python -c pass", common.command_timings([sys.executable, "-c", "pass"], runs, env)),
            ("python script: prepare_dataset + JSON", common.command_timings(script, runs, env)),
            ("datamaestro -q prepare", common.command_timings(command, runs, env)),
            ("first prepare_dataset() in a process (inside)", firsts),
        ]
    finally:
        server.stop()  # type: ignore[attr-defined]
    common.table(
        f"Command: `datamaestro -q prepare {common.FASHION_ID}` of a prepared dataset",
        rows,
        "python script: prepare_dataset + JSON",
        note="Whole processes, except the last row (timed inside the process, imports included).",
    )
    medians = {name: statistics.median(values) for name, values in rows}
    ratio = medians["datamaestro -q prepare"] / medians["python script: prepare_dataset + JSON"]
    print()
    common.verdict("the command within 1.2x of the Python script", ratio <= 1.2, f"{ratio:.2f}x")
    first = medians["first prepare_dataset() in a process (inside)"]
    common.verdict("first prepare_dataset() under 10 ms", first < 0.010, common.seconds(first))


if __name__ == "__main__":
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    run(int(sys.argv[1]) if len(sys.argv) > 1 else 5)
