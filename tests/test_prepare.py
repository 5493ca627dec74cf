"""prepare, end to end: a loopback HTTP server, real downloads, verification, caching."""

import json
from pathlib import Path

import numpy as np
import pytest
from makefiles import MNIST_FILES, gz, idx_bytes, md5, mnist_gz_files, sha256, write_module

import datamaestro
from datamaestro.errors import FormatError

DEBIAN_FASHION = Path("/usr/share/datasets/fashion-mnist")
IMAGES = "datamaestro.data.images"


def digits_module(base: str, checksums: dict[str, str], mirror: str | None = None) -> str:
    """A definition module like com/lecun.py, for files served under ``base``."""
    lines = []
    for var, filename in MNIST_FILES.items():
        extra = f", mirrors=[{mirror + filename!r}]" if mirror else ""
        checksum = f", checksum={checksums[filename]!r}" if filename in checksums else ""
        lines.append(f"@filedownloader({var + '.idx'!r}, {base + filename!r}{checksum}{extra})")
    decorators = "\n".join(lines)
    return f'''
from datamaestro_image.data import ImageClassification, LabelledImages
from datamaestro.data.tensor import IDX
from datamaestro.download.single import filedownloader
from datamaestro.definitions import dataset

{decorators}
@dataset(ImageClassification, url={base!r})
def digits(train_images, train_labels, test_images, test_labels):
    """Toy digits in the MNIST format."""
    return {{
        "train": LabelledImages(images=IDX(path=train_images), labels=IDX(path=train_labels)),
        "test": LabelledImages(images=IDX(path=test_images), labels=IDX(path=test_labels)),
        "categories": [str(i) for i in range(10)],
    }}
'''


@pytest.fixture
def toy(env, server):
    """The org.test.digits dataset, served by the loopback server with correct md5s."""
    files, arrays = mnist_gz_files()
    for name, data in files.items():
        server.files[f"/toy/{name}"] = data
    checksums = {name: f"md5:{md5(data)}" for name, data in files.items()}
    write_module(env.use_registry(), "org.test", digits_module(server.url("toy/"), checksums))
    return arrays


def expected_json(folder: Path) -> dict:
    categories = [str(i) for i in range(10)]

    def split(name):
        return {
            "type": f"{IMAGES}.LabelledImages",
            "images": {"type": "datamaestro.data.tensor.IDX", "path": str(folder / f"{name}_images.idx")},
            "labels": {"type": "datamaestro.data.tensor.IDX", "path": str(folder / f"{name}_labels.idx")},
            "categories": categories,
        }

    return {
        "id": "org.test.digits",
        "type": f"{IMAGES}.ImageClassification",
        "train": split("train"),
        "test": split("test"),
        "categories": categories,
    }


def test_prepare_cli_prints_json_and_stores_verified_files(env, server, toy, cli):
    result = cli("prepare", "org.test.digits")
    assert result.returncode == 0, result.stderr
    folder = env.data / "datasets" / "org.test.digits"
    assert json.loads(result.stdout) == expected_json(folder)
    assert "warning" not in result.stderr
    assert f"downloading org.test.digits: train_images.idx from {server.url('toy/train-images-idx3-ubyte.gz')}" in result.stderr
    for var, array in toy.items():
        assert (folder / f"{var}.idx").read_bytes() == idx_bytes(array)
    manifest = json.loads((folder / ".manifest.json").read_text())
    assert manifest["version"] == 2 and manifest["id"] == "org.test.digits"
    entry = manifest["entries"]["train_images.idx"]
    published = gz(idx_bytes(toy["train_images"]))
    assert entry == {
        "kind": "file",
        "size": 16 + 20 * 28 * 28,
        "sha256": sha256(idx_bytes(toy["train_images"])),
        "url": server.url("toy/train-images-idx3-ubyte.gz"),
        "original": {"size": len(published), "sha256": sha256(published)},
        "verified_by": f"md5:{md5(published)}",
    }
    assert sorted(p.name for p in folder.iterdir()) == [
        ".manifest.json", "test_images.idx", "test_labels.idx", "train_images.idx", "train_labels.idx",
    ]
    assert list((env.data / "downloads").rglob("*.part")) == []


def test_prepare_dataset_returns_memory_mapped_arrays(toy):
    ds = datamaestro.prepare_dataset("org.test.digits")
    images = ds.train.images.data()
    assert isinstance(images, np.memmap)
    assert images.shape == (20, 28, 28) and images.dtype == np.uint8
    np.testing.assert_array_equal(images, toy["train_images"])
    labels = ds.test.labels.data()
    assert labels.shape == (8,) and labels.dtype == np.uint8
    np.testing.assert_array_equal(labels, toy["test_labels"])
    assert ds.categories == [str(i) for i in range(10)]
    assert ds.dataset_id == "org.test.digits"


def test_prepared_dataset_is_not_downloaded_again(env, server, toy, cli):
    assert cli("prepare", "-q", "org.test.digits").returncode == 0
    requests = len(server.log)
    second = cli("prepare", "org.test.digits")
    assert second.returncode == 0
    assert second.stderr == ""
    assert len(server.log) == requests
    assert json.loads(second.stdout) == expected_json(env.data / "datasets" / "org.test.digits")


def test_json_turns_back_into_typed_objects(toy, cli):
    text = cli("prepare", "-q", "org.test.digits").stdout
    ds = datamaestro.from_json(text)
    assert type(ds).__name__ == "ImageClassification"
    np.testing.assert_array_equal(ds.test.images.data(), toy["test_images"])
    assert ds.dataset_id == "org.test.digits"
    assert datamaestro.from_json(json.loads(text)).train.labels.path == Path(
        json.loads(text)["train"]["labels"]["path"]
    )


def test_from_json_rejects_garbage():
    with pytest.raises(FormatError, match="invalid dataset JSON: expected an object with a 'type' key"):
        datamaestro.from_json("[1, 2]")
    with pytest.raises(FormatError, match="unknown data type 'evil.Thing' in the JSON description"):
        datamaestro.from_json({"type": "evil.Thing"})


def test_data_folder_option_wins_over_environment(env, toy, cli, tmp_path):
    other = tmp_path / "elsewhere"
    result = cli("prepare", "-q", "org.test.digits", "--data", str(other))
    assert result.returncode == 0, result.stderr
    assert (other / "datasets" / "org.test.digits" / "train_images.idx").exists()
    assert not env.data.exists()


def test_config_datadir_used_without_environment(env, toy, cli, tmp_path, monkeypatch):
    monkeypatch.delenv("DATAMAESTRO_DIR")
    env.write_config({"datadir": str(tmp_path / "configured")})
    assert cli("prepare", "-q", "org.test.digits").returncode == 0
    assert (tmp_path / "configured" / "datasets" / "org.test.digits" / ".manifest.json").exists()


def test_mirror_fallback_after_404(env, server, cli):
    files, arrays = mnist_gz_files()
    for name, data in files.items():
        server.files[f"/second/{name}"] = data
    checksums = {name: f"md5:{md5(data)}" for name, data in files.items()}
    write_module(env.use_registry(), "org.test",
                 digits_module(server.url("first/"), checksums, mirror=server.url("second/")))
    result = cli("prepare", "-q", "org.test.digits")
    assert result.returncode == 0, result.stderr
    assert server.gets("/first/train-images-idx3-ubyte.gz") == 1
    assert server.gets("/second/train-images-idx3-ubyte.gz") == 1
    ds = datamaestro.from_json(result.stdout)
    np.testing.assert_array_equal(ds.train.images.data(), arrays["train_images"])


def test_checksum_mismatch_fails_and_keeps_nothing(env, server, cli):
    files, _ = mnist_gz_files()
    for name, data in files.items():
        server.files[f"/toy/{name}"] = data
    checksums = {name: f"md5:{md5(data)}" for name, data in files.items()}
    wrong = "0" * 32
    checksums["train-images-idx3-ubyte.gz"] = f"md5:{wrong}"
    write_module(env.use_registry(), "org.test", digits_module(server.url("toy/"), checksums))
    result = cli("prepare", "org.test.digits")
    assert result.returncode == 1
    url = server.url("toy/train-images-idx3-ubyte.gz")
    actual = md5(files["train-images-idx3-ubyte.gz"])
    assert result.stdout == ""
    assert result.stderr.splitlines()[-1] == (
        f"datamaestro: error: checksum mismatch for train_images.idx of org.test.digits: "
        f"{url}: expected md5:{wrong}, got md5:{actual}; the download was discarded, nothing was kept"
    )
    # the other files, verified, were installed side by side; nothing of the bad one was kept
    folder = env.data / "datasets" / "org.test.digits"
    assert sorted(p.name for p in folder.iterdir()) == [
        ".manifest.json", "test_images.idx", "test_labels.idx", "train_labels.idx"
    ]
    assert not (env.data / "downloads").exists() or list((env.data / "downloads").rglob("*")) == []


def test_all_urls_failing(env, server, cli):
    env.write_config({"backoff": 0.01})  # connection errors are retried: quickly here
    write_module(env.use_registry(), "org.test", digits_module(
        server.url("missing/"), {}, mirror="http://127.0.0.1:9/refused/"))
    result = cli("prepare", "org.test.digits")
    assert result.returncode == 1
    lines = result.stderr.splitlines()
    assert lines[-6:-4] == [
        "datamaestro: error: could not download 4 files of org.test.digits:",
        f"  train_images.idx: {server.url('missing/train-images-idx3-ubyte.gz')}: HTTP 404 Not Found; "
        "http://127.0.0.1:9/refused/train-images-idx3-ubyte.gz: connection failed "
        "([Errno 111] Connection refused), tried 4 times",
    ]
    assert [line.split(":")[0] for line in lines[-4:-1]] == ["  train_labels.idx", "  test_images.idx", "  test_labels.idx"]
    assert lines[-1] == (
        "check the network or the 'mirrors' setting, "
        "or use 'datamaestro prepare org.test.digits --from DIR' with a copy of its files, "
        "or --offline to use only prepared datasets"
    )
    assert not (env.data / "datasets" / "org.test.digits" / "train_images.idx").exists()


def test_unverified_file_warns(env, server, cli):
    files, _ = mnist_gz_files()
    for name, data in files.items():
        server.files[f"/toy/{name}"] = data
    write_module(env.use_registry(), "org.test", digits_module(server.url("toy/"), {}))
    result = cli("prepare", "org.test.digits")
    assert result.returncode == 0, result.stderr
    content = sha256((env.data / "datasets" / "org.test.digits" / "train_images.idx").read_bytes())
    assert (
        f"warning: org.test.digits: train_images.idx has no published checksum, so it was "
        f"not verified (recorded sha256:{content})"
    ) in result.stderr.splitlines()


def test_corrupt_gzip_without_checksum(env, server, cli):
    files, _ = mnist_gz_files()
    for name, data in files.items():
        server.files[f"/toy/{name}"] = data
    server.files["/toy/train-images-idx3-ubyte.gz"] = files["train-images-idx3-ubyte.gz"][:-40]
    write_module(env.use_registry(), "org.test", digits_module(server.url("toy/"), {}))
    result = cli("prepare", "org.test.digits")
    assert result.returncode == 1
    assert result.stderr.splitlines()[-1] == (  # what the server sent is at fault, not the network
        "datamaestro: error: train_images.idx of org.test.digits was refused: "
        f"{server.url('toy/train-images-idx3-ubyte.gz')}: corrupt or "
        "truncated gzip archive (the file ends before the end of its compressed data)"
    )
    assert not (env.data / "datasets" / "org.test.digits" / "train_images.idx").exists()


def test_builtin_mnist_through_mirror_rewriting_is_checked(env, server, cli):
    """Our generated files are not the published ones: the rewritten URLs are tried, and refused."""
    files, _ = mnist_gz_files()
    for name, data in files.items():
        server.files[f"/ossci/{name}"] = data
    env.mirror("https://ossci-datasets.s3.amazonaws.com/mnist/", server.url("ossci/"))
    env.mirror("http://yann.lecun.com/exdb/mnist/", server.url("lecun/"))
    result = cli("prepare", "com.lecun.mnist")
    assert result.returncode == 1
    got = len(files["train-images-idx3-ubyte.gz"])  # the published size (9912422 bytes) refuses it first
    lines = result.stderr.splitlines()
    assert lines[-6:-4] == [
        "datamaestro: error: could not download 4 files of com.lecun.mnist:",
        f"  train_images.idx: {server.url('ossci/train-images-idx3-ubyte.gz')}: got {got} bytes, expected 9912422; "
        f"{server.url('lecun/train-images-idx3-ubyte.gz')}: HTTP 404 Not Found",
    ]
    assert lines[-1] == (
        "check the network or the 'mirrors' setting, "
        "or use 'datamaestro prepare com.lecun.mnist --from DIR' with a copy of its files, "
        "or --offline to use only prepared datasets"
    )
    # the four files are fetched side by side: each mirror is asked once for each file
    assert sorted(p for _, p, _ in server.log) == sorted(
        f"/{mirror}/{name}" for mirror in ("ossci", "lecun") for name in files
    )


@pytest.mark.skipif(not DEBIAN_FASHION.is_dir(), reason="needs Debian's dataset-fashion-mnist package (.ci/run installs it)")
def test_builtin_fashion_mnist_from_debian_files(env, server, cli):
    """Debian recompressed the files: the gzip md5 differs, the data sha256 proves them intact."""
    for path in DEBIAN_FASHION.glob("*.gz"):
        server.files[f"/fashion/{path.name}"] = path.read_bytes()
    env.mirror("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/", server.url("fashion/"))
    result = cli("prepare", "com.github.zalandoresearch.fashion-mnist")
    assert result.returncode == 0, result.stderr
    assert (
        "com.github.zalandoresearch.fashion-mnist: train_labels.idx differs from the published "
        "file (md5:25c81989df183df01b3e8a0aad5dffbe) but its data matches "
        "sha256:bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9: accepted"
    ) in result.stderr.splitlines()
    ds = datamaestro.from_json(result.stdout)
    assert ds.train.images.data().shape == (60000, 28, 28)
    assert ds.test.images.data().shape == (10000, 28, 28)
    labels = ds.train.labels.data()
    assert labels.shape == (60000,) and labels.dtype == np.uint8
    assert np.bincount(labels).tolist() == [6000] * 10
    assert labels[:10].tolist() == [9, 0, 0, 3, 0, 2, 7, 2, 5, 5]
    assert ds.categories[9] == "Ankle boot"
    assert ds.train.categories == ds.categories


def test_bad_config_file(env, cli):
    env.config.write_text("mirrors: [unclosed\n")
    env.monkeypatch.setenv("DATAMAESTRO_CONFIG", str(env.config))
    result = cli("prepare", "com.lecun.mnist")
    assert result.returncode == 2
    assert result.stderr == (
        f"datamaestro: error: config file {env.config} line 2: "
        "expected ',' or ']', but got '<stream end>'\n"
    )
    env.write_config({"mirror": {}})
    assert cli("info", "com.lecun.mnist").stderr == (
        f"datamaestro: error: config file {env.config}: unknown key 'mirror' (known: datadir, mirrors, "
        "retries, backoff, connect_timeout, read_timeout, stall_bytes, stall_seconds, offline, jobs, "
        "segments, segment_threshold, max_unpacked_size, max_unpacked_files, max_download_size, max_retry_after, max_image_pixels, store, datafolders)\n"
    )


def test_config_edits_take_effect(env, server, cli):
    files, _ = mnist_gz_files()
    for name, data in files.items():
        server.files[f"/good/{name}"] = data
    checksums = {name: f"md5:{md5(data)}" for name, data in files.items()}
    write_module(env.use_registry(), "org.test", digits_module("http://datasets.invalid/", checksums))
    env.write_config({"retries": 0, "mirrors": {"http://datasets.invalid/": server.url("bad/")}})
    assert "HTTP 404 Not Found" in cli("prepare", "org.test.digits").stderr
    env.write_config({"retries": 0, "mirrors": {"http://datasets.invalid/": server.url("good/")}})
    assert cli("prepare", "-q", "org.test.digits").returncode == 0


def test_missing_config_file_named_by_environment(env, cli):
    env.monkeypatch.setenv("DATAMAESTRO_CONFIG", str(env.root / "nope.yaml"))
    result = cli("prepare", "com.lecun.mnist")
    assert result.returncode == 2
    assert result.stderr == (
        f"datamaestro: error: config file {env.root / 'nope.yaml'} (from DATAMAESTRO_CONFIG) does not exist\n"
    )


def test_traceback_only_when_asked(env, cli):
    env.monkeypatch.setenv("DATAMAESTRO_CONFIG", str(env.root / "nope.yaml"))
    result = cli("--traceback", "prepare", "com.lecun.mnist")
    assert result.returncode == 1
    assert "Traceback (most recent call last)" in result.stderr
    assert "ConfigError" in result.stderr


def test_a_published_file_already_in_the_data_folder_is_not_downloaded_again(env, server, cli):
    """Two datasets of one published file (like EMNIST's six splits of one zip): one download, one copy on disk."""
    from test_reliability import blob_module

    data = bytes(range(256)) * 400
    server.files["/shared/big.bin"] = data
    url, checksum = server.url("shared/big.bin"), f"md5:{md5(data)}"
    write_module(env.use_registry(), "org.rel", blob_module({
        "first": [("big.bin", url, checksum)], "second": [("big.bin", url, checksum)],
    }))
    assert cli("prepare", "-q", "org.rel.first").returncode == 0
    result = cli("prepare", "org.rel.second")
    assert result.returncode == 0, result.stderr
    first, second = (env.data / "datasets" / f"org.rel.{n}" / "big.bin" for n in ("first", "second"))
    assert f"org.rel.second: big.bin is already in {first}: using it" in result.stderr
    assert server.gets("/shared/big.bin") == 1
    assert second.read_bytes() == data and second.stat().st_ino == first.stat().st_ino
    assert cli("verify").stdout.splitlines() == ["org.rel.first: OK (1 file)", "org.rel.second: OK (1 file)"]
    assert cli("rm", "--yes", "org.rel.first").returncode == 0
    assert second.read_bytes() == data  # a hard link: the other dataset keeps its file
