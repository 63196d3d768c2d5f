"""Fréchet distance between Gaussian fits of two feature sets (FID).

Heusel et al. 2017, "GANs trained by a two time-scale update rule converge to
a local Nash equilibrium": fit a Gaussian (mean, covariance) to each feature
set and report ||mu_a - mu_b||^2 + Tr(S_a + S_b - 2 (S_a S_b)^(1/2)).
The reference implementation (pytorch-fid) takes ``scipy.linalg.sqrtm`` of the
non-symmetric product S_a S_b and drops a small imaginary part. Here only the
trace of that root is needed, and Tr (S_a S_b)^(1/2) equals the sum of square
roots of the eigenvalues of the symmetric PSD matrix S_a^(1/2) S_b S_a^(1/2),
so two ``eigh`` calls give it in real arithmetic: no imaginary parts, and
singular covariances (fewer samples than dimensions, dead ReLU units) are fine.
All of it runs in float64. FID is biased upwards for small N: compare figures
computed with the same sample counts.
"""

import numpy as np
import numpy.typing as npt
from torch import Tensor

from evogan.errors import EvoganError
from evogan.quality.metrics.checks import check_features, check_same_dim

Array = npt.NDArray[np.float64]


def gaussian_stats(features: Tensor) -> tuple[Array, Array]:
    """Mean [D] and unbiased covariance [D, D] of ``features`` [N, D], in float64."""
    check_features(features, "features", min_rows=2)
    x = features.detach().cpu().double().numpy()
    return x.mean(axis=0), np.atleast_2d(np.cov(x, rowvar=False))


def _psd_sqrt(matrix: Array) -> Array:
    # Round-off can leave tiny negative eigenvalues on a PSD matrix: clip them.
    values, vectors = np.linalg.eigh((matrix + matrix.T) / 2)
    return (vectors * np.sqrt(np.clip(values, 0.0, None))) @ vectors.T


def frechet_distance_from_stats(mu_a: Array, sigma_a: Array, mu_b: Array, sigma_b: Array) -> float:
    """FID between two Gaussians given by their means and covariances."""
    if mu_a.shape != mu_b.shape or sigma_a.shape != sigma_b.shape:
        raise EvoganError(
            f"Gaussian statistics differ in dimension: {mu_a.shape[0]} vs {mu_b.shape[0]}"
        )
    root_a = _psd_sqrt(sigma_a)
    middle = root_a @ sigma_b @ root_a
    eigenvalues = np.linalg.eigvalsh((middle + middle.T) / 2)
    trace_covmean = float(np.sqrt(np.clip(eigenvalues, 0.0, None)).sum())
    diff = mu_a - mu_b
    value = float(diff @ diff) + float(np.trace(sigma_a) + np.trace(sigma_b)) - 2 * trace_covmean
    # Mathematically >= 0; a slightly negative value is round-off of a near-zero distance.
    return max(value, 0.0)


def frechet_distance(features_a: Tensor, features_b: Tensor) -> float:
    """FID between two feature sets [N_a, D] and [N_b, D]; each needs N >= 2."""
    check_features(features_a, "first feature set", min_rows=2)
    check_features(features_b, "second feature set", min_rows=2)
    check_same_dim(features_a, features_b, ("first feature set", "second feature set"))
    return frechet_distance_from_stats(*gaussian_stats(features_a), *gaussian_stats(features_b))
