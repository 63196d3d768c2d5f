"""The basis generator on the training images' own principal components.

The ``basis`` family draws every image from 64 low-frequency cosines: smooth,
but far from handwriting, and on MNIST the search spends thousands of
generations assembling strokes out of waves. Here the fixed basis is the
leading ``components`` principal components of the training images instead
(PCA, as in eigen-digit and PCA-initialised generators): every direction the
search can take is one along which real digits vary, and a zero genome's
image is the average digit. The genome is the same small MLP, ``z -> hidden
-> coefficients``; only the basis it mixes differs, so ES works in a space of
digit strokes rather than of waves.

The components are fitted where pixels are still linear, before the output
``tanh``: images ``x`` in [-1, 1] are mapped to ``atanh(SQUEEZE * x)`` (ink
and background at about +-2.6), centred, and decomposed; each component is
scaled by its spread over the images, so a coefficient of 1 moves an image
as far as a typical digit differs from the mean along it. The generator draws
``tanh(mean + coefficients @ basis)``.

``mean`` and ``basis`` come from data, not from the spec, so they are
persistent buffers: they travel with exported weights and Ray workers. A
generator built from its spec alone, before ``fit_to`` has seen images, uses
the cosine basis family's waves with its background offset.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from evogan.errors import EvoganError
from evogan.networks.base import BACKGROUND_OFFSET, Generator, GeneratorSpec

SQUEEZE = 0.99  # atanh(+-1) is infinite: pixels at the ends map to +-2.65


class PCAGenerator(Generator):
    """MLP -> coefficients of the training images' ``spec.components`` principal components."""

    mean: torch.Tensor  # [H*W] the images' mean before the output tanh
    basis: torch.Tensor  # [components, H*W] components, each scaled by its spread

    def __init__(self, spec: GeneratorSpec) -> None:
        super().__init__()
        from evogan.networks.generators import cosine_basis  # the registry imports this module

        self.spec = spec
        pixels = spec.image_size**2
        self.hidden = nn.Linear(spec.latent_dim, spec.hidden, bias=spec.bias)
        self.coefficients = nn.Linear(spec.hidden, spec.components, bias=spec.bias)
        waves = cosine_basis(math.ceil(math.sqrt(spec.components)), spec.image_size)
        self.register_buffer("basis", waves[: spec.components].clone())
        self.register_buffer("mean", torch.full((pixels,), BACKGROUND_OFFSET))

    def fit_to(self, images: torch.Tensor) -> None:
        mean, basis = principal_components(images, self.spec.components)
        self.mean.copy_(mean)
        self.basis.copy_(basis)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        coefficients = self.coefficients(torch.tanh(self.hidden(z)))
        image = torch.tanh(coefficients @ self.basis + self.mean)
        side = self.spec.image_size
        return image.reshape(z.shape[0], 1, side, side)


def principal_components(images: torch.Tensor, k: int) -> tuple[torch.Tensor, torch.Tensor]:
    """``images [N, 1, H, W]`` in [-1, 1] -> their pre-tanh ``mean [H*W]`` and the
    leading ``k`` components ``[k, H*W]``, each scaled by its spread.

    Computed in float64 and signed so that each component's largest entry is
    positive: the same images give the same basis bit for bit, whatever the
    thread count, so a resumed run rebuilds exactly the basis it started with.
    """
    flat = images.reshape(len(images), -1).double()
    if not 1 <= k <= min(flat.shape):
        raise EvoganError(
            f"components {k}: the pca generator needs 1 to {min(flat.shape)} "
            f"(the number of training images and of pixels, {len(flat)} and {flat.shape[1]})"
        )
    pre_tanh = torch.atanh(flat.clamp(-1, 1) * SQUEEZE)
    mean = pre_tanh.mean(0)
    _, spread, directions = torch.linalg.svd(pre_tanh - mean, full_matrices=False)
    directions = directions[:k]
    sign = directions.gather(1, directions.abs().argmax(1, keepdim=True)).sign()
    basis = directions * sign * (spread[:k, None] / math.sqrt(max(len(flat) - 1, 1)))
    return mean.float(), basis.float()
