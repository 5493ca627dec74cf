"""datamaestro pull: prepare datasets from the team store only, never from their origin."""

from __future__ import annotations

import argparse

from datamaestro.api import prepare_dataset
from datamaestro.config import load_settings
from datamaestro.download.context import Request
from datamaestro.registry import Registry
from datamaestro.store.originals import check_store_only

NAME = "pull"
HELP = "prepare datasets from the team store only (never the origin); fails if the store lacks a file"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("ids", nargs="+", metavar="ID", help="datasets to pull")


def run(args: argparse.Namespace) -> int:
    settings = load_settings(args.data, offline=args.offline or None)
    check_store_only(settings)
    request = Request(quiet=args.quiet, store_only=True)
    registry = Registry()
    for dataset_id in dict.fromkeys(args.ids):
        definition = registry.definition(dataset_id)
        prepare_dataset(definition.id, settings=settings, request=request)
        print(f"{definition.id}: {definition.context(settings).dataset_dir}")
    return 0
