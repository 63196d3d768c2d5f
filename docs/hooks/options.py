"""mkdocs hook: the Options page, generated from the config at every build.

Each row comes from the ``Config`` field itself (its ``help``, type and
default), its bounds from ``evogan.run.wiring.RANGES`` and whether ``--resume`` may
change it from ``checkpoint.RESUMABLE_CHANGES``, so the page cannot go stale.
Sections are the comment headings of ``Config`` (``# data``, ...); the two
large ones are split by ``SPLIT``, and a field it does not name stays in its
comment section. The options of ``evogan train`` that are not config fields
(``--preset``, ``--resume``, ...) come from the click command.
"""

from __future__ import annotations

import dataclasses
import inspect
import re
import types
import typing
from typing import Any

PAGE = "options.md"

# Titles of the comment sections of Config, and of the splits below.
TITLES = {
    "command": "Command",
    "data": "Data",
    "generator": "Generator (the genome)",
    "training": "Trainer",
    "stop": "Stop conditions",
    "ga": "Genetic algorithm (ga)",
    "es": "Evolution strategies (es)",
    "egan": "E-GAN (egan)",
    "islands": "Islands",
    "fitness": "Fitness and critic",
    "run": "Run",
    "ray": "Ray",
    "outputs": "Outputs",
    "quality": "Quality",
}
# Section -> its fields, for the broad "training" and "run" comment sections.
SPLIT = {
    "stop": "generations threshold time_budget",
    "islands": "islands migration_every shared_critic migrants",
    "ga": "selection selection_fraction tournament_size elitism crossover crossover_rate "
    "mutation mutation_rate mutation_sigma sigma_schedule sigma_decay sigma_min",
    "egan": "loss_mutation",
    "ray": "backend ray_address ray_workers ray_transport",
    "outputs": "sample_interval sample_every checkpoint_interval checkpoint_every progress "
    "tensorboard",
    "quality": "eval_every eval_samples mixture mixture_steps keep_best keep_best_samples",
}
SECTION_OF = {name: section for section, names in SPLIT.items() for name in names.split()}
PREFIXES = {"es_": "es"}  # every es_* field is the es section's

INTRO = """# Options

Every option of `evogan train`, by section. This page is generated from the
config when the docs are built (`docs/hooks/options.py`): the help is the
field's own, as in `evogan train --help`.

In a TOML file (`--config my.toml`, or a preset) an option is written with
underscores or dashes: `es_sigma = 0.5` or `es-sigma = 0.5`. Command-line
flags win over the file, the file over the preset, the preset over the
defaults. A *range* is checked before anything runs; *resume* says whether
`evogan train --resume RUN --option VALUE` may change the option of an
existing run.
"""


def comment_sections(config_cls: type) -> dict[str, str]:
    """Field name -> the first word of the ``# comment`` heading above it in the class."""
    sections, current = {}, "other"
    for line in inspect.getsource(config_cls).splitlines():
        heading = re.match(r"^    # (\w+)", line)
        field = re.match(r"^    (\w+)\s*:", line)
        if heading:
            current = heading.group(1)
        elif field:
            sections[field.group(1)] = current
    return sections


def section_of(name: str, comments: dict[str, str]) -> str:
    for prefix, section in PREFIXES.items():
        if name.startswith(prefix):
            return section
    return SECTION_OF.get(name, comments.get(name, "other"))


def type_name(kind: Any) -> str:
    optional = typing.get_origin(kind) in (typing.Union, types.UnionType)
    args = [t for t in typing.get_args(kind) if t is not type(None)] if optional else [kind]
    return " or ".join(getattr(t, "__name__", str(t)) for t in args)


def range_text(bounds: tuple[Any, Any, bool, bool] | None) -> str:
    if bounds is None:
        return ""
    low, high, low_in, high_in = bounds
    left = "(-∞" if low is None else ("[" if low_in else "(") + str(low)
    right = "∞)" if high is None else str(high) + ("]" if high_in else ")")
    return f"{left}, {right}"


def default_text(value: Any) -> str:
    if value is None:
        return "unset"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if isinstance(value, str):
        return f'`"{value}"`'
    return f"`{value}`"


def flag_text(name: str, kind: Any) -> str:
    flag = name.replace("_", "-")
    if kind is bool:
        return f"`--{flag}` / `--no-{flag}`"
    return f"`--{flag}`"


def cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def field_rows(
    config_cls: type, ranges: dict[str, Any], resumable: set[str]
) -> dict[str, list[str]]:
    """Section -> table rows, one per field of ``config_cls``; a field without help is an error."""
    hints = typing.get_type_hints(config_cls)
    comments = comment_sections(config_cls)
    rows: dict[str, list[str]] = {}
    for f in dataclasses.fields(config_cls):
        help_text = f.metadata.get("help", "").strip()
        if not help_text:
            raise ValueError(f"Config.{f.name} has no help: give it one with _opt(default, help)")
        resume = "yes" if f.name in resumable else "no"
        row = (
            f'| <span id="{f.name.replace("_", "-")}"></span>{flag_text(f.name, hints[f.name])} '
            f"| {type_name(hints[f.name])} | {default_text(f.default)} "
            f"| {range_text(ranges.get(f.name))} | {resume} | {cell(help_text)} |"
        )
        rows.setdefault(section_of(f.name, comments), []).append(row)
    return rows


def command_rows(command: Any, config_names: set[str]) -> list[str]:
    """Rows for the options of the click command that are not config fields."""
    rows = []
    for param in command.params:
        if param.name in config_names or not getattr(param, "help", None):
            continue
        flags = " / ".join(f"`{opt}`" for opt in param.opts + param.secondary_opts)
        rows.append(f"| {flags} | {cell(param.help)} |")
    return rows


def options_markdown(
    config_cls: type,
    ranges: dict[str, Any],
    resumable: set[str],
    command: Any = None,
) -> str:
    """The whole Options page as Markdown."""
    parts = [INTRO]
    if command is not None:
        names = {f.name for f in dataclasses.fields(config_cls)}
        parts += ["## Command\n", "| option | what |", "|---|---|"]
        parts += [*command_rows(command, names), ""]
    header = "| option | type | default | range | resume | what |\n|---|---|---|---|---|---|"
    for section, rows in field_rows(config_cls, ranges, resumable).items():
        parts += [f"## {TITLES.get(section, section.capitalize())}\n", header, *rows, ""]
    return "\n".join(parts)


def evogan_options() -> str:
    from evogan.cli import train
    from evogan.config import Config
    from evogan.run.checkpoint import RESUMABLE_CHANGES
    from evogan.run.wiring import RANGES

    return options_markdown(Config, RANGES, set(RESUMABLE_CHANGES), train)


def on_files(files: Any, config: Any) -> Any:
    from mkdocs.structure.files import File

    files.append(File.generated(config, PAGE, content=evogan_options()))
    return files
