"""datamaestro store ls | verify: what the team store holds, and whether its blobs are intact."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from datamaestro.cli.main import global_options
from datamaestro.config import load_settings
from datamaestro.errors import StoreError, UsageError
from datamaestro.paths import is_valid_id, printable
from datamaestro.storage import human_size
from datamaestro.store.backend import progress_bar
from datamaestro.store.originals import store_of
from datamaestro.store.transfer import read_record

NAME = "store"
HELP = "list (ls) or re-hash (verify) what the team store holds"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    ls = actions.add_parser("ls", help="list the datasets in the store, with their files and sizes")
    global_options(ls, default=argparse.SUPPRESS)
    ls.add_argument("--json", action="store_true", help="print a JSON list of the records")
    verify = actions.add_parser("verify", help="download and re-hash every blob against its record")
    global_options(verify, default=argparse.SUPPRESS)
    verify.add_argument("ids", nargs="*", metavar="ID", help="datasets to check (default: all in the store)")
    verify.add_argument("--json", action="store_true", help="print a JSON list")


def records(store: Any, ids: list[str]) -> list[dict[str, Any]]:
    """The store's records (all, or ``ids``) as JSON objects; a bad record gets an 'error' key."""

    if not ids:
        names = [n[: -len(".json")] for n in store.listdir("records") if n.endswith(".json")]
        ids = [n for n in names if is_valid_id(n)]
        for bad in sorted(set(names) - set(ids)):
            print(f"warning: {printable(store.where('records/' + bad))}.json: not a dataset id, ignored", file=sys.stderr)
    rows = []
    for dataset_id in ids:
        try:
            record = read_record(store, dataset_id)
        except StoreError as e:
            rows.append({"id": dataset_id, "error": str(e)})
            continue
        rows.append(record.to_json() if record else {"id": dataset_id, "error": "not in the store"})
    return rows


def check(store: Any, row: dict[str, Any], quiet: bool) -> dict[str, Any]:
    """Re-hash the blobs of one record: status OK, CORRUPT or MISSING, one problem per bad file."""

    if "error" in row:
        return {"id": row["id"], "status": "MISSING" if row["error"] == "not in the store" else "CORRUPT",
                "files": 0, "problems": [row["error"]]}
    problems: list[str] = []
    status = "OK"
    for name, entry in row["files"].items():
        relative = store.blob(entry["sha256"])
        algorithms = ["sha256"] + ([entry["checksum"].split(":")[0]] if entry["checksum"] else [])
        try:
            stored = store.size(relative)  # refuses a blob that is not a regular file
            if stored is None:
                problems.append(f"{name}: {store.where(relative)} is missing")
                status = "MISSING" if status == "OK" else status
                continue
            with progress_bar(f"{row['id']}: {name}", stored, quiet) as bar:
                size, digests = store.hashed_copy(relative, algorithms, entry["size"], bar.update)
        except StoreError as e:
            problems.append(f"{name}: {e}")
            status = "CORRUPT"
            continue
        wrong = []
        if size != entry["size"]:
            wrong.append(f"{stored} bytes, recorded {entry['size']}")
        elif digests["sha256"] != entry["sha256"]:
            wrong.append(f"sha256:{digests['sha256']}")
        elif entry["checksum"] and f"{algorithms[1]}:{digests[algorithms[1]]}" != entry["checksum"]:
            wrong.append(f"does not match the published checksum {entry['checksum']}")
        if wrong:
            problems.append(f"{name}: {store.where(relative)}: {'; '.join(wrong)}")
            status = "CORRUPT"
    return {"id": row["id"], "status": status, "files": len(row["files"]), "problems": problems}


def run(args: argparse.Namespace) -> int:
    settings = load_settings(args.data, offline=args.offline or None)
    store = store_of(settings)
    if store is None:
        raise UsageError("no store is configured: set 'store: {url: ...}' in the config file, DATAMAESTRO_STORE, or --store URL")
    rows = records(store, getattr(args, "ids", []))
    if args.action == "ls":
        if args.json:
            print(json.dumps(rows, indent=2))
        elif not rows:
            print(f"the store {store.url} holds no dataset", file=sys.stderr)
        for row in rows if not args.json else []:
            if "error" in row:
                print(f"{row['id']}: {row['error']}")
                continue
            size = sum(e["size"] for e in row["files"].values())
            count = len(row["files"])
            print(f"{row['id']}  {human_size(size)}  {count} file{'s' if count != 1 else ''}  {row['updated']}")
        return 0
    results = [check(store, row, args.quiet) for row in rows]
    if args.json:
        print(json.dumps(results, indent=2))
    for r in results if not args.json else []:
        detail = f"{r['files']} file{'s' if r['files'] != 1 else ''}" if r["status"] == "OK" else "; ".join(r["problems"])
        print(f"{r['id']}: {r['status']}: {detail}" if r["status"] != "OK" else f"{r['id']}: OK ({detail})")
    return 0 if all(r["status"] == "OK" for r in results) else 1
