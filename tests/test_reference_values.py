"""Reference values: the same seeds give the same runs as before a refactoring.

Recorded with the code of commit 97f74ca (before issue 13's options), on this
project's CPU machine with torch 2.13.0: a change that alters them on purpose
(a new default) re-records them in the same commit and says why. ``ga`` and
``ga-islands`` were re-recorded when breeding moved to counter-based streams
keyed by pair and child (issue 15: any rows of a generation breed alone).
``python tests/test_reference_values.py`` prints the current values.
"""

import json

import pytest
import torch

from evogan.config import Config
from evogan.run.engine import evolve

TINY = {"dataset": "digits", "population": 8, "samples_per_agent": 8, "disc_batch": 16,
        "disc_filters": 16, "progress": False}  # fmt: skip
CASES = {
    "ga": {},
    "es": {"trainer": "es"},
    "es-snes": {"trainer": "es", "es_adapt": "snes", "es_sigma_lr": 0.05},
    "gradient": {"trainer": "gradient", "population": 1},
    "egan": {"trainer": "egan", "population": 2},
    "ga-islands": {"islands": 2},
    "es-accuracy": {"trainer": "es", "fitness": "accuracy"},
}
GENERATIONS = 4
REFERENCE = json.loads(
    """
{
 "ga": {
  "genome_sum": 1.44917,
  "genome_norm": 10.16048,
  "best_fitness": [
   -0.015085,
   -0.013998,
   -0.025414,
   -0.028759
  ]
 },
 "es": {
  "genome_sum": 4.05619,
  "genome_norm": 13.80651,
  "best_fitness": [
   -0.016415,
   -0.015682,
   -0.00418,
   0.000797
  ]
 },
 "es-snes": {
  "genome_sum": 4.0519,
  "genome_norm": 13.80624,
  "best_fitness": [
   -0.016415,
   -0.015718,
   -0.004176,
   0.000936
  ]
 },
 "gradient": {
  "genome_sum": -3.24108,
  "genome_norm": 5.82828,
  "best_fitness": [
   -0.013429,
   -0.03456,
   -0.016121,
   -0.032287
  ]
 },
 "egan": {
  "genome_sum": -4.06419,
  "genome_norm": 5.95565,
  "best_fitness": [
   0.495225,
   0.495667,
   0.495454,
   0.496812
  ]
 },
 "ga-islands": {
  "genome_sum": 1.58173,
  "genome_norm": 9.90815,
  "best_fitness": [
   0.127538,
   0.12962,
   0.120021,
   0.118905
  ]
 },
 "es-accuracy": {
  "genome_sum": 5.01363,
  "genome_norm": 13.89724,
  "best_fitness": [
   56.25,
   68.75,
   50.0,
   81.25
  ]
 }
}
"""
)


def values(case: str) -> dict[str, object]:
    torch.set_num_threads(1)
    result = evolve(Config(**(TINY | CASES[case])), generations=GENERATIONS)
    genome = result.evolution.best_genome
    return {
        "genome_sum": round(genome.sum().item(), 5),
        "genome_norm": round(genome.norm().item(), 5),
        "best_fitness": [round(row["fitness/best"], 6) for row in result.history],
    }


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_seed_gives_the_recorded_run(case):
    got, want = values(case), REFERENCE[case]
    assert got["best_fitness"] == pytest.approx(want["best_fitness"], rel=1e-4, abs=1e-6)
    assert got["genome_sum"] == pytest.approx(want["genome_sum"], rel=1e-4, abs=1e-4)
    assert got["genome_norm"] == pytest.approx(want["genome_norm"], rel=1e-4)


if __name__ == "__main__":
    print(json.dumps({case: values(case) for case in CASES}, indent=1))
