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

from evogan.config import Config
from evogan.errors import EvoganError
from evogan.game.arena import Arena
from evogan.genome import GenomeLayout
from evogan.schedule import anneal
from evogan.streams import Streams
from evogan.trainers.base import Rebuild, Trainer, population_metrics
from evogan.trainers.operators import (
    CROSSOVER,
    MUTATION,
    SELECTION,
    RowRng,
    SelectionFn,
    crossover_population,
    elite_indices,
    scheduled_sigma,
    self_adapt_sigma,
)

# annealed: from --mutation-sigma to --sigma-min, exponential in the run's progress
SIGMA_SCHEDULE_NAMES = ("constant", "exponential", "annealed", "self-adaptive")
CROSSOVER_STREAM, MUTATION_STREAM = 0, 1  # of a lineage's seed: keyed by pair, by child


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
    population: torch.Tensor  # [pop, n_params]
    sigma: torch.Tensor  # [pop] mutation step of each agent, relative to the init spread
    generation: int
    best: torch.Tensor | None = None  # the fittest genome of the last scored generation
    best_fitness: float = float("-inf")
    fitness: torch.Tensor | None = None  # [pop] of the last scored generation
    # how this population was bred: lets a backend send a few bytes instead of the genomes.
    # Not checkpointed (a backend then sends the genomes once).
    lineage: Lineage | None = None


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


def ask(state: GAState) -> torch.Tensor:
    return state.population


@dataclass(frozen=True)
class Lineage:
    """How a generation was bred from the previous one, in a few bytes per agent.

    Selection picks the elites, the parent pairs and each child's sigma; the
    rest (crossover and mutation) is drawn from one 63-bit ``seed``. So this
    record rebuilds the generation bit for bit on any machine that holds the
    parents: Such et al. (2017) encode a genome as a list of mutation seeds,
    and this does the same with crossover. The elites come first, then pair
    ``p``'s children at ``elitism + 2p`` and ``+ 2p + 1``; pair ``p`` draws from
    ``(seed, p)`` and child ``c`` mutates from ``(seed, c)`` only, so any rows
    breed alone. ``parent_seed`` (the parents' own seed, None for an initial or
    edited population) tells a holder of a population whether it holds these
    parents.
    """

    generation: int  # of the children
    elites: torch.Tensor  # [elitism] int32 indices into the parents
    mothers: torch.Tensor  # [pairs] int32
    fathers: torch.Tensor  # [pairs] int32
    sigma: torch.Tensor  # [children] each child's mutation step
    seed: int  # of crossover and mutation; also names the generation bred
    parent_seed: int | None

    def parents(self) -> torch.Tensor:
        """The distinct parent rows this generation is bred from, increasing (int64)."""
        return torch.cat([self.elites, self.mothers, self.fathers]).long().unique()

    def relabel(self, parents: torch.Tensor) -> Lineage:
        """This lineage over ``population[parents]`` instead of ``population``."""

        def where(index: torch.Tensor) -> torch.Tensor:
            return torch.searchsorted(parents, index.long()).to(torch.int32)

        return dataclasses.replace(
            self, elites=where(self.elites), mothers=where(self.mothers),
            fathers=where(self.fathers),
        )  # fmt: skip


def tell(
    params: GAParams,
    state: GAState,
    fitness: torch.Tensor,
    *,
    rng: torch.Generator,
    progress: float = 0.0,
) -> tuple[GAState, dict[str, float]]:
    """Selection, crossover and mutation: the next generation and this one's metrics.

    ``progress`` (the run's, in [0, 1]) sets the ``annealed`` mutation step."""
    if torch.isnan(fitness).any():
        bad = int(torch.isnan(fitness).sum())
        raise EvoganError(f"fitness is NaN for {bad} agents at generation {state.generation}")
    lineage = select(params, state, fitness, rng=rng, progress=progress)
    elites = lineage.elites.long()
    next_state = GAState(
        population=breed(params, state.population, lineage),
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


def breed(
    params: GAParams, parents: torch.Tensor, lineage: Lineage, rows: torch.Tensor | None = None
) -> torch.Tensor:
    """The population ``lineage`` describes, from its ``parents``: elites kept bit for
    bit, then the children of the chosen pairs by crossover and mutation.

    ``rows`` (increasing indices) breeds only those: ``breed(...)[rows]``, bit for bit."""
    n_elites = len(lineage.elites)
    if rows is None:
        rows = torch.arange(n_elites + len(lineage.sigma))
    elif bool((rows[1:] < rows[:-1]).any()):
        raise EvoganError("breed: rows must be increasing")
    elites, child = rows[rows < n_elites], rows[rows >= n_elites] - n_elites
    pairs, pair_of = torch.unique_consecutive(child // 2, return_inverse=True)
    children_a, children_b = crossover_population(
        parents[lineage.mothers.long()[pairs]],
        parents[lineage.fathers.long()[pairs]],
        fn=CROSSOVER[params.crossover],
        rate=params.crossover_rate,
        rng=RowRng(lineage.seed, pairs, stream=CROSSOVER_STREAM),
        **params.crossover_options,
    )
    # One fresh [rows, L] tensor, mutated in place: at the article's 354 MB a
    # generation, every copy costs ~0.1 s of page faults on 1 thread.
    population = parents.new_empty((len(rows), parents.shape[1]))
    population[: len(elites)] = parents[lineage.elites.long()[elites]]
    children = population[len(elites) :]
    place_children(children, children_a, children_b, child, pair_of)
    MUTATION[params.mutation](
        children,
        rng=RowRng(lineage.seed, child, stream=MUTATION_STREAM),
        rate=params.mutation_rate,
        sigma=lineage.sigma[child],
        init_std=params.init_std,
        inplace=True,
    )
    return population


def place_children(
    out: torch.Tensor,
    children_a: torch.Tensor,
    children_b: torch.Tensor,
    child: torch.Tensor,
    pair_of: torch.Tensor,
) -> None:
    """``out[i]`` = child ``child[i]``: its pair's (``pair_of[i]``) first child if even,
    second if odd. A run of consecutive children (a shard, a whole generation) is
    two strided copies; any other set goes through index lists."""
    if len(child) == 0:
        return
    lead = int(child[0]) % 2
    if int(child[-1]) - int(child[0]) == len(child) - 1:  # consecutive
        firsts, seconds = out[lead::2], out[1 - lead :: 2]
        firsts.copy_(children_a[lead : lead + len(firsts)])
        seconds.copy_(children_b[: len(seconds)])
        return
    second = child % 2 == 1
    out[~second] = children_a[pair_of[~second]]
    out[second] = children_b[pair_of[second]]


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
    return state.population[index], float(fitness[index])


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
        best_genome, best_fitness = best(state, fitness)
        next_state, metrics = tell(
            self.params, state, fitness, rng=streams.ga, progress=arena.clock.progress
        )
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
        genome = state.best if state.best is not None else state.population[0]
        return genome, state.best_fitness

    def state_dict(self, state: GAState) -> dict[str, Any]:
        return dataclasses.asdict(dataclasses.replace(state, lineage=None))

    def load_state_dict(self, data: dict[str, Any]) -> GAState:
        state = GAState(**data | {"lineage": None})
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
