"""Datasets of the Hugging Face Hub: an ``hf:`` id resolved to the Parquet files of one commit.

``hf:ORG/NAME``, ``hf:ORG/NAME@REVISION``, ``hf:ORG/NAME:CONFIG`` (or both)
name a dataset repository of the Hub. ``resolve`` asks the Hub's HTTP API,
through huggingface_hub, for the commit the revision points to, its files
with their sizes and sha256 (the LFS oid) and the dataset card; the card's
text (README.md) is read at that commit and checked against its git blob id.
The ``Resolution`` is what a preparation pins: each Parquet file becomes a
``FileDownloader`` of ``hf://datasets/ORG/NAME@COMMIT/PATH`` with that sha256
and size, fetched by the one install pipeline, and the resolution itself is
written into the dataset folder as ``hub.json`` (``HubRecord``), so that the
dataset is used offline, and prepared again, at the same commit.
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, Optional

from datamaestro.download import Resource
from datamaestro.download.context import PrepareContext
from datamaestro.download.hubhost import endpoint, resolve_url
from datamaestro.download.single import FileDownloader
from datamaestro.errors import DownloadError, FormatError, UsageError
from datamaestro.hashing import hash_file
from datamaestro.manifest import Entry
from datamaestro.optional import require
from datamaestro.paths import printable

#: ``hf:ORG/NAME[@REVISION][:CONFIG]``
HUB_ID = re.compile(r"hf:([A-Za-z0-9][\w.-]*/[\w.-]+)(?:@([^:@\s]+))?(?::([\w.-]+))?")
#: the file of the dataset folder that pins the resolution
RECORD = "hub.json"


def is_hub_id(text: str) -> bool:
    """Whether ``text`` names a Hub dataset (``hf:...``)."""
    return text.startswith("hf:")


@dataclass(frozen=True, slots=True)
class HubId:
    """A Hub dataset as asked for: repository, revision (None: main) and config (None: the default)."""

    repo: str
    revision: Optional[str] = None
    config: Optional[str] = None

    @classmethod
    def parse(cls, text: str) -> HubId:
        """Read ``hf:ORG/NAME[@REVISION][:CONFIG]``; a one-line error otherwise."""
        match = HUB_ID.fullmatch(text)
        if match is None:
            raise UsageError(f"'{printable(text)}' is not a Hub dataset id: write hf:ORG/NAME[@REVISION][:CONFIG]")
        return cls(*match.groups())

    def __str__(self) -> str:
        return f"hf:{self.repo}" + (f"@{self.revision}" if self.revision else "") + (f":{self.config}" if self.config else "")

    @property
    def folder_id(self) -> str:
        """The id of its folder in the data folder: ``hf.ORG.NAME`` (``.r-REVISION``, ``.c-CONFIG``)."""
        parts = ["hf", *self.repo.split("/")]
        parts += [f"r-{self.revision}"] if self.revision else []
        parts += [f"c-{self.config}"] if self.config else []
        return ".".join(re.sub(r"[^A-Za-z0-9_-]", "_", p) for p in parts)


@dataclass(slots=True)
class HubFile:
    """One Parquet file of a split: its path in the repository, sha256 (LFS oid) and size."""

    path: str
    split: str
    sha256: str
    size: int

    def name(self, index: int) -> str:
        """Its resource name: ``SPLIT-NNNNN.parquet`` (``index``: its rank among the split's files)."""
        return f"{re.sub(r'[^A-Za-z0-9_-]', '_', self.split)}-{index:05d}.parquet"


@dataclass(slots=True)
class Resolution:
    """What a Hub id resolved to: the commit, the config, its Parquet files, the dataset card."""

    repo: str
    commit: str
    config: Optional[str]
    files: list[HubFile]
    #: the card's YAML header, as the API gives it (``cardData``)
    card: dict[str, Any] = field(default_factory=dict)
    #: the card's text (README.md at the commit; '' without one)
    readme: str = ""

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, value: dict[str, Any]) -> Resolution:
        """The resolution that ``to_json`` wrote (a one-line error when it is not one)."""
        try:
            files = [HubFile(**f) for f in value["files"]]
            return cls(value["repo"], value["commit"], value["config"], files, dict(value["card"]), str(value["readme"]))
        except (KeyError, TypeError, ValueError) as e:
            raise FormatError(f"{RECORD}: not a Hub resolution ({e}); prepare the dataset again with --force") from None

    def resources(self) -> list[FileDownloader]:
        """One download per Parquet file, pinned to the commit, with its sha256 and size."""
        ranks: dict[str, int] = {}
        out = []
        for f in self.files:
            ranks[f.split] = ranks.get(f.split, -1) + 1
            url = f"hf://datasets/{self.repo}@{self.commit}/{f.path}"
            out.append(FileDownloader(f.name(ranks[f.split]), url, checksum=f"sha256:{f.sha256}", size=f.size))
        return out


class HubRecord(Resource):
    """``hub.json``: the resolution of a Hub id, written at prepare time (what pins its commit)."""

    def __init__(self, resolution: Resolution):
        super().__init__(RECORD)
        self.resolution = resolution

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "commit": self.resolution.commit, "derived_from": ["the Hub API"]}

    def produce(self, ctx: PrepareContext, dest: Path) -> Entry:
        dest.write_text(json.dumps(self.resolution.to_json(), indent=1, sort_keys=True), encoding="utf-8")
        return Entry.of_file(self.name, hash_file(dest), verified_by=f"hub commit {self.resolution.commit}")


def read_record(path: Path) -> Resolution:
    """The resolution written in ``hub.json``."""
    try:
        return Resolution.from_json(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError) as e:
        raise FormatError(f"{path}: cannot read the Hub resolution ({e}); prepare the dataset again with --force") from None


# -- asking the Hub ------------------------------------------------------------------------------


def resolve(hub_id: HubId) -> Resolution:
    """Ask the Hub for the commit, the Parquet files (sha256, size) and the card of ``hub_id``."""
    hf = require("huggingface_hub", "Hugging Face Hub datasets", "huggingface_hub", "hf")
    api = hf.HfApi(endpoint=endpoint())
    try:
        info = api.dataset_info(hub_id.repo, revision=hub_id.revision, files_metadata=True)
    except Exception as e:  # huggingface_hub's HTTP and connection errors: told in one line
        raise api_error(hub_id, e) from None
    siblings = {s.rfilename: s for s in info.siblings or []}
    card = info.card_data.to_dict() if info.card_data is not None else {}
    config, chosen = data_files(card, sorted(siblings), hub_id.config, str(hub_id))
    files = []
    for split, paths in chosen.items():
        for path in paths:
            lfs = siblings[path].lfs
            if lfs is None:
                raise DownloadError(f"{hub_id}: {printable(path)} is not stored with Git LFS, so the Hub gives no sha256 of it")
            files.append(HubFile(path, split, lfs.sha256, lfs.size))
    readme = read_card(hub_id, info.sha, siblings.get("README.md"))
    return Resolution(hub_id.repo, info.sha, config, files, card, readme)


def api_error(hub_id: HubId, error: Exception) -> DownloadError:
    """The one-line error of a failed API call."""
    response = getattr(error, "response", None)
    status = getattr(response, "status_code", None)
    if status in (401, 403):
        return DownloadError(f"{hub_id}: the Hub refused access (HTTP {status}); the dataset may be gated or private: "
                             "accept its terms on the Hub and set HF_TOKEN")
    if status == 404:
        return UnknownHubDataset(f"{hub_id}: no such dataset or revision on the Hub ({endpoint()}); check the name")
    first = printable(str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__, 200)
    return DownloadError(f"{hub_id}: cannot reach the Hub at {endpoint()} ({first}); check the network or HF_ENDPOINT, "
                         "or use --offline for prepared datasets")


class UnknownHubDataset(DownloadError):
    """The Hub has no such dataset (or revision)."""

    exit_code = 2


def read_card(hub_id: HubId, commit: str, sibling: Any) -> str:
    """The text of README.md at ``commit``, checked against its git blob id ('' without one)."""
    if sibling is None:
        return ""
    hf = require("huggingface_hub", "Hugging Face Hub datasets", "huggingface_hub", "hf")
    url = resolve_url(hub_id.repo, commit, "README.md")
    try:
        response = hf.utils.get_session().get(url, headers=hf.utils.build_hf_headers(), follow_redirects=True)
        response.raise_for_status()
    except Exception as e:  # huggingface_hub's HTTP and connection errors: told in one line
        raise api_error(hub_id, e) from None
    body = response.content
    blob = hashlib.sha1(b"blob %d\0" % len(body) + body).hexdigest()
    if sibling.blob_id and blob != sibling.blob_id:
        raise DownloadError(f"{hub_id}: README.md does not match its git blob id {sibling.blob_id}; try again later")
    return body.decode("utf-8", errors="replace")


# -- which files make which split ----------------------------------------------------------------


def data_files(card: dict[str, Any], paths: list[str], config: Optional[str], what: str) -> tuple[Optional[str], dict[str, list[str]]]:
    """The config chosen and its Parquet files by split: as the card's ``configs`` say, else by file names."""
    configs = [c for c in card.get("configs") or [] if isinstance(c, dict)]
    if configs:
        chosen = pick_config(configs, config, what)
        return chosen.get("config_name"), files_of_config(chosen, paths)
    parquet = [p for p in paths if p.endswith(".parquet")]
    groups: dict[str, list[str]] = {}
    for p in parquet:
        parts = PurePosixPath(p).parts
        groups.setdefault(parts[0] if len(parts) > 1 and parts[0] != "data" else "default", []).append(p)
    name = config or ("default" if "default" in groups else next(iter(sorted(groups)), "default"))
    if name not in groups:
        raise UsageError(f"{what}: no config '{name}'; the configs are: {', '.join(sorted(groups)) or 'none'}")
    found: dict[str, list[str]] = {}
    for p in groups[name]:
        parts = PurePosixPath(p).parts  # CONFIG/SPLIT/0000.parquet (refs/convert/parquet), else SPLIT-*.parquet
        found.setdefault(parts[-2] if len(parts) > 2 else re.split(r"[-_.]", parts[-1], maxsplit=1)[0], []).append(p)
    return (config, found) if found else no_parquet(what)


def pick_config(configs: list[dict[str, Any]], name: Optional[str], what: str) -> dict[str, Any]:
    """The config named ``name``, else the default one (else the first)."""
    if name is None:
        return next((c for c in configs if c.get("default")), configs[0])
    for c in configs:
        if c.get("config_name") == name:
            return c
    names = ", ".join(str(c.get("config_name")) for c in configs)
    raise UsageError(f"{what}: no config '{name}'; the configs are: {names}")


def files_of_config(config: dict[str, Any], paths: list[str]) -> dict[str, list[str]]:
    """The Parquet files of each split of a card's config (its ``data_files`` patterns)."""
    declared = config.get("data_files") or []
    if isinstance(declared, (str, list)) and not (isinstance(declared, list) and declared and isinstance(declared[0], dict)):
        declared = [{"split": "train", "path": declared}]
    found: dict[str, list[str]] = {}
    for entry in declared:
        patterns = entry.get("path") or []
        for pattern in [patterns] if isinstance(patterns, str) else patterns:
            found.setdefault(str(entry.get("split", "train")), []).extend(
                p for p in paths if fnmatch.fnmatchcase(p, pattern) and p.endswith(".parquet")
            )
    found = {split: sorted(set(files)) for split, files in found.items() if files}
    return found if found else no_parquet(str(config.get("config_name")))


def no_parquet(what: str) -> Any:
    """Raise: no Parquet file to prepare."""
    raise DownloadError(f"{what}: the Hub dataset has no Parquet files for this config; only Parquet datasets are supported")
