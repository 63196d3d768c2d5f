"""The local population evaluator against a per-agent reference loop."""

import copy

import torch
from conftest import gen, make_generator

from evogan.game import LocalScorer
from evogan.game.critic import score
from evogan.genome import GenomeLayout, generate, load_genome
from evogan.networks import build_discriminator


def test_logits_and_spread_match_a_per_agent_loop():
    model = make_generator("basis")
    layout = GenomeLayout.of(model)
    population = layout.random_population(5, rng=gen(1))
    latents = torch.randn(7, model.spec.latent_dim, generator=gen(2))
    disc = build_discriminator(8, filters=8)
    logits, spread, mmd = LocalScorer(model, layout).evaluate(population, latents, disc)
    assert mmd is None  # no reference images
    assert logits.shape == (5, 7) and spread.shape == (5,)
    for i, genome in enumerate(population):
        agent = load_genome(copy.deepcopy(model), layout, genome)
        with torch.no_grad():
            fakes = agent(latents)
        torch.testing.assert_close(logits[i], score(disc, fakes))
        torch.testing.assert_close(spread[i], fakes.std(dim=0).mean())


def test_spread_is_zero_for_an_agent_that_ignores_its_latent():
    model = make_generator("mlp")
    layout = GenomeLayout.of(model)
    population = layout.random_population(2, rng=gen(3))
    first_weight = layout.segments[0]  # the weights that read z
    population[0, first_weight[0] : first_weight[1]] = 0.0
    latents = torch.randn(6, model.spec.latent_dim, generator=gen(4))
    spread = LocalScorer(model, layout).evaluate(population, latents, build_discriminator(8)).spread
    assert spread[0].item() < 1e-6  # zero up to rounding of the mean
    assert spread[1].item() > 0.01


def test_groups_of_agents_do_not_change_the_result(monkeypatch):
    model = make_generator("conv")
    layout = GenomeLayout.of(model)
    population = layout.random_population(6, rng=gen(5))
    latents = torch.randn(4, model.spec.latent_dim, generator=gen(6))
    disc = build_discriminator(8, filters=8)
    reference = torch.rand(5, 1, 8, 8, generator=gen(7)) * 2 - 1
    whole = LocalScorer(model, layout).evaluate(population, latents, disc, reference=reference)
    monkeypatch.setattr("evogan.game.scoring.SCORING_CHUNK", 8)  # two agents per group
    grouped = LocalScorer(model, layout).evaluate(population, latents, disc, reference=reference)
    for a, b in zip(whole, grouped, strict=True):
        torch.testing.assert_close(a, b)
    assert generate(model, layout, population, latents).shape == (6, 4, 1, 8, 8)
