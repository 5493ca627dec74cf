"""Transport: one URL into one file, over HTTP(S), with resume, retries, deadlines, segments.

``fetch`` is the one entry point (``retry``); ``base`` holds what every
transfer shares (policy, outcome, errors, the stall rule, reading a body),
``single`` one try over one connection, ``segments`` a large file over
several, ``partial`` the partial file and its state, ``session`` the shared
HTTP session, ``headers`` the deadline on response headers, and ``health``
the memory of mirrors that failed.
"""

from datamaestro.download.transport.base import Interrupted, Policy, Transfer, TransferError, hedged
from datamaestro.download.transport.health import MirrorHealth, for_data_folder
from datamaestro.download.transport.partial import discard, kept_bytes
from datamaestro.download.transport.retry import fetch

__all__ = [
    "Interrupted",
    "MirrorHealth",
    "Policy",
    "Transfer",
    "TransferError",
    "discard",
    "fetch",
    "for_data_folder",
    "hedged",
    "kept_bytes",
]
