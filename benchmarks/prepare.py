"""Benchmark 3: download + verify + decompress Fashion-MNIST's four files from a 127.0.0.1 server.

datamaestro (``prepare_dataset`` in this process, and the ``datamaestro
prepare`` command) against pooch's ``retrieve`` with its ``Decompress``
processor and against ``curl | tee | sha256sum; gunzip`` in a shell, each into
a new empty folder, served the same bytes by the same server. datamaestro is
pointed at the server through the config file's ``mirrors``
(DATAMAESTRO_CONFIG), with temporary data and cache folders.
"""

from __future__ import annotations

import hashlib
import os
import shlex
import statistics
import subprocess
import sys
from pathlib import Path

import common
import yaml


def run(repeat: int = 5) -> None:
    gz = common.fashion_gz()
    server = common.file_server({f"/fashion/{name}": data for name, data in gz.items()})
    base = server.url("fashion/")  # type: ignore[attr-defined]
    sha = {name: hashlib.sha256(data).hexdigest() for name, data in gz.items()}
    work = common.work_folder("prepare")
    config = work / "config.yaml"
    config.write_text(yaml.safe_dump({"mirrors": {common.FASHION_BASE: base}}))
    folders = iter(range(10**6))

    def fresh() -> Path:
        folder = work / f"run{next(folders)}"
        folder.mkdir()
        return folder

    def use_datamaestro_env(folder: Path) -> dict[str, str]:
        env = {
            "DATAMAESTRO_CONFIG": str(config),
            "DATAMAESTRO_DIR": str(folder / "data"),
            "DATAMAESTRO_CACHE": str(work / "cache"),
        }
        os.environ.update(env)
        return dict(os.environ)

    import datamaestro

    def ours() -> None:
        use_datamaestro_env(fresh())
        datamaestro.prepare_dataset(common.FASHION_ID, quiet=True)

    def ours_cli() -> None:
        env = use_datamaestro_env(fresh())
        subprocess.run(
            [str(Path(sys.executable).parent / "datamaestro"), "-q", "prepare", common.FASHION_ID],
            env=env, check=True, stdout=subprocess.DEVNULL,
        )

    import pooch

    pooch.get_logger().setLevel("WARNING")

    def with_pooch() -> None:
        folder = fresh()
        for name in gz:
            pooch.retrieve(
                base + name, known_hash=f"sha256:{sha[name]}", path=folder,
                processor=pooch.Decompress(method="gzip"), progressbar=False,
            )

    def with_shell() -> None:
        folder = fresh()
        lines = ["set -e -o pipefail", f"cd {shlex.quote(str(folder))}"]
        for name in gz:
            lines.append(f"curl -sf {shlex.quote(base + name)} | tee {name} | sha256sum | "
                         f"grep -q {sha[name]}")
            lines.append(f"gunzip {name}")
        subprocess.run(["bash", "-c", "\n".join(lines)], check=True)

    ours()  # warm-up: imports and the registry index
    rows = [
        ("datamaestro prepare_dataset()", common.timings(ours, repeat)),
        ("datamaestro -q prepare (command)", common.timings(ours_cli, repeat)),
        ("pooch.retrieve + Decompress", common.timings(with_pooch, repeat, warmup=1)),
        ("shell: curl, sha256sum, gunzip", common.timings(with_shell, repeat, warmup=1)),
    ]
    server.stop()  # type: ignore[attr-defined]
    size = sum(len(d) for d in gz.values())
    common.table(
        f"Prepare: download + verify + decompress, 4 files, {size / 1e6:.1f} MB gzipped "
        f"({'Debian' if common.DEBIAN_FASHION.exists() else 'generated'} Fashion-MNIST)",
        rows,
        "datamaestro prepare_dataset()",
        note="datamaestro also records each file's sha256 in its manifest; Debian's recompressed "
        "files differ from the published md5, so datamaestro checks the sha256 of their data too.",
    )
    median = {name: statistics.median(v) for name, v in rows}
    best_peer = min(median["pooch.retrieve + Decompress"], median["shell: curl, sha256sum, gunzip"])
    ours_median = median["datamaestro prepare_dataset()"]
    print()
    common.verdict(
        "no slower than the best peer",
        ours_median <= best_peer,
        f"datamaestro {common.seconds(ours_median)}, best peer {common.seconds(best_peer)} "
        f"({ours_median / best_peer:.2f}x)",
    )
