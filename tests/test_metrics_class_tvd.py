"""Class total variation distance on hand-made histograms."""

import pytest
import torch

from evogan.errors import EvoganError
from evogan.quality.metrics import class_shares, class_tvd, label_histogram

UNIFORM_10 = torch.full((10,), 0.1)


def one_class(n_classes: int = 10, which: int = 3, count: int = 50) -> torch.Tensor:
    counts = torch.zeros(n_classes, dtype=torch.int64)
    counts[which] = count
    return counts


def test_uniform_against_uniform_is_zero() -> None:
    assert class_tvd(torch.full((10,), 7), UNIFORM_10) == 0.0


def test_one_class_against_uniform_10_is_nine_tenths() -> None:
    assert class_tvd(one_class(), UNIFORM_10) == pytest.approx(0.9, abs=1e-12)
    assert class_tvd(UNIFORM_10, one_class()) == pytest.approx(0.9, abs=1e-12)


def test_disjoint_classes_are_one_apart() -> None:
    assert class_tvd(torch.tensor([5, 5, 0, 0]), torch.tensor([0, 0, 1, 3])) == 1.0


@pytest.mark.parametrize(
    ("histogram", "reference", "expected"),
    [
        (torch.tensor([3, 1]), torch.tensor([1, 3]), 0.5),
        (torch.tensor([1, 0]), torch.tensor([0.5, 0.5]), 0.5),
        (torch.tensor([2, 1, 1]), torch.tensor([1, 1, 2]), 0.25),
        (torch.tensor([6, 3, 1]), torch.tensor([60, 30, 10]), 0.0),  # counts or shares alike
    ],
)
def test_hand_computed_distances(
    histogram: torch.Tensor, reference: torch.Tensor, expected: float
) -> None:
    assert class_tvd(histogram, reference) == pytest.approx(expected, abs=1e-12)


def test_shares_and_label_histogram() -> None:
    assert class_shares(torch.tensor([1, 3])).tolist() == [0.25, 0.75]
    labels = torch.tensor([2, 0, 2, 2], dtype=torch.int64)
    assert label_histogram(labels, 4).tolist() == [1, 0, 3, 0]


@pytest.mark.parametrize(
    ("histogram", "reference", "message"),
    [
        (torch.ones(3), torch.ones(4), "differ in length"),
        (torch.ones(2, 2), torch.ones(2, 2), r"\[C\]"),
        (torch.tensor([1.0, -1.0, 2.0]), torch.ones(3), "non-negative"),
        (torch.zeros(3), torch.ones(3), "all zero"),
    ],
)
def test_bad_histograms_raise(
    histogram: torch.Tensor, reference: torch.Tensor, message: str
) -> None:
    with pytest.raises(EvoganError, match=message):
        class_tvd(histogram, reference)


def test_labels_outside_the_classes_raise() -> None:
    with pytest.raises(EvoganError, match=r"\[0, 3\)"):
        label_histogram(torch.tensor([0, 3], dtype=torch.int64), 3)
