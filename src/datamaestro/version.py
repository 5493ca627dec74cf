"""The version of datamaestro (as in pyproject.toml)."""

__version__ = "0.1.0"
