"""The image-folder definitions (Imagenette, Imagewoof, Tiny ImageNet, Oxford-IIIT Pet), end to end.

Each test builds a small copy of the published archive, in its exact layout
(member names, JPEG files, the CSV or text files of labels), serves it on a
loopback server and points the definition's real URL at it through the
``mirrors`` setting. The small copies cannot match the published checksums,
so, honestly:

* definitions with published checksums are first run as they are: the copy is
  refused (checksum or size mismatch) and nothing is kept. Then a copy of the
  definition module, identical but for its checksum and size constants
  (replaced by the fixture's, each found exactly once in the published
  module), is loaded from the test's registry: it downloads and *verifies* the
  fixture, and the typed objects and loaders are checked;
* definitions without a published checksum are run as they are: the download
  is accepted with the "not verified" warning.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import zipfile

import numpy as np
import pytest
from kindfixtures import (
    decoded,
    image_bytes,
    patched_module,
    sha256,
    smooth_image,
    tar_gz,
    verified_copy,
    zip_bytes,
)

from datamaestro.api import from_json, prepare_dataset, to_json
from datamaestro.data.folder import ImageFolder, ImageFolderClassification
from datamaestro.errors import DownloadError, FormatError, UsageError
from datamaestro.storage import DataFolder

S3 = "https://s3.amazonaws.com/fast-ai-imageclas/"
IMAGENETTE_NAMES = [
    "tench", "English springer", "cassette player", "chain saw", "church",
    "French horn", "garbage truck", "gas pump", "golf ball", "parachute",
]
IMAGEWOOF_WNIDS = [
    "n02086240", "n02087394", "n02088364", "n02089973", "n02093754",
    "n02096294", "n02099601", "n02105641", "n02111889", "n02115641",
]
IMAGEWOOF_NAMES = [
    "Shih-Tzu", "Rhodesian ridgeback", "beagle", "English foxhound", "Border terrier",
    "Australian terrier", "golden retriever", "Old English sheepdog", "Samoyed", "dingo",
]


def fastai_archive(name: str, csv_name: str, wnids: list[str], seed: int = 0) -> tuple[bytes, dict]:
    """``<name>.tgz`` as fast.ai publishes it, with a few images; returns it and what it holds."""
    rng = np.random.default_rng(seed)
    rows = [["path", "noisy_labels_0", "noisy_labels_1", "noisy_labels_5", "noisy_labels_25", "noisy_labels_50", "is_valid"]]
    files: dict[str, bytes] = {}
    expected: dict[str, list] = {"train": [], "val": []}
    plan = [("train", 2), ("train", 0), ("val", 4), ("train", 2), ("val", 9), ("train", 7)]
    for k, (split, label) in enumerate(plan):
        wnid = wnids[label]
        height, width = (160, 213) if k % 2 == 0 else (213, 160)
        data = image_bytes(smooth_image(rng, height, width))
        path = f"{split}/{wnid}/{wnid}_{1000 + k}.JPEG"
        files[f"{name}/{path}"] = data
        noisy = wnids[(label + 1) % 10]  # the noisy columns differ: the index must use noisy_labels_0
        rows.append([path, wnid, noisy, noisy, noisy, noisy, str(split == "val")])
        expected[split].append((label, data, (height, width)))
    text = io.StringIO()
    csv.writer(text, lineterminator="\n").writerows(rows)
    files[f"{name}/{csv_name}"] = text.getvalue().encode()
    return tar_gz(files), expected


@pytest.fixture
def imagenette(env, server):
    """The patched copy of com.github.fastai serving a small imagenette2-160.tgz; returns (id, expected)."""
    archive, expected = fastai_archive("imagenette2-160", "noisy_imagenette.csv", sorted(WNID_OF))
    server.files["/fastai/imagenette2-160.tgz"] = archive
    env.mirror(S3, server.url("/fastai/"))
    digest = "64d0c4859f35a461889e0147755a999a48b49bf38a7e0f9bd27003f10db02fe5"
    module = verified_copy(env.use_registry(), "com.github.fastai", [(digest, "99003388", archive)])
    return f"{module}.imagenette-160", expected


WNID_OF = {
    "n01440764": "tench", "n02102040": "English springer", "n02979186": "cassette player",
    "n03000684": "chain saw", "n03028079": "church", "n03394916": "French horn",
    "n03417042": "garbage truck", "n03425413": "gas pump", "n03445777": "golf ball", "n03888257": "parachute",
}


def test_imagenette_published_definition_refuses_the_copy(env, server):
    archive, _ = fastai_archive("imagenette2-160", "noisy_imagenette.csv", sorted(WNID_OF))
    server.files["/fastai/imagenette2-160.tgz"] = archive
    env.mirror(S3, server.url("/fastai/"))
    with pytest.raises(DownloadError, match=f"got {len(archive)} bytes, expected 99003388"):
        prepare_dataset("com.github.fastai.imagenette-160")
    assert not (env.data / "datasets" / "com.github.fastai.imagenette-160" / "imagenette2-160").exists()
    assert server.gets("/fastai/imagenette2-160.tgz") == 1


def test_imagenette_verified_typed_splits(imagenette, server):
    dataset_id, expected = imagenette
    ds = prepare_dataset(dataset_id)
    assert isinstance(ds, ImageFolderClassification)
    assert ds.categories == IMAGENETTE_NAMES
    assert set(ds.splits()) == {"train", "validation"}
    for split, name in (("train", "train"), ("val", "validation")):
        data = getattr(ds, name)
        assert isinstance(data, ImageFolder) and data.categories == IMAGENETTE_NAMES
        assert len(data) == len(expected[split])
        assert data.labels.data().tolist() == [label for label, _, _ in expected[split]]
        assert data.labels.data().dtype == np.int64
        assert data.sizes_array().tolist() == [list(size) for _, _, size in expected[split]]
        for i, (_, jpeg, (height, width)) in enumerate(expected[split]):
            image = data.image(i)
            assert image.shape == (height, width, 3) and image.dtype == np.uint8
            assert np.array_equal(image, decoded(jpeg))
    assert ds.validation.text_labels([4, 9]) == ["church", "parachute"]
    # JSON round trip
    back = from_json(json.dumps(to_json(dataset_id, ds)))
    assert isinstance(back, ImageFolderClassification) and back.categories == IMAGENETTE_NAMES
    assert np.array_equal(back.train.image(0), ds.train.image(0))


def test_imagenette_arrays_and_batches(imagenette):
    dataset_id, expected = imagenette
    train = prepare_dataset(dataset_id).train
    with pytest.raises(UsageError, match=r"the images differ in size \(160x213, 213x160\); pass resize=\(height, width\)"):
        train.arrays()
    with pytest.raises(UsageError, match="resize=32 keeps each image's aspect ratio"):
        train.arrays(resize=32)
    x, y = train.arrays(resize=(32, 48))
    assert x.shape == (4, 32, 48, 3) and x.dtype == np.uint8
    assert y.tolist() == [2, 0, 2, 7]
    xn, y1 = train.arrays(resize=(32, 48), normalize=True, layout="NCHW", one_hot=True)
    assert xn.shape == (4, 3, 32, 48) and xn.dtype == np.float32
    assert y1.shape == (4, 10) and y1.argmax(axis=1).tolist() == [2, 0, 2, 7]
    # images are resized by Pillow (bilinear, antialiased when shrinking), then scaled
    from PIL import Image

    with Image.open(io.BytesIO(expected["train"][1][1])) as image:
        reference = np.asarray(image.convert("RGB").resize((48, 32), Image.Resampling.BILINEAR))
    assert np.array_equal(x[1], reference)
    assert np.array_equal(xn[1].transpose(1, 2, 0), reference / np.float32(255))
    # batches: seeded passes are reproducible, each call reshuffles, workers do not change values
    first = [yb.tolist() for _, yb in train.batches(3, seed=5, resize=(16, 16))]
    again = [yb.tolist() for _, yb in train.batches(3, seed=5, resize=(16, 16), epoch=0)]
    assert first == again and sorted(sum(first, [])) == [0, 2, 2, 7]
    order = np.random.default_rng([5, 0]).permutation(4)
    assert sum(first, []) == [[2, 0, 2, 7][i] for i in order]
    batches = train.batches(3, shuffle=False, resize=(16, 16), workers=1)
    assert len(batches) == 2
    serial = list(batches)
    parallel = list(train.batches(3, shuffle=False, resize=(16, 16), workers=4))
    assert [b[0].shape for b in serial] == [(3, 16, 16, 3), (1, 16, 16, 3)]
    assert all(np.array_equal(a[0], b[0]) for a, b in zip(serial, parallel))
    assert serial[0][0].dtype == np.float32 and 0 <= serial[0][0].min() and serial[0][0].max() <= 1
    flat = next(iter(train.batches(4, shuffle=False, resize=(8, 8), flatten=True, drop_last=True)))[0]
    assert flat.shape == (4, 8 * 8 * 3)
    with pytest.raises(UsageError, match="batch_size must be a positive integer, not 0"):
        train.batches(0)


def test_imagenette_show_info_and_export(imagenette, cli, tmp_path):
    from PIL import Image

    from datamaestro.formats import read, write

    dataset_id, expected = imagenette
    result = cli("show", dataset_id, "--split", "validation", "-o", str(tmp_path / "grid.png"), "--cols", "2")
    assert result.returncode == 0, result.stderr
    with Image.open(tmp_path / "grid.png") as grid:
        assert grid.format == "PNG" and grid.width > 2 * 160
    result = cli("info", dataset_id, "--json")
    assert result.returncode == 0, result.stderr
    splits = json.loads(result.stdout)["splits"]
    assert splits["train"]["count"] == 4 and splits["train"]["image_dtype"] == "uint8"
    assert splits["train"]["labels"]["cassette player"] == 2 and splits["train"]["labels"]["tench"] == 1
    assert splits["train"]["labels"]["church"] == 0
    assert splits["validation"]["image_shape"][2] == 3
    # export to Datumaro's imagenet layout: one folder per class, every image lossless (PNG)
    ds = prepare_dataset(dataset_id)
    dataset = ds.export_dataset()
    assert list(dataset.subsets) == ["train", "validation"] and dataset.categories == IMAGENETTE_NAMES
    assert dataset.subsets["train"].ids == ["n02979186_1000", "n01440764_1001", "n02979186_1003", "n03425413_1005"]
    write(dataset, tmp_path / "out", "imagenet")
    back = read(tmp_path / "out", "imagenet")
    assert back.categories == IMAGENETTE_NAMES  # the order our export wrote (Datumaro reads them sorted)
    church = back.categories.index("church")
    subset = back.subsets["default"]
    (position,) = np.flatnonzero(subset.labels == church)
    assert subset.ids[position] == "church:validation_n03028079_1002"
    assert np.array_equal(subset.images[position], decoded(expected["val"][0][1]).transpose(2, 0, 1))


def sized_fastai(env, published_size: int, archive: bytes) -> str:
    """The copy of com.github.fastai whose Imagewoof archive of ``published_size`` bytes has the fixture's size."""
    replacements = {f"None, {published_size},": f"None, {len(archive)},"}
    return patched_module(env.use_registry(), "com.github.fastai", "org.fixture.fastai", replacements)


def test_imagewoof_unverified_from_its_csv(env, server):
    archive, expected = fastai_archive("imagewoof2-320", "noisy_imagewoof.csv", IMAGEWOOF_WNIDS, seed=3)
    server.files["/fastai/imagewoof2-320.tgz"] = archive
    env.mirror(S3, server.url("/fastai/"))
    with pytest.raises(DownloadError, match=f"got {len(archive)} bytes, expected 328387740"):
        prepare_dataset("com.github.fastai.imagewoof-320")
    module = sized_fastai(env, 328387740, archive)
    ds = prepare_dataset(f"{module}.imagewoof-320")
    assert ds.categories == IMAGEWOOF_NAMES
    assert ds.train.labels.data().tolist() == [2, 0, 2, 7]
    assert ds.validation.labels.data().tolist() == [4, 9]
    assert ds.train.text_labels(ds.train.labels.data()) == ["beagle", "Shih-Tzu", "beagle", "Old English sheepdog"]
    assert np.array_equal(ds.validation.image(1), decoded(expected["val"][1][1]))
    entry = DataFolder(env.data).manifest(f"{module}.imagewoof-320").entries["imagewoof2-320"]
    assert entry.verified_by is None and entry.kind == "folder"
    assert entry.original is not None and entry.original.sha256 == sha256(archive)


def test_imagewoof_unverified_warning_on_the_cli(env, server, cli):
    archive, _ = fastai_archive("imagewoof2-160", "noisy_imagewoof.csv", IMAGEWOOF_WNIDS)
    server.files["/fastai/imagewoof2-160.tgz"] = archive
    env.mirror(S3, server.url("/fastai/"))
    module = sized_fastai(env, 92612825, archive)
    result = cli("prepare", f"{module}.imagewoof-160")
    assert result.returncode == 0, result.stderr
    assert (
        f"warning: {module}.imagewoof-160: imagewoof2-160 has no published checksum, "
        f"so it was not verified (recorded sha256:{sha256(archive)})"
    ) in result.stderr
    assert from_json(result.stdout).categories == IMAGEWOOF_NAMES


@pytest.mark.parametrize(
    "path, message",
    [
        ("../../../canary.JPEG", "refused image path '../../../canary.JPEG': not a plain path inside the dataset folder"),
        ("/etc/passwd", "refused image path '/etc/passwd': not a plain path inside the dataset folder"),
        ("train/n02086240/missing.JPEG", "the image 'train/n02086240/missing.JPEG' listed by the dataset is missing"),
    ],
)
def test_imagewoof_hostile_csv_is_refused(env, server, tmp_path, path, message):
    canary = tmp_path / "canary.JPEG"
    canary.write_bytes(b"keep me")
    text = "path,noisy_labels_0,noisy_labels_1,noisy_labels_5,noisy_labels_25,noisy_labels_50,is_valid\n"
    text += f"{path},n02086240,n02086240,n02086240,n02086240,n02086240,False\n"
    image = image_bytes(smooth_image(np.random.default_rng(0), 8, 8))
    archive = tar_gz({"imagewoof2/train/n02086240/a.JPEG": image, "imagewoof2/noisy_imagewoof.csv": text.encode()})
    server.files["/fastai/imagewoof2.tgz"] = archive
    env.mirror(S3, server.url("/fastai/"))
    module = sized_fastai(env, 1343715595, archive)
    with pytest.raises(FormatError, match=message.replace("(", r"\(").replace(")", r"\)")):
        prepare_dataset(f"{module}.imagewoof")
    assert canary.read_bytes() == b"keep me"
    assert not (env.data / "datasets" / f"{module}.imagewoof" / "index").exists()


def tiny_imagenet_zip(rng: np.random.Generator) -> tuple[bytes, dict]:
    """tiny-imagenet-200.zip with 3 classes (wnids.txt unsorted), one grey-scale JPEG, val annotations."""
    wnids = ["n09193705", "n01443537", "n02124075"]  # alp, goldfish, Egyptian cat
    words = "n01443537\tgoldfish, Carassius auratus\nn02124075\tEgyptian cat\nn09193705\talp\nn00001740\tentity\n"
    root = "tiny-imagenet-200/"
    files = {root + "wnids.txt": "\n".join(wnids).encode() + b"\n", root + "words.txt": words.encode()}
    expected: dict[str, list] = {"train": [], "val": []}
    for label, wnid in enumerate(sorted(wnids)):
        files[f"{root}train/{wnid}/{wnid}_boxes.txt"] = f"{wnid}_0.JPEG\t0\t0\t63\t63\n".encode()
        for k in range(2):
            grey = label == 1 and k == 1
            data = image_bytes(smooth_image(rng, 64, 64), mode="L" if grey else None)
            files[f"{root}train/{wnid}/images/{wnid}_{k}.JPEG"] = data
            expected["train"].append((label, data))
    annotations = []
    for k, label in enumerate([2, 0, 1]):
        data = image_bytes(smooth_image(rng, 64, 64))
        files[f"{root}val/images/val_{k}.JPEG"] = data
        annotations.append(f"val_{k}.JPEG\t{sorted(wnids)[label]}\t1\t2\t60\t61\n")
        expected["val"].append((label, data))
    files[root + "val/val_annotations.txt"] = "".join(annotations).encode()
    files[root + "test/images/test_0.JPEG"] = image_bytes(smooth_image(rng, 64, 64))
    return zip_bytes(files), expected


def verified_tiny_imagenet(env, archive: bytes) -> str:
    """The copy of edu.stanford.cs231n whose md5 and size are the fixture archive's."""
    replacements = {
        "md5:90528d7ca1a48142e341f4ef8d21d0de": f"md5:{hashlib.md5(archive).hexdigest()}",
        "size=248100043": f"size={len(archive)}",
    }
    return patched_module(env.use_registry(), "edu.stanford.cs231n", "org.fixture.cs231n", replacements)


def test_tiny_imagenet(env, server):
    archive, expected = tiny_imagenet_zip(np.random.default_rng(1))
    server.files["/cs231n/tiny-imagenet-200.zip"] = archive
    env.mirror("https://cs231n.stanford.edu/", server.url("/cs231n/"))
    with pytest.raises(DownloadError, match=f"got {len(archive)} bytes, expected 248100043"):
        prepare_dataset("edu.stanford.cs231n.tiny-imagenet")
    ds = prepare_dataset(f"{verified_tiny_imagenet(env, archive)}.tiny-imagenet")
    assert ds.categories == ["goldfish", "Egyptian cat", "alp"]
    assert set(ds.splits()) == {"train", "validation"}
    x, y = ds.train.arrays()  # every image is 64x64: no resize needed
    assert x.shape == (6, 64, 64, 3) and x.dtype == np.uint8
    assert y.tolist() == [label for label, _ in expected["train"]]
    for i, (_, data) in enumerate(expected["train"]):
        assert np.array_equal(x[i], decoded(data))  # the grey image comes out RGB
    assert np.array_equal(x[3, :, :, 0], x[3, :, :, 2])
    xv, yv = ds.validation.arrays(resize=32, normalize=True, layout="NCHW")
    assert xv.shape == (3, 3, 32, 32) and yv.tolist() == [2, 0, 1]
    assert ds.validation.text_labels(yv) == ["alp", "goldfish", "Egyptian cat"]


def test_tiny_imagenet_test_images(env, server):
    rng = np.random.default_rng(1)
    archive, _ = tiny_imagenet_zip(rng)
    server.files["/cs231n/tiny-imagenet-200.zip"] = archive
    env.mirror("https://cs231n.stanford.edu/", server.url("/cs231n/"))
    with pytest.raises(DownloadError, match=f"got {len(archive)} bytes, expected 248100043"):
        prepare_dataset("edu.stanford.cs231n.tiny-imagenet-test")
    module = verified_tiny_imagenet(env, archive)
    test = prepare_dataset(f"{module}.tiny-imagenet-test")
    assert isinstance(test, ImageFolder) and len(test) == 1
    assert test.categories == ["goldfish", "Egyptian cat", "alp"]
    assert test.labels.data().tolist() == [-1]
    assert [p.name for p in test.paths()] == ["test_0.JPEG"]
    with zipfile.ZipFile(io.BytesIO(archive)) as published:
        raw = published.read("tiny-imagenet-200/test/images/test_0.JPEG")
    assert np.array_equal(test.image(0), decoded(raw))


def pets_archives(rng: np.random.Generator) -> tuple[bytes, bytes, dict]:
    """images.tar.gz and annotations.tar.gz of Oxford-IIIT Pet, with odd files as published."""
    images: dict[str, bytes] = {}
    plan = {
        "trainval": [("Abyssinian_100", 1, 1), ("great_pyrenees_12", 13, 2), ("Abyssinian_101", 1, 1)],
        "test": [("great_pyrenees_3", 13, 2), ("yorkshire_terrier_9", 37, 2)],
    }
    expected: dict[str, list] = {"trainval": [], "test": []}
    for split, items in plan.items():
        lines = []
        for k, (image_id, class_id, species) in enumerate(items):
            array = smooth_image(rng, 40 + 10 * k, 50)
            if image_id == "great_pyrenees_3":  # PNG data under a .jpg name
                data = image_bytes(array, format="PNG")
            elif image_id == "Abyssinian_101":  # a CMYK JPEG
                data = image_bytes(array, mode="CMYK")
            else:
                data = image_bytes(array)
            images[f"images/{image_id}.jpg"] = data
            lines.append(f"{image_id} {class_id} {species} {k + 1}\n")
            expected[split].append((class_id - 1, data))
        expected[split + "_text"] = "".join(lines)
    images["images/Abyssinian_100.mat"] = b"MATLAB 5.0 MAT-file"  # the archive holds a few of these
    annotations = {
        "annotations/list.txt": b"#Image CLASS-ID SPECIES BREED ID\n",
        "annotations/trainval.txt": expected.pop("trainval_text").encode(),
        "annotations/test.txt": expected.pop("test_text").encode(),
        "annotations/trimaps/Abyssinian_100.png": image_bytes(np.ones((4, 4), np.uint8), format="PNG"),
    }
    return tar_gz(images), tar_gz(annotations), expected


def patched_pets(env, images: bytes, annotations: bytes) -> str:
    """The copy of uk.ac.ox.robots that verifies these two archives."""
    return verified_copy(
        env.use_registry(),
        "uk.ac.ox.robots",
        [
            ("67195c5e1c01f1ab5f9b6a5d22b8c27a580d896ece458917e61d459337fa318d", "size=791918971", images),
            ("52425fb6de5c424942b7626b428656fcbd798db970a937df61750c0f1d358e91", "size=19173078", annotations),
        ],
    )


def test_oxford_iiit_pet(env, server):
    images, annotations, expected = pets_archives(np.random.default_rng(2))
    server.files["/pets/images.tar.gz"] = images
    server.files["/pets/annotations.tar.gz"] = annotations
    env.mirror("https://thor.robots.ox.ac.uk/~vgg/data/pets/", server.url("/pets/"))
    with pytest.raises(DownloadError, match=f"got {len(images)} bytes, expected 791918971"):
        prepare_dataset("uk.ac.ox.robots.oxford-iiit-pet")
    module = patched_pets(env, images, annotations)
    ds = prepare_dataset(f"{module}.oxford-iiit-pet")
    assert ds.categories[0] == "Abyssinian" and ds.categories[12] == "Great Pyrenees"
    assert ds.categories[36] == "Yorkshire Terrier" and ds.categories[1] == "2" and len(ds.categories) == 37
    for split, name in (("trainval", "train"), ("test", "test")):
        data = getattr(ds, name)
        assert data.labels.data().tolist() == [label for label, _ in expected[split]]
        for i, (_, raw) in enumerate(expected[split]):
            image = data.image(i)
            assert image.ndim == 3 and image.shape[2] == 3 and np.array_equal(image, decoded(raw))
    x, y = ds.test.arrays(resize=(24, 24))
    assert x.shape == (2, 24, 24, 3) and y.tolist() == [12, 36]


def test_tiny_imagenet_unknown_class_in_val_annotations(env, server):
    image = image_bytes(smooth_image(np.random.default_rng(0), 64, 64))
    root = "tiny-imagenet-200/"
    archive = zip_bytes({
        root + "wnids.txt": b"n01443537\n",
        root + "words.txt": b"n01443537\tgoldfish\n",
        root + "train/n01443537/images/n01443537_0.JPEG": image,
        root + "val/images/val_0.JPEG": image,
        root + "val/val_annotations.txt": b"val_0.JPEG\tn99999999\t0\t0\t1\t1\n",
    })
    server.files["/cs231n/tiny-imagenet-200.zip"] = archive
    env.mirror("https://cs231n.stanford.edu/", server.url("/cs231n/"))
    module = verified_tiny_imagenet(env, archive)
    with pytest.raises(FormatError, match="val_annotations.txt line 1: expected a file name and one of the 200 WordNet ids"):
        prepare_dataset(f"{module}.tiny-imagenet")
    assert not (env.data / "datasets" / f"{module}.tiny-imagenet" / "index").exists()


@pytest.mark.parametrize(
    "line, message",
    [
        ("Abyssinian_100 38 1 1\n", "trainval.txt line 1: expected '<image id> <class 1-37> <species> <breed>'"),
        ("../../outside 1 1 1\n", "refused image path '../../outside.jpg': not a plain path inside the dataset folder"),
    ],
)
def test_oxford_iiit_pet_bad_annotations(env, server, line, message):
    images = tar_gz({"images/Abyssinian_100.jpg": image_bytes(smooth_image(np.random.default_rng(0), 8, 8))})
    annotations = tar_gz({"annotations/trainval.txt": line.encode(), "annotations/test.txt": b""})
    server.files["/pets/images.tar.gz"] = images
    server.files["/pets/annotations.tar.gz"] = annotations
    env.mirror("https://thor.robots.ox.ac.uk/~vgg/data/pets/", server.url("/pets/"))
    module = patched_pets(env, images, annotations)
    with pytest.raises(FormatError, match=re.escape(message)):
        prepare_dataset(f"{module}.oxford-iiit-pet")


def test_imagenette_export_cli_with_a_filter(imagenette, cli, tmp_path):
    """`datamaestro export` takes image folders too; a filter selects before anything is decoded."""
    from datamaestro.formats import read

    dataset_id, _ = imagenette
    out = tmp_path / "tenches"
    result = cli("export", dataset_id, "-f", "mnist_csv", "-o", str(out), "--filter", "label=tench")
    assert result.returncode == 0, result.stderr
    back = read(out, "mnist_csv")
    tench = back.categories.index("tench")
    assert {name: s.labels.tolist() for name, s in back.subsets.items()} == {"train": [tench], "validation": []}
