"""What every generator family shares: the spec that rebuilds it and the base class.

Kept apart from the registry (``generators.py``) so that families living in
their own modules (``dcgan``, ``subspace``) can subclass ``Generator`` without
an import cycle.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

import torch
from torch import nn

from evogan.networks.spec import LayerSpec

# Handwriting is mostly background: a fixed negative offset before the last tanh
# makes a random genome draw sparse strokes on black rather than grey noise, so
# evolution starts near the data instead of spending generations getting there.
BACKGROUND_OFFSET = -1.5


@dataclass(frozen=True)
class GeneratorSpec:
    """What a generator needs to be built again: stored beside exported weights.

    Fields with defaults came later: ``generator.json`` files written before
    them still load.
    """

    kind: str
    image_size: int
    latent_dim: int
    hidden: int
    channels: int
    basis_size: int
    network: tuple[LayerSpec, ...] | None
    bias: bool
    init: str
    dcgan_channels: int = 128  # dcgan / subspace: feature maps after the linear layer
    genome_dim: int = 1000  # subspace: genes, i.e. dimension of the searched subspace
    subspace_seed: int = 0  # subspace: seed of the fixed init theta0 and projection P
    mixture: int = 0  # > 1: a mixture of this many generators; latent_dim counts the chooser
    components: int = 64  # pca, mppca: principal components of the training images
    clusters: int = 32  # mppca: Gaussians in the mixture


class Generator(nn.Module):
    """Base class: a latent batch in, a [-1, 1] image batch out."""

    spec: GeneratorSpec
    # ES starts its mean at the module's own parameters rather than a random draw: a fitted
    # family's genes are offsets from its fit, so zero is the fit itself
    search_from_own_parameters: ClassVar[bool] = False

    def fit_to(self, images: torch.Tensor) -> None:
        """Set what the training images ``[N, 1, H, W]`` fix; most families have nothing."""

    def fixed_state(self) -> dict[str, torch.Tensor]:
        """The persistent buffers: what ``fit_to`` set, which a copy built from the spec lacks."""
        genes = {name for name, _ in self.named_parameters()}
        return {k: v for k, v in self.state_dict().items() if k not in genes}

    def init_std(self, name: str, param: torch.Tensor) -> float:
        """Spread of a fresh random value of this parameter (initialisation and reset mutation)."""
        if self.spec.init == "normal":  # the article: np.random.randn for every weight
            return 1.0
        if param.dim() == 1:
            return 0.1
        fan_in = param[0].numel()
        return 1.0 / math.sqrt(fan_in)
