"""Fitness: how much an agent fools the discriminator; higher is fitter.

Every agent of a generation is scored on the same latent batch (common random
numbers), so differences in fitness come from the genomes, not from luck.

- ``logit`` (default): the mean discriminator logit of the agent's fakes. It
  keeps ranking agents while the discriminator rejects every fake -- the case
  where the article's accuracy fitness gives every agent the same score and
  selection goes blind.
- ``accuracy`` (the article's): ``100 * (1 - accuracy)`` of the discriminator
  on the agent's fakes plus as many real images. 50 means the discriminator is
  guessing; 100 means it is wrong on every image. The article's threshold of
  90 therefore asks the discriminator to be wrong on 90 % of the images.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

FitnessFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


def logit_fitness(fake_logits: torch.Tensor, real_logits: torch.Tensor) -> torch.Tensor:
    """``[pop, S]`` fake logits -> ``[pop]`` mean logit (real images do not matter)."""
    return fake_logits.mean(dim=1)


def accuracy_fitness(fake_logits: torch.Tensor, real_logits: torch.Tensor) -> torch.Tensor:
    """``[pop, S]`` fake logits, ``[R]`` real logits -> ``[pop]`` in [0, 100]."""
    fakes_right = (fake_logits <= 0).float().sum(dim=1)
    reals_right = (real_logits > 0).float().sum()
    accuracy = (fakes_right + reals_right) / (fake_logits.shape[1] + real_logits.shape[0])
    return 100.0 * (1.0 - accuracy)


FITNESS: dict[str, FitnessFn] = {"logit": logit_fitness, "accuracy": accuracy_fitness}
