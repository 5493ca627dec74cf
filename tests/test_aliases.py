"""Aliases: the short names users type (``cifar10``) resolve to ids, in every command and in Python."""

from __future__ import annotations

import json
import sys

import pytest
from makefiles import write_module
from test_cifar_datasets import cifar10_archive
from test_original_commands import index_cache, shared_index  # noqa: F401 - the built-ins indexed once

from datamaestro.api import prepare_dataset
from datamaestro.errors import DefinitionError, UnknownDatasetError, UsageError
from datamaestro.registry import Registry

#: the names torchvision and TensorFlow Datasets users type, and the ids they name
BUILTIN = {
    "mnist": "com.lecun.mnist",
    "cifar10": "edu.toronto.cs.kriz.cifar-10",
    "cifar100": "edu.toronto.cs.kriz.cifar-100",
    "fashion_mnist": "com.github.zalandoresearch.fashion-mnist",
    "fashionmnist": "com.github.zalandoresearch.fashion-mnist",
    "kmnist": "jp.ac.rois.codh.kmnist",
    "qmnist": "com.github.facebookresearch.qmnist",
    "emnist_letters": "gov.nist.emnist.letters",
    "emnist_balanced": "gov.nist.emnist.balanced",
    "svhn_cropped": "edu.stanford.svhn",
    "svhn": "edu.stanford.svhn",
    "stl10": "edu.stanford.stl-10",
    "imagenette": "com.github.fastai.imagenette",
    "imagewoof": "com.github.fastai.imagewoof",
    "cifar10_1_v4": "com.github.modestyachts.cifar-10.1-v4",
    "imdb_reviews": "edu.stanford.ai.imdb",
    "oxford_iiit_pet": "uk.ac.ox.robots.oxford-iiit-pet",
    "usps": "tw.edu.ntu.csie.usps",
    "iris": "edu.uci.ics.iris",
    "imagenet2012": "org.image_net.ilsvrc2012",
    "imagenet": "org.image_net.ilsvrc2012",
}
EMNIST = ", ".join(f"gov.nist.emnist.{s}" for s in ("balanced", "byclass", "bymerge", "digits", "letters", "mnist"))

ALIASED = """
    from datamaestro.data.ml import Supervised
    from datamaestro.definitions import dataset

    @dataset(Supervised, aliases=["mnist", "Mine"])
    def digits():
        "My own digits."
        return {}
"""


def test_builtin_aliases_name_their_ids():
    registry = Registry()
    assert {name: registry.resolve(name) for name in BUILTIN} == BUILTIN
    assert registry.resolve("CIFAR10") == "edu.toronto.cs.kriz.cifar-10"  # torchvision's class names, in any case
    assert registry.resolve("FashionMNIST") == "com.github.zalandoresearch.fashion-mnist"
    assert registry.definition("cifar10").id == "edu.toronto.cs.kriz.cifar-10"
    ids = set(registry.ids())
    assert not ids & set(registry.aliases())  # no alias hides an id
    with pytest.raises(UnknownDatasetError):  # not defined yet: no alias may name it
        registry.resolve("places365")


def test_ambiguous_aliases_are_refused_with_their_ids():
    with pytest.raises(UsageError) as e:
        Registry().resolve("emnist")
    assert str(e.value) == f"'emnist' is ambiguous: it is an alias of {EMNIST}; use one of these ids"


def test_cli_accepts_aliases(cli):
    result = cli("info", "cifar10")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[:5] == [
        "edu.toronto.cs.kriz.cifar-10: CIFAR-10",
        "type: datamaestro.data.images.ImageClassification",
        "url: https://www.cs.toronto.edu/~kriz/cifar.html",
        "tags: images, classification, colour",
        "aliases: cifar10",
    ]
    assert json.loads(cli("info", "--json", "Fashion_MNIST").stdout)["aliases"] == ["fashion_mnist", "fashionmnist"]
    ambiguous = cli("info", "cifar10_1")
    assert (ambiguous.returncode, ambiguous.stdout) == (2, "")
    assert ambiguous.stderr == (
        "datamaestro: error: 'cifar10_1' is ambiguous: it is an alias of com.github.modestyachts.cifar-10.1, "
        "com.github.modestyachts.cifar-10.1-v4; use one of these ids\n"
    )
    unknown = cli("info", "cifr10")
    assert unknown.returncode == 2
    assert unknown.stderr == "datamaestro: error: unknown dataset 'cifr10'; closest ids: cifar10, cifar100, cifar10_1\n"
    assert cli("info", "minst").stderr == "datamaestro: error: unknown dataset 'minst'; closest ids: mnist, qmnist, kmnist\n"


def test_new_datasets_have_the_names_users_type(cli):
    named = {
        "food101": "ch.ethz.ee.vision.food-101",
        "coco2017": "org.cocodataset.coco-2017",
        "squad": "io.github.rajpurkar.squad-v1.1",
        "speech_commands": "org.tensorflow.speech-commands-v0.02",
        "voc2012": "uk.ac.ox.robots.pascal-voc-2012",
    }
    for name, dataset_id in named.items():
        result = cli("info", name, "--json")
        assert (result.returncode, json.loads(result.stdout or "{}").get("id")) == (0, dataset_id), (name, result.stderr)
    registry = Registry()
    assert registry.resolve("Flowers102") == "uk.ac.ox.robots.flowers-102"  # torchvision's class name, any case
    assert registry.resolve("voc2007_segmentation") == "uk.ac.ox.robots.pascal-voc-2007-segmentation"
    assert registry.aliases()["wine_quality"] == ["edu.uci.ics.wine-quality-red", "edu.uci.ics.wine-quality-white"]
    ambiguous = cli("info", "librispeech")
    assert (ambiguous.returncode, ambiguous.stdout) == (2, "")
    assert ambiguous.stderr == (
        "datamaestro: error: 'librispeech' is ambiguous: it is an alias of org.openslr.librispeech-dev-clean, "
        "org.openslr.librispeech-test-clean; use one of these ids\n"
    )


def test_search_and_completion_know_aliases(cli):
    found = cli("search", "alias:svhn_cropped")
    assert found.stdout.split()[:1] == ["edu.stanford.svhn"] and len(found.stdout.splitlines()) == 1
    assert [line.split()[0] for line in cli("search", "fashionmnist").stdout.splitlines()] == [
        "com.github.zalandoresearch.fashion-mnist"
    ]
    names = cli("completion", "--ids").stdout.splitlines()
    assert {"com.lecun.mnist", "mnist", "cifar10", "svhn_cropped", "emnist_letters"} <= set(names)
    assert "emnist" not in names  # ambiguous: completing it would only lead to an error
    assert len(names) == len(set(names))


def test_prepare_verify_rm_by_alias(env, cli, tmp_path):
    """docs/teams.md's ``datamaestro -q prepare cifar10``."""
    source = tmp_path / "from"
    source.mkdir()
    cifar10_archive(source)
    result = cli("-q", "prepare", "cifar10", "--from", str(source), "--no-verify")
    assert result.returncode == 0, result.stderr
    folder = env.data / "datasets" / "edu.toronto.cs.kriz.cifar-10"
    description = json.loads(result.stdout)
    assert description["id"] == "edu.toronto.cs.kriz.cifar-10"
    assert description["train"]["images"]["path"] == str(folder / "arrays" / "train_images.npy")
    assert prepare_dataset("CIFAR10").dataset_id == "edu.toronto.cs.kriz.cifar-10"
    verified = cli("verify", "cifar10")
    assert (verified.returncode, verified.stdout) == (
        0, "edu.toronto.cs.kriz.cifar-10: OK (2 files, 1 accepted with --no-verify)\n"
    )
    store = (tmp_path / "store").as_uri()
    pushed = cli("--store", store, "push", "cifar10")  # docs/teams.md's push, of files taken with --no-verify
    assert (pushed.returncode, pushed.stdout) == (
        0, f"edu.toronto.cs.kriz.cifar-10: 0 uploaded, 0 already in the store, 1 not pushed (cifar-10-batches-py) ({store})\n"
    )
    removed = cli("rm", "-y", "cifar10")
    assert removed.returncode == 0, removed.stderr
    assert removed.stdout.startswith(f"removed {folder} (")
    assert not folder.exists()
    assert cli("rm", "-y", "cifar10").stderr == (
        f"datamaestro: error: edu.toronto.cs.kriz.cifar-10 is not prepared in {env.data}; nothing to remove\n"
    )


def test_aliases_of_other_repositories_are_indexed_and_may_clash(env, cli):
    write_module(env.use_registry(), "org.example", ALIASED)
    before = set(sys.modules)
    registry = Registry()
    assert registry.resolve("MINE") == "org.example.digits"
    assert not [name for name in set(sys.modules) - before if name.endswith("org.example")]  # from the index
    assert registry.aliases()["mnist"] == ["com.lecun.mnist", "org.example.digits"]
    result = cli("prepare", "mnist")
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == (
        "datamaestro: error: 'mnist' is ambiguous: it is an alias of com.lecun.mnist, org.example.digits; "
        "use one of these ids\n"
    )
    assert cli("search", "alias:mine").stdout == "org.example.digits  My own digits.\n"


@pytest.mark.parametrize("aliases", ['["a.b"]', '"cifar"', '["../x"]', '[""]'])
def test_malformed_aliases_are_refused(env, aliases):
    path = write_module(env.use_registry(), "org.bad", f"""
        from datamaestro.data.ml import Supervised
        from datamaestro.definitions import dataset

        @dataset(Supervised, aliases={aliases})
        def thing():
            return {{}}
    """)
    with pytest.raises(DefinitionError) as e:
        Registry().definition("org.bad.thing")
    assert str(path) in str(e.value) and "alias" in str(e.value)
