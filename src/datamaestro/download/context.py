"""What one preparation works with: the configuration, the request, the data folder, the team store.

The configuration (``datamaestro.config.Settings``) is what is set once, in
the config file, the environment and the command line; the ``Request`` is
what one call asks for (``prepare --force``, ``--from DIR``, ``pull``...).
Both are immutable: one ``PrepareContext`` is built per preparation and
passed down, and nothing below reads a global or changes either. (The team
store is opened by ``datamaestro.download.install`` once something must be
fetched.)
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from datamaestro.config import Settings
from datamaestro.storage import DataFolder


@dataclass(frozen=True, slots=True)
class Request:
    """What one call asks for, apart from the configuration."""

    #: no progress bars
    quiet: bool = False
    #: fetch again even the files that are already prepared (``prepare --force``)
    force: bool = False
    #: hash every prepared byte and fetch again only what fails (``--repair``)
    repair: bool = False
    #: take files from this folder instead of downloading them (``prepare --from``)
    source_dir: Optional[Path] = None
    #: accept local copies that do not match their checksums (``--no-verify``, with ``source_dir``)
    no_verify: bool = False
    #: take files from the store only, never from the origin (``datamaestro pull``)
    store_only: bool = False
    #: files downloaded at the same time (None: the configured ``jobs``)
    jobs: Optional[int] = None


class PrepareContext:
    """What a resource needs to know while preparing one dataset: built once per preparation."""

    def __init__(self, dataset_id: str, settings: Settings, request: Optional[Request] = None):
        self.dataset_id = dataset_id
        self.settings = settings
        self.request = request or Request()
        # one DataFolder per preparation: its manifest lock serialises concurrent records
        self.folder = DataFolder(settings.datadir)

    def __repr__(self) -> str:
        return f"PrepareContext({self.dataset_id!r}, {self.settings!r}, {self.request!r})"

    @property
    def dataset_dir(self) -> Path:
        """The folder of the dataset's prepared files."""
        return self.folder.dataset_dir(self.dataset_id)

    @property
    def jobs(self) -> int:
        """Files downloaded at the same time: the request's, else the configured number."""
        return self.request.jobs or self.settings.jobs

    @property
    def local(self) -> bool:
        """Whether files come from a local folder (``prepare --from DIR``), not from URLs."""
        return self.request.source_dir is not None
