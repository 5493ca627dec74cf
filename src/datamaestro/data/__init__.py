"""Typed data objects returned by dataset definitions."""

from datamaestro.data.base import Base, data_type, from_json_value

__all__ = ["Base", "data_type", "from_json_value"]
