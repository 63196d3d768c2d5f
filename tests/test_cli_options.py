"""`evogan train` options come from the config: headings by section, choices, one-line errors."""

import dataclasses
import re
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from evogan.cli import cli, main
from evogan.config import SECTIONS, Config, choices_of, preset_names


@pytest.fixture(scope="module")
def help_text() -> str:
    result = CliRunner().invoke(cli, ["train", "--help"], terminal_width=100)
    assert result.exit_code == 0, result.output
    return result.output


def help_sections(text: str) -> dict[str, str]:
    """Heading -> the text under it, for the ``Heading:`` lines of click's help."""
    parts = re.split(r"(?m)^(\S[^\n]*):\n", text)
    return dict(zip(parts[1::2], parts[2::2], strict=True))


def test_help_has_one_heading_per_section_in_order(help_text):
    headings = list(help_sections(help_text))
    assert headings == ["Command", *(section.title for section in SECTIONS)]


def test_every_option_is_under_its_sections_heading(help_text):
    sections = help_sections(help_text)
    titles = {section.name: section.title for section in SECTIONS}
    for f in dataclasses.fields(Config):
        flag = "--" + f.name.replace("_", "-")
        under = [title for title, text in sections.items() if re.search(f"{flag}\\b", text)]
        assert titles[f.metadata["section"]] in under, f.name
    for flag in ("--preset", "--config", "--out", "--resume", "--help"):
        assert flag in sections["Command"]


def test_help_shows_every_choice(help_text):
    assert "--selection [truncation|tournament]" in help_text
    for f in dataclasses.fields(Config):
        choices = choices_of(f)
        if choices is not None:
            assert f"[{'|'.join(choices)}]" in help_text, f.name


def run_main(monkeypatch, capsys, cwd: Path, *args: str) -> tuple[object, list[str]]:
    monkeypatch.chdir(cwd)
    monkeypatch.setattr(sys, "argv", ["evogan", *args])
    with pytest.raises(SystemExit) as exit:
        main()
    return exit.value.code, capsys.readouterr().err.strip().splitlines()


def test_a_bad_choice_on_the_command_line_is_one_line(monkeypatch, capsys, tmp_path):
    code, lines = run_main(
        monkeypatch, capsys, tmp_path, "train", "--es-adapt", "cma", "--out", "o"
    )
    assert code == 2
    assert lines == ["evogan: error: --es-adapt: unknown 'cma' (choose from none, snes, pgpe)"]
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize(
    "text", ['[es]\nadapt = "cma"\n', 'es_adapt = "cma"\n'], ids=["table", "flat"]
)
def test_a_bad_choice_in_toml_is_one_line(monkeypatch, capsys, tmp_path, text):
    (tmp_path / "run.toml").write_text(text)
    code, lines = run_main(
        monkeypatch, capsys, tmp_path, "train", "--config", "run.toml", "--out", "o"
    )
    assert code == 2
    assert lines == ["evogan: error: --es-adapt: unknown 'cma' (choose from none, snes, pgpe)"]
    assert not (tmp_path / "o").exists()


def test_a_bad_number_on_the_command_line_is_one_line(monkeypatch, capsys, tmp_path):
    code, lines = run_main(monkeypatch, capsys, tmp_path, "train", "--population", "eight")
    assert code == 2
    assert lines == ["evogan: error: --population: 'eight' is not a valid integer."]


def test_a_preset_is_one_of_the_shipped_ones(monkeypatch, capsys, tmp_path, help_text):
    names = ", ".join(preset_names())
    assert f"--preset [{names.replace(', ', '|')}]" in help_text
    code, lines = run_main(monkeypatch, capsys, tmp_path, "train", "--preset", "nosuch")
    assert code == 2
    assert lines == [f"evogan: error: --preset: unknown 'nosuch' (choose from {names})"]
