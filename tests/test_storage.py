"""Replacing prepared folders and files without a moment where a good copy is lost."""

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
