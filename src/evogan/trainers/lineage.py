"""A generation's lineage: how it was bred from the last one, and breeding it again.

Selection picks the elites, the parent pairs and each child's mutation step;
crossover and mutation draw from one seed through row-keyed streams
(``operators.keyed``). So a few bytes per agent describe a generation, and
any of its rows breed alone, bit for bit, on any machine that holds the
parents: Such et al. (2017) encode a genome as a list of mutation seeds, and
this does the same with crossover. The GA breeds with it on the driver; a Ray
actor rebuilds its shard with the same code (``evogan.distributed.scorer``).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Protocol

import torch

from evogan.errors import EvoganError
from evogan.trainers.operators import CROSSOVER, MUTATION, RowRng, crossover_population

CROSSOVER_STREAM, MUTATION_STREAM = 0, 1  # of a lineage's seed: keyed by pair, by child


@dataclass(frozen=True)
class Lineage:
    """How a generation was bred from the previous one, in a few bytes per agent.

    The elites come first, then pair ``p``'s children at ``elitism + 2p`` and
    ``+ 2p + 1``; pair ``p`` draws from ``(seed, p)`` and child ``c`` mutates
    from ``(seed, c)`` only, so any rows breed alone. ``parent_seed`` (the
    parents' own seed, None for an initial or edited population) tells a
    holder of a population whether it holds these parents.
    """

    generation: int  # of the children
    elites: torch.Tensor  # [elitism] int32 indices into the parents
    mothers: torch.Tensor  # [pairs] int32
    fathers: torch.Tensor  # [pairs] int32
    sigma: torch.Tensor  # [children] each child's mutation step
    seed: int  # of crossover and mutation; also names the generation bred
    parent_seed: int | None

    def __len__(self) -> int:
        """Agents of the generation bred: the elites and the children."""
        return len(self.elites) + len(self.sigma)

    def parents(self) -> torch.Tensor:
        """The distinct parent rows this generation is bred from, increasing (int64)."""
        return torch.cat([self.elites, self.mothers, self.fathers]).long().unique()

    def relabel(self, parents: torch.Tensor) -> Lineage:
        """This lineage over ``population[parents]`` instead of ``population``."""

        def where(index: torch.Tensor) -> torch.Tensor:
            return torch.searchsorted(parents, index.long()).to(torch.int32)

        return dataclasses.replace(
            self, elites=where(self.elites), mothers=where(self.mothers),
            fathers=where(self.fathers),
        )  # fmt: skip


class Breeding(Protocol):
    """The operators' options a lineage is bred with (the GA's parameters have them)."""

    @property
    def crossover(self) -> str: ...
    @property
    def crossover_rate(self) -> float: ...
    @property
    def crossover_options(self) -> dict[str, Any]: ...
    @property
    def mutation(self) -> str: ...
    @property
    def mutation_rate(self) -> float: ...
    @property
    def init_std(self) -> torch.Tensor: ...


def breed(
    params: Breeding, parents: torch.Tensor, lineage: Lineage, rows: torch.Tensor | None = None
) -> torch.Tensor:
    """The population ``lineage`` describes, from its ``parents``: elites kept bit for
    bit, then the children of the chosen pairs by crossover and mutation.

    ``rows`` (increasing indices) breeds only those: ``breed(...)[rows]``, bit for bit."""
    n_elites = len(lineage.elites)
    if rows is None:
        rows = torch.arange(len(lineage))
    elif bool((rows[1:] < rows[:-1]).any()):
        raise EvoganError("breed: rows must be increasing")
    elites, child = rows[rows < n_elites], rows[rows >= n_elites] - n_elites
    pairs, pair_of = torch.unique_consecutive(child // 2, return_inverse=True)
    children_a, children_b = crossover_population(
        parents[lineage.mothers.long()[pairs]],
        parents[lineage.fathers.long()[pairs]],
        fn=CROSSOVER[params.crossover],
        rate=params.crossover_rate,
        rng=RowRng(lineage.seed, pairs, stream=CROSSOVER_STREAM),
        **params.crossover_options,
    )
    # One fresh [rows, L] tensor, mutated in place: at the article's 354 MB a
    # generation, every copy costs ~0.1 s of page faults on 1 thread.
    population = parents.new_empty((len(rows), parents.shape[1]))
    population[: len(elites)] = parents[lineage.elites.long()[elites]]
    children = population[len(elites) :]
    place_children(children, children_a, children_b, child, pair_of)
    MUTATION[params.mutation](
        children,
        rng=RowRng(lineage.seed, child, stream=MUTATION_STREAM),
        rate=params.mutation_rate,
        sigma=lineage.sigma[child],
        init_std=params.init_std,
        inplace=True,
    )
    return population


def place_children(
    out: torch.Tensor,
    children_a: torch.Tensor,
    children_b: torch.Tensor,
    child: torch.Tensor,
    pair_of: torch.Tensor,
) -> None:
    """``out[i]`` = child ``child[i]``: its pair's (``pair_of[i]``) first child if even,
    second if odd. A run of consecutive children (a shard, a whole generation) is
    two strided copies; any other set goes through index lists."""
    if len(child) == 0:
        return
    lead = int(child[0]) % 2
    if int(child[-1]) - int(child[0]) == len(child) - 1:  # consecutive
        firsts, seconds = out[lead::2], out[1 - lead :: 2]
        firsts.copy_(children_a[lead : lead + len(firsts)])
        seconds.copy_(children_b[: len(seconds)])
        return
    second = child % 2 == 1
    out[~second] = children_a[pair_of[~second]]
    out[second] = children_b[pair_of[second]]


__all__ = ["CROSSOVER_STREAM", "MUTATION_STREAM", "Breeding", "Lineage", "breed", "place_children"]
