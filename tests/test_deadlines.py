"""Dead and hostile servers cost seconds, not minutes: deadlines, stall rule, mirror memory.

Servers on 127.0.0.1 that blackhole (connect never completes), accept and
never answer, trickle a byte at a time, lie about their length, or put
terminal escape codes in their reason phrase. Timeouts are made small by each
test. What happened is asserted from what the server saw (its request log) and
from the error; a wall-clock bound is asserted only where a deadline is the
behaviour under test, and then generously (a loaded 2-core machine).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from httpserver import Blackhole, Fault, FileServer
from test_reliability import ID, last_line, payload, serve

from datamaestro.download import progress
from datamaestro.download.transport import Interrupted, Policy, TransferError, fetch, health, kept_bytes
from datamaestro.download.transport.health import MirrorHealth, mirror
from datamaestro.errors import DownloadError

#: deadlines small enough for fast tests
QUICK = Policy(retries=3, backoff=0.05, connect_timeout=0.5, read_timeout=0.5,
               stall_bytes=1000, stall_seconds=1.0)


@pytest.fixture
def blackhole():
    hole = Blackhole()
    yield hole
    hole.close()


def timed_failure(url: str, dest: Path, policy: Policy = QUICK, **options) -> tuple[TransferError, float]:
    start = time.monotonic()
    with pytest.raises(TransferError) as caught:
        fetch(url, dest, ["sha256"], "f", True, policy, **options)
    return caught.value, time.monotonic() - start


# -- one URL: each failure mode ends by its deadline, retried once ----------------------------


def test_blackholed_host_fails_by_the_connect_timeout(env, blackhole):
    error, took = timed_failure(blackhole.base + "f", env.root / "f.part")
    assert str(error) == "timed out connecting (0.5 s), tried 2 times"
    # the deadline under test: two connect timeouts (2 x 0.5 s) and a backoff
    assert error.kind == "timeout" and 1.0 <= error.elapsed <= took < 20


def test_server_that_never_answers_fails_by_the_read_timeout(env, server):
    server.files["/f"] = payload()
    server.faults["/f"] = Fault(delay=3600)
    error, took = timed_failure(server.url("f"), env.root / "f.part")
    assert str(error) == "timed out (no data for 0.5 s), tried 2 times"
    assert error.kind == "timeout" and took < 20  # the deadline under test: 2 x 0.5 s, not an hour
    assert server.gets("/f") == 2


def test_trickling_server_fails_by_the_stall_rule(env, server):
    """A byte every 0.2 s never trips the read timeout, but is far below 1000 bytes a second."""
    server.files["/f"] = payload()
    server.faults["/f"] = Fault(trickle=1, pause=0.2)
    error, took = timed_failure(server.url("f"), env.root / "f.part")
    assert str(error).startswith("stalled (only ")
    assert str(error).endswith("less than 1000 in 1 s), tried 2 times")
    assert error.kind == "stall" and took < 30  # the deadline under test: 2 stall windows of 1 s
    assert server.gets("/f") == 2  # the few bytes of a stalled try are not progress


def test_server_trickling_its_headers_fails_by_the_header_deadline(env, server):
    """A header byte every 0.1 s never trips the read timeout, and the body's stall rule never
    starts: the headers must be complete within 1.5 read timeouts."""
    server.files["/f"] = payload()
    server.faults["/f"] = Fault(header_pause=0.1)
    error, took = timed_failure(server.url("f"), env.root / "f.part")
    assert str(error) == "no complete response headers within 0.75 s (the server sends them too slowly), tried 2 times"
    assert error.kind == "timeout" and 1.5 <= took < 20  # the deadline under test: 2 x 0.75 s
    assert server.gets("/f") == 2


def test_the_header_deadline_holds_through_an_http_proxy(env, server, monkeypatch):
    """With HTTP_PROXY set (as on many clusters) requests go through another connection pool."""
    server.files["/f"] = payload()
    server.faults["/f"] = Fault(header_pause=0.1)
    monkeypatch.setenv("HTTP_PROXY", server.base)  # the test server answers as the proxy too
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    error, _ = timed_failure("http://origin.invalid/f", env.root / "f.part")
    assert str(error) == "no complete response headers within 0.75 s (the server sends them too slowly), tried 2 times"
    assert server.log[-1][:2] == ("GET", "/f") and server.gets("/f") == 2


def test_body_shorter_than_its_length_is_resumed(env, server):
    """A server announcing more than it sends: the missing end is asked for again."""
    data = payload()
    server.files["/f"] = data
    server.faults["/f"] = Fault(short_by=1000)
    dest = env.root / "f.part"
    with pytest.raises(TransferError, match=r"^connection closed early after 261144 bytes, tried 2 times$"):
        fetch(server.url("f"), dest, [], "f", True, Policy(retries=0, backoff=0.01))
    assert dest.stat().st_size == len(data) - 1000
    del server.faults["/f"]
    fetch(server.url("f"), dest, [], "f", True, Policy(retries=0, backoff=0.01))
    assert server.log[-1] == ("GET", "/f", "bytes=261144-") and dest.read_bytes() == data


def test_failures_carry_how_long_they_took(env, blackhole):
    policy = Policy(retries=1, backoff=0.01, connect_timeout=1.2, read_timeout=1)
    error, took = timed_failure(blackhole.base + "f", env.root / "f.part", policy)
    assert str(error) == "timed out connecting (1.2 s), tried 2 times"
    assert error.elapsed is not None and 2.4 <= error.elapsed <= took


# -- what a server says is printed safely ------------------------------------------------------


def test_escape_codes_in_the_reason_phrase_are_not_printed(env, server, cli):
    data = payload()
    serve(env, server, {"a.idx": data}, config={"retries": 0})
    server.faults["/d/blob/a.idx"] = Fault(errors=[404], reason="Gone\x1b[2J\x1b]0;owned\x07")
    result = cli("prepare", ID)
    assert result.returncode == 1
    assert "\x1b" not in result.stderr and "\x07" not in result.stderr
    assert "HTTP 404 Gone\\x1b[2J\\x1b]0;owned\\x07" in last_line(result)


# -- resume only what can be proven to be the same file ---------------------------------------


def stale_partial(env, server) -> tuple[bytes, Path]:
    data = payload()
    server.files["/f"] = data
    dest = env.root / "f.part"
    dest.write_bytes(b"\0" * 1000)  # from some earlier download: maybe another version
    return data, dest


def test_stale_partial_without_validator_restarts_from_zero(env, server):
    data, dest = stale_partial(env, server)
    transfer = fetch(server.url("f"), dest, ["sha256"], "f", True, QUICK,
                     resumable_without_validator=False)
    assert server.log == [("GET", "/f", None)] and dest.read_bytes() == data
    assert transfer.resumed_from == 0


def test_stale_partial_is_resumed_when_a_checksum_will_be_checked(env, server):
    _, dest = stale_partial(env, server)
    fetch(server.url("f"), dest, [], "f", True, QUICK, resumable_without_validator=True)
    assert server.log == [("GET", "/f", "bytes=1000-")]


def test_stale_partial_with_validator_is_resumed_with_if_range(env, server):
    data, dest = stale_partial(env, server)
    dest.write_bytes(data[:1000])
    server.faults["/f"] = Fault(etag='"v1"')
    transfer = fetch(server.url("f"), dest, ["sha256"], "f", True, QUICK, validator='"v1"',
                     resumable_without_validator=False)
    assert server.log == [("GET", "/f", "bytes=1000-")] and transfer.resumed_from == 1000
    assert dest.read_bytes() == data


# -- Ctrl-C: how much was kept ------------------------------------------------------------------


def test_cancelled_download_says_how_many_bytes_it_kept(env, server):
    server.files["/f"] = payload()
    server.faults["/f"] = Fault(trickle=16384, pause=0.1)
    dest = env.root / "f.part"
    with progress.dataset("org.x", files=1, quiet=True) as display:
        timer = threading.Timer(0.5, display.cancel)
        timer.start()
        with pytest.raises(Interrupted) as caught:
            fetch(server.url("f"), dest, [], "f", True, QUICK, expected_size=len(payload()))
    assert isinstance(caught.value, KeyboardInterrupt)
    assert 0 < caught.value.kept == dest.stat().st_size == kept_bytes(dest) < len(payload())
    assert caught.value.total == len(payload()) and caught.value.path == dest


# -- mirror memory ------------------------------------------------------------------------------


def test_mirror_is_scheme_host_and_port():
    assert mirror("http://Example.org/a/b") == "http://example.org:80"
    assert mirror("https://example.org:8443/x") == "https://example.org:8443"


def try_in_order(memory: MirrorHealth, urls: list[str], dest: Path) -> str:
    """The URL loop as the install pipeline runs it; returns the URL that worked."""
    errors = []
    for url in memory.order(urls):
        try:
            fetch(url, dest, [], "f", True, QUICK, health=memory)
            return url
        except DownloadError as e:
            errors.append(str(e))
    raise DownloadError("; ".join(errors))


def test_dead_first_mirror_is_tried_once_per_run(env, server):
    """Four files whose first mirror accepts and never answers: only the first file asks it."""
    dead = FileServer().start()
    try:
        files = {f"f{i}": payload(50_000, seed=i) for i in range(4)}
        for name, data in files.items():
            server.files[f"/{name}"] = dead.files[f"/{name}"] = data
            dead.faults[f"/{name}"] = Fault(delay=3600)
        memory = MirrorHealth(env.data / "locks" / "mirrors.json")
        for name in files:
            used = try_in_order(memory, [dead.url(name), server.url(name)], env.root / name)
            assert used == server.url(name)
        assert [p for _, p, _ in dead.log] == ["/f0", "/f0"]  # tried (and retried once) for f0 only
        assert sorted(p for _, p, _ in server.log) == ["/f0", "/f1", "/f2", "/f3"]
        assert memory.dead(dead.base) and not memory.dead(server.base)
    finally:
        dead.stop()


def test_dead_mirror_is_skipped_by_a_waiting_process(env, blackhole):
    """A failure recorded while another process waited is not repeated by it (shared file)."""
    shared = env.data / "locks" / "mirrors.json"
    waiter = MirrorHealth(shared)  # this process started before the failure (as a waiter on the lock)
    MirrorHealth(shared).failed(blackhole.base + "f", "timed out connecting (5 s)")
    url = blackhole.base + "f"
    with pytest.raises(TransferError, match=r"^skipped: http://127\.0\.0\.1:\d+ failed 0 s ago "
                                            r"\(timed out connecting \(5 s\)\)$"):
        fetch(url, env.root / "f.part", [], "f", True, QUICK, health=waiter)  # (no connection tried)
    assert not (env.root / "f.part").exists()
    # what counts is when the process started, not when it first looked (after getting the lock)
    assert MirrorHealth(shared).skip(url).startswith("skipped: ")
    later = MirrorHealth(shared, started=time.time())  # a run started after the failure tries it, last
    assert later.skip(url) is None
    assert later.order([url, "http://other.invalid/f"]) == ["http://other.invalid/f", url]


def test_success_forgets_the_failure(env, server):
    shared = env.data / "locks" / "mirrors.json"
    memory = MirrorHealth(shared)
    server.files["/f"] = b"x"
    memory.failed(server.url("f"), "timed out (no data for 20 s)")
    assert json.loads(shared.read_text())[mirror(server.base)]["reason"] == "timed out (no data for 20 s)"
    memory.succeeded(server.url("f"))
    assert not memory.dead(server.url("f")) and json.loads(shared.read_text()) == {}
    assert not MirrorHealth(shared).dead(server.url("f"))


@pytest.mark.parametrize("content", [
    b"\xff\xfe not json", b"[1, 2]", b'{"http://h:80": {"at": "soon", "reason": 1}}',
    b'{"http://h:80": {"at": NaN, "reason": "x"}}', b"{" * 100_000,
])
def test_corrupt_shared_file_is_ignored(env, content):
    shared = env.data / "locks" / "mirrors.json"
    shared.parent.mkdir(parents=True)
    shared.write_bytes(content)
    memory = MirrorHealth(shared)
    assert memory.order(["http://h/a", "http://g/b"]) == ["http://h/a", "http://g/b"]
    assert memory.skip("http://h/a") is None
    memory.failed("http://h/a", "timed out")  # and it is replaced by a valid one
    assert list(json.loads(shared.read_text())) == ["http://h:80"]


def test_old_failures_expire(env):
    shared = env.data / "locks" / "mirrors.json"
    shared.parent.mkdir(parents=True)
    shared.write_text(json.dumps({"http://h:80": {"at": time.time() - 500, "reason": "x"}}))
    assert not MirrorHealth(shared).dead("http://h/a")


def test_one_memory_per_data_folder(env):
    path = env.data / "locks" / "mirrors.json"
    assert health.shared(path) is health.shared(path) is health.for_data_folder(env.data)


# -- progress of concurrent downloads on a terminal ---------------------------------------------

CONCURRENT = """
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from datamaestro.download import progress
from datamaestro.download.transport import Policy, fetch
base, folder = sys.argv[1], Path(sys.argv[2])
names = ["a", "b", "c", "d"]
with progress.dataset("org.test.four", files=4, quiet=False) as display:
    def one(name):
        fetch(base + name, folder / name, ["sha256"], "org.test.four: " + name, False, Policy())
        display.file_done()
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(one, names))
print("done")
"""


def test_concurrent_downloads_draw_one_bar_each_and_a_total(env, server):
    import fcntl
    import pty
    import struct
    import termios

    for name in "abcd":
        server.files[f"/{name}"] = payload(300_000, seed=ord(name))
        server.faults[f"/{name}"] = Fault(trickle=30_000, pause=0.05)
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))
    process = subprocess.Popen(
        [sys.executable, "-c", CONCURRENT, server.base, str(env.root)],
        stdout=subprocess.PIPE, stderr=slave, env=os.environ.copy(),
    )
    os.close(slave)
    chunks = []
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:
            break
        if not chunk:
            break
        chunks.append(chunk)
    assert process.wait(timeout=60) == 0
    os.close(master)
    terminal = b"".join(chunks).decode()
    assert process.stdout.read() == b"done\n"
    assert "org.test.four: 0/4 files: " in terminal and "org.test.four: 4/4 files: " in terminal
    assert ": :" not in terminal
    for name in "abcd":
        assert f"org.test.four: {name}:" in terminal
    assert server.most_active >= 2  # the four files were downloaded at the same time
    for name in "abcd":
        assert (env.root / name).read_bytes() == server.files[f"/{name}"]


def test_a_failure_from_a_clock_far_ahead_blocks_nothing(env):
    """A machine whose clock is 5 minutes ahead shares the folder: its failures are not trusted."""
    shared = env.data / "locks" / "mirrors.json"
    shared.parent.mkdir(parents=True)
    shared.write_text(json.dumps({"http://h:80": {"at": time.time() + 300, "reason": "x"}}))
    memory = MirrorHealth(shared, started=time.time() - 10)
    assert not memory.dead("http://h/a") and memory.skip("http://h/a") is None
    memory.failed("http://g/b", "timed out")  # and it is dropped from the file
    assert list(json.loads(shared.read_text())) == ["http://g:80"]


def test_a_slightly_fast_clock_counts_as_now(env):
    shared = env.data / "locks" / "mirrors.json"
    shared.parent.mkdir(parents=True)
    shared.write_text(json.dumps({"http://h:80": {"at": time.time() + 5, "reason": "x"}}))
    memory = MirrorHealth(shared, started=time.time() - 10)
    assert memory.skip("http://h/a") == "skipped: http://h:80 failed 0 s ago (x)"


START = "from datamaestro.download.transport.health import process_start; print(repr(process_start()))"


def test_the_process_start_is_known_to_the_hundredth():
    """A run started just after another's failure must not count it as its own (it tries that
    mirror, last): its start may not be rounded down to the second."""
    for _ in range(3):
        before = time.time()
        out = subprocess.run([sys.executable, "-c", START], capture_output=True, text=True, check=True)
        after = time.time()
        assert before - 0.05 <= float(out.stdout) <= after
