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

Every row carries a profile (medians per generation): the driver's critic
step, its scoring call (for Ray: what sending the genomes or lineages costs,
and the wait beyond the busiest actor's own work) and the rest (selection and
breeding; of it, the driver's breeding, and the rows it bred: with compact
lineages only those it reads), and the seconds the busiest actor
worked, and of them breeding (compact lineages). It says where Ray's
overhead goes. ``actor_seconds`` and ``actor_breeding_seconds`` give each
actor's medians.

The driver keeps the memory it frees, as ``evogan train`` and the actors do
(``evogan.memory``), so that neither side faults its buffers in again each
generation; ``--caller-malloc`` leaves it as glibc sets it (the library call's
case). Each Ray row gives its actors' peak resident memory, the result the
driver's: what keeping costs.

``--nodes N`` runs the same backends on a Ray cluster of N nodes on this
machine (``ray.cluster_utils.Cluster``: a raylet and an object store each, a
logical CPU for each Ray run of a group; the driver on a head node without
CPUs), so that genomes and island states really move between object stores;
written as ``ray_nodes.json``, with the nodes each run's actors landed on,
the bytes that cross between nodes per agent and generation and the transfer
rate they imply (the model's network term).

``--cap-mbit M`` (root) puts that cluster across two network namespaces: the
head and the driver in one, the worker nodes in the other, the link between
them capped at M Mbit/s with ``tc`` (0: uncapped); ``benchmarks/netns.py``
sets it up and removes it. The model's network term then charges the cap's
bandwidth; written as ``ray_nodes_netns_{M}mbit.json``.

``--cores N`` runs only the group of N cores (local, full, compact; no islands);
``--islands-only`` only the islands.

Usage: python benchmarks/ray_overhead.py [--generations 10] [--population 1000]
                                         [--nodes N [--cap-mbit M]] [--cores N]
                                         [--islands-only]
                                         [--caller-malloc] [--smoke] [--out DIR]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from evogan.memory import keep_freed_memory

import netns
from common import MNIST_DIR, add_smoke_options, output_dir, write_result

WARMUP = 2  # generations before timing: Ray actors start, the lineage chain begins
BANDWIDTH = 125e6  # bytes/s of a 1 Gbit/s link, for the model's cluster column
SMOKE = {"subset": "0:500"}  # MNIST images in a smoke run (else 0:5000)
RAY_RUNS = 2  # Ray runs in a group (full and compact), each with an actor on every node
STORE_BYTES = 2 * 1024**3  # object store of each node with --nodes (Ray's test default: 150 MiB)
PHASES: defaultdict[str, float] = defaultdict(float)  # seconds of the generation being timed


def timing(phase: str, method: Callable[..., Any]) -> Callable[..., Any]:
    """``method``, adding its seconds to ``PHASES[phase]`` (calls inside it not twice)."""

    def timed(*args: Any, **kwargs: Any) -> Any:
        if PHASES[f"in {phase}"]:
            return method(*args, **kwargs)
        PHASES[f"in {phase}"], began = 1, time.perf_counter()
        try:
            return method(*args, **kwargs)
        finally:
            PHASES[phase] += time.perf_counter() - began
            PHASES[f"in {phase}"] = 0

    return timed


def counting(breed: Callable[..., Any]) -> Callable[..., Any]:
    """``breed``, adding the rows it breeds to ``PHASES["rows bred"]``."""

    def counted(params: Any, parents: Any, lineage: Any, rows: Any = None) -> Any:
        PHASES["rows bred"] += len(lineage) if rows is None else len(rows)
        return breed(params, parents, lineage, rows)

    return counted


def busy_actor(cls: type, methods: list[str]) -> type:
    """``cls`` (a Ray actor class) that counts the seconds its ``methods`` run."""

    class Busy(cls):  # type: ignore[valid-type, misc]
        busy, depth, breeding, faults = 0.0, 0, 0.0, 0

        def __init__(self, *args: Any) -> None:
            super().__init__(*args)
            rebuild = vars(self).get("rebuild")  # a shard worker's: time its breeding
            if rebuild is not None:

                def timed_rebuild(*args: Any) -> Any:
                    began = time.perf_counter()
                    try:
                        return rebuild(*args)
                    finally:
                        self.breeding += time.perf_counter() - began

                self.rebuild = timed_rebuild

        def take_busy(self) -> tuple[float, float, int]:
            """Seconds worked and (of them) bred since the last call, and page faults."""
            busy, breeding, faults = self.busy, self.breeding, self.faults
            self.busy, self.breeding, self.faults = 0.0, 0.0, 0
            return busy, breeding, faults

        def node(self) -> str:
            import ray

            return str(ray.get_runtime_context().get_node_id())

        def peak_rss(self) -> float:
            return peak_rss_mb()

    def timed(method: Callable[..., Any]) -> Callable[..., Any]:
        def run(self: Any, *args: Any, **kwargs: Any) -> Any:
            self.depth, began, faulted = self.depth + 1, time.perf_counter(), page_faults()
            try:
                return method(self, *args, **kwargs)
            finally:
                self.depth -= 1
                self.busy += 0.0 if self.depth else time.perf_counter() - began
                self.faults += 0 if self.depth else page_faults() - faulted

        return run

    for name in methods:
        setattr(Busy, name, timed(getattr(cls, name)))
    return Busy


def peak_rss_mb() -> float:
    """This process' peak resident memory (MB): what keeping freed memory costs."""
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def page_faults() -> int:
    """This process' page faults so far: memory freed to the system and touched again
    costs one each 4 KiB (a worker that re-faulted its scoring buffers was 10 % slower)."""
    import resource

    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_minflt + usage.ru_majflt


def instrument() -> None:
    """Time the driver's critic step and scoring calls, what sending to actors costs,
    and the actors' own work (their classes, as evogan creates them)."""
    from evogan.distributed import islands, scorer
    from evogan.game.arena import Arena
    from evogan.trainers import ga

    Arena.train_critic = timing("critic", Arena.train_critic)  # type: ignore[method-assign]
    # the driver's (tell looks it up each call, and a lazily bred generation holds it)
    ga.breed = timing("breeding", counting(ga.breed))
    scorer.Payload.send = timing("send", scorer.Payload.send)  # type: ignore[method-assign]
    scorer.ShardWorker = busy_actor(scorer.ShardWorker,  # type: ignore[misc]
                                    ["evaluate", "evaluate_whole", "evaluate_bred"])  # fmt: skip
    islands.IslandWorker = busy_actor(islands.IslandWorker, ["advance"])  # type: ignore[misc]


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

        def timed(*args: Any, **kwargs: Any) -> Any:
            began = time.perf_counter()
            result = inner(*args, **kwargs)
            self.evaluating.append(time.perf_counter() - began)
            PHASES["scoring"] += self.evaluating[-1]  # islands: one call per island
            return result

        self.evaluator.evaluate = timed
        self.phases: list[dict[str, float]] = []
        self.actors: list[list[tuple[float, float, int]]] = []  # a generation's (worked, bred,
        # page faults) of each actor
        self.actor_nodes = 0  # nodes the run's actors are on

    def step(self) -> None:
        PHASES.clear()
        began, faulted = time.perf_counter(), page_faults()
        self.run.step()
        self.seconds.append(time.perf_counter() - began)
        phases = {k: v for k, v in PHASES.items() if not k.startswith("in ")}
        phases["driver_page_faults"] = page_faults() - faulted
        actors = self.actor_seconds()
        self.actors.append(actors)
        busy = max(actors, default=(0.0, 0.0, 0))
        breeding = max((b for _, b, _ in actors), default=0.0)
        self.phases.append(phases | {"actor": busy[0], "actor_breeding": breeding,
                                     "actor_page_faults": busy[2]})  # fmt: skip

    def ray_actors(self) -> list[Any]:
        """The run's Ray actors: its evaluator's, or its islands'."""
        pools = [self.evaluator, getattr(self.run.parts.trainer, "runner", None)]
        return [actor for pool in pools for actor in getattr(pool, "actors", [])]

    def actor_seconds(self) -> list[tuple[float, float, int]]:
        """Seconds each of the run's actors worked in this generation, bred, and faults."""
        actors = self.ray_actors()
        if not actors:
            return []
        import ray

        self.actor_nodes = len(set(ray.get([actor.node.remote() for actor in actors])))
        return list(ray.get([actor.take_busy.remote() for actor in actors]))

    def per_actor(self) -> dict[str, list[float]]:
        """Each actor's median seconds worked and bred a generation, after warm-up."""
        timed = [row for row in self.actors[WARMUP:] if row]
        if not timed or len({len(row) for row in timed}) != 1:
            return {}
        return {
            f"actor_{what}seconds": [statistics.median(row[i][k] for row in timed)
                                     for i in range(len(timed[0]))]
            for k, what in ((0, ""), (1, "breeding_"))
        } | {"actor_page_faults": [statistics.median(row[i][2] for row in timed)
                                   for i in range(len(timed[0]))]}  # fmt: skip

    def profile(self) -> dict[str, float]:
        """Medians after warm-up: the driver's critic step, scoring call (sending, and
        the wait beyond the busiest actor), the rest (selection, breeding), the actor."""
        rows = []
        for seconds, phases in list(zip(self.seconds, self.phases, strict=True))[WARMUP:]:
            critic, send, actor, breeding = (
                phases.get(k, 0.0) for k in ("critic", "send", "actor", "actor_breeding")
            )
            scoring = phases.get("scoring", 0.0)  # none: islands that score on actors
            beyond = max(0.0, scoring - send - actor) if actor else 0.0
            rows.append({"critic": critic, "scoring_call": scoring, "sending": send,
                         "waiting_beyond_actor": beyond, "rest": seconds - critic - scoring,
                         "driver_breeding": phases.get("breeding", 0.0),
                         "driver_rows_bred": phases.get("rows bred", 0.0),
                         "busiest_actor": actor, "busiest_actor_breeding": breeding,
                         "driver_page_faults": phases["driver_page_faults"],
                         "busiest_actor_page_faults": phases["actor_page_faults"]})  # fmt: skip
        return {key: statistics.median(row[key] for row in rows) for key in rows[0]}

    def actors_peak_rss(self) -> list[float]:
        """Each of the run's actors' peak resident memory (MB)."""
        if not self.ray_actors():
            return []
        import ray

        return list(ray.get([actor.peak_rss.remote() for actor in self.ray_actors()]))

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
        actors_rss = timed.actors_peak_rss()
        timed.close()
        seconds = timed.seconds[WARMUP:]
        sent = getattr(timed.evaluator, "sent", [])
        runner = getattr(timed.run.parts.trainer, "runner", None)
        # what crosses between machines a generation: genomes or lineages to the actors,
        # and (islands) what the driver reads back and what it sends (both amortised:
        # the first generation sends whole states, some generations bring full copies)
        received = getattr(runner, "received", [])[WARMUP:]
        moved = (
            (statistics.median(sent[WARMUP:]) if sent else 0)
            + (statistics.fmean(received) if received else 0)
            + sum(getattr(runner, "sent", [])) / len(timed.seconds)
        )
        rows[name] = {
            "network_bytes_per_agent": moved / population,
            "network_bytes_per_generation": moved,
            # islands: bytes read back per generation, and sent (per generation; before
            # 414341d, per state put in the store)
            "bytes_received": getattr(runner, "received", []),
            "bytes_sent": getattr(runner, "sent", []),
            "actor_nodes": timed.actor_nodes,
            "actor_peak_rss_mb": actors_rss,
            "profile": timed.profile(),
            "seconds_per_generation": statistics.median(seconds),
            # islands on Ray actors score there, not through the driver's evaluator
            "evaluation_seconds": (
                statistics.median(timed.evaluating[WARMUP:]) if timed.evaluating else None
            ),
            "genome_bytes_per_agent": statistics.median(sent[WARMUP:]) / population if sent else 0,
            "genome_bytes": timed.run.state.population[0].nbytes,
            "overhead": statistics.median(t / b for t, b in zip(seconds, baseline, strict=True))
            - 1,
        } | timed.per_actor()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--generations", type=int, default=None, help="10 (smoke: 1)")
    parser.add_argument("--population", type=int, default=None, help="1000 (smoke: 20)")
    parser.add_argument("--nodes", type=int, default=0,
                        help="a Ray cluster of N one-CPU nodes on this machine")  # fmt: skip
    parser.add_argument("--cap-mbit", type=int, default=None,
                        help="with --nodes: the nodes across two network namespaces, "
                             "the link capped at this many Mbit/s (0: uncapped; root)")  # fmt: skip
    parser.add_argument("--joined", help=argparse.SUPPRESS)  # --cap-mbit's cluster, inside
    parser.add_argument("--cores", type=int, choices=(1, 2),
                        help="only this group of cores (no islands, no model)")  # fmt: skip
    parser.add_argument("--islands-only", action="store_true",
                        help="only the islands (local and on Ray actors; no model)")  # fmt: skip
    parser.add_argument("--caller-malloc", action="store_true",
                        help="leave the driver's malloc as glibc sets it (as evogan.evolve "
                             "does), not as evogan train sets it")  # fmt: skip
    parser.add_argument("--refit", type=Path, help="only recompute the model of this result")
    add_smoke_options(parser)
    args = parser.parse_args()
    if args.refit:
        refit(args.refit)
        return
    if args.cap_mbit is not None and args.joined is None:
        sys.exit(across_namespaces(parser, args))
    generations = args.generations or (1 if args.smoke else 10)
    population = args.population or (20 if args.smoke else 1000)
    sizes = SMOKE if args.smoke else {}
    import ray

    # the driver keeps its freed memory as `evogan train` does (its actors do too), so
    # neither local nor Ray faults its buffers in again; --caller-malloc: glibc's own
    kept = not args.caller_malloc and keep_freed_memory()
    instrument()
    cluster = start_ray(args.nodes, args.joined)
    link = netns.probe(ray) if args.joined else None  # the capped link's rate through Ray
    if link:
        print(f"link: {link['bytes_per_s'] / 1e6:.0f} MB/s", flush=True)
    rows = []
    found = groups(args.nodes, population, args.cores)
    for cores, threads, settings in found[-1:] if args.islands_only else found:
        settings = {name: options | sizes for name, options in settings.items()}
        measured = measure_together(population, generations, threads, settings)
        for backend, row in measured.items():
            rows.append({"backend": backend, "cores": cores} | row)
            print(f"{backend:>13} on {cores} core(s): {row['seconds_per_generation']:.2f} s/gen, "
                  f"overhead {row['overhead']:+.1%}; {row['profile']}", flush=True)  # fmt: skip
    ray.shutdown()
    if cluster is not None:
        cluster.shutdown()
    command = (f"python benchmarks/ray_overhead.py --generations {generations} "
               f"--population {population}" + (f" --nodes {args.nodes}" if args.nodes else "")
               + (f" --cap-mbit {args.cap_mbit}" if args.cap_mbit is not None else "")
               + (f" --cores {args.cores}" if args.cores else "")
               + (" --islands-only" if args.islands_only else "")
               + (" --caller-malloc" if args.caller_malloc else "")
               + (" --smoke" if args.smoke else ""))  # fmt: skip
    result = {"command": command, "population": population, "rows": rows,
              "driver_keeps_freed_memory": kept, "driver_peak_rss_mb": peak_rss_mb()}  # fmt: skip
    if args.nodes:
        # the model charges the bytes at the link's cap, else at 1 Gbit/s
        bandwidth = args.cap_mbit * 1e6 / 8 if args.cap_mbit else BANDWIDTH
        result |= {"nodes": args.nodes, "cap_mbit": args.cap_mbit, "link_probe": link,
                   "bandwidth_bytes_per_s": bandwidth,
                   "network": network(rows, population, bandwidth)}  # fmt: skip
    elif not args.cores and not args.islands_only:
        result |= {"model": model(rows, population)}
    name = "ray_nodes" if args.nodes else f"ray_overhead{f'_{args.cores}cores' * bool(args.cores)}"
    if args.cap_mbit is not None:
        name += f"_netns_{args.cap_mbit}mbit" if args.cap_mbit else "_netns_uncapped"
    name += "_islands" * args.islands_only
    write_result(name, result, output_dir(args))


def across_namespaces(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    """This run again inside a cluster across two network namespaces (``netns``)."""
    if args.nodes < 1:
        parser.error("--cap-mbit needs --nodes N")
    try:
        return netns.run_inside(args.nodes, args.cap_mbit, sys.argv, cpus=RAY_RUNS,
                                store_bytes=STORE_BYTES)  # fmt: skip
    except netns.NetnsError as err:
        print(f"ray_overhead.py: {err}", file=sys.stderr)
        return 2


def start_ray(nodes: int, joined: str | None = None) -> Any:
    """One Ray for every run (logical CPUs: the runs take turns), which evogan joins:
    one node, a ``Cluster`` of ``nodes`` nodes and a head without CPUs, or (``joined``)
    such a cluster across network namespaces, already up. Workers at normal priority,
    as in the local Ray that evogan starts itself."""
    import ray

    if joined:
        ray.init(address=joined, log_to_driver=False, configure_logging=False)
        netns.wait_for_nodes(ray, nodes)
        return None
    quiet = {"include_dashboard": False, "_system_config": {"worker_niceness": 0}}
    if not nodes:
        ray.init(
            address="local", num_cpus=16, log_to_driver=False, configure_logging=False, **quiet
        )
        return None
    import os
    import tempfile

    from ray.cluster_utils import Cluster

    # the cluster's sessions and bootstrap file in a private directory: a plain
    # ray.init() elsewhere on the machine must not find (and join) this cluster
    os.environ["RAY_TMPDIR"] = tempfile.mkdtemp(prefix="evogan-nodes-", dir="/tmp")
    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 0,
                      "object_store_memory": STORE_BYTES} | quiet)  # fmt: skip
    for _ in range(nodes):  # a logical CPU for each Ray run of a group (they take turns)
        cluster.add_node(num_cpus=RAY_RUNS, object_store_memory=STORE_BYTES)
    cluster.wait_for_nodes()
    ray.init(address=cluster.address, log_to_driver=False, configure_logging=False)
    return cluster


def groups(
    nodes: int, population: int, only: int | None = None
) -> list[tuple[int, int, dict[str, dict[str, Any]]]]:
    """(cores, driver threads, runs) of each group: local, Ray with full genomes and with
    compact lineages on 1 and 2 cores (or the N nodes), then islands, one per core
    (node), migrating every 2 generations: one after the other in this process, or
    each on an actor of its own (1 thread each). ``only``: the group of that many cores."""
    found = []
    for cores in (nodes,) if nodes else (only,) if only else (1, 2):
        ray_options = {"threads": cores, "backend": "ray", "ray_workers": cores}
        found.append((cores, cores, {
            "local": {"threads": cores},
            "ray full": ray_options | {"ray_transport": "full"},
            "ray compact": ray_options | {"ray_transport": "compact"},
        }))  # fmt: skip
    if only:
        return found
    k = nodes or 2
    islands = {"islands": k, "migration_every": 2, "migrants": min(10, population // 10)}
    found.append((k, k, {"local islands": {"threads": k} | islands,
                         "ray islands": {"threads": 1, "backend": "ray"} | islands}))  # fmt: skip
    return found


def network(
    rows: list[dict[str, Any]], population: int, bandwidth: float = BANDWIDTH
) -> list[dict[str, Any]]:
    """The model's network term against the cluster: per Ray row, the bytes moved
    between nodes per generation, the seconds beyond the busiest actor's work (sending,
    waiting; islands: all the driver waits beyond it), the rate that implies, and what
    the model charges for the same bytes at ``bandwidth`` (bytes/s)."""
    found = []
    for row in rows:
        if not row["backend"].startswith("ray"):
            continue
        moved = row["network_bytes_per_agent"] * population
        p = row["profile"]
        beyond = (p["sending"] + p["waiting_beyond_actor"] if row["backend"] != "ray islands"
                  else p["rest"] - p["busiest_actor"])  # fmt: skip
        found.append({"backend": row["backend"], "bytes_per_generation": moved,
                      "seconds_beyond_actor": beyond,
                      "implied_bytes_per_s": moved / beyond if beyond > 0 else None,
                      "model_seconds_at_bandwidth": moved / bandwidth})  # fmt: skip
    return found


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
