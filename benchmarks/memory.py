"""Peak resident memory of a GA run and of the gradient baseline.

Same generator (the mnist preset's basis generator), MNIST training split,
population 100 and 1000; each measurement is a fresh process (so the peak is
that run's alone) training for a few generations.

Usage: python benchmarks/memory.py [--smoke] [--out DIR]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

from common import MNIST_DIR, add_smoke_options, output_dir, write_result

CHILD = """
import json, resource, sys, torch
from evogan.config import build_config, load_preset
from evogan.run.engine import Evolution, evolve_run
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
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_smoke_options(parser)
    args = parser.parse_args()
    subset, generations, populations = (
        ("0:500", 1, (8,)) if args.smoke else ("0:5000", 3, (100, 1000))
    )
    common = {"data_dir": str(MNIST_DIR), "subset": subset, "progress": False,
              "generations": generations, "sample_every": 0, "checkpoint_every": 0,
              "threads": 1}  # fmt: skip
    rows = []
    for population in populations:
        for trainer in ("ga", "gradient"):
            mib = peak_mib(common | {"population": population, "trainer": trainer})
            rows.append({"trainer": trainer, "population": population, "peak_rss_mib": mib})
            print(f"{trainer:>8} population {population:>5}: peak RSS {mib:.0f} MiB")
    command = "python benchmarks/memory.py" + (" --smoke" if args.smoke else "")
    write_result("memory", {"command": command, "rows": rows}, output_dir(args))


if __name__ == "__main__":
    main()
