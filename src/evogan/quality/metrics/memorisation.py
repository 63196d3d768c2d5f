"""Memorisation check: do samples sit closer to the training images than fresh real images do?

A generator that copies its training images scores well on FID, IS and
precision/recall alike. Following the nearest-neighbour tests used for GANs
(e.g. Meehan et al. 2020, "A non-parametric test to detect data-copying"),
evogan takes, for every sample, the distance to its nearest training image,
and compares the median with the same figure for held-out real images:
ratio = median NN(samples, train) / median NN(held-out, train).
About 1 means samples are as novel as new real data; well below 1 (towards 0
for exact copies) is a memorisation warning. The functions take any [N, D]
vectors; ``QualityEvaluator`` uses the evaluation classifier's feature space,
where distances follow what the digits look like rather than pixel offsets.
Pass flattened images to get the pixel-space figure instead.
"""

from torch import Tensor

from evogan.errors import EvoganError
from evogan.quality.metrics.checks import check_features, check_same_dim
from evogan.quality.metrics.distances import DEFAULT_CHUNK, nearest_distances


def median_nearest_distance(
    queries: Tensor, train: Tensor, *, chunk_size: int = DEFAULT_CHUNK
) -> float:
    """Median over ``queries`` [N, D] of the distance to the nearest ``train`` [M, D] row."""
    check_features(queries, "query features", min_rows=1)
    check_features(train, "training features", min_rows=1)
    check_same_dim(queries, train, ("query features", "training features"))
    return float(nearest_distances(queries, train, chunk_size=chunk_size).median())


def ratio_to_baseline(sample_median: float, heldout_median: float) -> float:
    """Samples' median NN distance relative to the held-out images' one."""
    if heldout_median <= 0:
        raise EvoganError(
            "held-out images coincide with training images (median nearest distance 0); "
            "use held-out images that are not in the training set"
        )
    return sample_median / heldout_median


def memorisation_ratio(
    samples: Tensor, heldout: Tensor, train: Tensor, *, chunk_size: int = DEFAULT_CHUNK
) -> float:
    """median NN(samples, train) / median NN(heldout, train); < 1 warns of memorisation."""
    return ratio_to_baseline(
        median_nearest_distance(samples, train, chunk_size=chunk_size),
        median_nearest_distance(heldout, train, chunk_size=chunk_size),
    )
