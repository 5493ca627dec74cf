"""Running the installs of one dataset's resources side by side, a bounded number at a time."""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from typing import TypeVar

from datamaestro.errors import DownloadError

T = TypeVar("T")


def run_concurrently(
    items: list[T], work: Callable[[T], object], jobs: int, keep_going: bool
) -> list[DownloadError]:
    """Call ``work(item)`` for every item, ``jobs`` at a time; the ``DownloadError``s, in the items' order.

    After a failure, items not yet started are skipped unless ``keep_going``;
    the running ones finish. Any other exception is raised once the running
    ones are done (that of the first item, in the items' order). Workers are daemon threads, so Ctrl-C ends the process at
    once (partial downloads stay on disk and the next run resumes them). With
    one job, or one item, everything runs in the calling thread.
    """
    failures: dict[int, DownloadError] = {}
    if jobs <= 1 or len(items) <= 1:
        for i, item in enumerate(items):
            try:
                work(item)
            except DownloadError as e:
                failures[i] = e
                if not keep_going:
                    break
        return [failures[i] for i in sorted(failures)]
    todo: queue.SimpleQueue[int] = queue.SimpleQueue()
    for i in range(len(items)):
        todo.put(i)
    results: queue.SimpleQueue[tuple[int, BaseException | None]] = queue.SimpleQueue()
    stop = threading.Event()

    def worker() -> None:
        while not stop.is_set():
            try:
                i = todo.get_nowait()
            except queue.Empty:
                return
            try:
                work(items[i])
                results.put((i, None))
            except BaseException as e:  # handed to the calling thread
                results.put((i, e))

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(min(jobs, len(items)))]
    for t in threads:
        t.start()
    fatal: dict[int, BaseException] = {}
    while any(t.is_alive() for t in threads) or not results.empty():
        try:
            i, outcome = results.get(timeout=0.1)  # KeyboardInterrupt lands here, in the main thread
        except queue.Empty:
            continue
        if isinstance(outcome, DownloadError):
            failures[i] = outcome
            if not keep_going:
                stop.set()
        elif outcome is not None:
            fatal[i] = outcome
            stop.set()
    if fatal:
        raise fatal[min(fatal)]  # the first item's: the same whichever thread finished first
    return [failures[i] for i in sorted(failures)]
