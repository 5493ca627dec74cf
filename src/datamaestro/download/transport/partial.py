"""The partial file of a download and, for a segmented one, its state file of done ranges.

The partial file at ``dest`` is always a prefix of the file being downloaded,
or, when a state file ``<dest>.segments`` lies beside it, holds the ranges
that file lists (JSON: size, validator, done ranges). Both are data from disk:
a state file that is unreadable or odd is not trusted.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

from datamaestro.download.transport.base import Target, file_size
from datamaestro.errors import UnsafePathError
from datamaestro.paths import open_inside, read_inside
from datamaestro.storage import ignored

#: the state file is ignored when larger than this (bytes): datamaestro never writes one that large
MAX_STATE = 1 << 20


@dataclass(slots=True)
class SegmentState:
    """What the state file records: the file's size and validator, and the ranges written."""

    size: int
    validator: Optional[str]
    #: [start, end) ranges, sorted and merged
    done: list[tuple[int, int]] = field(default_factory=list)

    def done_bytes(self) -> int:
        """How many bytes are written."""
        return sum(e - s for s, e in self.done)

    def missing(self) -> list[tuple[int, int]]:
        """The [start, end) ranges still to download."""
        gaps, at = [], 0
        for s, e in self.done:
            if s > at:
                gaps.append((at, s))
            at = max(at, e)
        if at < self.size:
            gaps.append((at, self.size))
        return gaps


def state_path(dest: Path) -> Path:
    """The state file of a segmented download into ``dest`` (its done ranges)."""
    return dest.with_name(dest.name + ".segments")


def read_state(dest: Path, root: Optional[Path] = None) -> Optional[SegmentState]:
    """The valid state of the segmented download into ``dest`` inside ``root`` (by default ``dest``'s
    folder); None if none, or not valid (read without following a link, at most ``MAX_STATE`` bytes)."""
    try:
        raw = json.loads(read_inside(root or dest.parent, state_path(dest), MAX_STATE) or b"")
        size, validator, done = raw["size"], raw["validator"], raw["done"]
    except UnsafePathError as e:  # a link, a FIFO, a device, a huge file: planted, never followed
        ignored(e, "the segmented download starts over")
        return None
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if not isinstance(size, int) or isinstance(size, bool) or size <= 0:
        return None
    if validator is not None and not isinstance(validator, str):
        return None
    if not isinstance(done, list) or not all(valid_range(item, size) for item in done):
        return None
    return SegmentState(size, validator, merge([(s, e) for s, e in done]))


def valid_range(item: object, size: int) -> bool:
    """Whether ``item`` (from JSON) is a [start, end) range within a file of ``size`` bytes."""
    return (
        isinstance(item, list)
        and len(item) == 2
        and all(isinstance(v, int) and not isinstance(v, bool) for v in item)
        and 0 <= item[0] < item[1] <= size
    )


def write_state(target: Target, state: SegmentState) -> None:
    """Replace the state file of ``target``'s partial file (no fsync: a lost update only costs bytes
    downloaded again); written without following a link, then renamed over the old one."""
    path = state_path(target.dest)
    tmp = path.with_name(path.name + ".tmp")
    data = {"size": state.size, "validator": state.validator, "done": [list(r) for r in state.done]}
    with open_inside(target.root or path.parent, tmp, "w") as f:
        f.write(json.dumps(data).encode("utf-8"))
    os.replace(tmp, path)  # a rename: it replaces a link at path, never writes where it points


def merge(ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """``ranges`` sorted, with those that touch or overlap merged."""
    out: list[tuple[int, int]] = []
    for s, e in sorted(ranges):
        if out and s <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], e))
        else:
            out.append((s, e))
    return out


def kept_bytes(dest: Path, root: Optional[Path] = None) -> int:
    """How many bytes of the download into ``dest`` (inside ``root``) are kept for the next run."""
    state = read_state(dest, root)
    if state is not None:
        return state.done_bytes()
    return file_size(dest)


def discard(dest: Path) -> None:
    """Delete a partial download and its segment state."""
    dest.unlink(missing_ok=True)
    state_path(dest).unlink(missing_ok=True)
