"""Memorisation ratio: copies of training data score ~0, fresh data ~1."""

import pytest
import torch

from evogan.errors import EvoganError
from evogan.quality.metrics import median_nearest_distance, memorisation_ratio


def gaussian(n: int, seed: int) -> torch.Tensor:
    return torch.randn(n, 8, generator=torch.Generator().manual_seed(seed))


def test_nearest_distance_exact() -> None:
    train = torch.tensor([[0.0, 0.0], [10.0, 0.0]])
    queries = torch.tensor([[3.0, 4.0], [10.0, 1.0], [7.0, 0.0]])  # distances 5, 1, 3
    assert median_nearest_distance(queries, train) == 3.0


def test_copies_of_training_data_score_near_zero() -> None:
    train, heldout = gaussian(500, 0), gaussian(200, 1)
    copies = train[torch.randperm(500, generator=torch.Generator().manual_seed(2))[:200]]
    assert memorisation_ratio(copies, heldout, train) < 1e-3


def test_fresh_samples_score_near_one() -> None:
    train, heldout, samples = gaussian(1000, 0), gaussian(300, 1), gaussian(300, 2)
    assert 0.8 < memorisation_ratio(samples, heldout, train) < 1.25


def test_pixel_space_works_on_flattened_images() -> None:
    train = torch.rand(50, 1, 8, 8) * 2 - 1
    heldout = torch.rand(30, 1, 8, 8) * 2 - 1
    ratio = memorisation_ratio(train[:30].flatten(1), heldout.flatten(1), train.flatten(1))
    assert ratio < 1e-3


def test_heldout_inside_training_set_raises() -> None:
    train = gaussian(50, 0)
    with pytest.raises(EvoganError, match="held-out images coincide"):
        memorisation_ratio(gaussian(10, 1), train[:10], train)


def test_mismatched_dimensions_raise() -> None:
    with pytest.raises(EvoganError, match="different feature dimensions"):
        median_nearest_distance(torch.zeros(3, 4), torch.zeros(3, 5))
