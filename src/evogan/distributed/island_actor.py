"""An island's actor: it holds the island's state between generations and plays events.

The state of an island (its trainer state, critic, random streams and dropout
RNG state) lives here, not on the driver. The driver sends events, each
numbered: a generation at the run's clock, or migrants to take in. An actor
plays an event only on the state it holds at the number just before; one
that lacks it (fresh, or its island moved away and back) answers None, and the
driver sends the island again in full: its last full copy (``Copy``) and every
event since, which the actor replays. Playing is deterministic (the island's
own streams and RNG, the same thread count), so a replayed island is the lost
one bit for bit.

What comes back (``Reply``) is what the driver reads every generation: the
best genome (only when it changed), fitness, metrics, island 0's dropout RNG
state (the run's own, which the engine keeps), the emigrants of a migration
generation, and a full copy when asked for one.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from typing import Any

import torch

from evogan.distributed.cluster import from_wire, to_wire
from evogan.game.arena import Arena
from evogan.game.critic import Critic
from evogan.memory import keep_freed_memory
from evogan.schedule import RunClock
from evogan.streams import Streams
from evogan.trainers import Trainer
from evogan.trainers.migration import Migrants, Migration

Key = tuple[int, int]  # (adoption, events played since it): where an island's state stands


@dataclass(frozen=True)
class Event:
    """A generation at ``clock`` (sending back its ``emigrate`` best when > 0), or
    ``migrants`` to take in. With ``--shared-critic`` the driver trains the critic, so a
    generation brings it, and island 0 also the run's streams and RNG state, which the
    driver's critic draws from before the island does."""

    clock: RunClock | None = None
    emigrate: int = 0
    critic: Critic | None = None
    streams: dict[str, torch.Tensor] | None = None
    rng: torch.Tensor | None = None
    migrants: Migrants | None = None  # on the wire (numpy)


@dataclass(frozen=True)
class Copy:
    """An island in full, as the driver keeps it: trainer state (on the wire), critic
    (None with a shared critic), streams and dropout RNG states."""

    state: Any
    critic: Critic | None
    streams: dict[str, torch.Tensor]
    rng: torch.Tensor


@dataclass(frozen=True)
class Reply:
    """What the driver reads of an island after its events."""

    best: Any  # the best genome (numpy), or None: the one this actor sent last
    best_fitness: float
    fitness: Any  # the last scored generation's fitness per agent (numpy), or None
    metrics: dict[str, float]  # of the last generation played ({} after migrants)
    emigrants: Migrants | None  # the last generation's best, when asked to emigrate
    rng: torch.Tensor | None  # torch's RNG state, when asked (island 0: the run's)
    streams: dict[str, torch.Tensor] | None  # the streams' states, when the driver sent them
    copy: Copy | None  # the island in full, when asked


@dataclass
class Held:
    """An island as it lives on its actor."""

    state: Any
    critic: Critic | None
    streams: Streams
    rng: torch.Tensor
    key: Key
    sent_best: torch.Tensor | None = None  # the best genome last sent to the driver


class IslandWorker:
    """A Ray actor holding islands (its own; after a lost node, another's too)."""

    def __init__(self, arena: Arena, inner: Trainer, migration: Migration, threads: int) -> None:
        torch.set_num_threads(threads)
        keep_freed_memory()  # the actor's own process: its scoring buffers stay mapped
        self.arena, self.inner, self.migration = arena, inner, migration
        self.held: dict[int, Held] = {}

    def pid(self) -> int:
        return os.getpid()

    def advance(
        self, island: int, key: Key, events: list[Event], base: Copy | None, *,
        copy: bool, rng: bool,
    ) -> Reply | None:  # fmt: skip
        """Play ``events`` on ``island`` standing at ``key`` (first restored from ``base``
        when given); None when this actor does not hold it there."""
        if base is not None:
            self.held[island] = restore(base, key)
        held = self.held.get(island)
        if held is None or held.key != key:
            return None
        metrics: dict[str, float] = {}
        emigrants, sent_streams = None, False
        for event in events:
            metrics, emigrants = self.play(held, event)
            held.key = (key[0], held.key[1] + 1)
            sent_streams = event.streams is not None
        return self.reply(held, metrics, emigrants, copy=copy, rng=rng, streams=sent_streams)

    def play(self, held: Held, event: Event) -> tuple[dict[str, float], Migrants | None]:
        """One event on ``held``: its metrics and emigrants (a generation), or none."""
        if event.migrants is not None:
            migrants = from_wire(event.migrants)
            held.state = self.migration.immigrate(self.inner, held.state, migrants)
            return {}, None
        critic = event.critic if event.critic is not None else held.critic
        assert critic is not None and event.clock is not None
        if event.streams is not None and event.rng is not None:
            held.streams.load_state_dict(event.streams)
            held.rng = event.rng
        torch.set_rng_state(held.rng)
        arena = dataclasses.replace(self.arena, critic=critic, clock=event.clock)
        after, metrics = self.inner.step(held.state, arena, held.streams)
        held.rng = torch.get_rng_state()
        leaving = None
        if event.emigrate:
            leaving = to_wire(self.migration.emigrants(held.state, after, event.emigrate))
        held.state = after
        return metrics, leaving

    def reply(
        self, held: Held, metrics: dict[str, float], emigrants: Migrants | None, *,
        copy: bool, rng: bool, streams: bool,
    ) -> Reply:  # fmt: skip
        best, fitness = self.inner.best(held.state)
        changed = held.sent_best is None or not torch.equal(best, held.sent_best)
        held.sent_best = best if changed else held.sent_best
        scored = held.state.fitness  # a population trainer's (ga, es): islands need one
        whole = Copy(to_wire(held.state), held.critic, held.streams.state_dict(), held.rng)
        return Reply(
            best=to_wire(best.detach()) if changed else None,
            best_fitness=fitness,
            fitness=None if scored is None else to_wire(scored),
            metrics=metrics,
            emigrants=emigrants,
            rng=held.rng if rng else None,
            streams=whole.streams if streams else None,
            copy=whole if copy else None,
        )


def restore(base: Copy, key: Key) -> Held:
    """An island from its full copy (the copy's tensors are read in place)."""
    streams = Streams.from_seed(0)
    streams.load_state_dict(base.streams)
    return Held(from_wire(base.state), base.critic, streams, base.rng.clone(), key)


__all__ = ["Copy", "Event", "Held", "IslandWorker", "Key", "Reply", "restore"]
