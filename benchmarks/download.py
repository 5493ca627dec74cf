"""Benchmark 6: download throughput against aria2c, curl and pooch, on capped and uncapped servers.

    python benchmarks/download.py                 # the throughput tables (about 4 minutes)
    python benchmarks/download.py --dead          # dead-mirror timings of `datamaestro prepare`
    python benchmarks/download.py --dead --src /work/main/src   # ... of another checkout

A loopback server (the tests' ``tests/httpserver.py``, in its own process so
that it does not share the GIL with the downloader) serves Fashion-MNIST's
four gzipped files (30.9 MB, Debian's copy, else generated) and a 200 MB
file of random bytes, once capping every connection at 4 MB/s (as many
dataset hosts do) and once uncapped. Each tool downloads into a new empty
folder each run, and checks the sha256 where it can:

- datamaestro ``fetch()``: one call per file, the dataset's four files from
  a pool of 4 threads (what ``prepare`` does once the install pipeline runs
  files concurrently), with the default settings (``segments`` 8,
  ``segment_threshold`` 8 MiB); and, for the dataset, the ``datamaestro -q
  prepare`` command (which also gunzips; files one after the other until the
  pipeline's pool lands);
- ``aria2c -x8 -s8`` (``-j4`` for the dataset) with ``--checksum=sha-256=...``;
- ``curl -sf -o FILE``, one file after the other, no checksum;
- ``pooch.retrieve(url, known_hash="sha256:...")``, one file after the other
  (from the benchmark venv, created with pooch if needed; skipped otherwise).

``--dead`` times `datamaestro prepare` of a 4-file dataset whose first mirror
is blackholed or hangs (accepts and never answers; its second mirror, on
another server, is healthy), of the same dataset offline (its host's name does
not resolve: ``origin.invalid``), of a one-file dataset whose only server is
dead in each way (blackholed, accepts and never answers, trickles a byte every
5 s), and eight processes preparing that one-file dataset at once (they wait
on its lock), with the default settings; it prints the exit code, the wall
time and how many lines the command wrote to stderr (with ``-q``). ``--src``
runs another checkout's code (e.g. main's) by putting it first on PYTHONPATH.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Optional

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(REPO / "tests"))

import common  # noqa: E402

CAP = 4_000_000  # bytes per second per connection
BIG = 200_000_000

SERVER = """
import sys, time
from pathlib import Path
sys.path.insert(0, sys.argv[1])
from httpserver import FileServer
server = FileServer()
folder = Path(sys.argv[2])
for path in folder.iterdir():
    server.files["/" + path.name] = path.read_bytes()
server.rate = float(sys.argv[3]) or None
server.start()
print(server.base, flush=True)
sys.stdin.read()
"""


class Server:
    """The tests' FileServer in a process of its own, serving the files of ``folder``."""

    def __init__(self, folder: Path, rate: Optional[float]):
        self.process = subprocess.Popen(
            [sys.executable, "-c", SERVER, str(REPO / "tests"), str(folder), str(rate or 0)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        )
        assert self.process.stdout is not None
        self.base = self.process.stdout.readline().strip()

    def stop(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        self.process.wait(timeout=10)


def pooch_python() -> Optional[str]:
    """A Python that can import pooch and this checkout (the benchmark venv), or None."""
    for python in (sys.executable, str(common.venv_python())):
        if Path(python).exists() and subprocess.run([python, "-c", "import pooch"]).returncode == 0:
            return python
    try:
        subprocess.run([sys.executable, "-m", "venv", str(common.VENV)], check=True)
        subprocess.run([str(common.venv_python()), "-m", "pip", "install", "-q", "pooch"], check=True)
        return str(common.venv_python())
    except (OSError, subprocess.CalledProcessError):
        return None


POOCH = """
import sys, pooch
pooch.get_logger().setLevel("WARNING")
folder = sys.argv[1]
for arg in sys.argv[2:]:
    url, sha = arg.split("#")
    pooch.retrieve(url, known_hash="sha256:" + sha, path=folder, progressbar=False)
"""


def contenders(
    base: str, files: dict[str, bytes], work: Path, pooch: Optional[str], with_cli: bool
) -> list[tuple[str, Callable[[Path], None], int]]:
    """(name, download into a folder, runs) for each tool."""
    from datamaestro.config import Settings
    from datamaestro.download.fetching import policy_of
    from datamaestro.download.transport import fetch

    sha = {name: hashlib.sha256(data).hexdigest() for name, data in files.items()}
    policy = policy_of(Settings(datadir=work))  # the default settings

    def ours(folder: Path) -> None:
        def one(name: str) -> None:
            transfer = fetch(base + name, folder / name, ["sha256"], name, True, policy)
            assert transfer.digests["sha256"] == sha[name]

        with ThreadPoolExecutor(4) as pool:
            list(pool.map(one, files))

    def aria2(folder: Path) -> None:
        listing = folder / "input.txt"
        listing.write_text("".join(
            f"{base}{name}\n  out={name}\n  checksum=sha-256={sha[name]}\n" for name in files
        ))
        subprocess.run(
            ["aria2c", "-x8", "-s8", "-j4", "-q", "-d", str(folder), "-i", str(listing),
             "--allow-overwrite=true", "--auto-file-renaming=false"],
            check=True,
        )

    def curl(folder: Path) -> None:
        for name in files:
            subprocess.run(["curl", "-sf", "-o", str(folder / name), base + name], check=True)

    def with_pooch(folder: Path) -> None:
        assert pooch is not None
        subprocess.run([pooch, "-c", POOCH, str(folder), *(f"{base}{n}#{sha[n]}" for n in files)],
                       check=True)

    def cli(folder: Path) -> None:
        config = folder / "config.yaml"
        config.write_text(f'mirrors: {{"{common.FASHION_BASE}": "{base}"}}\n')
        env = {**os.environ, "DATAMAESTRO_CONFIG": str(config), "DATAMAESTRO_DIR": str(folder / "data"),
               "DATAMAESTRO_CACHE": str(work / "cache")}
        subprocess.run([sys.executable, "-m", "datamaestro", "-q", "prepare", common.FASHION_ID],
                       env=env, check=True, stdout=subprocess.DEVNULL)

    rows: list[tuple[str, Callable[[Path], None], int]] = [("datamaestro fetch()", ours, 3)]
    if with_cli:
        rows.append(("datamaestro -q prepare (+ gunzip)", cli, 3))
    rows += [("aria2c -x8 -s8", aria2, 3), ("curl", curl, 1 if len(files) == 1 else 3)]
    if pooch:
        rows.append(("pooch.retrieve", with_pooch, 1))
    return rows


def measure(rows: list[tuple[str, Callable[[Path], None], int]], work: Path, capped: bool) -> dict[str, list[float]]:
    out = {}
    for name, function, runs in rows:
        times = []
        for _ in range(runs if capped else max(runs, 3) + 2):
            folder = Path(tempfile.mkdtemp(dir=work))
            start = time.perf_counter()
            function(folder)
            times.append(time.perf_counter() - start)
            shutil.rmtree(folder)
        out[name] = times
    return out


def throughput_table(title: str, size: int, results: dict[str, list[float]]) -> None:
    print(f"\n## {title}\n")
    ours = statistics.median(results["datamaestro fetch()"])
    print("| tool | median | best | runs | MB/s | throughput / datamaestro fetch() |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for name, times in results.items():
        median = statistics.median(times)
        print(f"| {name} | {common.seconds(median)} | {common.seconds(min(times))} | {len(times)} "
              f"| {size / median / 1e6:.1f} | {ours / median:.2f}x |")
    sys.stdout.flush()


def throughput() -> None:
    work = common.work_folder("download")
    dataset = common.fashion_gz()
    big = {"big.bin": os.urandom(BIG)}
    pooch = pooch_python()
    if pooch is None:
        print("pooch is not available (no benchmark venv): its rows are skipped", file=sys.stderr)
    verdicts = []
    for label, files, with_cli in (("4-file dataset (Fashion-MNIST, gzipped)", dataset, True),
                                   ("one 200 MB file", big, False)):
        folder = work / label.split()[0]
        folder.mkdir()
        for name, data in files.items():
            (folder / name).write_bytes(data)
        size = sum(len(d) for d in files.values())
        for rate in (CAP, None):
            server = Server(folder, rate)
            try:
                rows = contenders(server.base, files, work, pooch, with_cli)
                results = measure(rows, work, rate is not None)
            finally:
                server.stop()
            cap = f"capped at {rate / 1e6:g} MB/s per connection" if rate else "uncapped"
            throughput_table(f"{label}, {size / 1e6:.1f} MB, {cap}", size, results)
            ours = statistics.median(results["datamaestro fetch()"])
            if rate:
                aria = statistics.median(results["aria2c -x8 -s8"])
                verdicts.append((f"{label}, capped: >= 0.9x aria2c", aria / ours >= 0.9,
                                 f"{aria / ours:.2f}x"))
                if "pooch.retrieve" in results:
                    p = statistics.median(results["pooch.retrieve"])
                    verdicts.append((f"{label}, capped: >= 5x pooch", p / ours >= 5, f"{p / ours:.2f}x"))
            else:
                c = statistics.median(results["curl"])
                verdicts.append((f"{label}, uncapped: no slower than curl", ours <= c,
                                 f"datamaestro {common.seconds(ours)}, curl {common.seconds(c)}"))
    print()
    for label, ok, detail in verdicts:
        common.verdict(label, ok, detail)


# -- dead mirrors ----------------------------------------------------------------------------


def dead(src: Optional[str], only: Optional[str] = None) -> None:
    """Wall time of `datamaestro prepare` against dead servers, with the default settings."""
    from httpserver import Blackhole, Fault, FileServer
    from makefiles import md5, write_module

    work = common.work_folder("dead")
    env = {**os.environ}
    if src:
        env["PYTHONPATH"] = src + os.pathsep + env.get("PYTHONPATH", "")
    server = FileServer().start()
    hung = FileServer().start()  # another host:port: the mirror memory tells mirrors apart by it
    hole = Blackhole()
    files = {f"f{i}.idx": os.urandom(200_000) for i in range(4)}
    for name, data in files.items():
        for where in ("good", "hang", "trickle", "slow-headers"):
            server.files[f"/{where}/{name}"] = data
            if where == "hang":
                server.faults[f"/{where}/{name}"] = Fault(delay=3600)
            if where == "trickle":
                server.faults[f"/{where}/{name}"] = Fault(trickle=1, pause=5)
            if where == "slow-headers":
                server.faults[f"/{where}/{name}"] = Fault(header_pause=5)
        hung.files[f"/{name}"] = data
        hung.faults[f"/{name}"] = Fault(delay=3600)

    def module(first: str, second: Optional[str], names: list[str]) -> str:
        lines = ["from datamaestro.data.tensor import IDX",
                 "from datamaestro.download.single import filedownloader",
                 "from datamaestro.definitions import dataset", ""]
        for name in names:
            mirrors = f", mirrors=[{second + name!r}]" if second else ""
            lines.append(f"@filedownloader({name!r}, {first + name!r}{mirrors}, "
                         f"checksum='md5:{md5(files[name])}')")
        lines += ["@dataset(IDX, id='blob')", f"def blob({', '.join(n[:2] for n in names)}):",
                  f"    return {{'path': {names[0][:2]}}}"]
        return "\n".join(lines) + "\n"

    cases = [
        ("4 files, first mirror healthy", server.url("good/"), None, list(files)),
        ("4 files, first mirror blackholed, second healthy", hole.base, server.url("good/"), list(files)),
        ("4 files, first mirror accepts and never answers, second healthy", hung.base, server.url("good/"),
         list(files)),
        ("4 files, offline (the host's name does not resolve)", "http://origin.invalid/", None, list(files)),
        ("1 file, only server blackholed", hole.base, None, ["f0.idx"]),
        ("1 file, only server accepts and never answers", server.url("hang/"), None, ["f0.idx"]),
        ("1 file, only server trickles a byte every 5 s", server.url("trickle/"), None, ["f0.idx"]),
        ("1 file, only server trickles its headers, a byte every 5 s", server.url("slow-headers/"), None, ["f0.idx"]),
        ("4 files, only server accepts and never answers", server.url("hang/"), None, list(files)),
        ("8 processes at once, 1 file, only server blackholed", hole.base, None, ["f0.idx"]),
    ]
    print(f"\n## Dead mirrors: `datamaestro prepare` wall time ({src or 'this checkout'})\n")
    print("| case | exit code | wall time | stderr lines |")
    print("| --- | ---: | ---: | ---: |")
    for i, (label, first, second, names) in enumerate(cases):
        if only and only not in label:
            continue
        registry = work / f"registry{i}"
        write_module(registry, "org.dead", module(first, second, names))
        run_env = {**env, "DATAMAESTRO_PATH": str(registry), "DATAMAESTRO_DIR": str(work / f"data{i}"),
                   "DATAMAESTRO_CACHE": str(work / "cache"), "DATAMAESTRO_CONFIG": str(work / "none.yaml"),
                   "NO_PROXY": "*"}  # (a name that does not resolve must not go to a proxy)
        (work / "none.yaml").write_text("{}\n")
        start = time.monotonic()
        command = [sys.executable, "-m", "datamaestro", "-q", "prepare", "org.dead.blob"]
        processes = [
            subprocess.Popen(command, env=run_env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
            for _ in range(8 if label.startswith("8 processes") else 1)
        ]
        try:
            outcomes = [p.communicate(timeout=max(1, 900 - (time.monotonic() - start))) for p in processes]
            code = ", ".join(sorted({str(p.returncode) for p in processes}))
            lines = ", ".join(sorted({str(len(err.splitlines())) for _, err in outcomes}))
        except subprocess.TimeoutExpired:
            for p in processes:
                p.kill()
            code, lines = "killed after 900 s", "-"
        print(f"| {label} | {code} | {time.monotonic() - start:.1f} s | {lines} |")
        sys.stdout.flush()
    hole.close()
    hung.stop()
    server.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dead", action="store_true", help="time prepare against dead servers instead")
    parser.add_argument("--src", help="with --dead: the src folder of the checkout to time")
    parser.add_argument("--only", help="with --dead: only the cases whose label contains this")
    args = parser.parse_args()
    print(f"# datamaestro download benchmark, python {sys.version.split()[0]}")
    if args.dead:
        dead(args.src, args.only)
    else:
        throughput()
    return 0


if __name__ == "__main__":
    sys.exit(main())
