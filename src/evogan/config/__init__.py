"""The run configuration: typed sections, one source per option.

``Config`` (``schema.py``) declares every option once, with its section,
default, help, choices, range and whether ``--resume`` may change it
(``option.py``); ``validate`` checks values against those rules, and
``files.py`` merges presets, TOML files (flat or in ``[section]`` tables) and
command-line values into a ``Config``. ``RANGES`` and ``RESUMABLE`` are the
rules gathered from the fields, for the code and the docs that list them.
"""

from __future__ import annotations

from dataclasses import fields

from evogan.config.files import (
    PRESETS_PACKAGE,
    build_config,
    coerce,
    load_preset,
    load_toml,
    preset_names,
    to_toml,
)
from evogan.config.option import (
    SECTION,
    SECTIONS,
    Range,
    Section,
    choices_of,
    flag,
    option,
    unknown_choice,
)
from evogan.config.schema import DEFAULT_GENERATIONS, Config
from evogan.config.validate import validate

# option -> its range, for the options that have one
RANGES: dict[str, Range] = {
    f.name: f.metadata["range"] for f in fields(Config) if f.metadata["range"] is not None
}
# the options that `evogan train --resume RUN --option VALUE` may change
RESUMABLE: frozenset[str] = frozenset(f.name for f in fields(Config) if f.metadata["resume"])

__all__ = [
    "DEFAULT_GENERATIONS",
    "PRESETS_PACKAGE",
    "RANGES",
    "RESUMABLE",
    "SECTION",
    "SECTIONS",
    "Config",
    "Range",
    "Section",
    "build_config",
    "choices_of",
    "coerce",
    "flag",
    "load_preset",
    "load_toml",
    "option",
    "preset_names",
    "to_toml",
    "unknown_choice",
    "validate",
]
