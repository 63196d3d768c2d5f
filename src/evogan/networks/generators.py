"""Generator architectures: the genomes that evolve.

Every generator maps a latent batch ``z [S, latent_dim]`` to images
``[S, 1, H, W]`` in [-1, 1]. Genome size is the first lever of a GA: the
article's 100-100-784 MLP has 88k weights, which truncation selection cannot
search in any reasonable time, so evogan's default generators are small
(a few thousand parameters) and use structure instead of size:

- ``mlp``: the article's layer-spec MLP (``network = [[in, out, act], ...]``).
- ``conv``: a tiny upsampling conv net (linear -> 2x up -> conv -> 2x up -> conv).
- ``basis``: an MLP that emits coefficients of a fixed low-frequency cosine
  basis, so every genome draws smooth strokes rather than pixel noise.
- ``dcgan``: the DCGAN a user would train by gradient (~540k weights at 28 px),
  with pixel norm instead of BatchNorm (``dcgan.py``).
- ``subspace``: that DCGAN searched in a random ``genome_dim``-dimensional
  subspace of its weights around a fixed init (``subspace.py``).
- ``frozen``: that DCGAN fixed at a random init, steered by a low-rank first
  layer, per-channel scales and shifts and an evolved output layer (``frozen.py``).
- ``pca``: the basis generator on the training images' principal components
  instead of cosines (``pca.py``).
- ``mppca``: a mixture of Gaussians in those components, fitted to the
  training images by k-means and evolved as offsets from the fit (``mppca.py``).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch import nn

from evogan.errors import EvoganError
from evogan.networks.base import BACKGROUND_OFFSET, Generator, GeneratorSpec
from evogan.networks.dcgan import DCGANGenerator
from evogan.networks.frozen import FrozenGenerator
from evogan.networks.mixture import MixtureGenerator
from evogan.networks.mppca import MPPCAGenerator
from evogan.networks.pca import PCAGenerator
from evogan.networks.spec import ACTIVATIONS, parse_network, to_pixels
from evogan.networks.subspace import SubspaceGenerator


class MLPGenerator(Generator):
    """The article's network: a stack of dense layers from a layer spec."""

    def __init__(self, spec: GeneratorSpec) -> None:
        super().__init__()
        assert spec.network is not None
        self.spec = spec
        layers: list[nn.Module] = []
        for layer in spec.network:
            layers += [nn.Linear(layer.inputs, layer.outputs, bias=spec.bias)]
            layers += [ACTIVATIONS[layer.activation]()]
        self.body = nn.Sequential(*layers)
        self.last_activation = spec.network[-1].activation

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        side = self.spec.image_size
        pixels = to_pixels(self.body(z), self.last_activation)
        return pixels.reshape(z.shape[0], 1, side, side)


class ConvGenerator(Generator):
    """Latent -> (channels x H/4 x W/4) -> 2x up -> conv -> 2x up -> conv -> tanh."""

    def __init__(self, spec: GeneratorSpec) -> None:
        super().__init__()
        self.spec = spec
        self.base = spec.image_size // 4
        c = spec.channels
        self.project = nn.Linear(spec.latent_dim, c * self.base * self.base, bias=spec.bias)
        self.conv1 = nn.Conv2d(c, c, 3, padding=1, bias=spec.bias)
        self.conv2 = nn.Conv2d(c, 1, 3, padding=1, bias=spec.bias)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        h = torch.tanh(self.project(z)).reshape(z.shape[0], -1, self.base, self.base)
        h = torch.tanh(self.conv1(nn.functional.interpolate(h, scale_factor=2.0)))
        h = self.conv2(nn.functional.interpolate(h, scale_factor=2.0))
        return torch.tanh(h + BACKGROUND_OFFSET)


class BasisGenerator(Generator):
    """MLP -> coefficients of the lowest ``basis_size`` x ``basis_size`` 2-D cosine waves."""

    basis: torch.Tensor

    def __init__(self, spec: GeneratorSpec) -> None:
        super().__init__()
        self.spec = spec
        k = spec.basis_size
        self.hidden = nn.Linear(spec.latent_dim, spec.hidden, bias=spec.bias)
        self.coefficients = nn.Linear(spec.hidden, k * k, bias=spec.bias)
        self.register_buffer("basis", cosine_basis(k, spec.image_size), persistent=False)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        coefficients = self.coefficients(torch.tanh(self.hidden(z)))
        image = torch.tanh(coefficients @ self.basis + BACKGROUND_OFFSET)
        side = self.spec.image_size
        return image.reshape(z.shape[0], 1, side, side)


def cosine_basis(k: int, side: int) -> torch.Tensor:
    """``[k*k, side*side]`` 2-D DCT-II basis images of the k lowest frequencies."""
    x = torch.arange(side, dtype=torch.float32)
    freqs = torch.arange(k, dtype=torch.float32)
    waves = torch.cos(math.pi * (x[None, :] + 0.5) * freqs[:, None] / side)  # [k, side]
    waves = waves / waves.norm(dim=1, keepdim=True)
    # Scaled so that a pixel's spread equals a coefficient's (each basis image has RMS side/k).
    return torch.einsum("ax,by->abxy", waves, waves).reshape(k * k, side * side) * side / k


GENERATORS: dict[str, Callable[[GeneratorSpec], Generator]] = {
    "mlp": MLPGenerator,
    "conv": ConvGenerator,
    "basis": BasisGenerator,
    "dcgan": DCGANGenerator,
    "subspace": SubspaceGenerator,
    "frozen": FrozenGenerator,
    "pca": PCAGenerator,
    "mppca": MPPCAGenerator,
}


def build_generator(spec: GeneratorSpec) -> Generator:
    """Instantiate a generator and check that it draws images of the right size."""
    if spec.mixture:
        if spec.mixture < 2 or spec.latent_dim < 2:
            raise EvoganError(
                f"mixture: needs at least 2 components and 2 latent dimensions, got "
                f"{spec.mixture} and {spec.latent_dim}"
            )
        return MixtureGenerator(spec, build_generator)
    if spec.kind not in GENERATORS:
        raise EvoganError(f"generator: unknown {spec.kind!r} (choose from {', '.join(GENERATORS)})")
    if spec.kind == "mlp":
        _check_mlp(spec)
    if spec.kind in ("conv", "dcgan", "subspace", "frozen") and spec.image_size % 4:
        raise EvoganError(
            f"generator {spec.kind}: image size {spec.image_size} is not a multiple of 4"
        )
    if spec.kind in ("dcgan", "subspace", "frozen") and spec.dcgan_channels < 2:
        raise EvoganError(f"dcgan_channels must be at least 2, got {spec.dcgan_channels}")
    if spec.kind == "subspace" and spec.genome_dim < 1:
        raise EvoganError(f"genome_dim must be at least 1, got {spec.genome_dim}")
    if spec.kind in ("pca", "mppca") and not 1 <= spec.components <= spec.image_size**2:
        raise EvoganError(
            f"components must be in [1, {spec.image_size**2}] (the pixels of an image), "
            f"got {spec.components}"
        )
    if spec.kind == "mppca" and not 2 <= spec.latent_dim <= spec.components + 1:
        raise EvoganError(
            f"generator mppca: latent_dim must be in [2, {spec.components + 1}] (one coordinate "
            f"picks the cluster, the others move along the cluster's directions among the "
            f"{spec.components} components), got {spec.latent_dim}"
        )
    if spec.kind == "basis" and not 1 <= spec.basis_size <= spec.image_size:
        raise EvoganError(f"basis_size must be in [1, {spec.image_size}], got {spec.basis_size}")
    return GENERATORS[spec.kind](spec)


def _check_mlp(spec: GeneratorSpec) -> None:
    if not spec.network:
        raise EvoganError("an mlp generator needs a network: a non-empty list of layers")
    if spec.network[-1].activation not in ("sigmoid", "tanh"):
        raise EvoganError(
            f"network: the last activation must be sigmoid or tanh so that pixels stay in "
            f"[-1, 1], got {spec.network[-1].activation!r}"
        )
    pixels = spec.image_size**2
    if spec.network[-1].outputs != pixels:
        raise EvoganError(
            f"network: last layer has {spec.network[-1].outputs} outputs but images of "
            f"{spec.image_size}x{spec.image_size} need {pixels}"
        )
    if spec.network[0].inputs != spec.latent_dim:
        raise EvoganError(
            f"network: first layer takes {spec.network[0].inputs} inputs but latent_dim is "
            f"{spec.latent_dim}"
        )


__all__ = ["GENERATORS", "Generator", "GeneratorSpec", "build_generator", "parse_network"]
