"""datamaestro orphans: folders of the data folder that no known dataset owns; --remove deletes them.

Looked at: ``datasets/NAME`` and ``downloads/NAME``, where each dataset keeps
its files and its partial downloads. An orphan is an entry whose NAME is not
the id of a known definition (a dataset whose definition was removed or
renamed, or something put there by hand). Links are listed and removed as
links, never followed; a ``datasets`` or ``downloads`` that is itself a link
is not looked into. While a definition module cannot be loaded, its datasets
cannot be told from orphans: ``--remove`` then refuses until it is mended.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from datamaestro.cli.confirm import confirm
from datamaestro.config import load_settings
from datamaestro.errors import UsageError
from datamaestro.log import log
from datamaestro.paths import is_valid_id, printable
from datamaestro.registry import Registry
from datamaestro.storage import DataFolder, disk_usage, human_size

NAME = "orphans"
HELP = "list the folders of the data folder that no known dataset owns; --remove deletes them (asks first unless --yes)"
#: the folders of the data folder holding one entry per dataset id
TOPS = ("datasets", "downloads")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--remove", action="store_true", help="delete the orphans (asks first unless --yes)")
    parser.add_argument("-y", "--yes", action="store_true", help="with --remove: do not ask")
    parser.add_argument("--json", action="store_true", help="print a JSON list")


def find(folder: DataFolder, known: set[str]) -> list[Path]:
    """The entries of ``datasets/`` and ``downloads/`` whose name is no id of ``known``, sorted."""
    found = []
    for top in (folder.root / name for name in TOPS):
        if top.is_symlink():
            log.warning("%s is a link: not looked into", printable(str(top)))
        elif top.is_dir():
            found += [p for p in sorted(top.iterdir()) if p.name not in known]
    return found


def describe(path: Path) -> dict[str, Any]:
    """What ``orphans --json`` says of one orphan."""
    link = path.is_symlink()
    return {"path": str(path), "name": path.name, "link": link, "size": 0 if link else disk_usage(path)}


def run(args: argparse.Namespace) -> int:
    if args.yes and not args.remove:
        raise UsageError("--yes only applies to --remove")
    settings = load_settings(args.data)
    folder = DataFolder(settings.datadir)
    registry = Registry()
    broken = [record.file for record in registry.modules() if record.broken]
    orphans = [describe(p) for p in find(folder, set(registry.ids()))]
    if args.json:
        print(json.dumps(orphans, indent=2))
    for o in [] if args.json else orphans:
        print(printable(f"{o['path']}  {'a link' if o['link'] else human_size(o['size'])}"))
    total = human_size(sum(o["size"] for o in orphans))
    if not orphans:
        print(f"no orphan in {settings.datadir}", file=sys.stderr)
        return 0
    if not args.remove:
        print(f"{len(orphans)} orphans, {total}: 'datamaestro orphans --remove' deletes them", file=sys.stderr)
        return 0
    if broken:
        raise UsageError(
            f"definition module {printable(broken[0])} cannot be loaded: its datasets cannot be told from "
            "orphans; mend or remove it first (nothing was removed)"
        )
    if not confirm(f"remove these {len(orphans)} orphans ({total})?", args.yes):
        print("nothing was removed", file=sys.stderr)
        return 1
    for o in orphans:
        remove(folder, Path(o["path"]))
    return 0


def remove(folder: DataFolder, path: Path) -> None:
    """Remove one orphan (holding the lock of its name when that is an id: not while someone prepares it)."""
    if not is_valid_id(path.name):
        print(printable(f"removed {path} ({freed(folder, path)})"))
        return
    with folder.lock(path.name, blocking=False) as held:
        if not held:
            print(f"skipped {printable(str(path))}: another process is using it", file=sys.stderr)
        elif os.path.lexists(path):
            print(printable(f"removed {path} ({freed(folder, path)})"))
        if held:  # the lock file made for this, removed while held (as 'clean' does)
            folder.remove(folder.lock_path(path.name))


def freed(folder: DataFolder, path: Path) -> str:
    """Remove ``path`` (a link itself, never what it leads to); what it freed, as ``orphans`` lists it."""
    link = path.is_symlink()
    size = folder.remove(path)
    return "a link" if link else human_size(size)
