"""datamaestro.compat.d2l: the chapter "The Image Classification Dataset" of d2l 1.0 (PyTorch), one import changed.

Fashion-MNIST is prepared first from generated files in its published names
and format (gzipped IDX, 200 training and 80 test images), taken with
``--from DIR --no-verify``.
"""

from __future__ import annotations

import numpy as np
import pytest
from makefiles import mnist_gz_files

from datamaestro.api import prepare_dataset
from datamaestro.download.context import Request

torch = pytest.importorskip("torch", reason="d2l 1.0's PyTorch edition needs torch (the torch extra)")

FASHION_ID = "com.github.zalandoresearch.fashion-mnist"

#: the chapter's PyTorch cells as a script: `from d2l import torch as d2l` became the import below, and
#: the cells that end in an expression print it (a notebook shows it); the classes and methods the
#: chapter defines and saves (#@save) are what the import gives
CHAPTER = """
import time
from datamaestro.compat import d2l
import torch

d2l.use_svg_display()

data = d2l.FashionMNIST(resize=(32, 32))
print((len(data.train), len(data.val)))

print(data.train[0][0].shape)

X, y = next(iter(data.train_dataloader()))
print(X.shape, X.dtype, y.shape, y.dtype)

tic = time.time()
for X, y in data.train_dataloader():
    continue
f'{time.time() - tic:.2f} sec'

batch = next(iter(data.val_dataloader()))
shown = data.visualize(batch)
print(type(shown).__module__.split(".")[0], data.text_labels(batch[1][:3]))
"""


@pytest.fixture
def fashion(tmp_path) -> dict[str, np.ndarray]:
    """Fashion-MNIST prepared from generated files; the arrays they hold."""
    source = tmp_path / "fashion-files"
    source.mkdir()
    files, arrays = mnist_gz_files(200, 80)
    for name, data in files.items():
        (source / name).write_bytes(data)
    prepare_dataset(FASHION_ID, request=Request(quiet=True, source_dir=source, no_verify=True))
    return arrays


def test_the_chapter_runs_with_one_import_changed(fashion, capsys):
    exec(compile(CHAPTER, "chapter.py", "exec"), {"__name__": "__main__"})  # in this process: torch is loaded
    printed = capsys.readouterr().out
    labels = ["t-shirt", "trouser", "pullover", "dress", "coat", "sandal", "shirt", "sneaker", "bag", "ankle boot"]
    first = [labels[i] for i in fashion["test_labels"][:3]]
    drawn = "numpy" if _has("matplotlib") else "PIL"  # matplotlib's axes (a numpy array), else our grid
    assert printed.splitlines() == [
        "(200, 80)",
        "torch.Size([1, 32, 32])",
        "torch.Size([64, 1, 32, 32]) torch.float32 torch.Size([64]) torch.int64",
        f"{drawn} {first}",
    ]


def test_fashion_mnist_module(fashion):
    from datamaestro.compat import d2l

    data = d2l.FashionMNIST(batch_size=32)
    assert (data.batch_size, data.resize, data.num_workers) == (32, (28, 28), 0)
    assert data.hparams == {"batch_size": 32, "resize": (28, 28), "dataset": FASHION_ID}
    image, label = data.train[5]
    assert image.shape == (1, 28, 28) and image.dtype == torch.float32
    assert torch.equal(image[0], torch.from_numpy(fashion["train_images"][5].astype(np.float32) / 255))
    assert label == int(fashion["train_labels"][5])
    # validation: every image once, in order; training: shuffled, each pass anew
    val = list(data.val_dataloader())
    assert [len(y) for _, y in val] == [32, 32, 16]
    assert torch.equal(torch.cat([y for _, y in val]), torch.from_numpy(fashion["test_labels"].astype(np.int64)))
    passes = [torch.cat([y for _, y in data.train_dataloader()]) for _ in range(2)]
    assert all(sorted(p.tolist()) == sorted(fashion["train_labels"].tolist()) for p in passes)
    assert data.text_labels([0, torch.tensor(9), np.int64(3)]) == ["t-shirt", "ankle boot", "dress"]
    X, _ = val[0]
    if not _has("matplotlib"):
        grid = data.visualize(val[0], nrows=2, ncols=4, labels=["x"] * 8)
        assert grid.mode == "L"
        assert grid == d2l.show_images(X[:, 0], 2, 4, titles=["x"] * 8)


def test_data_module_base_and_add_to_class():
    from datamaestro.compat import d2l

    class Synthetic(d2l.DataModule):
        def __init__(self, n=10, batch_size=4):
            super().__init__()
            self.save_hyperparameters(ignore=["n"])
            self.X = torch.arange(n, dtype=torch.float32).reshape(n, 1)
            self.y = 2 * self.X

    @d2l.add_to_class(Synthetic)
    def get_dataloader(self, train):
        return self.get_tensorloader((self.X, self.y), train, slice(0, 8) if train else slice(8, None))

    data = Synthetic()
    assert data.hparams == {"batch_size": 4} and not hasattr(data, "n")
    assert [len(x) for x, _ in data.train_dataloader()] == [4, 4]
    assert [x.flatten().tolist() for x, _ in data.val_dataloader()] == [[8.0, 9.0]]
    assert d2l.load_data_fashion_mnist is not None and d2l.get_fashion_mnist_labels([1]) == ["trouser"]


def _has(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is not None
