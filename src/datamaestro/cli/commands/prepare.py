"""datamaestro prepare: download, verify and cache a dataset, then print its JSON."""

from __future__ import annotations

import argparse
import json

NAME = "prepare"
HELP = "download, verify and cache a dataset; print its JSON description on stdout"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("id", help="dataset id")


def run(args: argparse.Namespace) -> int:
    from datamaestro.api import prepare_dataset, to_json

    data = prepare_dataset(args.id, datadir=args.data, quiet=args.quiet)
    print(json.dumps(to_json(args.id, data), indent=2))
    return 0
