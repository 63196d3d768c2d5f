"""Evolution strategies: a search distribution around one mean genome, no back-propagation.

OpenAI-ES (Salimans et al. 2017, "Evolution strategies as a scalable
alternative to reinforcement learning"): each generation samples ``pop / 2``
antithetic pairs ``mean +- sigma * eps``, scores them with the same batched
evaluator and fitness as the GA, turns fitness into centred ranks (robust to
the critic's changing scale), and steps the mean along the estimated gradient
with Adam or ClipUp (``evogan.trainers.optimizers``). Where the GA keeps 10
parents of 50, every sample here contributes to one search direction.

Step sizes can shrink over the run (``--es-sigma-final``, ``--es-lr-final``:
exponential in the run's progress, ``evogan.schedule``), and each gene can
adapt its own sigma: ``snes`` (Schaul et al. 2011, separable natural ES) or
``pgpe`` (Sehnke et al. 2010, as EvoTorch and EvoJAX run it: a sigma
learning rate of 0.1, at most 20 % change per generation).

Everything runs in normalised units: a gene's value divided by its
initialisation spread, so one sigma and one learning rate fit every layer.
The returned generator is the mean, which is scored each generation as an
extra agent. ``ask`` and ``tell`` are pure functions of tensors (no GAN):
``step`` joins them to the arena.

The mean jitters: each step follows a 25-pair estimate of the gradient.
``--es-mean-ema`` returns an exponential moving average of the means
instead (Yazici et al. 2019, "The unusual effectiveness of averaging in GAN
training"; StyleGAN's generator EMA), scored each generation beside the mean.
The search itself, and the critic, still play the mean.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

import torch

from evogan.config import Config
from evogan.errors import EvoganError
from evogan.game.arena import Arena
from evogan.genome import GenomeLayout
from evogan.schedule import anneal
from evogan.streams import Streams
from evogan.trainers.base import Trainer, population_metrics
from evogan.trainers.optimizers import adam, clipup

ADAPTATIONS = ("none", "snes", "pgpe")
OPTIMIZERS = ("adam", "clipup")
ADAM_BETA2 = 0.999
PGPE_SIGMA_LR = 0.1  # EvoTorch's and EvoJAX's default
PGPE_MAX_CHANGE = 0.2  # at most 20 % change of a gene's sigma per generation


@dataclass(frozen=True)
class ESState:
    mean: torch.Tensor  # [n] in normalised units (gene / init spread)
    sigma: torch.Tensor  # [n] sampling step per gene before the schedule, normalised units
    adam_m: torch.Tensor  # [n] Adam's first moment, or ClipUp's velocity
    adam_v: torch.Tensor  # [n] Adam's second moment (unused by ClipUp)
    generation: int
    population: torch.Tensor  # [pop, n] the last sampled genomes (real units)
    best_fitness: float = float("-inf")  # the returned genome's fitness, last generation
    fitness: torch.Tensor | None = None  # [pop] of the last sampled genomes
    average: torch.Tensor | None = None  # [n] the means' moving average (--es-mean-ema)


@dataclass(frozen=True)
class ESTrainer(Trainer):
    layout: GenomeLayout
    population_size: int
    sigma0: float
    lr: float
    adapt: str
    sigma_lr: float
    lr_decay: float = 1.0  # the lr's factor per generation
    sigma_final: float | None = None  # sigma at progress 1 (None: constant)
    lr_final: float | None = None  # lr at progress 1 (None: constant)
    beta1: float = 0.9  # Adam's, or ClipUp's momentum
    optimizer: str = "adam"
    max_speed: float | None = None  # ClipUp's; default 2 * lr (the paper's ratio)
    mean_ema: float = 0.0  # decay of the means' moving average; 0: return the mean

    @classmethod
    def from_config(cls, config: Config, layout: GenomeLayout) -> ESTrainer:
        if config.population < 2 or config.population % 2:
            raise EvoganError(
                f"--population {config.population}: evolution strategies sample antithetic "
                "pairs, so the population must be even and at least 2"
            )
        sigma_lr = config.es_sigma_lr
        if sigma_lr is None:
            sigma_lr = default_sigma_lr(config.es_adapt, layout.size)
        return cls(
            layout=layout,
            population_size=config.population,
            sigma0=config.es_sigma,
            lr=config.es_lr,
            adapt=config.es_adapt,
            sigma_lr=sigma_lr,
            lr_decay=config.es_lr_decay,
            sigma_final=config.es_sigma_final,
            lr_final=config.es_lr_final,
            beta1=config.es_beta1,
            optimizer=config.es_optimizer,
            max_speed=config.es_max_speed,
            mean_ema=config.es_mean_ema,
        )

    @property
    def scale(self) -> torch.Tensor:
        """Each gene's initialisation spread: normalised units -> genome units."""
        return self.layout.init_std.clamp_min(1e-8)

    def init(self, rng: torch.Generator) -> ESState:
        mean = torch.randn(self.layout.size, generator=rng)
        if self.layout.search_from_initial and self.layout.initial is not None:
            mean = self.layout.initial / self.scale  # the draw above keeps rng's stream as before
        zeros = torch.zeros_like(mean)
        population = (mean * self.scale).expand(self.population_size, -1).clone()
        sigma = torch.full_like(mean, self.sigma0)
        return ESState(mean, sigma, zeros, zeros.clone(), 0, population)

    def sampling_sigma(self, state: ESState, progress: float) -> torch.Tensor:
        """``[n]`` this generation's sigma: the adapted one times the schedule's factor."""
        return state.sigma * (anneal(self.sigma0, self.sigma_final, progress) / self.sigma0)

    def ask(
        self, state: ESState, rng: torch.Generator, progress: float = 0.0
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Noise ``[pop/2, n]`` and the antithetic samples ``[pop, n]`` (normalised units)."""
        eps = torch.randn(self.population_size // 2, self.layout.size, generator=rng)
        offsets = torch.cat([eps, -eps]) * self.sampling_sigma(state, progress)
        return eps, state.mean + offsets

    def tell(
        self, state: ESState, eps: torch.Tensor, fitness: torch.Tensor, progress: float = 0.0
    ) -> tuple[ESState, dict[str, float]]:
        """Step the mean (and the sigmas) along the samples' fitness ``[pop]``."""
        pairs = len(eps)
        utility = centred_ranks(fitness)
        plus, minus = utility[:pairs], utility[pairs:]
        sigma_now = self.sampling_sigma(state, progress)
        ascent = ((plus - minus) @ eps) / (2 * pairs * sigma_now)
        lr = anneal(self.lr, self.lr_final, progress) * self.lr_decay**state.generation
        if self.optimizer == "clipup":
            max_speed = self.max_speed if self.max_speed is not None else 2 * self.lr
            speed = max_speed * lr / self.lr  # the speed limit shrinks with the lr
            m, step = clipup(ascent, state.adam_m, lr=lr, max_speed=speed, momentum=self.beta1)
            v = state.adam_v
        else:
            t = state.generation + 1
            m, v, step = adam(
                ascent, state.adam_m, state.adam_v, t, lr=lr, betas=(self.beta1, ADAM_BETA2)
            )
        sigma = adapt_sigma(self.adapt, state.sigma, plus, minus, eps, self.sigma_lr)
        mean = state.mean + step
        next_state = dataclasses.replace(
            state, mean=mean, sigma=sigma, adam_m=m, adam_v=v, generation=state.generation + 1,
            average=self.averaged(state, mean),
        )  # fmt: skip
        metrics = {
            "es/sigma": (sigma_now.mean()).item(),
            "es/step_norm": step.norm().item(),
            "es/lr": lr,
        }
        return next_state, metrics

    def averaged(self, state: ESState, mean: torch.Tensor) -> torch.Tensor | None:
        """The moving average after the mean moved to ``mean``; its decay warms up as
        ``(1 + t) / (10 + t)``, so the first means do not weigh on it for long."""
        if self.mean_ema == 0:
            return None
        before = state.average if state.average is not None else state.mean
        decay = min(self.mean_ema, (1 + state.generation) / (10 + state.generation))
        return decay * before + (1 - decay) * mean

    def step(
        self, state: ESState, arena: Arena, streams: Streams
    ) -> tuple[ESState, dict[str, float]]:
        """Sample pairs around the mean, score them with the mean (and its average), step
        the mean."""
        progress = arena.clock.progress
        eps, samples = self.ask(state, streams.ga, progress)
        population = samples * self.scale
        mean = (state.mean * self.scale)[None]
        centres = (
            mean if state.average is None else torch.cat([mean, state.average[None] * self.scale])
        )
        critic_metrics = arena.train_critic(population, streams, extra=mean)
        fitness, score_metrics = arena.score(torch.cat([centres, population]), streams)
        agents = fitness[len(centres) :]
        next_state, es_metrics = self.tell(state, eps, agents, progress)
        next_state = dataclasses.replace(
            next_state, population=population, best_fitness=float(fitness[len(centres) - 1]),
            fitness=agents,
        )  # fmt: skip
        metrics = population_metrics(agents, best=fitness.max().item()) | {
            "fitness/center": float(fitness[0]),
            **es_metrics,
        }
        if state.average is not None:
            metrics["fitness/average"] = float(fitness[1])
        return next_state, {**metrics, **critic_metrics, **score_metrics}

    def best(self, state: ESState) -> tuple[torch.Tensor, float]:
        """The mean, or with ``--es-mean-ema`` the means' average, and its last fitness."""
        centre = state.mean if state.average is None else state.average
        return centre * self.scale, state.best_fitness

    def restart(self, state: ESState, genome: torch.Tensor) -> ESState:
        """The mean (and its average) moved to ``genome``, the momentum cleared: it pointed
        where the old mean was going. Adam's second moment, a scale, and the sigmas stay."""
        mean = genome / self.scale
        average = None if state.average is None else mean.clone()
        return dataclasses.replace(
            state, mean=mean, adam_m=torch.zeros_like(state.adam_m), average=average
        )

    def agent_fitness(self, state: ESState) -> torch.Tensor | None:
        return state.fitness

    def state_dict(self, state: ESState) -> dict[str, Any]:
        return dataclasses.asdict(state)

    def load_state_dict(self, data: dict[str, Any]) -> ESState:
        state = ESState(**data)
        if state.mean.shape != (self.layout.size,) or len(state.population) != self.population_size:
            raise EvoganError(
                f"checkpoint search distribution over {tuple(state.mean.shape)} genes does not "
                f"match the config's ({self.layout.size},) with population {self.population_size}"
            )
        return state


def default_sigma_lr(adapt: str, genes: int) -> float:
    """SNES's default rate ``(3 + ln d) / (5 sqrt d)`` over ``d`` genes; PGPE's 0.1."""
    if adapt == "pgpe":
        return PGPE_SIGMA_LR
    return (3 + math.log(genes)) / (5 * math.sqrt(genes))


def adapt_sigma(
    adapt: str,
    sigma: torch.Tensor,
    plus: torch.Tensor,
    minus: torch.Tensor,
    eps: torch.Tensor,
    sigma_lr: float,
) -> torch.Tensor:
    """Each gene's next sigma ``[n]`` from the pairs' utilities ``[pairs]`` and noise ``eps``.

    Antithetic twins share ``eps**2``, so only their utilities' sum tells
    whether larger steps paid off along a gene.
    """
    if adapt == "none":
        return sigma
    pairs = len(eps)
    if adapt == "snes":
        grad_log_sigma = ((plus + minus) @ (eps.square() - 1)) / (2 * pairs)
        return sigma * torch.exp(0.5 * sigma_lr * grad_log_sigma)
    # PGPE: d sigma = sigma * E[(u+ + u-) / 2 * (eps^2 - 1)] (offsets = sigma * eps)
    grad_sigma = sigma * (((plus + minus) / 2) @ (eps.square() - 1)) / pairs
    change = (sigma_lr * grad_sigma / sigma).clamp(-PGPE_MAX_CHANGE, PGPE_MAX_CHANGE)
    return sigma * (1 + change)


def centred_ranks(fitness: torch.Tensor) -> torch.Tensor:
    """Fitness ``[n]`` -> ranks scaled to [-0.5, 0.5] (ties broken by position)."""
    ranks = torch.empty_like(fitness)
    ranks[fitness.argsort()] = torch.arange(len(fitness), dtype=fitness.dtype)
    return ranks / max(len(fitness) - 1, 1) - 0.5
