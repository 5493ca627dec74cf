"""Datasets behind a sign-in (ImageNet-1k): instructions, --from DIR, the datafolders setting, linking.

A small ImageNet is built in the exact published layout: a train tar of
three per-class tars of tiny JPEGs, a val tar of flat files, and the devkit
(``ILSVRC2012_devkit_t12/data/meta.mat`` written by scipy in the devkit's
struct layout, with a non-leaf synset and ids in the devkit's own order, and
the validation ground truth). The published definition refuses it (its
checksums differ); a copy of the definition identical but for its checksums
and sizes (each replaced text found once) prepares it.
"""

from __future__ import annotations

import io
import json
import logging
import os
import tarfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from kindfixtures import decoded, image_bytes, patched_module, sha256, smooth_image, tar_gz

from datamaestro.api import prepare_dataset
from datamaestro.cli.main import main
from datamaestro.config import load_settings
from datamaestro.data.folder import ImageFolderClassification
from datamaestro.download.context import Request
from datamaestro.errors import ChecksumError, UnsafeArchiveError, UsageError

scipy_io = pytest.importorskip("scipy.io", reason="the devkit's meta.mat is written with scipy (extra 'test')")

DATASET = "org.image_net.ilsvrc2012"
COPY = "org.fixture.image_net.ilsvrc2012"
TRAIN, VAL, DEVKIT = "ILSVRC2012_img_train.tar", "ILSVRC2012_img_val.tar", "ILSVRC2012_devkit_t12.tar.gz"
PUBLISHED = {
    TRAIN: ("b08200a27a8e34218a0e58fde36b0fe8f73bc377f4acea2d91602057c3ca45bb", "size=147897477120"),
    VAL: ("c7e06a6c0baccf06d8dbeb6577d71efff84673a5dbdd50633ab44f8ea0456ae0", "size=6744924160"),
    DEVKIT: ("b59243268c0d266621fd587d2018f69e906fb22875aca0e295b48cafaa927953", ""),
}
#: the devkit's classes in its own order (ILSVRC2012_ID 1, 2, 3): not the sorted WordNet ids
DEVKIT_ORDER = [("n01484850", "great white shark, white shark"), ("n01440764", "tench, Tinca tinca"),
                ("n01443537", "goldfish, Carassius auratus")]
WNIDS = sorted(w for w, _ in DEVKIT_ORDER)
#: ILSVRC2012_ID of each validation image, in file order
GROUND_TRUTH = [2, 1, 3, 1]


def tar(files: dict[str, bytes]) -> bytes:
    """A plain tar of ``files`` (member name -> content), in the given order."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def meta_mat() -> bytes:
    """meta.mat as the devkit holds it: a (N, 1) struct array 'synsets', leaves first, then a parent."""
    fields = ["ILSVRC2012_ID", "WNID", "words", "gloss", "num_children", "children", "wordnet_height",
              "num_train_images"]
    rows = [(k, wnid, words, "a gloss", 0, np.zeros((1, 0)), 0, 2) for k, (wnid, words) in enumerate(DEVKIT_ORDER, 1)]
    rows.append((4, "n00000001", "fish", "a parent", 3, np.array([[1, 2, 3]]), 1, 0))
    synsets = np.zeros((len(rows), 1), dtype=[(f, object) for f in fields])
    for i, row in enumerate(rows):
        for f, value in zip(fields, row):
            synsets[i, 0][f] = value
    buffer = io.BytesIO()
    scipy_io.savemat(buffer, {"synsets": synsets})
    return buffer.getvalue()


@pytest.fixture(scope="module")
def published() -> dict[str, object]:
    """The three files (name -> bytes) and every image (archive path -> JPEG bytes)."""
    rng = np.random.default_rng(2012)
    images: dict[str, bytes] = {}
    inner = {}
    for wnid in WNIDS:
        members = {f"{wnid}_{k}.JPEG": image_bytes(smooth_image(rng, 12 + 2 * k, 16)) for k in (2, 1)}
        images.update({f"{wnid}/{name}": data for name, data in members.items()})
        inner[f"{wnid}.tar"] = tar(members)
    val = {f"ILSVRC2012_val_{i:08d}.JPEG": image_bytes(smooth_image(rng, 10, 14)) for i in range(1, 5)}
    images.update(val)
    devkit = tar_gz({
        "ILSVRC2012_devkit_t12/COPYING": b"devkit\n",
        "ILSVRC2012_devkit_t12/data/meta.mat": meta_mat(),
        "ILSVRC2012_devkit_t12/data/ILSVRC2012_validation_ground_truth.txt": "".join(f"{g}\n" for g in GROUND_TRUTH).encode(),
    })
    return {"files": {TRAIN: tar(inner), VAL: tar(val), DEVKIT: devkit}, "images": images}


def write(folder: Path, files: dict[str, bytes]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (folder / name).write_bytes(data)
    return folder


def fixture_copy(env, files: dict[str, bytes]) -> None:
    """The copy of the definition that verifies ``files`` (no alias: the built-in one keeps them)."""
    replacements = {f"sha256:{digest}": f"sha256:{sha256(files[name])}" for name, (digest, _) in PUBLISHED.items()}
    replacements.update({size: f"size={len(files[name])}" for name, (_, size) in PUBLISHED.items() if size})
    replacements['aliases=["imagenet2012", "imagenet"]'] = "aliases=[]"
    patched_module(env.use_registry(), "org.image_net", "org.fixture.image_net", replacements)


@pytest.fixture(autouse=True)
def logger_restored() -> Iterator[None]:
    """The ``datamaestro`` logger as it was: ``main`` run in this process points it at the captured stderr."""
    logger = logging.getLogger("datamaestro")
    saved = (list(logger.handlers), logger.level, logger.propagate)
    yield
    logger.handlers, logger.level, logger.propagate = saved[0], saved[1], saved[2]


def cli(capsys, *args: str) -> tuple[int, str, str]:
    """Run the command line in this process: exit code, stdout, stderr."""
    code = main(["--quiet", *args])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_prepare_without_the_files_says_where_to_get_them(cli) -> None:
    done = cli("prepare", "imagenet")
    assert done.returncode == 2 and done.stdout == "" and "Traceback" not in done.stderr
    assert done.stderr == (
        f"datamaestro: error: {DATASET} needs files that only a person can download, after signing in at "
        "https://image-net.org/download-images:\n"
        "  ILSVRC2012_img_train.tar (137.7 GiB, 147897477120 bytes)\n"
        "  ILSVRC2012_img_val.tar (6.3 GiB, 6744924160 bytes)\n"
        "  ILSVRC2012_devkit_t12.tar.gz\n"
        f"download them there, then run 'datamaestro prepare {DATASET} --from DIR' (DIR: the folder holding them), "
        f"or 'datamaestro datafolders set imagenet DIR' once and then 'datamaestro prepare {DATASET}'\n"
    )
    download = cli("download", "imagenet2012")
    assert download.returncode == 2 and done.stderr == download.stderr


def test_published_checksums_refuse_other_files(env, published, capsys) -> None:
    source = write(env.root / "downloads", published["files"])
    code, out, err = cli(capsys, "prepare", "imagenet", "--from", str(source))
    assert code == 1 and out == "" and "Traceback" not in err
    assert f"{source / TRAIN} does not match: {TRAIN}: expected sha256:{PUBLISHED[TRAIN][0]}" not in err  # by size first
    assert f"{source / TRAIN}: {len(published['files'][TRAIN])} bytes, expected 147897477120" in err
    assert not (env.data / "datasets" / DATASET).exists()


def test_prepare_from_dir_links_verifies_records_and_indexes(env, published) -> None:
    files, images = published["files"], published["images"]
    fixture_copy(env, files)
    source = write(env.root / "downloads", files)
    data = prepare_dataset(COPY, request=Request(quiet=True, source_dir=source))
    assert isinstance(data, ImageFolderClassification)
    assert data.categories == WNIDS
    assert data.descriptions == [dict(DEVKIT_ORDER)[w] for w in WNIDS]
    train = [f"{w}/{w}_{k}.JPEG" for w in WNIDS for k in (1, 2)]
    assert [str(p.relative_to(data.train.root)) for p in data.train.paths()] == train
    assert data.train.labels.data().tolist() == [0, 0, 1, 1, 2, 2]
    # validation labels: devkit ids 2, 1, 3, 1 are n01440764, n01484850, n01443537, n01484850: sorted positions
    assert [p.name for p in data.validation.paths()] == [f"ILSVRC2012_val_{i:08d}.JPEG" for i in range(1, 5)]
    assert data.validation.labels.data().tolist() == [0, 2, 1, 2]
    assert np.array_equal(data.train.image(3), decoded(images[train[3]]))
    assert np.array_equal(data.validation.image(1), decoded(images["ILSVRC2012_val_00000002.JPEG"]))
    folder = env.data / "datasets" / COPY
    words = (folder / "index" / "words.txt").read_text().splitlines()
    assert words == [f"{w}\t{dict(DEVKIT_ORDER)[w]}" for w in WNIDS]
    for name in files:  # linked (the same inode), not copied
        assert os.stat(folder / "originals" / name).st_ino == os.stat(source / name).st_ino
    entry = json.loads((folder / ".manifest.json").read_text())["entries"]["originals"]
    assert entry["files"] == {name: [len(data), sha256(data)] for name, data in files.items()}
    assert entry["source"] == str(source) and entry["url"] == "https://image-net.org/download-images"
    assert entry["verified_by"] == " ".join(f"sha256:{sha256(files[n])}" for n in (TRAIN, VAL, DEVKIT))


def test_datafolders_set_then_prepare_without_from_and_no_rehash(env, published, capsys) -> None:
    files = published["files"]
    fixture_copy(env, files)
    source = write(env.root / "mine" / "imagenet", files)
    env.write_config({"jobs": 2})
    code, out, _ = cli(capsys, "datafolders", "set", "imagenet", str(source))
    assert code == 0 and yaml_of(env.config) == {"jobs": 2, "datafolders": {"imagenet": str(source)}}
    assert cli(capsys, "datafolders", "list", "--json")[1] == json.dumps({"imagenet": str(source)}, indent=2) + "\n"
    # offline too: the files come from the user's own folder, nothing is downloaded
    prepare_dataset(COPY, settings=load_settings(None, offline=True), request=Request(quiet=True))
    manifest = env.data / "datasets" / COPY / ".manifest.json"
    recorded = manifest.read_bytes()
    # the same bytes, same size, changed in place: prepare checks sizes only, so it neither rehashes nor notices
    with open(source / VAL, "r+b") as f:
        f.seek(len(files[VAL]) // 2)
        f.write(b"\xff" * 8)
    data = prepare_dataset(COPY, request=Request(quiet=True))
    assert manifest.read_bytes() == recorded and len(data.validation) == 4
    code, out, _ = cli(capsys, "verify", COPY)  # verify hashes every byte
    assert code == 1 and f"{COPY}: CORRUPT: originals/{VAL}: sha256:" in out
    assert cli(capsys, "datafolders", "rm", "imagenet")[0] == 0 and yaml_of(env.config) == {"jobs": 2}
    assert source.joinpath(VAL).exists()


def yaml_of(path: Path) -> object:
    import yaml

    return yaml.safe_load(path.read_text()) or {}


def test_a_truncated_file_is_refused_by_its_size_before_hashing(env, published) -> None:
    files = published["files"]
    fixture_copy(env, files)
    source = write(env.root / "downloads", {**files, TRAIN: files[TRAIN][:-512]})
    with pytest.raises(ChecksumError) as refused:
        prepare_dataset(COPY, request=Request(quiet=True, source_dir=source))
    assert f"{source / TRAIN}: {len(files[TRAIN]) - 512} bytes, expected {len(files[TRAIN])}" in str(refused.value)
    assert "sha256" not in str(refused.value)
    assert not (env.data / "datasets" / COPY / "originals").exists()


def test_a_file_with_another_checksum_is_refused_naming_it(env, published) -> None:
    files = published["files"]
    fixture_copy(env, files)
    other = bytearray(files[DEVKIT])
    other[-20] ^= 0xFF  # the same size
    source = write(env.root / "downloads", {**files, DEVKIT: bytes(other)})
    with pytest.raises(ChecksumError) as refused:
        prepare_dataset(COPY, request=Request(quiet=True, source_dir=source))
    assert f"{source / DEVKIT} does not match: {DEVKIT}: expected sha256:{sha256(files[DEVKIT])}" in str(refused.value)
    assert not (env.data / "datasets" / COPY / "originals").exists()


def test_a_hostile_member_of_the_train_tar_is_refused(env, published, tmp_path) -> None:
    canary = tmp_path / "x"
    canary.write_text("canary")
    hostile = {**published["files"], TRAIN: tar({"n01440764.tar": tar({"n01440764_1.JPEG": b"x"}), "../x": b"owned"})}
    fixture_copy(env, hostile)
    source = write(env.root / "downloads", hostile)
    with pytest.raises(UnsafeArchiveError, match=r"\.\./x"):
        prepare_dataset(COPY, request=Request(quiet=True, source_dir=source))
    assert canary.read_text() == "canary"
    assert sorted(p.name for p in tmp_path.rglob("x")) == ["x"]
    assert not (env.data / "datasets" / COPY / "train").exists()


def test_a_datafolder_must_be_an_absolute_path(env) -> None:
    env.write_config({"datafolders": {"imagenet": "relative/folder"}})
    with pytest.raises(UsageError, match="'datafolders.imagenet' must be an absolute path"):
        prepare_dataset(DATASET, request=Request(quiet=True))
