"""mkdocs hook: the Options page, generated from the config at every build.

Each row comes from the ``Config`` field itself: its ``help``, type, default
and section, its range (``evogan.config.RANGES``) and whether ``--resume`` may
change it (``evogan.config.RESUMABLE``), all declared on the field by
``option(...)``, so the page cannot go stale. Sections are the config's
``SECTIONS``, in the order their fields come. The options of ``evogan train``
that are not config fields (``--preset``, ``--resume``, ...) come from the
click command.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from typing import Any

from evogan.config import SECTION, choices_of

PAGE = "options.md"

INTRO = """# Options

Every option of `evogan train`, by section. This page is generated from the
config when the docs are built (`docs/hooks/options.py`): the help is the
field's own, as in `evogan train --help`.

In a TOML file (`--config my.toml`, or a preset) an option is written flat,
with underscores or dashes (`es_sigma = 0.5` or `es-sigma = 0.5`), or in its
section's table, without the section's prefix (`[es]` then `sigma = 0.5`);
a run's own `config.toml` is written in tables. Command-line flags win over
the file, the file over the preset, the preset over the defaults. A *range*
(an interval, or the names an option accepts) is checked before anything
runs; *resume* says whether `evogan train --resume RUN --option VALUE`
may change the option of an existing run.
"""


def table_note(section: str) -> str:
    """How the section's options are written as a TOML table."""
    prefix = SECTION[section].prefix
    if not prefix:
        return f"In a TOML file: the table `[{section}]`, keys as the option names."
    return f"In a TOML file: the table `[{section}]`, keys without `{prefix}`."


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


def allowed_text(f: dataclasses.Field[Any], bounds: tuple[Any, Any, bool, bool] | None) -> str:
    """The range column: the interval of a number, or the names an option accepts."""
    choices = choices_of(f)
    if choices is None:
        return range_text(bounds)
    return ", ".join(f"`{choice}`" for choice in choices)


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
    rows: dict[str, list[str]] = {}
    for f in dataclasses.fields(config_cls):
        help_text = f.metadata.get("help", "").strip()
        if not help_text:
            raise ValueError(f"Config.{f.name} has no help: declare it with option(..., help)")
        resume = "yes" if f.name in resumable else "no"
        row = (
            f'| <span id="{f.name.replace("_", "-")}"></span>{flag_text(f.name, hints[f.name])} '
            f"| {type_name(hints[f.name])} | {default_text(f.default)} "
            f"| {allowed_text(f, ranges.get(f.name))} | {resume} | {cell(help_text)} |"
        )
        rows.setdefault(f.metadata["section"], []).append(row)
    return rows


def command_rows(command: Any, config_names: set[str]) -> list[str]:
    """Rows for the options of the click command that are not config fields."""
    rows = []
    for param in command.params:
        if param.name in config_names or not getattr(param, "help", None):
            continue
        flags = " / ".join(f"`{opt}`" for opt in param.opts + param.secondary_opts)
        choices = getattr(param.type, "choices", None)  # a click.Choice: --preset
        names = f": {', '.join(f'`{choice}`' for choice in choices)}" if choices else ""
        rows.append(f"| {flags} | {cell(param.help + names)} |")
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
        parts += [f"## {SECTION[section].title}\n", table_note(section), "", header, *rows, ""]
    return "\n".join(parts)


def evogan_options() -> str:
    from evogan.cli import train
    from evogan.config import RANGES, RESUMABLE, Config

    return options_markdown(Config, RANGES, set(RESUMABLE), train)


def on_files(files: Any, config: Any) -> Any:
    from mkdocs.structure.files import File

    files.append(File.generated(config, PAGE, content=evogan_options()))
    return files
