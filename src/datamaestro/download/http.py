"""Fetching one URL into a file, hashing the bytes as they stream in."""

from __future__ import annotations

import logging
import os
import re
import sys
from pathlib import Path
from typing import Any, Iterable

from datamaestro.errors import DownloadError

log = logging.getLogger("datamaestro")

CHUNK = 1 << 20
TIMEOUT = (10, 60)  # connect, read (seconds)
_session = None


def session() -> Any:
    """A shared ``requests.Session`` (connection pooling across files)."""
    global _session
    if _session is None:
        import requests

        _session = requests.Session()
        _session.headers["User-Agent"] = "datamaestro"
    return _session


def fetch(url: str, dest: Path, hashers: Iterable[Any], label: str, quiet: bool) -> int:
    """Stream ``url`` into ``dest``, updating ``hashers``; returns the byte count.

    Raises ``DownloadError`` with a short reason (HTTP status, network error).
    """
    import requests
    from tqdm import tqdm

    hashers = list(hashers)
    dest.parent.mkdir(parents=True, exist_ok=True)
    log.info("downloading %s from %s", label, url)
    try:
        with session().get(url, stream=True, timeout=TIMEOUT) as response:
            if response.status_code != 200:
                raise DownloadError(f"HTTP {response.status_code} {response.reason}")
            total = response.headers.get("Content-Length")
            written = 0
            with open(dest, "wb") as out, tqdm(
                total=int(total) if total and total.isdigit() else None,
                unit="B",
                unit_scale=True,
                unit_divisor=1024,
                desc=label,
                file=sys.stderr,
                disable=quiet or not sys.stderr.isatty(),
                leave=False,
            ) as bar:
                for chunk in response.iter_content(CHUNK):
                    out.write(chunk)
                    for h in hashers:
                        h.update(chunk)
                    written += len(chunk)
                    bar.update(len(chunk))
                out.flush()
                os.fsync(out.fileno())
            return written
    except requests.exceptions.Timeout:
        raise DownloadError("timed out") from None
    except requests.exceptions.ConnectionError as e:
        raise DownloadError(f"connection failed ({_root_cause(e)})") from None
    except requests.exceptions.RequestException as e:
        raise DownloadError(f"request failed ({_root_cause(e)})") from None


def _root_cause(error: BaseException) -> str:
    """The useful part of a requests/urllib3 error message."""
    text = str(error)
    match = re.search(r"\[Errno -?\d+\] [^'\")]+", text)
    return match.group(0) if match else type(error).__name__
