"""The run config: defaults, layering, key and type checks, TOML round trip, presets."""

import dataclasses
import json
import tomllib

import pytest

from evogan.config import (
    Config,
    build_config,
    coerce,
    load_preset,
    load_toml,
    preset_names,
    to_toml,
)
from evogan.errors import EvoganError
from evogan.networks import LayerSpec, parse_network


def test_defaults_build():
    assert build_config() == Config()
    assert build_config(("empty", {})) == Config()


def test_every_field_is_documented():
    for f in dataclasses.fields(Config):
        assert f.metadata["help"].strip(), f.name


def test_config_is_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        Config().population = 3  # type: ignore[misc]


def test_layers_later_win(tmp_path):
    """preset < file < command line, and untouched keys keep the earlier layer's value."""
    path = tmp_path / "run.toml"
    path.write_text("population = 40\ngenerations = 7\nseed = 3\n")
    config = build_config(
        ("--preset article", load_preset("article")),
        (str(path), load_toml(path)),
        ("command line", {"generations": 9}),
    )
    assert config.population == 40  # file over preset (1000)
    assert config.generations == 9  # command line over file (7) over preset (1000)
    assert config.seed == 3  # file over default
    assert config.fitness == "accuracy"  # preset over default
    assert config.latent_dim == 100  # preset, untouched by the later layers
    assert config.disc_lr == Config().disc_lr  # nobody set it


def test_hyphenated_keys_are_field_names():
    assert build_config(("cli", {"samples-per-agent": 4})).samples_per_agent == 4


@pytest.mark.parametrize("key", ["populaton", "learning_rate", "network-spec"])
def test_unknown_key_names_key_and_source(key):
    with pytest.raises(EvoganError) as err:
        build_config(("defaults", {"seed": 1}), ("my-run.toml", {key: 1}))
    assert key in str(err.value)
    assert "my-run.toml" in str(err.value)


def test_unknown_key_in_file_names_the_file(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text("population = 8\ncolour = 'red'\n")
    with pytest.raises(EvoganError, match="colour") as err:
        build_config((str(path), load_toml(path)))
    assert str(path) in str(err.value)


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("population", "8"),
        ("population", 8.0),
        ("population", True),  # bool is an int subclass in Python, not a number here
        ("disc_lr", "0.001"),
        ("disc_lr", False),
        ("bias", 1),
        ("dataset", 3),
        ("threshold", "90"),
        ("network", 5),
    ],
)
def test_wrong_type_is_an_error(key, value):
    with pytest.raises(EvoganError) as err:
        build_config(("cfg.toml", {key: value}))
    assert key in str(err.value) and "cfg.toml" in str(err.value)


def test_int_accepted_for_float():
    config = build_config(("f", {"threshold": 90, "disc_lr": 1, "selection_fraction": 0}))
    assert config.threshold == 90.0 and type(config.threshold) is float
    assert config.disc_lr == 1.0 and type(config.disc_lr) is float
    assert type(config.selection_fraction) is float


def test_none_accepted_for_optional_only():
    assert build_config(("f", {"threshold": None})).threshold is None
    with pytest.raises(EvoganError):
        build_config(("f", {"population": None}))


def test_coerce_returns_the_value_unchanged_when_the_type_fits():
    assert coerce("population", 12, int, "x") == 12
    assert coerce("data_dir", "/d", str | None, "x") == "/d"


def test_network_list_becomes_json_text():
    network = [[16, 32, "tanh"], ["none", 64, "tanh"]]
    config = build_config(("f", {"network": network}))
    assert isinstance(config.network, str)
    assert json.loads(config.network) == network
    assert parse_network(config.network) == (
        LayerSpec(16, 32, "tanh"),
        LayerSpec(32, 64, "tanh"),
    )


def test_network_from_toml_file(tmp_path):
    path = tmp_path / "net.toml"
    path.write_text('generator = "mlp"\nnetwork = [[4, 8, "relu"], ["none", 64, "tanh"]]\n')
    config = build_config((str(path), load_toml(path)))
    assert json.loads(config.network or "") == [[4, 8, "relu"], ["none", 64, "tanh"]]


def _round_trip(config: Config) -> Config:
    return build_config(("config.toml", tomllib.loads(to_toml(config))))


def test_to_toml_round_trips_defaults():
    assert _round_trip(Config()) == Config()


@pytest.mark.parametrize("name", preset_names())
def test_to_toml_round_trips_every_preset(name):
    config = build_config((f"--preset {name}", load_preset(name)))
    assert _round_trip(config) == config


def test_to_toml_round_trips_every_kind_of_value():
    config = Config(
        dataset='folder:C:\\data\\my "digits"',
        data_dir="/tmp/mnist dir/ünïcode",
        subset="0:500",
        network='[[16, 64, "tanh"], [null, 64, "sigmoid"]]',
        threshold=-0.125,
        time_budget=1e-300,
        disc_lr=1.5e20,
        bias=False,
        progress=False,
        seed=2**40,
    )
    assert _round_trip(config) == config


def test_to_toml_leaves_out_none_fields():
    text = to_toml(Config())
    assert "threshold" not in text and "data_dir" not in text
    assert f"population = {Config().population}" in text.splitlines()


@pytest.mark.parametrize("text", ["line one\nline two", "tab\there", "bell\x07", "del\x7f"])
def test_to_toml_escapes_control_characters(text):
    """A path may hold any character; the run's config.toml must stay valid TOML."""
    config = Config(data_dir=text)
    assert _round_trip(config) == config


def test_load_toml_errors_name_the_file(tmp_path):
    missing = tmp_path / "nope.toml"
    with pytest.raises(EvoganError, match=r"nope\.toml"):
        load_toml(missing)
    broken = tmp_path / "broken.toml"
    broken.write_text("population = = 3\n")
    with pytest.raises(EvoganError, match=r"broken\.toml"):
        load_toml(broken)


def test_presets():
    assert "article" in preset_names()
    with pytest.raises(EvoganError, match="nosuch"):
        load_preset("nosuch")


def test_article_preset_has_the_articles_numbers():
    config = build_config(("--preset article", load_preset("article")))
    assert config.population == 1000
    assert config.generations == 1000
    assert config.threshold == 90.0
    assert config.fitness == "accuracy"
    assert config.selection == "truncation"
    assert config.selection_fraction == 0.2
    assert config.crossover == "single-point"
    assert config.mutation == "reset"
    assert config.mutation_rate == 0.1
    assert config.samples_per_agent == 50
    assert config.generator == "mlp"
    assert config.latent_dim == 100
    assert parse_network(config.network or "") == (
        LayerSpec(100, 100, "sigmoid"),
        LayerSpec(100, 784, "sigmoid"),
    )
    assert config.bias is False
    assert config.init == "normal"
    assert config.dataset == "mnist"


# -- [section] tables ------------------------------------------------------------------------

FLAT = """
trainer = "es"
population = 24
es_sigma = 0.1
es-lr = 0.05
disc_lr = 0.001
fitness = "accuracy"
ray_workers = 3
generator = "basis"
gen_lr = 0.002
islands = 2
"""
TABLES = """
[trainer]
trainer = "es"
population = 24

[es]
sigma = 0.1
es-lr = 0.05

[critic]
lr = 0.001
fitness = "accuracy"

[ray]
workers = 3

[generator]
generator = "basis"
lr = 0.002

[islands]
islands = 2
"""


def test_a_toml_in_tables_loads_equal_to_the_flat_one(tmp_path):
    (tmp_path / "flat.toml").write_text(FLAT)
    (tmp_path / "tables.toml").write_text(TABLES)
    flat = build_config(("flat.toml", load_toml(tmp_path / "flat.toml")))
    tables = build_config(("tables.toml", load_toml(tmp_path / "tables.toml")))
    assert tables == flat
    assert (tables.es_sigma, tables.disc_lr, tables.ray_workers, tables.gen_lr) == (
        0.1, 0.001, 3, 0.002,
    )  # fmt: skip
    assert tables.generator == "basis" and tables.islands == 2 and tables != Config()


def test_flat_keys_and_tables_mix_and_later_keys_win():
    config = build_config(("f", {"es_sigma": 0.3, "es": {"sigma": 0.2}, "seed": 4}))
    assert (config.es_sigma, config.seed) == (0.2, 4)


@pytest.mark.parametrize("name", preset_names())
def test_every_preset_written_in_tables_loads_equal(name):
    config = build_config((f"--preset {name}", load_preset(name)))
    text = to_toml(config)
    assert "[es]" in text and "[critic]" in text
    assert build_config(("config.toml", tomllib.loads(text))) == config


def test_a_run_config_is_written_in_section_tables():
    text = to_toml(Config(es_sigma=0.25))
    tables = tomllib.loads(text)
    assert tables["es"]["sigma"] == 0.25 and tables["critic"]["lr"] == Config().disc_lr
    assert "es_sigma" not in text and "disc_lr" not in text


@pytest.mark.parametrize(
    ("layer", "message"),
    [
        ({"es": {"population": 3}}, r"'population' in \[es\] \(it belongs in \[trainer\]\)"),
        ({"es": {"colour": 1}}, r"'colour' in \[es\]$"),
        ({"critic": {"es_sigma": 1.0}}, r"'es_sigma' in \[critic\] \(it belongs in \[es\]\)"),
        ({"es": {"sigma": "big"}}, r"option 'es_sigma' must be float, got str 'big'"),
        ({"es": {"sigma": {"x": 1}}}, r"option 'es_sigma' must be float"),
    ],
)
def test_a_bad_key_in_a_table_names_the_file_table_and_key(layer, message):
    with pytest.raises(EvoganError, match=message) as err:
        build_config(("my.toml", layer))
    assert str(err.value).startswith("my.toml: ")


def test_a_table_under_a_name_that_is_no_section_is_an_unknown_option():
    with pytest.raises(EvoganError, match=r"my\.toml: unknown option 'colours'"):
        build_config(("my.toml", {"colours": {"red": 1}}))
    with pytest.raises(EvoganError, match="option 'seed' must be int, got dict"):
        build_config(("my.toml", {"seed": {"value": 1}}))
