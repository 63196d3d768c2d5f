"""Evaluate the population on Ray actors: shards of agents, reassembled by index.

``--backend ray`` joins a running cluster (``--ray-address auto`` or
``HOST:PORT``) or, without an address, starts a local Ray for the run and
stops it afterwards. Each actor holds its own generator model and a copy of
the discriminator; per generation the driver puts the discriminator's weights
in the object store once and every actor fetches them from there, then scores
its shard of the population with the same batched code as the local backend.

Same seed, same result: shards start on the local evaluator's group
boundaries, so every agent is scored in exactly the batches it would be
scored in locally (bit-identical at the same torch thread count). A worker
that dies mid-generation is replaced and its shard evaluated again, so the
run's result does not change. This is the only module that imports Ray, and
only when the backend is used.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from evogan.errors import EvoganError
from evogan.evaluation.local import LocalEvaluator, group_size
from evogan.genome import GenomeLayout
from evogan.networks import GeneratorSpec, build_discriminator, build_generator

ATTEMPTS = 3  # evaluations of one shard before the run gives up on it


@dataclass(frozen=True)
class WorkerSpec:
    """What an actor needs to rebuild the networks (small, picklable)."""

    generator: GeneratorSpec
    image_size: int
    disc_filters: int
    disc_dropout: float
    threads: int = 1


class ShardWorker:
    """A Ray actor's state: a generator model and a discriminator copy."""

    def __init__(self, spec: WorkerSpec) -> None:
        torch.set_num_threads(spec.threads)
        model = build_generator(spec.generator)
        self.local = LocalEvaluator(model, GenomeLayout.of(model))
        critic = build_discriminator(
            spec.image_size, filters=spec.disc_filters, dropout=spec.disc_dropout
        )
        self.critic = critic.to(memory_format=torch.channels_last)  # type: ignore[call-overload]

    def pid(self) -> int:
        return os.getpid()

    def evaluate(
        self, weights: dict[str, torch.Tensor], shard: torch.Tensor, latents: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        self.critic.load_state_dict(weights)
        return self.local.evaluate(shard, latents, self.critic)


def shard_bounds(population: int, workers: int, group: int) -> list[tuple[int, int]]:
    """``[start, stop)`` of each non-empty shard, cut on multiples of ``group`` agents."""
    groups = math.ceil(population / group)
    per_worker = math.ceil(groups / workers)
    bounds = []
    for first in range(0, groups, per_worker):
        start = first * group
        bounds.append((start, min(population, (first + per_worker) * group)))
    return bounds


class RayEvaluator:
    """The ``Evaluator`` interface over a pool of Ray actors."""

    def __init__(self, spec: WorkerSpec, *, workers: int, address: str | None) -> None:
        try:
            import ray
        except ImportError:
            raise EvoganError(
                "--backend ray: Ray is not installed (pip install 'evogan[ray]')"
            ) from None
        self.ray = ray
        self.spec, self.workers, self.address = spec, workers, address
        self.started_ray = False
        self.actors: list[Any] = []

    def start(self) -> None:
        """Join (or start) Ray and create the actors, once."""
        if self.actors:
            return
        if not self.ray.is_initialized():
            cpus = self.workers * self.spec.threads if self.address is None else None
            try:
                self.ray.init(address=self.address, num_cpus=cpus, include_dashboard=False,
                              log_to_driver=False, configure_logging=False)  # fmt: skip
            except (ConnectionError, RuntimeError, ValueError) as err:
                where = self.address or "a local Ray"
                raise EvoganError(f"--ray-address {where}: cannot start Ray ({err})") from None
            self.started_ray = self.address is None
        self.actors = [self.new_actor() for _ in range(self.workers)]

    def new_actor(self) -> Any:
        remote = self.ray.remote(num_cpus=self.spec.threads, max_restarts=0)(ShardWorker)
        return remote.remote(self.spec)

    @torch.no_grad()
    def evaluate(
        self, population: torch.Tensor, latents: torch.Tensor, discriminator: nn.Module
    ) -> tuple[torch.Tensor, torch.Tensor]:
        self.start()
        weights = self.ray.put({k: v.detach().cpu() for k, v in discriminator.state_dict().items()})
        bounds = shard_bounds(len(population), len(self.actors), group_size(latents.shape[0]))
        shards = [population[a:b].cpu() for a, b in bounds]
        pending = [actor.evaluate.remote(weights, shard, latents.cpu())
                   for actor, shard in zip(self.actors, shards, strict=False)]  # fmt: skip
        results = [
            self.gather(i, ref, weights, shards[i], latents) for i, ref in enumerate(pending)
        ]
        logits, spreads = zip(*results, strict=True)
        return torch.cat(logits), torch.cat(spreads)

    def gather(
        self, index: int, ref: Any, weights: Any, shard: torch.Tensor, latents: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """The shard's result; a dead worker is replaced and the shard evaluated again."""
        for _ in range(ATTEMPTS):
            try:
                return self.ray.get(ref)
            except self.ray.exceptions.RayActorError:
                self.actors[index] = self.new_actor()
                ref = self.actors[index].evaluate.remote(weights, shard, latents.cpu())
        raise EvoganError(f"Ray: shard {index} failed on {ATTEMPTS} workers in a row")

    def close(self) -> None:
        """Stop the actors, and Ray itself if this evaluator started it."""
        for actor in self.actors:
            self.ray.kill(actor)
        self.actors = []
        if self.started_ray:
            self.ray.shutdown()
            self.started_ray = False
