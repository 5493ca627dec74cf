"""Parsing, dispatch, and turning errors into one line and an exit code.

Each module in ``datamaestro.cli.commands`` defines ``NAME``, ``HELP``,
``add_arguments(parser)`` and ``run(args) -> int``; it must import heavy
libraries (requests, numpy, Pillow...) through the modules that need them. The
module of command ``NAME`` is named ``NAME`` with ``-`` as ``_``: a command line
that names a command imports that command's module alone.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import pkgutil
import sys
from types import ModuleType
from typing import TYPE_CHECKING

from datamaestro.errors import DatamaestroError
from datamaestro.paths import printable
from datamaestro.version import __version__

if TYPE_CHECKING:
    from typing import Optional

EXIT_INTERRUPTED = 130
#: the package of the command modules, imported by name (a command module may import this one)
COMMANDS = "datamaestro.cli.commands"
#: longest line of an error or log message printed (longer ones are cut, ending in '...')
MESSAGE_LIMIT = 4000


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


def build_parser(only: Optional[ModuleType] = None) -> argparse.ArgumentParser:
    """The full parser, with one sub-parser per command module (or for ``only``)."""
    parser = argparse.ArgumentParser(
        prog="datamaestro",
        description="Find, fetch, verify and load datasets by name."
    )
    parser.add_argument("--version", action="version", version=f"datamaestro {__version__}")
    global_options(parser)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True, prog=parser.prog)
    for module in [only] if only else command_modules():
        command = sub.add_parser(
            module.NAME, help=module.HELP, description=module.HELP
        )
        global_options(command, default=argparse.SUPPRESS)
        module.add_arguments(command)
        command.set_defaults(run=module.run)
    return parser


def command_modules() -> list[ModuleType]:
    """Every command module, sorted by name."""
    package = importlib.import_module(COMMANDS)
    names = sorted(info.name for info in pkgutil.iter_modules(package.__path__))
    return [importlib.import_module(f"{COMMANDS}.{name}") for name in names]


def named_command(argv: list[str]) -> Optional[ModuleType]:
    """The module of the command that ``argv`` names, when that is certain; else None."""
    value_options = ("--data",)
    flags = ("-q", "--quiet", "--traceback", "--offline")
    words = iter(argv)
    for word in words:
        if word in flags:
            continue
        if word.startswith("--") and "=" not in word and any(o.startswith(word) for o in value_options):
            if len(word) > 2 and not any(f.startswith(word) for f in flags):
                next(words, None)
                continue
            return None
        if word.startswith("-"):
            if "=" in word and any(o.startswith(word.split("=")[0]) for o in value_options):
                continue
            return None  # --help, --version, an abbreviation or a mistake: the full parser says
        if not word.replace("-", "").isalpha():
            return None
        try:
            module = importlib.import_module(f"{COMMANDS}.{word.replace('-', '_')}")
        except ImportError:
            return None
        return module if getattr(module, "NAME", None) == word else None
    return None


def main(argv: Optional[list[str]] = None) -> int:
    """Run the command line; returns the exit code."""
    argv = sys.argv[1:] if argv is None else argv
    args = build_parser(named_command(argv)).parse_args(argv)
    log_to_stderr(args.quiet)
    if args.store:  # read by load_settings, like the store's other settings
        os.environ["DATAMAESTRO_STORE"] = args.store
    try:
        return args.run(args) or 0
    except DatamaestroError as e:
        if args.traceback:
            raise
        print(f"datamaestro: error: {shown(str(e))}", file=sys.stderr)
        return e.exit_code
    except KeyboardInterrupt:
        if args.traceback:
            raise
        print("datamaestro: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        return 0


def shown(message: str) -> str:
    """``message`` safe for the terminal: each of its lines escaped (names in it may come from data)."""
    return "\n".join(printable(line, limit=MESSAGE_LIMIT) for line in message.split("\n"))


class _Formatter(logging.Formatter):
    """``warning: ...`` for warnings and errors, the bare message for notes; escaped for the terminal."""

    def format(self, record: logging.LogRecord) -> str:
        message = shown(record.getMessage())
        if record.levelno >= logging.WARNING:
            return f"{record.levelname.lower()}: {message}"
        return message


def log_to_stderr(quiet: bool) -> None:
    """Print the ``datamaestro`` logger's messages on stderr: ``warning: ...``, and notes
    (info) unless ``quiet``."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_Formatter())
    logger = logging.getLogger("datamaestro")
    logger.handlers = [h for h in logger.handlers if not isinstance(h.formatter, _Formatter)]  # one CLI handler
    logger.addHandler(handler)
    logger.setLevel(logging.WARNING if quiet else logging.INFO)
    logger.propagate = False
