"""datamaestro list: the known datasets, or (--prepared) those in the data folder with their sizes."""

from __future__ import annotations

import argparse
import json
import sys

NAME = "list"
HELP = "list the known datasets; --prepared: those in the data folder, with sizes on disk"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--prepared", action="store_true", help="only the prepared datasets, with their sizes"
    )
    parser.add_argument("--json", action="store_true", help="print a JSON list")


def run(args: argparse.Namespace) -> int:
    from typing import Any

    from datamaestro.config import load_settings
    from datamaestro.errors import DatamaestroError
    from datamaestro.registry import Registry
    from datamaestro.storage import DataFolder, disk_usage, human_size

    settings = load_settings(args.data)
    folder = DataFolder(settings.datadir)
    recorded = folder.recorded_ids()
    registry = Registry()
    ids = recorded if args.prepared else sorted(registry.ids())
    rows: list[dict[str, Any]] = []
    for dataset_id in ids:
        row: dict[str, Any] = {"id": dataset_id, "prepared": False}
        if dataset_id in recorded:
            manifest = folder.manifest(dataset_id)
            try:
                definition = registry.definition(dataset_id)
                problems = definition.problems(definition.context(settings))
            except DatamaestroError:  # its definition is gone or broken: what was recorded
                problems = {name: [] for name in manifest.entries}
            ready = sum(1 for p in problems.values() if not p)
            row.update(
                prepared=ready == len(problems),
                resources=len(problems),
                ready=ready,
                files=len(manifest.entries),
                size=disk_usage(folder.dataset_dir(dataset_id)),
                path=str(folder.dataset_dir(dataset_id)),
            )
        rows.append(row)
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    if not rows:
        print(f"no prepared dataset in {settings.datadir}" if args.prepared else "no dataset is known", file=sys.stderr)
        return 0
    width = max(len(r["id"]) for r in rows)
    for r in rows:
        if "size" not in r:
            print(f"{r['id']:<{width}}  {'-':>10}  not prepared")
        elif r["prepared"]:
            files = f"{r['files']} file" + ("s" if r["files"] != 1 else "")
            print(f"{r['id']:<{width}}  {human_size(r['size']):>10}  {files}")
        else:
            print(
                f"{r['id']:<{width}}  {human_size(r['size']):>10}  partly prepared "
                f"({r['ready']} of {r['resources']} files): run 'datamaestro prepare {r['id']}'"
            )
    if args.prepared:
        total = sum(r["size"] for r in rows)
        complete = sum(1 for r in rows if r["prepared"])
        partly = f", {len(rows) - complete} partly" if complete != len(rows) else ""
        print(f"{complete} prepared{partly}, {human_size(total)} in {settings.datadir}")
    return 0
