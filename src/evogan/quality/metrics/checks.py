"""Input checks shared by the metrics.

Every metric takes tensors from the user (generated samples, real images,
features); a wrong shape or range there would otherwise surface as a cryptic
broadcasting error or, worse, as a plausible but meaningless number. These
checks turn such mistakes into one-line ``EvoganError`` messages.
"""

import torch
from torch import Tensor

from evogan.errors import EvoganError

MIN_IMAGE_SIZE = 8
# Generators end in tanh, so values may touch +-1; a little slack for round-off.
_RANGE_SLACK = 1e-3


def check_images(images: Tensor, name: str) -> None:
    """Raise unless ``images`` is a float [N, 1, S, S] tensor in [-1, 1] with S >= 8."""
    if not isinstance(images, Tensor) or images.dim() != 4 or images.shape[1] != 1:
        shape = tuple(images.shape) if isinstance(images, Tensor) else type(images).__name__
        raise EvoganError(f"{name} must be a tensor [N, 1, H, W], got {shape}")
    size_h, size_w = images.shape[2], images.shape[3]
    if size_h != size_w or size_h < MIN_IMAGE_SIZE:
        raise EvoganError(
            f"{name} must be square and at least {MIN_IMAGE_SIZE}x{MIN_IMAGE_SIZE}, "
            f"got {size_h}x{size_w}"
        )
    if not images.is_floating_point():
        raise EvoganError(f"{name} must be floating point in [-1, 1], got dtype {images.dtype}")
    if images.shape[0] == 0:
        raise EvoganError(f"{name} is empty")
    low, high = float(images.min()), float(images.max())
    if not (low >= -1 - _RANGE_SLACK and high <= 1 + _RANGE_SLACK):
        raise EvoganError(f"{name} must lie in [-1, 1], got values in [{low:.3g}, {high:.3g}]")


def check_labels(labels: Tensor, n_images: int) -> None:
    """Raise unless ``labels`` is an int64 [N] tensor of non-negative class indices."""
    if not isinstance(labels, Tensor) or labels.dim() != 1 or labels.dtype != torch.int64:
        raise EvoganError("labels must be an int64 tensor [N]")
    if labels.shape[0] != n_images:
        raise EvoganError(f"got {labels.shape[0]} labels for {n_images} images")
    if int(labels.min()) < 0:
        raise EvoganError("labels must be non-negative class indices")


def check_features(features: Tensor, name: str, *, min_rows: int) -> None:
    """Raise unless ``features`` is a finite [N, D] tensor with N >= ``min_rows``."""
    if not isinstance(features, Tensor) or features.dim() != 2:
        shape = tuple(features.shape) if isinstance(features, Tensor) else type(features).__name__
        raise EvoganError(f"{name} must be a tensor [N, D], got {shape}")
    if features.shape[0] < min_rows:
        raise EvoganError(f"{name} needs at least {min_rows} rows, got {features.shape[0]}")
    if not bool(torch.isfinite(features).all()):
        raise EvoganError(f"{name} contains NaN or infinite values")


def check_same_dim(a: Tensor, b: Tensor, names: tuple[str, str]) -> None:
    """Raise unless two feature sets live in the same space (same D)."""
    if a.shape[1] != b.shape[1]:
        raise EvoganError(
            f"{names[0]} and {names[1]} have different feature dimensions: "
            f"{a.shape[1]} vs {b.shape[1]}"
        )
