"""User settings: data folder, URL mirrors, network policy, output, from CLI, environment and config file.

Precedence for the data folder: ``--data``, then ``DATAMAESTRO_DIR``, then the
config file's ``datadir``, then the platform's user data folder. The config
file is ``DATAMAESTRO_CONFIG`` or ``<user config dir>/config.yaml``. Offline
mode: ``--offline``, then ``DATAMAESTRO_OFFLINE``, then the config's ``offline``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

from datamaestro.errors import ConfigError

APP = "datamaestro"

#: config.yaml key -> expected Python type(s)
CONFIG_KEYS: dict[str, tuple[type, ...]] = {
    "datadir": (str,),
    "mirrors": (dict,),
    "retries": (int,),
    "backoff": (int, float),
    "connect_timeout": (int, float),
    "read_timeout": (int, float),
    "offline": (bool,),
    "store": (dict,),
}

#: numeric keys -> (smallest allowed value, whether that value is allowed)
NUMBER_BOUNDS: dict[str, tuple[float, bool]] = {
    "retries": (0, True),
    "backoff": (0, True),
    "connect_timeout": (0, False),
    "read_timeout": (0, False),
}

TRUE_WORDS = ("1", "true", "yes", "on")
FALSE_WORDS = ("", "0", "false", "no", "off")


@dataclass
class Settings:
    """Everything that changes how datasets are fetched and stored."""

    datadir: Path
    mirrors: dict[str, str] = field(default_factory=dict)
    quiet: bool = False
    #: retries of one URL after a connection error, timeout, 429 or 5xx
    retries: int = 3
    #: seconds before the first retry; doubled at each retry, with jitter
    backoff: float = 1.0
    connect_timeout: float = 10.0
    #: seconds without receiving a byte before a download is abandoned
    read_timeout: float = 60.0
    #: no network access at all: only prepared datasets can be used
    offline: bool = False
    #: take files from this folder instead of downloading them (``prepare --from``)
    source_dir: Optional[Path] = None
    #: accept local copies that do not match their checksums (``--no-verify``)
    no_verify: bool = False
    #: fetch again even the files that are already prepared (``prepare --force``)
    force: bool = False
    #: hash every prepared byte and fetch again only what fails (``--repair``)
    repair: bool = False
    #: the team store (an fsspec URL), its fsspec storage options, and "auto" to push downloads to it
    store_url: Optional[str] = None
    store_options: dict[str, Any] = field(default_factory=dict)
    store_push: str = "never"
    #: take files from the store only, never from the origin (``datamaestro pull``)
    store_only: bool = False

    def rewrite(self, url: str) -> str:
        """``url`` with the longest matching mirror prefix replaced."""
        best = max((p for p in self.mirrors if url.startswith(p)), key=len, default=None)
        return url if best is None else self.mirrors[best] + url[len(best) :]


def config_path() -> Path:
    """Where the config file is (it may not exist)."""
    env = os.environ.get("DATAMAESTRO_CONFIG")
    if env:
        return Path(env).expanduser()
    import platformdirs

    return Path(platformdirs.user_config_dir(APP)) / "config.yaml"


def read_config(path: Optional[Path] = None) -> dict[str, Any]:
    """The validated content of the config file, or {} when there is none."""
    path = path or config_path()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        if "DATAMAESTRO_CONFIG" in os.environ:
            raise ConfigError(
                f"config file {path} (from DATAMAESTRO_CONFIG) does not exist"
            ) from None
        return {}
    except OSError as e:
        raise ConfigError(f"cannot read config file {path}: {e.strerror}") from None
    content = _parse_yaml(path, text)
    if content is None:
        return {}
    if not isinstance(content, dict):
        raise ConfigError(f"config file {path}: expected a mapping of settings")
    for key, value in content.items():
        if key not in CONFIG_KEYS:
            known = ", ".join(CONFIG_KEYS)
            raise ConfigError(f"config file {path}: unknown key '{key}' (known: {known})")
        if not isinstance(value, CONFIG_KEYS[key]) or (
            isinstance(value, bool) and bool not in CONFIG_KEYS[key]
        ):
            raise ConfigError(f"config file {path}: '{key}' has the wrong type")
        if key in NUMBER_BOUNDS:
            low, inclusive = NUMBER_BOUNDS[key]
            if value < low or (value == low and not inclusive):
                bound = f">= {low}" if inclusive else f"> {low}"
                raise ConfigError(f"config file {path}: '{key}' must be {bound}, got {value}")
    _check_store(path, content.get("store", {}))
    for prefix, target in content.get("mirrors", {}).items():
        if not isinstance(prefix, str) or not isinstance(target, str):
            raise ConfigError(
                f"config file {path}: mirrors must map URL prefixes to URL prefixes"
            )
    return content


STORE_PUSH = ("auto", "never")


def _check_store(path: Path, store: dict[str, Any]) -> None:
    """Refuse a ``store:`` section that is not ``{url: str, options: mapping, push: auto|never}``."""
    for key, value in store.items():
        kind = {"url": str, "options": dict, "push": str}.get(key)
        if kind is None:
            raise ConfigError(f"config file {path}: unknown key 'store.{key}' (known: url, options, push)")
        if not isinstance(value, kind):
            raise ConfigError(f"config file {path}: 'store.{key}' has the wrong type")
    if store.get("push", "never") not in STORE_PUSH:
        raise ConfigError(f"config file {path}: 'store.push' must be auto or never, got {store['push']!r}")


def store_push_from_env(default: str) -> str:
    """``DATAMAESTRO_STORE_PUSH`` (auto or never), else ``default``."""
    value = os.environ.get("DATAMAESTRO_STORE_PUSH")
    if value is None or not value.strip():
        return default
    if value.strip().lower() not in STORE_PUSH:
        raise ConfigError(f"DATAMAESTRO_STORE_PUSH={value!r}: expected auto or never")
    return value.strip().lower()


def _parse_yaml(path: Path, text: str) -> Any:
    """The YAML content of the config file, cached so that most runs skip importing yaml."""
    from datamaestro import cache

    stamp = [str(path), len(text), path.stat().st_mtime_ns]
    content = cache.load("config", stamp)
    if content is not None:
        return content
    import yaml

    try:
        content = yaml.safe_load(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark else ""
        problem = getattr(e, "problem", None) or "invalid YAML"
        raise ConfigError(f"config file {path}{where}: {problem}") from None
    cache.save("config", stamp, content)
    return content


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


def load_settings(
    datadir: Optional[str | Path] = None,
    quiet: bool = False,
    offline: Optional[bool] = None,
) -> Settings:
    """Settings from the arguments, the environment and the config file."""
    config = read_config()
    if offline is None:
        offline = offline_from_env()
    if offline is None:
        offline = config.get("offline", False)
    chosen = datadir or os.environ.get("DATAMAESTRO_DIR") or config.get("datadir")
    if not chosen:
        import platformdirs

        chosen = platformdirs.user_data_dir(APP)
    return Settings(
        datadir=Path(chosen).expanduser().absolute(),
        mirrors=dict(config.get("mirrors", {})),
        quiet=quiet,
        retries=config.get("retries", Settings.retries),
        backoff=float(config.get("backoff", Settings.backoff)),
        connect_timeout=float(config.get("connect_timeout", Settings.connect_timeout)),
        read_timeout=float(config.get("read_timeout", Settings.read_timeout)),
        offline=bool(offline),
        store_url=os.environ.get("DATAMAESTRO_STORE") or config.get("store", {}).get("url"),
        store_options=dict(config.get("store", {}).get("options", {})),
        store_push=store_push_from_env(config.get("store", {}).get("push", "never")),
    )
