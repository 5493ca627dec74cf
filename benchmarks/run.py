"""Run datamaestro's benchmarks against their peers: python benchmarks/run.py {epoch,load,prepare,search,unpack,store,command,all}.

The first run creates the benchmark venv and installs the peers there (see
benchmarks/README.md); the runner then re-executes itself inside it.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common  # noqa: E402

ORDER = ["epoch", "load", "prepare", "search", "unpack", "store", "command"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("benchmark", choices=[*ORDER, "all"])
    parser.add_argument("--repeat", type=int, default=5, help="timed runs of datamaestro's side")
    args = parser.parse_args()
    chosen = ORDER if args.benchmark == "all" else [args.benchmark]
    # Time the code as installed, with bytecode caches (some shells disable them).
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    common.ensure_venv(chosen)
    print(f"# datamaestro benchmarks ({', '.join(chosen)}), python {sys.version.split()[0]}")
    for name in chosen:
        module = __import__(name)
        module.run(repeat=args.repeat)
    return 0


if __name__ == "__main__":
    sys.exit(main())
