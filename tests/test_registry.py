"""Definitions, ids, the registry index, search and info."""

import json
import subprocess
import sys

import pytest
from makefiles import write_module

from datamaestro.errors import UnknownDatasetError
from datamaestro.registry import Registry

MNIST_LINE = "com.lecun.mnist                           The MNIST database of handwritten digits."
MNIST_CSV_LINE = (
    "com.pjreddie.mnist-csv                    "
    "MNIST in CSV: one row per image, the label then 784 pixel values."
)
FASHION_LINE = (
    "com.github.zalandoresearch.fashion-mnist  "
    "Fashion-MNIST: Zalando's article images, a drop-in replacement for MNIST."
)

IDS_MODULE = """
    from datamaestro.data.ml import Supervised
    from datamaestro.definitions import dataset

    @dataset(Supervised, tags=["toy"])
    def Default():
        "A default id."
        return {}

    @dataset(Supervised, id="renamed")
    def relative():
        "A relative id."
        return {}

    @dataset(Supervised, id="org.absolute.thing")
    def absolute():
        "An absolute id."
        return {}

    @dataset(Supervised, id="")
    def module_itself():
        "The module path as id."
        return {}
"""


def test_ids_follow_module_path_and_function_name(env):
    write_module(env.use_registry(), "org.example", IDS_MODULE)
    ids = sorted(e.id for e in Registry().entries() if e.repository != "builtin")
    assert ids == ["org.absolute.thing", "org.example", "org.example.default", "org.example.renamed"]
    for dataset_id in ids:  # the loaded definitions agree with the static index
        assert Registry().definition(dataset_id).id == dataset_id


def test_search_finds_builtin_mnists(cli):
    result = cli("search", "mnist")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [FASHION_LINE, MNIST_LINE, MNIST_CSV_LINE]


def test_search_terms_all_match_case_insensitively(cli):
    mnist_alone = "com.lecun.mnist  The MNIST database of handwritten digits.\n"
    assert cli("search", "MNIST", "Digits").stdout == (
        "com.lecun.mnist         The MNIST database of handwritten digits.\n"
        "com.pjreddie.mnist-csv  MNIST in CSV: one row per image, the label then 784 pixel values.\n"
    )
    assert cli("search", "tag:fashion").stdout.splitlines() == [FASHION_LINE]
    assert cli("search", "tag:fash").returncode == 1  # tags match whole words
    assert cli("search", "id:lecun").stdout == mnist_alone


def test_search_without_match(cli):
    result = cli("search", "nothing-like-this")
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr == "no dataset matches 'nothing-like-this'\n"


def test_search_unknown_field(cli):
    result = cli("search", "colour:red")
    assert result.returncode == 2
    assert result.stderr == (
        "datamaestro: error: unknown search field 'colour' "
        "(known: desc, description, id, name, tag, tags, type, url)\n"
    )


def test_search_json(cli):
    result = cli("search", "--json", "tag:fashion")
    assert json.loads(result.stdout) == [
        {
            "id": "com.github.zalandoresearch.fashion-mnist",
            "name": "Fashion-MNIST",
            "description": (
                "Fashion-MNIST: Zalando's article images, a drop-in replacement for MNIST.\n\n"
                "70,000 grey-scale 28x28 images of 10 kinds of clothing (60,000 for\n"
                "training, 10,000 for test), in the same IDX format as MNIST."
            ),
            "tags": ["images", "classification", "fashion"],
            "type": "datamaestro.data.images.ImageClassification",
            "url": "https://github.com/zalandoresearch/fashion-mnist",
        }
    ]


def test_search_does_not_run_definition_modules(env, cli):
    marker = env.root / "imported"
    write_module(env.use_registry(), "org.sideeffect", f"""
        from pathlib import Path
        from datamaestro.data.ml import Supervised
        from datamaestro.definitions import dataset
        Path({str(marker)!r}).write_text("ran")

        @dataset(Supervised, tags=["quiet"])
        def thing():
            "Something with a side effect at import."
            return {{}}
    """)
    assert cli("search", "tag:quiet").stdout.splitlines() == [
        "org.sideeffect.thing  Something with a side effect at import."
    ]
    assert not marker.exists()


def test_dynamic_definitions_are_indexed_by_running_the_module(env, cli):
    write_module(env.use_registry(), "org.generated", """
        from datamaestro.data.ml import Supervised
        from datamaestro.definitions import dataset

        for size in (10, 20):
            globals()[f"d{size}"] = dataset(Supervised, id=f"size{size}", tags=["gen"])(
                lambda: {}
            )
    """)
    result = cli("search", "tag:gen")
    assert [line.split()[0] for line in result.stdout.splitlines()] == [
        "org.generated.size10", "org.generated.size20"
    ]


def test_index_follows_edits(env, cli):
    folder = env.use_registry()
    source = """
        from datamaestro.data.ml import Supervised
        from datamaestro.definitions import dataset

        @dataset(Supervised)
        def {name}():
            "{doc}"
            return {{}}
    """
    write_module(folder, "org.edit", source.format(name="first", doc="First version."))
    assert cli("search", "id:org.edit").stdout == "org.edit.first  First version.\n"
    path = write_module(folder, "org.edit", source.format(name="second", doc="Second, longer version."))
    assert cli("search", "id:org.edit").stdout == "org.edit.second  Second, longer version.\n"
    assert (env.cache / "index.marshal").exists() and any(env.cache.glob("plugins-*.marshal"))
    path.unlink()
    assert cli("search", "id:org.edit").returncode == 1


def test_unknown_id_suggests_closest(cli):
    result = cli("info", "com.lecun.mnst")
    assert result.returncode == 2
    assert result.stderr == (
        "datamaestro: error: unknown dataset 'com.lecun.mnst'; closest ids: com.lecun.mnist\n"
    )
    assert cli("prepare", "zzz").stderr == (
        "datamaestro: error: unknown dataset 'zzz'; "
        "try 'datamaestro search' to list the known datasets\n"
    )


def test_unknown_id_in_python():
    with pytest.raises(UnknownDatasetError) as e:
        Registry().definition("com.lecun.fashion")
    assert e.value.suggestions == ["com.lecun.mnist", "com.github.zalandoresearch.fashion-mnist"]


def test_info_text_and_json(env, cli):
    result = cli("info", "com.lecun.mnist")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    where = env.data / "datasets" / "com.lecun.mnist"
    assert lines[:11] == [
        "com.lecun.mnist: MNIST",
        "type: datamaestro.data.images.ImageClassification",
        "url: http://yann.lecun.com/exdb/mnist/",
        "tags: images, classification, digits, handwriting",
        f"prepared: no (would be stored in {where})",
        "files:",
        "  train_images.idx",
        "    url: https://ossci-datasets.s3.amazonaws.com/mnist/train-images-idx3-ubyte.gz",
        "    mirrors: http://yann.lecun.com/exdb/mnist/train-images-idx3-ubyte.gz",
        "    checksum: md5:f68b3c2dcbeaaa9fbdd348bbdeb94873",
        "  train_labels.idx",
    ]
    assert "The MNIST database of handwritten digits." in lines
    info = json.loads(cli("info", "--json", "com.lecun.mnist").stdout)
    assert info["prepared"] is False
    assert info["path"] == str(where)
    assert [f["checksum"] for f in info["files"]] == [
        "md5:f68b3c2dcbeaaa9fbdd348bbdeb94873",
        "md5:d53e105ee54ea40749a09fcbcd1e9432",
        "md5:9fb629c4189551a2d022fa330f9573f3",
        "md5:ec29112dd5afa0611ce80d1b7f02629c",
    ]


def test_fashion_mnist_class_names():
    definition = Registry().definition("com.github.zalandoresearch.fashion-mnist")
    assert definition.function.__globals__["CATEGORIES"] == [
        "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
        "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
    ]


def test_plugin_repository_through_entry_point(env, tmp_path):
    """An installed package declaring a `datamaestro.repositories` entry point."""
    site = tmp_path / "site"
    write_module(site, "myplugin.net.example", """
        from datamaestro.data.ml import Supervised
        from datamaestro.definitions import dataset

        @dataset(Supervised, tags=["plugin"])
        def corpus():
            "A dataset from a plugin package."
            return {}
    """)
    (site / "myplugin" / "__init__.py").write_text("")

    def search():
        return subprocess.run(
            [sys.executable, "-c", "from datamaestro.cli.main import main; raise SystemExit(main())",
             "search", "tag:plugin"],
            capture_output=True, text=True, env={**env_vars(), "PYTHONPATH": str(site)},
        )

    assert search().returncode == 1  # the package is there, but not installed
    dist = site / "myplugin-1.0.dist-info"  # installing it changes its sys.path folder
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: myplugin\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[datamaestro.repositories]\nmyplugin = myplugin\n")
    result = search()
    assert result.stdout == "net.example.corpus  A dataset from a plugin package.\n", result.stderr


def env_vars():
    import os

    return dict(os.environ)
