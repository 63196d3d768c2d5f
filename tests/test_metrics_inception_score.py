"""Inception Score and class coverage on hand-made probability tables."""

import math

import pytest
import torch

from evogan.errors import EvoganError
from evogan.quality.metrics import class_entropy, class_histogram, inception_score


def balanced_one_hot(n_classes: int = 10, per_class: int = 5) -> torch.Tensor:
    return torch.eye(n_classes).repeat(per_class, 1)


def test_one_repeated_class_scores_one() -> None:
    probs = torch.zeros(20, 10)
    probs[:, 3] = 1
    assert inception_score(probs) == pytest.approx(1.0, abs=1e-12)


def test_balanced_one_hot_scores_number_of_classes() -> None:
    assert inception_score(balanced_one_hot()) == pytest.approx(10.0, abs=1e-9)
    assert inception_score(balanced_one_hot(), splits=5) == pytest.approx(10.0, abs=1e-9)


def test_unsure_classifier_scores_one() -> None:
    assert inception_score(torch.full((8, 10), 0.1)) == pytest.approx(1.0, abs=1e-9)


def test_class_histogram_and_entropy() -> None:
    probs = balanced_one_hot()
    assert class_histogram(probs).tolist() == [5] * 10
    assert class_entropy(probs) == pytest.approx(math.log(10), abs=1e-12)
    collapsed = torch.zeros(6, 10)
    collapsed[:, 7] = 1
    assert class_histogram(collapsed).tolist() == [0] * 7 + [6, 0, 0]
    assert class_entropy(collapsed) == 0.0


@pytest.mark.parametrize(
    ("probs", "message"),
    [
        (torch.ones(4), r"\[N, C\]"),
        (torch.full((4, 10), 0.5), "summing to 1"),
        (torch.tensor([[1.5, -0.5]]), "non-negative"),
    ],
)
def test_bad_probabilities_raise(probs: torch.Tensor, message: str) -> None:
    with pytest.raises(EvoganError, match=message):
        inception_score(probs)


def test_too_many_splits_raise() -> None:
    with pytest.raises(EvoganError, match="splits"):
        inception_score(balanced_one_hot(per_class=1), splits=11)
