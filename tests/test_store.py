"""The team store with file:// and memory:// stores: push, pull, prepare through the store, refusals, leases."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from httpserver import Fault
from makefiles import gz, md5, sha256, write_module
from test_reliability import FAST, blob_module, payload

ID = "org.team.mix"
#: published files (URL path -> bytes): two gzipped (installed decompressed), two plain
ORIGINALS = {
    "/o/a.idx.gz": gz(payload(40_000, seed=1)),
    "/o/b.idx": payload(30_000, seed=2),
    "/o/c.idx": payload(20_000, seed=3),
    "/o/d.idx.gz": gz(payload(10_000, seed=4)),
}
#: resource name -> (URL path, declared checksum or None)
RESOURCES = {
    "a.idx": ("/o/a.idx.gz", f"md5:{md5(ORIGINALS['/o/a.idx.gz'])}"),
    "b.idx": ("/o/b.idx", f"sha256:{sha256(ORIGINALS['/o/b.idx'])}"),
    "c.idx": ("/o/c.idx", None),
    "d.idx": ("/o/d.idx.gz", None),
}


@pytest.fixture
def team(env, server, tmp_path):
    """org.team.mix served by the loopback origin; returns the store folder (file:// URL in config)."""
    for path, data in ORIGINALS.items():
        server.files[path] = data
    entries = [(name, server.url(path), checksum) for name, (path, checksum) in RESOURCES.items()]
    write_module(env.use_registry(), "org.team", blob_module({"mix": entries}))
    folder = tmp_path / "store"
    folder.mkdir()
    env.write_config({**FAST, "store": {"url": folder.as_uri(), "push": "auto"}})
    return folder


def origin_gets(server) -> int:
    return sum(1 for method, path, _ in server.log if method == "GET" and path.startswith("/o/"))


def installed(data: Path) -> dict[str, bytes]:
    folder = data / "datasets" / ID
    return {name: (folder / name).read_bytes() for name in RESOURCES}


def blob_path(store: Path, data: bytes) -> Path:
    return store / "blobs" / "sha256" / sha256(data)


def expected_record(server) -> dict:
    return {
        name: {"sha256": sha256(ORIGINALS[path]), "size": len(ORIGINALS[path]), "url": server.url(path), "checksum": checksum}
        for name, (path, checksum) in RESOURCES.items()
    }


def one_line_error(result) -> str:
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("datamaestro: error: "), result.stderr
    return lines[0][len("datamaestro: error: ") :]


def test_push_auto_then_a_second_machine_takes_everything_from_the_store(env, server, team, cli, tmp_path):
    first = cli("prepare", "-q", ID)
    assert first.returncode == 0, first.stderr
    assert origin_gets(server) == 4
    for data in ORIGINALS.values():  # the downloaded originals, not the gunzipped files
        assert blob_path(team, data).read_bytes() == data
    record = json.loads((team / "records" / f"{ID}.json").read_text())
    assert record["id"] == ID and record["format"] == 1
    assert record["files"] == expected_record(server)
    assert [p for p in (team / "leases").rglob("*") if p.is_file()] == []  # every lease released
    second_data = tmp_path / "machine2"
    second = cli("--data", str(second_data), "prepare", ID)
    assert second.returncode == 0, second.stderr
    assert origin_gets(server) == 4  # nothing more from the origin
    assert installed(second_data) == installed(env.data)
    manifest = json.loads((second_data / "datasets" / ID / ".manifest.json").read_text())["entries"]
    c_blob = f"{team.as_uri()}/blobs/sha256/{sha256(ORIGINALS['/o/c.idx'])}"
    # without a published checksum, the manifest (and info) say that the store's record verified it
    record = f"store record sha256:{sha256(ORIGINALS['/o/c.idx'])}"
    assert manifest["c.idx"]["source"] == f"from the store {c_blob}, verified by {record}"
    assert manifest["c.idx"]["verified_by"] == record
    assert manifest["b.idx"]["verified_by"] == RESOURCES["b.idx"][1]
    info = cli("--data", str(second_data), "info", "--json", ID)
    files = {f["name"]: f for f in json.loads(info.stdout)["files"]}
    assert files["c.idx"]["source"] == manifest["c.idx"]["source"]
    assert [p for p in (second_data / "downloads").rglob("*") if p.is_file()] == []


def test_push_cli_then_pull_into_another_data_folder(env, server, team, cli, tmp_path):
    env.write_config(FAST)  # prepared without a store: no original is kept for a push
    assert cli("prepare", "-q", ID).returncode == 0
    assert origin_gets(server) == 4 and not (env.data / "downloads" / ID).exists()
    env.write_config({**FAST, "store": {"url": team.as_uri()}})  # push: never
    pushed = cli("push", ID)
    assert pushed.returncode == 0, pushed.stderr
    assert pushed.stdout == f"{ID}: 4 uploaded, 0 already in the store ({team.as_uri()})\n"
    # the gunzipped files are fetched again to push their originals; the plain ones come from the data folder
    assert f"{ID}: a.idx is installed decompressed, not as downloaded: fetching its original again" in pushed.stderr
    assert f"{ID}: pushing b.idx from {env.data / 'datasets' / ID / 'b.idx'}" in pushed.stderr
    assert server.gets("/o/a.idx.gz") == 2 and server.gets("/o/b.idx") == 1
    assert json.loads((team / "records" / f"{ID}.json").read_text())["files"] == expected_record(server)
    again = cli("push", "--all")  # resumes: nothing left to upload
    assert again.stdout == f"{ID}: 0 uploaded, 4 already in the store ({team.as_uri()})\n"
    assert origin_gets(server) == 6
    other = tmp_path / "machine2"
    pulled = cli("--data", str(other), "pull", ID)
    assert pulled.returncode == 0, pulled.stderr
    assert pulled.stdout == f"{ID}: {other / 'datasets' / ID}\n"
    assert origin_gets(server) == 6
    assert installed(other) == installed(env.data)


def test_push_refuses_a_modified_file_and_needs_ids(env, server, team, cli):
    env.write_config({**FAST, "store": {"url": team.as_uri()}})
    assert cli("prepare", "-q", ID).returncode == 0
    (env.data / "datasets" / ID / "c.idx").write_bytes(b"changed")
    result = cli("push", "-q", ID)
    assert result.returncode == 1
    assert one_line_error(result).startswith(f"{ID}: {env.data / 'datasets' / ID / 'c.idx'} does not match its manifest")
    # what was pushed before the error is recorded: the next push resumes after it
    assert sorted(json.loads((team / "records" / f"{ID}.json").read_text())["files"]) == ["a.idx", "b.idx"]
    (env.data / "datasets" / ID / "c.idx").write_bytes(ORIGINALS["/o/c.idx"])
    resumed = cli("push", "-q", ID)
    assert resumed.stdout == f"{ID}: 2 uploaded, 2 already in the store ({team.as_uri()})\n"
    assert server.gets("/o/a.idx.gz") == 1  # its original was kept when it was prepared, with a store
    assert cli("push").returncode == 2
    unprepared = cli("--data", str(env.root / "empty"), "push", ID)
    assert one_line_error(unprepared) == f"{ID} is not prepared in {env.root / 'empty'}; run 'datamaestro prepare {ID}' first"


def test_wrong_bytes_in_the_store_are_refused_and_the_origin_used(env, server, team, cli, tmp_path):
    assert cli("prepare", "-q", ID).returncode == 0
    blob = blob_path(team, ORIGINALS["/o/c.idx"])  # same size, other bytes: only hashing can tell
    blob.write_bytes(bytes(reversed(blob.read_bytes())))
    # a consistent lie: a.idx's record entry names a blob that is what it says, but not the published file
    lie = gz(payload(40_000, seed=99))
    blob_path(team, lie).write_bytes(lie)
    record_path = team / "records" / f"{ID}.json"
    record = json.loads(record_path.read_text())
    record["files"]["a.idx"].update(sha256=sha256(lie), size=len(lie))
    record_path.write_text(json.dumps(record))
    other = tmp_path / "machine2"
    result = cli("--data", str(other), "prepare", ID)
    assert result.returncode == 0, result.stderr
    c_blob = f"{team.as_uri()}/blobs/sha256/{sha256(ORIGINALS['/o/c.idx'])}"
    assert f"warning: {ID}: c.idx: {c_blob} holds bytes whose sha256 is" in result.stderr
    assert "refused, trying the origin" in result.stderr
    a_blob = f"{team.as_uri()}/blobs/sha256/{sha256(lie)}"
    assert f"warning: {ID}: a.idx: {a_blob} does not match the published checksum {RESOURCES['a.idx'][1]}" in result.stderr
    assert server.gets("/o/a.idx.gz") == 2 and server.gets("/o/c.idx") == 2 and server.gets("/o/b.idx") == 1
    assert installed(other) == installed(env.data)
    # push: auto replaced the corrupt blob and the lying record entry with the verified downloads
    for data in ORIGINALS.values():
        assert blob_path(team, data).read_bytes() == data
    assert json.loads(record_path.read_text())["files"] == expected_record(server)
    assert cli("store", "verify").stdout == f"{ID}: OK (4 files)\n"


def test_pull_fails_clearly_when_the_store_lacks_a_file(env, server, team, cli):
    result = cli("pull", ID)
    assert result.returncode == 3
    assert one_line_error(result) == (
        f"{ID}: the store {team.as_uri()} has no copy of a.idx; push it from a machine where it is "
        f"prepared ('datamaestro push {ID}'), or run 'datamaestro prepare {ID}' to use the origin"
    )
    assert origin_gets(server) == 0
    assert not (env.data / "datasets" / ID / "a.idx").exists()


def test_pull_needs_a_store(env, server, team, cli):
    env.write_config(FAST)
    assert one_line_error(cli("pull", ID)).startswith("no store is configured")


@pytest.mark.parametrize(
    "files, problem",
    [
        ({"../../canary": {"sha256": "0" * 64, "size": 1, "url": "x", "checksum": None}}, "'../../canary' is not a resource name"),
        ({"/etc/passwd": {"sha256": "0" * 64, "size": 1, "url": "x", "checksum": None}}, "'/etc/passwd' is not a resource name"),
        ({"c.idx": {"sha256": "../../../canary", "size": 1, "url": "x", "checksum": None}}, "c.idx: 'sha256' is not 64 lowercase hex digits"),
        ({"c.idx": {"sha256": "A" * 64, "size": 1, "url": "x", "checksum": None}}, "c.idx: 'sha256' is not 64 lowercase hex digits"),
        ({"c.idx": {"sha256": "0" * 64, "size": -5, "url": "x", "checksum": None}}, "c.idx: 'size' is not a non-negative integer"),
        ({"c.idx": {"sha256": "0" * 64, "size": True, "url": "x", "checksum": None}}, "c.idx: 'size' is not a non-negative integer"),
        ({"c.idx": {"sha256": "0" * 64, "size": 1, "url": "x\x1b[2J", "checksum": None}}, "c.idx: 'url' is not a printable string"),
        ({"c.idx": {"sha256": "0" * 64, "size": 1, "url": "x", "checksum": "md5:zz"}}, "c.idx: 'checksum' is not '<algorithm>:<hex>'"),
        ([], "'files' is not an object"),
    ],
)
def test_hostile_records_are_refused_and_nothing_outside_is_touched(env, server, team, cli, files, problem):
    canary = env.root / "canary"
    canary.write_bytes(b"canary")
    before = {p.name for p in env.root.iterdir()} | {"cache", "data"}
    records = team / "records"
    records.mkdir()
    (records / f"{ID}.json").write_text(json.dumps({"format": 1, "id": ID, "files": files}))
    env.write_config({**FAST, "store": {"url": team.as_uri()}})  # push: never, so the record stays
    where = f"{team.as_uri()}/records/{ID}.json"
    pulled = cli("pull", ID)
    assert pulled.returncode == 1
    assert one_line_error(pulled) == (
        f"{ID}: a.idx: refused the record {where}: {problem}; remove it from the store and push the "
        "dataset again from a trusted machine; pull never uses the origin"
    )
    prepared = cli("prepare", "-q", ID)  # the store is refused like a bad mirror: the origin serves
    assert prepared.returncode == 0, prepared.stderr
    assert f"warning: {ID}: c.idx: refused the record {where}: {problem}" in prepared.stderr
    assert installed(env.data)["b.idx"] == ORIGINALS["/o/b.idx"]
    assert canary.read_bytes() == b"canary"
    assert {p.name for p in env.root.iterdir()} <= before


def test_store_ls_and_verify(env, server, team, cli):
    empty = cli("store", "ls")
    assert empty.returncode == 0 and empty.stdout == "" and "holds no dataset" in empty.stderr
    (team / "records").mkdir()
    (team / "records" / "..hidden.json").write_text("{}")  # not a dataset id: never read
    ignored = cli("store", "ls")
    assert ignored.stderr == f"warning: {team.as_uri()}/records/..hidden.json: not a dataset id, ignored\nthe store {team.as_uri()} holds no dataset\n"
    assert cli("prepare", "-q", ID).returncode == 0
    listing = cli("store", "ls", "--json")
    rows = json.loads(listing.stdout)
    assert [r["id"] for r in rows] == [ID] and rows[0]["files"] == expected_record(server)
    text = cli("store", "ls").stdout
    total = sum(len(d) for d in ORIGINALS.values())
    assert text.startswith(f"{ID}  {total / 1024:.1f} KiB  4 files  20")
    assert cli("store", "verify").stdout == f"{ID}: OK (4 files)\n"
    blob_path(team, ORIGINALS["/o/b.idx"]).write_bytes(b"short")
    blob_path(team, ORIGINALS["/o/c.idx"]).unlink()
    bad = cli("store", "verify", "--json")
    assert bad.returncode == 1
    [result] = json.loads(bad.stdout)
    assert result["status"] == "CORRUPT"
    assert result["problems"] == [
        f"b.idx: {team.as_uri()}/blobs/sha256/{sha256(ORIGINALS['/o/b.idx'])}: 5 bytes, recorded {len(ORIGINALS['/o/b.idx'])}",
        f"c.idx: {team.as_uri()}/blobs/sha256/{sha256(ORIGINALS['/o/c.idx'])} is missing",
    ]


def test_offline_uses_a_local_store_and_says_why_not_a_remote_one(env, server, team, cli, tmp_path):
    assert cli("prepare", "-q", ID).returncode == 0
    gets = origin_gets(server)
    other = tmp_path / "machine2"
    offline = cli("--offline", "--data", str(other), "prepare", "-q", ID)
    assert offline.returncode == 0, offline.stderr
    assert origin_gets(server) == gets and installed(other) == installed(env.data)
    assert cli("--offline", "--data", str(tmp_path / "m3"), "pull", ID).returncode == 0
    remote = cli("--offline", "--store", "s3://team-bucket/datasets", "pull", ID)
    assert remote.returncode == 2
    assert one_line_error(remote) == (
        "offline mode: the store s3://team-bucket/datasets is not a local path (file:// or a folder), "
        "so it cannot be used offline; run without --offline (and DATAMAESTRO_OFFLINE)"
    )
    prepare = cli("--offline", "--store", "s3://team-bucket/datasets", "--data", str(tmp_path / "m4"), "prepare", ID)
    assert prepare.returncode == 1
    assert one_line_error(prepare).endswith(
        "; the store s3://team-bucket/datasets is not used offline, because only a store on a local path "
        "(file:// or a folder) is"
    )


def test_a_plain_folder_is_a_store_and_the_store_option_overrides_the_config(env, server, team, cli, tmp_path):
    folder = tmp_path / "nfs"
    assert cli("--store", str(folder), "prepare", "-q", ID).returncode == 0
    assert (folder / "records" / f"{ID}.json").is_file() and not (team / "records").exists()


def test_an_expired_lease_is_taken_over(env, server, team, cli, monkeypatch):
    lease = team / "leases" / ID / "a.idx"
    lease.parent.mkdir(parents=True)
    lease.write_text('{"holder": "dead-machine:1:0", "beat": 3}')
    monkeypatch.setenv("DATAMAESTRO_STORE_LEASE", "0.5")
    result = cli("prepare", ID)
    assert result.returncode == 0, result.stderr
    assert f"{ID}: a.idx: another machine is fetching it for the store {team.as_uri()}; waiting" in result.stderr
    assert f"the lease {team.as_uri()}/leases/{ID}/a.idx was not renewed for 0.5 s: taking it over" in result.stderr
    assert not lease.exists() and server.gets("/o/a.idx.gz") == 1


def machines_at_once(server, tmp_path, count: int) -> list[str]:
    """``count`` processes, each with its own data folder, preparing org.team.mix at once.

    Checks that all succeed with the same files and that the origin served each file
    once; returns their stderr.
    """
    for path in ORIGINALS:  # slow enough that the others start while the first downloads
        server.faults[path] = Fault(trickle=4000, pause=0.05)
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "datamaestro", "--data", str(tmp_path / f"m{i}"), "prepare", ID],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=os.environ.copy(),
        )
        for i in range(count)
    ]
    results = [(p.communicate(timeout=180), p.returncode) for p in processes]
    for (_, stderr), code in results:
        assert code == 0, stderr
    gets = {path: server.gets(path) for path in ORIGINALS}
    assert gets == {path: 1 for path in ORIGINALS}, "\n".join(e for (_, e), _ in results)
    for i in range(count):
        assert installed(tmp_path / f"m{i}") == installed(tmp_path / "m0")
    return [stderr for (_, stderr), _ in results]


def test_four_data_folders_at_once_contact_the_origin_once_per_file(env, server, team, tmp_path):
    machines_at_once(server, tmp_path, 4)


def test_config_store_section(env, cli):
    env.write_config({"store": {"url": "file:///x", "push": "sometimes"}})
    result = cli("list")
    assert result.returncode == 2
    assert one_line_error(result) == f"config file {env.config}: 'store.push' must be auto or never, got 'sometimes'"
    env.write_config({"store": {"url": "file:///x", "bucket": "b"}})
    assert one_line_error(cli("list")) == f"config file {env.config}: unknown key 'store.bucket' (known: url, options, push)"


def test_settings_read_the_store_from_config_and_environment(env, monkeypatch):
    from datamaestro.config import load_settings

    env.write_config({"store": {"url": "s3://a/b", "options": {"anon": True}, "push": "auto"}})
    settings = load_settings()
    assert (settings.store_url, settings.store_options, settings.store_push) == ("s3://a/b", {"anon": True}, "auto")
    monkeypatch.setenv("DATAMAESTRO_STORE", "file:///nfs/datasets")
    monkeypatch.setenv("DATAMAESTRO_STORE_PUSH", "never")
    settings = load_settings()
    assert (settings.store_url, settings.store_push) == ("file:///nfs/datasets", "never")


# memory:// stores live in one process: these tests call the Python API


def memory_settings(env, datadir: Path, url: str, push: str = "auto"):
    from datamaestro.config import load_settings

    return dataclasses.replace(load_settings(datadir), store_url=url, store_push=push)


def test_memory_store_second_data_folder_prepares_without_the_origin(env, server, team, tmp_path):
    from datamaestro.api import prepare_dataset

    url = f"memory://team-{uuid.uuid4().hex}"
    prepare_dataset(ID, settings=memory_settings(env, tmp_path / "one", url), quiet=True)
    assert origin_gets(server) == 4
    prepare_dataset(ID, settings=memory_settings(env, tmp_path / "two", url, push="never"), quiet=True)
    assert origin_gets(server) == 4
    assert installed(tmp_path / "two") == installed(tmp_path / "one")


def test_the_team_store_takes_a_verified_download_then_serves_it(env, tmp_path):
    from datamaestro.download.context import PrepareContext
    from datamaestro.download.install import team_store
    from datamaestro.hashing import Checksum
    from datamaestro.store.originals import TeamStore, Wanted
    from datamaestro.store.transfer import Original

    data = payload(5000, seed=9)
    declared = Checksum.parse(f"md5:{md5(data)}")
    original = Original(sha256(data), len(data), "http://origin/x.bin", {"sha256": sha256(data), "md5": md5(data)})
    plain = memory_settings(env, tmp_path / "a", "", push="never")
    assert team_store(PrepareContext("org.x", dataclasses.replace(plain, store_url=None))) is None

    def wanted(machine: str) -> Wanted:
        return Wanted("org.x", "x.bin", tmp_path / machine / "downloads" / "x.bin.part", declared)

    url = f"memory://unit-{uuid.uuid4().hex}"
    first, asked = TeamStore(memory_settings(env, tmp_path / "b", url), False, True), wanted("b")
    assert first.pushes and not first.only
    assert first.copy(asked, only=False) is None  # an empty store
    asked.dest.parent.mkdir(parents=True)
    asked.dest.write_bytes(data)
    with first.turn(asked):
        first.push(asked, original)
    second, served_to = TeamStore(memory_settings(env, tmp_path / "c", url), False, True), wanted("c")
    assert second.copy(served_to, only=False) == dataclasses.replace(
        original, store=f"{url}/blobs/sha256/{sha256(data)}", verified=f"md5:{md5(data)}"
    )
    assert served_to.dest.read_bytes() == data
    # a download that does not match what the definition declares is never pushed
    other = f"memory://unit-{uuid.uuid4().hex}"
    third, wrong = TeamStore(memory_settings(env, tmp_path / "d", other), False, True), wanted("d")
    wrong.dest.parent.mkdir(parents=True)
    wrong.dest.write_bytes(data)
    third.push(wrong, dataclasses.replace(original, digests={"sha256": sha256(data), "md5": "0" * 32}))
    assert third.copy(wanted("d"), only=False) is None


def test_the_team_store_refuses_a_destination_outside_the_data_folder(env, tmp_path):
    from datamaestro.errors import UnsafePathError
    from datamaestro.store.originals import TeamStore, Wanted

    settings = memory_settings(env, tmp_path / "data", f"memory://x-{uuid.uuid4().hex}")
    with pytest.raises(UnsafePathError):
        TeamStore(settings, False, True).copy(Wanted("org.x", "x.bin", tmp_path / "elsewhere" / "x.bin"), False)


def test_archives_are_stored_as_published_and_extracted_where_pulled(env, server, cli, tmp_path):
    import yaml
    from test_archive import define, good_members, tar_bytes

    archive = tar_bytes(good_members())
    dataset = define(env, server, archive, "pkg.tar.gz")
    store = tmp_path / "store"
    config = yaml.safe_load(env.config.read_text())
    env.write_config({**config, "store": {"url": str(store)}})
    assert cli("prepare", "-q", dataset).returncode == 0
    pushed = cli("push", dataset)
    assert pushed.returncode == 0, pushed.stderr
    kept = env.data / "downloads" / dataset / "content.original"  # kept by prepare, since a store is configured
    assert f"{dataset}: pushing the original of content from {kept}, kept when it was prepared" in pushed.stderr
    assert server.gets("/files/pkg.tar.gz") == 1 and not kept.exists()
    assert blob_path(store, archive).read_bytes() == archive
    other = tmp_path / "machine2"
    assert cli("--data", str(other), "pull", dataset).returncode == 0
    assert server.gets("/files/pkg.tar.gz") == 1
    assert (other / "datasets" / dataset / "content" / "sub" / "b.txt").read_bytes() == b"beta"
    # the manifest of an extracted archive keeps the archive's sha256: a blob already stored is not fetched again
    (store / "records" / f"{dataset}.json").unlink()
    again = cli("push", "-q", dataset)
    assert again.stdout == f"{dataset}: 0 uploaded, 1 already in the store ({store})\n"
    assert server.gets("/files/pkg.tar.gz") == 1 and (store / "records" / f"{dataset}.json").is_file()
