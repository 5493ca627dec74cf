"""The manifest: what is in place in a dataset folder, one typed entry per resource.

``datasets/<id>/.manifest.json`` holds one ``Entry`` per prepared resource:
what kind of thing is in place (a file or a folder), its size and sha256 (per
file for a folder: every file of an extracted archive or derived folder),
where its bytes came from and what verified them. The pipeline writes an
entry *before* it renames the resource into place, so that a resource in
place always has its record; ``verify``, ``list``, ``clean`` and ``rm`` read
only this type. A manifest that cannot be read is treated as missing: the
resources are then re-verified against their declarations, never deleted.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Optional

from datamaestro.hashing import HEX64, FileHash
from datamaestro.paths import is_valid_id, is_valid_name

Kind = Literal["file", "folder"]

VERSION = 2
MANIFEST = ".manifest.json"


class CorruptManifest(ValueError):
    """A manifest file that is not what this module writes."""


@dataclass(slots=True)
class Entry:
    """One prepared resource: what is in place, where it came from, what verified it."""

    name: str
    #: a single file, or a folder (extracted archive, derived arrays)
    kind: Kind
    #: bytes in place (for a folder: of all its files)
    size: int
    #: sha256 of the file in place (kind "file")
    sha256: Optional[str] = None
    #: every file of a folder: relative POSIX path -> size and sha256 (kind "folder")
    files: dict[str, FileHash] = field(default_factory=dict)
    #: the URL the original was published at
    url: Optional[str] = None
    #: where the bytes really came from when not ``url`` (a local copy, a store)
    source: Optional[str] = None
    #: size and sha256 of the downloaded original (what published checksums speak of)
    original: Optional[FileHash] = None
    #: what proved the content: "md5:<hex>" (the published checksum), "data sha256:<hex>",
    #: "store sha256:<hex>", "derived" (built from verified resources); None: nothing could
    verified_by: Optional[str] = None
    #: why a local copy was accepted by ``--no-verify`` although it does not match
    no_verify: Optional[str] = None
    #: the resources a derived folder was built from
    derived_from: list[str] = field(default_factory=list)
    #: how the download became the folder ("tar.gz, subpath images"): one archive unpacked the same
    #: way gives the same folder, which another dataset may then reuse (``DataFolder.find_unpacked``)
    unpacking: Optional[str] = None

    @classmethod
    def of_file(cls, name: str, content: FileHash, **fields: Any) -> Entry:
        """The entry of a single file with this content."""
        return cls(name=name, kind="file", size=content.size, sha256=content.sha256, **fields)

    @classmethod
    def of_folder(cls, name: str, files: dict[str, FileHash], **fields: Any) -> Entry:
        """The entry of a folder holding these files."""
        return cls(name=name, kind="folder", size=sum(h.size for h in files.values()), files=dict(files), **fields)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind, "size": self.size}
        if self.sha256 is not None:
            out["sha256"] = self.sha256
        if self.files:
            out["files"] = {p: [h.size, h.sha256] for p, h in sorted(self.files.items())}
        for key in ("url", "source", "verified_by", "no_verify", "unpacking"):
            if getattr(self, key) is not None:
                out[key] = getattr(self, key)
        if self.original is not None:
            out["original"] = {"size": self.original.size, "sha256": self.original.sha256}
        if self.derived_from:
            out["derived_from"] = list(self.derived_from)
        return out

    @classmethod
    def from_json(cls, name: str, value: Any) -> Entry:
        """The entry of ``name`` from its JSON form; raises ``CorruptManifest``."""
        if not is_valid_name(name) or not isinstance(value, dict):
            raise CorruptManifest(f"bad entry {name!r}")
        kind = value.get("kind")
        if kind not in ("file", "folder"):
            raise CorruptManifest(f"{name}: bad kind")
        files = {}
        for path, pair in typed_value(value, "files", dict, {}).items():
            if not isinstance(pair, list) or len(pair) != 2:
                raise CorruptManifest(f"{name}: bad file record")
            files[relative_path(name, path)] = file_hash(name, pair[0], pair[1])
        original = typed_value(value, "original", dict, None)
        sha = typed_value(value, "sha256", str, None)
        if sha is not None and not HEX64.fullmatch(sha):
            raise CorruptManifest(f"{name}: bad sha256")
        size = value.get("size")
        if not isinstance(size, int) or isinstance(size, bool) or size < 0:
            raise CorruptManifest(f"{name}: bad size")
        derived_from = typed_value(value, "derived_from", list, [])
        if not all(isinstance(s, str) for s in derived_from):
            raise CorruptManifest(f"{name}: bad derived_from")
        return cls(
            name=name,
            kind=kind,
            size=size,
            sha256=sha,
            files=files,
            url=typed_value(value, "url", str, None),
            source=typed_value(value, "source", str, None),
            original=file_hash(name, original.get("size"), original.get("sha256")) if original else None,
            verified_by=typed_value(value, "verified_by", str, None),
            no_verify=typed_value(value, "no_verify", str, None),
            derived_from=list(derived_from),
            unpacking=typed_value(value, "unpacking", str, None),
        )


@dataclass(slots=True)
class Manifest:
    """The entries of one dataset folder."""

    dataset_id: str
    entries: dict[str, Entry] = field(default_factory=dict)
    updated: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "version": VERSION,
            "id": self.dataset_id,
            "updated": self.updated,
            "entries": {name: e.to_json() for name, e in sorted(self.entries.items())},
        }

    def dumps(self) -> bytes:
        """The bytes of the manifest file."""
        return json.dumps(self.to_json(), indent=1, sort_keys=True).encode()

    @classmethod
    def loads(cls, dataset_id: str, text: bytes | str) -> Manifest:
        """Parse a manifest file of ``dataset_id``; raises ``CorruptManifest``."""
        try:
            value = json.loads(text)
        except (ValueError, UnicodeDecodeError) as e:
            raise CorruptManifest(f"not JSON ({e})") from None
        if not isinstance(value, dict) or value.get("id") != dataset_id or not is_valid_id(dataset_id):
            raise CorruptManifest("not the manifest of this dataset")
        if value.get("version") == VERSION:
            raw = value.get("entries")
            if not isinstance(raw, dict):
                raise CorruptManifest("no entries")
            entries = {name: Entry.from_json(name, e) for name, e in raw.items()}
        else:
            entries = from_version_1(value)
        updated = value.get("updated")
        return cls(dataset_id, entries, updated if isinstance(updated, str) else "")

    def without(self, name: str) -> Manifest:
        """A copy without the entry ``name``, stamped now."""
        entries = {n: e for n, e in self.entries.items() if n != name}
        return Manifest(self.dataset_id, entries, time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))

    def with_entry(self, entry: Entry) -> Manifest:
        """A copy with ``entry`` added or replaced, stamped now."""
        entries = {**self.entries, entry.name: entry}
        return Manifest(self.dataset_id, entries, time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))


def from_version_1(value: dict[str, Any]) -> dict[str, Entry]:
    """Entries of a manifest written by datamaestro 0.1: single files only (folders are re-verified)."""
    files = value.get("files")
    if not isinstance(files, dict):
        raise CorruptManifest("no entries")
    entries = {}
    for name, old in files.items():
        if not isinstance(old, dict) or "sha256" not in old or "size" not in old:
            continue  # an extracted archive or derived folder: no per-file record to trust
        entries[name] = Entry.from_json(
            name,
            {
                "kind": "file",
                "size": old["size"],
                "sha256": old["sha256"],
                "url": old.get("url"),
                "source": old.get("source"),
                "verified_by": old.get("verified"),
                "no_verify": old.get("no_verify"),
            },
        )
    return entries


def typed_value(value: dict[str, Any], key: str, kind: type, default: Any) -> Any:
    item = value.get(key, default)
    if item is not default and not isinstance(item, kind):
        raise CorruptManifest(f"bad {key}")
    return item


def file_hash(name: str, size: Any, sha256: Any) -> FileHash:
    if (
        not isinstance(size, int)
        or isinstance(size, bool)
        or size < 0
        or not isinstance(sha256, str)
        or not HEX64.fullmatch(sha256)
    ):
        raise CorruptManifest(f"{name}: bad file hash")
    return FileHash(size, sha256)


def relative_path(name: str, path: Any) -> str:
    """A recorded relative path, checked: no absolute path, no ``..``, no empty part."""
    if not isinstance(path, str) or not path or path.startswith("/") or "\0" in path:
        raise CorruptManifest(f"{name}: bad path")
    if any(part in ("", ".", "..") for part in path.split("/")):
        raise CorruptManifest(f"{name}: bad path")
    return path


def folder_files(root: Path) -> dict[str, Path]:
    """Every regular file under ``root`` by relative POSIX path (symlinks not followed)."""
    found = {}
    for top, dirs, names in os.walk(root):
        dirs.sort()
        for n in sorted(names):
            path = Path(top) / n
            if path.is_file() and not path.is_symlink():
                found[path.relative_to(root).as_posix()] = path
    return found


def folder_links(root: Path) -> dict[str, Path]:
    """Every symbolic link under ``root`` (to a file, a folder or nowhere) by relative POSIX path,
    none followed."""
    found = {}
    for top, dirs, names in os.walk(root):  # a link to a folder is listed in dirs, not entered
        dirs.sort()
        for n in sorted([*dirs, *names]):
            path = Path(top) / n
            if path.is_symlink():
                found[path.relative_to(root).as_posix()] = path
    return found
