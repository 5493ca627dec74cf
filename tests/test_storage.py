"""Replacing prepared folders and files without a moment where a good copy is lost."""

import os
import stat

import pytest

from datamaestro.storage import atomic_file, replace_folder


def test_replace_folder_swaps_and_leaves_no_temporaries(tmp_path):
    dest, new = tmp_path / "data", tmp_path / "new"
    dest.mkdir()
    (dest / "old.txt").write_text("old")
    new.mkdir()
    (new / "new.txt").write_text("new")
    replace_folder(new, dest)
    assert sorted(p.name for p in dest.iterdir()) == ["new.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data"]


def test_replace_folder_restores_the_old_copy_when_the_new_cannot_move(tmp_path):
    dest = tmp_path / "data"
    dest.mkdir()
    (dest / "old.txt").write_text("old")
    with pytest.raises(FileNotFoundError):
        replace_folder(tmp_path / "missing", dest)
    assert (dest / "old.txt").read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data"]


def test_atomic_file_keeps_the_old_file_on_failure(tmp_path):
    dest = tmp_path / "f.bin"
    dest.write_bytes(b"good")
    with pytest.raises(RuntimeError):
        with atomic_file(dest) as f:
            f.write(b"half")
            raise RuntimeError("interrupted")
    assert dest.read_bytes() == b"good"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f.bin"]


@pytest.fixture
def umask_027():
    from datamaestro import storage

    previous = os.umask(0o027)
    storage.umask.cache_clear()
    yield
    os.umask(previous)
    storage.umask.cache_clear()


def test_written_files_and_folders_follow_the_umask(tmp_path, umask_027):
    """Prepared data is shared: not the 0600/0700 of temporary files."""
    with atomic_file(tmp_path / "f.bin") as f:
        f.write(b"data")
    assert stat.S_IMODE((tmp_path / "f.bin").stat().st_mode) == 0o640
    new = tmp_path / "new"
    new.mkdir(mode=0o700)
    replace_folder(new, tmp_path / "folder")
    assert stat.S_IMODE((tmp_path / "folder").stat().st_mode) == 0o750
