"""Independent random streams derived from one master seed.

Each consumer of randomness (the trainer, the latents, the data) draws from
its own ``torch.Generator``, so a change in how much one of them draws does
not shift the others, and a checkpoint can restore every stream exactly.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass
class Streams:
    """The run's random streams: ``ga`` (the trainer's), ``latents`` and ``data``."""

    ga: torch.Generator
    latents: torch.Generator
    data: torch.Generator

    @classmethod
    def from_seed(cls, seed: int) -> Streams:
        def stream(offset: int) -> torch.Generator:
            return torch.Generator().manual_seed(seed * 1000 + offset)

        return cls(stream(1), stream(2), stream(3))

    def state_dict(self) -> dict[str, torch.Tensor]:
        return {name: rng.get_state() for name, rng in vars(self).items()}

    def load_state_dict(self, state: dict[str, torch.Tensor]) -> None:
        for name, rng in vars(self).items():
            rng.set_state(state[name])
