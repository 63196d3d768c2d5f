"""Scoring a population: the interface every backend meets, and the local one.

``LocalScorer`` runs the whole population in this process with batched tensor
calls; the Ray backend (``evogan.distributed.scorer``) meets the same interface.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple, Protocol

import torch
from torch import nn

from evogan.bred import Population, whole
from evogan.game.critic import SCORING_CHUNK, score
from evogan.game.fitness import squared_mmd
from evogan.genome import GenomeLayout, generate
from evogan.networks import Generator


class Scores(NamedTuple):
    """A population's fakes, scored."""

    outputs: torch.Tensor  # [pop, S] logits, or [pop, S, F] the critic's feature layer
    spread: torch.Tensor  # [pop] mean per-pixel std across each agent's fakes
    pixel_mmd: torch.Tensor | None = None  # [pop] squared MMD to the reference images

    @staticmethod
    def join(parts: Sequence[Scores]) -> Scores:
        """The scores of consecutive shards, as one population's."""
        mmds = [part.pixel_mmd for part in parts]
        return Scores(
            torch.cat([part.outputs for part in parts]),
            torch.cat([part.spread for part in parts]),
            None if any(m is None for m in mmds) else torch.cat(mmds),  # type: ignore[arg-type]
        )


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
        reference: torch.Tensor | None = None,
    ) -> Scores:
        """Every agent's fakes for the shared latents, scored: the discriminator's
        outputs ``[pop, S]`` (logits; ``[pop, S, F]`` when it is the critic's feature
        layers), the spread ``[pop]`` of each agent's fakes (mean per-pixel
        standard deviation across its samples: 0 when it ignores its latent) and,
        given ``reference`` real images ``[R, C, H, W]``, each agent's squared MMD
        to them in pixels (``pixel_mmd``).

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
        reference: torch.Tensor | None = None,
    ) -> Scores:
        samples = latents.shape[0]
        group = group_size(samples)
        parts = []
        for agents in whole(population).split(group):
            fakes = generate(self.model, self.layout, agents, latents)
            # [agents * S] logits, or [agents * S, F] critic features
            out = score(discriminator, fakes.flatten(0, 1))
            mmd = None if reference is None else pixel_mmd(fakes, reference)
            parts.append(Scores(out.unflatten(0, (len(agents), samples)), spread(fakes), mmd))
        return Scores.join(parts)


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


def pixel_mmd(fakes: torch.Tensor, reference: torch.Tensor) -> torch.Tensor:
    """``[agents, S, C, H, W]`` fakes, ``[R, C, H, W]`` reals -> ``[agents]`` squared MMD
    in pixels, Gaussian kernel (``fitness.squared_mmd``).

    No critic in it: it falls only when an agent's batch covers the real
    images' variety, which a critic that has won no longer rewards."""
    return squared_mmd(fakes.flatten(2), reference.flatten(1).to(fakes.dtype))
