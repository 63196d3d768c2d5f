"""The genetic algorithm (the article's trainer) as ask/tell over a frozen state.

One generation: the critic trains against the population, every agent is
scored, and ``tell`` keeps the ``elitism`` best agents bit-for-bit, breeds the
rest from selected parents (crossover, then mutation) and returns the next
state with a flat metrics dict. No I/O, no loop: the engine owns those.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from functools import partial
from typing import Any

import torch

from evogan.bred import Bred, Population, whole
from evogan.config import Config
from evogan.errors import EvoganError
from evogan.game.arena import Arena
from evogan.genome import GenomeLayout
from evogan.schedule import anneal
from evogan.streams import Streams
from evogan.trainers.base import Rebuild, Trainer, population_metrics
from evogan.trainers.lineage import Lineage, breed
from evogan.trainers.operators import (
    SELECTION,
    SelectionFn,
    elite_indices,
    scheduled_sigma,
    self_adapt_sigma,
)

# annealed: from --mutation-sigma to --sigma-min, exponential in the run's progress
SIGMA_SCHEDULE_NAMES = ("constant", "exponential", "annealed", "self-adaptive")


@dataclass(frozen=True)
class GAParams:
    """What the GA derives once from the config and the genome layout."""

    population: int
    elitism: int
    select: SelectionFn
    crossover: str
    crossover_rate: float
    crossover_options: dict[str, Any]
    mutation: str
    mutation_rate: float
    sigma0: float
    sigma_schedule: str
    sigma_decay: float
    sigma_min: float
    init_std: torch.Tensor

    @classmethod
    def from_config(cls, config: Config, layout: GenomeLayout) -> GAParams:
        options: dict[str, Any] = {"segments": layout.segments}
        select_options: dict[str, Any] = (
            {"fraction": config.selection_fraction}
            if config.selection == "truncation"
            else {"k": config.tournament_size}
        )
        check_population(config)
        return cls(
            population=config.population,
            elitism=config.elitism,
            select=partial(SELECTION[config.selection], **select_options),
            crossover=config.crossover,
            crossover_rate=config.crossover_rate,
            crossover_options=options,
            mutation=config.mutation,
            mutation_rate=config.mutation_rate,
            sigma0=config.mutation_sigma,
            sigma_schedule=config.sigma_schedule,
            sigma_decay=config.sigma_decay,
            sigma_min=config.sigma_min,
            init_std=layout.init_std,
        )


@dataclass(frozen=True)
class GAState:
    # [pop, n_params] genomes; with a backend that rebuilds them from the lineage, a
    # ``Bred`` generation whose rows the driver breeds only when it reads them
    agents: Population
    sigma: torch.Tensor  # [pop] mutation step of each agent, relative to the init spread
    generation: int
    best: torch.Tensor | None = None  # the fittest genome of the last scored generation
    best_fitness: float = float("-inf")
    fitness: torch.Tensor | None = None  # [pop] of the last scored generation
    # how this population was bred: lets a backend send a few bytes instead of the genomes.
    # Not checkpointed (a backend then sends the genomes once).
    lineage: Lineage | None = None

    @property
    def population(self) -> torch.Tensor:
        """The genomes ``[pop, n_params]`` (a ``Bred`` generation is bred whole for it)."""
        return whole(self.agents)


def check_population(config: Config) -> None:
    """A population must hold its elites plus at least one pair of offspring."""
    if config.elitism < 0:
        raise EvoganError(f"--elitism must be >= 0, got {config.elitism}")
    survivors = math.ceil(config.selection_fraction * config.population)
    needed = max(config.elitism + 2, survivors if config.selection == "truncation" else 2)
    if config.population < needed:
        raise EvoganError(
            f"--population {config.population} is too small: elitism {config.elitism} plus "
            f"offspring need at least {needed} agents"
        )


def init(params: GAParams, layout: GenomeLayout, *, rng: torch.Generator) -> GAState:
    """Generation 0: independent random agents, every one with the initial sigma."""
    population = layout.random_population(params.population, rng=rng)
    return GAState(population, torch.full((params.population,), params.sigma0), 0)


def ask(state: GAState) -> Population:
    return state.agents


def tell(
    params: GAParams,
    state: GAState,
    fitness: torch.Tensor,
    *,
    rng: torch.Generator,
    progress: float = 0.0,
    lazy: bool = False,
) -> tuple[GAState, dict[str, float]]:
    """Selection, crossover and mutation: the next generation and this one's metrics.

    ``progress`` (the run's, in [0, 1]) sets the ``annealed`` mutation step. ``lazy``
    (a backend that rebuilds what it scores from the lineage): the next generation
    is bred only where it is read."""
    if torch.isnan(fitness).any():
        bad = int(torch.isnan(fitness).sum())
        raise EvoganError(f"fitness is NaN for {bad} agents at generation {state.generation}")
    lineage = select(params, state, fitness, rng=rng, progress=progress)
    elites = lineage.elites.long()
    next_state = GAState(
        agents=offspring(params, state.agents, lineage, lazy=lazy),
        sigma=torch.cat([state.sigma[elites], lineage.sigma]),
        generation=lineage.generation,
        lineage=lineage,
    )
    metrics = population_metrics(fitness) | {"mutation/sigma": lineage.sigma.mean().item()}
    return next_state, metrics


def select(
    params: GAParams,
    state: GAState,
    fitness: torch.Tensor,
    *,
    rng: torch.Generator,
    progress: float = 0.0,
) -> Lineage:
    """The elites, parent pairs, sigmas and breeding seed of the next generation."""
    n_children = params.population - params.elitism
    n_pairs = (n_children + 1) // 2
    mothers = params.select(fitness, n_pairs, rng=rng)
    fathers = params.select(fitness, n_pairs, rng=rng)
    sigma = next_sigma(params, state, mothers, fathers, rng=rng, progress=progress)[:n_children]
    return Lineage(
        generation=state.generation + 1,
        elites=elite_indices(fitness, params.elitism).to(torch.int32),
        mothers=mothers.to(torch.int32),
        fathers=fathers.to(torch.int32),
        sigma=sigma,
        seed=int(torch.randint(2**63 - 1, (), generator=rng)),
        parent_seed=state.lineage.seed if state.lineage is not None else None,
    )


def offspring(params: GAParams, agents: Population, lineage: Lineage, *, lazy: bool) -> Population:
    """The generation ``lineage`` breeds from ``agents``: whole, or (``lazy``) a ``Bred``
    that keeps the parents it uses and breeds each row when it is first read."""
    if not lazy:
        return breed(params, whole(agents), lineage)
    rebuild, used = partial(breed, params), lineage.parents()
    if isinstance(agents, Bred):  # the parents stay where they were bred
        return Bred(len(lineage), agents.in_place(used), lineage, rebuild)
    return Bred(len(lineage), agents[used], lineage.relabel(used), rebuild)


def next_sigma(
    params: GAParams,
    state: GAState,
    mothers: torch.Tensor,
    fathers: torch.Tensor,
    *,
    rng: torch.Generator,
    progress: float = 0.0,
) -> torch.Tensor:
    """Mutation step of each child: scheduled, or inherited and perturbed (self-adaptive)."""
    if params.sigma_schedule == "self-adaptive":
        inherited = torch.sqrt(state.sigma[mothers] * state.sigma[fathers])
        pair_sigma = inherited.repeat_interleave(2)  # a pair's children sit side by side
        return self_adapt_sigma(pair_sigma, rng=rng, n_genes=len(params.init_std))
    if params.sigma_schedule == "annealed":
        end = params.sigma_min if params.sigma_min > 0 else None
        return torch.full((2 * len(mothers),), anneal(params.sigma0, end, progress))
    value = scheduled_sigma(
        state.generation + 1,
        sigma0=params.sigma0,
        schedule=params.sigma_schedule,
        decay=params.sigma_decay,
        sigma_min=params.sigma_min,
    )
    return torch.full((2 * len(mothers),), value)


def best(state: GAState, fitness: torch.Tensor) -> tuple[torch.Tensor, float]:
    """The fittest genome of an evaluated generation and its fitness."""
    index = int(elite_indices(fitness, 1)[0])
    return state.agents[index], float(fitness[index])


@dataclass(frozen=True)
class GATrainer(Trainer):
    """The GA behind the trainer interface (``--trainer ga``)."""

    params: GAParams
    layout: GenomeLayout

    @classmethod
    def from_config(cls, config: Config, layout: GenomeLayout) -> GATrainer:
        return cls(GAParams.from_config(config, layout), layout)

    def init(self, rng: torch.Generator) -> GAState:
        return init(self.params, self.layout, rng=rng)

    def step(
        self, state: GAState, arena: Arena, streams: Streams
    ) -> tuple[GAState, dict[str, float]]:
        """Train the critic, score every agent, breed the next population."""
        population = ask(state)
        critic_metrics = arena.train_critic(population, streams)
        fitness, score_metrics = arena.score(population, streams, lineage=state.lineage)
        next_state, metrics = tell(
            self.params, state, fitness, rng=streams.ga, progress=arena.clock.progress,
            lazy=arena.scorer.rebuilds,
        )  # fmt: skip
        # after tell: a lazily bred generation has bred its best among the next parents
        best_genome, best_fitness = best(state, fitness)
        next_state = dataclasses.replace(
            next_state, best=best_genome, best_fitness=best_fitness, fitness=fitness
        )
        return next_state, {**metrics, **critic_metrics, **score_metrics}

    def rebuild(
        self, parents: torch.Tensor, lineage: Lineage, rows: torch.Tensor | None = None
    ) -> torch.Tensor:
        """The population ``lineage`` describes, or its ``rows``, from its parents (for
        remote scorers)."""
        return breed(self.params, parents, lineage, rows)

    def rebuilder(self) -> Rebuild:
        return self.rebuild

    def agent_fitness(self, state: GAState) -> torch.Tensor | None:
        return state.fitness

    def best(self, state: GAState) -> tuple[torch.Tensor, float]:
        genome = state.best if state.best is not None else state.agents[0]
        return genome, state.best_fitness

    def state_dict(self, state: GAState) -> dict[str, Any]:
        whole_state = dataclasses.replace(state, agents=state.population, lineage=None)
        fields = dataclasses.asdict(whole_state)
        return {"population": fields.pop("agents")} | fields

    def load_state_dict(self, data: dict[str, Any]) -> GAState:
        fields = {key: value for key, value in data.items() if key != "population"}
        state = GAState(data["population"], **fields | {"lineage": None})
        expected = (self.params.population, self.layout.size)
        if state.population.shape != expected or state.sigma.shape != expected[:1]:
            raise EvoganError(
                f"checkpoint population {tuple(state.population.shape)} does not match "
                f"the config's {expected}"
            )
        return state


__all__ = [
    "GAParams",
    "GAState",
    "GATrainer",
    "Lineage",
    "ask",
    "best",
    "breed",
    "init",
    "select",
    "tell",
]
