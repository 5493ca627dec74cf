"""Parquet files of the Hugging Face Hub: their columns, the features the Hub records, images as bytes.

The ``datasets`` library writes its features (``ClassLabel`` names, ``Image``
columns...) as JSON in the schema's ``huggingface`` metadata; the dataset
card's ``dataset_info`` says the same for files written otherwise. An image
column is a struct of ``bytes`` and ``path``: images are read as bytes and
decoded by the loaders. Reading needs pyarrow (the ``hf`` extra).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

import numpy as np

from datamaestro.errors import FormatError
from datamaestro.optional import require


def pyarrow_parquet() -> Any:
    """``pyarrow.parquet`` (a one-line error naming the ``hf`` extra without it)."""
    return require("pyarrow.parquet", "Parquet files", "pyarrow", "hf")


@dataclass(slots=True)
class Layout:
    """What the columns of a split hold: an image column, a class label column, the other columns."""

    image: Optional[str] = None
    label: Optional[str] = None
    categories: Optional[list[str]] = None
    columns: list[str] = field(default_factory=list)


def schema_of(path: Path) -> Any:
    """The Arrow schema of a Parquet file."""
    try:
        return pyarrow_parquet().read_schema(path)
    except (OSError, ValueError) as e:
        raise FormatError(f"{path}: not a readable Parquet file ({e})") from None


def recorded_features(schema: Any, card_features: Any) -> dict[str, Any]:
    """Column name -> feature (``{"_type": "ClassLabel", "names": [...]}``...): the file's own
    ``huggingface`` metadata, else the card's ``dataset_info`` features (a list of ``name``/``dtype``)."""
    meta = (schema.metadata or {}).get(b"huggingface")
    if meta:
        try:
            features = json.loads(meta)["info"]["features"]
            if isinstance(features, dict):
                return features
        except (ValueError, KeyError, TypeError):
            pass
    out: dict[str, Any] = {}
    for f in card_features if isinstance(card_features, list) else []:
        dtype = f.get("dtype") if isinstance(f, dict) else None
        if isinstance(dtype, dict) and isinstance(dtype.get("class_label"), dict):
            names = dtype["class_label"].get("names") or {}
            listed = [names[k] for k in sorted(names, key=int)] if isinstance(names, dict) else list(names)
            out[str(f["name"])] = {"_type": "ClassLabel", "names": [str(n) for n in listed]}
        elif dtype == "image":
            out[str(f["name"])] = {"_type": "Image"}
    return out


def is_image_column(arrow_type: Any) -> bool:
    """Whether an Arrow type is the Hub's image struct ``{bytes, path}``."""
    names = {arrow_type.field(i).name for i in range(arrow_type.num_fields)} if hasattr(arrow_type, "num_fields") else set()
    return {"bytes", "path"} <= names


def layout_of(path: Path, card_features: Any = None) -> Layout:
    """The layout of a split from its first Parquet file (and the card's features)."""
    schema = schema_of(path)
    features = recorded_features(schema, card_features)
    layout = Layout()
    for name, arrow_type in zip(schema.names, schema.types):
        feature = features.get(name) or {}
        if layout.image is None and (feature.get("_type") == "Image" or is_image_column(arrow_type)):
            layout.image = name
        elif layout.label is None and feature.get("_type") == "ClassLabel":
            layout.label, layout.categories = name, [str(n) for n in feature.get("names") or []]
        else:
            layout.columns.append(name)
    return layout


def image_bytes(paths: Sequence[Path], column: str) -> list[Any]:
    """The ``bytes`` of an image column, as Arrow binary arrays (one per chunk), in file order."""
    chunks = []
    for path in paths:
        try:
            table = pyarrow_parquet().read_table(path, columns=[column], memory_map=True)
        except (OSError, ValueError) as e:
            raise FormatError(f"{path}: cannot read column {column!r} ({e})") from None
        for chunk in table.column(column).chunks:
            chunks.append(chunk.field("bytes"))
    return chunks


def column_arrays(paths: Sequence[Path], columns: Sequence[str]) -> dict[str, np.ndarray]:
    """Plain columns of the files, concatenated, as numpy arrays (strings as unicode; nulls refused)."""
    out: dict[str, list[np.ndarray]] = {name: [] for name in columns}
    for path in paths:
        try:
            table = pyarrow_parquet().read_table(path, columns=list(columns))
        except (OSError, ValueError) as e:
            raise FormatError(f"{path}: cannot read its columns ({e})") from None
        for name in columns:
            column = table.column(name)
            if column.null_count:
                raise FormatError(f"{path}: column {name!r} has missing values, which a table cannot hold")
            out[name].append(np.asarray(column.to_pylist() if is_string(column.type) else column.to_numpy()))
    return {name: np.concatenate(parts) if parts else np.zeros(0) for name, parts in out.items()}


def pyarrow() -> Any:
    """``pyarrow`` (a one-line error naming the ``hf`` extra without it)."""
    return require("pyarrow", "Parquet files", "pyarrow", "hf")


def is_string(arrow_type: Any) -> bool:
    """Whether an Arrow type holds strings."""
    types = pyarrow().types
    return bool(types.is_string(arrow_type) or types.is_large_string(arrow_type))


def plain_columns(path: Path, names: Sequence[str]) -> list[str]:
    """The columns among ``names`` that a table can hold: numbers, booleans, strings (not lists or structs)."""
    schema = schema_of(path)
    types = pyarrow().types
    keep = []
    for name in names:
        t = schema.field(name).type
        if types.is_integer(t) or types.is_floating(t) or types.is_boolean(t) or is_string(t):
            keep.append(name)
    return keep


def structured(columns: dict[str, np.ndarray]) -> np.ndarray:
    """Columns of equal length as one structured array (the layout of ``datamaestro.data.table.Table``)."""
    lengths = {len(v) for v in columns.values()}
    if len(lengths) > 1:
        raise FormatError("the Parquet columns differ in length")
    n = lengths.pop() if lengths else 0
    dtype = [(name, values.dtype) for name, values in columns.items()]
    table = np.zeros(n, dtype=dtype)
    for name, values in columns.items():
        table[name] = values
    return table
