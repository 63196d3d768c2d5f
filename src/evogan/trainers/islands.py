"""Islands: K sub-populations of a population trainer on a ring, each with its own critic.

The island model of parallel genetic algorithms (Whitley, Rana & Heckendorn
1998, "The island model genetic algorithm") with Lipizzaner's twist
(Schmiedlechner et al. 2018; Toutouh, Hemberg & O'Reilly 2019): every island
trains a discriminator of its own. One shared critic pulls every island toward
the mode it currently punishes least; separate critics let islands specialise,
and migration spreads what works. Every ``migration_every`` generations the
``migrants`` best agents of each island (ranked by its own critic in the
generation just scored) go to the next island on the ring, all islands at once.

``--population`` is the total: each island holds ``population // K`` agents,
so a generation scores as many agents as without islands (only the critic
updates are K times as many) and runs of either kind compare at equal cost.

What a migrant does depends on the inner trainer (``evogan.trainers.migration``).

With ``--shared-critic`` the islands are separate searches of one game
instead: every island plays against the run's critic, which steps once per
generation on fakes pooled from every island (and, with
``--disc-sees-returned``, from every island's best). Copies of one genome
cover one mode; separate lineages on one critic cover several (an E-GAN
mixture of 5 lineages cut class TVD by a third, issue 13), and ``--mixture K``
joins their bests into one generator. ``--migration-every 0`` keeps them apart.

Island 0 plays against the run's own critic (the one the checkpoint and
``--mixture`` see) and draws from the run's random streams; islands 1..K-1
against critics built the same way but seeded ``seed + island``, with
streams and a dropout random state of their own. So no island's draws depend
on another's and the islands can step anywhere, in any order: in this
process one after the other (``local_islands``), or each on a Ray actor of
its own (``evogan.distributed.islands``), with the same result. Fitness of different
islands comes from different critics, so ``best`` (the fittest island's
best) compares judges, not agents.
"""

from __future__ import annotations

import dataclasses
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import torch

from evogan.config import Config
from evogan.errors import EvoganError
from evogan.game.arena import Arena
from evogan.game.critic import Critic
from evogan.genome import GenomeLayout
from evogan.streams import Streams
from evogan.trainers import build_trainer
from evogan.trainers.base import Rebuild, Trainer
from evogan.trainers.migration import MIGRATIONS, Migration


@dataclass(frozen=True)
class IslandsState:
    islands: tuple[Any, ...]  # each island's inner trainer state
    critics: tuple[Critic, ...]  # of islands 1..K-1, trained in place like the run's critic
    streams: tuple[Streams, ...]  # of islands 1..K-1, drawn from in place like the run's
    rngs: tuple[torch.Tensor, ...]  # of islands 1..K-1: torch's RNG state for their dropout
    generation: int

    @property
    def population(self) -> torch.Tensor:
        """``[pop, n_params]``: every island's agents, island 0 first."""
        return torch.cat([island.population for island in self.islands])

    @property
    def fitness(self) -> torch.Tensor | None:
        """``[pop]`` of the last scored generation (each island by its own critic)."""
        if any(island.fitness is None for island in self.islands):
            return None
        return torch.cat([island.fitness for island in self.islands])

    def island_bests(self, inner: Trainer) -> list[tuple[torch.Tensor, float]]:
        return [inner.best(island) for island in self.islands]


class IslandRunner(Protocol):
    """Steps every island once and migrates if due: ``advance(trainer, state, arena,
    streams, migrate) -> (state, metrics of each island)``, torch's global RNG left as
    island 0's. Where the islands live is the runner's: in this process, or on Ray
    actors (``evogan.distributed.islands``). ``close`` stops its workers, if any."""

    def advance(
        self, trainer: IslandsTrainer, state: Any, arena: Arena, streams: Streams, migrate: bool
    ) -> tuple[Any, list[dict[str, float]]]: ...

    def close(self) -> None: ...


class LocalIslands:
    """The islands one after the other in this process, each with its own dropout RNG."""

    def advance(
        self, trainer: IslandsTrainer, state: IslandsState, arena: Arena, streams: Streams,
        migrate: bool,
    ) -> tuple[IslandsState, list[dict[str, float]]]:  # fmt: skip
        rngs = [torch.get_rng_state(), *state.rngs]
        after, metrics, rngs = self.step_all(
            trainer.inner, state.islands, trainer.arenas(state, arena),
            [streams, *state.streams], rngs,
        )  # fmt: skip
        torch.set_rng_state(rngs[0])
        if migrate:
            after = trainer.migrate(list(state.islands), after)
        following = IslandsState(tuple(after), state.critics, state.streams, tuple(rngs[1:]),
                                 state.generation + 1)  # fmt: skip
        return following, metrics

    def step_all(
        self, inner: Trainer, states: Sequence[Any], arenas: Sequence[Arena],
        streams: Sequence[Streams], rngs: Sequence[torch.Tensor],
    ) -> tuple[list[Any], list[dict[str, float]], list[torch.Tensor]]:  # fmt: skip
        """Each island's next state, metrics and dropout RNG state, in island order."""
        after, metrics, rngs_after = [], [], []
        for state, arena, island_streams, rng in zip(states, arenas, streams, rngs, strict=True):
            torch.set_rng_state(rng)
            next_state, island_metrics = inner.step(state, arena, island_streams)
            after.append(next_state)
            metrics.append(island_metrics)
            rngs_after.append(torch.get_rng_state())
        return after, metrics, rngs_after

    def close(self) -> None:
        """Nothing to stop: the islands ran in this process."""


local_islands = LocalIslands()


@dataclass(frozen=True)
class IslandsTrainer(Trainer):
    """``--islands K``: K islands of the configured trainer behind the trainer interface."""

    inner: Trainer  # one island's trainer (population // K agents); stateless, so shared
    migration: Migration
    islands: int
    every: int  # generations between migrations
    migrants: int
    new_critic: Callable[[int], Critic]  # island -> a fresh critic seeded for it
    seed: int = 0  # island i > 0 draws from the streams of seed + i
    runner: IslandRunner = local_islands  # where the islands step
    shared_critic: bool = False  # every island plays against the run's critic

    @classmethod
    def from_config(
        cls, config: Config, layout: GenomeLayout, new_critic: Callable[[int], Critic],
        runner: IslandRunner = local_islands,
    ) -> IslandsTrainer:  # fmt: skip
        k = config.islands
        if config.trainer not in MIGRATIONS:
            raise EvoganError(
                f"--islands {k}: islands need a population trainer "
                f"({', '.join(MIGRATIONS)}), not --trainer {config.trainer}"
            )
        if config.population % k:
            raise EvoganError(
                f"--population {config.population} does not split into {k} islands: "
                f"use a multiple of {k}"
            )
        island = config.replace(population=config.population // k)
        try:
            inner = build_trainer(island, layout)
        except EvoganError as err:  # the inner trainer names the island's population
            raise EvoganError(f"--islands {k} of --population {config.population}: {err}") from None
        migration = MIGRATIONS[config.trainer]
        if config.migrants > migration.room(island):
            raise EvoganError(
                f"--migrants {config.migrants}: an island of {island.population} agents takes "
                f"at most {migration.room(island)} (ga: its offspring, population minus elitism)"
            )
        return cls(inner, migration, k, config.migration_every, config.migrants, new_critic,
                   config.seed, runner, config.shared_critic)  # fmt: skip

    def init(self, rng: torch.Generator) -> IslandsState:
        islands = tuple(self.inner.init(rng) for _ in range(self.islands))
        return IslandsState(islands, self.fresh_critics(), *self.fresh_streams(), 0)

    def fresh_critics(self) -> tuple[Critic, ...]:
        """Critics of islands 1..K-1, seeded ``seed + island`` (none with a shared critic)."""
        if self.shared_critic:
            return ()
        return tuple(self.new_critic(i) for i in range(1, self.islands))

    def fresh_streams(self) -> tuple[tuple[Streams, ...], tuple[torch.Tensor, ...]]:
        """Streams and dropout RNG states of islands 1..K-1, seeded ``seed + island``."""
        others = range(1, self.islands)
        with torch.random.fork_rng(devices=[]):  # the caller's global RNG stays untouched
            rngs = tuple(torch.manual_seed(self.seed + i).get_state() for i in others)
        return tuple(Streams.from_seed(self.seed + i) for i in others), rngs

    def step(
        self, state: IslandsState, arena: Arena, streams: Streams
    ) -> tuple[IslandsState, dict[str, float]]:
        """One generation of every island against its own critic, then migration if due.

        Island 0 uses the run's streams and torch's global RNG (the run's, which
        the engine swapped in); the others their own. A shared critic steps first,
        on every island's latest agents, and the islands then only read it."""
        critic_metrics: dict[str, float] = {}
        if self.shared_critic:
            returned = torch.stack([genome for genome, _ in self.island_bests(state)])
            critic_metrics = arena.train_critic(state.population, streams, extra=returned)
            arena = dataclasses.replace(arena, disc_steps=0, disc_warmup=0)
        generation = state.generation + 1
        migrate = self.every > 0 and generation % self.every == 0
        following, per_island = self.runner.advance(self, state, arena, streams, migrate)
        metrics = summarise(per_island) | critic_metrics | {"islands/migration": float(migrate)}
        return following, metrics

    def arenas(self, state: IslandsState, arena: Arena) -> list[Arena]:
        """Each island's arena: island 0 (every island, with a shared critic) plays against
        the run's critic, the others against their own."""
        if self.shared_critic:
            return [arena] * self.islands
        return [arena, *(dataclasses.replace(arena, critic=c) for c in state.critics)]

    def close(self) -> None:
        """Stop the runner's workers, if it has any (Ray actors)."""
        self.runner.close()

    def migrate(self, before: list[Any], after: list[Any]) -> list[Any]:
        """Island i's best go to island (i + 1) % K; all leave before any arrive."""
        leaving = [
            self.migration.emigrants(old, new, self.migrants)
            for old, new in zip(before, after, strict=True)
        ]
        return [
            self.migration.immigrate(self.inner, island, leaving[i - 1])
            for i, island in enumerate(after)
        ]

    def rebuilder(self) -> Rebuild | None:
        """The inner trainer's (a GA island's lineage rebuilds it on a Ray actor)."""
        return self.inner.rebuilder()

    def agent_fitness(self, state: IslandsState) -> torch.Tensor | None:
        return state.fitness

    def groups(self, state: IslandsState) -> list[torch.Tensor]:
        return [island.population for island in state.islands]

    def island_bests(self, state: IslandsState) -> list[tuple[torch.Tensor, float]]:
        return state.island_bests(self.inner)

    def best(self, state: IslandsState) -> tuple[torch.Tensor, float]:
        """The best genome of the island whose best fitness is highest (first on ties)."""
        return max(self.island_bests(state), key=lambda pair: pair[1])

    def state_dict(self, state: IslandsState) -> dict[str, Any]:
        return {
            "generation": state.generation,
            "islands": [self.inner.state_dict(island) for island in state.islands],
            "critics": [critic.state_dict() for critic in state.critics],
            "streams": [streams.state_dict() for streams in state.streams],
            "rngs": list(state.rngs),
        }

    def load_state_dict(self, data: dict[str, Any]) -> IslandsState:
        held = len(data["islands"]) if "islands" in data else 1
        if held != self.islands:
            raise EvoganError(
                f"checkpoint of {held} island(s) does not match the config's {self.islands}"
            )
        islands = tuple(self.inner.load_state_dict(island) for island in data["islands"])
        critics = self.fresh_critics()
        if len(data["critics"]) != len(critics):
            raise EvoganError(
                f"checkpoint of {len(data['critics'])} island critic(s) does not match the "
                f"config's {len(critics)} (--shared-critic has none of its own)"
            )
        for critic, saved in zip(critics, data["critics"], strict=True):
            critic.load_state_dict(saved)
        streams, rngs = self.fresh_streams()
        if "streams" in data:  # checkpoints before islands had streams of their own start fresh
            for island_streams, saved in zip(streams, data["streams"], strict=True):
                island_streams.load_state_dict(saved)
            rngs = tuple(data["rngs"])
        return IslandsState(islands, critics, streams, rngs, int(data["generation"]))


# How the islands' metrics of one name make the run's: the rest is their mean.
COMBINE: dict[str, Callable[[list[float]], float]] = {
    "fitness/best": max,
    "fitness/center": max,  # es: the mean's fitness, what ``best`` returns
    "fitness/nonfinite": sum,
    "disc/restored": sum,
}


def summarise(per_island: list[dict[str, float]]) -> dict[str, float]:
    """The run's metrics over islands, then each island's under ``island{i}/``."""
    metrics = {
        name: COMBINE.get(name, statistics.fmean)([m[name] for m in per_island])
        for name in per_island[0]
    }
    for i, island in enumerate(per_island):
        metrics |= {f"island{i}/{name}": value for name, value in island.items()}
    return metrics


__all__ = ["MIGRATIONS", "IslandsState", "IslandsTrainer", "Migration", "summarise"]
