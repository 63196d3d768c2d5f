"""A mixture of generators of one family, behind one latent: one exported generator.

Lipizzaner (Toutouh, Hemberg & O'Reilly 2019) returns an ensemble of K
generators with evolved mixture weights rather than its single best one,
which covers more modes (digit classes) than any one of them. Here the
mixture is an ordinary ``Generator``: its latent has one extra leading
coordinate, whose normal CDF picks the component (so the same latent always
gives the same image), and the rest is the component's own latent. It saves,
loads and samples like any other generator; a user never handles K files.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import torch
from torch import nn

from evogan.networks.base import Generator, GeneratorSpec


class MixtureGenerator(Generator):
    """``spec.mixture`` components of ``spec.kind``; ``z[:, 0]`` chooses, ``z[:, 1:]`` draws."""

    def __init__(self, spec: GeneratorSpec, build: Callable[[GeneratorSpec], Generator]) -> None:
        super().__init__()
        self.spec = spec
        component = dataclasses.replace(spec, mixture=0, latent_dim=spec.latent_dim - 1)
        self.components = nn.ModuleList(build(component) for _ in range(spec.mixture))
        # log mixture weights; a parameter so that it is saved with the weights, never trained
        self.log_weights = nn.Parameter(torch.zeros(spec.mixture), requires_grad=False)

    def fit_to(self, images: torch.Tensor) -> None:
        """Fit one component and give the others its fixed parts: they share one basis."""
        first, *others = self.components
        assert isinstance(first, Generator)
        first.fit_to(images)
        for component in others:
            component.load_state_dict(component.state_dict() | first.fixed_state())

    @property
    def weights(self) -> torch.Tensor:
        """``[K]`` mixture weights, summing to 1."""
        return torch.softmax(self.log_weights, dim=0)

    def choose(self, z: torch.Tensor) -> torch.Tensor:
        """Component ``[S]`` of each latent: the CDF of ``z[:, 0]`` against the weights' edges."""
        edges = self.weights.cumsum(0)
        u = torch.special.ndtr(z[:, 0]).contiguous()
        return torch.searchsorted(edges, u).clamp(max=len(edges) - 1)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        choice = self.choose(z)
        images = torch.stack([component(z[:, 1:]) for component in self.components])
        return images[choice, torch.arange(len(z))]
