"""datamaestro: find, fetch, verify and load machine-learning datasets by name."""

from datamaestro.api import from_json, prepare_dataset, to_json
from datamaestro.version import __version__

__all__ = ["prepare_dataset", "from_json", "to_json", "__version__"]
