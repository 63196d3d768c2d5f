"""Option declarations: sections, ranges, choices and the resume rule, each read from its field."""

import dataclasses
import math

import pytest

from evogan.config import (
    RANGES,
    RESUMABLE,
    SECTIONS,
    Config,
    build_config,
    choices_of,
    load_preset,
    option,
    preset_names,
    validate,
)
from evogan.config.files import table_field
from evogan.config.option import Range, parse_range, toml_key
from evogan.errors import EvoganError
from evogan.game.fitness import FITNESS
from evogan.run.checkpoint import RESUMABLE_CHANGES, check_overrides
from evogan.trainers import TRAINERS
from evogan.trainers.operators import CROSSOVER, MUTATION, SELECTION

FIELDS = dataclasses.fields(Config)


def test_fields_come_section_by_section_in_the_order_of_sections():
    order = [f.metadata["section"] for f in FIELDS]
    runs = [name for i, name in enumerate(order) if i == 0 or order[i - 1] != name]
    assert runs == [section.name for section in SECTIONS]


@pytest.mark.parametrize("section", [s.name for s in SECTIONS])
def test_every_key_of_a_table_names_one_field_of_its_section(section):
    members = [f for f in FIELDS if f.metadata["section"] == section]
    keys = [toml_key(f) for f in members]
    assert len(set(keys)) == len(keys)
    for f, key in zip(members, keys, strict=True):
        assert table_field("t.toml", section, key) == f.name
        assert table_field("t.toml", section, f.name) == f.name


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("(0, 1]", Range(0, 1, False, True)),
        ("[1, inf)", Range(1, None, True, True)),
        ("[0, 4294967295]", Range(0, 4294967295, True, True)),
        ("(-inf, 0.5)", Range(None, 0.5, True, False)),
    ],
)
def test_parse_range(text, expected):
    bounds = parse_range(text)
    assert bounds == expected
    assert [type(bound) for bound in bounds[:2]] == [type(bound) for bound in expected[:2]]


@pytest.mark.parametrize("text", ["0, 1", "[1, 2", "(a, b)", "[1; 2]", ""])
def test_a_malformed_range_fails_at_declaration(text):
    with pytest.raises(ValueError, match="range"):
        option("es", 1.0, "help", bounds=text)


def test_an_unknown_section_fails_at_declaration():
    with pytest.raises(ValueError, match="section 'nosuch'"):
        option("nosuch", 1, "help")


def test_range_admits_its_bounds_as_written():
    half_open = Range(0, 1, False, True)
    assert [half_open.admits(v) for v in (-1, 0, 0.5, 1, 1.5)] == [False, False, True, True, False]
    assert half_open.interval() == "(0, 1]"
    assert Range(1, None, True, True).interval() == "[1, inf]"  # as the messages always were


FLOATS = {f.name for f in FIELDS if "float" in str(f.type)}


@pytest.mark.parametrize("name", sorted(RANGES))
def test_every_range_is_checked_as_declared(name):
    """A closed bound is accepted; a hair beyond it, or an open bound itself, is refused."""
    bounds = RANGES[name]
    kind = float if name in FLOATS else int
    step = 1e-9 if kind is float else 1
    for end, closed, outward in (
        (bounds.low, bounds.low_in, -step),
        (bounds.high, bounds.high_in, step),
    ):
        if end is None:
            continue
        if closed:
            validate(Config(**{name: kind(end)}))
        outside = kind(end + outward) if closed else kind(end)
        with pytest.raises(EvoganError) as err:
            validate(Config(**{name: outside}))
        flag = "--" + name.replace("_", "-")
        assert str(err.value) == f"{flag} must be in {bounds.interval()}, got {outside}"


def test_a_number_must_be_finite():
    with pytest.raises(EvoganError, match=r"^--disc-lr must be a finite number, got nan$"):
        validate(Config(disc_lr=math.nan))


@pytest.mark.parametrize(
    ("name", "registry"),
    [
        ("trainer", TRAINERS),
        ("fitness", FITNESS),
        ("selection", SELECTION),
        ("crossover", CROSSOVER),
        ("mutation", MUTATION),
    ],
)
def test_choices_by_registry_are_the_registrys_names(name, registry):
    (f,) = [f for f in FIELDS if f.name == name]
    assert choices_of(f) == tuple(registry)


CHOICES = {f.name: choices_of(f) for f in FIELDS if choices_of(f) is not None}


@pytest.mark.parametrize("name", sorted(CHOICES))
def test_every_choice_is_accepted_and_any_other_name_refused(name):
    choices = CHOICES[name]
    assert choices and getattr(Config(), name) in choices
    for choice in choices:
        validate(Config(**{name: choice}))
    with pytest.raises(EvoganError) as err:
        validate(Config(**{name: "nope"}))
    flag = "--" + name.replace("_", "-")
    assert str(err.value) == f"{flag}: unknown 'nope' (choose from {', '.join(choices)})"


def test_the_resume_rule_is_the_fields():
    declared = {f.name for f in FIELDS if f.metadata["resume"]}
    assert RESUMABLE == declared == RESUMABLE_CHANGES
    assert {"generations", "time_budget", "device"} <= declared
    assert {"population", "seed", "es_sigma"}.isdisjoint(declared)
    for f in FIELDS:
        if f.metadata["resume"]:
            check_overrides({f.name: getattr(Config(), f.name)})
        else:
            with pytest.raises(EvoganError, match=f"cannot change {f.name} "):
                check_overrides({f.name: getattr(Config(), f.name)})


def test_section_gives_a_sections_options_by_their_table_keys():
    es = Config(es_sigma=0.5).section("es")
    assert es["sigma"] == 0.5 and es["lr"] == Config().es_lr
    assert set(es) == {toml_key(f) for f in FIELDS if f.metadata["section"] == "es"}
    assert Config().section("critic")["lr"] == Config().disc_lr
    with pytest.raises(KeyError, match="nosuch"):
        Config().section("nosuch")


@pytest.mark.parametrize("name", preset_names())
def test_every_preset_passes_validation(name):
    validate(build_config((f"--preset {name}", load_preset(name))))
