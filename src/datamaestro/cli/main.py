"""Parsing, dispatch, and turning errors into one line and an exit code.

Each module in ``datamaestro.cli.commands`` defines ``NAME``, ``HELP``,
``add_arguments(parser)`` and ``run(args) -> int``; it must import heavy
libraries inside ``run`` only, so that every command starts fast. The module
of command ``NAME`` is named ``NAME`` with ``-`` as ``_``: a command line that
names a command builds that command's parser alone.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Callable
from types import ModuleType
from typing import TYPE_CHECKING

from datamaestro import __version__
from datamaestro.cli import commands
from datamaestro.errors import DatamaestroError

if TYPE_CHECKING:
    from typing import Any, Optional

EXIT_INTERRUPTED = 130


class _HelpFormatter(argparse.HelpFormatter):
    """argparse's help formatter, sized to the terminal only when it prints.

    argparse makes a formatter for every argument it adds, and sizing one to the
    terminal imports ``shutil``: milliseconds that every command would pay.
    """

    def __init__(self, prog: str) -> None:
        super().__init__(prog, width=1000)

    def format_help(self) -> str:
        import shutil

        self._width = shutil.get_terminal_size().columns - 2
        self._max_help_position = min(24, max(self._width - 20, 2 * self._indent_increment))
        return super().format_help()


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
        description="Find, fetch, verify and load datasets by name.",
        formatter_class=_HelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"datamaestro {__version__}")
    global_options(parser)
    # prog given: argparse would otherwise format the main usage (sizing it to the terminal) on every run
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True, prog=parser.prog)
    for module in [only] if only else command_modules():
        command = sub.add_parser(
            module.NAME, help=module.HELP, description=module.HELP, formatter_class=_HelpFormatter
        )
        global_options(command, default=argparse.SUPPRESS)
        module.add_arguments(command)
        command.set_defaults(run=module.run)
    return parser


def command_modules() -> list[ModuleType]:
    """Every command module, sorted by name."""
    import pkgutil

    names = sorted(info.name for info in pkgutil.iter_modules(commands.__path__))
    return [importlib.import_module(f"{commands.__name__}.{name}") for name in names]


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
            module = importlib.import_module(f"{commands.__name__}.{word.replace('-', '_')}")
        except ImportError:
            return None
        return module if getattr(module, "NAME", None) == word else None
    return None


def main(argv: Optional[list[str]] = None) -> int:
    """Run the command line; returns the exit code."""
    argv = sys.argv[1:] if argv is None else argv
    args = build_parser(named_command(argv)).parse_args(argv)
    hook = when_imported("logging", lambda logging: log_to_stderr(logging, args.quiet))
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
    finally:
        if hook in sys.meta_path:
            sys.meta_path.remove(hook)


def log_to_stderr(logging: Any, quiet: bool) -> None:
    """Print the ``datamaestro`` logger's messages on stderr: ``warning: ...``, and notes
    (info) unless ``quiet``."""

    class Formatter(logging.Formatter):
        def format(self, record: Any) -> str:
            message = record.getMessage()
            if record.levelno >= logging.WARNING:
                return f"{record.levelname.lower()}: {message}"
            return str(message)

    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(Formatter())
    logger = logging.getLogger("datamaestro")
    logger.handlers = [h for h in logger.handlers if not getattr(h, "datamaestro_cli", False)]
    handler.datamaestro_cli = True
    logger.addHandler(handler)
    logger.setLevel(logging.WARNING if quiet else logging.INFO)
    logger.propagate = False


class _WhenImported:
    """A meta path finder that calls ``then(module)`` once module ``name`` is imported."""

    def __init__(self, name: str, then: Callable[[ModuleType], None]):
        self.name, self.then = name, then

    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> Any:
        if fullname != self.name:
            return None
        sys.meta_path.remove(self)
        import importlib.util

        spec = importlib.util.find_spec(fullname)  # by the other finders
        if spec is not None and spec.loader is not None:
            execute, then = spec.loader.exec_module, self.then

            def execute_then(module: ModuleType) -> None:
                execute(module)
                then(module)

            spec.loader.exec_module = execute_then  # type: ignore[method-assign]
        return spec


def when_imported(name: str, then: Callable[[ModuleType], None]) -> Optional[_WhenImported]:
    """Call ``then(module)`` now if module ``name`` is imported, else as soon as it is.

    The CLI sets up logging so: a command that logs nothing (a search) does not pay
    for importing ``logging``.
    """
    if name in sys.modules:
        then(sys.modules[name])
        return None
    hook = _WhenImported(name, then)
    sys.meta_path.insert(0, hook)
    return hook
