"""Whether a resource in place matches its manifest record: quickly or fully.

Quick: existence and sizes (what ``prepare`` does before anything else, and
what loading a prepared dataset costs). Full: every byte hashed (``verify``).
"""

from __future__ import annotations

import os
from pathlib import Path

from datamaestro.errors import UnsafePathError
from datamaestro.hashing import file_digest
from datamaestro.manifest import Entry, folder_files, folder_links
from datamaestro.paths import inside, printable

#: how a problem of ``check`` (or of a resource without a record) ends when the resource is absent,
#: rather than damaged
ABSENT = (": missing", ": not recorded")


def absent(problem: str) -> bool:
    """Whether ``problem`` says a resource (or file) is absent or unrecorded, not damaged."""
    return problem.endswith(ABSENT)


def check(path: Path, entry: Entry, full: bool) -> list[str]:
    """What is wrong with the resource at ``path`` given its record (empty when nothing).

    Quick: the file or folder exists, of the recorded kind, and every recorded
    file has its recorded size. Full: every byte is hashed, and a folder holds
    no file that is not recorded and no link that leads out of it or nowhere.
    """
    name = entry.name
    if not os.path.lexists(path):
        return [f"{name}: missing"]
    if path.is_symlink():
        return [f"{name}: is a symbolic link, not what was prepared"]
    if entry.kind == "file":
        if not path.is_file():
            return [f"{name}: not a file"]
        size = path.stat().st_size
        if size != entry.size:
            return [f"{name}: {size} bytes, recorded {entry.size}"]
        if full and entry.sha256 and (digest := file_digest(path)) != entry.sha256:
            return [f"{name}: sha256:{digest}, recorded sha256:{entry.sha256}"]
        return []
    if not path.is_dir():
        return [f"{name}: not a folder"]
    problems = []
    for relative, recorded in sorted(entry.files.items()):
        member = path.joinpath(*relative.split("/"))
        shown = f"{name}/{printable(relative)}"
        if member.is_symlink() or not member.is_file():
            problems.append(f"{shown}: missing")
        elif member.stat().st_size != recorded.size:
            problems.append(f"{shown}: {member.stat().st_size} bytes, recorded {recorded.size}")
        elif full and (digest := file_digest(member)) != recorded.sha256:
            problems.append(f"{shown}: sha256:{digest}, recorded sha256:{recorded.sha256}")
    if full:
        extra = sorted(set(folder_files(path)) - set(entry.files))
        problems += [f"{name}/{printable(relative)}: not recorded" for relative in extra]
        problems += escaping_links(path, name)
    return problems


def escaping_links(folder: Path, name: str) -> list[str]:
    """The symbolic links under ``folder`` that lead outside it or nowhere (a prepared folder holds
    none: unpacking keeps only an archive's links that stay inside)."""
    problems = []
    for relative, link in folder_links(folder).items():
        shown = f"{name}/{printable(relative)}"
        try:
            inside(folder, link)
        except UnsafePathError:
            target = printable(os.readlink(link))
            problems.append(f"{shown}: a symbolic link to {target}, outside {name}, not what was prepared")
            continue
        if not link.exists():
            problems.append(f"{shown}: a symbolic link to {printable(os.readlink(link))} that leads nowhere")
    return problems
