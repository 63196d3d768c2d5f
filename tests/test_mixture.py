"""--mixture: a mixture generator chooses by its first latent, round-trips, and evolves."""

import json
import os
import subprocess
import sys

import pytest
import torch
from conftest import TINY, make_generator

from evogan.config import Config
from evogan.errors import EvoganError
from evogan.genome import GenomeLayout
from evogan.networks.mixture import MixtureGenerator
from evogan.quality.evolved_mixture import evolve_weights, mixture_of, top_genomes
from evogan.run.engine import Evolution
from evogan.run.export import load_generator, sample, save_generator

Z = torch.randn(400, 6, generator=torch.Generator().manual_seed(0))


def two_basis_mixture() -> MixtureGenerator:
    mixture = make_generator("basis", latent_dim=6, mixture=2)
    assert isinstance(mixture, MixtureGenerator)
    with torch.no_grad():
        for index, component in enumerate(mixture.components):
            for p in component.parameters():
                p.fill_(0.1 * (index + 1))
    return mixture


def test_each_image_comes_from_the_component_its_first_latent_chooses():
    mixture = two_basis_mixture()
    choice = mixture.choose(Z)
    assert 0.4 < choice.float().mean() < 0.6  # equal weights: about half each
    images = mixture(Z)
    for k, component in enumerate(mixture.components):
        mine = choice == k
        assert torch.allclose(images[mine], component(Z[mine, 1:]))


def test_weights_move_the_choice():
    mixture = two_basis_mixture()
    with torch.no_grad():
        mixture.log_weights.copy_(torch.tensor([0.0, 3.0]))  # 95 % on component 1
    assert mixture.choose(Z).float().mean() > 0.9


def test_mixture_round_trips_through_export(tmp_path):
    mixture = two_basis_mixture()
    with torch.no_grad():
        mixture.log_weights.copy_(torch.tensor([0.5, -0.5]))
    save_generator(mixture, tmp_path)
    loaded = load_generator(tmp_path)
    assert isinstance(loaded, MixtureGenerator)
    assert torch.equal(loaded(Z), mixture(Z))
    assert sample(loaded, 5).shape == (5, 1, 8, 8)


class FakeEvaluator:
    """FID that falls as the mixture leans on component 1 (0 when it is all of it)."""

    def __init__(self, mixture: MixtureGenerator) -> None:
        self.mixture = mixture

    def evaluate(self, images: torch.Tensor) -> object:
        share = self.mixture.weights[1].item()
        return type("Report", (), {"fid": 100.0 * (1 - share)})()


def test_the_es_lowers_fid_and_never_accepts_worse():
    mixture = two_basis_mixture()
    history = evolve_weights(mixture, FakeEvaluator(mixture), steps=40, samples=10, seed=0)
    assert history == sorted(history, reverse=True)
    assert history[-1] < 20.0  # from 50 at equal weights
    assert mixture.weights[1] > 0.8


def test_top_genomes_come_from_the_final_population_and_leave_the_streams_alone():
    run = Evolution.start(Config(**TINY, generations=2))
    run.step()
    before = run.streams.state_dict()
    genomes, fitness = top_genomes(run, 3)
    assert genomes.shape == (3, run.parts.layout.size)
    assert fitness.tolist() == sorted(fitness.tolist(), reverse=True)
    pool = torch.cat([run.best_genome[None], run.state.population])
    assert all((pool == g).all(dim=1).any() for g in genomes)
    assert all(
        torch.equal(a, b)
        for a, b in zip(before.values(), run.streams.state_dict().values(), strict=True)
    )
    mixture = mixture_of(run, genomes)
    layout = GenomeLayout.of(mixture.components[0])
    assert torch.equal(layout.flatten(mixture.components[2]), genomes[2])


def test_train_with_mixture_exports_one_sampled_generator(tmp_path):
    env = {**os.environ, "OMP_NUM_THREADS": "1", "XDG_CACHE_HOME": str(tmp_path / "cache")}
    tiny = ["--population", "8", "--samples-per-agent", "8", "--disc-batch", "16",
            "--disc-filters", "16", "--no-progress"]  # fmt: skip
    train = [sys.executable, "-m", "evogan.cli", "train", *tiny, "--generations", "3",
             "--mixture", "3", "--mixture-steps", "3", "--out", "run"]  # fmt: skip
    done = subprocess.run(train, cwd=tmp_path, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "mixture of 3" in done.stdout
    report = json.loads((tmp_path / "run" / "mixture.json").read_text())
    assert len(report["weights"]) == 3 and len(report["fid_history"]) == 3
    assert isinstance(load_generator(tmp_path / "run"), MixtureGenerator)
    draw = [sys.executable, "-m", "evogan.cli", "sample", "run", "-n", "9", "-o", "s.npy"]
    assert subprocess.run(draw, cwd=tmp_path, env=env, capture_output=True).returncode == 0


def test_mixture_of_one_is_refused():
    with pytest.raises(EvoganError, match="--mixture 1"):
        Evolution.start(Config(**TINY, mixture=1))


def test_top_genomes_of_islands_come_from_every_island():
    """With --islands the islands take turns: each one's best, then each one's second."""
    run = Evolution.start(Config(**{**TINY, "islands": 2, "generations": 2}))
    run.step()
    genomes, _ = top_genomes(run, 4)
    islands = run.state.islands
    assert genomes.shape == (4, run.parts.layout.size)
    pool = torch.cat([run.best_genome[None], *(island.population for island in islands)])
    assert all((pool == g).all(dim=1).any() for g in genomes)
    # taken in turn: two from each island (the run's best counts as island 0's if no island has it)
    owners = [island.population for island in islands]
    if not any((agents == run.best_genome).all(dim=1).any() for agents in owners):
        owners[0] = torch.cat([owners[0], run.best_genome[None]])
    for agents in owners:
        assert sum(bool((agents == g).all(dim=1).any()) for g in genomes) == 2
    mixture = mixture_of(run, genomes)
    assert mixture(torch.randn(5, mixture.spec.latent_dim)).shape == (5, 1, 8, 8)
