"""datamaestro repositories: where the definitions come from, and how many datasets each defines.

In the order ids are looked up: the built-in definitions, the installed
plugin packages (``datamaestro.repositories`` entry points), then the
``DATAMAESTRO_PATH`` folders. Read from the index, as ``search`` is.
"""

from __future__ import annotations

import argparse
import json
import os
from typing import Any

from datamaestro.paths import printable
from datamaestro.registry import Registry

NAME = "repositories"
HELP = "list the repositories of definitions (built-in, plugins, DATAMAESTRO_PATH) with how many datasets each defines"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print a JSON list")


def kind_of(name: str) -> str:
    """Where a repository named ``name`` comes from: builtin, path (DATAMAESTRO_PATH) or plugin."""
    if name == "builtin":
        return "builtin"
    if name in os.environ.get("DATAMAESTRO_PATH", "").split(os.pathsep):
        return "path"
    return "plugin"


def rows(registry: Registry) -> list[dict[str, Any]]:
    """One dict per repository: name, kind, folder, datasets (ids it defines), broken (modules that fail)."""
    datasets: dict[str, int] = {}
    broken: dict[str, int] = {}
    for record in registry.modules():
        datasets[record.repository] = datasets.get(record.repository, 0) + len(record.rows)
        broken[record.repository] = broken.get(record.repository, 0) + bool(record.broken)
    return [
        {
            "name": r.name, "kind": kind_of(r.name), "folder": str(r.folder),
            "datasets": datasets.get(r.name, 0), "broken": broken.get(r.name, 0),
        }
        for r in registry.repos
    ]


def run(args: argparse.Namespace) -> int:
    found = rows(Registry())
    if args.json:
        print(json.dumps(found, indent=2))
        return 0
    width = max(len(r["name"]) for r in found)
    for r in found:
        count = f"{r['datasets']} dataset" + ("s" if r["datasets"] != 1 else "")
        broken = f", {r['broken']} broken module" + ("s" if r["broken"] != 1 else "") if r["broken"] else ""
        where = f"  {r['folder']}" if r["folder"] != r["name"] else ""
        print(printable(f"{r['name']:<{width}}  {r['kind']:<7}  {count}{broken}{where}"))
    return 0
