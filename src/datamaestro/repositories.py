"""Where definitions come from, and running a module of them.

Repositories: the built-in ``datasets_registry`` package, packages named by
the ``datamaestro.repositories`` entry points, and the folders listed in
``DATAMAESTRO_PATH``. A repository is a folder; the module path of a file in
it (``com/lecun.py`` -> ``com.lecun``) prefixes the ids it defines. Files and
folders whose name starts with ``_`` or ``.`` are not definition modules.
"""

from __future__ import annotations

import importlib.util
import os
import sys
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

from datamaestro import cache
from datamaestro.definitions import PREFIX_ATTRIBUTE, DatasetDefinition
from datamaestro.errors import DefinitionError
from datamaestro.paths import printable

ENTRY_POINT_GROUP = "datamaestro.repositories"


@dataclass(frozen=True, slots=True)
class ModuleFile:
    """One definition module of a repository: its module path, file and what ``os.stat`` says of it."""

    module: str
    file: str
    info: os.stat_result


@dataclass(frozen=True, slots=True)
class Repository:
    """A folder of definition modules."""

    name: str
    folder: Path

    def modules(self) -> Iterator[ModuleFile]:
        """Every definition module, in a stable order (a symbolic link loop is walked once)."""
        try:
            root = os.stat(self.folder)
        except OSError:
            return
        yield from _walk(str(self.folder), "", {(root.st_dev, root.st_ino)})


def _walk(folder: str, prefix: str, seen: set[tuple[int, int]]) -> Iterator[ModuleFile]:
    try:
        with os.scandir(folder) as it:
            entries = sorted(it, key=lambda e: e.name)
    except OSError:
        return
    for entry in entries:
        if entry.name[0] in "_.":
            continue
        try:
            if entry.is_dir():
                info = entry.stat()
                if (info.st_dev, info.st_ino) not in seen:
                    seen.add((info.st_dev, info.st_ino))
                    yield from _walk(entry.path, f"{prefix}{entry.name}.", seen)
            elif entry.name.endswith(".py") and entry.is_file():
                yield ModuleFile(f"{prefix}{entry.name[:-3]}", entry.path, entry.stat())
        except OSError:
            continue


def repositories() -> list[Repository]:
    """All repositories, built-in first, then plugins, then ``DATAMAESTRO_PATH``."""
    repos = []
    spec = importlib.util.find_spec("datasets_registry")
    if spec and spec.submodule_search_locations:
        repos.append(Repository("builtin", Path(list(spec.submodule_search_locations)[0])))
    repos.extend(Repository(name, Path(folder)) for name, folder in plugins())
    for item in os.environ.get("DATAMAESTRO_PATH", "").split(os.pathsep):
        if item:
            repos.append(Repository(item, Path(item).expanduser().absolute()))
    return repos


def plugins() -> list[list[str]]:
    """(name, folder) of the installed plugin repositories, cached while no folder of ``sys.path`` changes
    (as installing or removing a package does)."""
    stamp = [[p, os.stat(p).st_mtime_ns] for p in sys.path if p and os.path.isdir(p)]
    name = f"plugins-{zlib.crc32(chr(0).join(sys.path).encode()):08x}"
    found = cache.load(name, stamp)
    if isinstance(found, list) and all(isinstance(f, list) and len(f) == 2 for f in found):
        return found
    from importlib.metadata import entry_points  # (a sixth of a warm search: only when the cache is stale)

    found = []
    for point in entry_points(group=ENTRY_POINT_GROUP):
        plugin = importlib.util.find_spec(point.value)
        if plugin and plugin.submodule_search_locations:
            found.append([point.name, str(list(plugin.submodule_search_locations)[0])])
    cache.save(name, stamp, found)
    return found


def load_module(repo: Repository, module_path: str, file: Path) -> ModuleType:
    """Run a definition module (once per process) and return it.

    A module that fails (syntax error, import error, any exception) raises a
    DefinitionError naming its file and line.
    """
    name = f"datamaestro_definitions_{zlib.crc32(str(repo.folder).encode()):08x}.{module_path}"
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
    """The datasets a module defines (not those it imports), in the order of its names."""
    found = {
        id(value): value
        for value in vars(module).values()
        if isinstance(value, DatasetDefinition) and value.function.__module__ == module.__name__
    }
    return list(found.values())
