"""The data folder under attack: ids and names that are paths, lost manifests, damaged folders.

Each case has a canary file outside the data folder that must stay byte-identical.
"""

from __future__ import annotations

import json
import os
import tarfile
from pathlib import Path

import pytest
from makefiles import interruptible, md5, write_module
from test_archive import define, member, tar_bytes
from test_maintenance import A, B, blob  # noqa: F401 (a fixture)
from test_reliability import ID, payload, prepared, serve

from datamaestro.download.single import filedownloader
from datamaestro.errors import DefinitionError, UnsafePathError
from datamaestro.storage import DataFolder


@pytest.fixture
def canary(tmp_path: Path) -> Path:
    """A file outside the data folder that nothing may touch."""
    path = tmp_path / "outside" / "canary.txt"
    path.parent.mkdir()
    path.write_bytes(b"precious")
    return path


def intact(canary: Path) -> bool:
    return canary.read_bytes() == b"precious" and sorted(p.name for p in canary.parent.iterdir()) == ["canary.txt"]


@pytest.mark.parametrize("target", ["../..", "..", ".", "", "/", "datasets/../..", "org.rel.blob/..", "a\nb"])
def test_rm_takes_ids_never_paths(env, cli, blob, canary, target):
    result = cli("rm", "--yes", target)
    assert result.returncode == 2
    assert result.stderr.startswith("datamaestro: error: rm takes dataset ids, not paths: ")
    assert len(result.stderr.splitlines()) == 1
    assert intact(canary) and prepared(env).read_bytes() == A


def test_rm_of_an_absolute_folder_is_refused(env, cli, blob, canary):
    result = cli("rm", "--yes", str(canary.parent))
    assert result.returncode == 2 and "not paths" in result.stderr
    assert intact(canary)


def test_rm_of_an_unknown_id_that_has_a_folder_is_refused(env, cli, blob, canary):
    stray = env.data / "datasets" / "org.nobody.knows"
    stray.mkdir()
    result = cli("rm", "--yes", "org.nobody.knows")
    assert result.returncode == 2
    assert result.stderr == (
        f"datamaestro: error: org.nobody.knows is neither a known dataset nor recorded in {env.data}; "
        "nothing was removed\n"
    )
    assert stray.is_dir()


@pytest.mark.parametrize("name", ["../../x", "/abs/x", "a/b", ".hidden", "..", ""])
def test_resource_names_that_are_paths_are_refused(name):
    with pytest.raises(DefinitionError, match="is not a resource name"):
        filedownloader(name, "https://example.org/x")


@pytest.mark.parametrize("given", ["../../x", "a..b", "x/y", "bad\nid", ".hidden"])
def test_dataset_ids_that_are_paths_are_refused(env, cli, given):
    write_module(env.use_registry(), "org.bad", f"""
from datamaestro.data.tensor import IDX
from datamaestro.definitions import dataset
from datamaestro.download.single import filedownloader

@filedownloader("x.idx", "http://127.0.0.1:9/x")
@dataset(IDX, id={given!r})
def x(x):
    return {{"path": x}}
""")
    from datamaestro.registry import Registry
    from datamaestro.repositories import load_module

    repo = Registry().repos[-1]
    with pytest.raises(DefinitionError, match="is not a dataset id"):
        load_module(repo, "org.bad", repo.folder / "org" / "bad.py")


def test_data_folder_paths_do_not_follow_links_out(env, canary):
    folder = DataFolder(env.data)
    (env.data / "datasets").mkdir(parents=True)
    os.symlink(canary.parent, env.data / "datasets" / "org.evil.link")
    with pytest.raises(UnsafePathError, match="outside"):
        folder.resource_path("org.evil.link", "canary.txt")
    with pytest.raises(UnsafePathError):
        folder.remove(env.data / "datasets" / "org.evil.link" / "canary.txt")
    folder.remove(env.data / "datasets" / "org.evil.link")  # the link itself, not its target
    assert not os.path.lexists(env.data / "datasets" / "org.evil.link")
    assert intact(canary)
    with pytest.raises(UnsafePathError):
        folder.remove(env.data)


def test_clean_leaves_links_and_foreign_files_alone(env, cli, blob, canary):
    os.symlink(canary.parent, env.data / "datasets" / "org.evil.link")
    os.symlink(canary, blob / "link.bin")
    (env.data / "downloads" / ID).mkdir(parents=True)
    (env.data / "downloads" / ID / "notes.txt").write_text("mine")
    (env.data / "downloads" / "not an id").mkdir()
    result = cli("clean", "--yes")
    assert result.returncode == 0, result.stderr
    assert result.stderr.splitlines()[:4] == [
        f"  left alone: {env.data / 'datasets' / 'org.evil.link'}: a link, not followed",
        f"  left alone: {env.data / 'downloads' / 'not an id'}: not a dataset folder",
        f"  left alone: {env.data / 'downloads' / ID / 'notes.txt'}: not a partial download",
        f"  left alone: {blob / 'link.bin'}: not made by datamaestro",
    ]
    assert intact(canary)
    assert (env.data / "downloads" / ID / "notes.txt").read_text() == "mine"
    assert prepared(env).read_bytes() == A


# -- the manifest: a file in place always has its record; a lost record is rebuilt ------------


def test_lost_manifest_is_rebuilt_from_the_declarations(env, server, cli, blob):
    manifest = blob / ".manifest.json"
    before = json.loads(manifest.read_text())["entries"]
    for damage in (None, b"{not json", b'{"id": "org.rel.blob", "version": 2, "entries": {"../x": {}}}'):
        if damage is None:
            manifest.unlink()
        else:
            manifest.write_bytes(damage)
        result = cli("prepare", "-q", ID)
        assert result.returncode == 0, result.stderr
        after = json.loads(manifest.read_text())["entries"]
        assert {n: (e["size"], e["sha256"], e["verified_by"]) for n, e in after.items()} == {
            n: (e["size"], e["sha256"], e["verified_by"]) for n, e in before.items()
        }
    assert server.gets("/d/blob/a.idx") == 1 and server.gets("/d/blob/b.idx") == 1  # nothing fetched again
    assert cli("verify").stdout == f"{ID}: OK (2 files)\n"


def test_a_file_in_place_that_its_declaration_refutes_is_fetched_again(env, server, cli, blob):
    (blob / ".manifest.json").unlink()
    (blob / "a.idx").write_bytes(b"replaced by someone")
    result = cli("verify", ID)
    assert result.returncode == 1
    assert result.stdout == f"{ID}: MISSING: a.idx: not recorded; run 'datamaestro prepare {ID}'\n"
    assert cli("clean", "--yes").stdout == ""  # a declared resource is never clean's garbage
    assert prepared(env).read_bytes() == b"replaced by someone"
    result = cli("prepare", ID)
    assert result.returncode == 0, result.stderr
    assert prepared(env).read_bytes() == A
    assert server.gets("/d/blob/a.idx") == 2 and server.gets("/d/blob/b.idx") == 1


def test_list_prepared_shows_partly_prepared_datasets(env, server, cli, blob):
    (blob / "b.idx").unlink()
    result = cli("list", "--prepared")
    assert result.returncode == 0
    size = (blob / "a.idx").stat().st_size + (blob / ".manifest.json").stat().st_size
    from datamaestro.storage import human_size

    assert result.stdout.splitlines() == [
        f"{ID}  {human_size(size):>10}  partial: missing b.idx (1 of 2 files prepared): "
        f"run 'datamaestro prepare {ID}'",
        f"0 prepared, 1 partial, {human_size(size)} in {env.data}",
    ]
    (blob / "a.idx").write_bytes(b"short")
    [row] = json.loads(cli("list", "--prepared", "--json").stdout)
    assert (row["prepared"], row["ready"], row["missing"], row["damaged"]) == (False, 0, ["b.idx"], ["a.idx"])
    assert "partial: missing b.idx; damaged a.idx (0 of 2 files prepared)" in cli("list", "--prepared").stdout


def test_list_prepared_marks_a_partial_preparation_from_a_folder(env, server, cli, tmp_path):
    """``prepare --from DIR`` with one bad copy of four: three are prepared, the dataset is partial."""
    files = {f"{n}.idx": payload(3000, seed=i) for i, n in enumerate("abcd")}
    serve(env, server, files)
    copies = tmp_path / "copies"
    copies.mkdir()
    for name, data in files.items():
        (copies / name).write_bytes(b"bad copy" if name == "c.idx" else data)
    assert cli("prepare", ID, "--from", str(copies)).returncode == 1
    [row] = json.loads(cli("list", "--prepared", "--json").stdout)
    assert (row["prepared"], row["ready"], row["resources"], row["missing"], row["damaged"]) == (False, 3, 4, ["c.idx"], [])
    assert "partial: missing c.idx (3 of 4 files prepared)" in cli("list", "--prepared").stdout
    assert "partial: missing c.idx" in cli("list").stdout
    os.rename(env.registry / "org" / "rel.py", env.root / "gone.py")  # the definition is gone: what was recorded
    (env.data / "datasets" / ID / "a.idx").unlink()
    assert "partial: missing a.idx (2 of 3 files prepared)" in cli("list", "--prepared").stdout


def test_prepare_notices_a_truncated_file_and_repairs_only_it(env, server, cli, blob):
    (blob / "b.idx").write_bytes(B[:100])
    result = cli("prepare", ID)
    assert result.returncode == 0, result.stderr
    assert f"{ID}: b.idx: 100 bytes, recorded {len(B)}; fetching it again" in result.stderr
    assert prepared(env, "b.idx").read_bytes() == B
    assert server.gets("/d/blob/a.idx") == 1 and server.gets("/d/blob/b.idx") == 2


def test_prepare_repair_hashes_every_byte(env, server, cli, blob):
    damaged = bytearray(A)
    damaged[5] ^= 0xFF  # same size: only hashing notices
    (blob / "a.idx").write_bytes(bytes(damaged))
    assert cli("prepare", "-q", ID).returncode == 0
    assert prepared(env).read_bytes() == bytes(damaged)  # the quick check trusts sizes
    result = cli("prepare", "--repair", ID)
    assert result.returncode == 0, result.stderr
    assert prepared(env).read_bytes() == A
    assert server.gets("/d/blob/a.idx") == 2 and server.gets("/d/blob/b.idx") == 1


def test_verify_checks_every_file_of_derived_folders(env, server, cli):
    """A corrupted arrays/test_labels.npy of a CIFAR-like dataset is found by verify."""
    import numpy as np

    source = bytes([0, 1, 2, 3]) * 10
    server.files["/d/src.bin"] = source
    write_module(env.use_registry(), "org.der", f"""
from pathlib import Path
import numpy as np
from datamaestro.data.npy import NPY
from datamaestro.definitions import dataset
from datamaestro.download.derived import derived
from datamaestro.download.single import filedownloader

SRC = filedownloader("src.bin", {server.url("d/src.bin")!r}, checksum="md5:{md5(source)}")

def build(src, out):
    data = np.frombuffer(Path(src).read_bytes(), dtype=np.uint8)
    np.save(out / "test_labels.npy", data)
    np.save(out / "train_labels.npy", data[::-1])

@SRC
@derived("arrays", build, SRC)
@dataset(NPY, id="arrays")
def arrays(src, arrays):
    return {{"path": arrays / "test_labels.npy"}}
""")
    assert cli("prepare", "-q", "org.der.arrays").returncode == 0
    labels = env.data / "datasets" / "org.der.arrays" / "arrays" / "test_labels.npy"
    content = bytearray(labels.read_bytes())
    content[-1] ^= 1
    labels.write_bytes(bytes(content))
    result = cli("verify", "org.der.arrays")
    assert result.returncode == 1
    assert result.stdout.startswith("org.der.arrays: CORRUPT: arrays/test_labels.npy: sha256:")
    assert cli("verify", "--repair", "org.der.arrays").returncode == 0
    assert np.load(labels)[-1] == 3
    assert server.gets("/d/src.bin") == 1  # rebuilt from its source in place


def test_verify_reports_links_planted_in_an_unpacked_folder(env, server, cli, canary):
    """An archive's own links stay inside its folder; a link leading out (or nowhere) is not what was
    prepared, whatever it points at."""
    members = [member("pkg", kind=tarfile.DIRTYPE), member("pkg/a.txt", b"alpha"),
               member("pkg/same", kind=tarfile.SYMTYPE, linkname="a.txt")]
    dataset_id = define(env, server, tar_bytes(members), "a.tar.gz")
    assert cli("prepare", "-q", dataset_id).returncode == 0
    content = env.data / "datasets" / dataset_id / "content"
    assert cli("verify", dataset_id).stdout == f"{dataset_id}: OK (1 file)\n"  # its own link is fine
    os.symlink(canary, content / "secret.txt")
    os.symlink(canary.parent, content / "outside")
    os.symlink("nowhere/at/all", content / "dangling")
    result = cli("verify", dataset_id)
    assert result.returncode == 1
    assert result.stdout == (
        f"{dataset_id}: CORRUPT: content/dangling: a symbolic link to nowhere/at/all that leads nowhere; "
        f"content/outside: a symbolic link to {canary.parent}, outside content, not what was prepared; "
        f"content/secret.txt: a symbolic link to {canary}, outside content, not what was prepared; "
        f"run 'datamaestro verify --repair {dataset_id}' to fetch again what fails\n"
    )
    repaired = cli("verify", "--repair", dataset_id)
    assert repaired.returncode == 0, repaired.stdout + repaired.stderr
    assert sorted(p.name for p in content.iterdir()) == ["a.txt", "same"]
    assert intact(canary)


# -- resume only what can be proven ----------------------------------------------------------


def test_a_stale_partial_that_nothing_can_prove_is_not_spliced(env, server, cli):
    """No published checksum and no ETag/Last-Modified: the old bytes are dropped, not resumed."""
    serve(env, server, {"a.idx": A}, checksums=False)
    stale = env.data / "downloads" / ID / "a.idx.part"
    stale.parent.mkdir(parents=True)
    stale.write_bytes(b"OLD VERSION " * 100)
    stale.with_name("a.idx.part.json").write_text(json.dumps({"url": server.url("d/blob/a.idx"), "validator": None}))
    result = cli("prepare", ID)
    assert result.returncode == 0, result.stderr
    assert prepared(env).read_bytes() == A
    assert [r for _, p, r in server.log if p == "/d/blob/a.idx"] == [None]  # no Range request


def test_ctrl_c_says_what_was_kept(env, server, cli):
    import signal
    import subprocess
    import sys
    import time

    from httpserver import Fault

    serve(env, server, {"a.idx": A})
    server.faults["/d/blob/a.idx"] = Fault(trickle=4096, pause=0.05)
    proc = subprocess.Popen(
        [sys.executable, "-m", "datamaestro", "prepare", ID], stderr=subprocess.PIPE, text=True, env=os.environ.copy(),
        preexec_fn=interruptible,
    )
    part = env.data / "downloads" / ID / "a.idx.part"
    deadline = time.monotonic() + 20
    while (not part.exists() or part.stat().st_size < 8192) and time.monotonic() < deadline:
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 130
    kept = part.stat().st_size
    assert kept >= 8192
    from datamaestro.storage import human_size

    assert err.splitlines()[-2:] == [
        f"warning: {ID}: interrupted; {human_size(kept)} of partial downloads kept in "
        f"{env.data / 'downloads' / ID}: the next run resumes",
        "datamaestro: interrupted",
    ]


def test_a_repair_that_cannot_download_advises_repairing_from_a_folder(env, server, cli, blob, tmp_path):
    """Offline from the origin, a damaged file is repaired from a copy: the advice keeps --repair (a plain
    'prepare --from DIR' trusts the sizes in place and changes nothing)."""
    from httpserver import Fault

    damaged = bytearray(A)
    damaged[5] ^= 0xFF
    (blob / "a.idx").write_bytes(bytes(damaged))
    server.faults["/d/blob/a.idx"] = Fault(errors=[404] * 10)
    result = cli("verify", "--repair", ID)
    assert result.returncode == 1
    assert f"or use 'datamaestro prepare {ID} --repair --from DIR' with a copy of its files" in result.stderr
    copies = tmp_path / "copies"
    copies.mkdir()
    (copies / "a.idx").write_bytes(A)
    (copies / "b.idx").write_bytes(B)
    assert cli("prepare", "-q", ID, "--repair", "--from", str(copies)).returncode == 0
    assert prepared(env).read_bytes() == A
    assert cli("verify", ID).stdout == f"{ID}: OK (2 files)\n"
