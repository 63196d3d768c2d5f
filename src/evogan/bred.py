"""A population known by its lineage, whose rows are bred only when asked for.

With compact lineages (``--ray-transport compact``) the Ray actors rebuild the
genomes they score from a generation's lineage, so the driver needs only a
few rows of each generation: the agents whose fakes train the critic, the
parents of the next generation and the best agent. ``Bred`` holds the parents
a lineage uses and breeds a row the first time it is read; the trainer's
breeding code breeds any rows alone, bit for bit as the whole generation
(``evogan.trainers.lineage``). A generation that is fully read (a checkpoint,
an actor that lacks the parents) is bred once, whole.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

# (parents, lineage, rows) -> the population the lineage describes, bit for bit, or only
# its rows ``rows`` (increasing indices; None: all)
Rebuild = Callable[[torch.Tensor, Any, torch.Tensor | None], torch.Tensor]


class Bred:
    """``size`` agents that ``lineage`` breeds from ``parents``; each row bred once, on
    its first read (with ``rebuild``, the trainer's breeding)."""

    def __init__(self, size: int, parents: torch.Tensor, lineage: Any, rebuild: Rebuild) -> None:
        self.parents, self.lineage, self.rebuild = parents, lineage, rebuild
        # the rows in place, bred or not: pages never written cost no memory
        self.genomes = parents.new_empty((size, parents.shape[1]))
        self.held = torch.zeros(size, dtype=torch.bool)

    def __len__(self) -> int:
        return len(self.genomes)

    @property
    def shape(self) -> torch.Size:
        return self.genomes.shape

    @property
    def bred(self) -> int:
        """Rows bred so far."""
        return int(self.held.sum())

    def __getitem__(self, index: int | torch.Tensor) -> torch.Tensor:
        """Rows ``index`` (int64, any order, repeats allowed), as a tensor would give them."""
        index = torch.as_tensor(index, dtype=torch.long)
        index = torch.where(index < 0, index + len(self), index)  # from the end, as a tensor
        self.fill(index.flatten().unique())
        return self.genomes[index]

    def whole(self) -> torch.Tensor:
        """Every row ``[size, L]``."""
        self.fill(torch.arange(len(self)))
        return self.genomes

    def in_place(self, rows: torch.Tensor) -> torch.Tensor:
        """``[size, L]`` with ``rows`` bred (the others undefined): parents for a lineage
        that uses only those rows, without copying them out (70 MB at the article's size)."""
        self.fill(rows)
        return self.genomes

    def fill(self, rows: torch.Tensor) -> None:
        """Breed those of ``rows`` (increasing) not bred yet."""
        missing = rows[~self.held[rows]]
        if len(missing):
            self.genomes[missing] = self.rebuild(self.parents, self.lineage, missing)
            self.held[missing] = True


Population = torch.Tensor | Bred  # genomes [pop, L], or a generation bred on demand


def whole(population: Population) -> torch.Tensor:
    """The genomes ``[pop, L]`` of ``population`` (a tensor itself; a ``Bred`` bred whole)."""
    return population.whole() if isinstance(population, Bred) else population
