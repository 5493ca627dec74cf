"""Looking at image data: a PNG grid with titles, or half-block pictures in a terminal.

``show_images`` needs Pillow (the ``images`` extra);
``render_terminal`` needs only numpy.
"""

from __future__ import annotations

from datamaestro.viz.arrays import as_images, label_texts
from datamaestro.viz.grid import GridLayout, grid_layout, show_images
from datamaestro.viz.terminal import render_terminal, terminal_colour

__all__ = [
    "GridLayout",
    "as_images",
    "grid_layout",
    "label_texts",
    "render_terminal",
    "show_images",
    "terminal_colour",
]
