"""Pascal VOC 2007 and 2012, COCO 2017, Penn-Fudan and the Oxford-IIIT Pet trimaps, end to end.

Each test builds a small copy of the published archives in their exact
layout (``VOCdevkit/VOC2007`` with JPEG images, XML annotations, ImageSets
lists and palette PNG masks; COCO's zips with an instances JSON holding a
polygon and a crowd RLE; Penn-Fudan's zip of PNG images and instance masks;
the pets' tars with trimaps), serves it on loopback under the definition's
real URLs (every URL and mirror rewritten by the ``mirrors`` setting, so no
test reaches a real host), and first runs the published definition: the copy
is refused (its size or checksum, or for Penn-Fudan, which has no published
checksum, its published counts). Then a copy of the definition module,
identical but for its checksums, sizes and counts, verifies the fixture, and
the typed splits (boxes, labels, flags, masks, class names) are checked.
"""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path

import numpy as np
import pytest
from annotatedfixtures import png
from kindfixtures import decoded, image_bytes, patched_module, sha256, smooth_image, tar_gz, zip_bytes

from datamaestro.api import prepare_dataset
from datamaestro.cli.main import main
from datamaestro.data.detection import Detection, ObjectDetection
from datamaestro.data.segmentation import Segmentation, SemanticSegmentation
from datamaestro.errors import DownloadError, FormatError
from datamaestro.formats import pascal_voc, penn_fudan, read
from datamaestro.formats.annotations import voc_palette
from datamaestro.formats.voc import VOC_LABELS


@pytest.fixture(scope="module")
def index_cache(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("cache")


@pytest.fixture(autouse=True)
def shared_index(index_cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """One cache (the index of definitions) for the tests of this file: the built-in modules are indexed once."""
    monkeypatch.setenv("DATAMAESTRO_CACHE", str(index_cache))


def serve(env, server, files: dict[str, bytes]) -> None:
    """Serve ``files`` (real URL -> bytes) on loopback, each URL's folder redirected there."""
    for url, data in files.items():
        path = "/" + url.split("://", 1)[1]
        server.files[path] = data
        env.mirror(url.rsplit("/", 1)[0] + "/", server.url(path.rsplit("/", 1)[0] + "/"))


def fixture_copy(env, module: str, published: list[tuple[str, str, bytes]], replaced: dict[str, str] | None = None) -> str:
    """The copy ``org.fixture.<name>`` of ``module`` that verifies the fixture files: ``published`` lists
    (published sha256 digest, ``size=N`` as written or "", fixture bytes); ``replaced``: other texts to replace."""
    replacements = {f"sha256:{digest}": f"sha256:{sha256(data)}" for digest, _, data in published}
    replacements.update({size: f"size={len(data)}" for _, size, data in published if size})
    replacements.update(replaced or {})
    return patched_module(env.use_registry(), module, "org.fixture." + module.rsplit(".", 1)[-1], replacements)


def plain_tar(files: dict[str, bytes]) -> bytes:
    """An uncompressed tar of ``files`` (member name -> content), as VOC publishes them."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def image_files(folder: str, names: list[str], suffix: str = ".jpg", format: str = "JPEG", seed: int = 0) -> dict[str, bytes]:
    """An image file ``folder/<name><suffix>`` for each name, 24x32 then 28x32 in turn."""
    rng = np.random.default_rng(seed)
    return {f"{folder}{name}{suffix}": image_bytes(smooth_image(rng, 24 + 4 * (k % 2), 32), format=format)
            for k, name in enumerate(names)}


# --- Pascal VOC ---------------------------------------------------------------------------------

VOC = "https://thor.robots.ox.ac.uk/pascal/VOC/"
VOC_PREFIX = {'PREFIX = "uk.ac.ox.robots."': 'PREFIX = ""'}
#: image id -> objects (name, xmin, ymin, xmax, ymax, difficult, truncated, occluded or None)
VOC_OBJECTS = {
    "000005": [("chair", 2, 3, 12, 20, 1, 0, None), ("person", 5, 1, 30, 22, 0, 1, None)],
    "000007": [("car", 1, 1, 32, 24, 0, 1, None)],
    "000009": [("horse", 4, 6, 20, 27, 0, 0, None), ("person", 10, 2, 16, 26, 1, 0, None)],
    "000001": [("dog", 3, 4, 25, 20, 0, 0, None)],
    "000002": [("train", 1, 2, 30, 23, 0, 0, 1)],
}


def voc_xml(item_id: str, size: tuple[int, int]) -> bytes:
    """The ``Annotations/<id>.xml`` of an image: its size and objects; a person has a head (layout) part."""
    objects = ""
    for name, x0, y0, x1, y1, difficult, truncated, occluded in VOC_OBJECTS[item_id]:
        part = "<part><name>head</name><bndbox><xmin>6</xmin><ymin>2</ymin><xmax>9</xmax><ymax>6</ymax></bndbox></part>"
        occluded_tag = "" if occluded is None else f"<occluded>{occluded}</occluded>"
        objects += (
            f"<object><name>{name}</name><pose>Left</pose><truncated>{truncated}</truncated>{occluded_tag}"
            f"<difficult>{difficult}</difficult><bndbox><xmin>{x0}</xmin><ymin>{y0}</ymin><xmax>{x1}</xmax>"
            f"<ymax>{y1}</ymax></bndbox>{part if name == 'person' else ''}</object>"
        )
    return (
        f"<annotation><folder>VOC2007</folder><filename>{item_id}.jpg</filename><size><width>{size[1]}</width>"
        f"<height>{size[0]}</height><depth>3</depth></size><segmented>0</segmented>{objects}</annotation>"
    ).encode()


def voc_mask(size: tuple[int, int], k: int) -> np.ndarray:
    """A class mask: a person (15) and a car (7) over background, void (255) around the person."""
    mask = np.zeros(size, dtype=np.uint8)
    mask[2:12, 3 + k : 14] = 255
    mask[3:11, 4 + k : 13] = 15
    mask[15:20, 20:30] = 7
    return mask


def voc_tree(year: str, main: dict[str, list[str]], segmentation: dict[str, list[str]], seed: int):
    """The members of a VOC tar (``VOCdevkit/VOC<year>/...``) and the class masks by image id."""
    root = f"VOCdevkit/VOC{year}/"
    ids = sorted({i for ids in [*main.values(), *segmentation.values()] for i in ids})
    members = image_files(root + "JPEGImages/", ids, seed=seed)
    masks = {}
    for k, item_id in enumerate(ids):
        size = decoded(members[f"{root}JPEGImages/{item_id}.jpg"]).shape[:2]
        members[f"{root}Annotations/{item_id}.xml"] = voc_xml(item_id, size)
        if any(item_id in s for s in segmentation.values()):
            masks[item_id] = voc_mask(size, k)
            members[f"{root}SegmentationClass/{item_id}.png"] = png(masks[item_id], palette=True)
            members[f"{root}SegmentationObject/{item_id}.png"] = png((masks[item_id] > 0).astype(np.uint8), palette=True)
    for task, lists in (("Main", main), ("Segmentation", segmentation)):
        for split, split_ids in lists.items():
            members[f"{root}ImageSets/{task}/{split}.txt"] = "".join(f"{i}\n" for i in split_ids).encode()
    for split, split_ids in main.items():  # the per-class lists, not splits
        members[f"{root}ImageSets/Main/car_{split}.txt"] = "".join(f"{i} {1 if i == '000007' else -1}\n" for i in split_ids).encode()
    return members, masks


def check_voc_detection(split: ObjectDetection, ids: list[str], members: dict[str, bytes], root: str) -> None:
    """The images, boxes, labels and flags of a detection split are those of the fixture."""
    assert len(split) == len(ids)
    for i, item_id in enumerate(ids):
        assert np.array_equal(split.image(i), decoded(members[f"{root}JPEGImages/{item_id}.jpg"]))
        targets = split.targets(i)
        expected = VOC_OBJECTS[item_id]
        assert targets["labels"].tolist() == [VOC_LABELS.index(o[0]) for o in expected]
        assert targets["boxes"].tolist() == [list(map(float, o[1:5])) for o in expected]
        assert targets["difficult"].tolist() == [bool(o[5]) for o in expected]
        assert targets["truncated"].tolist() == [bool(o[6]) for o in expected]
        assert targets["occluded"].tolist() == [bool(o[7]) for o in expected]
        assert not targets["crowd"].any()


def test_pascal_voc_2007_detection_and_segmentation(env, server, tmp_path):
    trainval, masks = voc_tree(
        "2007", {"train": ["000005", "000007"], "val": ["000009"], "trainval": ["000005", "000007", "000009"]},
        {"train": ["000007"], "val": ["000009"], "trainval": ["000007", "000009"]}, seed=7,
    )
    test, test_masks = voc_tree("2007", {"test": ["000001", "000002"]}, {"test": ["000002"]}, seed=8)
    trainval_tar, test_tar = plain_tar(trainval), plain_tar(test)
    serve(env, server, {VOC + "voc2007/VOCtrainval_06-Nov-2007.tar": trainval_tar, VOC + "voc2007/VOCtest_06-Nov-2007.tar": test_tar})
    with pytest.raises(DownloadError, match=r"got \d+ bytes, expected (460032000|451020800)"):
        prepare_dataset("uk.ac.ox.robots.pascal-voc-2007")
    module = fixture_copy(env, "uk.ac.ox.pascal", [
        ("7d8cd951101b0957ddfd7a530bdc8a94f06121cfc1e511bb5937e973020c7508", "size=460032000", trainval_tar),
        ("6836888e2e01dca84577a849d339fa4f73e1e4f135d312430c4856b5609b4892", "size=451020800", test_tar),
    ], VOC_PREFIX)
    ds = prepare_dataset(f"{module}.pascal-voc-2007")
    assert isinstance(ds, Detection) and ds.categories == VOC_LABELS and len(ds.categories) == 21
    root = "VOCdevkit/VOC2007/"
    check_voc_detection(ds.train, ["000005", "000007"], trainval, root)
    check_voc_detection(ds.validation, ["000009"], trainval, root)
    check_voc_detection(ds.test, ["000001", "000002"], test, root)
    trainval_split = ObjectDetection.from_index(ds.train.root, ds.train.index, "trainval")
    check_voc_detection(trainval_split, ["000005", "000007", "000009"], trainval, root)
    assert ds.train.stats()["objects"] == 3

    seg = prepare_dataset(f"{module}.pascal-voc-2007-segmentation")
    assert isinstance(seg, SemanticSegmentation) and seg.categories == VOC_LABELS and seg.ignore_index == 255
    assert seg.colours == [list(c) for c in voc_palette(21)]
    for split, ids, files, expected in ((seg.train, ["000007"], trainval, masks), (seg.validation, ["000009"], trainval, masks),
                                         (seg.test, ["000002"], test, test_masks)):
        assert isinstance(split, Segmentation) and len(split) == len(ids)
        for i, item_id in enumerate(ids):
            assert np.array_equal(split.image(i), decoded(files[f"{root}JPEGImages/{item_id}.jpg"]))
            assert np.array_equal(split.mask(i), expected[item_id])
    assert len(Segmentation.from_index(seg.train.root, seg.train.index, "trainval")) == 2

    out = tmp_path / "voc"
    assert main(["export", f"{module}.pascal-voc-2007", "-f", "voc", "-o", str(out), "--quiet"]) == 0
    back = read(out, "voc")
    assert sorted(back.subsets) == ["test", "train", "validation"]
    ids = {"train": ["000005", "000007"], "validation": ["000009"], "test": ["000001", "000002"]}
    for name, items in back.subsets.items():
        assert [item.id for item in items] == ids[name]
        for item in items:
            assert [(back.categories[o.label], o.box, o.difficult, o.truncated) for o in item.objects] == [
                (o[0], tuple(map(float, o[1:5])), bool(o[5]), bool(o[6])) for o in VOC_OBJECTS[item.id]
            ]


def test_pascal_voc_2012_splits(env, server):
    trainval, masks = voc_tree(
        "2012", {"train": ["000005"], "val": ["000007", "000009"], "trainval": ["000005", "000007", "000009"]},
        {"train": ["000001"], "val": ["000009"], "trainval": ["000001", "000009"]}, seed=12,
    )
    archive = plain_tar(trainval)
    serve(env, server, {VOC + "voc2012/VOCtrainval_11-May-2012.tar": archive})
    module = fixture_copy(env, "uk.ac.ox.pascal", [
        ("e14f763270cf193d0b5f74b169f44157a4b0c6efa708f4dd0ff78ee691763bcb", "size=1999639040", archive),
    ], VOC_PREFIX)
    ds = prepare_dataset(f"{module}.pascal-voc-2012")
    assert ds.test is None and ds.categories == VOC_LABELS
    check_voc_detection(ds.train, ["000005"], trainval, "VOCdevkit/VOC2012/")
    check_voc_detection(ds.validation, ["000007", "000009"], trainval, "VOCdevkit/VOC2012/")
    seg = prepare_dataset(f"{module}.pascal-voc-2012-segmentation")
    # a segmentation image need not be in the detection lists
    assert seg.test is None and len(seg.train) == 1 and np.array_equal(seg.train.mask(0), masks["000001"])
    stats = seg.train.stats()
    assert stats["count"] == 1 and stats["image_shape"] == [24, 32, 3] and stats["ignored_pixels"] == 38
    assert {k: v for k, v in stats["pixels_per_class"].items() if v} == {"background": 608, "car": 50, "person": 72}


# --- COCO 2017 ----------------------------------------------------------------------------------

COCO_S3 = "https://s3.amazonaws.com/images.cocodataset.org/"
#: a crowd's mask, uncompressed RLE (column-major runs) over the 28x32 image 285
CROWD_COUNTS = [100, 50, 746]


def coco_files() -> tuple[bytes, bytes, dict[str, bytes]]:
    """val2017.zip (three images) and annotations_trainval2017.zip (instances with gapped category ids)."""
    names = ["000000000139", "000000000285", "000000000632"]
    members = image_files("val2017/", names, seed=2017)
    sizes = [decoded(members[f"val2017/{n}.jpg"]).shape[:2] for n in names]
    instances = {
        "info": {"description": "COCO 2017 Dataset"}, "licenses": [{"id": 1, "name": "CC BY", "url": ""}],
        "images": [{"id": int(n), "file_name": f"{n}.jpg", "height": h, "width": w, "license": 1} for n, (h, w) in zip(names, sizes)],
        "annotations": [
            {"id": 10, "image_id": 139, "category_id": 1, "iscrowd": 0, "area": 60.0, "bbox": [2.0, 3.0, 10.0, 12.0],
             "segmentation": [[2.0, 3.0, 12.0, 3.0, 12.0, 15.0, 2.0, 15.0]]},
            {"id": 11, "image_id": 139, "category_id": 90, "iscrowd": 0, "area": 20.0, "bbox": [20.5, 4.0, 5.0, 4.0],
             "segmentation": [[20.5, 4.0, 25.5, 4.0, 25.5, 8.0]]},
            {"id": 12, "image_id": 285, "category_id": 3, "iscrowd": 1, "area": 50.0, "bbox": [3.0, 16.0, 2.0, 28.0],
             "segmentation": {"size": [28, 32], "counts": CROWD_COUNTS}},
        ],
        "categories": [{"id": 1, "name": "person", "supercategory": "person"}, {"id": 3, "name": "car", "supercategory": "vehicle"},
                       {"id": 90, "name": "toothbrush", "supercategory": "indoor"}],
    }
    annotations = {
        "annotations/instances_val2017.json": json.dumps(instances).encode(),
        "annotations/captions_val2017.json": json.dumps({"images": [], "annotations": []}).encode(),
    }
    return zip_bytes(members), zip_bytes(annotations), members


def test_coco_2017_val(env, server, tmp_path):
    val, annotations, members = coco_files()
    serve(env, server, {COCO_S3 + "zips/val2017.zip": val, COCO_S3 + "annotations/annotations_trainval2017.zip": annotations})
    env.mirror("http://images.cocodataset.org/", server.url("/s3.amazonaws.com/images.cocodataset.org/"))
    with pytest.raises(DownloadError, match=r"got \d+ bytes, expected (815585330|252907541)"):
        prepare_dataset("org.cocodataset.coco-2017-val")
    module = fixture_copy(env, "org.cocodataset", [
        ("4f7e2ccb2866ec5041993c9cf2a952bbed69647b115d0f74da7ce8f4bef82f05", "size=815585330", val),
        ("113a836d90195ee1f884e704da6304dfaaecff1f023f49b6ca93c4aaae470268", "size=252907541", annotations),
    ])
    ds = prepare_dataset(f"{module}.coco-2017-val")
    assert isinstance(ds, Detection) and ds.train is None and ds.test is None
    assert ds.categories == ["person", "car", "toothbrush"]
    split = ds.validation
    assert len(split) == 3
    for i, name in enumerate(["000000000139", "000000000285", "000000000632"]):
        assert np.array_equal(split.image(i), decoded(members[f"val2017/{name}.jpg"]))
    first, crowd, empty = (split.targets(i) for i in range(3))
    assert first["boxes"].tolist() == [[2.0, 3.0, 12.0, 15.0], [20.5, 4.0, 25.5, 8.0]] and first["labels"].tolist() == [0, 2]
    assert crowd["boxes"].tolist() == [[3.0, 16.0, 5.0, 44.0]] and crowd["labels"].tolist() == [1]
    assert crowd["crowd"].tolist() == [True] and not first["crowd"].any() and len(empty["labels"]) == 0
    expected = np.zeros(28 * 32, dtype=bool)
    expected[100:150] = True
    assert np.array_equal(split.masks(1)[0], expected.reshape(32, 28).T)
    polygon = split.masks(0)[0]
    assert polygon.shape == (24, 32) and polygon[4:14, 3:11].all() and not polygon[16:].any() and not polygon[:, 13:].any()

    out = tmp_path / "coco"
    assert main(["export", f"{module}.coco-2017-val", "-f", "coco", "-o", str(out), "--quiet"]) == 0
    back = read(out, "coco")
    assert back.categories == ds.categories and list(back.subsets) == ["validation"]
    items = back.subsets["validation"]
    assert [item.id for item in items] == ["000000000139", "000000000285", "000000000632"]
    assert [(o.label, o.box, o.crowd, o.id) for o in items[0].objects + items[1].objects] == [
        (0, (2.0, 3.0, 12.0, 15.0), False, 10), (2, (20.5, 4.0, 25.5, 8.0), False, 11), (1, (3.0, 16.0, 5.0, 44.0), True, 12),
    ]
    assert items[0].objects[0].polygons == [[2.0, 3.0, 12.0, 3.0, 12.0, 15.0, 2.0, 15.0]]
    assert items[1].objects[0].rle is not None and items[1].objects[0].rle.counts == CROWD_COUNTS


# --- Penn-Fudan ---------------------------------------------------------------------------------

PENN_FUDAN = "https://www.cis.upenn.edu/~jshi/ped_html/PennFudanPed.zip"


def penn_fudan_zip() -> tuple[bytes, dict[str, bytes], dict[str, np.ndarray]]:
    """Three images (two Fudan, one Penn) with instance masks of 2, 1 and 2 pedestrians."""
    stems = ["FudanPed00001", "FudanPed00002", "PennPed00001"]
    members = image_files("PennFudanPed/PNGImages/", stems, suffix=".png", format="PNG", seed=5)
    masks = {}
    for k, stem in enumerate(stems):
        height = 24 + 4 * (k % 2)
        mask = np.zeros((height, 32), dtype=np.uint8)
        mask[2:20, 3:9] = 1
        if k != 1:
            mask[5:height, 20:31] = 2
        masks[stem] = mask
        members[f"PennFudanPed/PedMasks/{stem}_mask.png"] = png(mask, palette=True)
    members["PennFudanPed/Annotation/FudanPed00001.txt"] = b"# Compatible with PASCAL Annotation Version 1.00\n"
    members["PennFudanPed/readme.txt"] = b"Penn-Fudan Database for Pedestrian Detection and Segmentation\n"
    return zip_bytes(members), members, masks


def test_penn_fudan_counts_boxes_and_masks(env, server, tmp_path):
    archive, members, masks = penn_fudan_zip()
    serve(env, server, {PENN_FUDAN: archive})
    # no published checksum: the download is accepted, and the published counts refuse it
    with pytest.raises(FormatError, match=r"3 images and 5 pedestrians where the published archive has 170 and 345"):
        prepare_dataset("edu.upenn.cis.penn-fudan-ped")
    module = fixture_copy(env, "edu.upenn.cis", [], {'COUNTS = {"images": 170, "pedestrians": 345}': 'COUNTS = {"images": 3, "pedestrians": 5}'})
    ds = prepare_dataset(f"{module}.penn-fudan-ped")
    assert isinstance(ds, Detection) and ds.categories == ["background", "pedestrian"] and len(ds.train) == 3
    for i, stem in enumerate(["FudanPed00001", "FudanPed00002", "PennPed00001"]):
        assert np.array_equal(ds.train.image(i), decoded(members[f"PennFudanPed/PNGImages/{stem}.png"]))
        targets = ds.train.targets(i)
        height = masks[stem].shape[0]
        boxes = [[3.0, 2.0, 9.0, 20.0]] + ([] if i == 1 else [[20.0, 5.0, 31.0, float(height)]])
        assert targets["boxes"].tolist() == boxes and targets["labels"].tolist() == [1] * len(boxes)
        instances = ds.train.masks(i)
        assert np.array_equal(instances, np.stack([masks[stem] == v for v in range(1, len(boxes) + 1)]))
    assert ds.train.stats()["objects"] == 5


# --- Oxford-IIIT Pet trimaps ----------------------------------------------------------------------

PETS = "https://thor.robots.ox.ac.uk/~vgg/data/pets/"


def test_oxford_iiit_pet_trimaps(env, server):
    stems = {"trainval": ["Abyssinian_1", "beagle_1"], "test": ["Abyssinian_2"]}
    images = image_files("images/", [s for split in stems.values() for s in split], seed=37)
    trimaps = {}
    annotations = {}
    for k, stem in enumerate(s for split in stems.values() for s in split):
        height = decoded(images[f"images/{stem}.jpg"]).shape[0]
        trimap = np.full((height, 32), 2, dtype=np.uint8)
        trimap[4:16, 6 + k : 20] = 3
        trimap[5:15, 7 + k : 19] = 1
        trimaps[stem] = trimap
        annotations[f"annotations/trimaps/{stem}.png"] = png(trimap)
        annotations[f"annotations/trimaps/._{stem}.png"] = b"\x00\x05\x16\x07 AppleDouble"
    lines = {"Abyssinian_1": "1 1 1", "beagle_1": "3 2 1", "Abyssinian_2": "1 1 1"}
    for split, split_stems in stems.items():
        annotations[f"annotations/{split}.txt"] = "".join(f"{s} {lines[s]}\n" for s in split_stems).encode()
    images_tar, annotations_tar = tar_gz(images), tar_gz(annotations)
    serve(env, server, {PETS + "images.tar.gz": images_tar, PETS + "annotations.tar.gz": annotations_tar})
    with pytest.raises(DownloadError, match=r"got \d+ bytes, expected (791918971|19173078)"):
        prepare_dataset("uk.ac.ox.robots.oxford-iiit-pet-segmentation")
    module = fixture_copy(env, "uk.ac.ox.pet_trimaps", [
        ("67195c5e1c01f1ab5f9b6a5d22b8c27a580d896ece458917e61d459337fa318d", "size=791918971", images_tar),
        ("52425fb6de5c424942b7626b428656fcbd798db970a937df61750c0f1d358e91", "size=19173078", annotations_tar),
    ], {'PREFIX = "uk.ac.ox.robots."': 'PREFIX = ""'})
    ds = prepare_dataset(f"{module}.oxford-iiit-pet-segmentation")
    assert isinstance(ds, SemanticSegmentation) and ds.categories == ["unused", "pet", "background", "border"]
    assert ds.ignore_index is None and ds.validation is None
    for name, split in (("trainval", ds.train), ("test", ds.test)):
        assert len(split) == len(stems[name])
        for i, stem in enumerate(stems[name]):
            assert np.array_equal(split.image(i), decoded(images[f"images/{stem}.jpg"]))
            assert np.array_equal(split.mask(i), trimaps[stem])
    assert ds.test.stats()["pixels_per_class"] == {"unused": 0, "pet": 100, "background": 24 * 32 - 144, "border": 44}


# --- refusals of the readers --------------------------------------------------------------------


def test_voc_lists_and_penn_fudan_masks_refused(tmp_path):
    voc = tmp_path / "VOC2007"
    (voc / "ImageSets" / "Main").mkdir(parents=True)
    (voc / "ImageSets" / "Main" / "train.txt").write_text("000005\n../../outside\n")
    (voc / "Annotations").mkdir()
    (voc / "Annotations" / "000005.xml").write_bytes(voc_xml("000005", (24, 32)))
    with pytest.raises(FormatError, match=r"refused the path '\.\./\.\./outside\.xml'"):
        pascal_voc.detection_items(voc, "train")
    with pytest.raises(FormatError, match=r"ImageSets/Main/val\.txt: missing; the archive is not a Pascal VOC release"):
        pascal_voc.detection_items(voc, "val")
    (voc / "Annotations" / "000005.xml").write_bytes(b'<!DOCTYPE a [<!ENTITY x "y">]><annotation/>')
    (voc / "ImageSets" / "Main" / "train.txt").write_text("000005\n")
    with pytest.raises(FormatError, match="declares a DOCTYPE or entities"):
        pascal_voc.detection_items(voc, "train")
    ped = tmp_path / "PennFudanPed"
    (ped / "PNGImages").mkdir(parents=True)
    (ped / "PNGImages" / "FudanPed00001.png").write_bytes(png(np.zeros((4, 6, 3), np.uint8)))
    with pytest.raises(FormatError, match=r"FudanPed00001_mask\.png: missing, the mask of FudanPed00001\.png"):
        penn_fudan.read(ped)
    (ped / "PedMasks").mkdir()
    (ped / "PedMasks" / "FudanPed00001_mask.png").write_bytes(png(np.ones((5, 6), np.uint8), palette=True))
    with pytest.raises(FormatError, match=r"the mask is 6x5, its image 6x4"):
        penn_fudan.read(ped)
