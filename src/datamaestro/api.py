"""The Python entry points: prepare a dataset by id, and rebuild data from its JSON."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Optional

from datamaestro.config import Settings, load_settings
from datamaestro.data.base import Base, from_json_value
from datamaestro.download.context import Request
from datamaestro.errors import FormatError
from datamaestro.formats import images
from datamaestro.registry import Registry


def prepare_dataset(
    dataset_id: str,
    *,
    datadir: Optional[str | Path] = None,
    quiet: bool = False,
    settings: Optional[Settings] = None,
    request: Optional[Request] = None,
) -> Base:
    """Download, verify and cache ``dataset_id`` if needed; return its typed data.

    ``settings``: the configuration (else read from the environment and the
    config file, with ``datadir`` as the data folder); ``request``: what this
    call asks for beyond it (``--force``, ``--from DIR``...; else only ``quiet``).
    The configured ``max_image_pixels`` becomes the image loaders' bound
    (``limit_image_pixels``).
    """
    settings = settings or load_settings(datadir)
    limit_image_pixels(settings)
    definition = Registry().definition(dataset_id)
    data = definition.prepare(settings, request or Request(quiet=quiet))
    data.dataset_id = definition.id  # type: ignore[attr-defined]
    return data


def limit_image_pixels(settings: Settings) -> None:
    """Make the configured ``max_image_pixels`` (if any) the bound of every image opened, for this process."""
    if settings.max_image_pixels is not None:
        images.MAX_PIXELS = settings.max_image_pixels


def to_json(dataset_id: str, data: Base) -> dict[str, Any]:
    """The JSON description printed by ``datamaestro prepare``."""
    return {"id": dataset_id, **data.to_json()}


def from_json(description: str | dict[str, Any]) -> Base:
    """The typed data described by the JSON that ``prepare`` prints."""
    if isinstance(description, str):
        try:
            description = json.loads(description)
        except json.JSONDecodeError as e:
            raise FormatError(f"invalid dataset JSON: {e}") from None
    if not isinstance(description, dict) or "type" not in description:
        raise FormatError("invalid dataset JSON: expected an object with a 'type' key")
    data = from_json_value(description)
    if "id" in description:
        data.dataset_id = description["id"]
    return data
