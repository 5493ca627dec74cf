"""Where definitions come from, and an index of them that search reads without importing.

Repositories: the built-in ``datasets_registry`` package, packages named by
the ``datamaestro.repositories`` entry points, and the folders listed in
``DATAMAESTRO_PATH``. A repository is a folder; the module path of a file in
it (``com/lecun.py`` -> ``com.lecun``) prefixes the ids it defines.

The index holds each definition's id, name, description, tags, type and url.
It is read from the modules' source without running them (``sourcescan``),
falling back to running a module whose definitions are not plain decorators.
It is cached in one file of the user cache folder, one record per module
file, and a record is rebuilt only when its file changes (size, modification
or change time, inode). A cold index of many files is built by two processes.

A module that cannot be read or run is reported once per command as a warning
naming its file and line, and its datasets are left out; so is an id that is
not well-formed. When two modules define the same id, the first one (in
repository order) is used, with a note.
"""

from __future__ import annotations

import marshal
import os
import sys
from collections import namedtuple
from pathlib import Path
from typing import TYPE_CHECKING

from datamaestro import cache
from datamaestro.errors import DefinitionError, UnknownDatasetError
from datamaestro.paths import ID_RE, MAX_ID, id_problem, is_valid_id, printable
from datamaestro.record import Record

if TYPE_CHECKING:
    import re
    from collections.abc import Iterator
    from types import ModuleType
    from typing import Any, NoReturn, Optional

    from datamaestro.definitions import DatasetDefinition

INDEX_VERSION = 7
ENTRY_POINT_GROUP = "datamaestro.repositories"
#: a module file changed less than this before it was scanned is scanned again next time
#: (a second change within the file system's timestamp granularity would go unseen): for
#: file systems with whole-second times, and for the others (times of a clock tick)
RACY_NS = (2_000_000_000, 50_000_000)
#: below this many files to scan, one process does it all
PARALLEL_FILES = 64


class Entry(Record, kw_only=False):
    """What the index knows of one definition."""

    id: str
    name: str
    description: str = ""
    tags: list[str] = []  # noqa: RUF012 - copied for each object (datamaestro.record)
    type: str = ""
    url: Optional[str] = None
    module: str = ""
    file: str = ""
    repository: str = ""

    @property
    def title(self) -> str:
        """The first line of the description, or the name."""
        text = self.description.strip()
        return text.splitlines()[0] if text else self.name


class Repository(Record, kw_only=False, frozen=True):
    """A folder of definition modules."""

    name: str
    folder: Path

    def modules(self) -> Iterator[tuple[str, str, os.stat_result]]:
        """(module path, file, stat) of every definition module, in a stable order.

        Files and folders whose name starts with ``_`` or ``.`` are not modules.
        """
        seen: set[tuple[int, int]] = set()

        def walk(folder: str, prefix: str) -> Iterator[tuple[str, str, os.stat_result]]:
            try:
                with os.scandir(folder) as it:
                    entries = sorted(it, key=lambda e: e.name)
            except OSError:
                return
            for entry in entries:
                name = entry.name
                if name[0] in "_.":
                    continue
                try:
                    if entry.is_dir():
                        info = entry.stat()
                        if (info.st_dev, info.st_ino) not in seen:  # a symlink loop is walked once
                            seen.add((info.st_dev, info.st_ino))
                            yield from walk(entry.path, f"{prefix}{name}.")
                    elif name.endswith(".py") and entry.is_file():
                        yield f"{prefix}{name[:-3]}", entry.path, entry.stat()
                except OSError:
                    continue

        try:
            root = os.stat(self.folder)
        except OSError:
            return
        seen.add((root.st_dev, root.st_ino))
        yield from walk(str(self.folder), "")


def repositories() -> list[Repository]:
    """All repositories, built-in first, then plugins, then ``DATAMAESTRO_PATH``."""
    import importlib.util

    repos = []
    spec = importlib.util.find_spec("datasets_registry")
    if spec and spec.submodule_search_locations:
        repos.append(Repository("builtin", Path(list(spec.submodule_search_locations)[0])))
    repos.extend(Repository(name, Path(folder)) for name, folder in _plugins())
    for item in os.environ.get("DATAMAESTRO_PATH", "").split(os.pathsep):
        if item:
            repos.append(Repository(item, Path(item).expanduser().absolute()))
    return repos


def _plugins() -> list[list[str]]:
    """(name, folder) of the installed plugin repositories.

    Scanning installed packages (``importlib.metadata``) takes tens of
    milliseconds, so it is done only when some package may declare the entry
    point, and its answer is cached (one cache per ``sys.path``) until a folder
    of ``sys.path`` changes, as installing or removing a package does.
    """
    import importlib.util
    import zlib

    stamp = [[p, os.stat(p).st_mtime_ns] for p in sys.path if p and os.path.isdir(p)]
    name = f"plugins-{zlib.crc32(chr(0).join(sys.path).encode()):08x}"
    found = cache.load(name, stamp)
    if isinstance(found, list) and all(isinstance(f, list) and len(f) == 2 for f in found):
        return found
    found = []
    if _may_declare_plugins():
        from importlib.metadata import entry_points

        for ep in entry_points(group=ENTRY_POINT_GROUP):
            plugin = importlib.util.find_spec(ep.value)
            if plugin and plugin.submodule_search_locations:
                found.append([ep.name, str(list(plugin.submodule_search_locations)[0])])
    cache.save(name, stamp, found)
    return found


def _may_declare_plugins() -> bool:
    """Whether an installed distribution may declare a ``datamaestro.repositories`` entry
    point: one of their ``entry_points.txt`` files names the group (a millisecond, where
    importing ``importlib.metadata`` takes ten). Anything unusual (a zip file on
    ``sys.path``, a finder of distributions other than the path finder) counts as yes."""
    import importlib.machinery

    if any(
        hasattr(finder, "find_distributions") and finder is not importlib.machinery.PathFinder
        for finder in sys.meta_path
    ):
        return True
    group = ENTRY_POINT_GROUP.encode()
    for entry in sys.path:
        folder = entry or "."
        if os.path.isfile(folder):
            return True
        try:
            names = os.listdir(folder)
        except OSError:
            continue
        for name in names:
            if name.endswith((".dist-info", ".egg-info")):
                try:
                    with open(os.path.join(folder, name, "entry_points.txt"), "rb") as f:
                        if group in f.read():
                            return True
                except OSError:
                    continue
    return False


#: separates the rows in ``_Record.text`` (replaced by NUL in their text)
_ROWS = "\x01"


#: The index's knowledge of one module file (stored as a plain tuple; a named tuple, as reading
#: a thousand of them must cost nothing):
#: - stamp: (size, modification time, change time, inode); None when it must not be reused
#: - ids: ids of the well-formed definitions, in order
#: - text: the text fields of each definition, lowercased, NUL-separated, definitions separated
#:   by ``_ROWS``: what search looks in first
#: - rows: the rows (``sourcescan.Row``), marshalled: decoded only when needed
#: - bad_ids: ids that are not well-formed, skipped
#: - broken: why the module could not be read or run ("line 3: SyntaxError: ..."), or ""
_Record = namedtuple("_Record", ["stamp", "ids", "text", "rows", "bad_ids", "broken"])


class Registry:
    """The definitions of all repositories: a cheap index, modules loaded on demand."""

    def __init__(self, repos: Optional[list[Repository]] = None):
        self.repos = repositories() if repos is None else repos
        self._files: Optional[list[tuple[Repository, str, str, _Record]]] = None
        self._where: dict[str, tuple[int, int]] = {}

    # --- the index ------------------------------------------------------------

    def _index(self) -> list[tuple[Repository, str, str, _Record]]:
        """(repository, module path, file, record) of every module; reports problems once."""
        if self._files is None:
            self._files = _build_index(self.repos)
            self._where = {}
            for number, (_repo, _module, file, record) in enumerate(self._files):
                if record.broken:
                    _warn(f"definition module {printable(file)} {record.broken}; its datasets are skipped")
                for bad in record.bad_ids:
                    _warn(f"definition module {printable(file)}: {id_problem(bad)}; skipped")
                for row, dataset_id in enumerate(record.ids):
                    first = self._where.get(dataset_id)
                    if first is None:
                        self._where[dataset_id] = (number, row)
                    else:
                        _note(
                            f"note: dataset id '{dataset_id}' of {printable(file)} is also defined by "
                            f"{printable(self._files[first[0]][2])}, which is used"
                        )
        return self._files

    def _entries_of(self, number: int) -> list[Entry]:
        """The entries of the ``number``-th module."""
        return [self._entry(number, row) for row in marshal.loads(self._index()[number][3].rows)]

    def _entry(self, number: int, row: tuple[Any, ...], raw: bool = False) -> Entry:
        """The entry of a row of the ``number``-th module; with ``raw``, its description may be
        the raw docstring (tabs expanded), which has the same words as the cleaned one."""
        repo, module, file, _record = self._index()[number]
        dataset_id, name, description, tags, type_name, url, doc = row
        if not description and doc:
            description = (doc.expandtabs() if "\t" in doc else doc) if raw else cleandoc(doc)
        if isinstance(tags, str):
            tags = list_tags(tags)
        return Entry(dataset_id, name, description, list(tags), type_name, url, module, file, repo.name)

    def entries(self) -> list[Entry]:
        """Every known definition (first repository wins on duplicate ids)."""
        found = []
        for number in range(len(self._index())):
            found += [
                entry
                for row, entry in enumerate(self._entries_of(number))
                if self._where.get(entry.id) == (number, row)
            ]
        return found

    def ids(self) -> list[str]:
        """Every known id, in index order."""
        self._index()
        return list(self._where)

    def search(self, terms: list[str]) -> list[Entry]:
        """Entries matching all ``terms`` (see ``datamaestro.search``), sorted by id."""
        from datamaestro.search import Query

        query = Query(terms)
        found = []
        for number, (_repo, _module, _file, record) in enumerate(self._index()):
            if not query.may_match(record.text):
                continue
            texts = record.text.split(_ROWS)
            rows = marshal.loads(record.rows)
            for position, row in enumerate(rows):
                if not query.may_match(texts[position]) or self._where.get(row[0]) != (number, position):
                    continue
                # Raw docstrings hold the words of the cleaned ones: clean only what is shown.
                if query.matches(self._entry(number, row, raw=query.words_only)):
                    found.append(self._entry(number, row))
        return sorted(found, key=lambda e: e.id)

    def entry(self, dataset_id: str) -> Entry:
        """The index entry of ``dataset_id``; unknown ids raise with suggestions."""
        self._index()
        where = self._where.get(dataset_id)
        if where is None:
            self._raise_unknown(dataset_id)
        number, row = where
        return self._entry(number, marshal.loads(self._index()[number][3].rows)[row])

    def _raise_unknown(self, dataset_id: str) -> NoReturn:
        for _repo, module, file, record in self._index():
            if record.broken and (dataset_id == module or dataset_id.startswith(module + ".")):
                raise DefinitionError(
                    f"definition module {printable(file)} {record.broken}; "
                    f"'{printable(dataset_id)}' cannot be loaded"
                )
        raise UnknownDatasetError(printable(dataset_id), closest_ids(dataset_id, self.ids()))

    def definition(self, dataset_id: str) -> DatasetDefinition:
        """The loaded definition of ``dataset_id``."""
        entry = self.entry(dataset_id)
        repo = next(r for r in self.repos if r.name == entry.repository)
        module = load_module(repo, entry.module, Path(entry.file))
        for definition in module_definitions(module):
            if definition.id == dataset_id:
                return definition
        raise DefinitionError(f"{entry.file} no longer defines '{dataset_id}'")


def cleandoc(doc: str) -> str:
    """``inspect.cleandoc(doc)``, what ``inspect.getdoc`` gives: without importing ``inspect``."""
    lines = doc.expandtabs().split("\n")
    margin = min((len(line) - len(line.lstrip()) for line in lines[1:] if line.lstrip()), default=0)
    lines = [lines[0].lstrip()] + [line[margin:] for line in lines[1:]]
    while lines and not lines[-1]:
        lines.pop()
    while lines and not lines[0]:
        lines.pop(0)
    return "\n".join(lines)


def list_tags(literal: str) -> tuple[str, ...]:
    """The tags of a list literal of plain strings (no escapes), as the scan leaves them."""
    import re

    return tuple(a or b for a, b in re.findall(r""""([^"\\\n]*)"|'([^'\\\n]*)'""", literal))


def _warn(message: str) -> None:
    import logging

    logging.getLogger("datamaestro").warning("%s", message)


def _note(message: str) -> None:
    import logging

    logging.getLogger("datamaestro").info("%s", message)


def closest_ids(wanted: str, ids: list[str], n: int = 3) -> list[str]:
    """The ids most like ``wanted``: close spellings first, then ids containing it."""
    import difflib

    close = difflib.get_close_matches(wanted, ids, n=n, cutoff=0.6)
    last = wanted.rsplit(".", 1)[-1].lower()
    close += [i for i in ids if last and last in i.lower() and i not in close]
    return close[:n]


# --- running definition modules ---------------------------------------------------


def load_module(repo: Repository, module_path: str, file: Path) -> ModuleType:
    """Run a definition module (once) and return it.

    A module that fails (syntax error, import error, any exception) raises a
    DefinitionError naming its file and line.
    """
    import importlib.util
    import zlib

    from datamaestro.definitions import PREFIX_ATTRIBUTE

    key = f"{zlib.crc32(str(repo.folder).encode()):08x}"
    name = f"datamaestro_definitions_{key}.{module_path}"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, file)
    if spec is None or spec.loader is None:
        raise DefinitionError(f"cannot load definition module {file}")
    module = importlib.util.module_from_spec(spec)
    setattr(module, PREFIX_ATTRIBUTE, module_path)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as e:
        del sys.modules[name]
        raise DefinitionError(f"definition module {printable(str(file))} {failure(e, file)}") from e
    return module


def failure(error: BaseException, file: Path | str) -> str:
    """``line N: Type: message`` for an error raised while reading or running ``file``."""
    line = None
    if isinstance(error, SyntaxError) and error.filename in (str(file), None):
        line, message = error.lineno, error.msg
    else:
        message = str(error)
        traceback = error.__traceback__
        while traceback is not None:  # the deepest frame running the module's own code
            if traceback.tb_frame.f_code.co_filename == str(file):
                line = traceback.tb_lineno
            traceback = traceback.tb_next
    where = f"line {line}: " if line else ""
    return printable(f"{where}{type(error).__name__}" + (f": {message}" if message else ""))


def module_definitions(module: ModuleType) -> list[DatasetDefinition]:
    from datamaestro.definitions import DatasetDefinition

    return [v for v in vars(module).values() if isinstance(v, DatasetDefinition)]


# --- building the index ------------------------------------------------------------


def _build_index(repos: list[Repository]) -> list[tuple[Repository, str, str, _Record]]:
    """The record of every module file, from the cache where its file is unchanged."""
    import time

    stamp = [INDEX_VERSION, list(sys.version_info[:2])]
    cached = cache.load("index", stamp)
    if not isinstance(cached, dict):
        cached = {}
    files: list[tuple[Repository, str, str, _Record]] = []
    todo: list[tuple[int, str, str, int]] = []
    stamps: dict[int, tuple[int, int, int, int]] = {}
    fresh: dict[str, Any] = {}
    for repo in repos:
        for module, file, info in repo.modules():
            file_stamp = (info.st_size, info.st_mtime_ns, info.st_ctime_ns, info.st_ino)
            known = cached.get(f"{file}\0{module}")
            if isinstance(known, tuple) and len(known) == len(_Record._fields) and known[0] == file_stamp:
                fresh[f"{file}\0{module}"] = known
                files.append((repo, module, file, _Record(*known)))
            else:
                stamps[len(files)] = file_stamp
                todo.append((len(files), module, file, info.st_size))
                files.append((repo, module, file, _BROKEN))
    if todo:
        now = time.time_ns()
        for (number, module, file, _size), scanned in zip(todo, _scan_all(todo)):
            repo = files[number][0]
            if scanned is None:  # not plain decorators: run the module
                record, reuse = _run(repo, module, file)
            else:
                record, reuse = _Record(*scanned[0]), scanned[1]
            # Reused while the file is unchanged, unless it changed too recently to trust its
            # modification time (a second change within the clock's granularity goes unseen).
            changed = max(stamps[number][1:3])
            if reuse and changed < now - RACY_NS[bool(changed % 1_000_000_000)]:
                record = record._replace(stamp=stamps[number])
            files[number] = (repo, module, file, record)
            fresh[f"{file}\0{module}"] = tuple(record)
    if fresh != cached:
        cache.save("index", stamp, fresh)
    return files


def _scan_all(todo: list[tuple[int, str, str, int]]) -> list[Optional[tuple[tuple[Any, ...], bool]]]:
    """``_scan`` of every file, by two processes when there are many files and two CPUs."""
    if len(todo) < PARALLEL_FILES or not _can_fork():
        return [_scan(module, file, size) for _n, module, file, size in todo]
    import gc

    import datamaestro.sourcescan  # noqa: F401 - imported once, before the fork

    total, half, split = sum(item[3] for item in todo), 0, 0
    while split < len(todo) and half < total / 2:  # the child takes the second half, by size
        half += todo[split][3]
        split += 1
    theirs = todo[split:]
    read, write = os.pipe()
    # The collector would write to every object of both processes (copy-on-write page faults
    # of the whole heap, a third of the time), while a scan makes no reference cycles.
    collecting = gc.isenabled()
    freezing = gc.get_freeze_count() == 0  # (else the program froze its heap itself: left as it is)
    gc.disable()
    if freezing:
        gc.freeze()
    try:
        pid = os.fork()
        if pid == 0:
            try:
                os.close(read)
                with os.fdopen(write, "wb") as out:
                    out.write(marshal.dumps([_scan(module, file, size) for _n, module, file, size in theirs]))
            finally:
                os._exit(0)
        os.close(write)
        mine = [_scan(module, file, size) for _n, module, file, size in todo[:split]]
        with os.fdopen(read, "rb") as pipe:
            data = pipe.read()
        _, status = os.waitpid(pid, 0)
    finally:
        if freezing:
            gc.unfreeze()
        if collecting:
            gc.enable()
    try:
        received = marshal.loads(data) if status == 0 else None
    except (ValueError, EOFError, TypeError):
        received = None
    if not isinstance(received, list) or len(received) != len(theirs):  # the child failed
        received = [_scan(module, file, size) for _n, module, file, size in theirs]
    return mine + received


def _can_fork() -> bool:
    """Whether scanning in a forked child is safe and useful here."""
    if sys.platform != "linux":
        return False
    threading = sys.modules.get("threading")
    if threading is not None and threading.active_count() > 1:
        return False  # forking a threaded process may deadlock the child
    return len(os.sched_getaffinity(0)) > 1


def _scan(module: str, file: str, size: int) -> Optional[tuple[tuple[Any, ...], bool]]:
    """The record (a plain tuple) of a module read from its source, and whether it may be
    reused while the file is unchanged; None if the module must run."""
    from datamaestro.sourcescan import static_rows

    try:
        source = _read_source(file, size)
    except OSError as e:  # maybe transient: not reused
        return tuple(_BROKEN._replace(broken=printable(f"cannot be read: {e.strerror or e}"))), False
    except UnicodeDecodeError as e:
        line = e.object[: e.start].count(b"\n") + 1
        return tuple(_BROKEN._replace(broken=printable(f"line {line}: UnicodeDecodeError: {e.reason}"))), True
    except SyntaxError as e:  # a bad coding line
        return tuple(_BROKEN._replace(broken=failure(e, file))), True
    try:
        rows = static_rows(source, module, file)
    except (SyntaxError, ValueError, RecursionError, MemoryError) as e:
        return tuple(_BROKEN._replace(broken=failure(e, file))), True
    return None if rows is None else (tuple(_rows_record(rows)), True)


#: the record of a module whose datasets are skipped (``broken`` says why)
_BROKEN = _Record(None, (), "", marshal.dumps([]), (), "")


def _read_source(file: str, size: int = 0) -> str:
    """The text of a Python source file (of about ``size`` bytes), decoded as Python does
    (UTF-8 or its coding line)."""
    fd = os.open(file, os.O_RDONLY)  # os.read: a third of the cost of open().read()
    try:
        data = chunk = os.read(fd, size + 1)
        while chunk:
            chunk = os.read(fd, 1 << 16)
            data += chunk
    finally:
        os.close(fd)
    head = data[: data.find(b"\n", data.find(b"\n") + 1) + 1 or len(data)]
    if b"coding" in head or data.startswith(b"\xef\xbb\xbf"):
        import importlib.util

        return importlib.util.decode_source(data)
    text = data.decode("utf-8")
    return text.replace("\r\n", "\n").replace("\r", "\n") if "\r" in text else text


def _run(repo: Repository, module: str, file: str) -> tuple[_Record, bool]:
    """The record of a module that must run to tell its definitions, and whether it may be
    reused while the file is unchanged (not when it failed: the cause may be elsewhere)."""
    try:
        module_object = load_module(repo, module, Path(file))
    except DefinitionError as e:
        cause = e.__cause__ if e.__cause__ is not None else e
        return _BROKEN._replace(broken=failure(cause, file)), False
    rows = [
        (
            d.id,
            str(d.name),
            str(d.description),
            tuple(str(t) for t in d.tags),
            d.type_name,
            None if d.url is None else str(d.url),
            None,
        )
        for d in module_definitions(module_object)
    ]
    return _rows_record(rows), True


def _rows_record(rows: list[Any]) -> _Record:
    """The record of a module defining ``rows`` (``sourcescan.RawRow``)."""

    ids = [row[0] for row in rows]
    bad: tuple[str, ...] = ()
    if not _valid_ids(ids):
        bad = tuple(i for i in ids if not is_valid_id(i))
        rows = [row for row in rows if is_valid_id(row[0])]
    texts = []
    for dataset_id, name, description, tags, type_name, url, doc in rows:
        # A raw docstring holds the words of the cleaned one (see Query.may_match)
        text = description or (doc.expandtabs() if doc and "\t" in doc else doc or "")
        # (tags may be a list literal: its text holds the tags' words too)
        fields = (dataset_id, name, text, *([tags] if isinstance(tags, str) else tags), type_name, url or "")
        texts.append("\0".join(fields).replace(_ROWS, "\0"))
    return _Record(None, tuple(row[0] for row in rows), _ROWS.join(texts).lower(), marshal.dumps(rows), bad, "")


def _valid_ids(ids: list[str]) -> bool:
    """Whether all ``ids`` are well-formed (``paths.is_valid_id``), checked at once."""
    global _ID_LINES
    if not ids:
        return True
    if not all(isinstance(i, str) for i in ids) or max(map(len, ids)) > MAX_ID:
        return False
    if _ID_LINES is None:
        import re

        _ID_LINES = re.compile(rf"(?:{ID_RE.pattern})(?:\n(?:{ID_RE.pattern}))*")
    return _ID_LINES.fullmatch("\n".join(ids)) is not None


_ID_LINES: Optional[re.Pattern[str]] = None
