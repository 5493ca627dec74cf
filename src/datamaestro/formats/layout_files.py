"""Reading the annotation files of the voc, coco and yolo layouts safely: paths kept inside, XML without DTDs.

Every path these layouts build from what a file says (an item id, a COCO
``file_name``, a YOLO list line) goes through ``inside_folder``: an absolute
path, or one leading out of the input folder by ``..`` or a link, is refused
with one line naming the file that asked for it. XML is parsed only after a
DOCTYPE or ENTITY declaration was refused, in whatever encoding the file
declares (no entity expansion, no billion-laughs); JSON and text files are
bounded in size, opened without blocking (a FIFO is refused, not waited on),
and JSON nested too deep is refused. ``check_links`` refuses, before anything
is read, a symbolic link anywhere in the input folder that leads outside it
(a link to an image, an annotation file or a whole folder).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any
from xml.parsers import expat

from datamaestro.errors import FormatError, UnsafePathError
from datamaestro.formats.annotations import Item, item_pixels
from datamaestro.optional import pillow
from datamaestro.paths import inside, printable

#: the largest annotation file read (bytes): COCO's instances_train2017.json is 450 MB
MAX_FILE_BYTES = 2 * 1024**3
#: the largest list or label text file read (bytes): an ImageSets list, obj.names, a YOLO label file
MAX_TEXT_BYTES = 256 * 1024**2


def inside_folder(root: Path, relative: str, where: str) -> Path:
    """``root / relative``, refused (one line naming ``where``) when absolute or leading outside ``root``."""
    text = str(relative).replace("\\", "/")
    if not text or text.startswith("/") or re.match(r"^[A-Za-z]:", text) or ".." in text.split("/") or "\0" in text:
        raise FormatError(
            f"{printable(where)}: refused the path {printable(repr(relative))}: only files inside "
            f"{printable(str(root))} are read"
        )
    path = root / text
    try:
        inside(root, path)
    except UnsafePathError:
        raise FormatError(
            f"{printable(where)}: refused the path {printable(repr(relative))}: it leads outside "
            f"{printable(str(root))} (a link); only files inside it are read"
        ) from None
    return path


def check_links(folder: Path) -> None:
    """Refuse (one line) a symbolic link under ``folder`` that leads outside it; links are not followed."""
    real_root = Path(os.path.realpath(folder))
    pending = [folder]
    while pending:
        with os.scandir(pending.pop()) as entries:
            for entry in entries:
                if entry.is_symlink():
                    target = Path(os.path.realpath(entry.path))
                    if target != real_root and real_root not in target.parents:
                        raise UnsafePathError(
                            f"{printable(entry.path)}: a symbolic link to {printable(str(target))}, outside "
                            f"{printable(str(folder))}; the voc, coco and yolo layouts are read only inside "
                            "their folder: copy the file in instead"
                        )
                elif entry.is_dir(follow_symlinks=False):
                    pending.append(Path(entry.path))


def read_bytes(path: Path, limit: int = MAX_FILE_BYTES) -> bytes:
    """The bytes of an annotation file, refused above ``limit`` bytes or when not a regular file (never blocking)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as e:
        raise FormatError(f"{printable(str(path))}: cannot be read ({e.strerror or e})") from None
    with os.fdopen(fd, "rb", buffering=0) as f:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise FormatError(f"{printable(str(path))}: refused: not a regular file (a FIFO, device or folder)")
        if info.st_size > limit:
            raise FormatError(
                f"{printable(str(path))}: refused: {info.st_size:,} bytes, more than the {limit:,} such a file may hold"
            )
        try:
            data = f.read(limit + 1)
        except OSError as e:
            raise FormatError(f"{printable(str(path))}: cannot be read ({e.strerror or e})") from None
    if len(data) > limit:
        raise FormatError(f"{printable(str(path))}: refused: more than the {limit:,} bytes such a file may hold")
    return data


def read_text(path: Path, limit: int = MAX_TEXT_BYTES) -> str:
    """The UTF-8 text of a list or label file (a BOM is dropped), at most ``limit`` bytes."""
    try:
        return read_bytes(path, limit).decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise FormatError(f"{printable(str(path))}: not UTF-8 text ({e.reason} at byte {e.start})") from None


def refuse_declaration(*_: object) -> None:
    """An expat handler: a DOCTYPE or ENTITY declaration stops the parse."""
    raise ValueError("DOCTYPE")


def parse_xml(path: Path) -> ET.Element:
    """The root element of an XML file; a DOCTYPE or ENTITY declaration (in any encoding) is refused, not expanded."""
    data = read_bytes(path)
    scan = expat.ParserCreate()
    scan.StartDoctypeDeclHandler = refuse_declaration
    scan.EntityDeclHandler = refuse_declaration
    try:
        scan.Parse(data, True)
        return ET.fromstring(data)
    except ValueError:
        raise FormatError(
            f"{printable(str(path))}: refused: the XML declares a DOCTYPE or entities, which annotation files "
            "never need (entity expansion could exhaust memory)"
        ) from None
    except (expat.ExpatError, ET.ParseError) as e:
        raise FormatError(f"{printable(str(path))}: not valid XML ({e})") from None


def read_json(path: Path) -> Any:
    """The content of a JSON file."""
    try:
        return json.loads(read_text(path, MAX_FILE_BYTES))
    except json.JSONDecodeError as e:
        raise FormatError(f"{printable(str(path))}: not valid JSON ({e})") from None
    except RecursionError:
        raise FormatError(f"{printable(str(path))}: refused: the JSON is nested too deep") from None


def image_files(folder: Path, extensions: frozenset[str] | set[str]) -> dict[str, Path]:
    """The image files under ``folder`` (links not followed) by their path without extension, ``/``-separated."""
    found: dict[str, Path] = {}
    if not folder.is_dir():
        return found
    for path in sorted(folder.rglob("*")):
        if path.suffix.lower() in extensions and path.is_file() and not path.is_symlink():
            found.setdefault(path.relative_to(folder).with_suffix("").as_posix(), path)
    return found


def save_item_image(item: Item, target: Path) -> None:
    """Write ``item``'s image to ``target``: its file copied when the extension is the same, else encoded anew."""
    target.parent.mkdir(parents=True, exist_ok=True)
    if item.image is not None and item.image.suffix.lower() == target.suffix.lower():
        shutil.copyfile(item.image, target)
        return
    pixels = item_pixels(item)
    if pixels is None:
        return
    Image = pillow()
    Image.fromarray(pixels).save(target)


def item_path(folder: Path, item_id: str, suffix: str, where: str) -> Path:
    """The file of ``item_id`` (ids may hold ``/``) with ``suffix`` under the output ``folder``."""
    return inside_folder(folder, item_id + suffix, where)
