"""``signin``: files that only a person can download, after signing in on the publisher's page.

ImageNet, CelebA or Places365 cannot be fetched by a program: a person signs
in, accepts the terms and downloads the files. A ``signin`` resource says
where (``page``) and what (each file's published name, size and checksum).
``prepare`` takes the files from ``prepare ID --from DIR``, else from the
user's data folder named by the definition (``datamaestro datafolders set
NAME PATH``); without them it stops and says which files to get, where, and
the command to run next.

The files are linked into the data folder, not copied (a hard link where the
file system allows, else a copy: ``storage.link_or_copy``), checked by size
first (a truncated file is refused before anything is hashed), hashed once
against their published checksums, and recorded in the manifest as one
folder: later preparations check their sizes only (``verify`` hashes them
again). The same install pipeline as downloads records the folder before it
is renamed into place. What they unpack to is ``unpacked``: a ``derived``
folder whose bounds are those of the published data.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Optional

from datamaestro.download import Resource, unpack
from datamaestro.download.context import PrepareContext
from datamaestro.download.derived import Derived
from datamaestro.download.packing import Limits
from datamaestro.errors import ChecksumError, DefinitionError, FormatError, UsageError
from datamaestro.hashing import Checksum, FileHash
from datamaestro.log import log
from datamaestro.manifest import Entry, folder_files
from datamaestro.paths import name_problem, printable
from datamaestro.storage import human_size, link_or_copy, remove


@dataclass(frozen=True, slots=True)
class SignInFile:
    """One file a person downloads: its published name, checksum ("sha256:<hex>") and size in bytes."""

    filename: str
    checksum: Optional[str] = None
    size: Optional[int] = None

    def shown(self) -> str:
        """The file name with its size, as the instructions list it."""
        return f"{self.filename} ({human_size(self.size)}, {self.size} bytes)" if self.size else self.filename


class SignIn(Resource):
    """The folder ``name`` of the files a person downloads from ``page`` after signing in.

    ``files``: the published files; ``datafolder``: the name of the user's
    data folder (``datamaestro datafolders set NAME PATH``) where they are
    looked for without ``--from``. ``sign_in`` (the page) tells ``download``
    never to fetch them.
    """

    def __init__(
        self, name: str, page: str, files: Iterable[SignInFile], *, datafolder: Optional[str] = None,
        varname: Optional[str] = None,
    ):
        super().__init__(name, varname)
        self.sign_in = page
        self.files = list(files)
        self.datafolder = datafolder
        for f in self.files:
            if name_problem(f.filename):
                raise DefinitionError(f"{name}: {name_problem(f.filename)}")
        self.checksums = {f.filename: Checksum.parse(f.checksum) if f.checksum else None for f in self.files}

    def describe(self) -> dict[str, Any]:
        checksums = "; ".join(f"{f.filename} {f.checksum}" for f in self.files if f.checksum)
        return {
            "name": self.name, "sign_in": self.sign_in, "datafolder": self.datafolder,
            "files": [f.shown() for f in self.files], "checksum": checksums or None,
        }

    def source(self, ctx: PrepareContext) -> tuple[Optional[Path], str]:
        """The folder the files are taken from (None: no folder was given) and how it is named in messages."""
        if ctx.request.source_dir is not None:
            return ctx.request.source_dir, f"--from {ctx.request.source_dir}"
        folder = ctx.settings.datafolders.get(self.datafolder or "")
        if folder is not None:
            return folder, f"the data folder '{self.datafolder}' ({folder})"
        return None, ""

    def instructions(self, dataset_id: str, missing: Optional[list[SignInFile]] = None, where: str = "") -> str:
        """What a person must do to get the files: the page, each file with its size, the command to run next."""
        missing = self.files if missing is None else missing
        listed = "".join(f"\n  {f.shown()}" for f in missing)
        absent = f"\nnot found in {where}" if where else ""
        folder = self.datafolder or "NAME"
        return (
            f"{dataset_id} needs files that only a person can download, after signing in at {self.sign_in}:"
            f"{listed}{absent}\ndownload them there, then run 'datamaestro prepare {dataset_id} --from DIR' "
            f"(DIR: the folder holding them), or 'datamaestro datafolders set {folder} DIR' once "
            f"and then 'datamaestro prepare {dataset_id}'"
        )

    def produce(self, ctx: PrepareContext, dest: Path) -> Entry:
        folder, where = self.source(ctx)
        missing = [f for f in self.files if folder is None or not (folder / f.filename).is_file()]
        if missing:
            raise UsageError(self.instructions(ctx.dataset_id, missing, where))
        assert folder is not None
        for f in self.files:  # every size first: a truncated file is refused before anything is hashed
            size = (folder / f.filename).stat().st_size
            if f.size is not None and size != f.size:
                raise ChecksumError(
                    f"{folder / f.filename}: {size} bytes, expected {f.size}: not the published {f.filename} "
                    f"(truncated?); download it again from {self.sign_in}"
                )
        dest.mkdir()
        files: dict[str, FileHash] = {}
        unverified: list[str] = []
        for f in self.files:
            files[f.filename], problem = self.link(ctx, folder / f.filename, dest / f.filename)
            if problem:
                unverified.append(problem)
        checksums = [str(c) for c in self.checksums.values() if c]
        return Entry.of_folder(
            self.name, files, url=self.sign_in, source=str(folder),
            verified_by=" ".join(checksums) if checksums and not unverified else None,
            no_verify=f"accepted with --no-verify: {'; '.join(unverified)}" if unverified else None,
        )

    def link(self, ctx: PrepareContext, source: Path, target: Path) -> tuple[FileHash, str]:
        """Link (else copy) ``source`` to ``target`` and hash it once; its hash, and why ``--no-verify``
        accepted it ('' when it matches)."""
        checksum = self.checksums[target.name]
        algorithms = tuple(sorted({"sha256", *([checksum.algorithm] if checksum else [])}))
        log.info("%s: linking and verifying %s", ctx.dataset_id, source)
        digests = link_or_copy(ctx.folder.root, source, target, algorithms, link=True)
        if os.stat(source).st_ino != os.stat(target).st_ino:
            log.warning("%s: %s was copied, not linked (another file system)", ctx.dataset_id, source)
        found = FileHash(target.stat().st_size, digests["sha256"])
        if checksum is None or digests[checksum.algorithm] == checksum.hexdigest:
            return found, ""
        problem = f"{target.name}: expected {checksum}, got {checksum.algorithm}:{digests[checksum.algorithm]}"
        if ctx.request.no_verify and ctx.request.source_dir is not None:
            log.warning("%s: %s; accepted because of --no-verify", ctx.dataset_id, problem)
            return found, problem
        raise ChecksumError(f"{source} does not match: {problem}; it is not the published file")


class Unpacked(Derived):
    """A ``derived`` folder that may hold what the published data holds (``unpacked_size`` bytes,
    ``unpacked_files`` files) even beyond the configured unpack limits."""

    def __init__(
        self, name: str, build: Callable[..., None], *sources: Resource, unpacked_size: int, unpacked_files: int,
        varname: Optional[str] = None,
    ):
        super().__init__(name, build, *sources, varname=varname)
        self.unpacked_size = unpacked_size
        self.unpacked_files = unpacked_files

    def produce(self, ctx: PrepareContext, dest: Path) -> Entry:
        settings = ctx.settings
        bounded = replace(
            settings,
            max_unpacked_size=max(settings.max_unpacked_size, self.unpacked_size),
            max_unpacked_files=max(settings.max_unpacked_files, self.unpacked_files),
        )
        return super().produce(PrepareContext(ctx.dataset_id, bounded, ctx.request), dest)


def untar_each(archive: Path, out: Path, limits: Limits, label: str) -> None:
    """Extract a tar of tars (ImageNet's training images): each member ``<name>.tar`` into ``out/<name>``."""
    members = out / ".tars"  # inside the staging folder; removed before the build ends
    unpack.untar(archive, members, limits, label)
    try:
        for relative, path in sorted(folder_files(members).items()):
            if "/" in relative or not relative.endswith(".tar") or relative == ".tar":
                raise FormatError(f"{label}: {printable(relative)} is not a tar of one class's images")
            unpack.untar(path, out / relative.removesuffix(".tar"), limits, f"{label}: {printable(relative)}")
            path.unlink()  # the space it took is free before the next one is extracted
    finally:
        remove(members)


#: decorator: the dataset needs the folder ``name`` of files downloaded by hand from ``page``
signin = SignIn
#: decorator: the dataset needs the folder ``name`` unpacked from other resources, bounded as published
unpacked = Unpacked
