"""The article's convolutional discriminator, the test that scores the agents.

Conv2D(64, 3x3, stride 2, same) -> LeakyReLU(0.2) -> Dropout(0.4), twice, then
a dense unit. It returns logits (the sigmoid lives in the loss, which is the
numerically stable form of the article's sigmoid + binary cross-entropy).

Its dropout draws the mask from 16-bit random integers: ``nn.Dropout`` draws a
Bernoulli per element, which took 37 ms of a 170 ms generation (128 images of
28x28, one thread); this one takes 10 ms for the same masks in distribution.
"""

from __future__ import annotations

import math

import torch
from torch import nn

INT16_LEVELS = 65536


class Dropout(nn.Module):
    """Inverted dropout with a mask from 16-bit random integers (keep probability exact to 2e-5)."""

    def __init__(self, p: float) -> None:
        super().__init__()
        if not 0 <= p < 1:
            raise ValueError(f"dropout probability must be in [0, 1), got {p}")
        self.p = p
        self.threshold = -INT16_LEVELS // 2 + round(p * INT16_LEVELS)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.p == 0:
            return x
        n = x.numel()
        words = torch.randint(-(2**63), 2**63 - 1, (math.ceil(n / 4),), dtype=torch.int64)
        bits = words.to(x.device).view(torch.int16)[:n]
        keep = (bits >= self.threshold).as_strided(x.shape, x.stride())  # x's memory format
        return x * keep / (1 - self.p)

    def extra_repr(self) -> str:
        return f"p={self.p}"


class MinibatchStd(nn.Module):
    """Appends each group's spread as one more feature map (Karras et al. 2018, PGGAN).

    A critic that judges each image alone cannot see that a generator draws
    the same digit every time; this one sees, for every ``group`` consecutive
    images, the standard deviation of each feature across the group averaged
    into one number. Batches must therefore keep one generator's images
    together (scoring does: an agent's fakes are consecutive). A last group
    shorter than ``group`` is measured on its own; a group of one has spread 0.
    """

    def __init__(self, group: int) -> None:
        super().__init__()
        if group < 2:
            raise ValueError(f"a minibatch-stddev group needs at least 2 images, got {group}")
        self.group = group

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        g = self.group
        whole = len(x) // g * g
        parts = []
        if whole:
            parts.append(group_spread(x[:whole].unflatten(0, (-1, g)))[:, None].expand(-1, g))
        if whole < len(x):
            parts.append(group_spread(x[whole:][None]).expand(len(x) - whole))
        spread = torch.cat([part.flatten() for part in parts])
        return torch.cat([x, spread.view(-1, 1, 1, 1).expand(-1, 1, *x.shape[2:])], dim=1)

    def extra_repr(self) -> str:
        return f"group={self.group}"


def group_spread(groups: torch.Tensor) -> torch.Tensor:
    """``[G, n, C, H, W]`` -> ``[G]``: each feature's std across the n images, averaged."""
    centred = groups - groups.mean(dim=1, keepdim=True)
    variance = centred.square().mean(dim=1)  # biased, so a group of one is 0, not NaN
    return (variance + 1e-8).sqrt().flatten(1).mean(dim=1)


def build_discriminator(
    image_size: int, *, filters: int = 64, dropout: float = 0.4, minibatch_group: int = 0
) -> nn.Module:
    """The article's CNN, adapted to ``image_size`` (two stride-2 convs shrink it by 4).

    ``minibatch_group`` > 1 adds a :class:`MinibatchStd` map before the dense unit."""
    side = (image_size + 3) // 4  # 'same' padding with stride 2, twice
    spread = [MinibatchStd(minibatch_group)] if minibatch_group > 1 else []
    return nn.Sequential(
        nn.Conv2d(1, filters, 3, stride=2, padding=1),
        nn.LeakyReLU(0.2),
        Dropout(dropout),
        nn.Conv2d(filters, filters, 3, stride=2, padding=1),
        nn.LeakyReLU(0.2),
        Dropout(dropout),
        *spread,
        nn.Flatten(),
        nn.Linear((filters + len(spread)) * side * side, 1),
        nn.Flatten(0),
    )


def minibatch_group(model: nn.Module) -> int:
    """The images a discriminator judges together (1 for one that judges each alone)."""
    groups = [m.group for m in model.modules() if isinstance(m, MinibatchStd)]
    return groups[0] if groups else 1
