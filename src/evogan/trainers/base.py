"""The trainer template: one way of improving generators per module.

A trainer owns how genomes get better (a GA, evolution strategies, gradient
descent, ...). The engine loop, the checkpoint and the callbacks only see this
class, so adding a trainer is one module in ``TRAINERS`` plus its tests. The
optional capabilities (a lineage a remote scorer can rebuild from, islands,
workers to stop) have defaults here, so nobody has to ask a trainer what it
has.

State is the trainer's own record; every state has ``generation`` (finished
generations) and ``population`` (``[pop, n_params]`` genomes of the current
agents, for pooled fakes and pictures).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, Protocol

import torch

from evogan.bred import Rebuild
from evogan.game.arena import Arena
from evogan.streams import Streams

__all__ = ["Rebuild", "Trainer", "TrainerState", "population_metrics"]


class TrainerState(Protocol):
    @property
    def generation(self) -> int: ...
    @property
    def population(self) -> torch.Tensor: ...


class Trainer(ABC):
    @abstractmethod
    def init(self, rng: torch.Generator) -> Any:
        """Generation 0's state, drawn from ``rng``."""

    @abstractmethod
    def step(self, state: Any, arena: Arena, streams: Streams) -> tuple[Any, dict[str, float]]:
        """One generation: the next state and a flat dict of metrics."""

    @abstractmethod
    def best(self, state: Any) -> tuple[torch.Tensor, float]:
        """The genome ``[n_params]`` to return as the generator, and its fitness."""

    @abstractmethod
    def state_dict(self, state: Any) -> dict[str, Any]:
        """Everything needed to resume: plain tensors, numbers and optimiser dicts."""

    @abstractmethod
    def load_state_dict(self, data: dict[str, Any]) -> Any:
        """The state saved by ``state_dict``; an ``EvoganError`` if it does not fit."""

    def rebuilder(self) -> Rebuild | None:
        """How a remote scorer rebuilds a population from its lineage (None: send genomes)."""
        return None

    def agent_fitness(self, state: Any) -> torch.Tensor | None:
        """The last scored generation's fitness per agent, if the trainer keeps it."""
        return None

    def groups(self, state: Any) -> list[torch.Tensor]:
        """The populations that evolved apart (one per island); the whole one by default."""
        return [state.population]

    def island_bests(self, state: Any) -> list[tuple[torch.Tensor, float]]:
        """Each island's best genome and fitness; [] for a trainer without islands."""
        return []

    def restart(self, state: Any, genome: torch.Tensor) -> Any | None:
        """The state searching again from ``genome`` (``--keep-best-restart``); None for a
        trainer that cannot (ES moves its mean, E-GAN its leading parent)."""
        return None

    def close(self) -> None:
        """Stop workers the trainer started (Ray actors); nothing by default."""
        return None


def population_metrics(agents: torch.Tensor, best: float | None = None) -> dict[str, float]:
    """``fitness/best|mean|std`` of one scored generation, the same for every trainer.

    ``best`` overrides the maximum when an agent outside ``agents`` (ES's mean)
    competes for it."""
    return {
        "fitness/best": agents.max().item() if best is None else best,
        "fitness/mean": agents.mean().item(),
        "fitness/std": agents.std().item() if len(agents) > 1 else 0.0,
    }
