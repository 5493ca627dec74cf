"""The shared HTTP session, one streamed GET under a policy's deadlines, and what its failures mean."""

from __future__ import annotations

import http.client
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Optional
from urllib.parse import urlsplit

import requests

from datamaestro.download.hubhost import http_url, token_headers
from datamaestro.download.transport.base import Policy, TransferError, read_timeout, root_cause
from datamaestro.download.transport.headers import Adapter, cause, too_slow, within
from datamaestro.errors import DownloadError
from datamaestro.paths import printable

_session: Optional[requests.Session] = None
_session_lock = threading.Lock()


def session() -> requests.Session:
    """A shared ``requests.Session`` (connection pooling across files and threads)."""
    global _session
    with _session_lock:
        if _session is None:
            s = requests.Session()
            s.headers["User-Agent"] = "datamaestro"
            # byte ranges and sizes refer to the file as published, never re-encoded
            s.headers["Accept-Encoding"] = "identity"
            # (its connections give up on headers that arrive too slowly: a server may trickle them)
            adapter = Adapter(pool_connections=16, pool_maxsize=64, max_retries=0)
            s.mount("http://", adapter)
            s.mount("https://", adapter)
            _session = s
        return _session


@contextmanager
def get(url: str, headers: dict[str, str], policy: Policy) -> Iterator[requests.Response]:
    """A streamed GET of ``url``; its failures (and its body's) raised as ``TransferError``
    when worth retrying, else as ``DownloadError``. (An ``hf://`` URL is fetched from the Hub.)"""
    url = http_url(url)
    headers = {**token_headers(url), **headers}
    try:
        with within(policy.header_timeout):
            response = session().get(
                url, stream=True, headers=headers, timeout=(policy.connect_timeout, policy.read_timeout)
            )
        with response:
            yield response
    except requests.exceptions.RequestException as e:
        huge = cause(e, http.client.HTTPException)
        if huge is not None and str(huge).startswith("got more than"):  # the parser's own limits
            raise DownloadError(f"response headers too large ({printable(str(huge), 100)})") from None
        error = request_error(e, policy, url)
        raise error or DownloadError(f"request failed ({root_cause(e)})") from None


def request_error(error: Exception, policy: Policy, url: str) -> Optional[TransferError]:
    """The retryable failure that a ``requests`` exception stands for (None if it is not one)."""
    if cause(error, socket.gaierror) is not None:
        host = printable(urlsplit(url).hostname or "", 200)
        return TransferError(f"cannot resolve host {host} ({root_cause(error)})", kind="dns")
    slow = too_slow(error)
    if slow is not None:
        return TransferError(f"{slow} (the server sends them too slowly)", kind="timeout")
    if isinstance(error, requests.exceptions.ConnectTimeout):
        return TransferError(f"timed out connecting ({policy.connect_timeout:g} s)", kind="timeout")
    if isinstance(error, requests.exceptions.Timeout):
        return read_timeout(policy)
    if isinstance(error, requests.exceptions.ConnectionError):
        if "timed out" in str(error):  # a read timeout while streaming the body
            return read_timeout(policy)
        return TransferError(f"connection failed ({root_cause(error)})", kind="connect")
    return None
