"""The evaluator interface shared by every backend."""

from __future__ import annotations

from typing import Protocol

import torch
from torch import nn


class Evaluator(Protocol):
    def evaluate(
        self, population: torch.Tensor, latents: torch.Tensor, discriminator: nn.Module
    ) -> torch.Tensor:
        """Discriminator logits ``[pop, S]`` of every agent's fakes for the shared latents."""
        ...
