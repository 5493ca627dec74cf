"""datamaestro export: write a prepared dataset in a Datumaro layout (preparing it first if needed)."""

from __future__ import annotations

import argparse

from datamaestro.api import prepare_dataset
from datamaestro.cli.commands.convert import add_output_arguments, write_output
from datamaestro.config import load_settings
from datamaestro.formats.registry import from_data

NAME = "export"
HELP = "write a dataset (prepared first if needed) in a layout: mnist, mnist_csv, cifar, imagenet, voc, coco, yolo"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("id", help="dataset id")
    add_output_arguments(parser)


def run(args: argparse.Namespace) -> int:
    offline = getattr(args, "offline", None) or None
    settings = load_settings(args.data, offline=offline)
    data = prepare_dataset(args.id, settings=settings, quiet=bool(args.quiet))
    return write_output(from_data(data), args)
