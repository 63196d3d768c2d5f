"""The arena: what every trainer plays against in a generation.

Real images, the critic, and how a population of genomes is scored. Trainers
share these steps (a real batch, fakes pooled from the population, a critic
update, a batched scoring of every agent) instead of each writing its own,
so that GA, ES and gradient training differ only in how they improve genomes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch

from evogan.bred import Population, whole
from evogan.game import Scorer
from evogan.game.critic import Critic, score
from evogan.game.fitness import FitnessFn
from evogan.genome import GenomeLayout, generate
from evogan.networks import Generator
from evogan.schedule import RunClock, linear_to_zero
from evogan.streams import Streams

FEW_AGENTS = 8  # a population at most disc_batch / this draws whole batches per agent
PIXEL_MMD_REALS = 128  # real images each generation's pixel MMD compares against


@dataclass(frozen=True)
class Arena:
    model: Generator
    layout: GenomeLayout
    critic: Critic
    scorer: Scorer
    fitness: FitnessFn
    images: torch.Tensor  # [N, 1, H, W] real training images in [-1, 1]
    latent_dim: int
    samples_per_agent: int  # fakes per agent when scoring
    disc_steps: int  # critic updates per generation
    disc_batch: int  # real and fake images per critic update
    diversity_weight: float
    pixel_mmd_weight: float = 0.0  # minus this times the squared pixel MMD to real images
    disc_warmup: int = 0  # extra critic updates in the first generation
    on_features: bool = False  # the fitness compares critic features, not logits
    instance_noise: float = 0.0  # std of the noise on the critic's inputs at progress 0
    sees_returned: bool = False  # part of the critic's fakes from the returned genome
    returned_share: float = 0.25  # that part
    clock: RunClock = field(default_factory=RunClock)  # the engine moves it forward

    @property
    def device(self) -> torch.device:
        return self.images.device

    def latents(self, *shape: int, rng: torch.Generator) -> torch.Tensor:
        return torch.randn(*shape, self.latent_dim, generator=rng).to(self.device)

    def real_batch(self, size: int, streams: Streams) -> torch.Tensor:
        index = torch.randint(len(self.images), (size,), generator=streams.data)
        return self.images[index.to(self.device)]

    def pooled_fakes(self, population: Population, streams: Streams) -> torch.Tensor:
        """One fake from each of ``disc_batch`` random agents: the critic sees the population.

        A critic that judges groups (``Critic.group``) gets a group of fakes from each agent."""
        group = self.critic.group
        agents = torch.randint(len(population), (self.disc_batch // group,), generator=streams.data)
        agents = agents.repeat_interleave(group)
        z = self.latents(self.disc_batch, 1, rng=streams.latents)
        with torch.no_grad():
            if len(population) * FEW_AGENTS <= self.disc_batch:
                # a few agents (gradient, E-GAN): each draws the whole batch in one ordinary
                # forward and fake i comes from agent i's; 64 single-image forwards with
                # per-agent weights cost 7x more for the DCGAN
                every = generate(self.model, self.layout, whole(population), z[:, 0])
                return every[agents, torch.arange(self.disc_batch)]
            return generate(self.model, self.layout, population[agents], z)[:, 0]

    def train_critic(
        self, population: Population, streams: Streams, *, extra: torch.Tensor | None = None
    ) -> dict[str, float]:
        """``disc_steps`` critic updates on real images against the population's fakes
        (``disc_warmup`` more in the run's first generation).

        ``extra`` (``[k, n]``, e.g. the ES mean) are the genomes the run returns:
        with ``sees_returned`` a share of each fake batch comes from them, so
        the critic also learns what the returned generator draws."""
        metrics: dict[str, float] = {}
        noise = linear_to_zero(self.instance_noise, self.clock.progress)
        warmup = self.disc_warmup if self.clock.generation == 0 else 0
        for _ in range(self.disc_steps + warmup):
            real = self.real_batch(self.disc_batch, streams)
            fake = self.pooled_fakes(population, streams)
            if self.sees_returned and extra is not None:
                fake = self.with_returned(fake, extra, streams)
            fake = self.critic.mix_replay(fake, streams.data)
            metrics = self.critic.train_step(real, fake, noise=noise, rng=streams.data)
        return metrics

    def with_returned(
        self, fake: torch.Tensor, returned: torch.Tensor, streams: Streams
    ) -> torch.Tensor:
        """``fake`` with its first ``returned_share`` replaced by fakes of the ``returned`` genomes.

        With an ES, its agents are probes around the mean, each drawing
        differently; a critic that sees only the mean plays the GAN game
        against the generator that the run returns. They come first because
        the replay (``Critic.mix_replay``) takes the batch's last quarter."""
        group = self.critic.group
        k = max(group, round(len(fake) * self.returned_share / group) * group)
        z = self.latents(k, rng=streams.latents)
        with torch.no_grad():
            theirs = generate(self.model, self.layout, returned, z).flatten(0, 1)
        if group > 1:  # a group must not draw a fake twice: that would shrink its spread
            pick = torch.randperm(len(theirs), generator=streams.data)[:k]
        else:
            pick = torch.randint(len(theirs), (k,), generator=streams.data)
        return torch.cat([theirs[pick.to(self.device)], fake[k:]])

    def score(
        self, population: Population, streams: Streams, *, lineage: Any = None
    ) -> tuple[torch.Tensor, dict[str, float]]:
        """Fitness ``[pop]`` of every agent on one shared latent batch, and its metrics.

        ``lineage`` (how the trainer bred ``population``) goes to the evaluator."""
        latents = self.latents(self.samples_per_agent, rng=streams.latents)
        judge = self.critic.features if self.on_features else self.critic.model
        reals = self.real_batch(self.samples_per_agent, streams)
        reference = self.real_batch(PIXEL_MMD_REALS, streams) if self.pixel_mmd_weight else None
        scores = self.scorer.evaluate(population, latents, judge, lineage, reference=reference)
        real_out = score(judge, reals)
        real_logits = real_out if not self.on_features else self.critic.logits(reals)
        fitness = self.fitness(scores.outputs, real_out) + self.diversity_weight * scores.spread
        metrics = {
            "disc/real_logit": real_logits.mean().item(),
            "fitness/spread": finite_mean(scores.spread),
        }
        if scores.pixel_mmd is not None:
            fitness = fitness - self.pixel_mmd_weight * scores.pixel_mmd
            metrics["fitness/pixel_mmd"] = finite_mean(scores.pixel_mmd)
        fitness, broken = worst_for_nonfinite(fitness)
        return fitness, metrics | {"fitness/nonfinite": float(broken)}


def finite_mean(values: torch.Tensor) -> float:
    """The mean of the finite ``values`` (0 if none is): a metric that a broken agent
    cannot turn into NaN."""
    return values[torch.isfinite(values)].mean().nan_to_num().item()


def worst_for_nonfinite(fitness: torch.Tensor) -> tuple[torch.Tensor, int]:
    """Agents whose fitness is NaN or infinite (broken fakes) rank last; and how many there are.

    They get one less than the worst finite fitness, so every later sum and
    rank stays finite and ordinary.
    """
    finite = torch.isfinite(fitness)
    broken = int((~finite).sum())
    if not broken:
        return fitness, 0
    worst = fitness[finite].min() - 1.0 if finite.any() else torch.tensor(-1.0)
    return torch.where(finite, fitness, worst), broken
