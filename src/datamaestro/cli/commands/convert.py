"""datamaestro convert: rewrite a dataset from one layout (mnist, mnist_csv, cifar, imagenet, voc, coco, yolo) to another."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from datamaestro.formats.registry import FORMATS, apply_filters, read, write

if TYPE_CHECKING:
    from datamaestro.formats.registry import AnyDataset

NAME = "convert"
HELP = "convert a dataset folder between layouts (mnist, mnist_csv, cifar, imagenet, voc, coco, yolo)"

FORMAT_NAMES = tuple(FORMATS)


def add_output_arguments(parser: argparse.ArgumentParser) -> None:
    """The output options shared with ``export``."""
    parser.add_argument("-f", "--output-format", required=True, choices=FORMAT_NAMES, help="layout to write")
    parser.add_argument("-o", "--output-dir", required=True, metavar="OUT", help="output folder (new or empty)")
    parser.add_argument(
        "--filter", action="append", default=[], metavar="EXPR",
        help="keep only matching items: label=NAME[,NAME...], subset=NAME[,NAME...], id=ID[,ID...] "
        "or Datumaro's XPath, e.g. '/item[annotation/label=\"3\" and subset=\"test\"]' (repeatable; "
        "whole items are kept: an item has a label when an image-level label or an object has it)",
    )
    parser.add_argument(
        "--save-dataset-meta", action="store_true", help="also write dataset_meta.json with the class names"
    )
    parser.add_argument(
        "--image-ext", metavar="EXT", default=None, help="image file type for imagenet (default .png), voc, coco, yolo (default: the source's, else .jpg)"
    )
    parser.add_argument(
        "--save-media", action=argparse.BooleanOptionalAction, default=True,
        help="write the pixels (default); --no-save-media writes labels and ids only, as Datumaro's default",
    )
    parser.add_argument("--overwrite", action="store_true", help="replace a non-empty output folder")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-if", "--input-format", required=True, choices=FORMAT_NAMES, help="layout to read")
    parser.add_argument(
        "-i", "--input-dir", "--input-path", dest="input_dir", required=True, metavar="DIR", help="folder to read"
    )
    parser.add_argument(
        "--allow-outside-links", action="store_true",
        help="imagenet input: follow symbolic links that lead outside the input folder (refused by default)",
    )
    add_output_arguments(parser)


def write_output(dataset: AnyDataset, args: argparse.Namespace) -> int:
    """Filter, write, and report what was written on stderr."""
    import logging


    dataset = apply_filters(dataset, args.filter)
    path = write(
        dataset,
        args.output_dir,
        args.output_format,
        save_dataset_meta=args.save_dataset_meta,
        image_ext=args.image_ext,
        overwrite=args.overwrite,
        save_media=args.save_media,
    )
    counts = ", ".join(f"{name} {len(s)}" for name, s in dataset)
    logging.getLogger("datamaestro").info(
        "wrote %d items (%s) in the %s layout to %s", len(dataset), counts or "none", args.output_format, path
    )
    return 0


def run(args: argparse.Namespace) -> int:
    return write_output(read(args.input_dir, args.input_format, allow_outside_links=args.allow_outside_links), args)
