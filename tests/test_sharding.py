"""Distributed loaders: each rank's share of a pass, as PyTorch's DistributedSampler gives it."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from test_loaders import split_on_disk

from datamaestro.errors import UsageError
from datamaestro.loaders.sharding import ShardBatchSampler, pass_order, resolve, shard


def numbered(tmp_path, n: int):
    """A split of ``n`` 4x4 images whose first two pixels spell their index."""
    images = np.zeros((n, 4, 4), dtype=np.uint8)
    images[:, 0, 0], images[:, 0, 1] = np.arange(n) // 256, np.arange(n) % 256
    return split_on_disk(tmp_path / "numbered", images, (np.arange(n) % 10).astype(np.uint8))


def seen(batches) -> list[list[int]]:
    """The sample indices of each batch."""
    return [(x[:, 0, 0].astype(int) * 256 + x[:, 0, 1]).tolist() for x, _ in batches]


def flat(batches) -> list[int]:
    return [i for batch in seen(batches) for i in batch]


def test_shard_pads_with_the_first_indices_or_drops_the_tail():
    order = np.array([5, 3, 9, 0, 7, 1, 2, 8, 4, 6, 10])  # 11 samples, 3 ranks
    assert [shard(order, r, 3).tolist() for r in range(3)] == [[5, 0, 2, 6], [3, 7, 8, 10], [9, 1, 4, 5]]
    assert [shard(order, r, 3, drop_last=True).tolist() for r in range(3)] == [[5, 0, 2], [3, 7, 8], [9, 1, 4]]
    assert shard(order, 0, 1).tolist() == order.tolist()
    assert [shard(np.arange(2), r, 5).tolist() for r in range(5)] == [[0], [1], [0], [1], [0]]


@pytest.mark.parametrize("n, world_size", [(10, 2), (11, 3), (13, 4), (3, 4), (16, 4)])
@pytest.mark.parametrize("drop_last", [False, True])
def test_shard_is_distributed_sampler(n, world_size, drop_last):
    torch = pytest.importorskip("torch")
    for rank in range(world_size):
        sampler = torch.utils.data.DistributedSampler(
            range(n), num_replicas=world_size, rank=rank, shuffle=False, drop_last=drop_last
        )
        assert shard(np.arange(n), rank, world_size, drop_last).tolist() == list(sampler)


def test_batches_give_each_rank_an_equal_disjoint_share_of_the_same_permutation(tmp_path):
    split = numbered(tmp_path, 100)
    shares = [flat(split.batches(8, seed=7, epoch=3, normalize=False, rank=r, world_size=4)) for r in range(4)]
    order = pass_order(100, True, 7, 3).tolist()
    assert shares == [order[r::4] for r in range(4)]
    assert sorted(i for share in shares for i in share) == list(range(100))
    assert {len(split.batches(8, seed=7, rank=r, world_size=4)) for r in range(4)} == {4}  # 25 each: 3 of 8, 1 of 1
    # the next epoch: another permutation, still shared alike
    again = [flat(split.batches(8, seed=7, epoch=4, normalize=False, rank=r, world_size=4)) for r in range(4)]
    assert again == [pass_order(100, True, 7, 4).tolist()[r::4] for r in range(4)] and again != shares


def test_uneven_split_pads_by_default_and_drop_last_drops(tmp_path):
    split = numbered(tmp_path, 10)
    order = pass_order(10, True, 1, 0).tolist()
    padded = [flat(split.batches(2, seed=1, epoch=0, normalize=False, rank=r, world_size=3)) for r in range(3)]
    assert padded == [(order + order[:2])[r::3] for r in range(3)] and {len(p) for p in padded} == {4}
    dropped = [
        seen(split.batches(2, seed=1, epoch=0, normalize=False, rank=r, world_size=3, drop_last=True))
        for r in range(3)
    ]
    assert dropped == [[order[:9][r::3][:2]] for r in range(3)]  # 3 each, then the incomplete batch dropped too


def test_unshuffled_shares_are_strided(tmp_path):
    split = numbered(tmp_path, 9)
    assert seen(split.batches(2, shuffle=False, normalize=False, rank=1, world_size=2)) == [[1, 3], [5, 7], [0]]


def test_no_seed_on_several_ranks_means_seed_zero(tmp_path):
    split = numbered(tmp_path, 20)
    shares = [flat(split.batches(5, epoch=0, normalize=False, rank=r, world_size=2)) for r in range(2)]
    assert shares == [pass_order(20, True, 0, 0).tolist()[r::2] for r in range(2)]


def test_the_environment_shares_a_pass_only_when_asked(tmp_path, monkeypatch):
    """Under torchrun, a loader made without rank/world_size (an evaluation loader) reads the
    whole split; distributed=True takes this rank's share from RANK and WORLD_SIZE."""
    split = numbered(tmp_path, 30)
    explicit = flat(split.batches(4, seed=2, epoch=0, normalize=False, rank=1, world_size=3))
    whole = flat(split.batches(4, seed=2, epoch=0, normalize=False))
    monkeypatch.setenv("RANK", "1")
    monkeypatch.setenv("WORLD_SIZE", "3")
    assert flat(split.batches(4, seed=2, epoch=0, normalize=False)) == whole and len(whole) == 30
    assert flat(split.batches(4, seed=2, epoch=0, normalize=False, distributed=True)) == explicit
    assert resolve(None, None) == (0, 1) and resolve(None, None, distributed=True) == (1, 3)
    with pytest.raises(UsageError, match=r"^give rank and world_size, or distributed=True \(RANK and WORLD_SIZE\), not both$"):
        split.batches(4, rank=0, distributed=True)
    monkeypatch.setenv("WORLD_SIZE", "two")
    split.batches(4)  # not read
    with pytest.raises(UsageError, match=r"^WORLD_SIZE='two' is not an integer \(distributed=True reads it\)$"):
        split.batches(4, distributed=True)
    monkeypatch.delenv("RANK")
    monkeypatch.delenv("WORLD_SIZE")
    assert flat(split.batches(4, seed=2, epoch=0, normalize=False, distributed=True)) == whole  # one process


def test_torch_loaders_share_a_pass_only_when_asked(tmp_path, monkeypatch):
    pytest.importorskip("torch")
    split = numbered(tmp_path, 30)
    monkeypatch.setenv("RANK", "1")
    monkeypatch.setenv("WORLD_SIZE", "3")
    dataset = split.to_torch(normalize=False)
    assert sum(len(y) for _, y in dataset.loader(batch_size=4)) == 30  # an evaluation loader: all of it
    assert sum(len(y) for _, y in dataset.loader(batch_size=4, distributed=True)) == 10


@pytest.mark.parametrize(
    "rank, world_size, message",
    [
        (2, 2, r"^rank must be in 0\.\.1 \(world_size 2\), not 2$"),
        (-1, 2, r"^rank must be in 0\.\.1 \(world_size 2\), not -1$"),
        (0, 0, r"^world_size must be at least 1, not 0$"),
        ("0", 2, r"^rank must be an integer, not '0'$"),
    ],
)
def test_bad_rank_or_world_size(tmp_path, rank, world_size, message):
    with pytest.raises(UsageError, match=message):
        numbered(tmp_path, 4).batches(2, rank=rank, world_size=world_size)


def test_shard_batch_sampler_counts_epochs_and_set_epoch():
    sampler = ShardBatchSampler(10, 2, True, 5, False, 1, 2)
    first, second = [[b.tolist() for b in sampler] for _ in range(2)]
    assert first == [pass_order(10, True, 5, 0).tolist()[1::2][i : i + 2] for i in (0, 2, 4)]
    assert second == [pass_order(10, True, 5, 1).tolist()[1::2][i : i + 2] for i in (0, 2, 4)]
    sampler.set_epoch(0)
    assert [b.tolist() for b in sampler] == first
    assert len(sampler) == 3 and len(ShardBatchSampler(10, 2, True, 5, True, 1, 3)) == 1


def test_torch_loader_shares_match_the_numpy_batches(tmp_path):
    torch = pytest.importorskip("torch")
    split = numbered(tmp_path, 50)
    dataset = split.to_torch(normalize=False)
    for rank in range(3):
        loader = dataset.loader(batch_size=4, shuffle=True, seed=9, rank=rank, world_size=3)
        for epoch in range(2):  # each pass is the next epoch, as numpy's batches()
            batches = list(loader)
            got = [(x[:, 0, 0, 0].long() * 256 + x[:, 0, 0, 1].long()).tolist() for x, _ in batches]
            assert got == seen(split.batches(4, seed=9, epoch=epoch, normalize=False, rank=rank, world_size=3))
            assert all(y.dtype == torch.int64 for _, y in batches) and len(batches) == len(loader) == 5


def test_torchrun_ranks_read_their_share_from_the_environment(tmp_path):
    pytest.importorskip("torch")
    numbered(tmp_path, 21)
    script = tmp_path / "train.py"
    script.write_text(textwrap.dedent(f"""
        import json, os
        from datamaestro.data.images import LabelledImages
        from datamaestro.data.tensor import IDX
        split = LabelledImages(images=IDX(path={str(tmp_path / 'numbered' / 'images.idx')!r}),
                               labels=IDX(path={str(tmp_path / 'numbered' / 'labels.idx')!r}))
        loader = split.to_torch(normalize=False).loader(batch_size=4, shuffle=True, seed=3, distributed=True)
        seen = [int(x[0, 0, 0]) * 256 + int(x[0, 0, 1]) for xs, _ in loader for x in xs]
        with open(os.path.join({str(tmp_path)!r}, "rank%s.json" % os.environ["RANK"]), "w") as f:
            json.dump(seen, f)
    """))
    run = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node=3", str(script)],
        capture_output=True, text=True, timeout=180, env={**os.environ, "OMP_NUM_THREADS": "1"},
    )
    assert run.returncode == 0, run.stderr
    shares = [json.loads((tmp_path / f"rank{r}.json").read_text()) for r in range(3)]
    assert shares == [pass_order(21, True, 3, 0).tolist()[r::3] for r in range(3)]


@pytest.mark.parametrize("drop_last", [False, True])
def test_text_and_image_folder_batches_take_the_same_rank_shares(tmp_path, drop_last):
    """Every kind's batches() shares a pass among ranks as the image arrays do."""
    from test_folder_images import make_folder

    from datamaestro.data.npy import NPY
    from datamaestro.data.text import LabelledTexts
    from datamaestro.loaders.text import text_files, write_texts

    n, world_size, seed = 11, 3, 4
    write_texts(tmp_path, "s", [(f"text {k}", k % 2) for k in range(n)])
    blob, offsets, labels = text_files(tmp_path, "s")
    texts = LabelledTexts(texts=blob, offsets=NPY(path=offsets), labels=NPY(path=labels))
    folder, _ = make_folder(tmp_path, [(4, 4)] * n)  # image k has label k % 2
    arrays = numbered(tmp_path, n)
    expected = pass_order(n, True, seed, 0)
    for rank in range(world_size):
        share = shard(expected, rank, world_size, drop_last).tolist()
        if drop_last:
            share = share[: len(share) - len(share) % 2]  # and the last incomplete batch
        options = {"seed": seed, "epoch": 0, "rank": rank, "world_size": world_size, "drop_last": drop_last}
        assert flat(arrays.batches(2, normalize=False, **options)) == share
        got = [t for batch, _ in texts.batches(2, **options) for t in batch]
        assert got == [f"text {k}" for k in share]
        labels_seen = [int(y) for _, batch in folder.batches(2, **options) for y in batch]
        assert labels_seen == [k % 2 for k in share]
    with pytest.raises(UsageError, match="rank must be in 0..2"):
        texts.batches(2, rank=3, world_size=3)


def test_the_documented_set_epoch_call_picks_the_pass(tmp_path, monkeypatch):
    """docs/loaders.md's call, read from the page and run as written."""
    pytest.importorskip("torch")
    page = (Path(__file__).parent.parent / "docs" / "loaders.md").read_text(encoding="utf-8")
    calls = set(re.findall(r"`(loader\.[\w.]*set_epoch\(k\))`", page))
    assert len(calls) == 1, calls
    documented = calls.pop()
    split = numbered(tmp_path, 30)
    monkeypatch.setenv("RANK", "1")
    monkeypatch.setenv("WORLD_SIZE", "3")
    loader = split.to_torch(normalize=False).loader(batch_size=4, shuffle=True, seed=0, distributed=True)
    for k in (3, 1):
        exec(documented, {"loader": loader, "k": k})
        got = [(x[:, 0, 0, 0].long() * 256 + x[:, 0, 0, 1].long()).tolist() for x, _ in loader]
        assert got == seen(split.batches(4, seed=0, epoch=k, normalize=False, rank=1, world_size=3))
