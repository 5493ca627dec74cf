"""The @dataset decorator, resources, and typed data objects."""


import pytest
from makefiles import write_module

from datamaestro.data.base import Base, from_json_value
from datamaestro.data.images import ImageClassification, LabelledImages
from datamaestro.data.ml import Supervised
from datamaestro.data.tensor import IDX
from datamaestro.definitions import DatasetDefinition, dataset
from datamaestro.download.single import filedownloader
from datamaestro.errors import DefinitionError
from datamaestro.registry import Registry


def test_resources_in_reading_order_whichever_side_of_dataset():
    @filedownloader("a.idx", "http://example.invalid/a.gz")
    @dataset(Supervised, id="x.above")
    @filedownloader("b.idx", "http://example.invalid/b")
    def above(a, b):
        return {}

    assert isinstance(above, DatasetDefinition)
    assert [r.varname for r in above.resources] == ["a", "b"]
    assert above.resources[0].compression == "gz" and above.resources[1].compression is None
    assert above.id == "x.above"


def test_varname_from_file_name():
    assert filedownloader("mnist-train.csv", "http://x.invalid/f").varname == "mnist_train"
    assert filedownloader("f.csv", "http://x.invalid/f", varname="other").varname == "other"


def test_duplicate_resource_names_are_refused():
    with pytest.raises(DefinitionError, match="x.dup: two resources are named 'a'"):
        @filedownloader("a.idx", "http://example.invalid/1")
        @filedownloader("a.bin", "http://example.invalid/2")
        @dataset(Supervised, id="x.dup")
        def dup(a):
            return {}


def test_bad_checksum_text_is_refused():
    with pytest.raises(DefinitionError, match="invalid checksum 'md5:xyz': expected '<algorithm>:<hex>'"):
        filedownloader("a", "http://example.invalid/a", checksum="md5:xyz")


def test_broken_definition_module_names_the_file(env, cli):
    path = write_module(env.use_registry(), "org.broken", """
        from datamaestro.data.ml import Supervised
        from datamaestro.definitions import dataset

        @dataset(Supervised)
        def thing():
            "Fine so far."
            return {}

        raise RuntimeError("oops")
    """)
    result = cli("info", "org.broken.thing")
    assert result.returncode == 1
    assert result.stderr == (
        f"warning: definition module {path} line 10: RuntimeError: oops; its datasets are skipped\n"
        f"datamaestro: error: definition module {path} line 10: RuntimeError: oops; 'org.broken.thing' cannot be loaded\n"
    )


def test_definition_returning_nonsense(env):
    write_module(env.use_registry(), "org.bad", """
        from datamaestro.data.ml import Supervised
        from datamaestro.definitions import dataset

        @dataset(Supervised)
        def wrong():
            return 42

        @dataset(Supervised)
        def fields():
            return {"trian": None}
    """)
    from datamaestro.config import load_settings

    settings = load_settings()
    with pytest.raises(DefinitionError, match="org.bad.wrong: the definition returned int, expected a dict"):
        Registry().definition("org.bad.wrong").prepare(settings)
    with pytest.raises(DefinitionError, match="org.bad.fields: cannot build datamaestro.data.ml.Supervised"):
        Registry().definition("org.bad.fields").prepare(settings)


def test_data_objects_round_trip_through_json(tmp_path):
    ds = ImageClassification(
        train=LabelledImages(images=IDX(path=tmp_path / "i"), labels=IDX(path=str(tmp_path / "l"))),
        categories=["a", "b"],
    )
    assert ds.train.labels.path == tmp_path / "l"  # strings become paths
    assert ds.train.categories == ["a", "b"]  # splits carry the class names
    description = ds.to_json()
    assert description == {
        "type": "datamaestro.data.images.ImageClassification",
        "train": {
            "type": "datamaestro.data.images.LabelledImages",
            "images": {"type": "datamaestro.data.tensor.IDX", "path": str(tmp_path / "i")},
            "labels": {"type": "datamaestro.data.tensor.IDX", "path": str(tmp_path / "l")},
            "categories": ["a", "b"],
        },
        "categories": ["a", "b"],
    }
    assert from_json_value(description) == ds


def test_subclasses_register_their_type_name():
    from dataclasses import dataclass

    @dataclass(kw_only=True)
    class Custom(Base):
        value: int

    assert Custom.type_name == f"{__name__}.test_subclasses_register_their_type_name.<locals>.Custom"
    assert from_json_value(Custom(value=3).to_json()) == Custom(value=3)


def test_version(cli):
    result = cli("--version")
    assert result.returncode == 0
    assert result.stdout == "datamaestro 0.1.0\n"


def test_usage_error_exit_code(cli):
    result = cli("prepare")
    assert result.returncode == 2
    assert "the following arguments are required: id" in result.stderr
