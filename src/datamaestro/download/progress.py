"""Progress of downloads on stderr: one overall bar per dataset, plus a line per active file.

Bars are drawn only when stderr is a terminal and not ``quiet``; they are
safe to update from several threads. Use around the pool that downloads the
files of one dataset::

    from datamaestro.download import progress

    with progress.dataset("com.lecun.mnist", files=4, quiet=settings.quiet) as display:
        with ThreadPoolExecutor(settings.jobs) as pool:
            futures = [pool.submit(fetch, ...) for ...]
            try:
                ...  # wait for the futures
            except KeyboardInterrupt:
                display.cancel()   # every fetch stops at its next chunk (raises Interrupted)
                raise
            ...
        display.file_done()        # after each file is installed (advances "k/N files")

``fetch`` draws its file's line through ``file_bar``: under the current
dataset display when there is one, else as a bar of its own (as for a
single file).
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Optional

_current: Optional[Display] = None
_current_lock = threading.Lock()


def enabled(quiet: bool) -> bool:
    """Whether bars are drawn: stderr is a terminal and output is not quiet."""
    return not quiet and sys.stderr.isatty()


def _tqdm(**options: Any) -> Any:
    from tqdm import tqdm

    return tqdm(unit="B", unit_scale=True, unit_divisor=1024, file=sys.stderr, **options)


class Bar:
    """One file's line: ``update`` with bytes received, ``close`` when the try ends."""

    def __init__(
        self,
        label: str,
        total: Optional[int],
        initial: int,
        display: Optional[Display],
        quiet: bool,
    ):
        self.display = display
        self.position = display._take_position() if display else 0
        self.counted = 0
        self.lock = threading.Lock()
        self.bar = _tqdm(
            total=total, initial=initial, desc=label, leave=False, position=self.position,
            disable=not enabled(quiet),
        )

    def update(self, n: int) -> None:
        """``n`` more bytes were received."""
        with self.lock:
            self.bar.update(n)
        if self.display:
            self.display._add(n)

    def close(self) -> None:
        """The try is over: remove the line."""
        with self.lock:
            self.bar.close()
        if self.display:
            self.display._release_position(self.position)

    def __enter__(self) -> Bar:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class Display:
    """The overall bar of one dataset: bytes received by all its files, and files done."""

    def __init__(self, label: str, files: int, quiet: bool):
        self.label = label
        self.files = files
        self.quiet = quiet
        self.done = 0
        self.cancelled = threading.Event()
        self._lock = threading.Lock()
        self._free = list(range(1, 64))
        self.bar = _tqdm(
            total=None, desc=self._desc(), leave=False, position=0, disable=not enabled(quiet)
        )

    def _desc(self) -> str:
        return f"{self.label}: {self.done}/{self.files} files"

    def file_done(self) -> None:
        """One more file of the dataset is in place."""
        with self._lock:
            self.done += 1
            self.bar.set_description_str(self._desc(), refresh=True)

    def cancel(self) -> None:
        """Ask every download under this display to stop at its next chunk."""
        self.cancelled.set()

    def _add(self, n: int) -> None:
        with self._lock:
            self.bar.update(n)

    def _take_position(self) -> int:
        with self._lock:
            return self._free.pop(0) if self._free else 64

    def _release_position(self, position: int) -> None:
        with self._lock:
            if position < 64:
                self._free.append(position)
                self._free.sort()

    def close(self) -> None:
        """The dataset's downloads are over: remove the overall bar."""
        with self._lock:
            self.bar.close()


@contextmanager
def dataset(label: str, files: int, quiet: bool) -> Iterator[Display]:
    """Show the progress of the ``files`` downloads of ``label`` (one display at a time)."""
    global _current
    display = Display(label, files, quiet)
    with _current_lock:
        previous, _current = _current, display
    try:
        yield display
    finally:
        with _current_lock:
            _current = previous
        display.close()


def current() -> Optional[Display]:
    """The dataset display in use (None outside ``dataset``)."""
    return _current


def file_bar(label: str, total: Optional[int], initial: int, quiet: bool) -> Bar:
    """A line for one file's download, under the current display when there is one."""
    return Bar(label, total, initial, current(), quiet)


def cancelled() -> bool:
    """Whether the current display was cancelled (Ctrl-C in the thread that owns it)."""
    display = _current
    return display is not None and display.cancelled.is_set()
