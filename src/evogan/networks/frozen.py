"""The DCGAN frozen at a random init, with a few evolved parameters steering it.

Training only the affine parameters of a randomly initialised net's
normalisation layers reaches far higher accuracy than as many random
directions of its weights (Frankle et al. 2021, "Training BatchNorm and only
BatchNorm"). This family carries that into evolution (issue 13, item 8): the
DCGAN's body (``dcgan.py``) is fixed, drawn from ``spec.subspace_seed``, and
the genome holds what steers it:

- a low-rank first layer: ``z -> hidden`` evolved, then a fixed random lift
  ``hidden -> C x H/4 x W/4`` (the spatial layout of a digit comes from a mix
  of ``hidden`` random maps);
- a per-channel scale and shift after each pixel norm (the normalisation's
  affine parameters: which random features are used, and how much);
- the output layer (a ``C/2 -> 1`` 3x3 conv), so strokes are drawn by
  evolved filters rather than random ones.

The body upsamples bilinearly before each conv (a resize-convolution, Odena
et al. 2016): a random transposed conv draws a checkerboard of speckle that
the search would first have to undo. 785 genes at C = 32, rank 32, latent 16,
while the images come from local convolutions, which the basis family's
global cosines are not. The fixed body is shared by all agents, so under
``vmap`` its convolution is one call over every agent's images. The fixed
tensors are non-persistent buffers rebuilt from the spec: exported weights
are the genes alone.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from evogan.networks.base import BACKGROUND_OFFSET, Generator, GeneratorSpec
from evogan.networks.dcgan import pixel_norm

AFFINE_STD = 0.1  # spread of a fresh scale (around 1) or shift (around 0)


class FrozenGenerator(Generator):
    """A random resize-conv DCGAN body; evolved: first layer (low rank), affines, output conv."""

    lift: torch.Tensor  # [C * base^2, hidden] fixed
    body: torch.Tensor  # [C/2, C, 3, 3] the fixed middle conv

    def __init__(self, spec: GeneratorSpec) -> None:
        super().__init__()
        self.spec = spec
        self.base = spec.image_size // 4
        c = spec.dcgan_channels
        rng = torch.Generator().manual_seed(spec.subspace_seed)
        lift = torch.randn(c * self.base**2, spec.hidden, generator=rng) / math.sqrt(spec.hidden)
        body = torch.randn(c // 2, c, 3, 3, generator=rng) / math.sqrt(c * 9)
        self.register_buffer("lift", lift, persistent=False)
        self.register_buffer("body", body, persistent=False)
        self.project = nn.Linear(spec.latent_dim, spec.hidden, bias=spec.bias)
        self.scale1 = nn.Parameter(torch.zeros(c))  # the scale is 1 + gene
        self.shift1 = nn.Parameter(torch.zeros(c))
        self.scale2 = nn.Parameter(torch.zeros(c // 2))
        self.shift2 = nn.Parameter(torch.zeros(c // 2))
        self.out = nn.Conv2d(c // 2, 1, 3, padding=1, bias=spec.bias)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        h = nn.functional.linear(self.project(z), self.lift)
        h = h.reshape(z.shape[0], -1, self.base, self.base)
        h = torch.relu(affine(pixel_norm(h), self.scale1, self.shift1))
        h = nn.functional.conv2d(upsample(h), self.body, padding=1)
        h = torch.relu(affine(pixel_norm(h), self.scale2, self.shift2))
        return torch.tanh(self.out(upsample(h)) + BACKGROUND_OFFSET)

    def init_std(self, name: str, param: torch.Tensor) -> float:
        if name.startswith(("scale", "shift")):
            return AFFINE_STD
        return super().init_std(name, param)


def upsample(h: torch.Tensor) -> torch.Tensor:
    """2x bilinear: smooth, so random filters after it draw no checkerboard."""
    return nn.functional.interpolate(h, scale_factor=2.0, mode="bilinear", align_corners=False)


def affine(h: torch.Tensor, scale: torch.Tensor, shift: torch.Tensor) -> torch.Tensor:
    """``h [N, C, H, W]`` times ``1 + scale [C]`` plus ``shift [C]``, per channel."""
    return h * (1 + scale)[:, None, None] + shift[:, None, None]
