"""Checkpoints resume exactly; a run directory holds every output; the exported generator."""

import io
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import pytest
import torch
from conftest import TINY, make_generator, without_time
from safetensors.torch import load_file, save_file
from test_cli import ENV, TINY_ARGS, evogan, ok

from evogan.config import Config, build_config
from evogan.errors import EvoganError
from evogan.outputs.callbacks import RunDirectory
from evogan.run.checkpoint import (
    CHECKPOINT,
    PREVIOUS,
    RESUMABLE_CHANGES,
    check_overrides,
    read_checkpoint,
    resume,
    save_checkpoint,
)
from evogan.run.engine import Evolution, Result, evolve_run
from evogan.run.export import load_generator, save_generator

CONFIG = Config(
    **TINY, generations=4, checkpoint_every=1, sample_every=1, sigma_schedule="self-adaptive"
)


def _run(directory: Path, config: Config) -> Result:
    return evolve_run(Evolution.start(config), [RunDirectory(directory)])


@pytest.fixture(scope="module")
def straight(tmp_path_factory) -> tuple[Path, Result]:
    """Four generations without a break."""
    directory = tmp_path_factory.mktemp("straight")
    return directory, _run(directory, CONFIG)


@pytest.fixture(scope="module")
def resumed(tmp_path_factory) -> tuple[Path, Result]:
    """Two generations, then a fresh process-like resume from the checkpoint up to four."""
    directory = tmp_path_factory.mktemp("resumed")
    first = _run(directory, CONFIG.replace(generations=2))
    assert first.generations == 2
    run = resume(directory, {"generations": 4})
    assert run.state.generation == 2
    return directory, evolve_run(run, [RunDirectory(directory)])


def test_resume_reproduces_the_uninterrupted_run(straight, resumed):
    (_, a), (_, b) = straight, resumed
    assert b.generations == a.generations == 4
    assert b.stop == a.stop == {"generations": 4.0}
    assert torch.equal(b.evolution.state.population, a.evolution.state.population)
    assert torch.equal(b.evolution.state.sigma, a.evolution.state.sigma)
    assert torch.equal(b.evolution.best_genome, a.evolution.best_genome)
    assert b.best_fitness == a.best_fitness
    critic_a = a.evolution.parts.critic.model.state_dict()
    critic_b = b.evolution.parts.critic.model.state_dict()
    assert critic_a.keys() == critic_b.keys()
    for name in critic_a:
        assert torch.equal(critic_a[name], critic_b[name]), name
    assert without_time(b.history) == without_time(a.history)


def test_resume_keeps_one_metrics_line_per_generation(straight, resumed):
    lines = [
        (directory / "metrics.jsonl").read_text().splitlines()
        for directory, _ in (straight, resumed)
    ]
    rows = [without_time([json.loads(line) for line in text]) for text in lines]
    assert [row["generation"] for row in rows[1]] == [1.0, 2.0, 3.0, 4.0]
    assert rows[1] == rows[0]


def test_run_directory_contents(straight):
    directory = straight[0]
    for name in (
        "config.toml",
        "metrics.jsonl",
        "samples.png",
        "evolution.gif",
        "fitness.png",
        "generator.safetensors",
        "generator.json",
        "checkpoint.pt",
        "summary.json",
    ):
        assert (directory / name).is_file(), name
    frames = sorted(p.name for p in (directory / "samples").glob("generation_*.png"))
    assert frames == [f"generation_{g:05d}.png" for g in range(5)]  # 0 and every generation
    assert not list(directory.glob("*.tmp"))


def test_metrics_jsonl(straight):
    directory, result = straight
    lines = (directory / "metrics.jsonl").read_text().splitlines()
    assert len(lines) == 4
    rows = [json.loads(line) for line in lines]
    for generation, row in enumerate(rows, start=1):
        assert row["generation"] == generation
        keys = {"fitness/best", "fitness/mean", "fitness/std", "disc/loss", "disc/accuracy"}
        assert keys | {"mutation/sigma", "time/generation_s"} <= set(row)
    assert rows == result.history


def test_config_toml_is_the_resolved_config(straight):
    directory, result = straight
    values = tomllib.loads((directory / "config.toml").read_text())
    assert build_config(("config.toml", values)) == result.evolution.config == CONFIG


def test_summary_json(straight):
    directory, result = straight
    summary = json.loads((directory / "summary.json").read_text())
    assert summary["stop"] == {"generations": 4.0}
    assert summary["generations"] == 4
    assert summary["best_fitness"] == result.best_fitness
    assert summary["genome_size"] == result.evolution.parts.layout.size


def test_exported_generator_equals_the_result(straight):
    directory, result = straight
    loaded = load_generator(directory)
    assert not loaded.training
    z = torch.randn(6, loaded.spec.latent_dim, generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        assert torch.equal(loaded(z), result.generator(z))


@pytest.mark.parametrize("kind", ["mlp", "basis", "conv"])
def test_export_round_trip_of_every_generator_kind(tmp_path, kind):
    model = make_generator(kind).eval()
    save_generator(model, tmp_path)
    loaded = load_generator(tmp_path)
    assert loaded.spec == model.spec
    z = torch.randn(4, model.spec.latent_dim, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        assert torch.equal(loaded(z), model(z))


def test_load_generator_refuses_missing_weights(tmp_path):
    model = make_generator("basis")
    save_generator(model, tmp_path)
    weights = load_file(str(tmp_path / "generator.safetensors"))
    del weights["hidden.weight"]
    save_file(weights, str(tmp_path / "generator.safetensors"))
    with pytest.raises(EvoganError):
        load_generator(tmp_path)


def test_load_generator_needs_both_files(tmp_path):
    with pytest.raises(EvoganError, match=r"generator\.safetensors"):
        load_generator(tmp_path)
    save_generator(make_generator("basis"), tmp_path)
    (tmp_path / "generator.json").write_text("{not json")
    with pytest.raises(EvoganError):
        load_generator(tmp_path)


def test_check_overrides():
    check_overrides({name: None for name in RESUMABLE_CHANGES})
    with pytest.raises(EvoganError, match="population"):
        check_overrides({"generations": 9, "population": 16})


@pytest.mark.parametrize(
    "override",
    [{"population": 16}, {"mutation_rate": 0.5}, {"seed": 7}, {"dataset": "mnist"}],
    ids=lambda override: next(iter(override)),
)
def test_resume_refuses_non_resumable_overrides(straight, tmp_path, override):
    directory = tmp_path / "copy"
    shutil.copytree(straight[0], directory)
    with pytest.raises(EvoganError) as err:
        resume(directory, override)
    assert next(iter(override)) in str(err.value)


@pytest.mark.parametrize("damage", ["garbage", "truncated", "empty", "foreign", "old format"])
def test_corrupt_checkpoint(straight, tmp_path, damage):
    path = tmp_path / CHECKPOINT
    good = (straight[0] / CHECKPOINT).read_bytes()
    if damage == "garbage":
        path.write_bytes(b"this is not a checkpoint\n" * 10)
    elif damage == "truncated":
        path.write_bytes(good[: len(good) // 2])
    elif damage == "empty":
        path.write_bytes(b"")
    elif damage == "foreign":
        torch.save([1, 2, 3], path)
    else:
        torch.save({"format": 0, "population": torch.zeros(2, 2)}, path)
    with pytest.raises(EvoganError, match="checkpoint"):
        resume(tmp_path)
    with pytest.raises(EvoganError):
        read_checkpoint(tmp_path)


def test_missing_checkpoint(tmp_path):
    with pytest.raises(EvoganError, match=CHECKPOINT):
        resume(tmp_path)


def test_checkpoint_is_written_atomically(straight, tmp_path):
    run = straight[1].evolution
    path = save_checkpoint(run, tmp_path)
    assert path == tmp_path / CHECKPOINT
    assert os.listdir(tmp_path) == [CHECKPOINT]
    state = read_checkpoint(tmp_path)
    assert state["trainer"]["generation"] == 4
    assert torch.equal(state["trainer"]["population"], run.state.population)


def test_the_previous_checkpoint_is_kept(straight):
    directory = straight[0]
    newest = read_checkpoint(directory)
    previous = torch.load(
        io.BytesIO((directory / PREVIOUS).read_bytes().partition(b"\n")[2]), weights_only=False
    )
    assert previous["trainer"]["generation"] == newest["trainer"]["generation"] - 1


@pytest.mark.parametrize("damage", ["truncated", "flipped byte", "missing"])
def test_a_damaged_newest_checkpoint_falls_back_to_the_previous(straight, tmp_path, damage, capsys):
    shutil.copytree(straight[0], tmp_path / "run")
    path = tmp_path / "run" / CHECKPOINT
    good = path.read_bytes()
    if damage == "truncated":
        path.write_bytes(good[: len(good) - 100])
    elif damage == "flipped byte":
        path.write_bytes(good[:-10] + bytes([good[-10] ^ 1]) + good[-9:])
    else:
        path.unlink()
    run = resume(tmp_path / "run")
    assert run.generation == straight[1].generations - 1
    if damage != "missing":
        assert "checksum mismatch" in capsys.readouterr().err


def test_a_run_killed_with_sigkill_resumes_to_the_uninterrupted_result(tmp_path):
    """Kill the driver mid-run at a random moment; --resume must end where a clean run ends."""
    args = [*TINY_ARGS, "--generations", "150", "--checkpoint-every", "1", "--sample-every", "0"]
    ok(evogan("train", *args, "--out", "straight", cwd=tmp_path))
    command = [sys.executable, "-m", "evogan.cli", "train", *args, "--out", "killed"]
    process = subprocess.Popen(command, cwd=tmp_path, env=ENV)
    checkpoint = tmp_path / "killed" / CHECKPOINT
    deadline = time.monotonic() + 120
    while not checkpoint.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(random.Random().uniform(0.0, 0.5))
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert not (tmp_path / "killed" / "summary.json").exists(), "finished before the kill"
    ok(evogan("train", "--resume", "killed", "--generations", "150", cwd=tmp_path))
    straight = load_file(tmp_path / "straight" / "generator.safetensors")
    resumed = load_file(tmp_path / "killed" / "generator.safetensors")
    assert straight.keys() == resumed.keys()
    assert all(torch.equal(straight[k], resumed[k]) for k in straight)
