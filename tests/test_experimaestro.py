"""Datasets as experimaestro parameters: identities from the manifest, and a real experiment
run by experimaestro's local launcher in a temporary workspace (the data from a loopback server)."""

import importlib
import json
import os
import sys
from pathlib import Path

import numpy as np
import pytest
from makefiles import MNIST_FILES, gz, idx_bytes, sha256
from test_prepare import toy  # noqa: F401

from datamaestro.config import load_settings
from datamaestro.download.context import Request
from datamaestro.errors import MissingDependencyError, UsageError

pytest.importorskip("experimaestro", reason="experimaestro is not installed (pip install -e '.[experimaestro]')")

from experimaestro import DirtyGitAction, experiment  # noqa: E402
from experimaestro.scheduler import JobState  # noqa: E402
from xpmtasks import SumSplit  # noqa: E402

from datamaestro.experimaestro import DatasetConfig, dataset_config  # noqa: E402

ID = "org.test.digits"
TESTS = Path(__file__).parent


def with_new_labels(arrays: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The toy's arrays with the first training label changed (so one file has another checksum)."""
    changed = {name: array.copy() for name, array in arrays.items()}
    changed["train_labels"][0] = (changed["train_labels"][0] + 1) % 10
    return changed


def prepared_from(folder: Path, arrays: dict[str, np.ndarray], split: str = "train", force: bool = False) -> DatasetConfig:
    """The toy prepared from local copies of ``arrays`` into the data folder ``folder/data``."""
    source = folder / "copies"
    source.mkdir(parents=True, exist_ok=True)
    for var, filename in MNIST_FILES.items():
        (source / filename).write_bytes(gz(idx_bytes(arrays[var])))
    request = Request(quiet=True, source_dir=source, no_verify=True, force=force)
    return dataset_config(ID, split, settings=load_settings(folder / "data"), request=request)


def identifier(config: DatasetConfig) -> str:
    return config.__xpm__.identifier.all.hex()


def summary(arrays: dict[str, np.ndarray]) -> dict[str, int]:
    images, labels = arrays["train_images"], arrays["train_labels"]
    return {"count": len(labels), "labels": int(labels.sum()), "pixels": int(images.sum(dtype=np.uint64))}


def test_identity_is_the_id_the_split_and_the_checksums_not_the_folder(env, toy, tmp_path):  # noqa: F811
    train = dataset_config(ID, "train")
    assert train.id == ID and train.split == "train" and train.datadir == str(env.data)
    assert train.checksums == {
        f"{var}.idx": sha256(idx_bytes(array)) for var, array in sorted(toy.items())
    }
    assert identifier(dataset_config(ID, "train")) == identifier(train)
    elsewhere = prepared_from(tmp_path / "elsewhere", toy)
    assert elsewhere.datadir != train.datadir and identifier(elsewhere) == identifier(train)
    changed = prepared_from(tmp_path / "changed", with_new_labels(toy))
    assert changed.checksums["train_labels.idx"] != train.checksums["train_labels.idx"]
    assert identifier(changed) != identifier(train)
    whole, test = dataset_config(ID), dataset_config(ID, "test")
    assert len({identifier(whole), identifier(test), identifier(train)}) == 3
    assert whole.split == "" and whole.load().splits().keys() == {"train", "test"}


def test_load_gives_the_split_and_refuses_data_that_changed(env, toy, tmp_path):  # noqa: F811
    config = prepared_from(tmp_path / "folder", toy)
    np.testing.assert_array_equal(config.load().labels.data(), toy["train_labels"])
    prepared_from(tmp_path / "folder", with_new_labels(toy), force=True)
    with pytest.raises(UsageError, match=f"^{ID} in .* is not the data this task was submitted with"):
        config.load()
    with pytest.raises(UsageError, match=f"^{ID} has no split 'dev'; its splits are: train, test$"):
        dataset_config(ID, "dev")


def test_experiment_runs_one_job_per_data_and_the_task_reads_the_split(env, toy, tmp_path):  # noqa: F811
    same, again = dataset_config(ID, "train"), dataset_config(ID, "train")
    changed_arrays = with_new_labels(toy)
    changed = prepared_from(tmp_path / "changed", changed_arrays)
    with experiment(tmp_path / "workspace", "sums", no_environmental_impact=True, dirty_git=DirtyGitAction.IGNORE) as xp:
        # the task's process gets only these variables: not the registry's, nor the data folder's
        for name in ("DATAMAESTRO_CACHE", "XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME"):
            xp.workspace.launcher.setenv(name, os.environ[name])
        xp.workspace.launcher.setenv("PYTHONPATH", str(TESTS))
        first = SumSplit.C(data=same).submit()
        second = SumSplit.C(data=again).submit()
        third = SumSplit.C(data=changed).submit()
    jobs = [task.__xpm__.job for task in (first, second, third)]
    assert [job.state for job in jobs] == [JobState.DONE] * 3, [str(job.stderr) for job in jobs]
    assert jobs[0].identifier == jobs[1].identifier != jobs[2].identifier
    assert jobs[0].path == jobs[1].path != jobs[2].path
    assert sorted(p.name for p in (tmp_path / "workspace" / "jobs" / "xpmtasks.sumsplit").iterdir()) == sorted(
        [jobs[0].identifier, jobs[2].identifier]
    )
    assert json.loads(first.result.read_text()) == summary(toy)
    assert json.loads(third.result.read_text()) == summary(changed_arrays)
    recorded = (jobs[0].path / "params.json").read_text()
    assert str(env.data) in recorded and str(tmp_path / "changed") not in recorded  # a Meta: recorded, not identifying


def test_without_experimaestro_the_module_says_which_extra_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "experimaestro", None)  # what an import finds when it is not installed
    monkeypatch.delitem(sys.modules, "datamaestro.experimaestro")
    with pytest.raises(MissingDependencyError, match=r"^experimaestro is needed for .*pip install -e '\.\[experimaestro\]'"):
        importlib.import_module("datamaestro.experimaestro")
