"""Genetic operators over a population tensor ``[pop, genome_len]``.

Three families, each a name → function registry that the config, the CLI and
the tests share: ``SELECTION`` picks parent indices from fitness,
``CROSSOVER`` turns parent pairs into complementary children, ``MUTATION``
perturbs a population. All are pure, vectorised over the population, and draw
every random number from an explicit ``torch.Generator`` (selection) or a
``RowRng`` (crossover and mutation also take one: counter-based, so that any
rows of a generation breed alone, ``keyed``).
"""

from evogan.trainers.operators.crossover import (
    CROSSOVER,
    CrossoverFn,
    Segments,
    blend,
    crossover_population,
    layer,
    single_point,
    two_point,
    uniform,
)
from evogan.trainers.operators.keyed import Rng, RowRng
from evogan.trainers.operators.mutation import (
    MUTATION,
    SIGMA_SCHEDULES,
    MutationFn,
    ScheduleFn,
    gaussian,
    reset,
    scheduled_sigma,
    self_adapt_sigma,
)
from evogan.trainers.operators.selection import (
    SELECTION,
    SelectionFn,
    elite_indices,
    ranking,
    tournament,
    truncation,
)

__all__ = [
    "CROSSOVER",
    "MUTATION",
    "SELECTION",
    "SIGMA_SCHEDULES",
    "CrossoverFn",
    "MutationFn",
    "Rng",
    "RowRng",
    "ScheduleFn",
    "Segments",
    "SelectionFn",
    "blend",
    "crossover_population",
    "elite_indices",
    "gaussian",
    "layer",
    "ranking",
    "reset",
    "scheduled_sigma",
    "self_adapt_sigma",
    "single_point",
    "tournament",
    "truncation",
    "two_point",
    "uniform",
]
