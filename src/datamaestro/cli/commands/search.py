"""datamaestro search: find datasets by id, name, description and tags."""

from __future__ import annotations

import argparse
import json
import sys

from datamaestro.registry import Registry

NAME = "search"
HELP = "find datasets by id, name, description, tags and aliases"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "terms", nargs="*", metavar="TERM", help="words that must all match; FIELD:WORD "
        "matches one field (id, name, tag, type, url, description, alias)"
    )
    parser.add_argument("--json", action="store_true", help="print a JSON list")


def run(args: argparse.Namespace) -> int:
    found = Registry().search(args.terms)
    if args.json:
        keys = ("id", "name", "description", "tags", "type", "url", "aliases")
        print(json.dumps([{k: getattr(e, k) for k in keys} for e in found], indent=2))
    else:
        width = max((len(e.id) for e in found), default=0)
        for e in found:
            print(f"{e.id:<{width}}  {e.title}")
    if not found and not args.json:
        print(f"no dataset matches {' '.join(args.terms)!r}", file=sys.stderr)
        return 1
    return 0
