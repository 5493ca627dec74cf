"""Small copies of published datasets, in their exact layouts, and patched definition modules.

Archives are built in memory (tar.gz, zip) with the published member names;
images are real JPEG (or PNG) files written by Pillow. ``patched_module``
writes a copy of a built-in definition module into the test's registry with
its published checksums and sizes replaced by the fixture's, so that the copy
downloads and *verifies* the fixture through the mirrors setting.
"""

from __future__ import annotations

import hashlib
import io
import tarfile
import zipfile
from pathlib import Path

import numpy as np
from PIL import Image

import datasets_registry


def image_bytes(array: np.ndarray, format: str = "JPEG", mode: str | None = None) -> bytes:
    """``array`` ((H, W) or (H, W, 3) uint8) encoded as an image file (JPEG quality 95 by default)."""
    image = Image.fromarray(array)
    if mode is not None:
        image = image.convert(mode)
    buffer = io.BytesIO()
    image.save(buffer, format=format, **({"quality": 95} if format == "JPEG" else {}))
    return buffer.getvalue()


def decoded(data: bytes, mode: str = "RGB") -> np.ndarray:
    """What Pillow decodes from an image file, in ``mode``: the value a loader must give."""
    with Image.open(io.BytesIO(data)) as image:
        return np.asarray(image.convert(mode))


def smooth_image(rng: np.random.Generator, height: int, width: int) -> np.ndarray:
    """A colour image with smooth content (JPEG keeps it close) and a random tint."""
    y, x = np.mgrid[0:height, 0:width]
    tint = rng.integers(0, 256, 3)
    channels = [(x * 255 // max(width - 1, 1) + tint[0]) % 256, (y * 255 // max(height - 1, 1) + tint[1]) % 256]
    channels.append(np.full((height, width), tint[2]))
    return np.stack(channels, axis=-1).astype(np.uint8)


def tar_gz(files: dict[str, bytes]) -> bytes:
    """A gzipped tar of ``files`` (member name -> content), in the given order."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def zip_bytes(files: dict[str, bytes]) -> bytes:
    """A zip of ``files`` (member name -> content)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in files.items():
            z.writestr(name, data)
    return buffer.getvalue()


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def builtin_source(module: str) -> str:
    """The source of a built-in definition module (``com.github.fastai``)."""
    folder = Path(datasets_registry.__file__).parent
    return folder.joinpath(*module.split(".")).with_suffix(".py").read_text(encoding="utf-8")


def patched_module(registry: Path, module: str, target: str, replacements: dict[str, str]) -> str:
    """Write the built-in ``module`` as ``target`` in ``registry`` with ``replacements`` made.

    Every replaced text must occur exactly once in the published module: a
    changed definition fails here rather than testing something else.
    Returns the module path of the copy (its datasets' id prefix).
    """
    source = builtin_source(module)
    for old, new in replacements.items():
        count = source.count(old)
        assert count == 1, f"{module}: {old!r} occurs {count} times, expected once"
        source = source.replace(old, new)
    path = registry.joinpath(*target.split(".")).with_suffix(".py")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(source, encoding="utf-8")
    return target


def verified_copy(registry: Path, module: str, published: list[tuple[str, str, bytes]]) -> str:
    """A patched copy (``org.fixture.<name>``) of ``module`` that verifies the fixture files.

    ``published`` lists (published sha256 hex digest, published size as written in
    the module, e.g. ``"size=4551"``, fixture bytes). Returns the copy's module path.
    """
    replacements = {}
    for digest, size, data in published:
        replacements[f"sha256:{digest}"] = f"sha256:{sha256(data)}"
        number = size.rsplit("=", 1)[-1]
        replacements[size] = size[: len(size) - len(number)] + str(len(data))
    return patched_module(registry, module, "org.fixture." + module.rsplit(".", 1)[-1], replacements)
