"""Evaluate the whole population in this process with batched tensor calls."""

from __future__ import annotations

import torch
from torch import nn

from evogan.critic import SCORING_CHUNK, score
from evogan.genome import GenomeLayout, generate
from evogan.networks import Generator


class LocalEvaluator:
    """Generator forward for all agents, then one discriminator pass over all fakes.

    Agents go through in groups sized so that a group's fakes fill one scoring
    chunk; that bounds memory at population 1000 without a loop per agent.
    """

    def __init__(self, model: Generator, layout: GenomeLayout) -> None:
        self.model = model
        self.layout = layout

    @torch.no_grad()
    def evaluate(
        self, population: torch.Tensor, latents: torch.Tensor, discriminator: nn.Module
    ) -> tuple[torch.Tensor, torch.Tensor]:
        samples = latents.shape[0]
        group = max(1, SCORING_CHUNK // samples)
        logits, spreads = [], []
        for agents in population.split(group):
            fakes = generate(self.model, self.layout, agents, latents)
            logits.append(score(discriminator, fakes.flatten(0, 1)).reshape(len(agents), samples))
            spreads.append(fakes.std(dim=1).flatten(1).mean(dim=1))
        return torch.cat(logits), torch.cat(spreads)
