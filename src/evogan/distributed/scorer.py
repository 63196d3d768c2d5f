"""Evaluate the population on Ray actors: shards of agents, reassembled by index.

``--backend ray`` joins a running cluster (``--ray-address auto`` or
``HOST:PORT``) or, without an address, starts a local Ray for the run and
stops it afterwards. Each actor holds its own generator model and a copy of
the discriminator; per generation the driver puts the discriminator's weights
in the object store once and every actor fetches them from there, then scores
its shard of the population with the same batched code as the local backend.

Same seed, same result: shards start on the local evaluator's group
boundaries, so every agent is scored in exactly the batches it would be
scored in locally (bit-identical at the same torch thread count), however
many actors there are. A worker that dies mid-generation is replaced and its
shard evaluated again; a node that goes with no room left for a replacement
leaves its shards to the actors left (``evogan.distributed.pool``). Either
way the run's result does not change.

Compact transport (``--ray-transport compact``; ``auto``, the default, takes it
when joining a cluster and full genomes on a local Ray): a trainer that
describes a generation by its lineage (the GA: elite and parent indices,
sigmas and one breeding seed, ``evogan.trainers.lineage.Lineage``) has it sent
instead of the genomes, a few bytes per agent. Each actor breeds only what
it needs with the trainer's own breeding code, which breeds any rows of a
generation alone: its shard, and the rows of the last generation that the
new lineage breeds from (its ``parents()``, a fifth of the population under
truncation) and that it did not breed itself. So it keeps, of each
generation, those parents and its shard (``Generation``), and can breed any
row of the next one: shards may move between actors. An actor that lacks the
last generation (the first one, a resumed run, a replaced worker) says so
and is sent the whole population once. A lone actor on the driver's own node
gets full genomes instead, and a line says so: it scores every row, so it
would breed the whole population that the driver partly breeds too.

So the driver needs few rows of a generation (the critic's, the next
parents, the best): the trainer hands over a ``Bred`` generation
(``rebuilds``), and only sending the whole population breeds all of it.
"""

from __future__ import annotations

import math
import os
import pickle
import sys
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from evogan.bred import Population, whole
from evogan.distributed.cluster import Genomes, from_store, to_store
from evogan.distributed.pool import ActorPool
from evogan.game.scoring import LocalScorer, Scores, group_size
from evogan.genome import GenomeLayout
from evogan.memory import keep_freed_memory
from evogan.networks import GeneratorSpec, build_discriminator, build_generator
from evogan.trainers.base import Rebuild

# Generations an actor keeps (each its shard and the parents it is bred from): the
# last, and the one before in case a job of it comes again.
HELD = 2
# auto: full genomes on a local Ray (they are read in place, 0.2 s a generation at
# 354 MB, while every actor would rebuild the population: ~1 s), compact on a cluster
TRANSPORTS = ("auto", "compact", "full")


@dataclass(frozen=True)
class WorkerSpec:
    """What an actor needs to rebuild the networks (small, picklable)."""

    generator: GeneratorSpec
    image_size: int
    disc_filters: int
    disc_dropout: float
    disc_minibatch_group: int = 0
    threads: int = 1
    generator_state: dict[str, torch.Tensor] = field(default_factory=dict)  # fit_to's buffers
    rebuild: Rebuild | None = field(default=None, compare=False)  # the trainer's, if it has one


@dataclass
class Generation:
    """What an actor keeps of a generation: some of its rows, and what breeds the rest
    (the parents its lineage uses, the lineage relabelled onto them; None: all held)."""

    rows: torch.Tensor  # increasing indices of the rows held
    genomes: torch.Tensor  # [len(rows), L]
    parents: torch.Tensor | None = None
    lineage: Any = None

    def take(self, want: torch.Tensor, rebuild: Rebuild) -> torch.Tensor:
        """Rows ``want`` (increasing) of this generation: those held, the others bred.
        (No copy more than needed: at the article's size a shard is 177 MB, and each
        copy of it cost ~0.15 s.)"""
        if not len(self.rows):
            assert self.parents is not None  # a generation without parents holds every row
            return rebuild(self.parents, self.lineage, want)
        at = torch.searchsorted(self.rows, want).clamp(max=len(self.rows) - 1)
        held = self.rows[at] == want
        if bool(held.all()):
            return self.genomes[at]
        assert self.parents is not None
        out = self.genomes.new_empty((len(want), self.genomes.shape[1]))
        out[held] = self.genomes[at[held]]
        out[~held] = rebuild(self.parents, self.lineage, want[~held])
        return out

    def add(self, rows: torch.Tensor, genomes: torch.Tensor) -> None:
        """Hold ``rows`` too: the first shard as it is, a second one merged in."""
        if not len(self.rows):
            self.rows, self.genomes = rows, genomes
            return
        new = ~torch.isin(rows, self.rows)
        merged = torch.cat([self.rows, rows[new]])
        order = merged.argsort()
        self.rows, self.genomes = merged[order], torch.cat([self.genomes, genomes[new]])[order]


class ShardWorker:
    """A Ray actor's state: a generator model, a discriminator copy, recent generations."""

    def __init__(self, spec: WorkerSpec) -> None:
        torch.set_num_threads(spec.threads)
        keep_freed_memory()  # the actor's own process: its scoring buffers stay mapped
        model = build_generator(spec.generator)
        model.load_state_dict(model.state_dict() | spec.generator_state)
        self.local = LocalScorer(model, GenomeLayout.of(model))
        critic = build_discriminator(
            spec.image_size,
            filters=spec.disc_filters,
            dropout=spec.disc_dropout,
            minibatch_group=spec.disc_minibatch_group,
        )
        self.critic = critic.to(memory_format=torch.channels_last)  # type: ignore[call-overload]
        self.rebuild = spec.rebuild
        self.held: OrderedDict[int, Generation] = OrderedDict()  # by its lineage seed

    def pid(self) -> int:
        return os.getpid()

    def node(self) -> str:
        """The id of the Ray node this actor runs on."""
        import ray

        return str(ray.get_runtime_context().get_node_id())

    def evaluate(
        self, weights: dict[str, torch.Tensor], shard: Genomes, latents: torch.Tensor,
        reference: torch.Tensor | None = None,
    ) -> Scores:  # fmt: skip
        self.critic.load_state_dict(weights)
        return self.local.evaluate(from_store(shard), latents, self.critic, reference=reference)

    def evaluate_whole(
        self,
        weights: dict[str, torch.Tensor],
        population: Genomes,
        name: int | None,
        bounds: tuple[int, int],
        latents: torch.Tensor,
        reference: torch.Tensor | None = None,
    ) -> Scores:
        """Keep the whole population (as parents of the next) and score ``bounds`` of it."""
        whole = from_store(population)
        if name is not None:
            self.hold(name, Generation(torch.arange(len(whole)), whole))
        return self.evaluate(weights, whole[bounds[0] : bounds[1]], latents, reference)

    def evaluate_bred(
        self, weights: dict[str, torch.Tensor], lineage: Any, bounds: tuple[int, int],
        latents: torch.Tensor, reference: torch.Tensor | None = None,
    ) -> Scores | None:  # fmt: skip
        """Breed ``bounds`` of the generation ``lineage`` describes and score them; None
        when the last generation is not held here."""
        shard = self.breed(lineage, torch.arange(*bounds))
        return None if shard is None else self.evaluate(weights, shard, latents, reference)

    def breed(self, lineage: Any, rows: torch.Tensor) -> torch.Tensor | None:
        """Rows ``rows`` of the generation ``lineage`` describes, kept with the parents
        they came from; None without the last generation (or a way to breed)."""
        now = self.held.get(lineage.seed)  # a second shard of a generation begun here
        if now is None:
            last = self.held.get(lineage.parent_seed)
            if last is None or self.rebuild is None:
                return None
            used = lineage.parents()
            parents = last.take(used, self.rebuild)
            now = Generation(used[:0], parents[:0], parents, lineage.relabel(used))
            self.hold(lineage.seed, now)
        assert self.rebuild is not None
        shard = now.take(rows, self.rebuild)
        now.add(rows, shard)
        return shard

    def hold(self, name: int, generation: Generation) -> None:
        self.held[name] = generation
        self.held.move_to_end(name)
        while len(self.held) > HELD:
            self.held.popitem(last=False)


def shard_bounds(population: int, workers: int, group: int) -> list[tuple[int, int]]:
    """``[start, stop)`` of each non-empty shard, cut on multiples of ``group`` agents."""
    groups = math.ceil(population / group)
    per_worker = math.ceil(groups / workers)
    bounds = []
    for first in range(0, groups, per_worker):
        start = first * group
        bounds.append((start, min(population, (first + per_worker) * group)))
    return bounds


class RayScorer(ActorPool):
    """The ``Scorer`` interface over a pool of Ray actors."""

    def __init__(
        self, spec: WorkerSpec, *, workers: int, address: str | None, transport: str = "auto"
    ) -> None:
        super().__init__(address)
        self.spec, self.workers = spec, workers
        if transport == "auto":
            transport = "full" if address is None else "compact"
        self.compact = transport == "compact" and spec.rebuild is not None
        self.sent: list[int] = []  # genome bytes sent to the actors, per evaluation
        self.alone: tuple[Any, bool] | None = None  # (the one actor, whether on this node)

    @property
    def rebuilds(self) -> bool:
        """The actors rebuild a bred population from its lineage (compact transport),
        unless one actor on this node would breed every row the driver breeds too."""
        return self.compact and not self.alone_here()

    def alone_here(self) -> bool:
        """One actor, on the driver's node: with lineages it would breed every row (at
        the article's size 0.70 s a generation, beside the driver's 0.26 s for the rows
        it reads), while full genomes reach it through shared memory (0.03 s to put)."""
        if len(self.actors) != 1:
            self.alone = None
            return False
        actor = self.actors[0]
        if self.alone is None or self.alone[0] is not actor:
            try:
                node = self.ray.get(actor.node.remote())
            except self.lost():  # gone: the next evaluation replaces it
                return False
            here = node == str(self.ray.get_runtime_context().get_node_id())
            self.alone = (actor, here)
            if here:
                print("evogan: ray: one worker, on this machine: sending full genomes "
                      "(with lineages it would breed every row the driver breeds)",
                      file=sys.stderr, flush=True)  # fmt: skip
        return self.alone[1]

    def start(self) -> None:
        """Join (or start) Ray and create the actors, once."""
        if self.actors or self.queued:
            return
        self.join(self.workers * self.spec.threads)
        self.spawn(self.workers)

    def new_actor(self) -> Any:
        remote = self.ray.remote(num_cpus=self.spec.threads, max_restarts=0)(ShardWorker)
        return remote.remote(self.spec)

    def needs(self) -> dict[str, float]:
        return {"CPU": float(self.spec.threads)}

    @torch.no_grad()
    def evaluate(
        self,
        population: Population,
        latents: torch.Tensor,
        discriminator: nn.Module,
        lineage: Any = None,
        reference: torch.Tensor | None = None,
    ) -> Scores:
        """Score a shard per actor; a lost actor's shard is scored again on another."""
        self.start()
        self.admit(0)  # the shards are cut for the actors there are now
        weights = self.ray.put({k: v.detach().cpu() for k, v in discriminator.state_dict().items()})
        bounds = shard_bounds(len(population), len(self.actors), group_size(latents.shape[0]))
        reference = None if reference is None else reference.cpu()
        payload = Payload(self, weights, population, latents.cpu(), lineage, reference)
        results = self.run(bounds, payload.send)
        self.sent.append(payload.bytes)
        return Scores.join([Scores(*result) for result in results])


class Payload:
    """One evaluation's inputs, put in the object store at most once each, and the
    bytes of genome description sent to actors (counted per actor: on a cluster
    each one is a machine of its own)."""

    def __init__(
        self, owner: RayScorer, weights: Any, population: Population,
        latents: torch.Tensor, lineage: Any, reference: torch.Tensor | None = None,
    ) -> None:  # fmt: skip
        self.ray, self.weights, self.latents = owner.ray, weights, latents
        self.reference = reference  # real images for the pixel MMD, or None
        self.agents = population
        self.genomes: torch.Tensor | None = None  # bred whole only if an actor needs it
        self.lineage = lineage if owner.rebuilds else None
        self.name = lineage.seed if self.lineage is not None else None
        self.refs: dict[str, Any] = {}
        self.bytes = 0

    def send(self, actor: Any, bounds: tuple[int, int], whole: bool = False) -> Any:
        """Start scoring ``bounds`` on ``actor``: by lineage, or (``whole``: the actor
        may lack the parents) the whole population, or the shard."""
        start, stop = bounds
        if self.lineage is not None and not whole and self.lineage.parent_seed is not None:
            self.bytes += len(pickle.dumps(self.lineage))
            return actor.evaluate_bred.remote(
                self.weights, self.put("lineage"), bounds, self.latents, self.shared_reference
            )
        if self.lineage is not None:  # no parents on the actor: the whole population, once
            self.bytes += self.population.nbytes
            whole_ref = self.put("population", to_store(self.population))
            return actor.evaluate_whole.remote(
                self.weights, whole_ref, self.name, bounds, self.latents, self.shared_reference
            )
        self.bytes += self.population[start:stop].nbytes
        shard = self.put(f"shard {start}", to_store(self.population[start:stop]))
        return actor.evaluate.remote(self.weights, shard, self.latents, self.shared_reference)

    @property
    def shared_reference(self) -> Any:
        """The reference images in the object store (put once), or None."""
        return None if self.reference is None else self.put("reference")

    @property
    def population(self) -> torch.Tensor:
        """The genomes ``[pop, L]``, on the CPU (a ``Bred`` generation bred whole, once)."""
        if self.genomes is None:
            self.genomes = whole(self.agents).cpu()
        return self.genomes

    def put(self, what: str, value: Any = None) -> Any:
        """``value`` (default: the attribute ``what``) in the object store, once."""
        if what not in self.refs:
            self.refs[what] = self.ray.put(getattr(self, what) if value is None else value)
        return self.refs[what]
