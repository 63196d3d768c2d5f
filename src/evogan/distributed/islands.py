"""Islands on Ray: each island lives on an actor of its own (``--islands K --backend ray``).

An island's generation (critic update, scoring, breeding) runs whole on its
actor, so the K islands of a generation run in parallel on up to K cores or
machines; and its state (population or search distribution, critic, streams,
dropout RNG) stays there between generations (``evogan.distributed.island_actor``).
Each generation the driver sends an island only the run's clock, and on a
migration generation (every ``M``) the immigrants in a second round; it gets
back the island's best genome (when it changed), fitness, metrics, and on a
migration generation its emigrants: a few genomes, not a population, each way.

What makes a lost worker harmless: every ``copy_every`` generations (and
whenever it reads the whole state: a checkpoint, the run's end) the driver
keeps a full copy of every island, and it logs what it sent since. An island
whose actor was lost (a process killed, a node gone) is sent to another actor
(a fresh one, or one that is left; ``evogan.distributed.pool``) in full, with
the events since its copy, which that actor replays: at most ``copy_every``
generations. Islands draw from streams of their own and the replay plays the
same events, so a run gives bit for bit the result of the same run with local
islands at the same thread count, lost actors or not.

The driver's copies of island 0's critic and streams (the run's, which the
checkpoint saves) are brought up to date whenever it reads the whole state.
"""

from __future__ import annotations

import copy
import dataclasses
import functools
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import torch

from evogan.distributed.cluster import from_wire, to_wire, wire_bytes
from evogan.distributed.island_actor import Copy, Event, IslandWorker, Reply
from evogan.distributed.pool import ActorPool
from evogan.game.arena import Arena
from evogan.game.critic import Critic
from evogan.streams import Streams
from evogan.trainers.islands import IslandsState, IslandsTrainer

COPY_EVERY = 10  # generations between the driver's full copies: the most a lost island replays


class RayIslands(ActorPool):
    """The ``IslandRunner`` of ``--backend ray``: each island lives on an actor, which
    keeps it while it lives (after a lost node, some actors hold two islands)."""

    fresh_after_loss = True  # another actor lacks the island: send it in full

    def __init__(
        self, *, address: str | None, threads: int = 1, copy_every: int = COPY_EVERY
    ) -> None:
        super().__init__(address)
        self.threads, self.copy_every = threads, copy_every
        self.setup: tuple[Any, Any, Any] | None = None  # arena (in the store), trainer, migration
        self.adoptions = 0  # times the driver sent every island in full from a state of its own
        self.played = 0  # events every island played since the adoption
        self.copied_at = 0  # events played when the driver took its copies
        self.copies: list[Copy] = []  # each island's last full copy
        self.log: list[list[Event]] = []  # each island's events since its copy
        self.unplaced: set[int] = set()  # islands no actor was sent since the adoption
        self.replayed: list[int] = []  # events in each full send (lost islands replay them)
        self.bests: list[tuple[torch.Tensor, float]] = []
        self.home: tuple[Critic, Streams] | None = None  # the run's: island 0's on the driver
        self.others: tuple[tuple[Critic, ...], tuple[Streams, ...]] = ((), ())  # islands 1..K-1
        self.latest: ResidentState | None = None
        self.homes: dict[int, Any] = {}  # island -> the actor it lives on
        self.sent: list[int] = []  # bytes the driver sent, per generation
        self.received: list[int] = []  # bytes it received, per generation
        self.fetched: list[int] = []  # bytes of whole states it read between generations

    def advance(
        self, trainer: IslandsTrainer, state: Any, arena: Arena, streams: Streams, migrate: bool
    ) -> tuple[ResidentState, list[dict[str, float]]]:
        """One generation of every island on its actor, then migration if due."""
        self.start(trainer, arena, trainer.islands)
        if state is not self.latest:
            self.adopt(trainer, state, arena, streams)
        self.sent.append(0)
        self.received.append(0)
        generation = state.generation + 1
        copy_now = self.copy_every > 0 and generation % self.copy_every == 0
        events = self.generation(trainer, arena, streams, migrate)
        replies = self.play(events, copy=copy_now and not migrate)
        metrics = [reply.metrics for reply in replies]
        home = replies[0]
        if migrate:
            leaving = [reply.emigrants for reply in replies]
            arriving = [Event(migrants=leaving[i - 1]) for i in range(trainer.islands)]
            self.play(arriving, copy=copy_now)
        assert home.rng is not None
        torch.set_rng_state(home.rng)
        if home.streams is not None:  # --shared-critic: the driver's critic draws from them
            streams.load_state_dict(home.streams)
        fitness = tuple(reply.fitness for reply in replies)
        self.latest = ResidentState(generation, tuple(self.bests), fitness, self.played, self)
        return self.latest, metrics

    def generation(
        self, trainer: IslandsTrainer, arena: Arena, streams: Streams, migrate: bool
    ) -> list[Event]:
        """Each island's event of this generation."""
        emigrate = trainer.migrants if migrate else 0
        event = Event(clock=arena.clock.copy(), emigrate=emigrate)
        if not trainer.shared_critic:
            return [event] * trainer.islands
        # the driver trains the one critic (a snapshot: the log replays this generation's);
        # island 0 draws from the run's streams and RNG after that critic, as locally
        shared = dataclasses.replace(event, critic=copy.deepcopy(arena.critic))
        home = dataclasses.replace(shared, streams=streams.state_dict(), rng=torch.get_rng_state())
        return [home] + [shared] * (trainer.islands - 1)

    def adopt(
        self, trainer: IslandsTrainer, state: IslandsState, arena: Arena, streams: Streams
    ) -> None:
        """Take the driver's ``state`` as every island's copy (the first generation, or a
        run resumed from a checkpoint): the actors are sent them in full."""
        self.adoptions += 1
        self.played = self.copied_at = 0
        self.home, self.others = (arena.critic, streams), (state.critics, state.streams)
        k = trainer.islands
        critics = [None] * k if trainer.shared_critic else [arena.critic, *state.critics]
        rngs = [torch.get_rng_state(), *state.rngs]
        self.copies = [
            Copy(to_wire(island), copy.deepcopy(critic), island_streams.state_dict(), rng)
            for island, critic, island_streams, rng in zip(
                state.islands, critics, [streams, *state.streams], rngs, strict=True
            )
        ]
        self.log = [[] for _ in range(k)]
        self.unplaced = set(range(k))
        self.bests = [trainer.inner.best(island) for island in state.islands]

    def play(self, events: Sequence[Event], *, copy: bool) -> list[Reply]:
        """Every island plays its event; replies in island order (``copy``: with copies)."""
        for log, event in zip(self.log, events, strict=True):
            log.append(event)
        self.played += 1
        return self.gather([IslandJob(self, i, 1, copy) for i in range(len(events))])

    def gather(self, jobs: list[IslandJob]) -> list[Reply]:
        """Run ``jobs``; the replies' bests (and copies, when asked) kept."""
        replies = self.run(jobs, lambda actor, job, fresh: job.send(actor, fresh))
        for i, reply in enumerate(replies):
            self.received[-1] += wire_bytes(reply)
            genome = self.bests[i][0] if reply.best is None else from_wire(reply.best)
            self.bests[i] = (genome, reply.best_fitness)
        if all(reply.copy is not None for reply in replies):
            self.copies = [reply.copy for reply in replies if reply.copy is not None]
            self.log = [[] for _ in replies]
            self.copied_at = self.played
        return replies

    def fetch(self, state: ResidentState) -> IslandsState:
        """The whole state of every island at ``state``'s generation, from the actors
        unless the driver's copies are that recent; the driver's own critics and streams
        (island 0's: the run's) brought up to date."""
        if state is not self.latest or state.played != self.played:
            raise RuntimeError("islands on actors are readable only at their latest generation")
        if self.copied_at != self.played:
            self.sent.append(0)
            self.received.append(0)
            self.gather([IslandJob(self, i, 0, True) for i in range(len(self.copies))])
            self.fetched.append(self.sent.pop() + self.received.pop())
        assert self.home is not None
        (home_critic, home_streams), (critics, streams) = self.home, self.others
        if self.copies[0].critic is not None:
            home_critic.take(self.copies[0].critic)
        home_streams.load_state_dict(self.copies[0].streams)
        for whole, critic, island_streams in zip(self.copies[1:], critics or [None] * len(streams),
                                                 streams, strict=True):  # fmt: skip
            if critic is not None and whole.critic is not None:
                critic.take(whole.critic)
            island_streams.load_state_dict(whole.streams)
        islands = tuple(from_wire(whole.state) for whole in self.copies)
        rngs = tuple(whole.rng for whole in self.copies[1:])
        return IslandsState(islands, critics, streams, rngs, state.generation)

    def assign(self, jobs: list[int]) -> dict[int, Any]:
        """Islands stay on their actors; one whose actor is gone goes to the actor with the
        fewest, and one moves from the busiest actor to an idle one (a node came back)."""
        alive = {id(actor) for actor in self.actors}
        homes = {i: actor for i, actor in self.homes.items() if id(actor) in alive}
        load = {id(actor): 0 for actor in self.actors}
        for actor in homes.values():
            load[id(actor)] += 1
        for i in sorted(set(jobs) - set(homes)):
            homes[i] = min(self.actors, key=lambda actor: load[id(actor)])
            load[id(homes[i])] += 1
        idle = [actor for actor in self.actors if not load[id(actor)]]
        for actor in idle:
            busiest = max(self.actors, key=lambda a: load[id(a)])
            if load[id(busiest)] < 2:
                break
            moved = max(i for i, home in homes.items() if home is busiest)
            homes[moved], load[id(busiest)], load[id(actor)] = actor, load[id(busiest)] - 1, 1
        self.homes = homes
        return {i: homes[i] for i in jobs}

    def start(self, trainer: IslandsTrainer, arena: Arena, islands: int) -> None:
        """Join (or start) Ray and create one actor per island, once."""
        if self.actors or self.queued:
            return
        self.join(islands * self.threads)
        self.setup = (self.ray.put(arena), trainer.inner, trainer.migration)
        self.spawn(islands)

    def new_actor(self) -> Any:
        assert self.setup is not None
        remote = self.ray.remote(num_cpus=self.threads, max_restarts=0)(IslandWorker)
        return remote.remote(*self.setup, self.threads)

    def needs(self) -> dict[str, float]:
        return {"CPU": float(self.threads)}

    def close(self) -> None:
        """Stop the actors, the run's last state first brought to the driver (it stays
        readable after the run)."""
        latest = self.latest
        if latest is not None and self.actors and latest.played == self.played:
            _ = latest.whole  # fetched, and kept on the state
        super().close()
        self.homes = {}


@dataclass
class IslandJob:
    """One island's events as a job of the pool: the last ``new`` of its log (none: only
    a copy), or, ``fresh``, its copy and the whole log."""

    owner: RayIslands
    island: int
    new: int
    copy: bool

    def send(self, actor: Any, fresh: bool) -> Any:
        owner, log = self.owner, self.owner.log[self.island]
        if fresh or self.island in owner.unplaced:
            owner.unplaced.discard(self.island)
            owner.replayed.append(len(log))
            base, first, events = owner.copies[self.island], owner.copied_at, log
        else:
            base, first, events = None, owner.played - self.new, log[len(log) - self.new :]
        owner.sent[-1] += wire_bytes((events, base))
        return actor.advance.remote(self.island, (owner.adoptions, first), events, base,
                                    copy=self.copy, rng=self.island == 0)  # fmt: skip


@dataclass(frozen=True, eq=False)
class ResidentState:
    """The driver's view of islands that live on actors: what it reads every generation
    (each island's best and fitness); the rest is brought from the actors when read."""

    generation: int
    bests: tuple[tuple[torch.Tensor, float], ...]
    fitnesses: tuple[Any, ...]  # each island's fitness per agent (numpy), or None
    played: int  # the events the actors had played: they hold this state until the next
    owner: RayIslands = field(repr=False)

    @functools.cached_property
    def whole(self) -> IslandsState:
        return self.owner.fetch(self)

    @property
    def islands(self) -> tuple[Any, ...]:
        return self.whole.islands

    @property
    def critics(self) -> tuple[Critic, ...]:
        return self.whole.critics

    @property
    def streams(self) -> tuple[Streams, ...]:
        return self.whole.streams

    @property
    def rngs(self) -> tuple[torch.Tensor, ...]:
        return self.whole.rngs

    @property
    def population(self) -> torch.Tensor:
        return self.whole.population

    @property
    def fitness(self) -> torch.Tensor | None:
        """``[pop]`` of the last scored generation, without reading the whole state."""
        if any(fitness is None for fitness in self.fitnesses):
            return None
        return torch.cat([from_wire(fitness) for fitness in self.fitnesses])

    def island_bests(self, inner: Any) -> list[tuple[torch.Tensor, float]]:
        return list(self.bests)


__all__ = ["COPY_EVERY", "IslandJob", "RayIslands", "ResidentState"]
