"""datamaestro convert and export, run as a user would (subprocess)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
from datumaro_layouts import write_all
from makefiles import mnist_gz_files

from datamaestro.formats import read


def test_convert_chain_keeps_arrays(cli, tmp_path):
    dm = write_all(tmp_path / "dm")
    source = read(dm / "mnist_dataset", "mnist")
    previous = (dm / "mnist_dataset", "mnist")
    for fmt in ("mnist_csv", "cifar", "mnist"):
        out = tmp_path / fmt
        result = cli("convert", "-if", previous[1], "-i", str(previous[0]), "-f", fmt, "-o", str(out))
        assert result.returncode == 0, result.stderr
        assert result.stdout == ""
        assert result.stderr.splitlines()[-1] == f"wrote 5 items (test 3, train 2) in the {fmt} layout to {out}"
        previous = (out, fmt)
    back = read(tmp_path / "mnist", "mnist")
    for name, subset in source:
        assert np.array_equal(back.subsets[name].images, subset.images)
        assert back.subsets[name].labels.tolist() == subset.labels.tolist()


def test_convert_filter_and_dataset_meta(cli, tmp_path):
    dm = write_all(tmp_path / "dm")
    out = tmp_path / "out"
    result = cli(
        "convert", "-if", "cifar", "-i", str(dm / "cifar100_dataset"), "-f", "cifar", "-o", str(out),
        "--filter", "label=bird", "--save-dataset-meta",
    )
    assert result.returncode == 0, result.stderr
    assert json.loads((out / "dataset_meta.json").read_text()) == {"labels": ["airplane", "automobile", "bird"]}
    ds = read(out, "cifar")
    assert {n: s.item_ids() for n, s in ds} == {"test": ["image_3"], "train": ["image_3"]}
    assert [im.shape for im in ds.subsets["train"].images] == [(3, 4, 5)]
    # superclasses are kept: CIFAR-100's 'meta' file
    assert (out / "meta").is_file()


def test_convert_to_imagenet_with_image_ext(cli, tmp_path):
    dm = write_all(tmp_path / "dm")
    out = tmp_path / "out"
    result = cli("convert", "-if", "mnist_csv", "-i", str(dm / "mnist_csv_dataset"),
                 "-f", "imagenet", "-o", str(out), "--image-ext", ".bmp", "-q")
    assert result.returncode == 0, result.stderr
    assert result.stderr == (
        "warning: classes without images get no folder (Datumaro cannot open an empty one); "
        "Datumaro will not know them: 3, 4, 6, 8, 9\n"
        "warning: .bmp files carry no class list: reading back gives the sorted folder names\n"
    )
    files = sorted(p.relative_to(out).as_posix() for p in out.rglob("*.bmp"))
    assert files == ["0/test_0.bmp", "1/test_2.bmp", "2/test_1.bmp", "5/train_0.bmp", "7/train_1.bmp"]


def test_refuses_non_empty_output(cli, tmp_path):
    dm = write_all(tmp_path / "dm")
    out = tmp_path / "out"
    out.mkdir()
    (out / "mine.txt").write_text("keep")
    result = cli("convert", "-if", "mnist", "-i", str(dm / "mnist_dataset"), "-f", "cifar", "-o", str(out))
    assert result.returncode == 2
    assert result.stderr == (
        f"datamaestro: error: {out}: the output folder is not empty; choose another or pass --overwrite\n"
    )
    assert [p.name for p in out.iterdir()] == ["mine.txt"]
    result = cli("convert", "-if", "mnist", "-i", str(dm / "mnist_dataset"), "-f", "cifar", "-o", str(out),
                 "--overwrite")
    assert result.returncode == 0
    assert sorted(p.name for p in out.iterdir()) == ["batches.meta", "test", "train"]


def test_bad_filter(cli, tmp_path):
    dm = write_all(tmp_path / "dm")
    result = cli("convert", "-if", "mnist", "-i", str(dm / "mnist_dataset"), "-f", "cifar",
                 "-o", str(tmp_path / "o"), "--filter", "label=11")
    assert result.returncode == 2
    assert result.stderr == (
        "datamaestro: error: filter 'label=11': no label '11' (labels: 0, 1, 2, 3, 4, 5, 6, 7, 8, 9)\n"
    )
    assert not (tmp_path / "o").exists()


def test_export_prepares_then_writes(env, server, cli, tmp_path):
    files, arrays = mnist_gz_files(n_train=6, n_test=4)
    for name, data in files.items():
        server.files[f"/mnist/{name}"] = data
    env.mirror("https://ossci-datasets.s3.amazonaws.com/mnist/", server.url("/mnist/"))
    env.mirror("http://yann.lecun.com/exdb/mnist/", server.url("/mnist/"))
    # the published md5s do not match these small files: register a definition with theirs
    registry = env.use_registry()
    from makefiles import md5, write_module

    write_module(registry, "org.example", f'''
        from datamaestro.data.images import ImageClassification, LabelledImages
        from datamaestro.data.tensor import IDX
        from datamaestro.download.single import filedownloader
        from datamaestro.definitions import dataset

        BASE = "https://ossci-datasets.s3.amazonaws.com/mnist/"

        @filedownloader("train_images.idx", BASE + "train-images-idx3-ubyte.gz", checksum="md5:{md5(files["train-images-idx3-ubyte.gz"])}")
        @filedownloader("train_labels.idx", BASE + "train-labels-idx1-ubyte.gz", checksum="md5:{md5(files["train-labels-idx1-ubyte.gz"])}")
        @filedownloader("test_images.idx", BASE + "t10k-images-idx3-ubyte.gz", checksum="md5:{md5(files["t10k-images-idx3-ubyte.gz"])}")
        @filedownloader("test_labels.idx", BASE + "t10k-labels-idx1-ubyte.gz", checksum="md5:{md5(files["t10k-labels-idx1-ubyte.gz"])}")
        @dataset(ImageClassification, id="digits")
        def digits(train_images, train_labels, test_images, test_labels):
            return {{
                "train": LabelledImages(images=IDX(path=train_images), labels=IDX(path=train_labels)),
                "test": LabelledImages(images=IDX(path=test_images), labels=IDX(path=test_labels)),
                "categories": ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"],
            }}
        ''')
    out = tmp_path / "csv"
    result = cli("export", "org.example.digits", "-f", "mnist_csv", "-o", str(out), "--save-dataset-meta")
    assert result.returncode == 0, result.stderr
    assert result.stderr.splitlines()[-1] == f"wrote 10 items (train 6, test 4) in the mnist_csv layout to {out}"
    ds = read(out, "mnist_csv")
    assert ds.categories[:3] == ["zero", "one", "two"]
    assert np.array_equal(ds.subsets["train"].images, arrays["train_images"])
    assert ds.subsets["test"].labels.tolist() == arrays["test_labels"].tolist()
    # already prepared: no new download for a second export
    requests = len(server.log)
    result = cli("export", "org.example.digits", "-f", "imagenet", "-o", str(tmp_path / "img"))
    assert result.returncode == 0, result.stderr
    assert len(server.log) == requests
    assert len(list((tmp_path / "img").rglob("*.png"))) == 10
    shown = {ds.categories[label] for label in [*arrays["train_labels"], *arrays["test_labels"]]}
    assert sorted(p.name for p in (tmp_path / "img").iterdir()) == sorted(shown)
    # the class list and its order come back from the PNG metadata
    assert read(tmp_path / "img", "imagenet").categories == ds.categories


def test_export_unknown_dataset(cli, tmp_path):
    result = cli("export", "no.such.thing", "-f", "cifar", "-o", str(tmp_path / "o"))
    assert result.returncode == 2
    assert result.stderr.startswith("datamaestro: error: unknown dataset 'no.such.thing'")


def test_without_pillow_imagenet_says_which_extra(tmp_path):
    dm = write_all(tmp_path / "dm")
    blocker = tmp_path / "blocker" / "PIL"
    blocker.mkdir(parents=True)
    (blocker / "__init__.py").write_text("raise ImportError('Pillow is not installed')\n")
    env = dict(os.environ, PYTHONPATH=str(tmp_path / "blocker"))
    command = [sys.executable, "-m", "datamaestro", "convert", "-if", "mnist", "-i", str(dm / "mnist_dataset")]
    result = subprocess.run([*command, "-f", "imagenet", "-o", str(tmp_path / "o")],
                            capture_output=True, text=True, env=env, timeout=60)
    assert result.returncode == 2
    assert result.stderr == (
        "datamaestro: error: Pillow is needed for image files: pip install Pillow "
        "(or, in datamaestro's checkout, pip install -e '.[images]')\n"
    )
    assert not (tmp_path / "o").exists()
    # the array layouts do not need it
    result = subprocess.run([*command, "-f", "cifar", "-o", str(tmp_path / "c")],
                            capture_output=True, text=True, env=env, timeout=60)
    assert result.returncode == 0, result.stderr


def test_export_offline_does_not_download(cli, tmp_path):
    result = cli("export", "com.lecun.mnist", "--offline", "-f", "cifar", "-o", str(tmp_path / "o"))
    assert result.returncode != 0
    assert result.stderr.startswith("datamaestro: error: offline mode: com.lecun.mnist is not prepared")
    assert not (tmp_path / "o").exists()


def test_output_in_a_missing_folder_is_refused(cli, tmp_path):
    dm = write_all(tmp_path / "dm")
    out = tmp_path / "no" / "such" / "out"
    result = cli("convert", "-if", "mnist", "-i", str(dm / "mnist_dataset"), "-f", "cifar", "-o", str(out))
    assert result.returncode == 2
    assert result.stderr == f"datamaestro: error: {out}: the folder {out.parent} does not exist; create it first\n"
    assert not (tmp_path / "no").exists()
