"""Flowers-102, DTD, FGVC-Aircraft, Food-101, Caltech-101, CUB-200-2011, GTSRB and EuroSAT, end to end.

Each test builds a small copy of the published archives in their exact
layout (member names, list files, JPEG or PPM images written by Pillow,
MATLAB files written by scipy), serves it on loopback under the definition's
real URLs (every URL and mirror rewritten by the ``mirrors`` setting, so no
test reaches a real host), and first runs the published definition: the
copy is refused (size or checksum mismatch, or for FGVC-Aircraft, which has
no published checksum, its published counts). Then a copy of the definition
module, identical but for its checksums, sizes and counts (each replaced
text found exactly once), verifies the fixture, and the typed splits, class
names, labels and decoded pixels are checked. GTSRB, whose sizes are not
published, is prepared from the files with ``--from DIR --no-verify``.
"""

from __future__ import annotations

import io
import json
import re
import tarfile
from pathlib import Path

import numpy as np
import pytest
from kindfixtures import decoded, image_bytes, patched_module, sha256, smooth_image, tar_gz, zip_bytes
from published import prepare_local

from datamaestro.api import from_json, prepare_dataset, to_json
from datamaestro.data.folder import ImageFolder, ImageFolderClassification
from datamaestro.errors import ChecksumError, DownloadError, FormatError
from datamaestro.formats import flowers, gtsrb
from datamaestro.loaders.folder import read_categories

scipy_io = pytest.importorskip("scipy.io", reason="the Flowers-102 test writes .mat files with scipy (extra 'test')")


def serve(env, server, files: dict[str, bytes], mirrors: tuple[str, ...] = ()) -> None:
    """Serve ``files`` (real URL -> bytes) on loopback; each ``mirrors`` base leads where the first URL's folder does."""
    for url, data in files.items():
        path = "/" + url.split("://", 1)[1].split("?", 1)[0]
        server.files[path] = data
        folder = path.rsplit("/", 1)[0] + "/"
        env.mirror(url.rsplit("/", 1)[0] + "/", server.url(folder))
    first = "/" + next(iter(files)).split("://", 1)[1].rsplit("/", 1)[0] + "/"
    for base in mirrors:
        env.mirror(base, server.url(first))


def fixture_copy(env, module: str, published: list[tuple[str, str, bytes]], replaced: dict[str, str] | None = None) -> str:
    """The copy ``org.fixture.<name>`` of ``module`` that verifies the fixture files: ``published`` lists
    (published sha256 digest, ``size=N`` as written or "", fixture bytes); ``replaced``: other texts to replace."""
    replacements = {f"sha256:{digest}": f"sha256:{sha256(data)}" for digest, _, data in published}
    replacements.update({size: f"size={len(data)}" for _, size, data in published if size})
    replacements.update(replaced or {})
    return patched_module(env.use_registry(), module, "org.fixture." + module.rsplit(".", 1)[-1], replacements)


def images(rng: np.random.Generator, names: list[str], format: str = "JPEG", **sizes: tuple[int, int]) -> dict[str, bytes]:
    """An image file for each name (sizes alternate unless given)."""
    out = {}
    for k, name in enumerate(names):
        height, width = sizes.get(Path(name).stem, (24 + 4 * (k % 3), 32))
        out[name] = image_bytes(smooth_image(rng, height, width), format=format)
    return out


def check_images(split: ImageFolder, files: dict[str, bytes], names: list[str]) -> None:
    """Image ``i`` of ``split`` decodes as the fixture file ``names[i]``."""
    assert len(split) == len(names)
    for i, name in enumerate(names):
        image = split.image(i)
        assert image.shape[2] == 3 and np.array_equal(image, decoded(files[name]))


# --- Oxford Flowers-102 -----------------------------------------------------------------------

FLOWERS = "https://www.robots.ox.ac.uk/~vgg/data/flowers/102/"
#: the copy of the VGG module defines its datasets under its own module path
VGG_PREFIX = {'PREFIX = "uk.ac.ox.robots."': 'PREFIX = ""'}


def mat_bytes(**variables: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    scipy_io.savemat(buffer, variables, format="5")
    return buffer.getvalue()


def test_flowers_102(env, server):
    rng = np.random.default_rng(102)
    members = images(rng, [f"jpg/image_{k:05d}.jpg" for k in range(1, 7)])
    archive = tar_gz(members)
    labels = mat_bytes(labels=np.array([[77, 1, 102, 77, 5, 1]], dtype=np.uint8))
    setid = mat_bytes(trnid=np.array([[1, 3]], np.uint16), valid=np.array([[2, 6]], np.uint16), tstid=np.array([[5, 4]], np.uint16))
    serve(env, server, {FLOWERS + "102flowers.tgz": archive, FLOWERS + "imagelabels.mat": labels, FLOWERS + "setid.mat": setid})
    with pytest.raises(DownloadError, match=r"got \d+ bytes, expected (344862509|502|14989)"):
        prepare_dataset("uk.ac.ox.robots.flowers-102")
    module = fixture_copy(env, "uk.ac.ox.vgg", [
        ("2d01ecc807db462958cfe3d92f57a8c252b4abd240eb955770201e45f783b246", "size=344862509", archive),
        ("4903e94206bac23bf772aadf06451916df56b58fc483a62db32a97b82656651d", "size=502", labels),
        ("46b8678f91fd95d3c8f4feab80d271a6c834a1dd896fe29fd3e6ad9ce5c8dccd", "size=14989", setid),
    ], VGG_PREFIX)
    ds = prepare_dataset(f"{module}.flowers-102")
    assert isinstance(ds, ImageFolderClassification) and ds.categories == flowers.NAMES
    assert len(ds.categories) == 102 and ds.categories[76] == "passion flower" and ds.categories[101] == "blackberry lily"
    expected = {"train": ([76, 101], [1, 3]), "validation": ([0, 0], [2, 6]), "test": ([4, 76], [5, 4])}
    for name, (labels_of, ids) in expected.items():
        split = getattr(ds, name)
        assert split.labels.data().tolist() == labels_of
        check_images(split, members, [f"jpg/image_{k:05d}.jpg" for k in ids])
    assert ds.test.text_labels([4, 76]) == ["english marigold", "passion flower"]


def test_flowers_102_setid_beyond_the_labels(env, server):
    archive = tar_gz(images(np.random.default_rng(0), ["jpg/image_00001.jpg"]))
    labels = mat_bytes(labels=np.array([[3]], np.uint8))
    setid = mat_bytes(trnid=np.array([[1]], np.uint16), valid=np.array([[9]], np.uint16), tstid=np.array([[1]], np.uint16))
    serve(env, server, {FLOWERS + "102flowers.tgz": archive, FLOWERS + "imagelabels.mat": labels, FLOWERS + "setid.mat": setid})
    module = fixture_copy(env, "uk.ac.ox.vgg", [
        ("2d01ecc807db462958cfe3d92f57a8c252b4abd240eb955770201e45f783b246", "size=344862509", archive),
        ("4903e94206bac23bf772aadf06451916df56b58fc483a62db32a97b82656651d", "size=502", labels),
        ("46b8678f91fd95d3c8f4feab80d271a6c834a1dd896fe29fd3e6ad9ce5c8dccd", "size=14989", setid),
    ], VGG_PREFIX)
    with pytest.raises(FormatError, match=r"setid.mat: valid names images beyond the 1 labelled ones"):
        prepare_dataset(f"{module}.flowers-102")


# --- DTD ----------------------------------------------------------------------------------------

DTD_URL = "https://www.robots.ox.ac.uk/~vgg/data/dtd/download/dtd-r1.0.1.tar.gz"


def plain_tar(files: dict[str, bytes]) -> bytes:
    """An uncompressed tar (DTD's .tar.gz is one)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def test_dtd_partitions(env, server):
    names = ["zigzagged/zigzagged_0133.jpg", "banded/banded_0002.jpg", "blotchy/blotchy_0010.jpg", "banded/banded_0004.jpg"]
    members = images(np.random.default_rng(47), [f"dtd/images/{n}" for n in names])
    lists = {}
    for k in range(1, 11):  # partition k: train, val and test are rotations of the four images
        order = names[k % 4 :] + names[: k % 4]
        lists.update({f"dtd/labels/train{k}.txt": order[:2], f"dtd/labels/val{k}.txt": order[2:3], f"dtd/labels/test{k}.txt": order[3:]})
    members.update({path: "".join(f"{n}\n" for n in lines).encode() for path, lines in lists.items()})
    members["dtd/labels/labels_joint_anno.txt"] = b"banded/banded_0002.jpg banded \n"
    members["dtd/imdb/imdb.mat"] = mat_bytes(x=np.zeros((1, 1)))
    archive = plain_tar(members)
    serve(env, server, {DTD_URL: archive})
    with pytest.raises(DownloadError, match=f"got {len(archive)} bytes, expected 625239812"):
        prepare_dataset("uk.ac.ox.robots.dtd")
    module = fixture_copy(env, "uk.ac.ox.vgg", [("e42855a52a4950a3b59612834602aa253914755c95b0cff9ead6d07395f8e205", "size=625239812", archive)], VGG_PREFIX)
    ds = prepare_dataset(f"{module}.dtd")
    assert ds.categories == ["banded", "blotchy", "zigzagged"]
    label = {"banded": 0, "blotchy": 1, "zigzagged": 2}
    for split, files in (("train", lists["dtd/labels/train1.txt"]), ("validation", lists["dtd/labels/val1.txt"]), ("test", lists["dtd/labels/test1.txt"])):
        assert getattr(ds, split).labels.data().tolist() == [label[n.split("/")[0]] for n in files]
        check_images(getattr(ds, split), members, [f"dtd/images/{n}" for n in files])
    # another partition, as the description says
    fold7 = ImageFolder.from_index(ds.train.root, ds.train.files.parent / "fold7", "train", ds.categories)
    assert [p.name for p in fold7.paths()] == [Path(n).name for n in lists["dtd/labels/train7.txt"]]
    assert fold7.labels.data().tolist() == [label[n.split("/")[0]] for n in lists["dtd/labels/train7.txt"]]


# --- FGVC-Aircraft ------------------------------------------------------------------------------

FGVC_URL = "https://www.robots.ox.ac.uk/~vgg/data/fgvc-aircraft/archives/fgvc-aircraft-2013b.tar.gz"


def fgvc_archive() -> tuple[bytes, dict[str, bytes]]:
    """The archive with five images: (id, variant, family, manufacturer, split)."""
    plan = [
        ("1025794", "707-320", "Boeing 707", "Boeing", "train"),
        ("0056978", "A300B4", "A300", "Airbus", "train"),
        ("1340192", "Cessna 172", "Cessna 172", "Cessna", "val"),
        ("0062765", "707-320", "Boeing 707", "Boeing", "test"),
        ("2227442", "A300B4", "A300", "Airbus", "test"),
    ]
    root = "fgvc-aircraft-2013b/data/"
    members = images(np.random.default_rng(13), [f"{root}images/{row[0]}.jpg" for row in plan])
    for level, column, names in (("variant", 1, "variants"), ("family", 2, "families"), ("manufacturer", 3, "manufacturers")):
        members[f"{root}{names}.txt"] = "".join(sorted({f"{row[column]}\n" for row in plan})).encode()
        for split, keep in (("train", {"train"}), ("val", {"val"}), ("trainval", {"train", "val"}), ("test", {"test"})):
            members[f"{root}images_{level}_{split}.txt"] = "".join(f"{row[0]} {row[column]}\n" for row in plan if row[4] in keep).encode()
    members[f"{root}images_box.txt"] = "".join(f"{row[0]} 1 1 20 20\n" for row in plan).encode()
    members["fgvc-aircraft-2013b/README.html"] = b"<html></html>"
    return tar_gz(members), members


def test_fgvc_aircraft_counts_and_levels(env, server):
    archive, members = fgvc_archive()
    serve(env, server, {FGVC_URL: archive})
    # no published checksum: the download is accepted, and the published counts refuse it
    with pytest.raises(FormatError, match=r"fgvc-aircraft-2013b: 2 train where the published archive has 3334; the archive is not FGVC-Aircraft 2013b"):
        prepare_dataset("uk.ac.ox.robots.fgvc-aircraft")
    counts = {
        'COUNTS = {"train": 3334, "val": 3333, "test": 3333}': 'COUNTS = {"train": 2, "val": 1, "test": 2}',
        'CLASSES = {"variant": 100, "family": 70, "manufacturer": 30}': 'CLASSES = {"variant": 3, "family": 3, "manufacturer": 3}',
    }
    module = fixture_copy(env, "uk.ac.ox.vgg", [], VGG_PREFIX | counts)
    ds = prepare_dataset(f"{module}.fgvc-aircraft")
    assert ds.categories == ["707-320", "A300B4", "Cessna 172"]
    assert ds.train.labels.data().tolist() == [0, 1] and ds.validation.labels.data().tolist() == [2]
    assert ds.test.text_labels(ds.test.labels.data()) == ["707-320", "A300B4"]
    root = "fgvc-aircraft-2013b/data/images/"
    check_images(ds.test, members, [f"{root}0062765.jpg", f"{root}2227442.jpg"])
    family = ds.train.files.parent / "family"
    families = ImageFolder.from_index(ds.train.root, family, "val", read_categories(family))
    assert families.categories == ["A300", "Boeing 707", "Cessna 172"] and families.labels.data().tolist() == [2]
    manufacturer = ds.train.files.parent / "manufacturer"
    assert read_categories(manufacturer) == ["Airbus", "Boeing", "Cessna"]
