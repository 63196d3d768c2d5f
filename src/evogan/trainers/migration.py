"""Migration between islands: how agents leave one island and join the next.

What a migrant does depends on the inner trainer (``MIGRATIONS``):

- ga: it is copied, with its mutation step, over one of the receiver's newest
  offspring (not yet scored, so no worse agent is known; the elites stay).
- es: the receiver's mean moves toward the migrants' average by the share
  ``N / pop`` they would have in its population.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch

from evogan.config import Config
from evogan.trainers.es import ESState, ESTrainer
from evogan.trainers.ga import GAState
from evogan.trainers.operators import elite_indices

Migrants = dict[str, torch.Tensor]  # rows of the sender's state, e.g. {"population": [n, L]}


@dataclass(frozen=True)
class Migration:
    """How agents leave one island and join the next, for one inner trainer."""

    emigrants: Callable[[Any, Any, int], Migrants]  # (state before, after a step, n)
    immigrate: Callable[[Any, Any, Migrants], Any]  # (trainer, receiver's state, migrants)
    room: Callable[[Config], int]  # most migrants an island of this config can take


def ga_emigrants(before: GAState, after: GAState, n: int) -> Migrants:
    """The ``n`` best agents of the generation just scored (``after.fitness`` ranks ``before``)."""
    assert after.fitness is not None
    best = elite_indices(after.fitness, n)
    return {"population": before.population[best], "sigma": before.sigma[best]}


def ga_immigrate(trainer: Any, state: GAState, migrants: Migrants) -> GAState:
    """Migrants take the places of the last offspring; the elites at the front stay.

    The population no longer is what its lineage bred, so the lineage goes."""
    keep = len(state.population) - len(migrants["population"])
    return dataclasses.replace(
        state,
        agents=torch.cat([state.population[:keep], migrants["population"]]),
        sigma=torch.cat([state.sigma[:keep], migrants["sigma"]]),
        lineage=None,
    )


def es_emigrants(before: ESState, after: ESState, n: int) -> Migrants:
    """The ``n`` best samples of the generation just scored (genome units)."""
    assert after.fitness is not None
    return {"population": after.population[elite_indices(after.fitness, n)]}


def es_immigrate(trainer: ESTrainer, state: ESState, migrants: Migrants) -> ESState:
    """The mean moves toward the migrants' average, weighted as N of the pop samples."""
    target = migrants["population"].mean(0) / trainer.scale
    share = len(migrants["population"]) / trainer.population_size
    return dataclasses.replace(state, mean=state.mean + share * (target - state.mean))


MIGRATIONS: dict[str, Migration] = {
    "ga": Migration(ga_emigrants, ga_immigrate, lambda c: c.population - c.elitism),
    "es": Migration(es_emigrants, es_immigrate, lambda c: c.population - 1),
}
