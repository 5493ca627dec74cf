"""What a download is packed as (from its name), and how far unpacking it may expand.

Kept apart from ``datamaestro.download.unpack`` so that defining a resource
does not import the archive libraries.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional
from urllib.parse import urlparse

KINDS = ("tar.gz", "tar.bz2", "tar.xz", "tgz", "tar", "zip", "gz", "bz2", "xz")


@dataclass(frozen=True, slots=True)
class Limits:
    """How much one unpacking may write.

    For archives both limits bound the whole archive (members outside a kept
    ``subpath`` count too), and ``max_files`` counts every entry: files,
    folders (named or implied by a member's path) and links.
    """

    max_bytes: int  # most bytes the whole output may hold
    max_files: int  # most entries (files, folders, links) it may hold


def kind_of(filename: str) -> Optional[str]:
    """The packing of a file from its name or URL ("tar.gz", "zip", "gz"...), None for a plain file."""
    path = urlparse(filename).path if "://" in filename else filename
    path = path.lower()
    for kind in KINDS:
        if path.endswith("." + kind):
            return kind
    return None
