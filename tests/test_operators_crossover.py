"""Crossover operators: structure of the children checked exactly, rates statistically."""

import math

import pytest
import torch

from evogan.errors import EvoganError
from evogan.trainers.operators import (
    CROSSOVER,
    RowRng,
    blend,
    crossover_population,
    layer,
    uniform,
)

SEGMENTS = [(0, 5), (5, 12), (12, 20)]
SWAPS = sorted(name for name in CROSSOVER if name != "blend")


def gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def parents(n: int = 8, length: int = 20, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    g = gen(seed)
    return torch.randn(n, length, generator=g), torch.randn(n, length, generator=g)


def within(count: int, trials: int, p: float, sigmas: float = 4.0) -> bool:
    return abs(count - trials * p) <= sigmas * math.sqrt(trials * p * (1 - p))


def cross(name: str, a, b, seed: int = 0):
    return CROSSOVER[name](a, b, rng=gen(seed), segments=SEGMENTS)


@pytest.mark.parametrize("name", sorted(CROSSOVER))
def test_shape_dtype_and_inputs_untouched(name):
    a, b = parents()
    a0, b0 = a.clone(), b.clone()
    c1, c2 = cross(name, a, b)
    assert c1.shape == c2.shape == a.shape
    assert c1.dtype == c2.dtype == a.dtype
    assert torch.equal(a, a0) and torch.equal(b, b0)


@pytest.mark.parametrize("name", sorted(CROSSOVER))
def test_determinism(name):
    a, b = parents()
    first = cross(name, a, b, seed=3)
    again = cross(name, a, b, seed=3)
    other = cross(name, a, b, seed=4)
    assert torch.equal(first[0], again[0]) and torch.equal(first[1], again[1])
    assert not torch.equal(first[0], other[0])


@pytest.mark.parametrize("name", SWAPS)
def test_swap_children_are_complementary(name):
    a, b = parents(64)
    c1, c2 = cross(name, a, b)
    assert torch.equal(c1 + c2, a + b)
    from_b = c1 == b  # parents drawn from randn never share a value
    assert torch.equal(c1, torch.where(from_b, b, a))
    assert torch.equal(c2, torch.where(from_b, a, b))


def test_single_point_is_prefix_and_suffix_with_one_cut():
    a, b = parents(500)
    c1, _ = cross("single-point", a, b)
    from_b = (c1 == b).long()
    cuts = 20 - from_b.sum(dim=1)
    assert torch.equal(from_b, (torch.arange(20) >= cuts[:, None]).long())
    assert set(cuts.tolist()) == set(range(1, 20))


def test_two_point_swaps_one_inner_block():
    a, b = parents(500)
    c1, _ = cross("two-point", a, b)
    from_b = c1 == b
    lo = from_b.long().argmax(dim=1)
    hi = lo + from_b.sum(dim=1)
    position = torch.arange(20)
    assert torch.equal(from_b, (position >= lo[:, None]) & (position < hi[:, None]))
    assert int(lo.min()) >= 1 and int(hi.max()) <= 19 and bool((hi > lo).all())


def test_uniform_swap_fraction():
    a, b = parents(200, 50)
    c1, _ = uniform(a, b, rng=gen(), swap_prob=0.3)
    assert within(int((c1 == b).sum()), 200 * 50, 0.3)


@pytest.mark.parametrize(("swap_prob", "child1_is"), [(0.0, "a"), (1.0, "b")])
def test_uniform_extreme_probabilities(swap_prob, child1_is):
    a, b = parents()
    c1, c2 = uniform(a, b, rng=gen(), swap_prob=swap_prob)
    assert torch.equal(c1, a if child1_is == "a" else b)
    assert torch.equal(c2, b if child1_is == "a" else a)


def test_layer_segments_come_whole_from_one_parent():
    a, b = parents(64)
    c1, _ = layer(a, b, rng=gen(), segments=SEGMENTS)
    for start, stop in SEGMENTS:
        from_b = (c1[:, start:stop] == b[:, start:stop]).float()
        assert torch.equal(from_b.amin(dim=1), from_b.amax(dim=1))
        assert 0 < int(from_b[:, 0].sum()) < 64  # both parents give this layer somewhere


def test_blend_children_lie_between_parents():
    a, b = parents(64)
    c1, c2 = blend(a, b, rng=gen())
    low, high = torch.minimum(a, b) - 1e-6, torch.maximum(a, b) + 1e-6
    for child in (c1, c2):
        assert bool(((child >= low) & (child <= high)).all())
    assert torch.allclose(c1 + c2, a + b, atol=1e-6)
    w = (c1 - b) / (a - b)  # one weight per pair
    assert torch.allclose(w, w[:, :1].expand_as(w), atol=1e-3)
    assert float(w.min()) < 0.25 and float(w.max()) > 0.75  # alpha=0.5 spans U(0, 1)


def test_blend_alpha_bounds_the_weight():
    a, b = parents(200)
    c1, _ = blend(a, b, rng=gen(), alpha=0.1)
    w = ((c1 - b) / (a - b)).mean(dim=1)
    assert float(w.min()) >= 0.4 - 1e-4 and float(w.max()) <= 0.6 + 1e-4
    mid1, mid2 = blend(a, b, rng=gen(), alpha=0.0)
    assert torch.allclose(mid1, (a + b) / 2, atol=1e-6)
    assert torch.allclose(mid1, mid2, atol=1e-6)


@pytest.mark.parametrize("name", sorted(CROSSOVER))
def test_rate_zero_copies_parents(name):
    a, b = parents()
    c1, c2 = crossover_population(a, b, fn=CROSSOVER[name], rate=0.0, rng=gen(), segments=SEGMENTS)
    assert torch.equal(c1, a) and torch.equal(c2, b)
    assert c1.data_ptr() != a.data_ptr() and c2.data_ptr() != b.data_ptr()


@pytest.mark.parametrize("name", ["single-point", "two-point"])
def test_rate_is_the_fraction_of_crossed_pairs(name):
    a, b = torch.zeros(2000, 20), torch.ones(2000, 20)
    a0 = a.clone()
    c1, c2 = crossover_population(a, b, fn=CROSSOVER[name], rate=0.3, rng=gen(9))
    crossed = (c1 != a).any(dim=1)
    assert within(int(crossed.sum()), 2000, 0.3)
    assert torch.equal(c1[~crossed], a[~crossed]) and torch.equal(c2[~crossed], b[~crossed])
    assert torch.equal(c1 + c2, a + b)
    assert torch.equal(a, a0)


def test_rate_one_crosses_every_pair_and_passes_options():
    a, b = parents()
    c1, c2 = crossover_population(a, b, fn=uniform, rate=1.0, rng=gen(), swap_prob=1.0)
    assert torch.equal(c1, b) and torch.equal(c2, a)


def test_crossover_population_is_deterministic():
    a, b = parents(64)
    run = [
        crossover_population(a, b, fn=CROSSOVER["uniform"], rate=0.5, rng=gen(seed))
        for seed in (1, 1, 2)
    ]
    assert torch.equal(run[0][0], run[1][0]) and torch.equal(run[0][1], run[1][1])
    assert not torch.equal(run[0][0], run[2][0])


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda a, b: crossover_population(a, b, fn=uniform, rate=-0.1, rng=gen()), "rate"),
        (lambda a, b: crossover_population(a, b, fn=uniform, rate=1.5, rng=gen()), "rate"),
        (
            lambda a, b: crossover_population(a, b, fn=uniform, rate=1, rng=gen(), alpha=1),
            "'alpha' is not accepted by uniform",
        ),
        (lambda a, b: uniform(a, b, rng=gen(), swap_prob=2.0), "crossover.swap_prob"),
        (lambda a, b: blend(a, b, rng=gen(), alpha=0.6), "crossover.alpha"),
        (lambda a, b: blend(a, b, rng=gen(), alpha=-0.1), "crossover.alpha"),
        (lambda a, b: layer(a, b, rng=gen()), "segments"),
        (lambda a, b: layer(a, b, rng=gen(), segments=[(0, 5), (6, 20)]), "segments"),
        (lambda a, b: layer(a, b, rng=gen(), segments=[(0, 5), (5, 19)]), "cover"),
        (lambda a, b: layer(a, b, rng=gen(), segments=[(0, 12), (5, 20)]), "segments"),
        (lambda a, b: uniform(a, b[:4], rng=gen()), "shape"),
        (lambda a, b: CROSSOVER["single-point"](a[:, :1], b[:, :1], rng=gen()), ">= 2"),
        (lambda a, b: CROSSOVER["two-point"](a[:, :2], b[:, :2], rng=gen()), ">= 3"),
    ],
)
def test_bad_options_raise(call, message):
    with pytest.raises(EvoganError, match=message):
        call(*parents())


@pytest.mark.parametrize("name", sorted(CROSSOVER))
def test_rate_one_crosses_every_pair_with_the_operator_itself(name):
    a, b = parents()
    rows = RowRng(4, torch.arange(len(a)))
    c1, c2 = crossover_population(a, b, fn=CROSSOVER[name], rate=1.0, rng=rows, segments=SEGMENTS)
    rng = RowRng(4, torch.arange(len(a)))
    rng.bits()  # the pair coins come first
    e1, e2 = CROSSOVER[name](a, b, rng=rng, segments=SEGMENTS)
    assert torch.equal(c1, e1) and torch.equal(c2, e2)
    assert not torch.equal(c1, a)
