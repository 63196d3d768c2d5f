"""The in-memory image dataset and the few transforms every source shares.

All sources end as one ``ImageDataset``: a float32 tensor ``[N, 1, H, W]`` in
the generator's output convention, [-1, 1] with -1 the background (black) and
+1 the ink (white), so that a ``tanh`` generator and the real images are
compared on the same scale without any per-run normalisation.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import torch
import torch.nn.functional as F

from evogan.errors import EvoganError


@dataclass(frozen=True, eq=False)  # eq=False: comparing tensors with == is ambiguous
class ImageDataset:
    """Square grey-scale images in [-1, 1], with optional class labels."""

    images: torch.Tensor
    labels: torch.Tensor | None
    name: str

    def __post_init__(self) -> None:
        shape = tuple(self.images.shape)
        if len(shape) != 4 or shape[1] != 1 or shape[2] != shape[3]:
            raise ValueError(f"images must be [N, 1, H, H], got {list(shape)}")
        if self.images.dtype != torch.float32:
            raise ValueError(f"images must be float32, got {self.images.dtype}")
        if self.labels is not None and tuple(self.labels.shape) != (shape[0],):
            raise ValueError(f"labels must be [{shape[0]}], got {list(self.labels.shape)}")

    @property
    def image_size(self) -> int:
        """Side of the square images in pixels (H == W)."""
        return int(self.images.shape[-1])

    def __len__(self) -> int:
        return int(self.images.shape[0])


def from_uint8(pixels: npt.NDArray[np.uint8], *, white: float = 255.0) -> torch.Tensor:
    """Map ``[N, H, W]`` pixels 0..white to a float32 ``[N, 1, H, W]`` tensor in [-1, 1]."""
    images = torch.from_numpy(pixels.astype(np.float32))  # astype copies: a writable buffer
    return images.div_(white / 2).sub_(1.0).unsqueeze(1)


def take_subset(dataset: ImageDataset, subset: tuple[int, int]) -> ImageDataset:
    """Keep images ``start:stop``; a range outside the data is the user's error."""
    start, stop = subset
    if start < 0 or stop <= start:
        raise EvoganError(f"subset {start}:{stop}: need 0 <= start < stop")
    if stop > len(dataset):
        raise EvoganError(
            f"subset {start}:{stop}: outside the data ({dataset.name} has {len(dataset)} images)"
        )
    labels = None if dataset.labels is None else dataset.labels[start:stop].clone()
    return ImageDataset(dataset.images[start:stop].clone(), labels, dataset.name)


def resize(dataset: ImageDataset, size: int) -> ImageDataset:
    """Resize to ``size`` x ``size`` with an antialiased bilinear filter."""
    if size == dataset.image_size:
        return dataset
    images = F.interpolate(
        dataset.images, size=(size, size), mode="bilinear", antialias=True, align_corners=False
    )
    # Clamp: the antialias kernel can overshoot the range by a rounding error.
    return ImageDataset(images.clamp_(-1.0, 1.0), dataset.labels, dataset.name)
