"""Evolution strategies: a search distribution around one mean genome, no back-propagation.

OpenAI-ES (Salimans et al. 2017, "Evolution strategies as a scalable
alternative to reinforcement learning"): each generation samples ``pop / 2``
antithetic pairs ``mean +- sigma * eps``, scores them with the same batched
evaluator and fitness as the GA, turns fitness into centred ranks (robust to
the critic's changing scale), and takes an Adam step on the mean along the
estimated gradient. Where the GA keeps 10 parents of 50, every sample here
contributes to one search direction.

With ``adapt = "snes"`` each gene also has its own step size, updated by the
separable natural-evolution-strategies rule (Schaul et al. 2011, SNES): genes
whose larger steps paid off grow their sigma, the others shrink.

Everything runs in normalised units: a gene's value divided by its
initialisation spread, so one sigma and one learning rate fit every layer.
The returned generator is the mean, which is scored each generation as an
extra agent.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

import torch

from evogan.arena import Arena
from evogan.config import Config
from evogan.errors import EvoganError
from evogan.genome import GenomeLayout
from evogan.streams import Streams

ADAPTATIONS = ("none", "snes")
ADAM_BETAS = (0.9, 0.999)
ADAM_EPS = 1e-8


@dataclass(frozen=True)
class ESState:
    mean: torch.Tensor  # [n] in normalised units (gene / init spread)
    sigma: torch.Tensor  # [n] sampling step per gene, normalised units
    adam_m: torch.Tensor  # [n] first moment of the ascent direction
    adam_v: torch.Tensor  # [n] second moment
    generation: int
    population: torch.Tensor  # [pop, n] the last sampled genomes (real units)
    best_fitness: float = float("-inf")  # the mean's fitness in the last generation
    fitness: torch.Tensor | None = None  # [pop] of the last sampled genomes


@dataclass(frozen=True)
class ESTrainer:
    layout: GenomeLayout
    population_size: int
    sigma0: float
    lr: float
    adapt: str
    sigma_lr: float
    lr_decay: float = 1.0  # the lr's factor per generation

    @classmethod
    def from_config(cls, config: Config, layout: GenomeLayout) -> ESTrainer:
        if config.population < 2 or config.population % 2:
            raise EvoganError(
                f"--population {config.population}: evolution strategies sample antithetic "
                "pairs, so the population must be even and at least 2"
            )
        if config.es_adapt not in ADAPTATIONS:
            raise EvoganError(
                f"--es-adapt: unknown {config.es_adapt!r} (choose from {', '.join(ADAPTATIONS)})"
            )
        n = config.population
        default_sigma_lr = (3 + math.log(n)) / (5 * math.sqrt(n))  # SNES's default rate
        return cls(
            layout=layout,
            population_size=n,
            sigma0=config.es_sigma,
            lr=config.es_lr,
            adapt=config.es_adapt,
            sigma_lr=config.es_sigma_lr if config.es_sigma_lr is not None else default_sigma_lr,
            lr_decay=config.es_lr_decay,
        )

    @property
    def scale(self) -> torch.Tensor:
        """Each gene's initialisation spread: normalised units -> genome units."""
        return self.layout.init_std.clamp_min(1e-8)

    def init(self, rng: torch.Generator) -> ESState:
        mean = torch.randn(self.layout.size, generator=rng)
        zeros = torch.zeros_like(mean)
        population = (mean * self.scale).expand(self.population_size, -1).clone()
        sigma = torch.full_like(mean, self.sigma0)
        return ESState(mean, sigma, zeros, zeros.clone(), 0, population)

    def step(
        self, state: ESState, arena: Arena, streams: Streams
    ) -> tuple[ESState, dict[str, float]]:
        """Sample pairs around the mean, score them with the mean, step the mean."""
        pairs = self.population_size // 2
        eps = torch.randn(pairs, self.layout.size, generator=streams.ga)
        offsets = torch.cat([eps, -eps]) * state.sigma
        population = (state.mean + offsets) * self.scale
        critic_metrics = arena.train_critic(population, streams)
        agents = torch.cat([(state.mean * self.scale)[None], population])
        fitness, score_metrics = arena.score(agents, streams)
        utility = centred_ranks(fitness[1:])
        plus, minus = utility[:pairs], utility[pairs:]
        ascent = ((plus - minus) @ eps) / (2 * pairs * state.sigma)
        lr = self.lr * self.lr_decay**state.generation
        m, v, step = adam(ascent, state.adam_m, state.adam_v, state.generation + 1, lr=lr)
        sigma = state.sigma
        if self.adapt == "snes":  # antithetic twins share eps**2: their utilities add
            grad_log_sigma = ((plus + minus) @ (eps.square() - 1)) / (2 * pairs)
            sigma = sigma * torch.exp(0.5 * self.sigma_lr * grad_log_sigma)
        next_state = ESState(
            mean=state.mean + step,
            sigma=sigma,
            adam_m=m,
            adam_v=v,
            generation=state.generation + 1,
            population=population,
            best_fitness=float(fitness[0]),
            fitness=fitness[1:],
        )
        metrics = {
            "fitness/best": fitness.max().item(),
            "fitness/mean": fitness[1:].mean().item(),
            "fitness/std": fitness[1:].std().item(),
            "fitness/center": float(fitness[0]),
            "es/sigma": sigma.mean().item(),
            "es/step_norm": step.norm().item(),
            "es/lr": lr,
        }
        return next_state, {**metrics, **critic_metrics, **score_metrics}

    def best(self, state: ESState) -> tuple[torch.Tensor, float]:
        return state.mean * self.scale, state.best_fitness

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


def centred_ranks(fitness: torch.Tensor) -> torch.Tensor:
    """Fitness ``[n]`` -> ranks scaled to [-0.5, 0.5] (ties broken by position)."""
    ranks = torch.empty_like(fitness)
    ranks[fitness.argsort()] = torch.arange(len(fitness), dtype=fitness.dtype)
    return ranks / max(len(fitness) - 1, 1) - 0.5


def adam(
    grad: torch.Tensor,
    m: torch.Tensor,
    v: torch.Tensor,
    t: int,
    *,
    lr: float,
    betas: tuple[float, float] = ADAM_BETAS,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """One bias-corrected Adam step along ``grad``: new moments and the step to add."""
    beta1, beta2 = betas
    m = beta1 * m + (1 - beta1) * grad
    v = beta2 * v + (1 - beta2) * grad.square()
    m_hat = m / (1 - beta1**t)
    v_hat = v / (1 - beta2**t)
    return m, v, lr * m_hat / (v_hat.sqrt() + ADAM_EPS)
