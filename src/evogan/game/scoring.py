"""Scoring a population: the interface every backend meets, and the local one.

``LocalScorer`` runs the whole population in this process with batched tensor
calls; the Ray backend (``evogan.distributed.scorer``) meets the same interface.
"""

from __future__ import annotations

from typing import Any, Protocol

import torch
from torch import nn

from evogan.bred import Population, whole
from evogan.game.critic import SCORING_CHUNK, score
from evogan.genome import GenomeLayout, generate
from evogan.networks import Generator


class Scorer(Protocol):
    @property
    def rebuilds(self) -> bool:
        """True: the backend rebuilds a bred population from its lineage, so the trainer
        may hand it a ``Bred`` generation and breed only the rows the driver reads."""
        ...

    def evaluate(
        self,
        population: Population,
        latents: torch.Tensor,
        discriminator: nn.Module,
        lineage: Any = None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Every agent's fakes for the shared latents, scored: the discriminator's
        outputs ``[pop, S]`` (logits; ``[pop, S, F]`` when it is the critic's feature
        layers) and the spread ``[pop]`` of each agent's fakes (mean per-pixel
        standard deviation across its samples: 0 when it ignores its latent).

        ``lineage``, when the trainer has one, says how ``population`` was bred
        from an earlier one; a remote backend may send it instead of the genomes."""
        ...

    def close(self) -> None:
        """Stop the backend's workers (Ray actors); they start again if it is used again."""
        ...


class LocalScorer:
    """Generator forward for all agents, then one discriminator pass over all fakes.

    Agents go through in groups sized so that a group's fakes fill one scoring
    chunk; that bounds memory at population 1000 without a loop per agent.
    """

    rebuilds = False  # it scores the genomes it is given

    def __init__(self, model: Generator, layout: GenomeLayout) -> None:
        self.model = model
        self.layout = layout

    def close(self) -> None:
        """Nothing to stop: scoring ran in this process."""

    @torch.no_grad()
    def evaluate(
        self,
        population: Population,
        latents: torch.Tensor,
        discriminator: nn.Module,
        lineage: Any = None,  # the genomes are here already
    ) -> tuple[torch.Tensor, torch.Tensor]:
        samples = latents.shape[0]
        group = group_size(samples)
        logits, spreads = [], []
        for agents in whole(population).split(group):
            fakes = generate(self.model, self.layout, agents, latents)
            # [agents * S] logits, or [agents * S, F] critic features
            out = score(discriminator, fakes.flatten(0, 1))
            logits.append(out.unflatten(0, (len(agents), samples)))
            spreads.append(spread(fakes))
        return torch.cat(logits), torch.cat(spreads)


def group_size(samples: int) -> int:
    """Agents scored together: as many as fill one scoring chunk with their fakes."""
    return max(1, SCORING_CHUNK // samples)


def spread(fakes: torch.Tensor) -> torch.Tensor:
    """``[agents, S, 1, H, W]`` -> ``[agents]`` mean per-pixel std across the samples.

    Written out rather than ``fakes.std(dim=1)``, which reduces over a strided
    dimension and took 12x longer (3 ms a group) on CPU.
    """
    pixels = fakes.flatten(2)
    centred = pixels - pixels.mean(dim=1, keepdim=True)
    variance = centred.square().sum(dim=1) / max(pixels.shape[1] - 1, 1)
    return variance.sqrt().mean(dim=1)
