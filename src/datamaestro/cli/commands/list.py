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
    from datamaestro.config import load_settings
    from datamaestro.storage import DataFolder, disk_usage, human_size

    settings = load_settings(args.data, quiet=args.quiet)
    folder = DataFolder(settings.datadir)
    prepared = folder.prepared_ids()
    if args.prepared:
        ids = prepared
    else:
        from datamaestro.registry import Registry

        ids = sorted(Registry().ids())
    rows = []
    for dataset_id in ids:
        row = {"id": dataset_id, "prepared": dataset_id in prepared}
        if row["prepared"]:
            row["size"] = disk_usage(folder.dataset_dir(dataset_id))
            row["files"] = len(folder.read_manifest(dataset_id).get("files", {}))
            row["path"] = str(folder.dataset_dir(dataset_id))
        rows.append(row)
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    if not rows:
        print(f"no prepared dataset in {settings.datadir}" if args.prepared else "no dataset is known", file=sys.stderr)
        return 0
    width = max(len(r["id"]) for r in rows)
    for r in rows:
        if r["prepared"]:
            files = f"{r['files']} file" + ("s" if r["files"] != 1 else "")
            print(f"{r['id']:<{width}}  {human_size(r['size']):>10}  {files}")
        else:
            print(f"{r['id']:<{width}}  {'-':>10}  not prepared")
    if args.prepared:
        total = sum(r["size"] for r in rows)
        print(f"{len(rows)} prepared, {human_size(total)} in {settings.datadir}")
    return 0
