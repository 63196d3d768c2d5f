"""How the defaults were chosen: population and samples per agent on the built-in digits.

Each setting runs for 100 s of training (one torch thread, two runs side by
side) and is judged by FID against the digits themselves (the run trains on
the whole set, so real-vs-real is 0 and uniform noise about 290), on 1000
samples of the best agent.

Usage: python benchmarks/digits_sweep.py [--seeds 0 1] [--seconds 100]
"""

from __future__ import annotations

import argparse
from concurrent.futures import ProcessPoolExecutor
from typing import Any

import torch

from common import RESULTS, write_result

SETTINGS: dict[str, dict[str, Any]] = {
    "population 100, 50 samples": {"population": 100, "samples_per_agent": 50},
    "population 50, 50 samples (default)": {"population": 50, "samples_per_agent": 50},
    "population 50, 16 samples": {"population": 50, "samples_per_agent": 16},
}


def one_run(name: str, seed: int, seconds: float) -> dict[str, Any]:
    torch.set_num_threads(1)
    from evogan.config import Config
    from evogan.engine import Evolution, evolve_run
    from evogan.quality import build_evaluator, draw_samples

    config = Config(progress=False, seed=seed, time_budget=seconds, generations=10**7,
                    sample_every=0, checkpoint_every=0, threads=1, **SETTINGS[name])  # fmt: skip
    evaluator, _ = build_evaluator(config, RESULTS / "cache")
    run = Evolution.start(config)
    result = evolve_run(run)
    report = evaluator.evaluate(draw_samples(run, 1000))
    print(f"{name}, seed {seed}: {result.generations} generations, FID {report.fid:.1f}")
    return {"setting": name, "seed": seed, "generations": result.generations} | report.as_dict()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--seconds", type=float, default=100.0)
    args = parser.parse_args()
    jobs = [(name, seed) for name in SETTINGS for seed in args.seeds]
    with ProcessPoolExecutor(2) as pool:
        rows = list(pool.map(one_run, *zip(*jobs, strict=True), [args.seconds] * len(jobs)))
    seeds = " ".join(map(str, args.seeds))
    command = f"python benchmarks/digits_sweep.py --seeds {seeds} --seconds {args.seconds:g}"
    write_result("digits_sweep", {"command": command, "rows": rows})


if __name__ == "__main__":
    main()
