"""Selection operators: exact checks on hand-made fitness, loose statistical checks."""

import math

import pytest
import torch

from evogan.errors import EvoganError
from evogan.trainers.operators import SELECTION, elite_indices, ranking, tournament, truncation

# Sorted best first with stable ties: 5 (2), 5 (3), 4 (6), 3 (0), 2 (5), 1 (1), 1 (7), 0 (4).
FITNESS = torch.tensor([3.0, 1.0, 5.0, 5.0, 0.0, 2.0, 4.0, 1.0])
ORDER = [2, 3, 6, 0, 5, 1, 7, 4]


def gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def within(count: int, trials: int, p: float, sigmas: float = 4.0) -> bool:
    """Binomial count within ``sigmas`` standard deviations of its mean."""
    return abs(count - trials * p) <= sigmas * math.sqrt(trials * p * (1 - p))


def test_ranking_is_stable_descending():
    assert ranking(FITNESS).tolist() == ORDER


@pytest.mark.parametrize("n", [0, 1, 3, 8])
def test_elite_indices_exact(n):
    elites = elite_indices(FITNESS, n)
    assert elites.dtype == torch.int64
    assert elites.tolist() == ORDER[:n]


@pytest.mark.parametrize("name", sorted(SELECTION))
@pytest.mark.parametrize("n", [0, 1, 13])
def test_shape_dtype_and_input_untouched(name, n):
    fitness = FITNESS.clone()
    picked = SELECTION[name](fitness, n, rng=gen())
    assert picked.shape == (n,)
    assert picked.dtype == torch.int64
    assert bool(((picked >= 0) & (picked < len(fitness))).all())
    assert torch.equal(fitness, FITNESS)


@pytest.mark.parametrize("name", sorted(SELECTION))
def test_determinism(name):
    fitness = torch.randn(32, generator=gen(1))
    first = SELECTION[name](fitness, 50, rng=gen(7))
    assert torch.equal(first, SELECTION[name](fitness, 50, rng=gen(7)))
    assert not torch.equal(first, SELECTION[name](fitness, 50, rng=gen(8)))


@pytest.mark.parametrize(("fraction", "kept"), [(0.25, 2), (0.3, 3), (0.125, 1), (1.0, 8)])
def test_truncation_picks_only_the_top(fraction, kept):
    picked = truncation(FITNESS, 400, rng=gen(), fraction=fraction)
    assert set(picked.tolist()) == set(ORDER[:kept])


def test_truncation_ceil_is_not_fooled_by_float_error():
    # 0.1 * 30 is 3.0000000000000004 in floating point: still 3 survivors.
    fitness = torch.arange(30.0)
    picked = truncation(fitness, 300, rng=gen(), fraction=0.1)
    assert set(picked.tolist()) == {29, 28, 27}


def test_truncation_ties_go_to_the_lower_index():
    fitness = torch.tensor([1.0, 1.0, 1.0, 1.0, 0.0, 0.0, 0.0, 0.0])
    picked = truncation(fitness, 400, rng=gen(), fraction=0.25)
    assert set(picked.tolist()) == {0, 1}


def test_truncation_is_uniform_among_survivors():
    picked = truncation(FITNESS, 4000, rng=gen(3), fraction=0.5)
    counts = torch.bincount(picked, minlength=8)
    for agent in ORDER[:4]:
        assert within(int(counts[agent]), 4000, 0.25)


def test_tournament_with_a_large_k_returns_the_best():
    # k draws with replacement miss the best with probability (7/8)^k, ~2e-12 at k=200.
    picked = tournament(FITNESS, 100, rng=gen(), k=200)
    assert set(picked.tolist()) == {2}  # 5.0 at index 2 beats the tied 5.0 at index 3


def test_tournament_ties_go_to_the_lower_index():
    picked = tournament(torch.zeros(8), 100, rng=gen(), k=200)
    assert set(picked.tolist()) == {0}


def test_tournament_k1_is_uniform():
    picked = tournament(FITNESS, 8000, rng=gen(5), k=1)
    counts = torch.bincount(picked, minlength=8)
    assert all(within(int(c), 8000, 1 / 8) for c in counts)


def test_tournament_pressure_grows_with_k():
    # The best agent wins a k-tournament with probability 1 - (7/8)^k.
    for k, seed in [(2, 11), (4, 12)]:
        picked = tournament(torch.arange(8.0), 4000, rng=gen(seed), k=k)
        assert within(int((picked == 7).sum()), 4000, 1 - (7 / 8) ** k)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: truncation(FITNESS, 4, rng=gen(), fraction=0), "selection.fraction"),
        (lambda: truncation(FITNESS, 4, rng=gen(), fraction=1.5), "selection.fraction"),
        (lambda: truncation(FITNESS, 4, rng=gen(), fraction=float("nan")), "fraction"),
        (lambda: truncation(FITNESS, -1, rng=gen()), "selection.n"),
        (lambda: tournament(FITNESS, 4, rng=gen(), k=0), "selection.k"),
        (lambda: tournament(FITNESS, -2, rng=gen()), "selection.n"),
        (lambda: elite_indices(FITNESS, -1), "selection.n"),
        (lambda: elite_indices(FITNESS, 9), "elite count"),
        (lambda: truncation(torch.zeros(2, 4), 4, rng=gen()), "fitness"),
        (lambda: tournament(torch.zeros(0), 4, rng=gen()), "fitness"),
    ],
)
def test_bad_options_raise(call, message):
    with pytest.raises(EvoganError, match=message):
        call()


def test_fraction_message_is_one_line():
    with pytest.raises(EvoganError) as error:
        truncation(FITNESS, 4, rng=gen(), fraction=0)
    assert str(error.value) == "selection.fraction must be in (0, 1], got 0"


@pytest.mark.parametrize(
    "select",
    [
        lambda f: truncation(f, 4, rng=gen()),
        lambda f: tournament(f, 4, rng=gen()),
        lambda f: elite_indices(f, 2),
    ],
)
def test_nan_fitness_raises(select):
    fitness = FITNESS.clone()
    fitness[[1, 5]] = float("nan")
    with pytest.raises(EvoganError, match="fitness contains NaN for 2 agents"):
        select(fitness)
