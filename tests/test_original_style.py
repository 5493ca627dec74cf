"""A definition written exactly in the style of the original datamaestro README works unchanged."""

import json

import numpy as np
from makefiles import mnist_gz_files, write_module

import datamaestro

ORIGINAL = '''
from datamaestro_image.data import ImageClassification, LabelledImages, Base
from datamaestro.data.ml import Supervised
from datamaestro.data.tensor import IDX
from datamaestro.download.single import filedownloader
from datamaestro.definitions import dataset

@filedownloader("train_images.idx", "http://yann.lecun.com/exdb/mnist/train-images-idx3-ubyte.gz")
@filedownloader("train_labels.idx", "http://yann.lecun.com/exdb/mnist/train-labels-idx1-ubyte.gz")
@filedownloader("test_images.idx", "http://yann.lecun.com/exdb/mnist/t10k-images-idx3-ubyte.gz")
@filedownloader("test_labels.idx", "http://yann.lecun.com/exdb/mnist/t10k-labels-idx1-ubyte.gz")
@dataset(ImageClassification, url="http://yann.lecun.com/exdb/mnist/")
def MNIST(train_images, train_labels, test_images, test_labels):
    """The MNIST database ..."""
    return {
        "train": LabelledImages(images=IDX(path=train_images), labels=IDX(path=train_labels)),
        "test": LabelledImages(images=IDX(path=test_images), labels=IDX(path=test_labels)),
    }
'''


def test_original_readme_definition(env, server, cli):
    files, arrays = mnist_gz_files()
    for name, data in files.items():
        server.files[f"/lecun/{name}"] = data
    env.mirror("http://yann.lecun.com/exdb/mnist/", server.url("lecun/"))
    write_module(env.use_registry(), "org.example", ORIGINAL)

    assert cli("search", "id:org.example").stdout == "org.example.mnist  The MNIST database ...\n"
    result = cli("prepare", "org.example.mnist")
    assert result.returncode == 0, result.stderr
    assert sum("has no published checksum" in line for line in result.stderr.splitlines()) == 4
    folder = env.data / "datasets" / "org.example.mnist"
    assert json.loads(result.stdout)["train"]["images"]["path"] == str(folder / "train_images.idx")
    ds = datamaestro.prepare_dataset("org.example.mnist")
    np.testing.assert_array_equal(ds.train.images.data(), arrays["train_images"])
    np.testing.assert_array_equal(ds.test.labels.data(), arrays["test_labels"])
