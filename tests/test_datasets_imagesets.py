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


@pytest.fixture(scope="module")
def index_cache(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("cache")


@pytest.fixture(autouse=True)
def shared_index(index_cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """One cache (the index of definitions) for the tests of this file: the built-in modules are indexed once."""
    monkeypatch.setenv("DATAMAESTRO_CACHE", str(index_cache))


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


def images(rng: np.random.Generator, names: list[str], format: str = "JPEG") -> dict[str, bytes]:
    """An image file for each name, of three sizes in turn."""
    return {name: image_bytes(smooth_image(rng, 24 + 4 * (k % 3), 32), format=format) for k, name in enumerate(names)}


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


# --- Food-101 -----------------------------------------------------------------------------------

FOOD = "https://data.vision.ee.ethz.ch/cvl/food-101.tar.gz"
FOOD_MIRRORS = ("http://data.vision.ee.ethz.ch/cvl/",)
FOOD_PUBLISHED = ("d97d15e438b7f4498f96086a4f7e2fa42a32f2712e87d3295441b2b6314053a4", "size=4996278331")


def food_archive(train: list[str], test: list[str]) -> tuple[bytes, dict[str, bytes]]:
    classes = ["apple_pie", "baby_back_ribs", "waffles"]
    published = sorted(n for n in {*train, *test} if ".." not in n)
    members = images(np.random.default_rng(101), [f"food-101/images/{n}.jpg" for n in published])
    members["food-101/meta/classes.txt"] = "".join(f"{c}\n" for c in classes).encode()
    members["food-101/meta/labels.txt"] = b"Apple pie\nBaby back ribs\nWaffles\n"
    for split, lines in (("train", train), ("test", test)):
        members[f"food-101/meta/{split}.txt"] = "".join(f"{n}\n" for n in lines).encode()
        members[f"food-101/meta/{split}.json"] = json.dumps({c: [n for n in lines if n.startswith(c + "/")] for c in classes}).encode()
    members["food-101/README.txt"] = b"Food-101"
    return tar_gz(members), members


def test_food_101(env, server):
    train, test = ["apple_pie/1005649", "waffles/971843", "apple_pie/1014775"], ["baby_back_ribs/2432", "waffles/1008"]
    archive, members = food_archive(train, test)
    serve(env, server, {FOOD: archive}, FOOD_MIRRORS)
    with pytest.raises(DownloadError, match=f"got {len(archive)} bytes, expected 4996278331"):
        prepare_dataset("ch.ethz.ee.vision.food-101")
    assert server.gets("/data.vision.ee.ethz.ch/cvl/food-101.tar.gz") == 2  # the https URL and its http mirror
    module = fixture_copy(env, "ch.ethz.ee.vision", [(*FOOD_PUBLISHED, archive)])
    ds = prepare_dataset(f"{module}.food-101")
    assert ds.categories == ["apple_pie", "baby_back_ribs", "waffles"]
    assert ds.train.labels.data().tolist() == [0, 2, 0] and ds.test.labels.data().tolist() == [1, 2]
    check_images(ds.train, members, [f"food-101/images/{n}.jpg" for n in train])
    check_images(ds.test, members, [f"food-101/images/{n}.jpg" for n in test])
    back = from_json(json.dumps(to_json(f"{module}.food-101", ds)))
    assert back.categories == ds.categories and np.array_equal(back.test.image(1), ds.test.image(1))


def test_food_101_list_leading_outside_is_refused(env, server):
    """A list naming a path with '..' (the same path rule guards every dataset of this family)."""
    canary = env.data / "canary.jpg"  # where the path leads from the extracted folder
    canary.parent.mkdir(parents=True, exist_ok=True)
    canary.write_bytes(image_bytes(smooth_image(np.random.default_rng(0), 8, 8)))
    archive, _ = food_archive(["apple_pie/1005649", "apple_pie/../../../../../canary"], ["waffles/1008"])
    serve(env, server, {FOOD: archive}, FOOD_MIRRORS)
    module = fixture_copy(env, "ch.ethz.ee.vision", [(*FOOD_PUBLISHED, archive)])
    message = "refused image path 'images/apple_pie/../../../../../canary.jpg': not a plain path inside the dataset folder"
    with pytest.raises(FormatError, match=re.escape(message)):
        prepare_dataset(f"{module}.food-101")
    assert not (env.data / "datasets" / f"{module}.food-101" / "index").exists()


# --- Caltech-101 and CUB-200-2011 ---------------------------------------------------------------

CALTECH = "https://data.caltech.edu/records/mzrjq-6wc02/files/caltech-101.zip?download=1"
CUB = "https://data.caltech.edu/records/65de6-vp158/files/CUB_200_2011.tgz?download=1"


def test_caltech_101_one_split_without_background(env, server):
    rng = np.random.default_rng(101)
    names = ["BACKGROUND_Google/image_0001.jpg", "Faces/image_0001.jpg", "accordion/image_0002.jpg", "accordion/image_0001.jpg", "Leopards/image_0001.jpg"]
    inner = images(rng, [f"101_ObjectCategories/{n}" for n in names])
    inner["101_ObjectCategories/Leopards/image_0001.jpg"] = image_bytes(smooth_image(rng, 20, 30), mode="L")  # grey
    archive = zip_bytes({
        "caltech-101/101_ObjectCategories.tar.gz": tar_gz(inner),
        "caltech-101/Annotations.tar": plain_tar({"Annotations/Faces_2/annotation_0001.mat": mat_bytes(box_coord=np.ones((1, 4)))}),
        "caltech-101/show_annotation.m": b"% show an annotation\n",
        "__MACOSX/caltech-101/._101_ObjectCategories.tar.gz": b"\0\5\26\7",
    })
    serve(env, server, {CALTECH: archive})
    with pytest.raises(DownloadError, match=f"got {len(archive)} bytes, expected 137414764"):
        prepare_dataset("edu.caltech.data.caltech-101")
    module = fixture_copy(env, "edu.caltech.data", [("331234750fc7f77520e50d9565e8b6907b03565e30320da1401130db08c61f91", "size=137414764", archive)])
    ds = prepare_dataset(f"{module}.caltech-101")
    assert type(ds) is ImageFolder
    assert ds.categories == ["Faces", "Leopards", "accordion"]  # sorted as Python sorts, BACKGROUND_Google left out
    assert ds.labels.data().tolist() == [0, 1, 2, 2]
    order = ["Faces/image_0001.jpg", "Leopards/image_0001.jpg", "accordion/image_0001.jpg", "accordion/image_0002.jpg"]
    check_images(ds, inner, [f"101_ObjectCategories/{n}" for n in order])
    assert np.array_equal(ds.image(1)[:, :, 0], ds.image(1)[:, :, 2])  # the grey image comes out RGB


def test_cub_200_2011(env, server):
    classes = ["001.Black_footed_Albatross", "002.Laysan_Albatross", "200.Common_Yellowthroat"]
    plan = [  # (image id, class id, file, train)
        (1, 1, "Black_Footed_Albatross_0046_18.jpg", 1), (2, 3, "Common_Yellowthroat_0003_190521.jpg", 0),
        (3, 2, "Laysan_Albatross_0002_1027.jpg", 1), (4, 1, "Black_Footed_Albatross_0009_34.jpg", 0),
    ]
    # classes.txt numbers the classes 1 to N: the third class here is class 3
    paths = {i: f"{classes[c - 1]}/{file}" for i, c, file, _ in plan}
    members = images(np.random.default_rng(200), [f"CUB_200_2011/images/{p}" for p in paths.values()])
    members.update({
        "CUB_200_2011/classes.txt": "".join(f"{k} {c}\n" for k, c in enumerate(classes, start=1)).encode(),
        "CUB_200_2011/images.txt": "".join(f"{i} {paths[i]}\n" for i, *_ in plan).encode(),
        "CUB_200_2011/image_class_labels.txt": "".join(f"{i} {c}\n" for i, c, *_ in plan).encode(),
        "CUB_200_2011/train_test_split.txt": "".join(f"{i} {t}\n" for i, _, _, t in plan).encode(),
        "CUB_200_2011/bounding_boxes.txt": "".join(f"{i} 1.0 2.0 10.0 12.0\n" for i, *_ in plan).encode(),
        "CUB_200_2011/README": b"CUB-200-2011",
        "attributes.txt": b"1 has_bill_shape::curved_(up_or_down)\n",
    })
    archive = tar_gz(members)
    serve(env, server, {CUB: archive})
    with pytest.raises(DownloadError, match=f"got {len(archive)} bytes, expected 1150585339"):
        prepare_dataset("edu.caltech.data.cub-200-2011")
    module = fixture_copy(env, "edu.caltech.data", [("0c685df5597a8b24909f6a7c9db6d11e008733779a671760afef78feb49bf081", "size=1150585339", archive)])
    ds = prepare_dataset(f"{module}.cub-200-2011")
    assert ds.categories == ["Black footed Albatross", "Laysan Albatross", "Common Yellowthroat"]
    assert ds.train.labels.data().tolist() == [0, 1] and ds.test.labels.data().tolist() == [2, 0]
    check_images(ds.train, members, [f"CUB_200_2011/images/{paths[i]}" for i in (1, 3)])
    check_images(ds.test, members, [f"CUB_200_2011/images/{paths[i]}" for i in (2, 4)])


# --- GTSRB --------------------------------------------------------------------------------------

GTSRB_BASE = "https://sid.erda.dk/public/archives/daaeac0d7ce1152aea9b61d9f1e19370/"
GT_HEADER = "Filename;Width;Height;Roi.X1;Roi.Y1;Roi.X2;Roi.Y2;ClassId\n"


def gtsrb_files() -> tuple[dict[str, bytes], dict[str, bytes]]:
    """The three zips (training, test images, test ground truth) with PPM images, and their members."""
    rng = np.random.default_rng(43)
    train_names = ["00000/00000_00000.ppm", "00000/00000_00001.ppm", "00014/00000_00000.ppm", "00042/00003_00029.ppm"]
    members = images(rng, [f"GTSRB/Training/{n}" for n in train_names], format="PPM")
    for folder in ("00000", "00014", "00042"):
        rows = "".join(f"{Path(n).name};30;24;5;5;25;19;{int(folder)}\n" for n in train_names if n.startswith(folder))
        members[f"GTSRB/Training/{folder}/GT-{folder}.csv"] = (GT_HEADER + rows).encode()
    members["GTSRB/Readme-Images.txt"] = b"The training set"
    test = images(rng, [f"GTSRB/Final_Test/Images/{k:05d}.ppm" for k in range(3)], format="PPM")
    test["GTSRB/Final_Test/Images/GT-final_test.test.csv"] = (GT_HEADER.replace(";ClassId", "") + "00000.ppm;30;24;5;5;25;19\n").encode()
    truth = GT_HEADER + "00000.ppm;30;24;5;5;25;19;14\n00001.ppm;30;24;5;5;25;19;0\n00002.ppm;30;24;5;5;25;19;42\n"
    files = {
        "GTSRB-Training_fixed.zip": zip_bytes(members),
        "GTSRB_Final_Test_Images.zip": zip_bytes(test),
        "GTSRB_Final_Test_GT.zip": zip_bytes({"GT-final_test.csv": truth.encode()}),
    }
    return files, {**members, **test}


def test_gtsrb(env, server, tmp_path):
    files, members = gtsrb_files()
    serve(env, server, {GTSRB_BASE + name: data for name, data in files.items()})
    with pytest.raises(ChecksumError, match=r"checksum mismatch for \w+ of de\.rub\.ini\.gtsrb: .*: expected sha256:"):
        prepare_dataset("de.rub.ini.gtsrb")
    assert not (env.data / "datasets" / "de.rub.ini.gtsrb" / "training").exists()
    ds = prepare_local(tmp_path / "published", "de.rub.ini.gtsrb", files)  # no published sizes: --from DIR --no-verify
    assert ds.categories == gtsrb.NAMES and len(ds.categories) == 43
    assert ds.train.labels.data().tolist() == [0, 0, 14, 42]
    assert ds.test.text_labels(ds.test.labels.data()) == ["Stop", "Speed limit (20km/h)", gtsrb.NAMES[42]]
    check_images(ds.train, members, [f"GTSRB/Training/{n}" for n in ("00000/00000_00000.ppm", "00000/00000_00001.ppm", "00014/00000_00000.ppm", "00042/00003_00029.ppm")])
    check_images(ds.test, members, [f"GTSRB/Final_Test/Images/{k:05d}.ppm" for k in range(3)])


# --- EuroSAT ------------------------------------------------------------------------------------

EUROSAT = "https://madm.dfki.de/files/sentinel/EuroSAT.zip"
EUROSAT_MIRRORS = ("http://madm.dfki.de/files/sentinel/", "https://huggingface.co/datasets/torchgeo/eurosat/resolve/c877bcd43f099cd0196738f714544e355477f3fd/")


def test_eurosat_one_split(env, server, cli):
    names = ["AnnualCrop/AnnualCrop_1.jpg", "AnnualCrop/AnnualCrop_10.jpg", "AnnualCrop/AnnualCrop_2.jpg", "Forest/Forest_1.jpg", "SeaLake/SeaLake_7.jpg"]
    members = {f"2750/{n}": image_bytes(smooth_image(np.random.default_rng(k), 64, 64)) for k, n in enumerate(names)}
    archive = zip_bytes(members)
    serve(env, server, {EUROSAT: archive}, EUROSAT_MIRRORS)
    with pytest.raises(DownloadError, match=f"got {len(archive)} bytes, expected 94280567"):
        prepare_dataset("de.dfki.madm.eurosat-rgb")
    assert server.gets("/madm.dfki.de/files/sentinel/EuroSAT.zip") == 3  # the URL and its two mirrors, all on loopback
    module = fixture_copy(env, "de.dfki.madm", [("8ebea626349354c5328b142b96d0430e647051f26efc2dc974c843f25ecf70bd", "size=94280567", archive)])
    ds = prepare_dataset(f"{module}.eurosat-rgb")
    assert type(ds) is ImageFolder and ds.categories == ["AnnualCrop", "Forest", "SeaLake"]
    assert ds.labels.data().tolist() == [0, 0, 0, 1, 2]
    x, y = ds.arrays()  # every image is 64x64
    assert x.shape == (5, 64, 64, 3) and y.tolist() == [0, 0, 0, 1, 2]
    assert all(np.array_equal(x[i], decoded(members[f"2750/{n}"])) for i, n in enumerate(names))
    info = json.loads(cli("info", "--json", f"{module}.eurosat-rgb").stdout)
    assert info["splits"]["all"]["count"] == 5 and info["splits"]["all"]["labels"]["AnnualCrop"] == 3
