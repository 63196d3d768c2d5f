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
``T(M, P) = D(P) + R(P) + E * P / M + b(P) / B``, with D the driver's work
(critic step, selection, breeding), R an actor's rebuild of the whole
population (compact only), E the scoring time per agent on one worker, b the
bytes the driver sends and B its network bandwidth. The driver becomes the
bottleneck when ``E * P / M`` falls below ``D + R + b / B``.

Islands (``--islands 2``) are timed apart: local islands step one after the
other in the driver with 2 threads, Ray islands each on an actor of its own.

Usage: python benchmarks/ray_overhead.py [--generations 10] [--population 1000]
"""

from __future__ import annotations

import argparse
import statistics
import time
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
    args = parser.parse_args()
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
    """The time-per-generation model's parts, from the 1-core rows, and its predictions."""
    local = next(r for r in rows if r["backend"] == "local" and r["cores"] == 1)
    compact = next(r for r in rows if r["backend"] == "ray compact" and r["cores"] == 1)
    per_agent = local["evaluation_seconds"] / population  # E
    driver = local["seconds_per_generation"] - local["evaluation_seconds"]  # D
    rebuild = compact.get("rebuild_seconds", 0.0)  # R
    predicted_2 = driver + rebuild + per_agent * population / 2
    measured_2 = next(r for r in rows if r["backend"] == "ray compact" and r["cores"] == 2)
    predictions = []
    for machines in (1, 2, 4, 8, 16, 32):
        transports = (("full", local["genome_bytes"]),
                      ("compact", compact["genome_bytes_per_agent"]))  # fmt: skip
        for transport, per_agent_bytes in transports:
            # full: each agent's genome once; compact: the lineage to every machine
            sent = population * per_agent_bytes * (machines if transport == "compact" else 1)
            seconds = (driver + (rebuild if transport == "compact" else 0.0)
                       + per_agent * population / machines + sent / BANDWIDTH)  # fmt: skip
            predictions.append({"machines": machines, "transport": transport,
                                "seconds_per_generation": seconds})  # fmt: skip
    return {
        "driver_seconds": driver,
        "scoring_seconds_per_agent": per_agent,
        "rebuild_seconds": rebuild,
        "bandwidth_bytes_per_s": BANDWIDTH,
        "predicted_2_workers_compact": predicted_2,
        "measured_2_workers_compact": measured_2["seconds_per_generation"],
        "predictions": predictions,
    }


if __name__ == "__main__":
    main()
