"""The index of definitions that search and shell completion read.

It holds each definition's id, name, description, tags, type, url and aliases, one
record per module file. A record is made by importing its module once, in a
worker process (running ``main``): a module that fails, or even
ends its process, is one record saying why, and spoils no other. Many modules
to index are shared between two workers.

The index is cached in one file of the user cache folder, and a module is
imported again only when its file changes (size, modification or change
time), or when it failed to import another module (the cause may be
elsewhere, as a missing package).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

from datamaestro import cache
from datamaestro.errors import DefinitionError
from datamaestro.repositories import Repository, failure, load_module, module_definitions
from datamaestro.version import __version__

INDEX_VERSION = 10
#: from this many modules to import, two workers share them (where there are two CPUs)
SHARED = 16
#: a file changed less than this before it was indexed is indexed again next time (a second change
#: within the file system's timestamp granularity would not show in its stamp): for file systems
#: with whole-second times, and for the others (times of a clock tick)
RACY_NS = (2_000_000_000, 50_000_000)
#: the worker's first line
READY = "datamaestro index worker"
#: set in the environment of index workers: a module they import may not build an index in turn
WORKER_VARIABLE = "DATAMAESTRO_INDEX_WORKER"


@dataclass(slots=True)
class Entry:
    """What the index knows of one definition."""

    id: str
    name: str
    description: str = ""
    tags: list[str] = field(default_factory=list)
    type: str = ""
    url: Optional[str] = None
    module: str = ""
    file: str = ""
    repository: str = ""
    #: short names that resolve to ``id`` (``cifar10``)
    aliases: list[str] = field(default_factory=list)

    @property
    def title(self) -> str:
        """The first line of the description, or the name."""
        text = self.description.strip()
        return text.splitlines()[0] if text else self.name


#: (file size, modification time, change time) of a module file, in nanoseconds for times
Stamp = tuple[int, int, int]
#: one definition as the index stores it: (id, name, description, tags, type, url, aliases)
Row = tuple[str, str, str, tuple[str, ...], str, Optional[str], tuple[str, ...]]
#: what importing a module gave: its rows, why it failed (or ""), whether that lasts while the file is unchanged
Imported = tuple[tuple[Row, ...], str, bool]


@dataclass(frozen=True, slots=True)
class ModuleIndex:
    """What the index knows of one module file: its definitions, or why it could not be imported."""

    repository: str
    module: str
    file: str
    rows: tuple[Row, ...] = ()
    #: why the module could not be imported ("line 3: SyntaxError: ..."), or ""
    broken: str = ""

    def entries(self) -> Iterator[Entry]:
        """The entries of the module's definitions, in their order."""
        for dataset_id, name, description, tags, type_name, url, aliases in self.rows:
            yield Entry(
                dataset_id, name, description, list(tags), type_name, url, self.module, self.file, self.repository,
                list(aliases),
            )


@dataclass(frozen=True, slots=True)
class Task:
    """A module to import for the index."""

    repository: str
    folder: str
    module: str
    file: str


def build(repos: list[Repository]) -> list[ModuleIndex]:
    """The index of every module file of ``repos``, imported again only where its file changed."""
    if os.environ.get(WORKER_VARIABLE):  # a module looks datasets up as it is imported: workers would nest forever
        raise DefinitionError("a definition module may not look datasets up while it is imported (for the index)")
    stamp = [INDEX_VERSION, __version__, list(sys.version_info[:2])]
    cached = cache.load("index", stamp)
    if not isinstance(cached, dict):
        cached = {}
    found: list[Optional[ModuleIndex]] = []
    todo: dict[int, tuple[Task, Stamp]] = {}
    kept: dict[str, Any] = {}
    for repo in repos:
        for item in repo.modules():
            key = f"{item.file}\0{item.module}"
            file_stamp = (item.info.st_size, item.info.st_mtime_ns, item.info.st_ctime_ns)
            known = cached.get(key)
            if isinstance(known, tuple) and len(known) == 3 and tuple(known[0]) == file_stamp:
                kept[key] = known
                found.append(ModuleIndex(repo.name, item.module, item.file, tuple(known[1]), known[2]))
            else:
                todo[len(found)] = (Task(repo.name, str(repo.folder), item.module, item.file), file_stamp)
                found.append(None)
    started = time.time_ns()
    for (number, (task, file_stamp)), (rows, broken, lasting) in zip(todo.items(), import_all([t for t, _ in todo.values()])):
        found[number] = ModuleIndex(task.repository, task.module, task.file, rows, broken)
        if (lasting or not broken) and trusted(file_stamp, started):
            kept[f"{task.file}\0{task.module}"] = (file_stamp, rows, broken)
    if kept != cached:
        cache.save("index", stamp, kept)
    return [record for record in found if record is not None]


def trusted(file_stamp: Stamp, started: int) -> bool:
    """Whether a file changed long enough before ``started`` for its next change to show in its stamp."""
    changed = max(file_stamp[1:])
    return changed < started - RACY_NS[bool(changed % 1_000_000_000)]


def import_all(tasks: list[Task]) -> list[Imported]:
    """What importing each module of ``tasks`` gave of ``tasks``, imported by one worker, or two when there are many."""
    if not tasks:
        return []
    workers = 2 if len(tasks) >= SHARED and (os.cpu_count() or 1) > 1 else 1
    half = (len(tasks) + 1) // 2 if workers == 2 else len(tasks)
    with ThreadPoolExecutor(workers) as pool:
        parts = list(pool.map(run_worker, [tasks[:half], tasks[half:]][:workers]))
    return [result for part in parts for result in part]


def run_worker(tasks: list[Task]) -> list[Imported]:
    """What importing each module of ``tasks`` gave, in worker processes: a module that ends its
    worker is recorded as broken (not lastingly), and a new worker takes the modules after it."""
    results: list[Imported] = []
    while len(results) < len(tasks):
        rest = tasks[len(results) :]
        request = json.dumps({"path": sys.path, "tasks": [[t.folder, t.module, t.file] for t in rest]})
        worker = subprocess.run(
            [sys.executable, "-c", "from datamaestro.index import main; main()"],
            input=request, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
            env={**os.environ, WORKER_VARIABLE: "1"},
        )
        lines = worker.stdout.split("\n")[:-1]  # whole lines only
        if lines[:1] != [READY]:  # the worker itself failed: no module can be indexed
            problem = f"could not be indexed (the indexing process ended with exit code {worker.returncode})"
            return results + [((), problem, False)] * len(rest)
        for line in lines[1 : len(rest) + 1]:
            rows, broken, lasting = json.loads(line)
            results.append((tuple((r[0], r[1], r[2], tuple(r[3]), r[4], r[5], tuple(r[6])) for r in rows), broken, lasting))
        if len(results) < len(tasks):
            results.append(((), f"ended the process importing it (exit code {worker.returncode})", False))
    return results


def import_module(task: Task) -> tuple[list[Row], str, bool]:
    """(rows, broken, lasting) of one module, imported in this process: ``lasting`` when the failure is
    the file's own (an import error may be mended elsewhere, by installing a package)."""
    try:
        module = load_module(Repository("", Path(task.folder)), task.module, Path(task.file))
    except DefinitionError as e:
        cause = e.__cause__ if e.__cause__ is not None else e
        return [], failure(cause, task.file), not isinstance(cause, ImportError)
    rows: list[Row] = [
        (
            d.id, str(d.name), str(d.description), tuple(str(t) for t in d.tags), d.type_name,
            None if d.url is None else str(d.url), tuple(d.aliases),
        )
        for d in module_definitions(module)
    ]
    return rows, "", True


def main() -> None:
    """The worker: import the modules named on stdin; print one JSON line (rows, broken) for each.

    What the modules print goes to stderr, which is not read.
    """
    request = json.loads(sys.stdin.read())
    sys.path[:] = request["path"]
    out = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    out.write(READY + "\n")
    out.flush()
    for folder, module, file in request["tasks"]:
        out.write(json.dumps(import_module(Task("", folder, module, file))) + "\n")
        out.flush()

