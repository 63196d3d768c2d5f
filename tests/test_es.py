"""Evolution strategies as pure ask / tell steps on fixed objectives, without any GAN."""

import dataclasses
import math

import pytest
import torch

from evogan.genome import GenomeLayout
from evogan.networks import GeneratorSpec, build_generator
from evogan.trainers.es import (
    PGPE_MAX_CHANGE,
    ESTrainer,
    adapt_sigma,
    default_sigma_lr,
)


def layout() -> GenomeLayout:
    """A tiny mlp's layout: only its size and init spreads matter to ES."""
    spec = GeneratorSpec(kind="basis", image_size=4, latent_dim=2, hidden=3, channels=1,
                         basis_size=2, network=None, bias=True, init="scaled")  # fmt: skip
    return GenomeLayout.of(build_generator(spec))


def trainer(**changes) -> ESTrainer:
    options = {"layout": layout(), "population_size": 32, "sigma0": 0.5, "lr": 0.1,
               "adapt": "none", "sigma_lr": 0.1} | changes  # fmt: skip
    return ESTrainer(**options)


def minimise_quadratic(es: ESTrainer, generations: int) -> tuple[float, float]:
    """Distance of the mean to a fixed optimum (normalised units) before and after."""
    rng = torch.Generator().manual_seed(0)
    target = torch.linspace(-1, 1, es.layout.size)
    state = es.init(rng)
    start = (state.mean - target).norm().item()
    for g in range(generations):
        eps, samples = es.ask(state, rng, progress=g / generations)
        fitness = -(samples - target).square().sum(dim=1)
        state, _ = es.tell(state, eps, fitness, progress=g / generations)
    return start, (state.mean - target).norm().item()


@pytest.mark.parametrize(
    "changes",
    [{}, {"optimizer": "clipup"}, {"adapt": "snes", "sigma_lr": 0.05}, {"adapt": "pgpe"},
     {"sigma_final": 0.05, "lr_final": 0.01, "beta1": 0.5}],
)  # fmt: skip
def test_es_minimises_a_fixed_quadratic(changes):
    start, end = minimise_quadratic(trainer(**changes), 150)
    assert end < 0.35 * start


def test_shrinking_steps_end_closer_than_constant_ones():
    _, constant = minimise_quadratic(trainer(), 300)
    _, annealed = minimise_quadratic(trainer(sigma_final=0.02, lr_final=0.005), 300)
    assert annealed < constant


def test_ask_samples_antithetic_pairs_at_the_scheduled_sigma():
    es = trainer(sigma_final=0.05)
    state = es.init(torch.Generator().manual_seed(1))
    eps, samples = es.ask(state, torch.Generator().manual_seed(2), progress=1.0)
    pairs = len(eps)
    assert samples.shape == (32, es.layout.size)
    assert torch.allclose(samples[:pairs] - state.mean, 0.05 * eps, atol=1e-6)
    assert torch.allclose(samples[pairs:] - state.mean, -0.05 * eps, atol=1e-6)


def test_tell_is_pure():
    es = trainer()
    state = es.init(torch.Generator().manual_seed(1))
    before = state.mean.clone()
    eps, _ = es.ask(state, torch.Generator().manual_seed(2))
    after, metrics = es.tell(state, eps, torch.arange(32.0))
    assert torch.equal(state.mean, before) and after.generation == state.generation + 1
    assert metrics["es/step_norm"] > 0


def test_snes_default_rate_counts_genes_not_agents():
    assert default_sigma_lr("snes", 2656) == pytest.approx((3 + math.log(2656)) / (5 * 2656**0.5))
    assert default_sigma_lr("pgpe", 2656) == 0.1


def test_pgpe_grows_sigma_where_larger_steps_paid_off():
    """Pair 0 has |eps| > 1 on gene 0 and the best utilities: gene 0's sigma grows."""
    eps = torch.tensor([[2.0, 0.0], [0.0, 0.0]])
    plus, minus = torch.tensor([0.5, -0.5]), torch.tensor([0.5, -0.5])
    sigma = adapt_sigma("pgpe", torch.tensor([1.0, 1.0]), plus, minus, eps, 0.1)
    # gene 0: 0.1 * mean(0.5 * 3, -0.5 * -1) = 0.1; gene 1: 0.1 * mean(-0.5, 0.5) = 0
    assert torch.allclose(sigma, torch.tensor([1.1, 1.0]))


def test_pgpe_changes_sigma_by_at_most_its_limit():
    eps = torch.tensor([[10.0]])
    grown = adapt_sigma("pgpe", torch.tensor([2.0]), torch.ones(1), torch.ones(1), eps, 10.0)
    shrunk = adapt_sigma("pgpe", torch.tensor([2.0]), -torch.ones(1), -torch.ones(1), eps, 10.0)
    assert grown.item() == pytest.approx(2.0 * (1 + PGPE_MAX_CHANGE))
    assert shrunk.item() == pytest.approx(2.0 * (1 - PGPE_MAX_CHANGE))


def test_the_means_moving_average_has_exact_warmed_up_weights():
    es = trainer(mean_ema=0.9)
    state = es.init(torch.Generator().manual_seed(1))
    means, averages = [state.mean], []
    for g in range(3):
        eps, _ = es.ask(state, torch.Generator().manual_seed(g))
        state, _ = es.tell(state, eps, torch.arange(32.0).flip(0) if g % 2 else torch.arange(32.0))
        means.append(state.mean)
        averages.append(state.average)
    want = means[0]
    for t in range(3):
        decay = min(0.9, (1 + t) / (10 + t))  # 0.1, 2/11, 0.25
        want = decay * want + (1 - decay) * means[t + 1]
        assert torch.allclose(averages[t], want, atol=1e-6)
    assert torch.allclose(es.best(state)[0], state.average * es.scale)
    plain = trainer()
    assert plain.best(dataclasses.replace(state, average=None))[0].equal(state.mean * plain.scale)


def test_the_average_of_jittering_means_lands_closer_than_the_last_mean():
    """Constant steps leave the mean jittering around the optimum; its average does not."""
    es = trainer(mean_ema=0.95)
    rng = torch.Generator().manual_seed(0)
    target = torch.linspace(-1, 1, es.layout.size)
    state = es.init(rng)
    for _ in range(400):
        eps, samples = es.ask(state, rng)
        state, _ = es.tell(state, eps, -(samples - target).square().sum(dim=1))
    assert state.average is not None
    assert (state.average - target).norm() < 0.7 * (state.mean - target).norm()
