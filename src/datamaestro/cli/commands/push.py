"""datamaestro push: upload prepared datasets' verified originals to the team store."""

from __future__ import annotations

import argparse

from datamaestro.config import load_settings
from datamaestro.download.push import push_dataset
from datamaestro.errors import UsageError
from datamaestro.registry import Registry
from datamaestro.storage import DataFolder
from datamaestro.store.originals import store_of

NAME = "push"
HELP = "upload the verified originals of prepared datasets to the team store (skips what it holds)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("ids", nargs="*", metavar="ID", help="datasets to push")
    parser.add_argument("--all", action="store_true", help="push every prepared dataset")


def run(args: argparse.Namespace) -> int:
    import logging


    if bool(args.ids) == bool(args.all):
        raise UsageError("give the ids of the datasets to push, or --all (not both)")
    settings = load_settings(args.data, offline=args.offline or None)
    log = logging.getLogger("datamaestro")
    store = store_of(settings)
    if store is None:
        raise UsageError("no store is configured: set 'store: {url: ...}' in the config file, DATAMAESTRO_STORE, or --store URL")
    registry = Registry()
    if args.ids:
        definitions = [registry.definition(i) for i in dict.fromkeys(args.ids)]  # all checked before any upload
    else:
        known = set(registry.ids())
        prepared = DataFolder(settings.datadir).recorded_ids()
        for dataset_id in sorted(set(prepared) - known):
            log.warning("%s is prepared but has no definition any more: not pushed", dataset_id)
        definitions = [registry.definition(i) for i in prepared if i in known]
    for definition in definitions:
        print(push_dataset(settings, store, definition, quiet=args.quiet).line(store))
    return 0
