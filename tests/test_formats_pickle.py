"""CIFAR pickles are untrusted: only plain data and numpy arrays load; code never runs."""

from __future__ import annotations

import os
import pickle
import subprocess
from pathlib import Path

import numpy as np
import pytest

from datamaestro.errors import FormatError
from datamaestro.formats import read, safe_pickle


class RunsCommand:
    """Unpickling this with the stock unpickler would run ``touch MARKER``."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


class RunsSubprocess:
    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (subprocess.call, (["touch", str(self.marker)],))


class Evaluates:
    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (eval, (f"open({str(self.marker)!r}, 'w')",))


@pytest.mark.parametrize("payload", [RunsCommand, RunsSubprocess, Evaluates])
@pytest.mark.parametrize("protocol", [2, 4])
def test_a_command_payload_is_refused_and_does_not_run(tmp_path: Path, payload, protocol):
    marker = tmp_path / "pwned"
    batch = {"data": payload(marker), "labels": [0], "filenames": ["a.png"]}
    folder = tmp_path / "cifar"
    folder.mkdir()
    (folder / "batches.meta").write_bytes(pickle.dumps({"label_names": ["a"]}))
    (folder / "data_batch_1").write_bytes(pickle.dumps(batch, protocol=protocol))
    # sanity: the stock unpickler would have run it
    with pytest.raises(FormatError) as error:
        read(folder, "cifar")
    message = str(error.value)
    assert message.startswith(f"{folder / 'data_batch_1'}: refused to unpickle: the pickle asks for ")
    assert message.endswith(
        ", which a data file never needs (only dicts, lists, str/bytes, numbers and numpy arrays are allowed)"
    )
    assert not marker.exists()


def test_the_stock_unpickler_would_have_run_it(tmp_path: Path):
    """Proves the payload of the test above is live (so its refusal means something)."""
    marker = tmp_path / "pwned"
    pickle.loads(pickle.dumps(RunsCommand(marker)))
    assert marker.exists()


def test_refused_global_is_named():
    data = pickle.dumps(RunsCommand(Path("/nonexistent/x")), protocol=2)
    with pytest.raises(FormatError, match=r"^x: refused to unpickle: the pickle asks for posix\.system, "):
        safe_pickle.loads(data, "x")


def test_arbitrary_objects_are_refused_even_when_harmless():
    import collections

    with pytest.raises(FormatError, match=r"the pickle asks for collections\.OrderedDict"):
        safe_pickle.loads(pickle.dumps(collections.OrderedDict(a=1)), "x")


def test_object_arrays_of_other_things_are_refused():
    bad = np.empty(1, dtype=object)
    bad[0] = {"a": 1}
    with pytest.raises(FormatError, match="^x: refused: the pickle holds an object array holding something else"):
        safe_pickle.loads(pickle.dumps({"data": bad}), "x")


def test_published_style_bytes_keys_protocol_2(tmp_path: Path):
    """The published CIFAR files: protocol 2, bytes keys, a 2-D uint8 data array."""
    rng = np.random.default_rng(0)
    data = rng.integers(0, 256, (3, 3072), dtype=np.uint8)
    folder = tmp_path / "cifar"
    folder.mkdir()
    (folder / "batches.meta").write_bytes(pickle.dumps({b"label_names": [b"cat", b"dog"], b"num_vis": 3072}, protocol=2))
    batch = {b"batch_label": b"testing batch 1 of 1", b"labels": [1, 0, 1], b"data": data,
             b"filenames": [b"a.png", b"b.png", b"c.png"]}
    (folder / "test_batch").write_bytes(pickle.dumps(batch, protocol=2))
    ds = read(folder, "cifar")
    assert ds.categories == ["cat", "dog"]
    subset = ds.subsets["test_batch"]
    assert subset.item_ids() == ["a", "b", "c"]
    assert subset.labels.tolist() == [1, 0, 1]
    assert subset.images.shape == (3, 3, 32, 32)
    assert np.array_equal(subset.images.reshape(3, -1), data)


def test_truncated_pickle(tmp_path: Path):
    path = tmp_path / "b"
    path.write_bytes(pickle.dumps({"data": np.zeros((2, 3072), np.uint8)})[:-40])
    with pytest.raises(FormatError, match=f"^{path}: corrupt or truncated pickle"):
        safe_pickle.load(path)


def _binstring(text: bytes) -> bytes:
    return b"U" + bytes([len(text)]) + text


def python2_batch(data: bytes, shape: tuple[int, int], labels: list[int]) -> bytes:
    """A batch as Python 2's cPickle wrote the published CIFAR files (str = SHORT_BINSTRING)."""
    return (
        b"\x80\x02}q\x00(" + _binstring(b"data")
        + b"cnumpy.core.multiarray\n_reconstruct\nq\x01cnumpy\nndarray\nq\x02K\x00\x85" + _binstring(b"b")
        + b"\x87R(K\x01K" + bytes([shape[0]]) + b"M" + shape[1].to_bytes(2, "little") + b"\x86"
        + b"cnumpy\ndtype\nq\x03" + _binstring(b"u1") + b"K\x00K\x01\x87R(K\x03" + _binstring(b"|")
        + b"NNNJ\xff\xff\xff\xffJ\xff\xff\xff\xffK\x00tb\x89"
        + b"T" + len(data).to_bytes(4, "little") + data + b"tb"
        + _binstring(b"labels") + b"](" + b"".join(b"K" + bytes([v]) for v in labels) + b"e"
        + _binstring(b"filenames") + b"](" + b"".join(_binstring(b"f%d.png" % i) for i in range(len(labels))) + b"e"
        + _binstring(b"batch_label") + _binstring(b"training batch 1 of 5") + b"u."
    )


def test_python2_published_style_batch(tmp_path: Path):
    rng = np.random.default_rng(7)
    data = rng.integers(0, 256, (2, 3072), dtype=np.uint8)
    folder = tmp_path / "cifar"
    folder.mkdir()
    (folder / "data_batch_1").write_bytes(python2_batch(data.tobytes(), (2, 3072), [6, 9]))
    ds = read(folder, "cifar")
    assert ds.categories[6] == "frog"  # no meta file: CIFAR-10's names
    subset = ds.subsets["data_batch_1"]
    assert subset.item_ids() == ["f0", "f1"]
    assert subset.labels.tolist() == [6, 9]
    assert np.array_equal(subset.images.reshape(2, -1), data)
