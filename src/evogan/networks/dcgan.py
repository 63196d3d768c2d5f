"""A DCGAN-like generator (Radford et al. 2016) that runs batched over agents.

latent -> linear -> C x H/4 x W/4 -> transposed conv (kernel 4, stride 2) ->
C/2 x H/2 x W/2 -> transposed conv -> 1 x H x W -> tanh. At C = 128, latent 64
and 28 px this is the ~540k-weight DCGAN a user would train by gradient.

BatchNorm is replaced by pixel norm (Karras et al. 2018, ProGAN): every
pixel's feature vector divided by its RMS over channels. BatchNorm cannot be
used here: it makes one image depend on the other latents of its batch (an
agent's fitness would hang on its batch-mates, and a single sample would
differ from the same latent in a batch), and its running statistics are
buffers updated in place in training mode, which ``functional_call`` under
``vmap`` over agents does not allow. Pixel norm is per sample, stateless and
has no parameters.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch import nn

from evogan.networks.base import BACKGROUND_OFFSET, Generator, GeneratorSpec

Layer = Callable[[torch.Tensor], torch.Tensor]


def pixel_norm(h: torch.Tensor, eps: float = 1e-8) -> torch.Tensor:
    """``[N, C, H, W]`` with each pixel's C features scaled to an RMS of 1."""
    return h * torch.rsqrt(h.square().mean(dim=1, keepdim=True) + eps)


def draw(z: torch.Tensor, project: Layer, up1: Layer, up2: Layer, base: int) -> torch.Tensor:
    """The DCGAN architecture with its three layers given as functions.

    ``DCGANGenerator`` passes its own modules; ``SubspaceGenerator`` passes
    functional layers over weights it computes, so the net is written once.
    """
    h = project(z).reshape(z.shape[0], -1, base, base)
    h = torch.relu(pixel_norm(h))
    h = torch.relu(pixel_norm(up1(h)))
    return torch.tanh(up2(h) + BACKGROUND_OFFSET)


class DCGANGenerator(Generator):
    """Linear -> (C, H/4, W/4) -> two stride-2 transposed convs C -> C/2 -> 1, pixel norm."""

    def __init__(self, spec: GeneratorSpec) -> None:
        super().__init__()
        self.spec = spec
        self.base = spec.image_size // 4
        c = spec.dcgan_channels
        self.project = nn.Linear(spec.latent_dim, c * self.base**2, bias=spec.bias)
        self.up1 = nn.ConvTranspose2d(c, c // 2, 4, stride=2, padding=1, bias=spec.bias)
        self.up2 = nn.ConvTranspose2d(c // 2, 1, 4, stride=2, padding=1, bias=spec.bias)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return draw(z, self.project, self.up1, self.up2, self.base)

    def init_std(self, name: str, param: torch.Tensor) -> float:
        """A transposed conv weight is ``[in, out, k, k]``: its fan-in is not ``param[0]``.

        Each output pixel of a stride-s transposed conv sums ``in * k*k / s*s``
        inputs (2 x 2 taps per input channel here), so that is the fan-in of
        the 1/sqrt(fan_in) init; ``param[0].numel()`` would give ``out * k*k``.
        """
        layer = self.get_submodule(name.rpartition(".")[0])
        if self.spec.init == "scaled" and isinstance(layer, nn.ConvTranspose2d) and param.dim() > 1:
            taps = math.prod(layer.kernel_size) // math.prod(layer.stride)
            return 1.0 / math.sqrt(layer.in_channels * taps)
        return super().init_std(name, param)
