"""Asking before deleting, for the commands that remove files."""

from __future__ import annotations

import sys


def confirm(question: str, assume_yes: bool) -> bool:
    """Ask ``question [y/N]`` on stderr (True at once with ``assume_yes``); EOF means no."""
    if assume_yes:
        return True
    print(f"{question} [y/N] ", end="", file=sys.stderr, flush=True)
    try:
        answer = sys.stdin.readline()
    except (OSError, ValueError):
        answer = ""
    if not sys.stdin.isatty():
        print(file=sys.stderr)
    return answer.strip().lower() in ("y", "yes")
