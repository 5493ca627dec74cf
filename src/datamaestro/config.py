"""User settings: data folder, URL mirrors, output, from CLI, environment and config file.

Precedence for the data folder: ``--data``, then ``DATAMAESTRO_DIR``, then the
config file's ``datadir``, then the platform's user data folder. The config
file is ``DATAMAESTRO_CONFIG`` or ``<user config dir>/config.yaml``.
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
}


@dataclass
class Settings:
    """Everything that changes how datasets are fetched and stored."""

    datadir: Path
    mirrors: dict[str, str] = field(default_factory=dict)
    quiet: bool = False

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
    import yaml

    try:
        content = yaml.safe_load(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark else ""
        problem = getattr(e, "problem", None) or "invalid YAML"
        raise ConfigError(f"config file {path}{where}: {problem}") from None
    if content is None:
        return {}
    if not isinstance(content, dict):
        raise ConfigError(f"config file {path}: expected a mapping of settings")
    for key, value in content.items():
        if key not in CONFIG_KEYS:
            known = ", ".join(CONFIG_KEYS)
            raise ConfigError(f"config file {path}: unknown key '{key}' (known: {known})")
        if not isinstance(value, CONFIG_KEYS[key]):
            raise ConfigError(f"config file {path}: '{key}' has the wrong type")
    for prefix, target in content.get("mirrors", {}).items():
        if not isinstance(prefix, str) or not isinstance(target, str):
            raise ConfigError(
                f"config file {path}: mirrors must map URL prefixes to URL prefixes"
            )
    return content


def load_settings(datadir: Optional[str | Path] = None, quiet: bool = False) -> Settings:
    """Settings from the arguments, the environment and the config file."""
    config = read_config()
    chosen = datadir or os.environ.get("DATAMAESTRO_DIR") or config.get("datadir")
    if not chosen:
        import platformdirs

        chosen = platformdirs.user_data_dir(APP)
    return Settings(
        datadir=Path(chosen).expanduser().absolute(),
        mirrors=dict(config.get("mirrors", {})),
        quiet=quiet,
    )
