# TEMPORARY SHIM
"""Transport (single and segmented HTTP, headers, mirror health): re-exported from the old modules.

The transport package replaces this file; until then fetching imports these names from here.
"""

from datamaestro.download.health import MirrorHealth, for_data_folder
from datamaestro.download.http import Interrupted, Policy, Transfer, TransferError, discard, fetch, kept_bytes

__all__ = [
    "Interrupted", "MirrorHealth", "Policy", "Transfer", "TransferError", "discard", "fetch", "for_data_folder",
    "kept_bytes",
]
