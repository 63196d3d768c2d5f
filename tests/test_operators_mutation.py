"""Mutation operators and sigma control: exact where possible, statistical with fixed seeds."""

import math

import pytest
import torch

from evogan.errors import EvoganError
from evogan.trainers.operators import (
    MUTATION,
    SIGMA_SCHEDULES,
    gaussian,
    reset,
    scheduled_sigma,
    self_adapt_sigma,
)


def gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def population(n: int = 8, length: int = 20, seed: int = 0) -> torch.Tensor:
    return torch.randn(n, length, generator=gen(seed))


def within(count: int, trials: int, p: float, sigmas: float = 4.0) -> bool:
    return abs(count - trials * p) <= sigmas * math.sqrt(trials * p * (1 - p))


@pytest.mark.parametrize("name", sorted(MUTATION))
def test_shape_dtype_and_input_untouched(name):
    pop = population()
    before = pop.clone()
    out = MUTATION[name](pop, rng=gen(), rate=0.5, sigma=0.1, init_std=1.0)
    assert out.shape == pop.shape and out.dtype == pop.dtype
    assert torch.equal(pop, before)
    assert not torch.equal(out, pop)


@pytest.mark.parametrize("name", sorted(MUTATION))
def test_determinism(name):
    pop = population(32)
    first = MUTATION[name](pop, rng=gen(3), rate=0.5)
    assert torch.equal(first, MUTATION[name](pop, rng=gen(3), rate=0.5))
    assert not torch.equal(first, MUTATION[name](pop, rng=gen(4), rate=0.5))


@pytest.mark.parametrize("name", sorted(MUTATION))
def test_rate_zero_is_identity(name):
    pop = population()
    assert torch.equal(MUTATION[name](pop, rng=gen(), rate=0.0), pop)


def test_reset_changes_at_most_one_gene_at_the_rate():
    pop = population(2000)
    changed = (reset(pop, rng=gen(1), rate=0.1) != pop).sum(dim=1)
    assert int(changed.max()) == 1
    assert within(int(changed.sum()), 2000, 0.1)


def test_reset_draws_fresh_values_from_init_std():
    # Parents far from 0: the new genes owe them nothing and follow N(0, 3^2).
    pop = torch.full((2000, 20), 1000.0)
    out = reset(pop, rng=gen(2), rate=1.0, init_std=3.0)
    changed = out != pop
    assert torch.equal(changed.sum(dim=1), torch.ones(2000, dtype=torch.long))
    fresh = out[changed]
    assert float(fresh.abs().max()) < 30.0
    assert abs(float(fresh.std()) - 3.0) < 0.25  # standard error of the std ~0.05


def test_reset_uses_per_gene_init_std():
    init_std = torch.cat([torch.zeros(10), torch.ones(10)])
    pop = torch.full((500, 20), 7.0)
    out = reset(pop, rng=gen(), rate=1.0, init_std=init_std)
    changed = out != pop
    assert bool((out[:, :10][changed[:, :10]] == 0).all())
    assert bool(changed[:, :10].any()) and bool(changed[:, 10:].any())


def test_gaussian_rate_and_sigma():
    pop = torch.zeros(200, 50)
    delta = gaussian(pop, rng=gen(5), rate=0.1, sigma=0.02)
    moved = delta != 0
    assert within(int(moved.sum()), 200 * 50, 0.1)
    assert abs(float(delta[moved].std()) / 0.02 - 1) < 0.1  # relative standard error ~0.022


def test_gaussian_leaves_other_genes_bit_identical():
    pop = population(64)
    out = gaussian(pop, rng=gen(), rate=0.3, sigma=0.5)
    untouched = out == pop
    assert 0 < int(untouched.sum()) < pop.numel()
    assert torch.equal(out[untouched], pop[untouched])


def test_gaussian_per_agent_sigma():
    sigma = torch.cat([torch.full((100,), 0.01), torch.full((100,), 0.1), torch.zeros(8)])
    delta = gaussian(torch.zeros(208, 50), rng=gen(6), rate=1.0, sigma=sigma)
    assert abs(float(delta[:100].std()) / 0.01 - 1) < 0.05  # relative standard error ~0.01
    assert abs(float(delta[100:200].std()) / 0.1 - 1) < 0.05
    assert torch.equal(delta[200:], torch.zeros(8, 50))


def test_gaussian_per_gene_init_std_scales_the_step():
    init_std = torch.cat([torch.zeros(25), torch.full((25,), 2.0)])
    delta = gaussian(torch.zeros(200, 50), rng=gen(), rate=1.0, sigma=0.1, init_std=init_std)
    assert torch.equal(delta[:, :25], torch.zeros(200, 25))
    assert abs(float(delta[:, 25:].std()) / 0.2 - 1) < 0.05


def test_self_adaptation_keeps_sigma_positive_and_finite():
    sigma = torch.full((1000,), 0.05)
    for tau in (0.1, 50.0):
        out = self_adapt_sigma(sigma, rng=gen(), tau=tau)
        assert bool((out > 0).all()) and bool(torch.isfinite(out).all())
    assert torch.equal(sigma, torch.full((1000,), 0.05))


def test_self_adaptation_default_tau_from_genome_length():
    sigma = torch.full((4000,), 0.05)
    out = self_adapt_sigma(sigma, rng=gen(8), n_genes=50)
    log_ratio = torch.log(out / sigma)
    assert abs(float(log_ratio.std()) / (1 / math.sqrt(100)) - 1) < 0.06  # rel. s.e. ~0.011
    assert torch.equal(self_adapt_sigma(sigma, rng=gen(), tau=0.0), sigma)


def test_self_adaptation_is_deterministic_and_explicit_tau_wins():
    sigma = torch.full((16,), 0.05)
    first = self_adapt_sigma(sigma, rng=gen(1), tau=0.3, n_genes=10_000)
    assert torch.equal(first, self_adapt_sigma(sigma, rng=gen(1), tau=0.3))
    assert not torch.equal(first, self_adapt_sigma(sigma, rng=gen(2), tau=0.3))


def test_constant_schedule():
    assert set(SIGMA_SCHEDULES) >= {"constant", "exponential"}
    for generation in (0, 1, 100):
        assert scheduled_sigma(generation, sigma0=0.3, schedule="constant") == 0.3


@pytest.mark.parametrize(
    ("generation", "expected"), [(0, 1.0), (1, 0.5), (2, 0.25), (3, 0.2), (50, 0.2)]
)
def test_exponential_schedule_exact(generation, expected):
    sigma = scheduled_sigma(
        generation, sigma0=1.0, schedule="exponential", decay=0.5, sigma_min=0.2
    )
    assert sigma == expected


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda p: reset(p, rng=gen(), rate=1.5), "mutation.rate"),
        (lambda p: gaussian(p, rng=gen(), rate=-0.1), "mutation.rate"),
        (lambda p: gaussian(p, rng=gen(), rate=float("nan")), "mutation.rate"),
        (lambda p: gaussian(p, rng=gen(), sigma=-1.0), "mutation.sigma"),
        (lambda p: gaussian(p, rng=gen(), sigma=float("inf")), "mutation.sigma"),
        (lambda p: gaussian(p, rng=gen(), sigma=torch.ones(3)), r"\[8\] tensor"),
        (lambda p: reset(p, rng=gen(), init_std=torch.ones(19)), r"\[20\] tensor"),
        (lambda p: reset(p, rng=gen(), init_std=-1.0), "mutation.init_std"),
        (lambda p: reset(p.long(), rng=gen()), "floating-point"),
        (lambda p: self_adapt_sigma(torch.zeros(4), rng=gen(), tau=0.1), "> 0"),
        (lambda p: self_adapt_sigma(torch.ones(4), rng=gen()), "n_genes"),
        (lambda p: self_adapt_sigma(torch.ones(4), rng=gen(), tau=-1.0), "mutation.tau"),
        (lambda p: scheduled_sigma(0, sigma0=0.1, schedule="cosine"), "mutation.schedule"),
        (lambda p: scheduled_sigma(0, sigma0=0.1, schedule="exponential", decay=0), "decay"),
        (lambda p: scheduled_sigma(0, sigma0=0.1, schedule="exponential", decay=1.5), "decay"),
        (lambda p: scheduled_sigma(0, sigma0=-0.1, schedule="constant"), "mutation.sigma0"),
        (lambda p: scheduled_sigma(-1, sigma0=0.1, schedule="constant"), "generation"),
        (lambda p: scheduled_sigma(0, sigma0=0.1, schedule="constant", sigma_min=-1), "sigma_min"),
    ],
)
def test_bad_options_raise(call, message):
    with pytest.raises(EvoganError, match=message):
        call(population())


@pytest.mark.parametrize("name", sorted(MUTATION))
def test_inplace_changes_the_input_into_the_copy_result(name):
    pop = population(64)
    copy = MUTATION[name](pop, rng=gen(5), rate=0.5, sigma=0.1)
    out = MUTATION[name](pop, rng=gen(5), rate=0.5, sigma=0.1, inplace=True)
    assert out.data_ptr() == pop.data_ptr()
    assert torch.equal(pop, copy)
