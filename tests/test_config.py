"""The config file and environment: every key validated (type named, finite, in range), exit 2."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from test_reliability import FAST, payload, serve

from datamaestro.config import MIB, Settings, load_settings, read_config
from datamaestro.download.fetching import policy_of
from datamaestro.download.transport import Policy
from datamaestro.errors import ConfigError


def write(env, text: str) -> Path:
    env.config.write_text(text, encoding="utf-8")
    env.monkeypatch.setenv("DATAMAESTRO_CONFIG", str(env.config))
    return env.config


@pytest.mark.parametrize("text, message", [
    ("retries: three", "'retries' must be an integer, got a string"),
    ("retries: 2.5", "'retries' must be an integer, got a number"),
    ("retries: true", "'retries' must be an integer, got a boolean"),
    ("retries: 1000", "'retries' must be <= 100, got 1000"),
    ("backoff: .nan", "'backoff' must be a finite number, got nan"),
    ("connect_timeout: .inf", "'connect_timeout' must be a finite number, got inf"),
    ("read_timeout: -.inf", "'read_timeout' must be a finite number, got -inf"),
    ("read_timeout: 0", "'read_timeout' must be > 0, got 0"),
    ("read_timeout: [1, 2]", "'read_timeout' must be a number, got a list"),
    ("read_timeout:", "'read_timeout' must be a number, got nothing (null)"),
    ("stall_bytes: -1", "'stall_bytes' must be >= 0, got -1"),
    ("stall_seconds: 0", "'stall_seconds' must be > 0, got 0"),
    ("jobs: 0", "'jobs' must be >= 1, got 0"),
    ("jobs: 65", "'jobs' must be <= 64, got 65"),
    ("segments: 0", "'segments' must be >= 1, got 0"),
    ("segment_threshold: 32MiB", "'segment_threshold' must be an integer, got a string"),
    ("max_unpacked_size: 0", "'max_unpacked_size' must be >= 1, got 0"),
    ("max_unpacked_files: 1.0e+6", "'max_unpacked_files' must be an integer, got a number"),
    ("max_download_size: 0", "'max_download_size' must be >= 1, got 0"),
    ("max_download_size: 64GiB", "'max_download_size' must be an integer, got a string"),
    ("max_retry_after: -1", "'max_retry_after' must be >= 0, got -1"),
    ("max_retry_after: .inf", "'max_retry_after' must be a finite number, got inf"),
    ("max_image_pixels: 0", "'max_image_pixels' must be >= 1, got 0"),
    ("max_image_pixels: 1.5", "'max_image_pixels' must be an integer, got a number"),
    ("offline: 1", "'offline' must be true or false, got an integer"),
    ("datadir: 3", "'datadir' must be a string, got an integer"),
    ("mirrors: [a]", "'mirrors' must be a mapping, got a list"),
    ("store: s3://bucket", "'store' must be a mapping, got a string"),
    ("store: {url: 3}", "'store.url' must be a string, got an integer"),
    ("store: {push: always}", "'store.push' must be auto or never, got 'always'"),
    ("store: {options: [1]}", "'store.options' must be a mapping, got a list"),
    ("store: {bucket: x}", "unknown key 'store.bucket' (known: url, options, push)"),
    ('retries: 2\n"bogus\\x1b[2J": 1', "unknown key 'bogus\\x1b[2J' (known: "),
])
def test_bad_values_name_the_key_and_the_expected_type(env, text, message):
    path = write(env, text)
    with pytest.raises(ConfigError) as caught:
        read_config()
    assert str(caught.value).startswith(f"config file {path}: {message}")


def test_bad_value_exits_2_without_traceback(env, cli):
    path = write(env, "backoff: .nan\n")
    result = cli("prepare", "com.lecun.mnist")
    assert result.returncode == 2
    assert result.stderr == f"datamaestro: error: config file {path}: 'backoff' must be a finite number, got nan\n"


def test_non_utf8_config_file(env, cli):
    env.config.write_bytes(b"datadir: /data/caf\xe9\n")
    env.monkeypatch.setenv("DATAMAESTRO_CONFIG", str(env.config))
    result = cli("prepare", "com.lecun.mnist")
    assert result.returncode == 2
    assert result.stderr == (
        f"datamaestro: error: config file {env.config} is not UTF-8 text (byte 0xe9 at offset 18); "
        "save it as UTF-8\n"
    )


def test_defaults(env):
    settings = load_settings()
    assert (settings.connect_timeout, settings.read_timeout) == (5.0, 20.0)
    assert (settings.stall_bytes, settings.stall_seconds) == (16384, 20.0)
    assert (settings.jobs, settings.segments, settings.segment_threshold) == (4, 8, 8 * MIB)
    assert (settings.max_unpacked_size, settings.max_unpacked_files) == (32 << 30, 1_000_000)
    assert (settings.max_download_size, settings.max_retry_after, settings.max_image_pixels) == (64 << 30, 10.0, None)
    assert (settings.store_url, settings.store_options, settings.store_push) == (None, {}, "never")


def test_every_key_is_read(env):
    write(env, """
retries: 1
backoff: 0.5
connect_timeout: 2
read_timeout: 7.5
stall_bytes: 100
stall_seconds: 3
jobs: 2
segments: 6
segment_threshold: 1048576
max_unpacked_size: 1000
max_unpacked_files: 10
max_download_size: 5000
max_retry_after: 2
max_image_pixels: 1000000
store: {url: "s3://bucket/data", options: {anon: true}, push: auto}
""")
    settings = load_settings()
    assert (settings.retries, settings.backoff, settings.connect_timeout, settings.read_timeout) == (
        1, 0.5, 2.0, 7.5)
    assert (settings.stall_bytes, settings.stall_seconds, settings.jobs) == (100, 3.0, 2)
    assert (settings.segments, settings.segment_threshold) == (6, 1048576)
    assert (settings.max_unpacked_size, settings.max_unpacked_files) == (1000, 10)
    assert (settings.store_url, settings.store_options, settings.store_push) == (
        "s3://bucket/data", {"anon": True}, "auto")
    assert (settings.max_download_size, settings.max_retry_after, settings.max_image_pixels) == (5000, 2.0, 1000000)
    assert policy_of(settings) == Policy(1, 0.5, 2.0, 7.5, 100, 3.0, 6, 1048576, max_download_size=5000,
                                         max_retry_after=2.0)
    assert isinstance(settings.connect_timeout, float) and isinstance(settings.max_retry_after, float)


def test_numeric_keys_from_the_environment_win_over_the_file(env):
    write(env, "retries: 1\nmax_download_size: 5000\nmax_retry_after: 2\n")
    env.monkeypatch.setenv("DATAMAESTRO_MAX_DOWNLOAD_SIZE", "7000")
    env.monkeypatch.setenv("DATAMAESTRO_MAX_RETRY_AFTER", "0.5")
    env.monkeypatch.setenv("DATAMAESTRO_MAX_IMAGE_PIXELS", " 1_000 ")
    env.monkeypatch.setenv("DATAMAESTRO_JOBS", "")  # empty: unset
    settings = load_settings()
    assert (settings.retries, settings.max_download_size, settings.max_retry_after) == (1, 7000, 0.5)
    assert (settings.max_image_pixels, settings.jobs) == (1000, 4)
    assert policy_of(settings).max_download_size == 7000 and policy_of(settings).max_retry_after == 0.5


@pytest.mark.parametrize("variable, value, message", [
    ("DATAMAESTRO_MAX_DOWNLOAD_SIZE", "64GiB", "'max_download_size' must be an integer, got a string"),
    ("DATAMAESTRO_MAX_DOWNLOAD_SIZE", "0", "'max_download_size' must be >= 1, got 0"),
    ("DATAMAESTRO_MAX_RETRY_AFTER", "nan", "'max_retry_after' must be a finite number, got nan"),
    ("DATAMAESTRO_MAX_IMAGE_PIXELS", "2.5", "'max_image_pixels' must be an integer, got a string"),
    ("DATAMAESTRO_RETRIES", "\x1b[2J", "'retries' must be an integer, got a string"),
])
def test_bad_environment_values_exit_2_with_one_line(env, cli, variable, value, message):
    env.monkeypatch.setenv(variable, value)
    result = cli("prepare", "com.lecun.mnist")
    assert result.returncode == 2
    shown = value.replace("\x1b", "\\x1b")
    assert result.stderr == f"datamaestro: error: {variable}='{shown}': {message}\n"


def test_store_from_the_environment(env):
    write(env, "store: {url: 's3://from-config', push: auto}\n")
    env.monkeypatch.setenv("DATAMAESTRO_STORE", "s3://from-env/x")
    env.monkeypatch.setenv("DATAMAESTRO_STORE_PUSH", "never")
    settings = load_settings()
    assert (settings.store_url, settings.store_push) == ("s3://from-env/x", "never")
    env.monkeypatch.setenv("DATAMAESTRO_STORE_PUSH", "sometimes")
    with pytest.raises(ConfigError, match=r"^DATAMAESTRO_STORE_PUSH='sometimes': expected auto or never$"):
        load_settings()


def test_settings_defaults_match_the_policy():
    """One set of defaults: a Policy built from default settings is the default Policy (but segments)."""
    settings = Settings(datadir=Path("/x"))
    assert policy_of(settings) == Policy(segments=settings.segments)


@pytest.mark.parametrize("kind", ["config", "data", "cache"])
@pytest.mark.parametrize("xdg, home", [
    (None, "/home/someone"),
    ("/srv/xdg", "/home/someone"),
    ("relative/xdg", "/home/someone"),
    ("", "/home/someone"),
    (None, "relative-home"),
])
def test_user_folders_are_platformdirs_folders(monkeypatch, kind, xdg, home):
    import platformdirs

    from datamaestro.folders import user_folder

    variable = f"XDG_{'DATA' if kind == 'data' else kind.upper()}_HOME"
    monkeypatch.setenv("HOME", home)
    if xdg is None:
        monkeypatch.delenv(variable, raising=False)
    else:
        monkeypatch.setenv(variable, xdg)
    try:
        expected = Path(getattr(platformdirs, f"user_{kind}_dir")("datamaestro"))
    except RuntimeError:  # a relative HOME: newer platformdirs look it up in the password database
        pytest.skip("platformdirs refuses this home folder")
    assert user_folder(kind) == expected


def test_the_default_data_folder_and_config_file_follow_xdg(env, monkeypatch, tmp_path):
    monkeypatch.delenv("DATAMAESTRO_DIR")
    monkeypatch.delenv("XDG_CONFIG_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    config = tmp_path / "home" / ".config" / "datamaestro" / "config.yaml"
    config.parent.mkdir(parents=True)
    config.write_text("retries: 7\n")
    settings = load_settings()
    assert (settings.datadir, settings.retries) == (tmp_path / "xdg-data" / "datamaestro", 7)


IMAGE_LIMIT = """
import sys
import numpy as np
from datamaestro import prepare_dataset
from datamaestro.errors import FormatError
from datamaestro.loaders.decoding import decode
from kindfixtures import image_bytes
image = sys.argv[1]
with open(image, "wb") as f:
    f.write(image_bytes(np.zeros((20, 30), np.uint8), format="PNG"))
print(decode(image).shape)  # 600 pixels: the loaders' default allows it
prepare_dataset("org.rel.blob", quiet=True)
try:
    decode(image)
except FormatError as e:
    print(e)
"""


@pytest.mark.parametrize("source", ["file", "environment"])
def test_max_image_pixels_bounds_the_loaders_once_a_dataset_is_prepared(env, server, source):
    """``prepare_dataset`` (hence ``show`` and the loaders of what it returns) applies the
    configured bound on the pixels of one image."""
    config = {**FAST, "max_image_pixels": 500} if source == "file" else FAST
    serve(env, server, {"a.idx": payload(1000)}, config=config)
    if source == "environment":
        env.monkeypatch.setenv("DATAMAESTRO_MAX_IMAGE_PIXELS", "500")
    image = env.root / "small.png"
    tests = str(Path(__file__).parent)
    result = subprocess.run(
        [sys.executable, "-c", IMAGE_LIMIT, str(image)], capture_output=True, text=True, timeout=120,
        env={**os.environ, "PYTHONPATH": tests + os.pathsep + os.environ.get("PYTHONPATH", "")},
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "(20, 30, 3)",
        f"{image}: refused: 30x20 is 600 pixels, more than the 500 an image may have (max_pixels)",
    ]


# -- a config file is bounded: regular, small, shallow ------------------------------------------


def run_prepare(env) -> subprocess.CompletedProcess[str]:
    """``datamaestro prepare`` in a subprocess that must end on its own (a hang fails the test)."""
    return subprocess.run(
        [sys.executable, "-m", "datamaestro", "prepare", "com.lecun.mnist"],
        capture_output=True, text=True, env=os.environ.copy(), timeout=60,
    )


def one_line_exit_2(result: subprocess.CompletedProcess[str], message: str) -> None:
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr == f"datamaestro: error: {message}\n"


@pytest.mark.parametrize("special", ["/dev/zero", "fifo", "folder"])
def test_a_config_that_is_not_a_regular_file_is_never_read(env, special):
    path = special
    if special == "fifo":
        path = str(env.root / "config.fifo")
        os.mkfifo(path)
    elif special == "folder":
        path = str(env.root)
    env.monkeypatch.setenv("DATAMAESTRO_CONFIG", path)
    one_line_exit_2(run_prepare(env), f"config file {path} is not a regular file")


def test_a_config_larger_than_a_mebibyte_is_refused(env):
    path = write(env, "retries: 1\n" + "#" * MIB + "\n")
    one_line_exit_2(run_prepare(env), f"config file {path} is larger than 1 MiB")


@pytest.mark.parametrize("opening, closing", [("[", "]"), ("{a: ", "}")])
def test_a_config_nested_50000_deep_is_one_line(env, opening, closing):
    path = write(env, "mirrors: " + opening * 50_000 + closing * 50_000 + "\n")
    one_line_exit_2(run_prepare(env), f"config file {path}: nested too deeply (a config is a flat mapping)")


def test_a_data_folder_with_a_nul_byte_is_refused(env):
    path = write(env, 'datadir: "/data/a\\0b"\n')
    env.monkeypatch.delenv("DATAMAESTRO_DIR")
    one_line_exit_2(run_prepare(env), f"config file {path}: 'datadir' must not hold a NUL byte")
    env.monkeypatch.delenv("DATAMAESTRO_CONFIG")
    with pytest.raises(ConfigError, match=r"^the data folder '/data/a\\x00b' holds a NUL byte$"):
        load_settings(datadir="/data/a\0b")
