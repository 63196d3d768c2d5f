"""Fitness: how much an agent fools the discriminator; higher is fitter.

Every agent of a generation is scored on the same latent batch (common random
numbers), so differences in fitness come from the genomes, not from luck.

- ``logit`` (default): the mean discriminator logit of the agent's fakes. It
  keeps ranking agents while the discriminator rejects every fake -- the case
  where the article's accuracy fitness gives every agent the same score and
  selection goes blind.
- ``nonsaturating``: the mean of ``log sigmoid(logit)``, minus the gradient
  generator's non-saturating loss (Goodfellow et al. 2014). The mean logit
  weighs every fake alike, so an agent gains as much by making its best fakes
  even more convincing as by mending its worst: a pull towards a few modes.
  ``log sigmoid`` is flat for fakes the critic already takes for real and
  steep for the ones it rejects, so evolution is scored on what a DCGAN's
  gradient descends: the agents whose every fake passes rank first.
- ``accuracy`` (the article's): ``100 * (1 - accuracy)`` of the discriminator
  on the agent's fakes plus as many real images. 50 means the discriminator is
  guessing; 100 means it is wrong on every image. The article's threshold of
  90 therefore asks the discriminator to be wrong on 90 % of the images.

Both judge each fake alone, and a fake that fools the current critic is easy
for evolution to find without looking like a digit (Nguyen et al. 2015,
"Deep neural networks are easily fooled"). Two fitnesses see the agent's
whole batch instead, in the critic's last hidden layer (its features, the
input of its dense unit), which stays informative after the critic wins:

- ``features``: feature matching (Salimans et al. 2016, "Improved techniques
  for training GANs"): minus the squared distance between the mean feature of
  the agent's fakes and of a real batch.
- ``mmd``: minus the squared maximum mean discrepancy between the agent's
  fakes and the real batch in those features, with a Gaussian kernel whose
  width is the mean squared distance between the real features (Li et al.
  2017, MMD GAN). Unlike the mean, it also rewards an agent whose fakes are
  as varied as the real images.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

FitnessFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


def logit_fitness(fake_logits: torch.Tensor, real_logits: torch.Tensor) -> torch.Tensor:
    """``[pop, S]`` fake logits -> ``[pop]`` mean logit (real images do not matter)."""
    return fake_logits.mean(dim=1)


def nonsaturating_fitness(fake_logits: torch.Tensor, real_logits: torch.Tensor) -> torch.Tensor:
    """``[pop, S]`` fake logits -> ``[pop]`` mean ``log sigmoid``: minus the non-saturating loss."""
    return torch.nn.functional.logsigmoid(fake_logits).mean(dim=1)


def accuracy_fitness(fake_logits: torch.Tensor, real_logits: torch.Tensor) -> torch.Tensor:
    """``[pop, S]`` fake logits, ``[R]`` real logits -> ``[pop]`` in [0, 100]."""
    fakes_right = (fake_logits <= 0).float().sum(dim=1)
    reals_right = (real_logits > 0).float().sum()
    accuracy = (fakes_right + reals_right) / (fake_logits.shape[1] + real_logits.shape[0])
    return 100.0 * (1.0 - accuracy)


def feature_matching_fitness(fake: torch.Tensor, real: torch.Tensor) -> torch.Tensor:
    """``[pop, S, F]`` fake features, ``[R, F]`` real features -> ``[pop]``."""
    return -(fake.mean(dim=1) - real.mean(dim=0)).square().sum(dim=1)


def mmd_fitness(fake: torch.Tensor, real: torch.Tensor) -> torch.Tensor:
    """``[pop, S, F]`` fake features, ``[R, F]`` real features -> ``[pop]`` minus MMD^2.

    The real-real term is the same for every agent and left out; the fake-fake
    term leaves out each sample's kernel with itself (the unbiased estimate).
    """
    pop, samples, _ = fake.shape
    width = kernel_width(real)
    fake_fake = torch.exp(-torch.cdist(fake, fake).square() / width)
    fake_real = torch.exp(-torch.cdist(fake, real.expand(pop, *real.shape)).square() / width)
    within = (fake_fake.sum(dim=(1, 2)) - samples) / max(samples * (samples - 1), 1)
    return -(within - 2 * fake_real.mean(dim=(1, 2)))


def kernel_width(real: torch.Tensor) -> torch.Tensor:
    """The Gaussian kernel's width for ``[R, F]`` reals: their mean squared distance."""
    width = torch.cdist(real, real).square().sum() / max(len(real) * (len(real) - 1), 1)
    return width.clamp_min(1e-12)


def squared_mmd(fake: torch.Tensor, real: torch.Tensor) -> torch.Tensor:
    """``[pop, S, F]`` fakes, ``[R, F]`` reals -> ``[pop]`` unbiased squared MMD (>= 0 up
    to noise): ``mmd_fitness`` with the real-real term put back."""
    count = len(real)
    real_real = torch.exp(-torch.cdist(real, real).square() / kernel_width(real))
    within_real = (real_real.sum() - count) / max(count * (count - 1), 1)
    return within_real - mmd_fitness(fake, real)


FITNESS: dict[str, FitnessFn] = {
    "logit": logit_fitness,
    "nonsaturating": nonsaturating_fitness,
    "accuracy": accuracy_fitness,
    "features": feature_matching_fitness,
    "mmd": mmd_fitness,
}
ON_FEATURES = frozenset({"features", "mmd"})  # fitnesses that read critic features
