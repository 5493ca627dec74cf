"""datamaestro create-dataset: the skeleton it writes is a working, indexable definition."""

from __future__ import annotations

import json

import makefiles
import numpy as np

from datamaestro import prepare_dataset


def test_skeleton_is_found_described_and_prepared(env, server, cli):
    registry = env.use_registry()
    r = cli("create-dataset", "org.example.my-data")
    assert r.returncode == 0, r.stderr
    path = registry / "org" / "example.py"
    assert r.stdout == f"{path}\n"
    assert r.stderr == (
        f"edit the TODOs in {path}, then run: datamaestro prepare org.example.my-data\n"
    )
    source = path.read_text()
    assert "TODO" in source and 'id="my-data"' in source and "def my_data(" in source

    assert cli("search", "my-data").stdout.startswith("org.example.my-data  TODO: one line")
    info = json.loads(cli("info", "--json", "org.example.my-data").stdout)
    assert (info["id"], info["name"], info["type"]) == (
        "org.example.my-data", "My data", "datamaestro.data.images.ImageClassification"
    )
    assert [f["url"] for f in info["files"]] == [
        "https://example.org/my-data/" + name for name in makefiles.MNIST_FILES.values()
    ]

    # as written, it prepares MNIST-like files from wherever its BASE points
    files, arrays = makefiles.mnist_gz_files()
    for name, data in files.items():
        server.files["/pub/" + name] = data
    env.mirror("https://example.org/my-data/", server.url("pub/"))
    r = cli("prepare", "org.example.my-data")
    assert r.returncode == 0, r.stderr
    assert "has no published checksum, so it was not verified" in r.stderr
    ds = prepare_dataset("org.example.my-data", quiet=True)
    assert np.array_equal(ds.train.images.data(), arrays["train_images"])
    assert np.array_equal(ds.test.labels.data(), arrays["test_labels"])
    assert ds.categories == [str(k) for k in range(10)]


def test_plain_function_name_and_options(env, cli, tmp_path):
    r = cli("create-dataset", "org.lab.birds", "--dir", str(tmp_path / "repo"),
            "--name", "Lab birds", "--url", "https://data.example.org/birds/")
    assert r.returncode == 0, r.stderr
    path = tmp_path / "repo" / "org" / "lab.py"
    source = path.read_text()
    assert "def birds(" in source and "id=" not in source.split("def birds")[0].split("@dataset")[1]
    assert 'BASE = "https://data.example.org/birds/"' in source
    assert 'name="Lab birds"' in source
    assert f"add {tmp_path / 'repo'} to DATAMAESTRO_PATH" in r.stderr
    env.monkeypatch.setenv("DATAMAESTRO_PATH", str(tmp_path / "repo"))
    assert json.loads(cli("info", "--json", "org.lab.birds").stdout)["name"] == "Lab birds"
    # --print writes nothing and prints the same skeleton
    printed = cli("create-dataset", "org.lab.owls", "--print", "--name", "Owls")
    assert printed.returncode == 0 and "def owls(" in printed.stdout
    assert compile(printed.stdout, "owls.py", "exec")


def test_refusals(env, cli, tmp_path):
    registry = env.use_registry()
    r = cli("create-dataset", "mnist")
    assert r.returncode == 2
    assert r.stderr == (
        "datamaestro: error: invalid dataset id 'mnist': use a dotted name such as "
        "org.example.my-data (letters, digits and _ ; '-' only in the last part)\n"
    )
    r = cli("create-dataset", "com.lecun.mnist")
    assert r.returncode == 2
    assert r.stderr.startswith("datamaestro: error: 'com.lecun.mnist' is already defined in ")
    (registry / "org").mkdir()
    (registry / "org" / "other.py").write_text("# mine\n")
    r = cli("create-dataset", "org.other.new")
    assert r.returncode == 2
    assert r.stderr == (
        f"datamaestro: error: {registry / 'org' / 'other.py'} already exists; use --print and "
        "add the definition to it yourself, or --force to overwrite it\n"
    )
    assert (registry / "org" / "other.py").read_text() == "# mine\n"
    assert cli("create-dataset", "org.other.new", "--force").returncode == 0
    assert "def new(" in (registry / "org" / "other.py").read_text()
