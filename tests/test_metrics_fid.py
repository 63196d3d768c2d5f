"""Fréchet distance: exact values on hand-made Gaussians, monotone under degradation."""

from typing import Any

import numpy as np
import pytest
import scipy.linalg
import torch
from sklearn.datasets import load_digits

from evogan.errors import EvoganError
from evogan.quality.metrics import (
    features,
    frechet_distance,
    frechet_distance_from_stats,
    gaussian_stats,
    train_classifier,
)

# Small enough to train in about a second on 8x8 digits.
TINY: dict[str, Any] = dict(
    channels=(8, 16), feature_dim=32, batch_size=32, learning_rate=1e-2, max_shift=0
)


def exact_gaussian(mean: torch.Tensor) -> torch.Tensor:
    """2D points mean +- c e_i whose sample mean is ``mean`` and covariance exactly I."""
    dim = mean.shape[0]
    c = ((2 * dim - 1) / 2) ** 0.5
    steps = c * torch.eye(dim, dtype=torch.float64)
    return torch.cat([mean + steps, mean - steps])


def test_identity_covariances_give_squared_mean_distance() -> None:
    mean_a = torch.tensor([0.0, 1.0, 2.0, -1.0], dtype=torch.float64)
    mean_b = torch.tensor([3.0, -1.0, 2.0, 0.5], dtype=torch.float64)
    a, b = exact_gaussian(mean_a), exact_gaussian(mean_b)
    np.testing.assert_allclose(gaussian_stats(a)[1], np.eye(4), atol=1e-12)
    expected = float(((mean_a - mean_b) ** 2).sum())
    assert frechet_distance(a, b) == pytest.approx(expected, abs=1e-6)


def test_diagonal_covariances_match_closed_form() -> None:
    var_a, var_b = np.array([1.0, 4.0, 9.0]), np.array([4.0, 1.0, 0.0])
    mu = np.zeros(3)
    expected = float(((np.sqrt(var_a) - np.sqrt(var_b)) ** 2).sum())
    got = frechet_distance_from_stats(mu, np.diag(var_a), mu, np.diag(var_b))
    assert got == pytest.approx(expected, abs=1e-9)


def test_matches_sqrtm_reference_formula() -> None:
    gen = np.random.default_rng(0)
    x, y = gen.normal(size=(50, 6)), gen.normal(size=(60, 6)) @ gen.normal(size=(6, 6))
    mu_a, sig_a, mu_b, sig_b = x.mean(0), np.cov(x.T), y.mean(0), np.cov(y.T)
    covmean = scipy.linalg.sqrtm(sig_a @ sig_b).real  # the pytorch-fid formula
    expected = ((mu_a - mu_b) ** 2).sum() + np.trace(sig_a + sig_b - 2 * covmean)
    assert frechet_distance_from_stats(mu_a, sig_a, mu_b, sig_b) == pytest.approx(expected)


def test_feature_set_against_itself_is_zero() -> None:
    torch.manual_seed(0)
    feats = torch.randn(300, 32) @ torch.randn(32, 32) + 5
    scale = float(np.trace(gaussian_stats(feats)[1]))
    assert frechet_distance(feats, feats) < 1e-6 * scale


def test_singular_covariance_is_fine() -> None:
    torch.manual_seed(0)
    feats = torch.randn(10, 64)  # fewer samples than dimensions
    assert frechet_distance(feats, feats) < 1e-6 * 64


@pytest.mark.parametrize(
    ("a", "b", "message"),
    [
        (torch.zeros(1, 4), torch.zeros(5, 4), "at least 2 rows"),
        (torch.zeros(5, 4), torch.zeros(5, 3), "different feature dimensions"),
        (torch.zeros(5, 4, 1), torch.zeros(5, 4), r"\[N, D\]"),
        (torch.full((5, 4), float("nan")), torch.zeros(5, 4), "NaN"),
    ],
)
def test_bad_features_raise(a: torch.Tensor, b: torch.Tensor, message: str) -> None:
    with pytest.raises(EvoganError, match=message):
        frechet_distance(a, b)


def test_fid_grows_as_images_degrade() -> None:
    digits = load_digits()
    images = torch.tensor(digits.images, dtype=torch.float32).unsqueeze(1) / 8 - 1
    labels = torch.tensor(digits.target, dtype=torch.int64)
    model, acc = train_classifier(images[:900], labels[:900], epochs=4, seed=0, **TINY)
    assert acc > 0.8
    reference = features(model, images[900:])
    torch.manual_seed(0)
    noise = torch.randn_like(images[:900])
    fids = [
        frechet_distance(features(model, (images[:900] + s * noise).clamp(-1, 1)), reference)
        for s in (0.0, 0.25, 0.5, 1.0, 2.0)
    ]
    assert fids == sorted(fids) and len(set(fids)) == len(fids), fids
