"""The evaluator interface shared by every backend."""

from __future__ import annotations

from typing import Any, Protocol

import torch
from torch import nn


class Evaluator(Protocol):
    def evaluate(
        self,
        population: torch.Tensor,
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
