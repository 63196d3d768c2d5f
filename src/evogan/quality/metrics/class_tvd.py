"""Class total variation distance: are the classes generated in the right proportions?

The coverage figure reported for Lipizzaner-style coevolutionary GANs on
MNIST (e.g. Toutouh, Hemberg and O'Reilly 2019, "Spatial evolutionary
generative adversarial networks"): the evaluation classifier labels every
generated sample, and the resulting class histogram p is compared with the
class distribution q of real images by TVD = 0.5 * sum_c |p_c - q_c|. It lies
in [0, 1]: 0 is every class in its real proportion, 1 is samples only in
classes the real data never has; a generator collapsed onto one of 10
balanced classes scores 0.9. It reads as the share of samples that would
have to change class to match the real proportions, and unlike the class
entropy it measures against those proportions rather than against even ones.
"""

import torch
from torch import Tensor

from evogan.errors import EvoganError


def class_shares(counts: Tensor) -> Tensor:
    """A histogram [C] (counts or weights) normalised to shares summing to 1: float64 [C]."""
    if not isinstance(counts, Tensor) or counts.dim() != 1 or counts.shape[0] == 0:
        shape = tuple(counts.shape) if isinstance(counts, Tensor) else type(counts).__name__
        raise EvoganError(f"a class histogram must be a non-empty tensor [C], got {shape}")
    counts = counts.double()
    if bool((counts < 0).any()) or not bool(torch.isfinite(counts).all()):
        raise EvoganError("a class histogram must hold finite, non-negative counts")
    total = counts.sum()
    if float(total) == 0:
        raise EvoganError("a class histogram must not be all zero")
    return counts / total


def label_histogram(labels: Tensor, n_classes: int) -> Tensor:
    """How many of ``labels`` [N] (int64 class indices) fall in each of ``n_classes``: int64 [C]."""
    if labels.numel() and not 0 <= int(labels.min()) <= int(labels.max()) < n_classes:
        low, high = int(labels.min()), int(labels.max())
        raise EvoganError(f"labels must lie in [0, {n_classes}), got values in [{low}, {high}]")
    return torch.bincount(labels, minlength=n_classes)


def class_tvd(histogram: Tensor, reference: Tensor) -> float:
    """Total variation distance in [0, 1] between two class histograms [C], normalised first."""
    if histogram.shape != reference.shape:
        raise EvoganError(
            f"class histograms differ in length: {tuple(histogram.shape)} vs "
            f"{tuple(reference.shape)}"
        )
    return 0.5 * float((class_shares(histogram) - class_shares(reference)).abs().sum())
