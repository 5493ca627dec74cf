"""Where definitions come from, and an index of them that search reads without importing.

Repositories: the built-in ``datasets_registry`` package, packages named by
the ``datamaestro.repositories`` entry points, and the folders listed in
``DATAMAESTRO_PATH``. A repository is a folder; the module path of a file in
it (``com/lecun.py`` -> ``com.lecun``) prefixes the ids it defines.

The index holds each definition's id, name, description, tags, type and url.
It is read from the modules' source (``ast``) without running them, falling
back to importing a module whose definitions are not plain decorators, and
cached per file (by size and modification time) in the user cache folder.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any, Optional

from datamaestro import cache
from datamaestro.errors import DefinitionError, UnknownDatasetError

if TYPE_CHECKING:
    from datamaestro.definitions import DatasetDefinition

INDEX_VERSION = 1
ENTRY_POINT_GROUP = "datamaestro.repositories"


@dataclass(frozen=True)
class Repository:
    """A folder of definition modules."""

    name: str
    folder: Path

    def modules(self) -> Iterator[tuple[str, Path]]:
        """(module path, file) of every definition module, in a stable order."""
        for path in sorted(self.folder.rglob("*.py")):
            relative = path.relative_to(self.folder).with_suffix("")
            if any(part.startswith(("_", ".")) for part in relative.parts):
                continue
            yield ".".join(relative.parts), path


@dataclass
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

    @property
    def title(self) -> str:
        """The first line of the description, or the name."""
        first = self.description.strip().splitlines()[0] if self.description.strip() else ""
        return first or self.name


def repositories() -> list[Repository]:
    """All repositories, built-in first, then plugins, then ``DATAMAESTRO_PATH``."""
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

    Scanning installed packages is slow, so the answer is cached until a
    folder of ``sys.path`` changes (as installing or removing a package does).
    """
    stamp = [[p, os.stat(p).st_mtime_ns] for p in sys.path if p and os.path.isdir(p)]
    found = cache.load("plugins", stamp)
    if found is not None:
        return found
    from importlib.metadata import entry_points

    found = []
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        plugin = importlib.util.find_spec(ep.value)
        if plugin and plugin.submodule_search_locations:
            found.append([ep.name, str(list(plugin.submodule_search_locations)[0])])
    cache.save("plugins", stamp, found)
    return found


class Registry:
    """The definitions of all repositories: a cheap index, modules loaded on demand."""

    def __init__(self, repos: Optional[list[Repository]] = None):
        self.repos = repositories() if repos is None else repos
        self._entries: Optional[list[Entry]] = None

    def entries(self) -> list[Entry]:
        """Every known definition (first repository wins on duplicate ids)."""
        if self._entries is None:
            self._entries = _Index(self.repos).entries()
        return self._entries

    def ids(self) -> list[str]:
        return [e.id for e in self.entries()]

    def entry(self, dataset_id: str) -> Entry:
        """The index entry of ``dataset_id``; unknown ids raise with suggestions."""
        for e in self.entries():
            if e.id == dataset_id:
                return e
        raise UnknownDatasetError(dataset_id, closest_ids(dataset_id, self.ids()))

    def definition(self, dataset_id: str) -> DatasetDefinition:
        """The loaded definition of ``dataset_id``."""
        entry = self.entry(dataset_id)
        repo = next(r for r in self.repos if r.name == entry.repository)
        module = load_module(repo, entry.module, Path(entry.file))
        for definition in module_definitions(module):
            if definition.id == dataset_id:
                return definition
        raise DefinitionError(f"{entry.file} no longer defines '{dataset_id}'")


def closest_ids(wanted: str, ids: list[str], n: int = 3) -> list[str]:
    """The ids most like ``wanted``: close spellings first, then ids containing it."""
    import difflib

    close = difflib.get_close_matches(wanted, ids, n=n, cutoff=0.6)
    last = wanted.rsplit(".", 1)[-1].lower()
    close += [i for i in ids if last and last in i.lower() and i not in close]
    return close[:n]


def load_module(repo: Repository, module_path: str, file: Path) -> ModuleType:
    """Run a definition module (once) and return it."""
    from datamaestro.definitions import PREFIX_ATTRIBUTE

    key = hashlib.sha1(str(repo.folder).encode()).hexdigest()[:10]
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
    except DefinitionError:
        del sys.modules[name]
        raise
    except Exception as e:
        del sys.modules[name]
        raise DefinitionError(f"definition module {file} failed to load: {type(e).__name__}: {e}") from e
    return module


def module_definitions(module: ModuleType) -> list[DatasetDefinition]:
    from datamaestro.definitions import DatasetDefinition

    return [v for v in vars(module).values() if isinstance(v, DatasetDefinition)]


class _Index:
    """Static entries of every module, cached per file (size, modification time)."""

    def __init__(self, repos: list[Repository]):
        self.repos = repos

    def entries(self) -> list[Entry]:
        cached = cache.load("index", INDEX_VERSION) or {}
        fresh: dict[str, Any] = {}
        seen: set[str] = set()
        result: list[Entry] = []
        for repo in self.repos:
            for module_path, file in repo.modules():
                stat = file.stat()
                key = f"{repo.folder}::{module_path}"
                stamp = [stat.st_size, stat.st_mtime_ns]
                known = cached.get(key)
                if known and known["stamp"] == stamp:
                    raw = known["entries"]
                else:
                    raw = _scan(repo, module_path, file)
                fresh[key] = {"stamp": stamp, "entries": raw}
                for item in raw:
                    if item["id"] not in seen:
                        seen.add(item["id"])
                        result.append(Entry(**item))
        if fresh != cached:
            cache.save("index", INDEX_VERSION, fresh)
        return result


def _scan(repo: Repository, module_path: str, file: Path) -> list[dict[str, Any]]:
    """Entry fields of one module, from its source when possible, else by running it."""
    common = {"module": module_path, "file": str(file), "repository": repo.name}
    try:
        from datamaestro.sourcescan import static_entries

        entries = static_entries(file.read_text(encoding="utf-8"), module_path)
    except SyntaxError as e:
        raise DefinitionError(f"definition module {file} line {e.lineno}: {e.msg}") from None
    if entries is None:
        module = load_module(repo, module_path, file)
        entries = [
            {
                "id": d.id,
                "name": d.name,
                "description": d.description,
                "tags": d.tags,
                "type": d.type_name,
                "url": d.url,
            }
            for d in module_definitions(module)
        ]
    return [{**e, **common} for e in entries]
