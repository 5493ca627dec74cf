"""datamaestro datafolders: where the user keeps files downloaded by hand (behind a sign-in).

``datafolders set NAME PATH`` records the folder ``PATH`` under ``NAME`` in
the config file (key ``datafolders``); a definition whose files need a
sign-in names its data folder (ImageNet: ``imagenet``), and ``prepare``
takes the files from there without ``--from``. ``list`` prints them (JSON
with ``--json``), ``rm NAME`` forgets one (the folder itself is untouched).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from datamaestro.config import config_path, load_settings, read_config, write_datafolders
from datamaestro.errors import UsageError
from datamaestro.paths import printable

NAME = "datafolders"
HELP = "set, list or remove the folders holding files downloaded by hand (behind a sign-in)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    put = actions.add_parser("set", help="record the folder PATH under NAME (e.g. imagenet)")
    put.add_argument("name", help="the data folder's name, as a definition names it")
    put.add_argument("path", help="an existing folder holding the files")
    listing = actions.add_parser("list", help="print the data folders")
    listing.add_argument("--json", action="store_true", help="print a JSON object (name -> path)")
    remove = actions.add_parser("rm", help="forget the data folder NAME (its files are untouched)")
    remove.add_argument("name")


def recorded() -> dict[str, str]:
    """The data folders as the config file holds them (name -> path as written)."""
    return dict(read_config(config_path()).get("datafolders", {})) if config_path().exists() else {}


def run(args: argparse.Namespace) -> int:
    if args.action == "list":
        found = load_settings(args.data).datafolders
        if args.json:
            print(json.dumps({name: str(path) for name, path in sorted(found.items())}, indent=2))
        for name, path in sorted(found.items()) if not args.json else ():
            missing = "" if path.is_dir() else "  (missing)"
            print(printable(f"{name}  {path}{missing}"))
        return 0
    folders = recorded()
    if args.action == "set":
        path = Path(args.path).expanduser().absolute()
        if not path.is_dir():
            raise UsageError(f"datafolders set {args.name}: {args.path} is not a folder; give the folder holding the files")
        folders[args.name] = str(path)
        written = write_datafolders(folders)
        print(printable(f"{args.name}: {path} (in {written})"))
        return 0
    if args.name not in folders:
        raise UsageError(f"datafolders rm: no data folder named '{printable(args.name, 80)}' (see 'datamaestro datafolders list')")
    del folders[args.name]
    write_datafolders(folders)
    print(printable(f"{args.name}: removed (its files are untouched)"))
    return 0
