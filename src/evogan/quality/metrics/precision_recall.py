"""k-NN precision and recall of generated samples (improved precision/recall).

Kynkäänniemi et al. 2019, "Improved precision and recall metric for assessing
generative models": each feature set approximates its manifold by the union of
balls centred on its points, each reaching that point's k-th nearest
neighbour (k = 3). Precision is the fraction of generated points inside the
real manifold (are samples realistic?); recall is the fraction of real points
inside the generated manifold (is the real variety covered?). FID mixes both
into one number; these two separate "bad samples" from "missing modes".
"""

import torch
from torch import Tensor

from evogan.quality.metrics.checks import check_features, check_same_dim
from evogan.quality.metrics.distances import DEFAULT_CHUNK, distance_chunks

DEFAULT_K = 3


def knn_radii(features: Tensor, *, k: int = DEFAULT_K, chunk_size: int = DEFAULT_CHUNK) -> Tensor:
    """Distance from each point to its k-th nearest other point: [N] float64."""
    check_features(features, "features", min_rows=k + 1)
    # k + 1 smallest: the first is the point itself at distance 0.
    parts = [
        d.topk(k + 1, dim=1, largest=False).values[:, k]
        for d in distance_chunks(features, features, chunk_size=chunk_size)
    ]
    return torch.cat(parts)


def manifold_coverage(
    points: Tensor, centres: Tensor, radii: Tensor, *, chunk_size: int = DEFAULT_CHUNK
) -> float:
    """Fraction of ``points`` within ``radii[j]`` of some ``centres[j]``."""
    inside = [
        (d <= radii[None, :]).any(dim=1)
        for d in distance_chunks(points, centres, chunk_size=chunk_size)
    ]
    return float(torch.cat(inside).double().mean())


def precision_recall(
    real: Tensor, fake: Tensor, *, k: int = DEFAULT_K, chunk_size: int = DEFAULT_CHUNK
) -> tuple[float, float]:
    """(precision, recall) of ``fake`` [M, D] against ``real`` [N, D]; each needs N > k."""
    check_features(real, "real features", min_rows=k + 1)
    check_features(fake, "fake features", min_rows=k + 1)
    check_same_dim(real, fake, ("real features", "fake features"))
    precision = manifold_coverage(fake, real, knn_radii(real, k=k, chunk_size=chunk_size))
    recall = manifold_coverage(real, fake, knn_radii(fake, k=k, chunk_size=chunk_size))
    return precision, recall
