"""Trying a resource's URLs in order, and fetching one URL with its checks."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional

from datamaestro.download import PrepareContext
from datamaestro.download.checksum import Checksum
from datamaestro.download.http import fetch
from datamaestro.errors import ChecksumError, DownloadError


@dataclass
class Fetched:
    """A downloaded file and what its bytes hash to."""

    path: Path
    url: str
    size: int
    sha256: str
    #: "<algorithm>:<hex>" of the published checksum's algorithm (None without checksum)
    digest: Optional[str]
    #: whether ``digest`` equals the published checksum
    matches: bool


def fetch_checked(
    ctx: PrepareContext,
    name: str,
    url: str,
    checksum: Optional[Checksum],
    size: Optional[int],
) -> Fetched:
    """Download ``url`` to the resource's partial file, hashing it; checks ``size``."""
    partial = partial_path(ctx, name)
    sha256 = hashlib.sha256()
    hashers = [sha256]
    if checksum and checksum.algorithm != "sha256":
        hashers.append(hashlib.new(checksum.algorithm))
    got = fetch(url, partial, hashers, f"{ctx.dataset_id}: {name}", ctx.settings.quiet)
    if size is not None and got != size:
        raise DownloadError(f"got {got} bytes, expected {size}")
    digest = f"{checksum.algorithm}:{hashers[-1].hexdigest()}" if checksum else None
    return Fetched(partial, url, got, sha256.hexdigest(), digest, digest == str(checksum))


def partial_path(ctx: PrepareContext, name: str) -> Path:
    """Where the download of resource ``name`` goes while it is incomplete."""
    return ctx.folder.download_dir(ctx.dataset_id) / f"{name}.part"


def try_urls(ctx: PrepareContext, name: str, urls: list[str], attempt: Callable[[str], None]) -> None:
    """Call ``attempt(url)`` on each URL until one succeeds; else raise a summary.

    ``attempt`` raises ``DownloadError`` (or ``ChecksumError``) to move on to
    the next URL. The partial download is removed whatever happens.
    """
    what = f"{name} of {ctx.dataset_id}"
    attempts: list[str] = []
    mismatches: list[str] = []
    try:
        for url in urls:
            try:
                attempt(url)
                return
            except ChecksumError as e:
                mismatches.append(f"{url}: {e}")
                attempts.append(f"{url}: checksum mismatch ({e})")
            except DownloadError as e:
                attempts.append(f"{url}: {e}")
    finally:
        partial_path(ctx, name).unlink(missing_ok=True)
    if len(mismatches) == len(attempts):
        raise ChecksumError(
            f"checksum mismatch for {what}: {'; '.join(mismatches)}; "
            "the download was discarded, nothing was kept"
        )
    raise DownloadError(
        f"could not download {what}: {'; '.join(attempts)}; "
        "check the network or the 'mirrors' setting"
    )
