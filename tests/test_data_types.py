"""Data types: keyword-only dataclasses made from their annotations, and their JSON round trip."""

from __future__ import annotations

from dataclasses import InitVar, dataclass, field
from pathlib import Path
from typing import Optional

import pytest

from datamaestro.config import Settings
from datamaestro.data.base import Base, from_json_value
from datamaestro.hashing import FileHash


class Pair(Base):
    path: Path
    label: Optional[str] = None


def test_data_types_convert_paths_and_round_trip_through_json(tmp_path):
    pair = Pair(path=str(tmp_path / "a"), label="x")  # type: ignore[arg-type]
    assert pair.path == tmp_path / "a"
    assert pair.to_json() == {"type": Pair.type_name, "path": str(tmp_path / "a"), "label": "x"}
    assert from_json_value(pair.to_json()) == pair
    with pytest.raises(TypeError, match=r"takes 1 positional argument but 2 were given"):  # keyword-only
        Pair(tmp_path)  # type: ignore[misc]


def test_a_data_type_written_as_a_dataclass_still_works(tmp_path):
    @dataclass(kw_only=True)
    class Old(Base):
        path: Path
        count: int = 0

    old = Old(path=str(tmp_path))  # type: ignore[arg-type]
    assert (old.path, old.count) == (tmp_path, 0)  # __post_init__ converted the path
    assert from_json_value(old.to_json()) == old


def test_records_survive_pickle_and_copy(tmp_path):
    import copy
    import pickle

    frozen = FileHash(3, "ab")
    data = Pair(path=tmp_path / "a", label="x")
    for record in (frozen, data, Settings(datadir=tmp_path, mirrors={"a": "b"})):
        assert pickle.loads(pickle.dumps(record)) == record
        assert copy.deepcopy(record) == record == copy.copy(record)


def test_a_dataclass_deriving_from_a_type_with_fields_keeps_them(tmp_path):
    """Data types are dataclasses: a @dataclass deriving from one takes its fields too."""
    from datamaestro.data.ml import Supervised
    from datamaestro.data.tensor import IDX

    @dataclass(kw_only=True)
    class Noted(IDX):
        note: str = ""

    @dataclass(kw_only=True)
    class Local(Supervised):
        pass

    noted = Noted(path=str(tmp_path), note="n")  # type: ignore[arg-type]
    assert noted.to_json() == {"type": Noted.type_name, "path": str(tmp_path), "note": "n"}
    assert from_json_value(noted.to_json()) == noted
    assert Local(train=noted).splits() == {"train": noted}

    class Plain(IDX):  # the same without @dataclass
        note: str = ""

    assert Plain(path=str(tmp_path), note="n").to_json() == {"type": Plain.type_name, "path": str(tmp_path), "note": "n"}


def test_data_types_are_keyword_only_dataclasses_with_copied_list_defaults(tmp_path):
    import dataclasses

    from datamaestro.data.images import LabelledImages
    from datamaestro.data.tensor import IDX

    assert [f.name for f in dataclasses.fields(LabelledImages)] == ["images", "labels", "categories"]
    split = LabelledImages(images=IDX(path=tmp_path), labels=IDX(path=tmp_path))
    assert repr(split).startswith("LabelledImages(images=IDX(path=")

    class Tagged(Base):
        tags: list[str] = dataclasses.field(default_factory=list)
        names: dict[str, str] = {}  # noqa: RUF012 - copied for each object (docs/definitions.md)

    first, second = Tagged(), Tagged()
    first.tags.append("a")
    first.names["a"] = "b"
    assert (first.tags, second.tags, first.names, second.names) == (["a"], [], {"a": "b"}, {})


def test_dataclass_data_types_keep_their_init_false_and_initvar_fields(tmp_path):
    @dataclass(kw_only=True)
    class Sized(Base):
        path: Path
        size: int = field(init=False, default=0)
        scale: InitVar[int] = 1

        def __post_init__(self, scale: int) -> None:
            super().__post_init__()
            self.size = 3 * scale

    sized = Sized(path=str(tmp_path), scale=2)  # type: ignore[arg-type]
    assert sized.to_json() == {"type": Sized.type_name, "path": str(tmp_path), "size": 6}
    assert from_json_value(sized.to_json()).size == 3  # not a constructor argument: computed again
