"""The original datamaestro's commands: download (files only), repositories, orphans."""

from __future__ import annotations

import json

import numpy as np
import pytest
from makefiles import idx_bytes, md5, write_module

from datamaestro.registry import Registry
from datamaestro.storage import human_size

RAW = idx_bytes(np.arange(24, dtype=np.uint8).reshape(2, 3, 4))

PAIR = '''
from datamaestro.data.tensor import IDX
from datamaestro.definitions import dataset
from datamaestro.download.derived import derived
from datamaestro.download.single import filedownloader

RAW = filedownloader("raw.idx", "{url}", checksum="md5:{md5}")


def double(raw, out):
    (out / "twice.bin").write_bytes(raw.read_bytes() * 2)


@RAW
@derived("arrays", double, RAW)
@dataset(IDX, aliases=["pair"])
def pair(raw, arrays):
    "A file and what is derived from it."
    return {{"path": raw}}


GATED = filedownloader("gated.idx", "{url}", checksum="md5:{md5}")
GATED.sign_in = "https://example.org/sign-in"


@GATED
@dataset(IDX)
def gated(gated):
    "A file behind a sign-in."
    return {{"path": gated}}
'''

BROKEN = "import not_a_module_anywhere\n"


@pytest.fixture(scope="module")
def index_cache(tmp_path_factory):
    return tmp_path_factory.mktemp("cache")


@pytest.fixture(autouse=True)
def shared_index(env, index_cache, monkeypatch):
    """One user cache for this module's tests: the built-in definitions are indexed once."""
    monkeypatch.setenv("DATAMAESTRO_CACHE", str(index_cache))


@pytest.fixture
def pair(env, server):
    """org.dl.pair (raw.idx, and arrays derived from it) and org.dl.gated, served on loopback."""
    server.files["/dl/raw.idx"] = RAW
    write_module(env.use_registry(), "org.dl", PAIR.format(url=server.url("dl/raw.idx"), md5=md5(RAW)))
    return env.data / "datasets" / "org.dl.pair"


def test_download_fetches_the_files_only(env, server, cli, pair):
    result = cli("-q", "download", "org.dl.pair")
    shown = f"org.dl.pair: raw.idx in {pair}; 'datamaestro prepare org.dl.pair' builds arrays\n"
    assert (result.returncode, result.stdout, result.stderr) == (0, shown, "")
    assert (pair / "raw.idx").read_bytes() == RAW and not (pair / "arrays").exists()
    assert sorted(json.loads((pair / ".manifest.json").read_text())["entries"]) == ["raw.idx"]
    again = cli("-q", "download", "pair")  # an alias; nothing fetched again
    assert (again.returncode, again.stdout) == (0, shown)
    assert server.gets("/dl/raw.idx") == 1
    assert cli("info", "--json", "pair").stdout.count('"prepared": false') == 1
    prepared = cli("-q", "prepare", "pair")  # builds what derives, from the file in place
    assert prepared.returncode == 0, prepared.stderr
    assert (pair / "arrays" / "twice.bin").read_bytes() == RAW * 2
    assert server.gets("/dl/raw.idx") == 1


def test_download_refuses_what_needs_a_sign_in_and_unknown_ids(env, server, cli, pair):
    result = cli("download", "org.dl.gated")
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == (
        "datamaestro: error: org.dl.gated: gated.idx needs a sign-in at https://example.org/sign-in; "
        "download it there, then run 'datamaestro prepare org.dl.gated --from DIR' with DIR the folder holding it\n"
    )
    assert server.gets("/dl/raw.idx") == 0
    unknown = cli("download", "org.dl.pear")
    assert (unknown.returncode, unknown.stderr) == (
        2, "datamaestro: error: unknown dataset 'org.dl.pear'; closest ids: org.dl.pair, org.dl.gated\n"
    )
    assert cli("download", "-j", "0", "pair").returncode == 2
    offline = cli("--offline", "download", "pair")
    assert offline.returncode == 1 and "offline mode: org.dl.pair is not prepared (missing raw.idx)" in offline.stderr


def test_repositories_count_their_datasets(env, cli, pair):
    builtin = [e for e in Registry().entries() if e.repository == "builtin"]
    write_module(env.registry, "org.broken", BROKEN)
    folder = Registry().repos[0].folder
    result = cli("repositories")
    assert result.returncode == 0
    width = len(str(env.registry))
    assert result.stdout == (
        f"{'builtin':<{width}}  builtin  {len(builtin)} datasets  {folder}\n"
        f"{env.registry}  path     2 datasets, 1 broken module\n"
    )
    assert json.loads(cli("repositories", "--json").stdout) == [
        {"name": "builtin", "kind": "builtin", "folder": str(folder), "datasets": len(builtin), "broken": 0},
        {"name": str(env.registry), "kind": "path", "folder": str(env.registry), "datasets": 2, "broken": 1},
    ]


@pytest.fixture
def littered(env, tmp_path):
    """A data folder with a known dataset, orphans, and a link to a canary outside it."""
    canary = tmp_path / "outside"
    canary.mkdir()
    (canary / "keep.txt").write_text("canary")
    known = env.data / "datasets" / "com.lecun.mnist"
    known.mkdir(parents=True)
    (known / "train_images.idx").write_bytes(b"x" * 10)
    gone = env.data / "datasets" / "org.gone.thing"
    gone.mkdir()
    (gone / "data.bin").write_bytes(b"y" * 2000)
    (env.data / "downloads" / "org.gone.thing").mkdir(parents=True)
    (env.data / "downloads" / "org.gone.thing" / "data.bin.part").write_bytes(b"z" * 5)
    (env.data / "datasets" / "notes.txt").write_text("by hand")
    (env.data / "datasets" / "link").symlink_to(canary)
    return canary


def test_orphans_lists_what_no_dataset_owns(env, cli, littered):
    datasets, downloads = env.data / "datasets", env.data / "downloads"
    result = cli("orphans")
    assert result.returncode == 0
    assert result.stdout == (
        f"{datasets}/link  a link\n"
        f"{datasets}/notes.txt  7 B\n"
        f"{datasets}/org.gone.thing  {human_size(2000)}\n"
        f"{downloads}/org.gone.thing  5 B\n"
    )
    assert result.stderr == f"4 orphans, {human_size(2012)}: 'datamaestro orphans --remove' deletes them\n"
    listed = json.loads(cli("orphans", "--json").stdout)
    assert listed[0] == {"path": f"{datasets}/link", "name": "link", "link": True, "size": 0}
    assert [o["size"] for o in listed] == [0, 7, 2000, 5]
    refused = cli("orphans", "--remove", input="n\n")
    assert refused.returncode == 1
    assert refused.stderr.endswith(f"remove these 4 orphans ({human_size(2012)})? [y/N] \nnothing was removed\n")
    assert (datasets / "org.gone.thing" / "data.bin").exists()
    assert cli("orphans", "--yes").returncode == 2  # --yes without --remove


def test_orphans_remove_stays_inside_the_data_folder(env, cli, littered):
    datasets, downloads = env.data / "datasets", env.data / "downloads"
    result = cli("orphans", "--remove", "--yes")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[4:] == [
        f"removed {datasets}/link (a link)",
        f"removed {datasets}/notes.txt (7 B)",
        f"removed {datasets}/org.gone.thing ({human_size(2000)})",
        f"removed {downloads}/org.gone.thing (5 B)",
    ]
    assert (littered / "keep.txt").read_text() == "canary"  # what the link led to is untouched
    assert sorted(p.name for p in datasets.iterdir()) == ["com.lecun.mnist"]
    assert list(downloads.iterdir()) == [] and not list((env.data / "locks").glob("org.gone*"))
    assert (datasets / "com.lecun.mnist" / "train_images.idx").exists()
    again = cli("orphans", "--remove", "--yes")
    assert (again.returncode, again.stdout, again.stderr) == (0, "", f"no orphan in {env.data}\n")


def test_orphans_refuses_to_remove_while_a_module_is_broken(env, cli, littered):
    path = write_module(env.use_registry(), "org.broken", BROKEN)
    listed = cli("orphans")
    assert listed.returncode == 0 and len(listed.stdout.splitlines()) == 4
    result = cli("orphans", "--remove", "--yes")
    assert (result.returncode, result.stdout.count("removed")) == (2, 0)
    assert result.stderr.splitlines()[-1] == (
        f"datamaestro: error: definition module {path} cannot be loaded: its datasets cannot be told from "
        "orphans; mend or remove it first (nothing was removed)"
    )
    assert (env.data / "datasets" / "org.gone.thing").exists()


def test_a_linked_datasets_folder_is_not_looked_into(env, cli, tmp_path):
    outside = tmp_path / "elsewhere"
    (outside / "org.x.y").mkdir(parents=True)
    env.data.mkdir()
    (env.data / "datasets").symlink_to(outside)
    result = cli("orphans", "--remove", "--yes")
    assert (result.returncode, result.stdout) == (0, "")
    assert result.stderr == f"warning: {env.data}/datasets is a link: not looked into\nno orphan in {env.data}\n"
    assert (outside / "org.x.y").is_dir()
