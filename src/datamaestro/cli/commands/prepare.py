"""datamaestro prepare: download, verify and cache a dataset, then print its JSON."""

from __future__ import annotations

import argparse
import json

from datamaestro.api import prepare_dataset, to_json
from datamaestro.config import load_settings
from datamaestro.download.context import Request
from datamaestro.errors import UsageError

NAME = "prepare"
HELP = "download, verify and cache a dataset; print its JSON description on stdout"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("id", help="dataset id or alias")
    parser.add_argument(
        "--from",
        dest="source",
        metavar="DIR",
        help="take the files from DIR (named as in their URLs) instead of downloading them",
    )
    parser.add_argument(
        "--no-verify",
        action="store_true",
        help="with --from: accept files that do not match their published checksums "
        "(recorded in the dataset's manifest)",
    )
    parser.add_argument(
        "--force", action="store_true", help="fetch every file again, even if prepared"
    )
    parser.add_argument(
        "--repair", action="store_true",
        help="hash every prepared byte and fetch again only the files that fail",
    )
    parser.add_argument(
        "-j", "--jobs", type=int, metavar="N", help="files downloaded at once (default: config 'jobs', else 4)"
    )


def run(args: argparse.Namespace) -> int:
    from pathlib import Path


    settings = load_settings(args.data, offline=args.offline or None)
    if args.no_verify and not args.source:
        raise UsageError("--no-verify only applies to local copies: use it with --from DIR")
    source = None
    if args.source:
        source = Path(args.source).expanduser().absolute()
        if not source.is_dir():
            raise UsageError(f"--from {args.source}: no such folder")
    if args.jobs is not None and args.jobs < 1:
        raise UsageError(f"--jobs must be at least 1, got {args.jobs}")
    request = Request(
        quiet=args.quiet, force=args.force, repair=args.repair, source_dir=source,
        no_verify=args.no_verify, jobs=args.jobs,
    )
    data = prepare_dataset(args.id, settings=settings, request=request)
    print(json.dumps(to_json(data.dataset_id, data), indent=2))  # type: ignore[attr-defined]
    return 0
