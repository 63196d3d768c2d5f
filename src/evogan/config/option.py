"""How one option is declared: a single call that carries all of its rules.

Each field of ``Config`` is ``option(section, default, help, ...)``. The call
stores the option's section, choices, range and whether ``--resume`` may
change it in the dataclass field's metadata; validation, ``--help``, the TOML
layout, the resume check and the docs' Options page all read them from there,
so an option's rules live on its one line of ``Config``.
"""

from __future__ import annotations

import dataclasses
import importlib
import re
from functools import cache
from typing import Any, NamedTuple


@dataclasses.dataclass(frozen=True)
class Section:
    """A group of options: a heading of ``--help`` and the docs, and a TOML table."""

    name: str  # the TOML table, [es]
    title: str
    prefix: str = ""  # left out of the keys inside the table: es_sigma is [es] sigma


# In this order in Config, --help, the docs and a run's config.toml.
SECTIONS = (
    Section("data", "Data"),
    Section("generator", "Generator (the genome)", "gen_"),
    Section("trainer", "Trainer"),
    Section("stop", "Stop conditions"),
    Section("islands", "Islands"),
    Section("ga", "Genetic algorithm (ga)"),
    Section("es", "Evolution strategies (es)", "es_"),
    Section("egan", "E-GAN (egan)"),
    Section("critic", "Fitness and critic", "disc_"),
    Section("run", "Run"),
    Section("ray", "Ray", "ray_"),
    Section("outputs", "Outputs"),
    Section("quality", "Quality"),
)
SECTION = {section.name: section for section in SECTIONS}


class Range(NamedTuple):
    """Bounds of a number; ``None`` is unbounded (and counts as included)."""

    low: float | None
    high: float | None
    low_in: bool
    high_in: bool

    def admits(self, value: Any) -> bool:
        if self.low is not None and (value < self.low if self.low_in else value <= self.low):
            return False
        return self.high is None or (value <= self.high if self.high_in else value < self.high)

    def interval(self) -> str:
        """As error messages have always written it: ``[1, inf]``."""
        left = ("[" if self.low_in else "(") + ("-inf" if self.low is None else str(self.low))
        right = ("inf" if self.high is None else str(self.high)) + ("]" if self.high_in else ")")
        return f"{left}, {right}"


INTERVAL = re.compile(r"([\[(])\s*(-inf|[-+\d.e]+)\s*,\s*(inf|[-+\d.e]+)\s*([\])])")


def parse_range(text: str) -> Range:
    """``"(0, 1]"`` or ``"[1, inf)"`` as a ``Range``; a malformed one fails at import."""
    match = INTERVAL.fullmatch(text.strip())
    if match is None:
        raise ValueError(f"range {text!r}: write it like '(0, 1]' or '[1, inf)'")
    left, low, high, right = match.groups()
    return Range(
        None if low == "-inf" else number(low),
        None if high == "inf" else number(high),
        left == "[" or low == "-inf",
        right == "]" or high == "inf",
    )


def number(text: str) -> float:
    return int(text) if re.fullmatch(r"[-+]?\d+", text) else float(text)


def option(
    section: str,
    default: Any,
    help: str,
    *,
    choices: tuple[str, ...] | str | None = None,
    bounds: str | None = None,
    resume: bool = False,
    json_list: bool = False,
) -> Any:
    """A ``Config`` field and its rules.

    ``choices`` is a tuple, or the registry the names come from as
    ``"module:NAME"`` (imported when first asked for: registries import the
    config). ``bounds`` is an interval, ``resume`` whether ``--resume`` may
    change the option, ``json_list`` whether a TOML array is accepted and kept
    as its JSON text.
    """
    if section not in SECTION:
        raise ValueError(f"section {section!r}: not one of {', '.join(SECTION)}")
    metadata = {
        "section": section,
        "help": help,
        "choices": choices,
        "range": parse_range(bounds) if bounds is not None else None,
        "resume": resume,
        "json_list": json_list,
    }
    return dataclasses.field(default=default, metadata=metadata)


def flag(name: str) -> str:
    """The command-line flag of a field: ``es_sigma`` -> ``--es-sigma``."""
    return "--" + name.replace("_", "-")


def toml_key(f: dataclasses.Field[Any]) -> str:
    """The field's key inside its section's table: ``es_sigma`` -> ``sigma``."""
    return f.name.removeprefix(SECTION[f.metadata["section"]].prefix)


def choices_of(f: dataclasses.Field[Any]) -> tuple[str, ...] | None:
    """The names the field accepts, a registry's resolved on first use; ``None``: any."""
    choices = f.metadata.get("choices")
    return registry(choices) if isinstance(choices, str) else choices


@cache
def registry(path: str) -> tuple[str, ...]:
    module, _, name = path.partition(":")
    return tuple(getattr(importlib.import_module(module), name))


def unknown_choice(value: object, choices: tuple[str, ...]) -> str:
    """How a wrong name is refused, on the command line and in a file alike."""
    return f"unknown {value!r} (choose from {', '.join(choices)})"


def choice_error(name: str, value: object, choices: tuple[str, ...]) -> str:
    return f"{flag(name)}: {unknown_choice(value, choices)}"
