"""datamaestro show: look at a few images of a dataset (with their boxes or masks), as an image file (a grid) or in the terminal."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from datamaestro.api import prepare_dataset
from datamaestro.config import load_settings
from datamaestro.errors import UsageError
from datamaestro.log import log
from datamaestro.splits import categories_of, count_of, has_labels, label_index, label_positions, pick_split
from datamaestro.storage import atomic_file
from datamaestro.viz import render_terminal, show_images
from datamaestro.viz.grid import pillow_modules
from datamaestro.viz.pictures import pictures

NAME = "show"
HELP = "show some images of a dataset with their labels, boxes or masks: an image grid (-o FILE.png) or in the terminal"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("id", help="dataset id")
    parser.add_argument("--split", help="split to show (default: train, else the first one)")
    parser.add_argument("-n", type=int, default=16, help="number of images (default: 16)")
    parser.add_argument("--cols", type=int, default=8, help="images per row (default: 8)")
    parser.add_argument(
        "--seed", type=int, help="pick a random sample with this seed (default: the first images)"
    )
    parser.add_argument("--label", metavar="NAME", help="only images of this class (name or number)")
    parser.add_argument(
        "-o", "--output", metavar="FILE",
        help="write the grid to FILE, in the image type its extension names (.png, .jpg, .bmp...)",
    )
    parser.add_argument(
        "--scale", type=int, help="PNG: pixels per image pixel (default: 28x28 images get 3)"
    )
    parser.add_argument(
        "--terminal", action="store_true", help="draw in the terminal even if stdout is not one"
    )
    parser.add_argument(
        "--colour", "--color", dest="colour", choices=("auto", "truecolor", "grey"),
        default="auto", help="terminal colours (default: 24-bit if COLORTERM says so, else grey)",
    )


def output_type(path: Path) -> str:
    """The Pillow image type that ``path``'s extension names; refuses a missing folder or an unknown type."""

    if not path.parent.is_dir():
        raise UsageError(f"{path}: the folder {path.parent} does not exist; create it first")
    Image = pillow_modules()[0]
    Image.init()
    image_type = Image.registered_extensions().get(path.suffix.lower())
    if image_type is None or image_type not in Image.SAVE:
        raise UsageError(
            f"{path}: unknown image type {path.suffix or '(no extension)'!r}; "
            "name the file .png, .jpg, .bmp, .gif, .tif or .webp"
        )
    return str(image_type)


def run(args: argparse.Namespace) -> int:
    import numpy as np

    if args.n < 1 or args.cols < 1 or (args.scale is not None and args.scale < 1):
        raise UsageError("-n, --cols and --scale must be at least 1")
    to_terminal = args.output is None
    if to_terminal and not args.terminal and not sys.stdout.isatty():
        raise UsageError(
            "stdout is not a terminal: give -o FILE.png to write a PNG grid, "
            "or --terminal to draw anyway"
        )
    image_type = None if to_terminal else output_type(Path(args.output))
    offline = getattr(args, "offline", None) or None
    settings = load_settings(args.data, offline=offline)
    data = prepare_dataset(args.id, settings=settings, quiet=args.quiet)
    split_name, split = pick_split(data, args.id, args.split)
    categories = categories_of(data, split)
    indices = np.arange(count_of(split))
    if args.label is not None:
        if not has_labels(split):
            raise UsageError(f"{args.id} {split_name} has no labels to filter on")
        indices = label_positions(split, label_index(args.label, categories, args.id))
        if indices.size == 0:
            raise UsageError(f"{args.id} {split_name} has no image of class '{args.label}'")
    if args.seed is not None and indices.size > args.n:
        rng = np.random.default_rng(args.seed)
        indices = np.sort(rng.choice(indices, size=args.n, replace=False))
    indices = indices[: args.n]
    chosen, chosen_labels = pictures(split, indices, categories)
    if to_terminal:
        colour = None if args.colour == "auto" else args.colour
        sys.stdout.write(
            render_terminal(chosen, chosen_labels, args.cols, colour=colour, categories=categories)
        )
        return 0

    grid = show_images(chosen, chosen_labels, args.cols, scale=args.scale, categories=categories)
    output = Path(args.output)
    with atomic_file(output) as f:
        grid.save(f, format=image_type)
    log.info(
        "%s: wrote %d %s images to %s (%dx%d)",
        args.id, len(indices), split_name, output, grid.width, grid.height,
    )
    return 0
