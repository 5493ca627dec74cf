"""The PyTorch adapter (runs where torch is importable: see docs/loaders.md)."""

from __future__ import annotations

import numpy as np
import pytest
from test_loaders import NAMES, digits, split_on_disk

torch = pytest.importorskip("torch")


@pytest.fixture
def mnist(tmp_path):
    images, labels = digits(50)
    return split_on_disk(tmp_path / "mnist", images, labels), images, labels


def test_dataset_items_are_like_to_tensor(mnist):
    split, images, labels = mnist
    ds = split.to_torch()
    assert isinstance(ds, torch.utils.data.Dataset)
    assert len(ds) == 50
    x, y = ds[7]
    assert x.shape == (1, 28, 28) and x.dtype == torch.float32
    assert torch.equal(x[0], torch.from_numpy(images[7].astype(np.float32) / np.float32(255)))
    assert y == 7 and isinstance(y, int)
    x, _ = ds[-1]
    assert torch.equal(x[0], torch.from_numpy(images[49] / np.float32(255)))
    with pytest.raises(IndexError):
        ds[50]
    assert ds.categories == NAMES


def test_batched_index_gathers_whole_batches(mnist):
    split, images, labels = mnist
    ds = split.to_torch()
    x, y = ds[[3, 1, 4]]
    assert x.shape == (3, 1, 28, 28) and y.dtype == torch.int64
    assert y.tolist() == [3, 1, 4]
    assert torch.equal(x[:, 0], torch.from_numpy(images[[3, 1, 4]] / np.float32(255)))
    x2, _ = ds[torch.tensor([3, 1, 4])]
    assert torch.equal(x, x2)


def test_standard_dataloader_collates_items(mnist):
    split, _, labels = mnist
    x, y = next(iter(torch.utils.data.DataLoader(split.to_torch(), batch_size=8)))
    assert x.shape == (8, 1, 28, 28) and y.dtype == torch.int64
    assert y.tolist() == labels[:8].tolist()


def test_loader_is_seeded_and_reshuffles_each_pass(mnist):
    split, _, labels = mnist
    loader = split.to_torch().loader(batch_size=16, shuffle=True, seed=5)
    assert len(loader) == 4
    passes = [torch.cat([y for _, y in loader]).tolist() for _ in range(2)]
    assert passes[0] != passes[1]
    assert sorted(passes[0]) == sorted(labels.tolist())
    again = split.to_torch().loader(batch_size=16, shuffle=True, seed=5)
    assert [torch.cat([y for _, y in again]).tolist() for _ in range(2)] == passes
    shapes = [tuple(x.shape) for x, _ in loader]
    assert shapes == [(16, 1, 28, 28)] * 3 + [(2, 1, 28, 28)]
    assert len(split.to_torch().loader(batch_size=16, drop_last=True)) == 3


def test_loader_takes_the_dataloader_defaults(mnist):
    """The keyword arguments of a DataLoader, given to loader(), mean what they mean there:
    no shuffling unless asked (the PyTorch MNIST example's test loader), batches of 1 by default."""
    split, _, labels = mnist
    kwargs = {"batch_size": 16, "num_workers": 0, "pin_memory": False}
    ours = split.to_torch().loader(**kwargs)
    theirs = torch.utils.data.DataLoader(split.to_torch(), **kwargs)
    for (x, y), (x2, y2) in zip(ours, theirs, strict=True):
        assert torch.equal(x, x2) and torch.equal(y, y2)
    assert torch.cat([y for _, y in ours]).tolist() == labels.tolist()
    default = split.to_torch().loader()
    assert len(default) == len(torch.utils.data.DataLoader(split.to_torch())) == len(labels)
    torch.manual_seed(1)
    shuffled = [y.tolist() for _, y in split.to_torch().loader(batch_size=16, shuffle=True)]
    torch.manual_seed(1)
    assert shuffled == [y.tolist() for _, y in torch.utils.data.DataLoader(split.to_torch(), batch_size=16, shuffle=True)]


def test_options_resize_layout_one_hot(tmp_path):
    rng = np.random.default_rng(1)
    images = rng.integers(0, 256, size=(6, 3, 32, 32), dtype=np.uint8)
    split = split_on_disk(tmp_path, images, np.arange(6, dtype=np.uint8))
    x, y = split.to_torch()[2]
    assert x.shape == (3, 32, 32)
    x, y = split.to_torch(layout="NHWC", one_hot=True)[[0, 2]]
    assert x.shape == (2, 32, 32, 3) and y.dtype == torch.float32
    assert y[1].tolist() == [0, 0, 1, 0, 0, 0, 0, 0, 0, 0]
    x, _ = split.to_torch(resize=16, normalize=False, interpolation="nearest")[0]
    assert x.dtype == torch.uint8 and x.shape == (3, 16, 16)
    assert torch.equal(x, torch.from_numpy(images[0, :, 1::2, 1::2].copy()))


def test_dataset_pickles_for_spawned_workers(mnist):
    import pickle

    split, images, _ = mnist
    ds = split.to_torch(resize=32)
    back = pickle.loads(pickle.dumps(ds))
    assert isinstance(back, torch.utils.data.Dataset) and len(back) == 50
    assert torch.equal(back[3][0], ds[3][0]) and back[3][0].shape == (1, 32, 32)
    assert back.categories == split.categories


def test_normalize_mean_std_is_to_tensor_then_normalize(mnist):
    """The PyTorch MNIST example's ToTensor() and Normalize((0.1307,), (0.3081,)), bit for bit."""
    split, images, _ = mnist
    ds = split.to_torch(normalize=((0.1307,), (0.3081,)))
    x, _ = ds[[0, 1, 2]]
    scaled = torch.from_numpy(images[:3, None]).float().div(255)  # ToTensor
    mean, std = torch.as_tensor((0.1307,)), torch.as_tensor((0.3081,))
    assert torch.equal(x, scaled.sub(mean[:, None, None]).div(std[:, None, None]))  # Normalize
    single, _ = ds[1]
    assert torch.equal(single, x[1])
    loaded = torch.cat([x for x, _ in ds.loader(batch_size=16)])
    assert loaded.shape == (50, 1, 28, 28) and torch.equal(loaded[:3], x)


def test_transform_is_called_on_each_batch_of_tensors(mnist, tmp_path):
    split, images, _ = mnist
    calls = []

    def flip(batch):
        calls.append(tuple(batch.shape))
        return torch.flip(batch, dims=[-1])

    ds = split.to_torch(transform=flip)
    x, _ = ds[3]
    assert torch.equal(x[0], torch.from_numpy(images[3, :, ::-1] / np.float32(255)))
    assert [tuple(b.shape) for b, _ in ds.loader(batch_size=20)] == [(20, 1, 28, 28)] * 2 + [(10, 1, 28, 28)]
    assert calls == [(1, 1, 28, 28), (20, 1, 28, 28), (20, 1, 28, 28), (10, 1, 28, 28)]
    from test_folder_images import make_folder

    folder, _ = make_folder(tmp_path, [(8, 6)] * 4)
    plain, flipped = folder.to_torch()[[0, 1]][0], folder.to_torch(transform=flip)[[0, 1]][0]
    assert torch.equal(flipped, torch.flip(plain, dims=[-1]))
