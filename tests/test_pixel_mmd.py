"""--pixel-mmd-weight: an agent's fitness loses its squared MMD to real images in pixels."""

import copy
import math

import pytest
import torch
from conftest import TINY, gen, make_generator, straight_and_resumed

from evogan.config import Config
from evogan.errors import EvoganError
from evogan.game import LocalScorer
from evogan.game.arena import PIXEL_MMD_REALS
from evogan.game.fitness import squared_mmd
from evogan.game.scoring import pixel_mmd
from evogan.genome import GenomeLayout, load_genome
from evogan.networks import build_discriminator
from evogan.run.engine import Evolution, evolve

MMD = {**TINY, "trainer": "es", "pixel_mmd_weight": 2.0}


def test_squared_mmd_exact():
    """Reals at 0 and 2 (kernel width 4): an agent on the reals' midpoint, and one far off."""
    real = torch.tensor([[0.0], [2.0]])
    fake = torch.tensor([[[1.0], [1.0]], [[10.0], [10.0]]])
    e = math.exp
    # within the reals e^-1; the midpoint agent: within 1, across e^-1/4 for all four pairs
    midpoint = e(-1) + 1 - 2 * e(-0.25)
    far = e(-1) + 1 - (e(-25) + e(-16))  # across: distances 10 and 8, twice each
    assert squared_mmd(fake, real).tolist() == pytest.approx([midpoint, far], rel=1e-6)


def test_pixel_mmd_ranks_real_looking_batches_first():
    reals = torch.rand(64, 1, 8, 8, generator=gen(0)) * 2 - 1
    fresh = torch.rand(2, 16, 1, 8, 8, generator=gen(1)) * 2 - 1  # the same distribution
    blank = torch.full((1, 16, 1, 8, 8), -1.0)
    one_image = reals[:1].expand(16, -1, -1, -1)[None]  # a real image, drawn every time
    mmd = pixel_mmd(torch.cat([fresh, blank, one_image]), reals)
    assert mmd[:2].abs().max() < 0.05  # unbiased: about 0 for fresh draws
    assert mmd[2] > mmd[3] > 0.3  # a collapsed agent is far off even on a real image


def test_the_scorer_measures_each_agents_own_fakes():
    model = make_generator("basis")
    layout = GenomeLayout.of(model)
    population = layout.random_population(5, rng=gen(1))
    latents = torch.randn(7, model.spec.latent_dim, generator=gen(2))
    reference = torch.rand(9, 1, 8, 8, generator=gen(3)) * 2 - 1
    disc = build_discriminator(8, filters=8)
    scores = LocalScorer(model, layout).evaluate(population, latents, disc, reference=reference)
    assert scores.pixel_mmd is not None and scores.pixel_mmd.shape == (5,)
    for i, genome in enumerate(population):
        agent = load_genome(copy.deepcopy(model), layout, genome)
        with torch.no_grad():
            fakes = agent(latents)
        expected = squared_mmd(fakes.flatten(1)[None], reference.flatten(1))[0]
        torch.testing.assert_close(scores.pixel_mmd[i], expected)


def test_the_fitness_loses_weight_times_the_mmd():
    """Scored twice from the same streams, with and without the term: the fitness differs
    by exactly -weight * the pixel MMD to the reference the arena drew."""
    run = Evolution.start(Config(**MMD))
    arena, population = run.parts.arena, run.state.population
    streams = copy.deepcopy(run.streams)
    with_mmd, metrics = arena.score(population, copy.deepcopy(streams))
    without, plain = arena.__class__(**{**vars(arena), "pixel_mmd_weight": 0.0}).score(
        population, copy.deepcopy(streams)
    )
    streams.latents.manual_seed(0)  # the latents do not matter for the reference draw
    arena.real_batch(arena.samples_per_agent, streams)  # the reals come first
    reference = arena.real_batch(PIXEL_MMD_REALS, streams)
    latents = arena.latents(arena.samples_per_agent, rng=copy.deepcopy(run.streams).latents)
    mmd = arena.scorer.evaluate(population, latents, arena.critic.model, reference=reference)
    assert mmd.pixel_mmd is not None
    torch.testing.assert_close(with_mmd, without - 2.0 * mmd.pixel_mmd)
    assert metrics["fitness/pixel_mmd"] == pytest.approx(mmd.pixel_mmd.mean().item())
    assert "fitness/pixel_mmd" not in plain


def test_a_resumed_run_equals_the_straight_one(tmp_path):
    config = Config(**MMD)
    straight, resumed = straight_and_resumed(config, tmp_path)
    assert torch.equal(resumed.evolution.state.mean, straight.evolution.state.mean)
    plain = evolve(config.replace(pixel_mmd_weight=0.0), generations=4)
    assert not torch.equal(plain.evolution.state.mean, straight.evolution.state.mean)


@pytest.mark.parametrize("trainer", ["gradient", "egan"])
def test_a_trainer_without_a_scored_population_refuses_it(trainer):
    with pytest.raises(EvoganError, match=f"--pixel-mmd-weight works with .* not {trainer}"):
        Evolution.start(Config(**{**MMD, "trainer": trainer}))
