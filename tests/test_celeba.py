"""CelebA behind a sign-in: instructions, the published checksums, --from DIR, the typed splits, a hostile list.

A small CelebA is built in the exact published layout: ``img_align_celeba.zip``
holding ``img_align_celeba/00000k.jpg`` (tiny JPEGs) and the five lists,
space-separated with runs of spaces, counts on line 1 and header lines ending
with a space where they have one. The published definition refuses it (its
sizes and checksums differ); a copy of the definition identical but for its
checksums, sizes and split counts (each replaced text found once) prepares it.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from kindfixtures import decoded, image_bytes, patched_module, sha256, smooth_image, zip_bytes

from datamaestro.api import prepare_dataset
from datamaestro.cli.main import main
from datamaestro.data.faces import FaceImages
from datamaestro.data.folder import ImageFolderClassification
from datamaestro.download.context import Request
from datamaestro.errors import FormatError
from datamaestro.formats import celeba

DATASET = "hk.edu.cuhk.ie.mmlab.celeba"
COPY = "org.fixture.mmlab.celeba"
HOMEPAGE = "https://mmlab.ie.cuhk.edu.hk/projects/CelebA.html"
ZIP, ATTRIBUTES, IDENTITIES = "img_align_celeba.zip", "list_attr_celeba.txt", "identity_CelebA.txt"
BOXES, LANDMARKS, PARTITIONS = "list_bbox_celeba.txt", "list_landmarks_align_celeba.txt", "list_eval_partition.txt"
PUBLISHED = {
    ZIP: ("46fb89443c578308acf364d7d379fe1b9efb793042c0af734b6112e4fd3a8c74", "size=1443490838"),
    ATTRIBUTES: ("f0e5da289d5ccf75ffe8811132694922b60f2af59256ed362afa03fefba324d0", "size=26721026"),
    IDENTITIES: ("c6143857c3e2630ac2da9f782e9c1232e5e59be993a9d44e8a7916c78a6158c0", "size=3424458"),
    BOXES: ("7487a82e57c4bb956c5445ae2df4a91ffa717e903c5fa22874ede0820c8ec41b", ""),
    LANDMARKS: ("6c02a87569907f6db2ba99019085697596730e8129f67a3d61659f198c48d43b", "size=12156055"),
    PARTITIONS: ("fc955bcb3ef8fbdf7d5640d9a8693a8431b5f2ee291a5c1449a1549e7e073fe7", "size=2836386"),
}
ATTRIBUTE_NAMES = (
    "5_o_Clock_Shadow Arched_Eyebrows Attractive Bags_Under_Eyes Bald Bangs Big_Lips Big_Nose Black_Hair "
    "Blond_Hair Blurry Brown_Hair Bushy_Eyebrows Chubby Double_Chin Eyeglasses Goatee Gray_Hair Heavy_Makeup "
    "High_Cheekbones Male Mouth_Slightly_Open Mustache Narrow_Eyes No_Beard Oval_Face Pale_Skin Pointy_Nose "
    "Receding_Hairline Rosy_Cheeks Sideburns Smiling Straight_Hair Wavy_Hair Wearing_Earrings Wearing_Hat "
    "Wearing_Lipstick Wearing_Necklace Wearing_Necktie Young"
).split()
LANDMARK_NAMES = "lefteye_x lefteye_y righteye_x righteye_y nose_x nose_y leftmouth_x leftmouth_y rightmouth_x rightmouth_y".split()
FILES = [f"{k:06d}.jpg" for k in range(1, 7)]
PARTITION = [0, 0, 0, 1, 2, 2]
IDENTITY = [2880, 2937, 2880, 7, 10177, 2937]
rng = np.random.default_rng(21)
ATTRIBUTE_SIGNS = rng.choice([-1, 1], size=(6, 40))
LANDMARK_VALUES = rng.integers(50, 160, size=(6, 10))
BOX_VALUES = rng.integers(0, 400, size=(6, 4))


def lines(header: list[str] | None, rows: list[list[int]], width: int) -> bytes:
    """A CelebA list: the count and the header ending with a space (if any), then right-aligned columns."""
    head = f"{len(rows)}\n{' '.join(header)} \n" if header is not None else ""
    body = "".join(f"{name} {' '.join(f'{v:>{width}}' for v in row)}\n" for name, row in zip(FILES, rows))
    return (head + body).encode()


@pytest.fixture(scope="module")
def published() -> dict[str, object]:
    """The six files (name -> bytes) and every image (file name -> JPEG bytes)."""
    images = {name: image_bytes(smooth_image(np.random.default_rng(k), 12 + k, 10)) for k, name in enumerate(FILES)}
    members = {"img_align_celeba/": b"", **{f"img_align_celeba/{name}": data for name, data in images.items()}}
    files = {
        ZIP: zip_bytes(members),
        ATTRIBUTES: lines(ATTRIBUTE_NAMES, ATTRIBUTE_SIGNS.tolist(), 2),
        IDENTITIES: lines(None, [[i] for i in IDENTITY], 1),
        BOXES: lines(["image_id", "x_1", "y_1", "width", "height"], BOX_VALUES.tolist(), 5),
        LANDMARKS: lines(LANDMARK_NAMES, LANDMARK_VALUES.tolist(), 4),
        PARTITIONS: lines(None, [[p] for p in PARTITION], 1),
    }
    return {"files": files, "images": images}


def write(folder: Path, files: dict[str, bytes]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (folder / name).write_bytes(data)
    return folder


def fixture_copy(env, files: dict[str, bytes]) -> None:
    """The copy of the definition that verifies ``files`` and expects their counts (no alias)."""
    replacements = {f"sha256:{digest}": f"sha256:{sha256(files[name])}" for name, (digest, _) in PUBLISHED.items()}
    replacements.update({size: f"size={len(files[name])}" for name, (_, size) in PUBLISHED.items() if size})
    replacements['aliases=["celeba", "celeb_a"]'] = "aliases=[]"
    counts = [PARTITION.count(code) for code in (0, 1, 2)]
    replacements['{"train": 162_770, "validation": 19_867, "test": 19_962}'] = (
        f'{{"train": {counts[0]}, "validation": {counts[1]}, "test": {counts[2]}}}'
    )
    patched_module(env.use_registry(), "hk.edu.cuhk.ie.mmlab", "org.fixture.mmlab", replacements)


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
    done = cli("prepare", "celeb_a")
    assert done.returncode == 2 and done.stdout == "" and "Traceback" not in done.stderr
    assert done.stderr == (
        f"datamaestro: error: {DATASET} needs files that only a person can download, after signing in at "
        f"{HOMEPAGE}:\n"
        "  img_align_celeba.zip (1.3 GiB, 1443490838 bytes)\n"
        "  list_attr_celeba.txt (25.5 MiB, 26721026 bytes)\n"
        "  identity_CelebA.txt (3.3 MiB, 3424458 bytes)\n"
        "  list_bbox_celeba.txt\n"
        "  list_landmarks_align_celeba.txt (11.6 MiB, 12156055 bytes)\n"
        "  list_eval_partition.txt (2.7 MiB, 2836386 bytes)\n"
        f"download them there, then run 'datamaestro prepare {DATASET} --from DIR' (DIR: the folder holding them), "
        f"or 'datamaestro datafolders set celeba DIR' once and then 'datamaestro prepare {DATASET}'\n"
    )


def test_published_sizes_and_checksums_refuse_the_fixture(env, published, capsys) -> None:
    files = published["files"]
    source = write(env.root / "downloads", files)
    code, out, err = cli(capsys, "prepare", "celeba", "--from", str(source))
    assert code == 1 and out == "" and "Traceback" not in err
    assert f"{source / ZIP}: {len(files[ZIP])} bytes, expected 1443490838" in err  # by size first
    # the box list has no recorded size: its digest refuses it, once the others have the published sizes
    sized = {name: files[name] for name in files if name != BOXES}
    fixture_copy(env, sized | {BOXES: b"the published list"})
    code, out, err = cli(capsys, "prepare", COPY, "--from", str(source))
    assert code == 1 and f"{source / BOXES} does not match: {BOXES}: expected sha256:" in err
    assert not (env.data / "datasets" / DATASET).exists() and not (env.data / "datasets" / COPY / "originals").exists()


def test_prepare_from_dir_gives_splits_identities_attributes_landmarks_boxes(env, published) -> None:
    files, images = published["files"], published["images"]
    fixture_copy(env, files)
    source = write(env.root / "downloads", files)
    data = prepare_dataset(COPY, request=Request(quiet=True, source_dir=source))
    assert isinstance(data, ImageFolderClassification)
    assert data.categories == ["7", "2880", "2937", "10177"]
    expected = {"train": [0, 1, 2], "validation": [3], "test": [4, 5]}
    assert sorted(data.splits()) == sorted(expected)
    for name, rows in expected.items():
        split = data.splits()[name]
        assert isinstance(split, FaceImages)
        assert [p.name for p in split.paths()] == [FILES[k] for k in rows]
        assert [int(split.categories[label]) for label in split.labels.data().tolist()] == [IDENTITY[k] for k in rows]
        assert split.attribute_names == ATTRIBUTE_NAMES and split.landmark_names == LANDMARK_NAMES
        attributes = split.attributes.data()
        assert attributes.dtype == np.uint8 and attributes.tolist() == (ATTRIBUTE_SIGNS[rows] > 0).astype(int).tolist()
        assert split.landmarks.data().dtype == np.int32 and split.landmarks.data().tolist() == LANDMARK_VALUES[rows].tolist()
        assert split.boxes.data().dtype == np.int32 and split.boxes.data().tolist() == BOX_VALUES[rows].tolist()
    assert data.train.labels.data().tolist() == [1, 2, 1] and data.test.labels.data().tolist() == [3, 2]
    assert np.array_equal(data.test.image(1), decoded(images[FILES[5]]))
    entry = json.loads((env.data / "datasets" / COPY / ".manifest.json").read_text())["entries"]["originals"]
    assert entry["files"] == {name: [len(data), sha256(data)] for name, data in files.items()}
    assert entry["url"] == HOMEPAGE


def test_info_and_show_read_the_prepared_splits(env, published, capsys, tmp_path) -> None:
    files = published["files"]
    fixture_copy(env, files)
    prepare_dataset(COPY, request=Request(quiet=True, source_dir=write(env.root / "downloads", files)))
    code, out, err = cli(capsys, "info", COPY, "--json")
    assert code == 0, err
    splits = json.loads(out)["splits"]
    assert {name: facts["count"] for name, facts in splits.items()} == {"train": 3, "test": 2, "validation": 1}
    code, _, err = cli(capsys, "show", COPY, "--split", "test", "-o", str(tmp_path / "grid.png"))
    assert code == 0, err
    assert (tmp_path / "grid.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_list_naming_a_path_outside_the_images_is_refused(env, published, tmp_path) -> None:
    canary = tmp_path / "x"
    canary.write_text("canary")
    hostile = {**published["files"], PARTITIONS: published["files"][PARTITIONS].replace(b"000006.jpg", b"../x")}
    fixture_copy(env, hostile)
    source = write(env.root / "downloads", hostile)
    with pytest.raises(FormatError) as refused:
        prepare_dataset(COPY, request=Request(quiet=True, source_dir=source))
    assert str(refused.value) == (
        f"{env.data / 'datasets' / COPY / 'originals' / PARTITIONS} line 6: refused image name '../x': "
        "not a plain file name in the images folder"
    )
    assert canary.read_text() == "canary"
    assert not (env.data / "datasets" / COPY / "index").exists()


def test_partitions_other_than_the_published_counts_are_refused(env, published) -> None:
    files = published["files"]
    moved = files[PARTITIONS].replace(b"000004.jpg 1", b"000004.jpg 0")
    source = write(env.root / "downloads", {**files, PARTITIONS: moved})
    fixture_copy(env, {**files, PARTITIONS: moved})  # verifies the moved list, expects 3 train images
    with pytest.raises(FormatError, match=r"list_eval_partition\.txt: 4 train images, the published file has 3; "):
        prepare_dataset(COPY, request=Request(quiet=True, source_dir=source))


@pytest.mark.parametrize("text,problem", [
    (b"2\nx_1 y_1 \n000001.jpg 1 2\n", "line 1: says 2 images, the file lists 1"),
    (b"1\nx_1 y_1\n000001.jpg 1\n", "line 3: expected 2 numbers after the file name, found 1"),
    (b"1\nx_1 y_1\n000001.jpg 1 two\n", "line 3: expected integers after the file name"),
    (b"1\nx_1 y_1\n/etc/passwd 1 2\n", "line 3: refused image name '/etc/passwd': not a plain file name"),
    (b"x_1 y_1\n000001.jpg 1 2\n", "line 1: expected the number of images"),
])
def test_a_malformed_list_is_refused_naming_file_and_line(tmp_path, text, problem) -> None:
    path = tmp_path / "list.txt"
    path.write_bytes(text)
    with pytest.raises(FormatError) as refused:
        celeba.read_table(path, header=True)
    assert str(refused.value).startswith(f"{path} {problem}")


def test_attribute_values_must_be_one_or_minus_one(tmp_path) -> None:
    path = tmp_path / ATTRIBUTES
    path.write_bytes(b"2\nBald Young \n000001.jpg -1  1\n000002.jpg  1  0\n")
    with pytest.raises(FormatError, match=r"line 4: expected attribute values 1 or -1"):
        celeba.read_attributes(path)
    path.write_bytes(b"1\nBald Young \n000001.jpg -1  1\n")
    assert celeba.read_attributes(path).values.tolist() == [[0, 1]]
