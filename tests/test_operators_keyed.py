"""Counter-based row streams: exact against a pure-Python hash, rows independent, sound
distributions."""

import math
from statistics import NormalDist

import pytest
import torch

from evogan.errors import EvoganError
from evogan.trainers.operators.keyed import (
    DRAWS,
    GOLDEN,
    PRIME,
    RowRng,
    normal_table,
    row_rng,
    signed32,
    splitmix64,
)


def py_fmix32(x: int) -> int:
    x &= 0xFFFFFFFF
    x ^= x >> 16
    x = (x * 0x85EBCA6B) & 0xFFFFFFFF
    x ^= x >> 13
    x = (x * 0xC2B2AE35) & 0xFFFFFFFF
    return x ^ (x >> 16)


def test_bits_equal_their_pure_python_definition():
    """37 x 53 words: odd sizes, so vectorised loops and their scalar tails both run."""
    keys = torch.arange(37) * 5
    rng = RowRng(12345, keys, stream=3)
    rng.bits()  # draw 0 of each row
    got = rng.bits(53)  # draw 1
    mixed = splitmix64(12345 * 0x100000001B3 + 3)
    rows, genes = mixed & 0xFFFFFFFF, mixed >> 32
    want = [
        [signed32(py_fmix32(py_fmix32(rows + (k * DRAWS + 1) * GOLDEN)
                            + py_fmix32(genes + j * PRIME))) for j in range(53)]
        for k in keys.tolist()
    ]  # fmt: skip
    assert torch.equal(got, torch.tensor(want, dtype=torch.int32))


def test_a_rows_numbers_do_not_depend_on_the_other_rows():
    keys = torch.tensor([4, 9, 0, 7, 7, 100])
    whole = RowRng(5, keys)
    drawn = [whole.bits(11), whole.uniform(), whole.normal(7), whole.integers(3, 40)]
    for i in range(len(keys)):
        alone = RowRng(5, keys[i : i + 1])
        again = [alone.bits(11), alone.uniform(), alone.normal(7), alone.integers(3, 40)]
        assert all(torch.equal(a[0], b[i]) for a, b in zip(again, drawn, strict=True))
    assert torch.equal(drawn[0][3], drawn[0][4])  # equal keys, equal numbers
    rng = RowRng(5, keys)
    rng.bits()  # draw 0; take keeps the draw it is at
    assert torch.equal(rng.take(torch.tensor([1, 5])).uniform(), drawn[1][[1, 5]])


def test_bits_at_are_those_of_the_full_draw():
    rng, again = RowRng(8, torch.arange(20)), RowRng(8, torch.arange(20))
    rows, cols = torch.tensor([0, 3, 3, 19]), torch.tensor([5, 0, 29, 12])
    assert torch.equal(rng.bits_at(rows, cols, 30), again.bits(30)[rows, cols])


def test_seeds_streams_and_draws_give_different_numbers():
    keys = torch.arange(64)
    first = RowRng(1, keys).bits(16)
    assert torch.equal(first, RowRng(1, keys).bits(16))
    for other in (RowRng(2, keys), RowRng(1, keys, stream=1), RowRng(1, keys, draw=1)):
        assert (other.bits(16) == first).float().mean() < 0.01


def test_distributions():
    rng = RowRng(3, torch.arange(400))
    u = rng.uniform(500)
    assert float(u.min()) >= 0 and float(u.max()) < 1 and abs(float(u.mean()) - 0.5) < 0.002
    coins = rng.below(0.1, 500)
    assert abs(float(coins.float().mean()) - 0.1) < 0.002  # standard error 0.0007
    assert not bool(rng.below(0.0, 500).any()) and bool(rng.below(1.0, 500).all())
    ints = rng.integers(3, 10)
    assert set(ints.tolist()) == set(range(3, 10))
    z = rng.normal(500).double()
    assert abs(float(z.mean())) < 0.01 and abs(float(z.std()) - 1) < 0.01
    assert abs(float((z**4).mean()) - 3) < 0.1  # a normal's kurtosis
    assert float(z.abs().max()) < 4.4
    lag = torch.corrcoef(torch.stack([z[:, :-1].flatten(), z[:, 1:].flatten()]))[0, 1]
    assert abs(float(lag)) < 0.01


def test_the_normal_table_holds_the_quantiles():
    knots, slopes = normal_table(torch.device("cpu"))
    n = len(knots) - 1
    assert torch.equal(knots, -knots.flip(0))
    assert torch.equal(slopes, knots[1:] - knots[:-1]) and bool((slopes > 0).all())
    for i in (1, 100, n // 4, n // 2, 3 * n // 4 + 7):
        assert math.isclose(float(knots[i]), NormalDist().inv_cdf(i / n), abs_tol=1e-6)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: RowRng(0, torch.tensor([1.0])), "int64"),
        (lambda: RowRng(0, torch.tensor([-1])), "row keys"),
        (lambda: RowRng(0, torch.tensor([2**29])), "row keys"),
        (lambda: RowRng(0, torch.arange(3), draw=DRAWS).bits(), "at most"),
        (lambda: RowRng(0, torch.arange(3)).integers(5, 5), "high - low"),
        (lambda: row_rng(RowRng(0, torch.arange(3)), 4, torch.device("cpu")), "3 rows for 4"),
    ],
)
def test_bad_use_raises(call, message):
    with pytest.raises(EvoganError, match=message):
        call()


def test_a_torch_generator_becomes_rows_of_a_seed_it_draws():
    one = row_rng(torch.Generator().manual_seed(1), 5, torch.device("cpu"))
    assert torch.equal(one.keys, torch.arange(5))
    two = row_rng(torch.Generator().manual_seed(1), 5, torch.device("cpu"))
    assert torch.equal(one.bits(3), two.bits(3))
