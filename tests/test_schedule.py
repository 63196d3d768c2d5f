"""The run's clock and the schedules that read it."""

import pytest
import torch
from conftest import TINY

from evogan.config import Config
from evogan.run.engine import Evolution, evolve
from evogan.schedule import RunClock, anneal, linear_to_zero


def test_progress_of_a_time_budget_wins_over_generations():
    clock = RunClock(time_budget=100.0, generation_limit=10, elapsed=25.0, generation=9)
    assert clock.progress == 0.25
    clock.elapsed = 250.0
    assert clock.progress == 1.0  # never past the end


def test_progress_by_generations_and_without_a_budget():
    assert RunClock(generation_limit=8, generation=2).progress == 0.25
    assert RunClock(generation=50).progress == 0.0


def test_anneal_is_exponential_between_its_ends():
    assert anneal(0.8, 0.2, 0.0) == 0.8
    assert anneal(0.8, 0.2, 1.0) == pytest.approx(0.2)
    assert anneal(0.8, 0.2, 0.5) == pytest.approx(0.4)  # the geometric mean
    assert anneal(0.8, None, 0.7) == 0.8


def test_linear_to_zero():
    assert [linear_to_zero(0.2, p) for p in (0.0, 0.5, 1.0)] == pytest.approx([0.2, 0.1, 0.0])


def test_the_engine_moves_the_clock_before_each_generation():
    """ES reads progress: with 4 generations, generation i samples at progress (i - 1) / 4."""
    config = Config(**TINY, trainer="es", es_sigma=0.8, es_sigma_final=0.2, generations=4)
    result = evolve(config)
    sigmas = [row["es/sigma"] for row in result.history]
    assert sigmas == pytest.approx([0.8 * 0.25 ** (i / 4) for i in range(4)])
    assert result.evolution.parts.arena.clock.generation == 3  # as the last step saw it


def test_es_lr_schedule_reaches_its_final_value():
    config = Config(**TINY, trainer="es", es_lr=0.4, es_lr_final=0.04, generations=2)
    run = Evolution.start(config)
    run.parts.arena.clock.generation = 2  # as if at the end
    trainer = run.parts.trainer
    eps = torch.zeros(4, run.parts.layout.size)
    _, metrics = trainer.tell(run.state, eps, torch.arange(8.0), progress=1.0)
    assert metrics["es/lr"] == pytest.approx(0.04)
