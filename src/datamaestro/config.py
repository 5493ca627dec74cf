"""User settings: data folder, URL mirrors, network policy, output, from CLI, environment and config file.

Precedence for the data folder: ``--data``, then ``DATAMAESTRO_DIR``, then the
config file's ``datadir``, then the platform's user data folder. Every numeric
key (``retries``, ``max_download_size``...) may be set by ``DATAMAESTRO_<KEY>``,
over the config file. The config
file is ``DATAMAESTRO_CONFIG`` or ``<user config dir>/config.yaml``. Offline
mode: ``--offline``, then ``DATAMAESTRO_OFFLINE``, then the config's ``offline``.
Data folders (``datafolders``: a name -> an absolute path) say where the user
keeps files that only a person can download (behind a sign-in); ``datamaestro
datafolders set NAME PATH`` writes them into the config file.
"""

from __future__ import annotations

import math
import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

from datamaestro.errors import ConfigError
from datamaestro.folders import user_folder
from datamaestro.paths import printable

#: size units
MIB = 1 << 20
GIB = 1 << 30
#: the most bytes a config file may hold
MAX_CONFIG = MIB


@dataclass(frozen=True, slots=True)
class Key:
    """One config.yaml key: its type, and the range of its numbers.

    ``kind``: "string", "mapping", "boolean", "integer" or "number"
    (integer or float). Numbers must be finite and within ``low`` (allowed
    when ``inclusive``) and ``high``.
    """

    kind: str
    low: Optional[float] = None
    inclusive: bool = True
    high: Optional[float] = None
    #: the allowed values of a string (None: any string)
    choices: Optional[tuple[str, ...]] = None


#: config.yaml key -> what it holds (docs/configuration.md documents each)
CONFIG_KEYS: dict[str, Key] = {
    "datadir": Key("string"),
    "mirrors": Key("mapping"),
    "retries": Key("integer", 0, True, 100),
    "backoff": Key("number", 0, True, 3600),
    "connect_timeout": Key("number", 0, False, 3600),
    "read_timeout": Key("number", 0, False, 86400),
    "stall_bytes": Key("integer", 0, True, 1 << 40),
    "stall_seconds": Key("number", 0, False, 86400),
    "offline": Key("boolean"),
    "jobs": Key("integer", 1, True, 64),
    "segments": Key("integer", 1, True, 32),
    "segment_threshold": Key("integer", 1, True, 1 << 50),
    "max_unpacked_size": Key("integer", 1, True, 1 << 60),
    "max_unpacked_files": Key("integer", 1, True, 1 << 40),
    "max_download_size": Key("integer", 1, True, 1 << 60),
    "max_retry_after": Key("number", 0, True, 86400),
    "max_image_pixels": Key("integer", 1, True, 1 << 50),
    "store": Key("mapping"),
    "datafolders": Key("mapping"),
}

#: a data folder's name (``datafolders``: the key a definition names)
DATAFOLDER_NAME = re.compile(r"[a-z0-9][a-z0-9_.-]{0,63}")

#: keys of the ``store`` mapping
STORE_KEYS: dict[str, Key] = {
    "url": Key("string"),
    "options": Key("mapping"),
    "push": Key("string", choices=("auto", "never")),
}

#: the config keys that are read as they are into the settings of the same name: the numbers
PLAIN_KEYS = tuple(name for name, key in CONFIG_KEYS.items() if key.kind in ("integer", "number"))

TRUE_WORDS = ("1", "true", "yes", "on")
FALSE_WORDS = ("", "0", "false", "no", "off")


@dataclass(frozen=True, slots=True)
class Settings:
    """The configuration: what changes how datasets are fetched and stored, read and checked once.

    It comes from the command line, the environment and the config file
    (``load_settings``); what one call asks for (``--force``, ``--from``...)
    is a ``datamaestro.download.context.Request``.
    """

    datadir: Path
    mirrors: dict[str, str] = field(default_factory=dict)
    #: retries of one URL after a connection error, timeout, 429 or 5xx
    retries: int = 3
    #: seconds before the first retry; doubled at each retry, with jitter
    backoff: float = 1.0
    #: seconds allowed to open a connection
    connect_timeout: float = 5.0
    #: seconds without receiving a byte before a try is abandoned
    read_timeout: float = 20.0
    #: a try that receives fewer than ``stall_bytes`` in ``stall_seconds`` is abandoned (0: never)
    stall_bytes: int = 16384
    stall_seconds: float = 20.0
    #: no network access at all: only prepared datasets can be used
    offline: bool = False
    #: files of one dataset downloaded at the same time
    jobs: int = 4
    #: connections used for one large file (1: never segmented)
    segments: int = 8
    #: files at least this large (bytes) are downloaded in segments
    segment_threshold: int = 8 * MIB
    #: most bytes that unpacking one archive or compressed file may produce
    max_unpacked_size: int = 32 * GIB
    #: most files that unpacking one archive may produce
    max_unpacked_files: int = 1_000_000
    #: most bytes of a download whose size neither its definition nor its server states
    max_download_size: int = 64 * GIB
    #: longest wait (seconds) honoured from a server's Retry-After; a server asking more is given up
    max_retry_after: float = 10.0
    #: most pixels of an image the loaders decode (None: ``datamaestro.formats.images.MAX_PIXELS``)
    max_image_pixels: Optional[int] = None
    #: the team store (an fsspec URL), its fsspec storage options, and "auto" to push downloads to it
    store_url: Optional[str] = None
    store_options: dict[str, Any] = field(default_factory=dict)
    store_push: str = "never"
    #: where the user keeps files downloaded by hand (behind a sign-in): name -> absolute folder
    datafolders: dict[str, Path] = field(default_factory=dict)

    def rewrite(self, url: str) -> str:
        """``url`` with the longest matching mirror prefix replaced."""
        best = max((p for p in self.mirrors if url.startswith(p)), key=len, default=None)
        return url if best is None else self.mirrors[best] + url[len(best) :]


def config_path() -> Path:
    """Where the config file is (it may not exist)."""
    env = os.environ.get("DATAMAESTRO_CONFIG")
    if env:
        return Path(env).expanduser()
    return user_folder("config") / "config.yaml"


def read_config(path: Optional[Path] = None) -> dict[str, Any]:
    """The validated content of the config file, or {} when there is none."""
    path = path or config_path()
    text = read_text(path)
    if text is None:
        if "DATAMAESTRO_CONFIG" in os.environ:
            raise ConfigError(f"config file {path} (from DATAMAESTRO_CONFIG) does not exist")
        return {}
    content = parse_yaml(path, text)
    if content is None:
        return {}
    if not isinstance(content, dict):
        raise ConfigError(f"config file {path}: expected a mapping of settings")
    for key, value in content.items():
        if key not in CONFIG_KEYS:
            known = ", ".join(CONFIG_KEYS)
            raise ConfigError(
                f"config file {path}: unknown key '{printable(str(key), 80)}' (known: {known})"
            )
        problem = check_value(key, value, CONFIG_KEYS[key])
        if problem:
            raise ConfigError(f"config file {path}: {problem}")
    for prefix, target in content.get("mirrors", {}).items():
        if not isinstance(prefix, str) or not isinstance(target, str):
            raise ConfigError(
                f"config file {path}: mirrors must map URL prefixes to URL prefixes"
            )
    for key, value in content.get("store", {}).items():
        if key not in STORE_KEYS:
            known = ", ".join(STORE_KEYS)
            raise ConfigError(
                f"config file {path}: unknown key 'store.{printable(str(key), 80)}' (known: {known})"
            )
        problem = check_value(f"store.{key}", value, STORE_KEYS[key])
        if problem:
            raise ConfigError(f"config file {path}: {problem}")
    for name, folder in content.get("datafolders", {}).items():
        problem = datafolder_problem(name, folder)
        if problem:
            raise ConfigError(f"config file {path}: {problem}")
    return content


def datafolder_problem(name: Any, folder: Any) -> Optional[str]:
    """What is wrong with the data folder ``name`` -> ``folder`` (None when it is valid)."""
    if not isinstance(name, str) or not DATAFOLDER_NAME.fullmatch(name):
        return (
            f"'datafolders': '{printable(str(name), 80)}' is not a data folder name "
            "(lower-case letters, digits, '.', '_', '-'; at most 64)"
        )
    if not isinstance(folder, str) or not folder or "\0" in folder:
        return f"'datafolders.{name}' must be a folder path, got {describe_type(folder)}"
    if not Path(folder).expanduser().is_absolute():
        return f"'datafolders.{name}' must be an absolute path (or start with ~), got '{printable(folder, 200)}'"
    return None


def write_datafolders(datafolders: dict[str, str], path: Optional[Path] = None) -> Path:
    """Write the ``datafolders`` mapping into the config file (the other keys kept); its path.

    The file is rewritten whole (comments are not kept) through a temporary
    file renamed over it, so that a failed write leaves the old file.
    """
    path = path or config_path()
    content = dict(read_config(path)) if path.exists() else {}
    for name, folder in datafolders.items():
        problem = datafolder_problem(name, folder)
        if problem:
            raise ConfigError(problem)
    if datafolders:
        content["datafolders"] = dict(sorted(datafolders.items()))
    else:
        content.pop("datafolders", None)
    import yaml  # (as in parse_yaml)

    text = yaml.safe_dump(content, sort_keys=False, allow_unicode=True) if content else ""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        temporary.write_text(text, encoding="utf-8")
        os.replace(temporary, path)
    except OSError as e:
        temporary.unlink(missing_ok=True)
        raise ConfigError(f"cannot write config file {path}: {e.strerror}") from None
    return path


def read_text(path: Path) -> Optional[str]:
    """The text of the config file (None when it does not exist): a regular UTF-8 file of at most
    ``MAX_CONFIG`` bytes (a device such as /dev/zero, a FIFO or a folder is refused, never read)."""
    try:  # (without blocking: opening a FIFO would wait for a writer)
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        return None
    except OSError as e:
        raise ConfigError(f"cannot read config file {path}: {e.strerror}") from None
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise ConfigError(f"config file {path} is not a regular file")
    with os.fdopen(fd, "rb") as f:
        try:
            data = f.read(MAX_CONFIG + 1)
        except OSError as e:
            raise ConfigError(f"cannot read config file {path}: {e.strerror}") from None
    if len(data) > MAX_CONFIG:
        raise ConfigError(f"config file {path} is larger than {MAX_CONFIG // MIB} MiB")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise ConfigError(
            f"config file {path} is not UTF-8 text (byte 0x{e.object[e.start]:02x} at offset "
            f"{e.start}); save it as UTF-8"
        ) from None


def check_value(name: str, value: Any, key: Key) -> Optional[str]:
    """What is wrong with ``value`` for the key ``name`` (None when it is valid)."""
    expected = {
        "string": "a string",
        "mapping": "a mapping",
        "boolean": "true or false",
        "integer": "an integer",
        "number": "a number",
    }[key.kind]
    ok = {
        "string": isinstance(value, str),
        "mapping": isinstance(value, dict),
        "boolean": isinstance(value, bool),
        "integer": isinstance(value, int) and not isinstance(value, bool),
        "number": isinstance(value, (int, float)) and not isinstance(value, bool),
    }[key.kind]
    if not ok:
        return f"'{name}' must be {expected}, got {describe_type(value)}"
    if key.kind == "string" and "\0" in value:
        return f"'{name}' must not hold a NUL byte"
    if key.choices is not None and value not in key.choices:
        choices = " or ".join(key.choices)
        return f"'{name}' must be {choices}, got '{printable(value, 80)}'"
    if key.kind in ("integer", "number"):
        if not math.isfinite(value):
            return f"'{name}' must be a finite number, got {value}"
        if key.low is not None and (value < key.low or (value == key.low and not key.inclusive)):
            bound = f">= {key.low:g}" if key.inclusive else f"> {key.low:g}"
            return f"'{name}' must be {bound}, got {value}"
        if key.high is not None and value > key.high:
            return f"'{name}' must be <= {key.high:g}, got {value}"
    return None


def describe_type(value: Any) -> str:
    """How a config value's type is named in messages ("a string", "a list"...)."""
    if value is None:
        return "nothing (null)"
    for kind, words in (
        (bool, "a boolean"),
        (int, "an integer"),
        (float, "a number"),
        (str, "a string"),
        (list, "a list"),
        (dict, "a mapping"),
    ):
        if isinstance(value, kind):
            return words
    return f"a value of type {type(value).__name__}"


def parse_yaml(path: Path, text: str) -> Any:
    """The YAML content of the config file (None when it is empty)."""
    if not text.strip():  # an empty file: nothing to parse
        return None
    import yaml  # (a dependency; imported only when there is a config to read)

    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark else ""
        problem = getattr(e, "problem", None) or "invalid YAML"
        raise ConfigError(f"config file {path}{where}: {problem}") from None
    except RecursionError:
        raise ConfigError(f"config file {path}: nested too deeply (a config is a flat mapping)") from None


def offline_from_env() -> Optional[bool]:
    """``DATAMAESTRO_OFFLINE`` as a boolean (None when unset)."""
    value = os.environ.get("DATAMAESTRO_OFFLINE")
    if value is None:
        return None
    word = value.strip().lower()
    if word in TRUE_WORDS or word in FALSE_WORDS:
        return word in TRUE_WORDS
    raise ConfigError(
        f"DATAMAESTRO_OFFLINE={value!r}: expected one of {', '.join(TRUE_WORDS)} "
        f"or {', '.join(w for w in FALSE_WORDS if w)}"
    )


def store_from_env(config: dict[str, Any]) -> tuple[Optional[str], dict[str, Any], str]:
    """The object store's URL, options and push mode: environment over the config's ``store``."""
    store = config.get("store", {})
    url = os.environ.get("DATAMAESTRO_STORE") or store.get("url")
    push = os.environ.get("DATAMAESTRO_STORE_PUSH")
    if push is None or not push.strip():
        push = store.get("push", "never")
    elif push.strip().lower() not in (STORE_KEYS["push"].choices or ()):
        raise ConfigError(f"DATAMAESTRO_STORE_PUSH={push!r}: expected auto or never")
    return url, dict(store.get("options", {})), push.strip().lower()


def env_name(key: str) -> str:
    """The environment variable that sets the config key ``key`` (``DATAMAESTRO_<KEY>``)."""
    return f"DATAMAESTRO_{key.upper()}"


def from_env(key: str) -> Optional[float | int]:
    """The number that ``DATAMAESTRO_<KEY>`` sets for ``key``, validated (None when unset or empty)."""
    text = os.environ.get(env_name(key), "").strip()
    if not text:
        return None
    value: Any = text
    try:
        value = int(text) if CONFIG_KEYS[key].kind == "integer" else float(text)
    except ValueError:
        pass  # still the text: check_value names the type expected
    problem = check_value(key, value, CONFIG_KEYS[key])
    if problem:
        raise ConfigError(f"{env_name(key)}='{printable(text, 80)}': {problem}")
    return value


def plain_value(key: str, config: dict[str, Any]) -> Optional[float | int]:
    """The setting ``key``: ``DATAMAESTRO_<KEY>``, else the config file's (None: the default)."""
    value = from_env(key)
    if value is None:
        value = config.get(key)
    if value is not None and CONFIG_KEYS[key].kind == "number":
        return float(value)
    return value


def load_settings(datadir: Optional[str | Path] = None, offline: Optional[bool] = None) -> Settings:
    """The configuration, from the command line's ``datadir`` and ``offline``, the environment and the config file."""
    config = read_config()
    if offline is None:
        offline = offline_from_env()
    if offline is None:
        offline = config.get("offline", False)
    chosen = datadir or os.environ.get("DATAMAESTRO_DIR") or config.get("datadir")
    if not chosen:
        chosen = user_folder("data")
    if "\0" in str(chosen):
        raise ConfigError(f"the data folder '{printable(str(chosen), 200)}' holds a NUL byte")
    store_url, store_options, store_push = store_from_env(config)
    plain: dict[str, Any] = {key: value for key in PLAIN_KEYS if (value := plain_value(key, config)) is not None}
    return Settings(
        datadir=Path(chosen).expanduser().absolute(),
        mirrors=dict(config.get("mirrors", {})),
        offline=bool(offline),
        store_url=store_url,
        store_options=store_options,
        store_push=store_push,
        datafolders={k: Path(v).expanduser() for k, v in config.get("datafolders", {}).items()},
        **plain,
    )
