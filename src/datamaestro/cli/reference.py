"""The command-line reference as Markdown, rendered from the argparse parser (docs/cli.md)."""

from __future__ import annotations

import argparse
import os
from typing import Optional

from datamaestro.cli.main import build_parser

#: help is wrapped at this width, whatever the terminal
WIDTH = 88


def render_markdown(parser: Optional[argparse.ArgumentParser] = None) -> str:
    """One section per command, each with the command's ``--help`` text."""
    if parser is None:
        parser = build_parser()
    saved = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = str(WIDTH)
    try:
        parts = ["## datamaestro", "", "```text", parser.format_help().rstrip(), "```", ""]
        sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
        for name, command in sub.choices.items():
            parts += [
                f"## datamaestro {name}",
                "",
                "```text",
                command.format_help().rstrip(),
                "```",
                "",
            ]
    finally:
        if saved is None:
            del os.environ["COLUMNS"]
        else:
            os.environ["COLUMNS"] = saved
    return "\n".join(parts)
