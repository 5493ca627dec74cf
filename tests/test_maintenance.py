"""verify, list --prepared, rm, clean, and prepare --from DIR [--no-verify]."""

from __future__ import annotations

import hashlib
import json

import pytest
from httpserver import Fault
from makefiles import md5, write_module
from test_reliability import FAST, ID, blob_module, partial, payload, prepared, serve

from datamaestro.storage import DataFolder, human_size

A, B = payload(), payload(5000, seed=1)


@pytest.fixture
def blob(env, server, cli):
    """org.rel.blob (a.idx, b.idx) prepared from the loopback server."""
    serve(env, server, {"a.idx": A, "b.idx": B})
    assert cli("prepare", "-q", ID).returncode == 0
    return env.data / "datasets" / ID


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# -- verify -----------------------------------------------------------------------------------


def test_verify_ok_corrupt_missing(env, server, cli, blob):
    result = cli("verify")
    assert (result.returncode, result.stdout, result.stderr) == (0, f"{ID}: OK (2 files)\n", "")
    damaged = bytearray(A)
    damaged[1000] ^= 1
    (blob / "a.idx").write_bytes(bytes(damaged))
    result = cli("verify", ID)
    assert result.returncode == 1
    assert result.stdout == (
        f"{ID}: CORRUPT: a.idx: sha256:{sha(bytes(damaged))}, recorded sha256:{sha(A)}; "
        f"run 'datamaestro verify --repair {ID}' to fetch again what fails\n"
    )
    (blob / "a.idx").write_bytes(A[:10])
    assert f"CORRUPT: a.idx: 10 bytes, recorded {len(A)};" in cli("verify").stdout
    repaired = cli("verify", "--repair", ID)
    assert (repaired.returncode, repaired.stdout) == (0, f"{ID}: OK (repaired, 2 files)\n")
    assert server.gets("/d/blob/a.idx") == 2 and server.gets("/d/blob/b.idx") == 1  # a.idx only
    assert cli("verify").stdout == f"{ID}: OK (2 files)\n"
    (blob / "b.idx").unlink()
    result = cli("verify", "--json")
    assert result.returncode == 1
    assert json.loads(result.stdout) == [
        {"id": ID, "status": "MISSING", "files": 2, "problems": ["b.idx: missing"], "unverified": 0}
    ]
    assert cli("verify", ID).stdout == f"{ID}: MISSING: b.idx: missing; run 'datamaestro prepare {ID}'\n"
    assert cli("prepare", "-q", ID).returncode == 0  # fetches b.idx only
    assert server.gets("/d/blob/b.idx") == 2 and server.gets("/d/blob/a.idx") == 2
    assert cli("verify").returncode == 0


def test_verify_unprepared_and_unknown(env, server, cli):
    serve(env, server, {"a.idx": A})
    result = cli("verify", ID)
    assert result.returncode == 1
    assert result.stdout == f"{ID}: MISSING: not prepared; run 'datamaestro prepare {ID}'\n"
    result = cli("verify", "org.rel.nope")
    assert result.returncode == 2
    assert result.stderr.startswith("datamaestro: error: unknown dataset 'org.rel.nope'")
    result = cli("verify")
    assert (result.returncode, result.stdout) == (0, "")
    assert result.stderr == f"no prepared dataset in {env.data}\n"


# -- list --prepared --------------------------------------------------------------------------


def test_list_prepared_with_sizes(env, cli, blob):
    size = sum(p.stat().st_size for p in blob.iterdir())
    result = cli("list", "--prepared")
    assert result.returncode == 0, result.stderr
    assert result.stdout == (
        f"{ID}  {human_size(size):>10}  2 files\n1 prepared, {human_size(size)} in {env.data}\n"
    )
    rows = json.loads(cli("list", "--prepared", "--json").stdout)
    assert rows == [
        {"id": ID, "prepared": True, "size": size, "files": 2, "resources": 2, "ready": 2, "missing": [],
         "damaged": [], "path": str(blob)}
    ]
    everything = [line.split() for line in cli("list").stdout.splitlines()]
    assert [ID, *human_size(size).split(), "2", "files"] in everything
    assert ["com.lecun.mnist", "-", "not", "prepared"] in everything


# -- rm ---------------------------------------------------------------------------------------


def test_rm_asks_then_removes(env, cli, blob):
    size = sum(p.stat().st_size for p in blob.iterdir())
    no = cli("rm", ID, input="n\n")
    assert no.returncode == 1
    assert no.stderr == f"remove {blob} ({human_size(size)})? [y/N] \nnothing was removed\n"
    assert prepared(env).read_bytes() == A
    eof = cli("rm", ID, input="")
    assert eof.returncode == 1 and prepared(env).exists()
    yes = cli("rm", ID, input="y\n")
    assert yes.returncode == 0, yes.stderr
    assert yes.stdout == f"removed {blob} ({human_size(size)})\n"
    assert not blob.exists()
    again = cli("rm", "--yes", ID)
    assert again.returncode == 2
    assert again.stderr == f"datamaestro: error: {ID} is not prepared in {env.data}; nothing to remove\n"


def test_rm_yes_removes_partial_downloads_too(env, server, cli):
    serve(env, server, {"a.idx": A})
    server.faults["/d/blob/a.idx"] = Fault(drop_after=1000, ignore_range=True)
    assert cli("prepare", ID).returncode == 1
    assert partial(env).stat().st_size == 1000
    result = cli("rm", "-y", ID)
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"removed {env.data / 'downloads' / ID} (1.0 KiB)\n"
    assert not (env.data / "downloads" / ID).exists()


def test_rm_refuses_while_preparing(env, cli, blob):
    with DataFolder(env.data).lock(ID):
        result = cli("rm", "--yes", ID)
    assert result.returncode == 1
    assert result.stderr == (
        f"datamaestro: error: {ID} is being prepared by another process; nothing of it was "
        "removed, try again when it is done\n"
    )
    assert prepared(env).read_bytes() == A


# -- clean ------------------------------------------------------------------------------------


def test_clean_removes_partials_and_orphans(env, server, cli, blob):
    (blob / ".a.idx.x1y2.tmp").write_bytes(b"t" * 10)  # an atomic write cut short
    (blob / "stray.bin").write_bytes(b"s" * 20)  # recorded nowhere
    part = partial(env, "c.idx")
    part.parent.mkdir(parents=True)
    part.write_bytes(b"p" * 30)
    note = part.with_name("c.idx.part.json")
    note.write_text("{}")
    result = cli("clean", input="n\n")
    assert result.returncode == 1
    assert part.exists()
    result = cli("clean", "--yes")
    assert result.returncode == 0, result.stderr
    removed = sorted(result.stdout.splitlines())
    assert removed == sorted([
        f"removed {blob / '.a.idx.x1y2.tmp'} (10 B)",
        f"removed {blob / 'stray.bin'} (20 B)",
        f"removed {part} (30 B)",
        f"removed {note} (2 B)",
    ])
    assert list((env.data / "locks").iterdir()) == []  # lock files that no process holds go too
    assert result.stderr.splitlines()[-1] == "freed 62 B"
    assert not (env.data / "downloads" / ID).exists()
    assert cli("verify").stdout == f"{ID}: OK (2 files)\n"  # the prepared files are untouched
    nothing = cli("clean", "--yes")
    assert (nothing.returncode, nothing.stdout) == (0, "")
    assert nothing.stderr == f"nothing to clean in {env.data}\n"


def test_clean_skips_a_dataset_being_prepared(env, cli, blob):
    (blob / "stray.bin").write_bytes(b"s")
    with DataFolder(env.data).lock(ID):
        result = cli("clean", "--yes")
    assert result.returncode == 0
    assert result.stderr.splitlines()[0] == f"skipped {ID}: another process is preparing it"
    assert (blob / "stray.bin").exists()


# -- prepare --from DIR -----------------------------------------------------------------------


def local_module(env, checksums: dict[str, str]) -> None:
    """org.rel.blob with URLs nobody serves: --from is the only way in."""
    files = [(n, f"http://127.0.0.1:9/pub/{n}", c) for n, c in checksums.items()]
    write_module(env.use_registry(), "org.rel", blob_module({"blob": files}))
    env.write_config(FAST)


def test_prepare_from_local_copies(env, cli, tmp_path):
    local_module(env, {"a.idx": f"md5:{md5(A)}", "b.idx": f"md5:{md5(B)}"})
    copies = tmp_path / "copies"
    copies.mkdir()
    (copies / "a.idx").write_bytes(A)
    (copies / "b.idx").write_bytes(B)
    result = cli("--offline", "prepare", ID, "--from", str(copies))
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["path"] == str(prepared(env))
    assert prepared(env, "b.idx").read_bytes() == B
    entry = DataFolder(env.data).manifest(ID).entries["a.idx"]
    assert entry.to_json() == {
        "kind": "file", "size": len(A), "sha256": sha(A), "url": "http://127.0.0.1:9/pub/a.idx",
        "source": str(copies / "a.idx"), "verified_by": f"md5:{md5(A)}",
        "original": {"size": len(A), "sha256": sha(A)},
    }
    assert (copies / "a.idx").read_bytes() == A  # the copies are left as they were


def test_prepare_from_mismatching_copies_names_each_file(env, cli, tmp_path):
    local_module(env, {"a.idx": f"md5:{md5(A)}", "b.idx": f"md5:{md5(B)}"})
    copies = tmp_path / "copies"
    copies.mkdir()
    (copies / "a.idx").write_bytes(b"not a")
    (copies / "b.idx").write_bytes(b"not b")
    result = cli("prepare", ID, "--from", str(copies))
    assert result.returncode == 1
    assert result.stderr.splitlines()[-3:] == [
        f"datamaestro: error: {ID}: 2 file(s) from {copies} not used "
        "(they were not kept; pass --no-verify to accept them anyway):",
        f"  the copy of a.idx of {ID} does not match: {copies / 'a.idx'}: "
        f"expected md5:{md5(A)}, got md5:{md5(b'not a')}",
        f"  the copy of b.idx of {ID} does not match: {copies / 'b.idx'}: "
        f"expected md5:{md5(B)}, got md5:{md5(b'not b')}",
    ]
    assert not prepared(env).exists() and not prepared(env, "b.idx").exists()

    accepted = cli("prepare", ID, "--from", str(copies), "--no-verify")
    assert accepted.returncode == 0, accepted.stderr
    for name, data, wanted in (("a.idx", b"not a", A), ("b.idx", b"not b", B)):
        note = f"expected md5:{md5(wanted)}, got md5:{md5(data)}"
        assert (
            f"warning: {ID}: {name} ({copies / name}) does not match its published checksum "
            f"({note}); accepted because of --no-verify"
        ) in accepted.stderr.splitlines()
        assert prepared(env, name).read_bytes() == data
        entry = DataFolder(env.data).manifest(ID).entries[name]
        assert entry.verified_by is None
        assert entry.no_verify == f"accepted with --no-verify: {note}"
    assert cli("verify").stdout == f"{ID}: OK (2 files, 2 accepted with --no-verify)\n"


def test_prepare_from_missing_copy_and_usage_errors(env, cli, tmp_path):
    local_module(env, {"a.idx": f"md5:{md5(A)}", "b.idx": f"md5:{md5(B)}"})
    copies = tmp_path / "copies"
    copies.mkdir()
    (copies / "a.idx").write_bytes(A)
    result = cli("prepare", ID, "--from", str(copies))
    assert result.returncode == 1
    assert result.stderr.splitlines()[-2:] == [
        f"datamaestro: error: {ID}: 1 file(s) from {copies} not used (they were not kept):",
        f"  no usable copy of b.idx of {ID}: {copies / 'b.idx'}: not found",
    ]
    assert prepared(env).read_bytes() == A  # the good copy was taken
    bad = cli("prepare", ID, "--no-verify")
    assert (bad.returncode, bad.stderr) == (
        2, "datamaestro: error: --no-verify only applies to local copies: use it with --from DIR\n"
    )
    missing = cli("prepare", ID, "--from", str(tmp_path / "nope"))
    assert (missing.returncode, missing.stderr) == (
        2, f"datamaestro: error: --from {tmp_path / 'nope'}: no such folder\n"
    )


def test_verify_and_clean_an_extracted_archive(env, server, cli):
    from test_archive import define, good_members, tar_bytes

    dataset_id = define(env, server, tar_bytes(good_members()), "a.tar.gz")
    assert cli("prepare", "-q", dataset_id).returncode == 0
    assert cli("verify").stdout == f"{dataset_id}: OK (1 file)\n"
    assert cli("clean", "--yes").stderr == f"nothing to clean in {env.data}\n"  # the folder is recorded
    content = env.data / "datasets" / dataset_id / "content"
    (content / "sub" / "b.txt").unlink()
    result = cli("verify", dataset_id)
    assert result.returncode == 1
    assert result.stdout == (
        f"{dataset_id}: MISSING: content/sub/b.txt: missing; run 'datamaestro prepare {dataset_id}'\n"
    )
    (content / "a.txt").write_text("changed")
    result = cli("verify", dataset_id)
    assert result.stdout.startswith(f"{dataset_id}: CORRUPT: content/a.txt: 7 bytes, recorded ")
    assert cli("prepare", "-q", dataset_id).returncode == 0  # the quick check notices sizes and repairs
    assert cli("verify").stdout == f"{dataset_id}: OK (1 file)\n"


def test_recompressed_local_copy_is_verified_by_its_data(env, cli, tmp_path):
    """Like Debian's Fashion-MNIST: other gzip bytes, same data; --no-verify changes nothing then."""
    import gzip

    raw = payload(20_000, seed=3)
    published = gzip.compress(raw, mtime=0)
    copy = gzip.compress(raw, compresslevel=1, mtime=12345)
    assert md5(copy) != md5(published)
    write_module(env.use_registry(), "org.rel", f'''
from datamaestro.data.tensor import IDX
from datamaestro.download.single import filedownloader
from datamaestro.definitions import dataset

@filedownloader("x.idx", "http://127.0.0.1:9/pub/x.gz", checksum="md5:{md5(published)}",
                data_checksum="sha256:{sha(raw)}")
@dataset(IDX, id="blob")
def blob(x):
    return {{"path": x}}
''')
    env.write_config(FAST)
    copies = tmp_path / "copies"
    copies.mkdir()
    (copies / "x.gz").write_bytes(copy)
    for extra in ([], ["--force", "--no-verify"]):
        result = cli("prepare", ID, "--from", str(copies), *extra)
        assert result.returncode == 0, result.stderr
        assert "warning" not in result.stderr
        assert prepared(env, "x.idx").read_bytes() == raw
        entry = DataFolder(env.data).manifest(ID).entries["x.idx"]
        assert entry.verified_by == f"data sha256:{sha(raw)}" and entry.no_verify is None


def test_the_local_copy_of_a_url_is_one_file_name_even_with_escaped_slashes():
    from datamaestro.download.fetching import file_name

    assert file_name("https://example.org/d/%2F..%2F..%2Fetc%2Fpasswd") == "passwd"
    assert file_name("https://example.org/d/train%20images.gz?x=1") == "train images.gz"
