"""How far a run has come, and step sizes that shrink with it.

A run's progress is the fraction of its budget spent: of ``--time-budget``
when it has one, else of its generation limit. Schedules read it from the
``RunClock`` that the engine advances before every generation, so a trainer
never asks the wall clock itself (and a run with a generation limit stays
bit-for-bit reproducible, resumes included).

Annealing is exponential (log-linear) in progress, as in the probes that
measured it: with a constant sigma the ES step never shrinks, and once the
search has found digits it keeps jumping past them (issue 13).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class RunClock:
    """The run's budget and how much of it is spent; the engine moves it forward."""

    time_budget: float | None = None  # seconds
    generation_limit: int | None = None
    elapsed: float = 0.0
    generation: int = 0

    @property
    def progress(self) -> float:
        """Fraction of the budget spent, in [0, 1] (0 for a run without a budget)."""
        if self.time_budget:
            return min(self.elapsed / self.time_budget, 1.0)
        if self.generation_limit:
            return min(self.generation / self.generation_limit, 1.0)
        return 0.0

    def copy(self) -> RunClock:
        return RunClock(self.time_budget, self.generation_limit, self.elapsed, self.generation)


def anneal(start: float, end: float | None, progress: float) -> float:
    """``start`` at progress 0 to ``end`` at 1, exponentially; ``end=None`` keeps ``start``."""
    if end is None or start <= 0:
        return start
    return start * (end / start) ** progress


def linear_to_zero(start: float, progress: float) -> float:
    """``start`` at progress 0, falling linearly to 0 at 1 (instance noise's schedule)."""
    return start * max(0.0, 1.0 - progress)
