"""The in-memory image dataset and the few transforms every source shares.

All sources end as one ``ImageDataset``: a float32 tensor ``[N, 1, H, W]`` in
the generator's output convention, [-1, 1] with -1 the background (black) and
+1 the ink (white), so that a ``tanh`` generator and the real images are
compared on the same scale without any per-run normalisation.

The data is usually what fills memory, so the memory budget lives here too:
``check_fits`` refuses a size up front, naming the option, rather than letting
an allocation fail (or the machine swap) halfway through loading or a run.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import torch
import torch.nn.functional as F

from evogan.errors import EvoganError

FLOAT_BYTES = 4  # float32
CGROUP_LIMIT = Path("/sys/fs/cgroup/memory.max")


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
    # (in + out)^2 covers the input, the output and the filter's in x out intermediate.
    need = len(dataset) * (dataset.image_size + size) ** 2 * FLOAT_BYTES
    check_fits(f"--image-size {size}", need, f"{len(dataset)} images of {size}x{size}")
    images = F.interpolate(
        dataset.images, size=(size, size), mode="bilinear", antialias=True, align_corners=False
    )
    # Clamp: the antialias kernel can overshoot the range by a rounding error.
    return ImageDataset(images.clamp_(-1.0, 1.0), dataset.labels, dataset.name)


def memory_limit() -> int:
    """Bytes of memory this process can have: the machine's RAM, or a lower cgroup limit.

    Physical rather than currently free memory, so that whether a run starts
    does not depend on what else happens to be running.
    """
    try:
        limit = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):  # no sysconf (Windows): no limit known
        limit = 2**63
    try:
        cgroup = CGROUP_LIMIT.read_text().strip()  # "max" when there is no limit
    except OSError:
        return limit
    return min(limit, int(cgroup)) if cgroup.isdigit() else limit


def check_fits(option: str, need: int, what: str, *, limit: int | None = None) -> None:
    """Refuse up front what needs more than ``limit`` bytes (default: ``memory_limit()``)."""
    limit = memory_limit() if limit is None else limit
    if need > limit:
        raise EvoganError(
            f"{option}: {what} would need about {gib(need)} of memory, "
            f"more than the {gib(limit)} of this machine"
        )


def gib(size: int) -> str:
    return f"{size / 2**30:,.1f} GiB"
