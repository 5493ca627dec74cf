"""The decoded cache of an image folder split: the same batches as decoding, kept as a recorded
resource of its dataset (verify hashes it, rm removes it, clean keeps it), rebuilt when damaged,
reused by another process."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from kindfixtures import image_bytes, smooth_image

from datamaestro.data.folder import ImageFolder
from datamaestro.data.images import LabelledImages
from datamaestro.errors import UsageError
from datamaestro.hashing import file_digest, hash_file
from datamaestro.loaders.folder import write_index
from datamaestro.manifest import Entry, folder_files
from datamaestro.storage import DataFolder

ID = "org.example.pics"


def prepared_split(data: Path, count: int = 21) -> ImageFolder:
    """A prepared dataset in the data folder ``data``: JPEG images of varied sizes in ``images/``,
    their index in ``index/``, both recorded in the manifest."""
    folder = DataFolder(data)
    home = folder.dataset_dir(ID)
    rng = np.random.default_rng(0)
    items = []
    for k in range(count):
        path = home / "images" / f"c{k % 3}" / f"{k}.jpg"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(image_bytes(smooth_image(rng, 30 + k, 40 + 2 * k)))
        items.append((f"c{k % 3}/{k}.jpg", k % 3))
    (home / "index").mkdir()
    write_index(home / "index", "train", home / "images", items)
    for name in ("images", "index"):
        files = {rel: hash_file(p) for rel, p in folder_files(home / name).items()}
        folder.record(ID, Entry.of_folder(name, files, verified_by="derived"))
    return ImageFolder.from_index(home / "images", home / "index", "train", ["a", "b", "c"])


def the_cache(data: Path) -> Path:
    (path,) = sorted((data / "datasets" / ID).glob("decoded-*.npy"))
    return path


def test_cached_batches_are_the_decoded_batches(env):
    split = prepared_split(env.data)
    cached = split.cached(resize=(24, 20))
    assert isinstance(cached, LabelledImages) and cached.categories == ["a", "b", "c"]
    images, labels = cached.arrays()
    assert isinstance(cached.images.data(), np.memmap)
    assert images.shape == (21, 24, 20, 3) and images.dtype == np.uint8
    assert np.array_equal(images, split.arrays(resize=(24, 20))[0])
    assert labels.tolist() == [k % 3 for k in range(21)]
    for epoch in (0, 1):
        pairs = zip(cached.batches(8, seed=3, epoch=epoch), split.batches(8, seed=3, epoch=epoch, resize=(24, 20)))
        for (x, y), (x0, y0) in pairs:
            assert x.dtype == x0.dtype == np.float32 and np.array_equal(x, x0) and np.array_equal(y, y0)
    name = the_cache(env.data).name
    assert name.startswith("decoded-train-24x20-RGB-")
    assert split.cached(resize=(24, 20)).images.path.name == name  # the same file, not decoded again
    assert split.cached(resize=(12, 10)).images.path.name != name  # another size, another file


def test_the_cache_is_recorded_and_verified(env, cli):
    split = prepared_split(env.data)
    split.cached(resize=(24, 20))
    path = the_cache(env.data)
    entry = DataFolder(env.data).manifest(ID).entries[path.name]
    assert (entry.kind, entry.size, entry.sha256) == ("file", path.stat().st_size, file_digest(path))
    assert entry.verified_by == "derived" and entry.derived_from == ["images", "index"]
    assert cli("verify", ID).stdout == f"{ID}: OK (3 files)\n"
    assert cli("clean", "--yes").returncode == 0 and path.exists()  # recorded: not garbage
    data = bytearray(path.read_bytes())
    data[-100] ^= 0x01  # one bit of one pixel: the size holds, the hash does not
    path.write_bytes(bytes(data))
    result = cli("verify", ID)
    assert result.returncode == 1 and f"{ID}: CORRUPT: {path.name}: sha256:" in result.stdout
    repaired = cli("verify", "--repair", ID)
    assert f"removed the damaged decoded cache {path.name}" in repaired.stderr
    assert repaired.stdout == f"{ID}: OK (repaired, 2 files)\n" and not path.exists()
    assert np.array_equal(split.cached(resize=(24, 20)).arrays()[0], split.arrays(resize=(24, 20))[0])
    assert cli("verify", ID).stdout == f"{ID}: OK (3 files)\n"


def test_a_truncated_cache_is_decoded_again(env, caplog):
    split = prepared_split(env.data)
    expected = split.cached(resize=(24, 20)).arrays()[0].copy()
    path = the_cache(env.data)
    size = path.stat().st_size
    with open(path, "r+b") as f:
        f.truncate(size - 1000)
    images = split.cached(resize=(24, 20)).arrays()[0]
    assert path.stat().st_size == size and np.array_equal(images, expected)
    assert f"is damaged ({size - 1000} bytes, recorded {size}, expected {size}): decoding it again" in caplog.text


def test_rm_removes_the_cache(env, cli):
    split = prepared_split(env.data)
    split.cached(resize=(24, 20))
    path = the_cache(env.data)
    result = cli("rm", "--yes", ID)
    assert result.returncode == 0 and not path.exists() and not path.parent.exists()


def test_rm_caches_removes_only_the_caches(env, cli):
    split = prepared_split(env.data)
    split.cached(resize=(24, 20))
    split.cached(resize=(12, 10))
    caches = sorted((env.data / "datasets" / ID).glob("decoded-*.npy"))
    assert len(caches) == 2
    result = cli("rm", "--caches", "--yes", ID)
    assert result.returncode == 0 and result.stdout.count("removed ") == 2
    assert not any(p.exists() for p in caches)
    assert sorted(DataFolder(env.data).manifest(ID).entries) == ["images", "index"]
    assert cli("verify", ID).stdout == f"{ID}: OK (2 files)\n"
    nothing = cli("rm", "--caches", "--yes", ID)
    assert nothing.returncode == 0 and "no decoded cache of org.example.pics" in nothing.stderr


def test_another_process_reuses_the_cache(env):
    split = prepared_split(env.data)
    expected = split.cached(resize=(24, 20)).arrays()[0]
    path = the_cache(env.data)
    before = (path.stat().st_ino, path.stat().st_mtime_ns, (path.parent / ".manifest.json").read_bytes())
    script = (
        "import json, sys\n"
        "from pathlib import Path\n"
        "from datamaestro.data.folder import ImageFolder\n"
        "home = Path(sys.argv[1])\n"
        "split = ImageFolder.from_index(home / 'images', home / 'index', 'train')\n"
        "cached = split.cached(resize=(24, 20))\n"
        "print(json.dumps([cached.images.path.name, int(cached.arrays()[0].sum())]))\n"
    )
    out = subprocess.run([sys.executable, "-c", script, str(path.parent)], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == [path.name, int(expected.sum())]
    assert (path.stat().st_ino, path.stat().st_mtime_ns, (path.parent / ".manifest.json").read_bytes()) == before


def test_a_full_disk_is_one_line_and_leaves_nothing(env):
    """Writing the cache beyond the file size limit (EFBIG, as a full disk): a one-line error,
    no cache, no record, no staging left."""
    split = prepared_split(env.data)
    script = (
        "import resource, signal, sys\n"
        "from pathlib import Path\n"
        "from datamaestro.data.folder import ImageFolder\n"
        "from datamaestro.storage import StorageError\n"
        "home = Path(sys.argv[1])\n"
        "split = ImageFolder.from_index(home / 'images', home / 'index', 'train')\n"
        "signal.signal(signal.SIGXFSZ, signal.SIG_IGN)\n"
        "resource.setrlimit(resource.RLIMIT_FSIZE, (20000, 20000))\n"
        "try:\n"
        "    split.cached(resize=(24, 20))\n"
        "except StorageError as e:\n"
        "    print(e)\n"
    )
    home = split.files.parent.parent
    out = subprocess.run([sys.executable, "-c", script, str(home)], capture_output=True, text=True, check=True)
    assert out.stdout.startswith(f"cannot write the decoded cache {home}/decoded-train-24x20-RGB-")
    assert out.stdout.endswith(".npy: File too large; it needs 29.7 KiB: free some space\n")
    assert sorted(p.name for p in home.iterdir()) == [".manifest.json", "images", "index"]
    assert sorted(DataFolder(env.data).manifest(ID).entries) == ["images", "index"]


def test_a_cache_needs_a_prepared_dataset(tmp_path):
    root = tmp_path / "images"
    root.mkdir()
    (root / "a.jpg").write_bytes(image_bytes(smooth_image(np.random.default_rng(0), 20, 20)))
    (tmp_path / "index").mkdir()
    write_index(tmp_path / "index", "train", root, [("a.jpg", 0)])
    split = ImageFolder.from_index(root, tmp_path / "index", "train")
    with pytest.raises(UsageError, match=r"a decoded cache is kept in the folder of a prepared dataset"):
        split.cached(resize=(8, 8))
    with pytest.raises(UsageError, match=r"cached\(\) needs resize"):
        split.cached(resize=None)  # type: ignore[arg-type]


def test_the_cache_in_torch_is_the_folder_in_torch(env):
    pytest.importorskip("torch")
    split = prepared_split(env.data)
    cached, direct = split.cached(resize=(24, 20)).to_torch(), split.to_torch(resize=(24, 20))
    for i in (0, 7, 20):
        assert np.array_equal(cached[i][0].numpy(), direct[i][0].numpy()) and cached[i][1] == direct[i][1]
