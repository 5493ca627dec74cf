"""What a server sent and unpacking refused is reported as what it is (an unsafe archive, a corrupt
file), not as a network failure."""

from __future__ import annotations

from test_archive import OUTSIDE, define, leftovers, member, tar_bytes


def test_an_unverified_unsafe_archive_is_called_unsafe_not_a_network_failure(env, server, cli):
    """Without a published checksum, another mirror might serve a better archive, so the refusal
    moves on to the next URL; when none is left, the error says what the archive did, and nothing
    about the network."""
    dataset_id = define(env, server, tar_bytes([member("../" + OUTSIDE, b"evil")]), "a.tar.gz", checksum=None)
    result = cli("prepare", dataset_id)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert result.stderr.splitlines()[-1] == (
        f"datamaestro: error: content of {dataset_id} was refused: {server.url('files/a.tar.gz')}: "
        "unsafe archive: member '../outside.txt' goes up with '..'; nothing was extracted"
    )
    assert "network" not in result.stderr and "--offline" not in result.stderr
    assert leftovers(env) == [] and not (env.data / OUTSIDE).exists()
    assert not list(env.data.rglob("*.part"))  # refused bytes are not kept to resume
