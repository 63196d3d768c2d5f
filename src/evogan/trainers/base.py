"""The trainer interface: one way of improving generators per module.

A trainer owns how genomes get better (a GA, evolution strategies, gradient
descent, ...). The engine loop, the checkpoint and the callbacks only see this
interface, so adding a trainer is one module in ``TRAINERS`` plus its tests.

State is the trainer's own record; every state has ``generation`` (finished
generations) and ``population`` (``[pop, n_params]`` genomes of the current
agents, for pooled fakes and pictures).
"""

from __future__ import annotations

from typing import Any, Protocol

import torch

from evogan.game.arena import Arena
from evogan.streams import Streams


class TrainerState(Protocol):
    @property
    def generation(self) -> int: ...
    @property
    def population(self) -> torch.Tensor: ...


class Trainer(Protocol):
    def init(self, rng: torch.Generator) -> Any:
        """Generation 0's state, drawn from ``rng``."""
        ...

    def step(self, state: Any, arena: Arena, streams: Streams) -> tuple[Any, dict[str, float]]:
        """One generation: the next state and a flat dict of metrics."""
        ...

    def best(self, state: Any) -> tuple[torch.Tensor, float]:
        """The genome ``[n_params]`` to return as the generator, and its fitness."""
        ...

    def state_dict(self, state: Any) -> dict[str, Any]:
        """Everything needed to resume: plain tensors, numbers and optimiser dicts."""
        ...

    def load_state_dict(self, data: dict[str, Any]) -> Any:
        """The state saved by ``state_dict``; an ``EvoganError`` if it does not fit."""
        ...
