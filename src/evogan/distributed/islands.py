"""Islands on Ray: each island steps on an actor of its own (``--islands K --backend ray``).

An island's generation (critic update, scoring, breeding) runs whole on its
actor, so the K islands of a generation run in parallel on up to K cores or
machines. The driver keeps every island's state: it sends an island its
state, critic, random streams and dropout RNG state, and gets them back one
generation later, then migrates on the ring itself every ``M`` generations
(``evogan.trainers.islands``). Populations travel as numpy arrays through the object
store (read in place on one machine).

Holding nothing between calls is what makes a lost worker harmless: the
driver still has the inputs of the step that died, so another actor (a fresh
one, or one that is left when a node has gone; ``evogan.distributed.pool``)
runs it again and the run's result does not change. And since the islands draw from
streams of their own, a run gives bit for bit the result of the same run with
local islands at the same thread count. The price: on a cluster every
generation moves each island's population to its machine and back.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Sequence
from typing import Any

import torch

from evogan.distributed.cluster import from_wire, leaves, to_wire
from evogan.distributed.pool import ActorPool
from evogan.game.arena import Arena
from evogan.game.critic import Critic
from evogan.schedule import RunClock
from evogan.streams import Streams
from evogan.trainers import Trainer

StepRest = tuple[Critic, dict[str, torch.Tensor], torch.Tensor, dict[str, float]]


class IslandWorker:
    """A Ray actor that runs one island's generation at a time."""

    def __init__(self, arena: Arena, inner: Trainer, threads: int) -> None:
        torch.set_num_threads(threads)
        self.arena, self.inner = arena, inner

    def pid(self) -> int:
        return os.getpid()

    def step(
        self,
        state: Any,
        critic: Critic,
        streams: dict[str, torch.Tensor],
        rng: torch.Tensor,
        clock: RunClock,
    ) -> tuple[Any, StepRest]:
        """One generation of an island: its next state, then its trained critic,
        streams, dropout RNG state and metrics. ``clock``: the run's progress."""
        island_streams = Streams.from_seed(0)
        island_streams.load_state_dict(streams)
        torch.set_rng_state(rng)
        arena = dataclasses.replace(self.arena, critic=critic, clock=clock)
        after, metrics = self.inner.step(from_wire(state), arena, island_streams)
        rest = (critic, island_streams.state_dict(), torch.get_rng_state(), metrics)
        return to_wire(after), rest


class RayIslands(ActorPool):
    """The ``IslandRunner`` of ``--backend ray``: island ``i`` steps on actor ``i`` (mod
    the actors there are: after a lost node, some actors step two islands)."""

    fresh_after_loss = True  # the state it returned may have gone with the actor's node

    def __init__(self, *, address: str | None, threads: int = 1) -> None:
        super().__init__(address)
        self.threads = threads
        self.setup: tuple[Any, Trainer] | None = None  # the arena (in the store), the trainer
        self.in_store: list[tuple[Any, Any]] = []  # (state, its ref) as the actors returned them
        self.sent: list[int] = []  # bytes of island state put in the store, per put
        self.received: list[int] = []  # bytes of island state the driver read, per generation

    def __call__(
        self, inner: Trainer, states: Sequence[Any], arenas: Sequence[Arena],
        streams: Sequence[Streams], rngs: Sequence[torch.Tensor],
    ) -> tuple[list[Any], list[dict[str, float]], list[torch.Tensor]]:  # fmt: skip
        self.start(inner, arenas[0], len(states))
        steps = [
            IslandStep(self, state, (arena.critic, island_streams.state_dict(), rng,
                                     arena.clock.copy()))
            for state, arena, island_streams, rng in zip(states, arenas, streams, rngs, strict=True)
        ]  # fmt: skip
        results = self.run(steps, lambda actor, step, fresh: step.send(actor, fresh))
        self.received.append(sum(a.nbytes for state, _ in results for a in leaves(state)))
        after, metrics, rngs_after = [], [], []
        for i, (state, (critic, streams_after, rng, island_metrics)) in enumerate(results):
            arenas[i].critic.take(critic)
            streams[i].load_state_dict(streams_after)
            after.append(from_wire(state))
            metrics.append(island_metrics)
            rngs_after.append(rng)
        self.in_store = [(state, step.returned) for state, step in zip(after, steps, strict=True)]
        return after, metrics, rngs_after

    def stored(self, state: Any, *, fresh: bool = False) -> Any:
        """``state`` in the object store: as an actor returned it if it has not changed
        since (no copy), else (and when ``fresh``: that copy may have gone with its
        node) put there now from the driver's copy."""
        for known, ref in self.in_store:
            if known is state and not fresh:
                return ref
        wire = to_wire(state)
        self.sent.append(sum(array.nbytes for array in leaves(wire)))
        return self.ray.put(wire)

    def start(self, inner: Trainer, arena: Arena, islands: int) -> None:
        """Join (or start) Ray and create one actor per island, once."""
        if self.actors or self.queued:
            return
        self.join(islands * self.threads)
        self.setup = (self.ray.put(arena), inner)
        self.spawn(islands)

    def new_actor(self) -> Any:
        assert self.setup is not None
        remote = self.ray.remote(num_cpus=self.threads, max_restarts=0)(IslandWorker)
        return remote.remote(*self.setup, self.threads)

    def needs(self) -> dict[str, float]:
        return {"CPU": float(self.threads)}


@dataclasses.dataclass
class IslandStep:
    """One island's generation as a job of the pool: its state and the rest it needs."""

    owner: RayIslands
    state: Any
    rest: tuple[Any, ...]
    returned: Any = None  # the ref of the state it returned, once sent

    def send(self, actor: Any, fresh: bool) -> Any:
        """Start the step on ``actor``: refs of its next state and of the rest."""
        state = self.owner.stored(self.state, fresh=fresh)
        refs = actor.step.options(num_returns=2).remote(state, *self.rest)
        self.returned = refs[0]
        return refs


__all__ = ["IslandStep", "IslandWorker", "RayIslands"]
