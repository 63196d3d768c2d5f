"""Selection: which agents become parents, given their fitness.

Higher fitness is better. Every function here ranks the population with one
stable descending sort, so agents with equal fitness are ordered by index and
the result does not depend on the sorting backend. ``truncation`` is the
article's scheme (keep the best 10-20 %, draw parents uniformly among them);
``tournament`` is the usual k-way tournament, whose pressure is set by ``k``.
Both return ``n`` parent indices into the population, int64, shape ``[n]``.
"""

from __future__ import annotations

import math
from typing import Protocol

import torch
from torch import Tensor

from evogan.errors import EvoganError

__all__ = ["SELECTION", "SelectionFn", "elite_indices", "ranking", "tournament", "truncation"]


class SelectionFn(Protocol):
    """``fn(fitness, n, *, rng) -> parent indices [n]``; options have defaults."""

    def __call__(self, fitness: Tensor, n: int, *, rng: torch.Generator) -> Tensor: ...


def _check_fitness(fitness: Tensor) -> None:
    if fitness.ndim != 1 or fitness.numel() == 0:
        raise EvoganError(
            f"fitness must be a non-empty [pop] tensor, got shape {list(fitness.shape)}"
        )
    nan = torch.isnan(fitness)
    if bool(nan.any()):
        first = int(nan.nonzero()[0, 0])
        raise EvoganError(
            f"fitness contains NaN for {int(nan.sum())} agents (first at index {first});"
            " the fitness function returned an invalid score"
        )


def _check_n(n: int) -> None:
    if n < 0:
        raise EvoganError(f"selection.n must be >= 0, got {n}")


def ranking(fitness: Tensor) -> Tensor:
    """Agent indices best first; ties keep index order so results are reproducible."""
    _check_fitness(fitness)
    return torch.sort(fitness, descending=True, stable=True).indices


def elite_indices(fitness: Tensor, n: int) -> Tensor:
    """The ``n`` fittest agents, best first (elitism copies them unchanged)."""
    _check_n(n)
    if n > fitness.numel():
        raise EvoganError(f"elite count must be <= population size {fitness.numel()}, got {n}")
    return ranking(fitness)[:n]


def truncation(fitness: Tensor, n: int, *, rng: torch.Generator, fraction: float = 0.2) -> Tensor:
    """``n`` parents drawn uniformly, with replacement, among the ceil(fraction*pop) fittest."""
    if not 0.0 < fraction <= 1.0:
        raise EvoganError(f"selection.fraction must be in (0, 1], got {fraction}")
    _check_n(n)
    order = ranking(fitness)
    # The epsilon keeps e.g. 0.1 * 30 = 3.0000000000000004 from rounding up to 4.
    kept = max(1, math.ceil(fraction * order.numel() - 1e-9))
    pick = torch.randint(kept, (n,), generator=rng, device=fitness.device)
    return order[pick]


def tournament(fitness: Tensor, n: int, *, rng: torch.Generator, k: int = 3) -> Tensor:
    """``n`` tournaments of ``k`` agents drawn with replacement; each yields its fittest."""
    if k < 1:
        raise EvoganError(f"selection.k must be >= 1, got {k}")
    _check_n(n)
    order = ranking(fitness)
    # Comparing ranks rather than raw fitness breaks ties the same way truncation does.
    rank = torch.empty_like(order)
    rank[order] = torch.arange(order.numel(), device=order.device)
    contestants = torch.randint(order.numel(), (n, k), generator=rng, device=fitness.device)
    return order[rank[contestants].amin(dim=1)]


SELECTION: dict[str, SelectionFn] = {"truncation": truncation, "tournament": tournament}
