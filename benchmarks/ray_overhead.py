"""Ray backend overhead and genome transport on the article's workload.

Seconds per generation at population 1000 with 50 samples per agent (the
article preset) with the local backend and with Ray on 1 and 2 workers of one
thread each, against local on the same cores (1 and 2 threads; the driver
gets as many threads as there are workers, since its critic step and the
workers' scoring take turns). Ray runs with both genome transports: full
genomes, and compact lineages that each actor rebuilds. The runs of a group
(local, full, compact on the same cores) exist together and step in turns,
so that each meets the same machine: on this VM one run's generations vary
by 10-30 % from minute to minute, so runs one after the other disagreed by
more than the overhead measured. Reported: the median seconds per generation
after warm-up, the time in the evaluator, the overhead as the median of the
rounds' paired ratios, and the genome bytes sent per agent per generation.

From the measured parts a model predicts a generation on M machines:
``T(M, P) = D + E * P / M + A``, with D the driver's work (critic step,
selection, breeding), E the scoring time per agent on one worker and A what
Ray adds: on one machine, fitted from the 1-core rows (the object store's
copy of full genomes, or every actor's rebuild for compact lineages) and
checked against the 2-core rows; over a network, the bytes the driver sends
at bandwidth B (plus the rebuild for compact). The driver becomes the
bottleneck when ``E * P / M`` falls below ``D + A``.

Islands (``--islands 2``) are timed apart: local islands step one after the
other in the driver with 2 threads, Ray islands each on an actor of its own.

Usage: python benchmarks/ray_overhead.py [--generations 10] [--population 1000]
                                         [--smoke] [--out DIR]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path
from typing import Any

import torch

from common import MNIST_DIR, add_smoke_options, output_dir, write_result

WARMUP = 2  # generations before timing: Ray actors start, the lineage chain begins
BANDWIDTH = 125e6  # bytes/s of a 1 Gbit/s link, for the model's cluster column
SMOKE = {"subset": "0:500"}  # MNIST images in a smoke run (else 0:5000)


def start(population: int, options: dict[str, Any]) -> Any:
    from evogan.config import build_config, load_preset
    from evogan.run.engine import Evolution

    # the article keeps its best 20 %: 200 of 1000 agents
    common = {"data_dir": str(MNIST_DIR), "subset": "0:5000", "progress": False,
              "population": population, "elitism": population // 5}  # fmt: skip
    return Evolution.start(
        build_config(("preset", load_preset("article")), ("bench", common | options))
    )


class Timed:
    """A run, the seconds of its generations, and of its evaluator's calls."""

    def __init__(self, population: int, options: dict[str, Any]) -> None:
        self.run = start(population, options)
        self.evaluator = self.run.parts.arena.scorer
        self.seconds: list[float] = []
        self.evaluating: list[float] = []
        inner = self.evaluator.evaluate

        def timed(*args: Any) -> Any:
            began = time.perf_counter()
            result = inner(*args)
            self.evaluating.append(time.perf_counter() - began)
            return result

        self.evaluator.evaluate = timed

    def step(self) -> None:
        began = time.perf_counter()
        self.run.step()
        self.seconds.append(time.perf_counter() - began)

    def close(self) -> None:
        for part in (self.evaluator, self.run.parts.trainer):
            if hasattr(part, "close"):
                part.close()


def measure_together(
    population: int, generations: int, threads: int, settings: dict[str, dict[str, Any]]
) -> dict[str, dict[str, Any]]:
    """Runs of one group, stepped in turns (the order rotating each round), so that
    every backend meets the same machine: on this VM the same run varies by 10-30 %
    from one minute to the next. Overhead: the median of the rounds' paired ratios."""
    runs = {name: Timed(population, options) for name, options in settings.items()}
    torch.set_num_threads(threads)
    names = list(runs)
    for round_ in range(WARMUP + generations):
        for name in names[round_ % len(names) :] + names[: round_ % len(names)]:
            runs[name].step()
    baseline = runs[names[0]].seconds[WARMUP:]
    rows = {}
    for name, timed in runs.items():
        timed.close()
        seconds = timed.seconds[WARMUP:]
        sent = getattr(timed.evaluator, "sent", [])
        rows[name] = {
            "seconds_per_generation": statistics.median(seconds),
            # islands on Ray actors score there, not through the driver's evaluator
            "evaluation_seconds": (
                statistics.median(timed.evaluating[WARMUP:]) if timed.evaluating else None
            ),
            "genome_bytes_per_agent": statistics.median(sent[WARMUP:]) / population if sent else 0,
            "genome_bytes": timed.run.state.population[0].nbytes,
            "overhead": statistics.median(t / b for t, b in zip(seconds, baseline, strict=True))
            - 1,
        }
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--generations", type=int, default=None, help="10 (smoke: 1)")
    parser.add_argument("--population", type=int, default=None, help="1000 (smoke: 20)")
    parser.add_argument("--refit", type=Path, help="only recompute the model of this result")
    add_smoke_options(parser)
    args = parser.parse_args()
    if args.refit:
        refit(args.refit)
        return
    generations = args.generations or (1 if args.smoke else 10)
    population = args.population or (20 if args.smoke else 1000)
    sizes = SMOKE if args.smoke else {}
    import ray

    # one Ray for every run (logical CPUs: the runs take turns), which evogan joins;
    # workers at normal priority, as in the local Ray that evogan starts itself
    ray.init(num_cpus=16, include_dashboard=False, log_to_driver=False, configure_logging=False,
             _system_config={"worker_niceness": 0})  # fmt: skip
    groups = []
    for cores in (1, 2):
        ray_options = {"threads": cores, "backend": "ray", "ray_workers": cores}
        groups.append((cores, cores, {
            "local": {"threads": cores},
            "ray full": ray_options | {"ray_transport": "full"},
            "ray compact": ray_options | {"ray_transport": "compact"},
        }))  # fmt: skip
    # two islands of 500 agents, migrating every 2 generations: one after the other in
    # this process (2 threads), or each on an actor of its own (1 thread each)
    islands = {"islands": 2, "migration_every": 2, "migrants": min(10, population // 10)}
    groups.append((2, 2, {"local islands": {"threads": 2} | islands,
                          "ray islands": {"threads": 1, "backend": "ray"} | islands}))  # fmt: skip
    rows = []
    for cores, threads, settings in groups:
        settings = {name: options | sizes for name, options in settings.items()}
        measured = measure_together(population, generations, threads, settings)
        for backend, row in measured.items():
            rows.append({"backend": backend, "cores": cores} | row)
            print(f"{backend:>13} on {cores} core(s): {row['seconds_per_generation']:.2f} s/gen, "
                  f"overhead {row['overhead']:+.1%}", flush=True)  # fmt: skip
    ray.shutdown()
    command = (f"python benchmarks/ray_overhead.py --generations {generations} "
               f"--population {population}" + (" --smoke" if args.smoke else ""))  # fmt: skip
    write_result("ray_overhead", {"command": command, "population": population, "rows": rows,
                                  "model": model(rows, population)}, output_dir(args))  # fmt: skip


def model(rows: list[dict[str, Any]], population: int) -> dict[str, Any]:
    """The time-per-generation model's parts from the 1-core rows, its check against
    the 2-core rows, and its predictions for more machines."""

    def row(backend: str, cores: int) -> dict[str, Any]:
        return next(r for r in rows if r["backend"] == backend and r["cores"] == cores)

    local = row("local", 1)
    per_agent = local["evaluation_seconds"] / population  # E
    driver = local["seconds_per_generation"] - local["evaluation_seconds"]  # D
    # what Ray adds on one machine beyond D + E P: full genomes through the object store,
    # or (compact) every actor's rebuild of the population
    added = {t: row(f"ray {t}", 1)["seconds_per_generation"] - local["seconds_per_generation"]
             for t in ("full", "compact")}  # fmt: skip
    check = {t: {"predicted": driver + per_agent * population / 2 + added[t],
                 "measured": row(f"ray {t}", 2)["seconds_per_generation"]}
             for t in added}  # fmt: skip
    genome_bytes = local["genome_bytes"]
    lineage_bytes = row("ray compact", 1)["genome_bytes_per_agent"]
    predictions = []
    for machines in (1, 2, 4, 8, 16, 32):
        # over a network: full genomes once per agent, the lineage once per machine
        full = driver + per_agent * population / machines + population * genome_bytes / BANDWIDTH
        compact = (driver + added["compact"] + per_agent * population / machines
                   + machines * population * lineage_bytes / BANDWIDTH)  # fmt: skip
        predictions += [{"machines": machines, "transport": "full", "seconds_per_generation": full},
                        {"machines": machines, "transport": "compact",
                         "seconds_per_generation": compact}]  # fmt: skip
    return {
        "driver_seconds": driver,
        "scoring_seconds_per_agent": per_agent,
        "ray_added_seconds": added,
        "bandwidth_bytes_per_s": BANDWIDTH,
        "check_2_workers": check,
        "predictions": predictions,
    }


def refit(path: Path) -> None:
    """Recompute the model of a saved result (after a change to the model alone)."""
    result = json.loads(path.read_text())
    result["model"] = model(result["rows"], result["population"])
    path.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
