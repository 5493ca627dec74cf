"""The definitions of all repositories: their index, search, and modules loaded on demand.

A module that cannot be imported is reported once per command as a warning
naming its file and line, and its datasets are left out. When two modules
define the same id, the first one (in repository order) is used, with a note.

Names: ``Registry.entry`` is the one place a name a user typed becomes an id.
An id is itself; else an alias (``cifar10``, any case) names the definition
that declares it; an alias that several definitions declare is ambiguous and
refused with their ids, and an unknown name gets the closest ids and aliases.
"""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import NoReturn, Optional

from datamaestro import index, search
from datamaestro.definitions import DatasetDefinition
from datamaestro.download.hub import HubId, is_hub_id
from datamaestro.errors import DefinitionError, UnknownDatasetError, UsageError
from datamaestro.index import Entry, ModuleIndex
from datamaestro.log import log
from datamaestro.paths import printable
from datamaestro.repositories import Repository, load_module, module_definitions, repositories


class Registry:
    """The definitions of all repositories: a cached index, modules loaded on demand."""

    def __init__(self, repos: Optional[list[Repository]] = None):
        self.repos = repositories() if repos is None else repos
        self._modules: Optional[list[ModuleIndex]] = None
        self._entries: dict[str, Entry] = {}
        #: alias -> the ids declaring it
        self._aliases: dict[str, list[str]] = {}

    def modules(self) -> list[ModuleIndex]:
        """The index of every module file; its problems are reported the first time."""
        if self._modules is None:
            self._modules = index.build(self.repos)
            for record in self._modules:
                if record.broken:
                    log.warning("definition module %s %s; its datasets are skipped", printable(record.file), record.broken)
                for entry in record.entries():
                    first = self._entries.setdefault(entry.id, entry)
                    if first is not entry:
                        log.info(
                            "note: dataset id '%s' of %s is also defined by %s, which is used",
                            entry.id, printable(entry.file), printable(first.file),
                        )
                        continue
                    for alias in entry.aliases:
                        self._aliases.setdefault(alias, []).append(entry.id)
        return self._modules

    def entries(self) -> list[Entry]:
        """Every known definition (the first repository wins on duplicate ids)."""
        self.modules()
        return list(self._entries.values())

    def ids(self) -> list[str]:
        """Every known id, in index order."""
        self.modules()
        return list(self._entries)

    def aliases(self) -> dict[str, list[str]]:
        """Every declared alias and the ids declaring it (more than one: the alias is ambiguous)."""
        self.modules()
        return {alias: list(ids) for alias, ids in self._aliases.items()}

    def resolve(self, name: str) -> str:
        """The id that ``name`` (an id, an alias, or a Hub id: its folder id) names; unknown or
        ambiguous names raise."""
        if is_hub_id(name):
            return HubId.parse(name).folder_id
        return self.entry(name).id

    def search(self, terms: list[str]) -> list[Entry]:
        """Entries matching all ``terms`` (see ``datamaestro.search``), sorted by id."""
        return search.search(self.entries(), terms)

    def entry(self, dataset_id: str) -> Entry:
        """The index entry of ``dataset_id`` (an id or an alias); unknown names raise with suggestions,
        ambiguous aliases with the ids they name."""
        self.modules()
        found = self._entries.get(dataset_id)
        if found is not None:
            return found
        named = self._aliases.get(dataset_id.lower(), [])
        if len(named) > 1:
            raise UsageError(
                f"'{printable(dataset_id)}' is ambiguous: it is an alias of {', '.join(sorted(named))}; use one of these ids"
            )
        if not named:
            self._raise_unknown(dataset_id)
        return self._entries[named[0]]

    def _raise_unknown(self, dataset_id: str) -> NoReturn:
        for record in self.modules():
            if record.broken and (dataset_id == record.module or dataset_id.startswith(record.module + ".")):
                raise DefinitionError(
                    f"definition module {printable(record.file)} {record.broken}; "
                    f"'{printable(dataset_id)}' cannot be loaded"
                )
        same = {alias: ids[0] for alias, ids in self._aliases.items() if len(ids) == 1}
        raise UnknownDatasetError(printable(dataset_id), closest_ids(dataset_id, self.ids() + sorted(self._aliases), same))

    def definition(self, dataset_id: str) -> DatasetDefinition:
        """The loaded definition of ``dataset_id`` (an id or an alias; ``hf:ORG/NAME...``: a Hugging
        Face Hub dataset)."""
        if dataset_id.startswith("hf:"):
            # (its readers import numpy: imported only for Hub ids, as download/prepare.py imports fetching)
            from datamaestro.hub import HubDefinition

            return HubDefinition(dataset_id)
        entry = self.entry(dataset_id)
        repo = next(r for r in self.repos if r.name == entry.repository)
        for definition in module_definitions(load_module(repo, entry.module, Path(entry.file))):
            if definition.id == entry.id:
                return definition
        raise DefinitionError(f"{entry.file} no longer defines '{entry.id}'")


def closest_ids(wanted: str, ids: list[str], same: Optional[dict[str, str]] = None, n: int = 3) -> list[str]:
    """The ids (or aliases) most like ``wanted``: close spellings first, then ids containing it;
    one name per dataset (``same`` maps an alias to the id it names)."""
    same = same or {}
    close = difflib.get_close_matches(wanted.lower(), ids, n=len(ids), cutoff=0.6)
    last = wanted.rsplit(".", 1)[-1].lower()
    close += [i for i in ids if last and last in i.lower() and i not in close]
    chosen: dict[str, str] = {}
    for name in close:
        chosen.setdefault(same.get(name, name), name)
    return list(chosen.values())[:n]
