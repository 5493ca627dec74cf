"""datamaestro verify: re-hash prepared files against what was recorded when preparing them."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

NAME = "verify"
HELP = "re-hash prepared datasets against their manifest; report OK, CORRUPT or MISSING"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("ids", nargs="*", metavar="ID", help="datasets to check (default: every prepared one)")
    parser.add_argument("--json", action="store_true", help="print a JSON list")


def check(folder: Any, dataset_id: str, expected: list[str]) -> dict[str, Any]:
    """The status of one dataset: OK, CORRUPT or MISSING, with one problem per bad file."""
    from datamaestro.download.checksum import file_digest

    manifest = folder.read_manifest(dataset_id)
    files: dict[str, Any] = manifest.get("files", {})
    directory: Path = folder.dataset_dir(dataset_id)
    corrupt: list[str] = []
    missing = [name for name in expected if name not in files]
    unverified = 0
    for name, entry in sorted(files.items()):
        path = directory / name
        if not path.exists():
            missing.append(name)
        elif path.is_file() and "size" in entry and path.stat().st_size != entry["size"]:
            corrupt.append(f"{name}: {path.stat().st_size} bytes, recorded {entry['size']}")
        elif path.is_file() and "sha256" in entry and file_digest(path) != entry["sha256"]:
            corrupt.append(f"{name}: sha256:{file_digest(path)}, recorded sha256:{entry['sha256']}")
        elif path.is_dir() and isinstance(entry.get("files"), int):  # an extracted archive
            count = sum(1 for p in path.rglob("*") if p.is_file())
            if count != entry["files"]:
                corrupt.append(f"{name}: {count} files, recorded {entry['files']}")
        unverified += bool(entry.get("no_verify"))
    status = "CORRUPT" if corrupt else "MISSING" if missing or not manifest else "OK"
    problems = corrupt + [f"{name}: missing" for name in sorted(set(missing))]
    return {
        "id": dataset_id,
        "status": status,
        "files": len(files),
        "problems": problems if manifest else ["not prepared"],
        "unverified": unverified,
    }


def run(args: argparse.Namespace) -> int:
    from datamaestro.config import load_settings
    from datamaestro.errors import UnknownDatasetError
    from datamaestro.registry import Registry
    from datamaestro.storage import DataFolder, StorageError

    settings = load_settings(args.data, quiet=args.quiet)
    folder = DataFolder(settings.datadir)
    ids = args.ids or folder.prepared_ids()
    registry = Registry()
    results = []
    for dataset_id in ids:
        try:
            expected = [r.name for r in registry.definition(dataset_id).resources]
        except UnknownDatasetError:
            if not folder.manifest_path(dataset_id).exists():
                raise
            expected = []  # prepared, but its definition is gone: check what was recorded
        try:
            with folder.lock(dataset_id):  # not while another process prepares it
                results.append(check(folder, dataset_id, expected))
        except StorageError:  # a read-only data folder: nobody prepares anything there
            results.append(check(folder, dataset_id, expected))
    if args.json:
        print(json.dumps(results, indent=2))
    elif not results:
        print(f"no prepared dataset in {settings.datadir}", file=sys.stderr)
    for r in results if not args.json else []:
        if r["status"] == "OK":
            note = f", {r['unverified']} accepted with --no-verify" if r["unverified"] else ""
            files = f"{r['files']} file" + ("s" if r["files"] != 1 else "")
            print(f"{r['id']}: OK ({files}{note})")
            continue
        todo = (
            f"run 'datamaestro prepare --force {r['id']}' to fetch it again"
            if r["status"] == "CORRUPT"
            else f"run 'datamaestro prepare {r['id']}'"
        )
        print(f"{r['id']}: {r['status']}: {'; '.join(r['problems'])}; {todo}")
    return 0 if all(r["status"] == "OK" for r in results) else 1
