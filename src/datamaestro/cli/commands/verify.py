"""datamaestro verify: hash every byte a prepared dataset serves against its manifest; --repair re-fetches what fails."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from datamaestro.config import load_settings
from datamaestro.download.checks import absent
from datamaestro.download.checks import check as check_resource
from datamaestro.download.context import Request
from datamaestro.download.hub import is_hub_id
from datamaestro.errors import UnknownDatasetError, UsageError
from datamaestro.paths import id_problem
from datamaestro.registry import Registry
from datamaestro.storage import CACHE_PREFIX, DataFolder, StorageError

NAME = "verify"
HELP = "hash every prepared file against its manifest; report OK, CORRUPT or MISSING (--repair fixes them)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("ids", nargs="*", metavar="ID", help="datasets to check (default: every prepared one)")
    parser.add_argument("--json", action="store_true", help="print a JSON list")
    parser.add_argument(
        "--repair", action="store_true", help="fetch again only the resources that fail, then check again"
    )


def check(settings: Any, dataset_id: str, definition: Any) -> dict[str, Any]:
    """The status of one dataset: OK, CORRUPT or MISSING, with one problem per bad file."""

    folder = DataFolder(settings.datadir)
    if definition is not None:
        ctx = definition.context(settings)
        definition.adopt(ctx)  # a lost manifest is rebuilt from the declarations first
        problems = definition.problems(ctx, full=True)
    else:  # prepared, but its definition is gone: check what was recorded
        problems = {}
    manifest = folder.manifest(dataset_id)
    for name, entry in manifest.entries.items():  # and what is recorded besides (decoded caches)
        if name not in problems:
            problems[name] = check_resource(folder.resource_path(dataset_id, name), entry, full=True)
    flat = [p for name in sorted(problems) for p in problems[name]]
    status = "OK" if not flat else "MISSING" if all(absent(p) for p in flat) else "CORRUPT"
    if not manifest.entries:
        status, flat = "MISSING", ["not prepared"]
    return {
        "id": dataset_id,
        "status": status,
        "files": len(manifest.entries),
        "problems": flat,
        "unverified": sum(1 for e in manifest.entries.values() if e.no_verify),
        "caches": sorted(name for name in problems if problems[name] and name.startswith(CACHE_PREFIX)),
    }


def drop_caches(settings: Any, result: dict[str, Any]) -> None:
    """Remove the damaged decoded caches of a checked dataset (they are decoded again when next used)."""
    folder = DataFolder(settings.datadir)
    for name in result.pop("caches"):
        with folder.lock(result["id"]):
            folder.forget(result["id"], name)
        print(f"{result['id']}: removed the damaged decoded cache {name} (decoded again when next used)", file=sys.stderr)


def run(args: argparse.Namespace) -> int:
    settings = load_settings(args.data, offline=args.offline or None)
    folder = DataFolder(settings.datadir)
    registry = Registry()
    named = [registry.resolve(name) if is_hub_id(name) else name for name in args.ids]
    for dataset_id in named:
        if id_problem(dataset_id):
            raise UsageError(id_problem(dataset_id))
    ids = named or folder.recorded_ids()
    results = []
    for dataset_id in ids:
        try:
            definition = registry.definition(dataset_id)
            dataset_id = definition.id  # an alias names its id
        except UnknownDatasetError:
            if not folder.manifest_path(dataset_id).exists():
                raise
            definition = None
        try:
            with folder.lock(dataset_id):  # not while another process prepares it
                result = check(settings, dataset_id, definition)
        except StorageError:  # a read-only data folder: nobody prepares anything there
            result = check(settings, dataset_id, definition)
        if args.repair and result["status"] != "OK":
            drop_caches(settings, result)
            if definition is not None:
                definition.prepare(settings, Request(quiet=args.quiet, repair=True))
            result = check(settings, dataset_id, definition)
            result["repaired"] = result["status"] == "OK"
        result.pop("caches")
        results.append(result)
    if args.json:
        print(json.dumps(results, indent=2))
    elif not results:
        print(f"no prepared dataset in {settings.datadir}", file=sys.stderr)
    for r in results if not args.json else []:
        if r["status"] == "OK":
            note = f", {r['unverified']} accepted with --no-verify" if r["unverified"] else ""
            files = f"{r['files']} file" + ("s" if r["files"] != 1 else "")
            done = "repaired, " if r.get("repaired") else ""
            print(f"{r['id']}: OK ({done}{files}{note})")
            continue
        todo = (
            f"run 'datamaestro verify --repair {r['id']}' to fetch again what fails"
            if r["status"] == "CORRUPT"
            else f"run 'datamaestro prepare {r['id']}'"
        )
        print(f"{r['id']}: {r['status']}: {'; '.join(r['problems'])}; {todo}")
    return 0 if all(r["status"] == "OK" for r in results) else 1
