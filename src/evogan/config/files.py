"""Config layers: shipped presets, the user's TOML file, command-line values.

Sources, later ones winning: the defaults, the preset (a TOML file shipped in
``evogan/presets``), the user's ``--config`` TOML file, then command-line
options. A file holds options flat (``es_sigma = 0.5``, as old files and the
presets do) or in section tables (``[es]`` then ``sigma = 0.5``); a run's own
``config.toml`` is written in tables. Unknown keys and wrong types are errors.
"""

from __future__ import annotations

import json
import tomllib
import types
import typing
from collections.abc import Iterator
from dataclasses import fields
from importlib import resources
from pathlib import Path
from typing import Any

from evogan.config.option import SECTION, SECTIONS, unknown_choice
from evogan.config.schema import Config
from evogan.errors import EvoganError

PRESETS_PACKAGE = "evogan.presets"
FIELDS = {f.name: f for f in fields(Config)}
TYPES = typing.get_type_hints(Config)


def preset_names() -> list[str]:
    files = resources.files(PRESETS_PACKAGE).iterdir()
    return sorted(p.name.removesuffix(".toml") for p in files if p.name.endswith(".toml"))


def load_preset(name: str) -> dict[str, Any]:
    if name not in preset_names():
        raise EvoganError(f"--preset: {unknown_choice(name, tuple(preset_names()))}")
    text = resources.files(PRESETS_PACKAGE).joinpath(f"{name}.toml").read_text()
    return tomllib.loads(text)


def load_toml(path: str | Path) -> dict[str, Any]:
    try:
        with open(path, "rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise EvoganError(f"{path}: config file not found") from None
    except OSError as err:  # a directory, no permission
        raise EvoganError(f"{path}: cannot read: {err.strerror or err}") from None
    except (ValueError, RecursionError) as err:  # TOMLDecodeError; not UTF-8; deep nesting
        raise EvoganError(f"{path}: invalid TOML ({err})") from None


def build_config(*layers: tuple[str, dict[str, Any]]) -> Config:
    """Merge ``(source, values)`` layers over the defaults, checking keys and types."""
    values: dict[str, Any] = {}
    for source, layer in layers:
        for name, value in options(source, layer):
            values[name] = coerce(name, value, TYPES[name], source)
    return Config(**values)


def options(source: str, layer: dict[str, Any]) -> Iterator[tuple[str, Any]]:
    """``(field, value)`` of a layer's flat keys and of its ``[section]`` tables' keys."""
    for key, value in layer.items():
        name = key.replace("-", "_")
        if name in SECTION and isinstance(value, dict):  # no option holds a table
            yield from ((table_field(source, name, k), v) for k, v in value.items())
        elif name in FIELDS:
            yield name, value
        else:
            raise EvoganError(f"{source}: unknown option {key!r}")


def table_field(source: str, section: str, key: str) -> str:
    """The field that ``key`` names in table ``[section]``: its short key or its full name."""
    name = key.replace("-", "_")
    for candidate in (SECTION[section].prefix + name, name):
        f = FIELDS.get(candidate)
        if f is not None and f.metadata["section"] == section:
            return candidate
    home = FIELDS[name].metadata["section"] if name in FIELDS else None
    where = f" (it belongs in [{home}])" if home else ""
    raise EvoganError(f"{source}: unknown option {key!r} in [{section}]{where}")


def coerce(name: str, value: Any, kind: Any, source: str) -> Any:
    """Check ``value`` against the field type; ints are accepted for floats."""
    optional = typing.get_origin(kind) in (typing.Union, types.UnionType)
    base = next(t for t in typing.get_args(kind) if t is not type(None)) if optional else kind
    if value is None and optional:
        return None
    if FIELDS[name].metadata["json_list"] and isinstance(value, list):
        try:
            return json.dumps(value)
        except (TypeError, ValueError):  # a TOML date or time has no JSON form
            raise EvoganError(
                f"{source}: option {name!r} holds a value with no JSON form"
            ) from None
    if base is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if not isinstance(value, base) or (base is int and isinstance(value, bool)):
        raise EvoganError(
            f"{source}: option {name!r} must be {base.__name__}, got {type(value).__name__} "
            f"{value!r}"
        )
    return value


def to_toml(config: Config) -> str:
    """The resolved config as TOML, a table per section (``None`` is left out: TOML has no null)."""
    tables = []
    for section in SECTIONS:
        values = config.section(section.name).items()
        lines = [f"{key} = {toml_value(value)}" for key, value in values if value is not None]
        if lines:
            tables.append("\n".join([f"[{section.name}]", *lines]))
    return "\n\n".join(tables) + "\n"


def toml_value(value: bool | int | float | str) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):  # a JSON string is a TOML basic string, but for DEL
        return json.dumps(value).replace("\x7f", "\\u007f")
    return repr(value)
