"""Pairwise Euclidean distances computed in row chunks.

Precision/recall and memorisation need nearest-neighbour distances between
sets of a few thousand points; a full 5000x5000 float64 matrix is 200 MB, so
the queries are processed ``chunk_size`` rows at a time. Float64 keeps the
matrix-product form of ``torch.cdist`` accurate enough that a point's distance
to its own copy is ~0 rather than round-off noise of the feature norms.
"""

from collections.abc import Iterator

import torch
from torch import Tensor

DEFAULT_CHUNK = 1024


def distance_chunks(
    queries: Tensor, reference: Tensor, *, chunk_size: int = DEFAULT_CHUNK
) -> Iterator[Tensor]:
    """Yield float64 distance blocks [chunk, len(reference)] covering all query rows in order."""
    ref = reference.detach().to(torch.float64)
    for start in range(0, queries.shape[0], chunk_size):
        block = queries[start : start + chunk_size].detach().to(torch.float64)
        yield torch.cdist(block, ref)


def nearest_distances(
    queries: Tensor, reference: Tensor, *, chunk_size: int = DEFAULT_CHUNK
) -> Tensor:
    """Distance from each query row to its nearest reference row: [N] float64."""
    parts = [
        d.min(dim=1).values for d in distance_chunks(queries, reference, chunk_size=chunk_size)
    ]
    return torch.cat(parts)
