"""The docs site's generated pages: every option listed, every module described.

The hooks in ``docs/hooks`` build the Options, Architecture and Benchmarks
pages from the code at every ``mkdocs build``; these tests check what they
generate without running mkdocs (``make docs`` builds the site itself).
"""

import dataclasses
import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

from evogan.cli import train
from evogan.config import Config
from evogan.run.checkpoint import RESUMABLE_CHANGES
from evogan.run.wiring import RANGES

ROOT = Path(__file__).resolve().parents[1]


def load_hook(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        f"docs_hook_{name}", ROOT / "docs/hooks" / f"{name}.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


options = load_hook("options")
modules = load_hook("modules")
benchmarks = load_hook("benchmarks")


@pytest.fixture(scope="module")
def page() -> str:
    return options.evogan_options()


def table_rows(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith("| ")]


def test_every_config_field_has_one_row(page: str) -> None:
    rows = table_rows(page)
    for f in dataclasses.fields(Config):
        flag = "`--" + f.name.replace("_", "-") + "`"
        matching = [
            row
            for row in rows
            if row.split(" | ")[0].endswith(flag) or f"{flag} /" in row.split(" | ")[0]
        ]
        assert len(matching) == 1, f"--{f.name}: {len(matching)} rows on the Options page"
        assert f.metadata["help"].strip() in matching[0].replace("\\|", "|")


def test_every_train_option_is_listed(page: str) -> None:
    for param in train.params:
        assert f"`{param.opts[0]}`" in page, param.opts[0]


def test_rows_carry_type_default_range_and_resume(page: str) -> None:
    (row,) = [r for r in table_rows(page) if "`--selection-fraction`" in r]
    assert "| float | `0.2` | (0, 1] | no |" in row
    (row,) = [r for r in table_rows(page) if "`--time-budget`" in r]
    assert "| float | unset | (0, ∞) | yes |" in row
    assert "time_budget" in RESUMABLE_CHANGES and RANGES["time_budget"][0] == 0


@dataclasses.dataclass(frozen=True)
class Tiny:
    """Fields declared as ``option`` declares them: the section and help in the metadata."""

    size: int = dataclasses.field(default=8, metadata={"section": "data", "help": "image side"})
    es_sigma: float = dataclasses.field(
        default=0.5, metadata={"section": "es", "help": "a step | size"}
    )
    generations: int | None = dataclasses.field(
        default=None, metadata={"section": "stop", "help": "how many"}
    )
    fast: bool = dataclasses.field(default=False, metadata={"section": "trainer", "help": "go"})


def test_sections_rows_and_escaping_of_a_hand_made_config() -> None:
    ranges = {"size": (1, None, True, True), "es_sigma": (0, 1, False, True)}
    text = options.options_markdown(Tiny, ranges, {"generations"})
    sections = [line for line in text.splitlines() if line.startswith("## ")]
    assert sections == [
        "## Data",
        "## Evolution strategies (es)",
        "## Stop conditions",
        "## Trainer",
    ]
    rows = table_rows(text)
    assert rows[1] == '| <span id="size"></span>`--size` | int | `8` | [1, ∞) | no | image side |'
    assert rows[3] == (
        '| <span id="es-sigma"></span>`--es-sigma` | float | `0.5` | (0, 1] | no '
        "| a step \\| size |"
    )
    assert (
        rows[5]
        == '| <span id="generations"></span>`--generations` | int | unset |  | yes | how many |'
    )
    assert rows[7].startswith('| <span id="fast"></span>`--fast` / `--no-fast` | bool | `false` |')


def test_a_field_without_help_fails_the_build() -> None:
    @dataclasses.dataclass(frozen=True)
    class Undocumented:
        # data
        size: int = 8

    with pytest.raises(ValueError, match=r"Config\.size has no help"):
        options.options_markdown(Undocumented, {}, set())


def test_architecture_table_describes_every_module() -> None:
    table = modules.module_table()
    for path in (ROOT / "src/evogan").rglob("*.py"):
        relative = path.relative_to(ROOT / "src")
        shown = f"{relative.parent}/" if path.name == "__init__.py" else str(relative)
        assert f"| `{shown}` |" in table
    assert "(no docstring)" not in table


def test_benchmarks_page_carries_the_files_it_links() -> None:
    text = "![a](benchmarks/results/quality_vs_time.png) [b](README.md) [c](https://x.org/y.png)"
    assert benchmarks.linked_files(text) == ["benchmarks/results/quality_vs_time.png"]
