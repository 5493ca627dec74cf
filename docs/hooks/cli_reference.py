"""MkDocs hook: replaces the marker in cli.md with the reference rendered from the parser."""

from __future__ import annotations

from typing import Any

MARKER = "<!-- cli-reference -->"


def on_page_markdown(markdown: str, page: Any, **kwargs: Any) -> str:
    if MARKER not in markdown:
        return markdown
    from datamaestro.cli.reference import render_markdown

    return markdown.replace(MARKER, render_markdown())
