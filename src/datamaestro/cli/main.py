"""Parsing, dispatch, and turning errors into one line and an exit code.

Each module in ``datamaestro.cli.commands`` defines ``NAME``, ``HELP``,
``add_arguments(parser)`` and ``run(args) -> int``; it must import heavy
libraries inside ``run`` only, so that every command starts fast.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import pkgutil
import sys
from typing import Optional

from datamaestro import __version__
from datamaestro.cli import commands
from datamaestro.errors import DatamaestroError

EXIT_INTERRUPTED = 130


class _Formatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage()
        if record.levelno >= logging.WARNING:
            return f"{record.levelname.lower()}: {message}"
        return message


def global_options(parser: argparse.ArgumentParser, default: object = None) -> None:
    """Options accepted both before and after the command name."""
    parser.add_argument("--data", metavar="DIR", default=default, help="data folder")
    parser.add_argument(
        "-q", "--quiet", action="store_true", default=default, help="no progress bars or notes"
    )
    parser.add_argument(
        "--traceback", action="store_true", default=default, help="show tracebacks on errors"
    )
    parser.add_argument(
        "--offline", action="store_true", default=default, help="no network access at all"
    )
    parser.add_argument(
        "--store", metavar="URL", default=default, help="the team store (fsspec URL; overrides DATAMAESTRO_STORE)"
    )


def build_parser() -> argparse.ArgumentParser:
    """The full parser, with one sub-parser per command module."""
    parser = argparse.ArgumentParser(
        prog="datamaestro", description="Find, fetch, verify and load datasets by name."
    )
    parser.add_argument("--version", action="version", version=f"datamaestro {__version__}")
    global_options(parser)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{commands.__name__}.{info.name}")
        command = sub.add_parser(module.NAME, help=module.HELP, description=module.HELP)
        global_options(command, default=argparse.SUPPRESS)
        module.add_arguments(command)
        command.set_defaults(run=module.run)
    return parser


def main(argv: Optional[list[str]] = None) -> int:
    """Run the command line; returns the exit code."""
    args = build_parser().parse_args(argv)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_Formatter())
    logger = logging.getLogger("datamaestro")
    logger.addHandler(handler)
    logger.setLevel(logging.WARNING if args.quiet else logging.INFO)
    logger.propagate = False
    if args.store:  # read by load_settings, like the store's other settings
        os.environ["DATAMAESTRO_STORE"] = args.store
    try:
        return args.run(args) or 0
    except DatamaestroError as e:
        if args.traceback:
            raise
        print(f"datamaestro: error: {e}", file=sys.stderr)
        return e.exit_code
    except KeyboardInterrupt:
        if args.traceback:
            raise
        print("datamaestro: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        return 0
