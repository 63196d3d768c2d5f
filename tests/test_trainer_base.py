"""Tests for evogan.trainers.base: the shared metrics and the optional capabilities' defaults."""

import dataclasses

import pytest
import torch

from evogan.config import Config
from evogan.run.engine import Evolution, evolve_run
from evogan.trainers.base import Trainer, population_metrics
from evogan.trainers.ga import GATrainer
from evogan.trainers.islands import IslandsTrainer

TINY = {"dataset": "digits", "population": 6, "samples_per_agent": 4, "disc_batch": 8,
        "disc_filters": 8, "progress": False, "generations": 2}  # fmt: skip


def test_population_metrics_are_exact_on_a_hand_made_population():
    metrics = population_metrics(torch.tensor([1.0, 3.0, 5.0]))
    assert metrics == {"fitness/best": 5.0, "fitness/mean": 3.0, "fitness/std": 2.0}


def test_population_metrics_of_one_agent_have_no_spread_and_best_can_come_from_outside():
    assert population_metrics(torch.tensor([2.5]))["fitness/std"] == 0.0
    assert population_metrics(torch.tensor([1.0, 2.0]), best=9.0)["fitness/best"] == 9.0


def test_every_registered_trainer_is_a_trainer_and_the_abstract_base_cannot_be_built():
    for trainer in ("ga", "es", "gradient", "egan"):
        population = {"gradient": 1, "egan": 2}.get(trainer, 6)
        run = Evolution.start(Config(**TINY | {"trainer": trainer, "population": population}))
        assert isinstance(run.parts.trainer, Trainer)
    with pytest.raises(TypeError):
        Trainer()  # type: ignore[abstract]


def test_a_trainer_without_islands_has_one_group_and_no_island_bests():
    run = Evolution.start(Config(**TINY))
    evolve_run(run, [])
    trainer = run.parts.trainer
    assert isinstance(trainer, GATrainer)
    assert trainer.island_bests(run.state) == [] and run.island_bests() == []
    (group,) = trainer.groups(run.state)
    assert torch.equal(group, run.state.population)
    assert torch.equal(trainer.agent_fitness(run.state), run.state.fitness)
    assert trainer.rebuilder() == trainer.rebuild


def test_islands_report_each_island_as_a_group_and_its_best():
    run = Evolution.start(Config(**TINY | {"islands": 2, "population": 8}))
    evolve_run(run, [])
    trainer = run.parts.trainer
    assert isinstance(trainer, IslandsTrainer)
    groups = trainer.groups(run.state)
    assert [len(g) for g in groups] == [4, 4]
    for group, island in zip(groups, run.state.islands, strict=True):
        assert torch.equal(group, island.population)
    bests = trainer.island_bests(run.state)
    assert [b[1] for b in bests] == [trainer.inner.best(i)[1] for i in run.state.islands]
    assert trainer.rebuilder() == trainer.inner.rebuild


def test_gradient_training_keeps_no_agent_fitness_and_rebuilds_nothing():
    run = Evolution.start(Config(**TINY | {"trainer": "gradient", "population": 1}))
    assert run.parts.trainer.agent_fitness(run.state) is None
    assert run.parts.trainer.rebuilder() is None


class Recorder:
    """Counts ``close`` calls of the part it wraps."""

    def __init__(self, inner):
        self.inner, self.closed = inner, 0

    def __getattr__(self, name):
        return getattr(self.inner, name)

    def close(self):
        self.closed += 1


def test_the_run_closes_its_scorer_and_its_trainer_once_when_it_ends():
    run = Evolution.start(Config(**TINY))
    scorer = Recorder(run.parts.arena.scorer)
    arena = dataclasses.replace(run.parts.arena, scorer=scorer)
    run.parts = dataclasses.replace(run.parts, arena=arena)
    evolve_run(run, [])
    assert scorer.closed == 1
