"""hf: ids and hf:// URLs against a loopback Hub (tests/hubfixture.py) serving real Parquet files."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pytest
from hubfixture import Hub, Repo, mnist_like, table_like
from makefiles import write_module

from datamaestro.api import prepare_dataset
from datamaestro.config import load_settings
from datamaestro.download.context import Request
from datamaestro.errors import ChecksumError

NAMES = ["zero", "one", "two"]
COMMIT = "c0ffee" + "0" * 34
CARD = {
    "license": "mit",
    "pretty_name": "Tiny MNIST",
    "task_categories": ["image-classification"],
    "dataset_info": {
        "config_name": "mnist",
        "features": [{"name": "image", "dtype": "image"},
                     {"name": "label", "dtype": {"class_label": {"names": {"0": "zero", "1": "one", "2": "two"}}}}],
        "splits": [{"name": "train", "num_bytes": 1234, "num_examples": 12}, {"name": "test", "num_bytes": 567, "num_examples": 5}],
        "download_size": 4321,
    },
    "configs": [{"config_name": "mnist", "data_files": [{"split": "train", "path": "mnist/train-*"},
                                                         {"split": "test", "path": "mnist/test-*"}], "default": True}],
}
BODY = "# Tiny MNIST\n\n## Citation\n\n```bibtex\n@article{tiny,\n  title={Tiny}\n}\n```\n"


@pytest.fixture
def hub(env, server, monkeypatch):
    monkeypatch.setenv("HF_HOME", str(env.root / "hf-home"))  # no saved token, no cache of its own
    monkeypatch.delenv("HF_TOKEN", raising=False)
    hub = Hub(server)
    monkeypatch.setenv("HF_ENDPOINT", hub.endpoint)
    return hub


@pytest.fixture
def mnist(hub):
    train, train_images, train_labels = mnist_like(12, 1, NAMES)
    test, test_images, test_labels = mnist_like(5, 2, NAMES)
    files = {"mnist/train-00000-of-00001.parquet": train, "mnist/test-00000-of-00001.parquet": test}
    hub.add(Repo("ylecun/mnist", files, CARD, BODY, {"main": COMMIT, "v1.0": "b" * 40}))
    return {"train": (train_images, train_labels), "test": (test_images, test_labels), "files": files}


def prepare(dataset_id: str, **request):
    return prepare_dataset(dataset_id, settings=load_settings(None), request=Request(quiet=True, **request))


def manifest(env, folder_id: str) -> dict:
    return json.loads((env.data / "datasets" / folder_id / ".manifest.json").read_text())


def test_prepare_gives_typed_splits_and_pins_commit_and_sha256(env, hub, mnist):
    data = prepare("hf:ylecun/mnist")
    assert data.categories == NAMES and data.commit == COMMIT
    for name, split in data.splits().items():
        images, labels = split.arrays()
        assert np.array_equal(images, mnist[name][0]) and np.array_equal(labels, mnist[name][1])
        assert split.categories == NAMES and split.mode == "L"
    assert data.train.text_labels(int(mnist["train"][1][0])) == NAMES[mnist["train"][1][0]]
    batch, labels = next(iter(data.train.batches(4, shuffle=False, resize=(3, 2))))
    assert batch.shape == (4, 3, 2) and batch.dtype == np.float32 and np.array_equal(labels, mnist["train"][1][:4])
    assert data.test.images.shape == (5, 6, 5) and np.array_equal(data.test.images[1], mnist["test"][0][1])
    assert len(data.export_dataset().subsets["train"]) == 12
    entries = manifest(env, "hf.ylecun.mnist")["entries"]
    train = mnist["files"]["mnist/train-00000-of-00001.parquet"]
    assert entries["train-00000.parquet"]["url"] == f"hf://datasets/ylecun/mnist@{COMMIT}/mnist/train-00000-of-00001.parquet"
    assert entries["train-00000.parquet"]["verified_by"] == f"sha256:{hashlib.sha256(train).hexdigest()}"
    assert entries["hub.json"]["verified_by"] == f"hub commit {COMMIT}"
    assert sorted(entries) == ["hub.json", "index", "test-00000.parquet", "train-00000.parquet"]
    assert hub.server.gets(f"/datasets/ylecun/mnist/resolve/{COMMIT}/mnist/train-00000-of-00001.parquet") == 1


def test_verify_detects_a_flipped_byte(env, hub, mnist, cli):
    prepare("hf:ylecun/mnist")
    path = env.data / "datasets" / "hf.ylecun.mnist" / "test-00000.parquet"
    data = bytearray(path.read_bytes())
    data[100] ^= 1
    path.write_bytes(bytes(data))
    for name in ("hf.ylecun.mnist", "hf:ylecun/mnist"):  # the folder id, or the Hub id as prepared
        result = cli("verify", name)
        assert result.returncode == 1 and "hf.ylecun.mnist: CORRUPT: test-00000.parquet:" in result.stdout
    result = cli("rm", "-y", "hf:ylecun/mnist")
    assert result.returncode == 0, result.stderr
    assert not (env.data / "datasets" / "hf.ylecun.mnist").exists()


def test_a_file_whose_sha256_differs_from_the_api_is_refused_and_nothing_kept(env, hub, mnist):
    hub.repos["ylecun/mnist"].announced["mnist/test-00000-of-00001.parquet"] = "f" * 64
    with pytest.raises(ChecksumError, match="checksum mismatch for test-00000.parquet of hf.ylecun.mnist"):
        prepare("hf:ylecun/mnist")
    folder = env.data / "datasets" / "hf.ylecun.mnist"
    assert not (folder / "test-00000.parquet").exists() and not (folder / "index").exists()
    assert not list((env.data / "downloads").rglob("test-*"))


def test_offline_after_prepare_with_the_server_stopped(env, hub, mnist, cli):
    first = cli("prepare", "hf:ylecun/mnist")
    assert first.returncode == 0, first.stderr
    hub.server.stop()
    again = cli("--offline", "prepare", "hf:ylecun/mnist")
    assert (again.returncode, again.stdout) == (0, first.stdout)
    assert json.loads(again.stdout)["commit"] == COMMIT


def test_offline_before_prepare_says_so(hub, mnist, cli):
    result = cli("--offline", "prepare", "hf:ylecun/mnist")
    assert result.returncode != 0 and hub.api_calls == 0
    assert result.stderr.strip().splitlines()[-1].endswith(
        "offline mode: hf:ylecun/mnist is not prepared; run 'datamaestro prepare hf:ylecun/mnist' with network access")


def test_info_shows_the_card(env, hub, mnist, cli):
    result = cli("info", "hf:ylecun/mnist")
    assert result.returncode == 0, result.stderr
    files = mnist["files"]
    sha = {p: hashlib.sha256(d).hexdigest() for p, d in files.items()}
    base = f"hf://datasets/ylecun/mnist@{COMMIT}/mnist"
    assert result.stdout == "\n".join([
        "hf.ylecun.mnist: hf:ylecun/mnist",
        "type: datamaestro.data.hub.HubDataset",
        f"url: {hub.endpoint}/datasets/ylecun/mnist",
        "tags: hub, image-classification",
        "download: 4.6 kB (2 files)",
        f"prepared: no (would be stored in {env.data}/datasets/hf.ylecun.mnist)",
        "files:",
        "  hub.json",
        f"    commit: {COMMIT}",
        "    derived_from: the Hub API",
        "  train-00000.parquet",
        f"    url: {base}/train-00000-of-00001.parquet",
        f"    size: {len(files['mnist/train-00000-of-00001.parquet'])}",
        f"    checksum: sha256:{sha['mnist/train-00000-of-00001.parquet']}",
        "  test-00000.parquet",
        f"    url: {base}/test-00000-of-00001.parquet",
        f"    size: {len(files['mnist/test-00000-of-00001.parquet'])}",
        f"    checksum: sha256:{sha['mnist/test-00000-of-00001.parquet']}",
        "  index",
        "    derived_from: train-00000.parquet, test-00000.parquet",
        f"homepage: {hub.endpoint}/datasets/ylecun/mnist",
        "license: mit",
        "",
        "Tiny MNIST",
        "split train: 12 examples, 1234 bytes",
        "split test: 5 examples, 567 bytes",
        "download size: 4321 bytes",
        f"Hub dataset ylecun/mnist at commit {COMMIT} (config mnist)",
        "",
        "citation:",
        "  @article{tiny,",
        "    title={Tiny}",
        "  }",
    ]) + "\n"


def test_a_revision_is_pinned(env, hub, mnist):
    data = prepare("hf:ylecun/mnist@v1.0")
    assert data.commit == "b" * 40
    entries = manifest(env, "hf.ylecun.mnist.r-v1_0")["entries"]
    assert entries["train-00000.parquet"]["url"].startswith(f"hf://datasets/ylecun/mnist@{'b' * 40}/")
    assert hub.server.gets("/api/datasets/ylecun/mnist/revision/v1.0") == 1


def test_an_unknown_repository_is_one_line(hub, mnist, cli):
    result = cli("prepare", "hf:nobody/nothing")
    assert result.returncode == 2
    assert result.stderr.strip() == (
        f"datamaestro: error: hf:nobody/nothing: no such dataset or revision on the Hub ({hub.endpoint}); check the name")


def test_hf_token_is_sent_to_a_gated_repository(env, hub, monkeypatch):
    data, _, labels = mnist_like(4, 3, NAMES)
    hub.add(Repo("org/gated", {"data/train-00000.parquet": data}, {"license": "other"}, gated_token="secret"))
    with pytest.raises(Exception, match="gated or private: accept its terms on the Hub and set HF_TOKEN"):
        prepare("hf:org/gated")
    monkeypatch.setenv("HF_TOKEN", "secret")
    assert np.array_equal(prepare("hf:org/gated").train.labels.data(), labels)


def test_a_table_split(env, hub):
    hub.add(Repo("org/tab", {"data/train-00000-of-00001.parquet": table_like()}, {}))
    table = prepare("hf:org/tab").train
    assert table.columns == ["x", "n", "word"]
    assert table.column("word").tolist() == ["a", "bé", "c"] and table.column("n").dtype == np.int32
    features, target = table.arrays(columns=["x", "n"])
    assert features.tolist() == [[1.5, 3], [2.5, 4], [-1.0, 5]] and target is None


def test_a_config_is_chosen(env, hub, mnist):
    with pytest.raises(Exception, match="hf:ylecun/mnist:other: no config 'other'; the configs are: mnist"):
        prepare("hf:ylecun/mnist:other")
    assert len(prepare("hf:ylecun/mnist@v1.0:mnist").test) == 5


HF_MIRROR = '''
from datamaestro.data.base import Base
from datamaestro.download.single import filedownloader
from datamaestro.definitions import dataset

@filedownloader("blob.bin", {url!r}, checksum={checksum!r}, mirrors=[{mirror!r}])
@dataset(Base)
def blob(blob):
    return Base()
'''


def test_an_hf_url_as_a_mirror_is_verified_by_the_definition(env, hub, server):
    payload = b"published bytes" * 100
    hub.add(Repo("org/files", {"files/blob.bin": payload}, {}))
    checksum = f"sha256:{hashlib.sha256(payload).hexdigest()}"
    mirror = f"hf://datasets/org/files@{'a' * 40}/files/blob.bin"
    write_module(env.use_registry(), "org.test", HF_MIRROR.format(url=server.url("gone/blob.bin"), checksum=checksum, mirror=mirror))
    prepare("org.test.blob")
    assert (env.data / "datasets" / "org.test.blob" / "blob.bin").read_bytes() == payload
    assert server.gets(f"/datasets/org/files/resolve/{'a' * 40}/files/blob.bin") == 1


def test_search_and_completion_never_ask_the_hub(hub, mnist, cli):
    found = cli("search", "ylecun")
    assert "hf:" not in found.stdout  # a Hub id is not in the search index
    assert cli("completion", "--ids").returncode == 0
    assert hub.server.log == []


def test_the_parquet_conversion_branch_layout(env, hub):
    data, _, labels = mnist_like(3, 4, NAMES)
    repo = Repo("org/conv", {"default/train/0000.parquet": data}, {}, commits={"refs/convert/parquet": "d" * 40})
    hub.add(repo)
    got = prepare("hf:org/conv@refs/convert/parquet")
    assert got.commit == "d" * 40 and np.array_equal(got.train.labels.data(), labels)
