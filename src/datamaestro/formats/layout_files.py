"""Reading the annotation files of the voc, coco and yolo layouts safely: paths kept inside, XML without DTDs.

Every path these layouts build from what a file says (an item id, a COCO
``file_name``, a YOLO list line) goes through ``inside_folder``: an absolute
path, or one leading out of the input folder by ``..`` or a link, is refused
with one line naming the file that asked for it. XML is parsed only after a
DOCTYPE or ENTITY declaration was refused (no entity expansion, no
billion-laughs); JSON and text files are bounded in size.
"""

from __future__ import annotations

import json
import re
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from datamaestro.errors import FormatError, UnsafePathError
from datamaestro.formats.annotations import Item, item_pixels
from datamaestro.optional import pillow
from datamaestro.paths import inside, printable

#: the largest annotation file read (bytes): COCO's instances_train2017.json is 450 MB
MAX_FILE_BYTES = 2 * 1024**3
_DECLARATION = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)


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


def read_bytes(path: Path) -> bytes:
    """The bytes of an annotation file, refused above ``MAX_FILE_BYTES``."""
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise FormatError(f"{printable(str(path))}: refused: {size:,} bytes, more than an annotation file may hold")
        return path.read_bytes()
    except OSError as e:
        raise FormatError(f"{printable(str(path))}: cannot be read ({e.strerror or e})") from None


def read_text(path: Path) -> str:
    """The UTF-8 text of an annotation file (a BOM is dropped)."""
    try:
        return read_bytes(path).decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise FormatError(f"{printable(str(path))}: not UTF-8 text ({e.reason} at byte {e.start})") from None


def parse_xml(path: Path) -> ET.Element:
    """The root element of an XML file; a DOCTYPE or ENTITY declaration is refused, not expanded."""
    data = read_bytes(path)
    if _DECLARATION.search(data):
        raise FormatError(
            f"{printable(str(path))}: refused: the XML declares a DOCTYPE or entities, which annotation files "
            "never need (entity expansion could exhaust memory)"
        )
    try:
        return ET.fromstring(data)
    except ET.ParseError as e:
        raise FormatError(f"{printable(str(path))}: not valid XML ({e})") from None


def read_json(path: Path) -> Any:
    """The content of a JSON file."""
    try:
        return json.loads(read_text(path))
    except json.JSONDecodeError as e:
        raise FormatError(f"{printable(str(path))}: not valid JSON ({e})") from None


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
