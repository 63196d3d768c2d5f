"""k-NN precision and recall on hand-made clusters."""

import pytest
import torch

from evogan.errors import EvoganError
from evogan.quality.metrics import knn_radii, precision_recall


def cluster(centre: float, n: int = 200, seed: int = 0) -> torch.Tensor:
    gen = torch.Generator().manual_seed(seed)
    return torch.randn(n, 4, generator=gen) + centre


def test_knn_radii_exact_on_a_line() -> None:
    points = torch.tensor([[0.0], [1.0], [3.0], [6.0], [10.0]])
    assert knn_radii(points, k=1).tolist() == [1, 1, 2, 3, 4]
    assert knn_radii(points, k=2).tolist() == [3, 2, 3, 4, 7]
    assert knn_radii(points, k=2, chunk_size=2).tolist() == [3, 2, 3, 4, 7]


def test_identical_sets_score_one_one() -> None:
    real = cluster(0.0)
    assert precision_recall(real, real.clone()) == (1.0, 1.0)


def test_far_away_fake_scores_zero_zero() -> None:
    assert precision_recall(cluster(0.0), cluster(100.0, seed=1)) == (0.0, 0.0)


def test_fake_covering_one_of_two_clusters() -> None:
    a, b = cluster(0.0), cluster(50.0, seed=1)
    real = torch.cat([a, b])
    assert precision_recall(real, a.clone()) == (1.0, 0.5)
    precision, recall = precision_recall(real, cluster(0.0, seed=2))
    assert precision > 0.9
    assert 0.4 < recall <= 0.5


def test_chunking_does_not_change_the_result() -> None:
    real, fake = cluster(0.0), cluster(0.5, seed=1)
    assert precision_recall(real, fake, chunk_size=7) == precision_recall(real, fake)


def test_bad_input_raises() -> None:
    with pytest.raises(EvoganError, match="at least 4 rows"):
        precision_recall(cluster(0.0), cluster(0.0)[:3])
    with pytest.raises(EvoganError, match="different feature dimensions"):
        precision_recall(cluster(0.0), torch.zeros(10, 3))
