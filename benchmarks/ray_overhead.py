"""Ray backend overhead and genome transport on the article's workload.

Seconds per generation at population 1000 with 50 samples per agent (the
article preset) with the local backend and with Ray on 1 and 2 workers of one
thread each, against local on the same cores (1 and 2 threads; the driver
gets as many threads as there are workers, since its critic step and the
workers' scoring take turns). Ray runs with both genome transports: full
genomes, and compact lineages that each actor rebuilds. Reported: the median
seconds per generation after warm-up, the share spent in the evaluator, and
the genome bytes sent per agent per generation.

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
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path
from typing import Any

import torch

from common import MNIST_DIR, write_result

WARMUP = 2  # generations before timing: Ray actors start, the lineage chain begins
BANDWIDTH = 125e6  # bytes/s of a 1 Gbit/s link, for the model's cluster column


def start(population: int, options: dict[str, Any]) -> Any:
    from evogan.config import build_config, load_preset
    from evogan.engine import Evolution

    common = {"data_dir": str(MNIST_DIR), "subset": "0:5000", "progress": False,
              "population": population}  # fmt: skip
    return Evolution.start(
        build_config(("preset", load_preset("article")), ("bench", common | options))
    )


def measure(population: int, generations: int, options: dict[str, Any]) -> dict[str, Any]:
    """Median seconds per generation and in the evaluator, and genome bytes per agent."""
    run = start(population, options)
    evaluator = run.parts.arena.evaluator
    inner = evaluator.evaluate
    evaluating: list[float] = []

    def timed(*args: Any) -> Any:
        began = time.perf_counter()
        result = inner(*args)
        evaluating.append(time.perf_counter() - began)
        return result

    evaluator.evaluate = timed
    torch.set_num_threads(run.parts.threads)
    seconds = []
    for _ in range(WARMUP + generations):
        began = time.perf_counter()
        run.step()
        seconds.append(time.perf_counter() - began)
    sent = getattr(evaluator, "sent", [])
    for part in (evaluator, run.parts.trainer):
        if hasattr(part, "close"):
            part.close()
    row = {
        "seconds_per_generation": statistics.median(seconds[WARMUP:]),
        # islands on Ray actors score there, not through the driver's evaluator
        "evaluation_seconds": statistics.median(evaluating[WARMUP:]) if evaluating else None,
        "genome_bytes_per_agent": statistics.median(sent[WARMUP:]) / population if sent else 0,
    }
    if getattr(run.state, "lineage", None) is not None:  # an actor's rebuild of a generation
        began = time.perf_counter()
        run.parts.trainer.rebuild(run.state.population, run.state.lineage)
        row["rebuild_seconds"] = time.perf_counter() - began
    return row | {"genome_bytes": run.state.population[0].nbytes}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--generations", type=int, default=10)
    parser.add_argument("--population", type=int, default=1000)
    parser.add_argument("--refit", type=Path, help="only recompute the model of this result")
    args = parser.parse_args()
    if args.refit:
        refit(args.refit)
        return
    settings = []
    for cores in (1, 2):
        ray = {"threads": cores, "backend": "ray", "ray_workers": cores}
        settings += [("local", cores, {"threads": cores}),
                     ("ray full", cores, ray | {"ray_transport": "full"}),
                     ("ray compact", cores, ray | {"ray_transport": "compact"})]  # fmt: skip
    # two islands of 500 agents, migrating every 2 generations: one after the other in
    # this process (2 threads), or each on an actor of its own (1 thread each)
    islands = {"islands": 2, "migration_every": 2, "migrants": 10}
    settings += [("local islands", 2, {"threads": 2} | islands),
                 ("ray islands", 2, {"threads": 1, "backend": "ray"} | islands)]  # fmt: skip
    rows = []
    for backend, cores, options in settings:
        row = {"backend": backend, "cores": cores}
        row |= measure(args.population, args.generations, options)
        rows.append(row)
        print(f"{backend:>13} on {cores} core(s): {row['seconds_per_generation']:.2f} s/gen, "
              f"{row['genome_bytes_per_agent']:.0f} genome bytes/agent")  # fmt: skip
    for row in rows:
        baseline = "local islands" if "islands" in row["backend"] else "local"
        local = next(r for r in rows if r["backend"] == baseline and r["cores"] == row["cores"])
        row["overhead"] = row["seconds_per_generation"] / local["seconds_per_generation"] - 1
    command = (f"python benchmarks/ray_overhead.py --generations {args.generations} "
               f"--population {args.population}")  # fmt: skip
    write_result("ray_overhead", {"command": command, "population": args.population,
                                  "rows": rows, "model": model(rows, args.population)})  # fmt: skip


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
