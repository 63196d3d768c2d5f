"""How the defaults were chosen: population and samples per agent on the built-in digits.

Each setting runs for 100 s of training (one torch thread, two runs side by
side) and is judged by FID against the digits themselves (the run trains on
the whole set, so real-vs-real is 0 and uniform noise about 290), on 1000
samples of the best agent.

``--sweep demo`` compares trainers and fitnesses for `make demo` instead
(150 s each): what draws the most digit classes, by the class entropy of the
samples (ln 10 = 2.30 is every class equally often).

Usage: python benchmarks/digits_sweep.py [--seeds 0 1] [--seconds 100] [--smoke] [--out DIR]
       python benchmarks/digits_sweep.py --sweep demo --seconds 150 --name demo_sweep
"""

from __future__ import annotations

import argparse
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import torch

from common import RESULTS, add_smoke_options, output_dir, write_result

SETTINGS: dict[str, dict[str, Any]] = {
    "population 100, 50 samples": {"population": 100, "samples_per_agent": 50},
    "population 50, 50 samples (default)": {"population": 50, "samples_per_agent": 50},
    "population 50, 16 samples": {"population": 50, "samples_per_agent": 16},
}
ANNEALED_ES = {"trainer": "es", "es_sigma_final": 0.2, "es_lr_final": 0.04, "es_beta1": 0.5}
DEMO_SETTINGS: dict[str, dict[str, Any]] = {
    "ga (the defaults)": {},
    "ga, features fitness": {"fitness": "features"},
    "es annealed": ANNEALED_ES,
    "es annealed, features fitness": ANNEALED_ES | {"fitness": "features"},
    "es annealed, mmd fitness": ANNEALED_ES | {"fitness": "mmd"},
    "ga, mmd fitness": {"fitness": "mmd"},
}
SMOKE_SETTINGS: dict[str, dict[str, Any]] = {
    "population 8, 8 samples": {"population": 8, "samples_per_agent": 8},
    "population 4, 4 samples": {"population": 4, "samples_per_agent": 4},
}
SAMPLES = 1000  # of the best agent, judged by FID


def one_run(
    name: str, options: dict[str, Any], seed: int, seconds: float, cache: Path
) -> dict[str, Any]:
    torch.set_num_threads(1)
    from evogan.config import Config
    from evogan.quality.evaluate import build_evaluator, draw_samples
    from evogan.run.engine import Evolution, evolve_run

    config = Config(progress=False, seed=seed, time_budget=seconds, generations=10**7,
                    sample_every=0, checkpoint_every=0, threads=1, **options)  # fmt: skip
    evaluator, _ = build_evaluator(config, cache)
    run = Evolution.start(config)
    result = evolve_run(run)
    report = evaluator.evaluate(draw_samples(run, SAMPLES))
    print(
        f"{name}, seed {seed}: {result.generations} generations, FID {report.fid:.1f}, "
        f"class entropy {report.class_entropy:.2f}"
    )
    return {"setting": name, "seed": seed, "generations": result.generations} | report.as_dict()


def warm_classifier(cache: Path) -> None:
    """Train (or load) the evaluation classifier once, before two workers both train it."""
    from evogan.config import Config
    from evogan.quality.evaluate import build_evaluator

    build_evaluator(Config(), cache)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=None, help="0 1 (smoke: 0)")
    parser.add_argument("--seconds", type=float, default=None, help="100 (smoke: 1)")
    parser.add_argument("--sweep", choices=["population", "demo"], default="population")
    parser.add_argument("--name", default="digits_sweep", help="result file results/NAME.json")
    add_smoke_options(parser)
    args = parser.parse_args()
    seeds = args.seeds or ([0] if args.smoke else [0, 1])
    seconds = args.seconds if args.seconds is not None else 1.0 if args.smoke else 100.0
    settings = SMOKE_SETTINGS if args.smoke else SETTINGS
    if args.sweep == "demo" and not args.smoke:
        settings = DEMO_SETTINGS
    out = output_dir(args)
    # a smoke run's classifier stays out of results/cache
    cache = out / "cache" if args.smoke else RESULTS / "cache"
    warm_classifier(cache)
    jobs = [(name, options, seed, seconds, cache) for name, options in settings.items()
            for seed in seeds]  # fmt: skip
    with ProcessPoolExecutor(2) as pool:
        rows = list(pool.map(one_run, *zip(*jobs, strict=True)))
    command = f"python benchmarks/digits_sweep.py --seeds {' '.join(map(str, seeds))} "
    command += f"--seconds {seconds:g} --sweep {args.sweep} --name {args.name}"
    command += " --smoke" if args.smoke else ""
    write_result(args.name, {"command": command, "rows": rows}, out)


if __name__ == "__main__":
    main()
