"""Genomes: a generator's parameters as one flat vector, a population as one tensor.

The layout (names, shapes, slices) is computed once from the generator; the
whole population ``[pop, n_params]`` then runs as one batched call through
``torch.func.vmap`` over ``functional_call`` -- never a Python loop per agent.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch.func import functional_call, vmap

from evogan.networks.generators import Generator


@dataclass(frozen=True)
class GenomeLayout:
    """Where each parameter tensor of the generator lives in the flat genome."""

    names: tuple[str, ...]
    shapes: tuple[torch.Size, ...]
    segments: tuple[tuple[int, int], ...]
    init_std: torch.Tensor  # [n_params]: spread of a fresh value of each gene
    initial: torch.Tensor | None = None  # [n_params]: the module's own (PyTorch) initialisation
    search_from_initial: bool = False  # ES starts at ``initial`` (a fitted family's fit)

    @property
    def size(self) -> int:
        return self.segments[-1][1] if self.segments else 0

    @classmethod
    def of(cls, generator: Generator) -> GenomeLayout:
        names, shapes, segments, stds = [], [], [], []
        start = 0
        for name, param in generator.named_parameters():
            names.append(name)
            shapes.append(param.shape)
            segments.append((start, start + param.numel()))
            stds.append(torch.full((param.numel(),), generator.init_std(name, param)))
            start += param.numel()
        initial = torch.cat([p.detach().reshape(-1) for p in generator.parameters()])
        return cls(tuple(names), tuple(shapes), tuple(segments), torch.cat(stds), initial,
                   generator.search_from_own_parameters)  # fmt: skip

    def unflatten(self, population: torch.Tensor) -> dict[str, torch.Tensor]:
        """``[pop, n_params]`` -> ``{name: [pop, *shape]}`` views (no copy)."""
        pop = population.shape[0]
        return {
            name: population[:, a:b].reshape(pop, *shape)
            for name, shape, (a, b) in zip(self.names, self.shapes, self.segments, strict=True)
        }

    def flatten(self, generator: Generator) -> torch.Tensor:
        """One generator's parameters as a genome ``[n_params]``."""
        return torch.cat([p.detach().reshape(-1) for p in generator.parameters()])

    def random_population(self, pop: int, *, rng: torch.Generator) -> torch.Tensor:
        """``[pop, n_params]`` independent random agents (the article's first generation)."""
        noise = torch.randn(pop, self.size, generator=rng)
        return noise * self.init_std


def generate(
    model: Generator,
    layout: GenomeLayout,
    population: torch.Tensor,
    latents: torch.Tensor,
    *,
    chunk: int = 256,
) -> torch.Tensor:
    """Images of every agent: ``[pop, S, 1, H, W]``.

    ``latents`` is ``[S, latent_dim]``, shared by all agents (common random
    numbers), or ``[pop, S, latent_dim]``, one batch per agent. Agents are
    processed ``chunk`` at a time only to bound memory; each chunk is one
    vectorised call.
    """

    def one_agent(params: dict[str, torch.Tensor], z: torch.Tensor) -> torch.Tensor:
        return functional_call(model, params, (z,))

    shared = latents.dim() == 2
    batched = vmap(one_agent, in_dims=(0, None if shared else 0))
    parts = [
        batched(layout.unflatten(piece), latents if shared else latents[i : i + len(piece)])
        for i, piece in zip(range(0, len(population), chunk), population.split(chunk), strict=True)
    ]
    return torch.cat(parts)


def load_genome(model: Generator, layout: GenomeLayout, genome: torch.Tensor) -> Generator:
    """Write a genome into ``model``'s parameters, giving an ordinary ``nn.Module``."""
    params = layout.unflatten(genome[None])
    with torch.no_grad():
        for name, param in model.named_parameters():
            param.copy_(params[name][0])
    return model
