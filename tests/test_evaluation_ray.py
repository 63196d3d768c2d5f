"""The Ray backend: shards on actors give the local result bit for bit, and survive a kill."""

import itertools
import os
import signal

import pytest
import torch
from conftest import TINY

from evogan.config import Config
from evogan.engine import Evolution, evolve
from evogan.evaluation.ray_evaluator import shard_bounds

ray = pytest.importorskip("ray")

RAY = {**TINY, "threads": 1, "backend": "ray", "ray_workers": 2}


@pytest.fixture(scope="module")
def ray_session():
    """One local Ray for the module (starting it costs seconds); evogan joins it."""
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    yield
    ray.shutdown()


def test_shards_cut_on_group_boundaries_and_cover_the_population():
    assert shard_bounds(10, 2, 3) == [(0, 6), (6, 10)]
    assert shard_bounds(8, 3, 1) == [(0, 3), (3, 6), (6, 8)]
    assert shard_bounds(2, 4, 5) == [(0, 2)]
    for population, workers, group in [(50, 2, 32), (1000, 7, 10), (9, 9, 2)]:
        bounds = shard_bounds(population, workers, group)
        assert bounds[0][0] == 0 and bounds[-1][1] == population
        assert all(a % group == 0 and a < b for a, b in bounds)
        assert all(b == c for (_, b), (c, _) in itertools.pairwise(bounds))


def test_a_ray_run_equals_the_local_run_bit_for_bit(ray_session):
    local = evolve(Config(**{**RAY, "backend": "local"}), generations=3)
    remote = evolve(Config(**RAY), generations=3)
    assert torch.equal(remote.evolution.state.population, local.evolution.state.population)
    assert torch.equal(remote.evolution.best_genome, local.evolution.best_genome)
    assert remote.history[-1]["fitness/best"] == local.history[-1]["fitness/best"]


def test_a_killed_worker_is_replaced_and_the_scores_do_not_change(ray_session):
    run = Evolution.start(Config(**RAY))
    evaluator = run.parts.arena.evaluator
    population = run.state.population
    latents = torch.randn(8, run.parts.spec.latent_dim, generator=torch.Generator().manual_seed(0))
    critic = run.parts.critic.model
    before = evaluator.evaluate(population, latents, critic)
    victim = ray.get(evaluator.actors[0].pid.remote())
    os.kill(victim, signal.SIGKILL)
    after = evaluator.evaluate(population, latents, critic)
    assert torch.equal(after[0], before[0]) and torch.equal(after[1], before[1])
    assert ray.get(evaluator.actors[0].pid.remote()) != victim
    evaluator.close()
