"""Peak resident memory of a GA run and of the gradient baseline.

Same generator (the mnist preset's basis generator), MNIST training split,
population 100 and 1000; each measurement is a fresh process (so the peak is
that run's alone) training for a few generations.

Usage: python benchmarks/memory.py
"""

from __future__ import annotations

import json
import subprocess
import sys

from common import MNIST_DIR, write_result

CHILD = """
import json, resource, sys, torch
from evogan.config import build_config, load_preset
from evogan.engine import Evolution, evolve_run
overrides = json.loads(sys.argv[1])
config = build_config(("mnist", load_preset("mnist")), ("bench", overrides))
evolve_run(Evolution.start(config))
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)  # KiB on Linux
"""


def peak_mib(overrides: dict[str, object]) -> float:
    out = subprocess.run(
        [sys.executable, "-c", CHILD, json.dumps(overrides)],
        check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    return int(out.split()[-1]) / 1024


def main() -> None:
    common = {"data_dir": str(MNIST_DIR), "subset": "0:5000", "progress": False,
              "generations": 3, "sample_every": 0, "checkpoint_every": 0, "threads": 1}  # fmt: skip
    rows = []
    for population in (100, 1000):
        for trainer in ("ga", "gradient"):
            mib = peak_mib(common | {"population": population, "trainer": trainer})
            rows.append({"trainer": trainer, "population": population, "peak_rss_mib": mib})
            print(f"{trainer:>8} population {population:>5}: peak RSS {mib:.0f} MiB")
    write_result("memory", {"command": "python benchmarks/memory.py", "rows": rows})


if __name__ == "__main__":
    main()
