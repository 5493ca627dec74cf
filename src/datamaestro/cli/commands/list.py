"""datamaestro list: the known datasets, or (--prepared) those in the data folder with their sizes."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from datamaestro.config import load_settings
from datamaestro.download.checks import absent, check
from datamaestro.errors import DatamaestroError
from datamaestro.registry import Registry
from datamaestro.storage import DataFolder, disk_usage, human_size

NAME = "list"
HELP = "list the known datasets; --prepared: those in the data folder, with sizes on disk"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--prepared", action="store_true", help="only the prepared datasets, with their sizes"
    )
    parser.add_argument("--json", action="store_true", help="print a JSON list")


def status(settings: Any, registry: Any, dataset_id: str) -> dict[str, Any]:
    """What is in the data folder for ``dataset_id``: which resources are in place, missing or damaged."""

    folder = DataFolder(settings.datadir)
    manifest = folder.manifest(dataset_id)
    try:
        definition = registry.definition(dataset_id)
        problems = definition.problems(definition.context(settings))
    except DatamaestroError:  # its definition is gone or broken: what was recorded, checked in place
        problems = {
            name: check(folder.resource_path(dataset_id, name), entry, full=False)
            for name, entry in manifest.entries.items()
        }
    missing = sorted(name for name, found in problems.items() if found and all(absent(p) for p in found))
    damaged = sorted(name for name, found in problems.items() if found and name not in missing)
    ready = sum(1 for found in problems.values() if not found)
    return {
        "id": dataset_id,
        "prepared": ready == len(problems),
        "resources": len(problems),
        "ready": ready,
        "missing": missing,
        "damaged": damaged,
        "files": len(manifest.entries),
        "size": disk_usage(folder.dataset_dir(dataset_id)),
        "path": str(folder.dataset_dir(dataset_id)),
    }


def line(row: dict[str, Any], width: int) -> str:
    """The text line of one dataset: its size and files, or what is missing or damaged."""

    if "size" not in row:
        return f"{row['id']:<{width}}  {'-':>10}  not prepared"
    size = f"{row['id']:<{width}}  {human_size(row['size']):>10}"
    if row["prepared"]:
        return f"{size}  {row['files']} file" + ("s" if row["files"] != 1 else "")
    lacks = [f"{what} {', '.join(row[what])}" for what in ("missing", "damaged") if row[what]]
    return (
        f"{size}  partial: {'; '.join(lacks)} ({row['ready']} of {row['resources']} files prepared): "
        f"run 'datamaestro prepare {row['id']}'"
    )


def run(args: argparse.Namespace) -> int:
    settings = load_settings(args.data)
    recorded = DataFolder(settings.datadir).recorded_ids()
    registry = Registry()
    ids = recorded if args.prepared else sorted(registry.ids())
    rows: list[dict[str, Any]] = [
        status(settings, registry, i) if i in recorded else {"id": i, "prepared": False} for i in ids
    ]
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    if not rows:
        print(f"no prepared dataset in {settings.datadir}" if args.prepared else "no dataset is known", file=sys.stderr)
        return 0
    width = max(len(r["id"]) for r in rows)
    for r in rows:
        print(line(r, width))
    if args.prepared:
        total = sum(r["size"] for r in rows)
        complete = sum(1 for r in rows if r["prepared"])
        partial = f", {len(rows) - complete} partial" if complete != len(rows) else ""
        print(f"{complete} prepared{partial}, {human_size(total)} in {settings.datadir}")
    return 0
