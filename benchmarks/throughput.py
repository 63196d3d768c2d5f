"""Throughput of the population evaluation against this machine's ceiling.

For population 100 and 1000, 50 samples per agent, the article's generator
spec and discriminator, measured in one process:

- ceiling: discriminator forward images/s at a large batch (the hot path
  cannot beat it: the discriminator dominates the cost, not the generators);
- evogan: scored samples/s of ``LocalScorer.evaluate`` (generator forward
  for every agent in one vmapped call, then the discriminator over all fakes);
- a full evogan generation (critic step + evaluation + GA tell) in seconds;
- the article's own loop (one agent at a time: 50 fakes + 50 reals, one
  discriminator fit, 50 fresh fakes + 50 reals scored), timed on a slice of
  the population and scaled to the whole population;
- for the ``subspace`` family (``--preset mnist --generator subspace``), the
  share of a generation spent building every agent's full weights
  ``theta0 + P g`` (the scored agents and the critic's pooled fakes).

Usage: python benchmarks/throughput.py [--quick] [--smoke] [--out DIR]
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import dataclass, replace

import torch

from evogan.config import build_config, load_preset
from evogan.game.critic import score
from evogan.genome import generate
from evogan.run.engine import Evolution

from common import MNIST_DIR, add_smoke_options, output_dir, write_result


@dataclass(frozen=True)
class Sizes:
    populations: tuple[int, ...]
    repeats: int
    article_agents: int  # agents the article's loop is timed on
    subset: str  # MNIST training images
    batches: tuple[int, ...]  # discriminator batch sizes of the ceiling
    subspace_population: int | None  # None: the mnist preset's


FULL = Sizes((100, 1000), 5, 100, "0:5000", (512, 1024, 2048, 4096), None)
QUICK = replace(FULL, repeats=2, article_agents=20)
SMOKE = Sizes((8,), 1, 2, "0:500", (64, 128), 8)


def best_of(repeats: int, fn) -> float:  # type: ignore[no-untyped-def]
    """Fastest of ``repeats`` timings: the least disturbed by other processes."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def article_run(population: int, subset: str) -> Evolution:
    config = build_config(
        ("article", load_preset("article")),
        ("bench", {"data_dir": str(MNIST_DIR), "subset": subset, "population": population,
                   "elitism": population // 5, "progress": False}),
    )  # fmt: skip
    return Evolution.start(config)


def evaluation_vs_ceiling(run: Evolution, sizes: Sizes) -> tuple[float, float]:
    """Evaluation samples/s and the discriminator's best images/s, timed in alternation.

    The ceiling is the fastest discriminator forward over ``sizes.batches`` (512-4096);
    alternating the two measurements exposes both to the same machine load.
    """
    population = run.state.population
    latents = torch.randn(50, run.parts.spec.latent_dim)
    model = run.parts.critic.model
    evaluator = run.parts.arena.scorer
    batches = [run.parts.data.images[:size] for size in sizes.batches]
    evaluation, forward = [], []
    with torch.no_grad():
        for _ in range(sizes.repeats):
            for images in batches:
                forward.append(len(images) / best_of(1, lambda x=images: score(model, x)))
            seconds = best_of(1, lambda: evaluator.evaluate(population, latents, model))
            evaluation.append(population.shape[0] * 50 / seconds)
    return max(evaluation), max(forward)


def article_loop_seconds(run: Evolution, agents: int) -> float:
    """The article's per-agent loop, timed on ``agents`` agents, in seconds per agent."""
    parts = run.parts
    images = parts.data.images
    start = time.perf_counter()
    for genome in run.state.population[:agents]:
        for phase in ("fit", "score"):
            z = torch.randn(50, parts.spec.latent_dim)
            with torch.no_grad():
                fakes = generate(parts.model, parts.layout, genome[None], z)[0]
            reals = images[torch.randint(len(images), (50,))]
            if phase == "fit":
                parts.critic.train_step(reals, fakes)
            else:
                logits = parts.critic.logits(torch.cat([fakes, reals]))
                float((logits[:50] < 0).float().mean() + (logits[50:] > 0).float().mean())
    return (time.perf_counter() - start) / agents


def measure(population: int, sizes: Sizes) -> dict[str, float]:
    run = article_run(population, sizes.subset)
    rate, top = evaluation_vs_ceiling(run, sizes)
    generation = best_of(max(1, sizes.repeats - 1), run.step)
    article_agents = min(sizes.article_agents, population)
    article = article_loop_seconds(run, article_agents) * population
    return {
        "population": population,
        "samples_per_agent": 50,
        "ceiling_images_per_s": top,
        "evaluation_samples_per_s": rate,
        "fraction_of_ceiling": rate / top,
        "evogan_generation_s": generation,
        "article_loop_generation_s": article,
        "article_loop_agents_timed": article_agents,
        "speedup_vs_article": article / generation,
    }


def projection_share(sizes: Sizes) -> dict[str, float]:
    """Seconds of one generation and of its weight building, for the subspace family."""
    options = {"data_dir": str(MNIST_DIR), "subset": sizes.subset, "generator": "subspace",
               "latent_dim": 16, "progress": False}  # fmt: skip
    if sizes.subspace_population is not None:
        options["population"] = sizes.subspace_population
    config = build_config(("mnist", load_preset("mnist")), ("bench", options))
    run = Evolution.start(config)
    model = run.parts.model
    agents = config.population + 1 + config.disc_batch  # scored (with the ES mean) + pooled

    def build() -> torch.Tensor:
        genomes = run.state.population[torch.arange(agents) % config.population]
        return model.theta0 + torch.vmap(lambda g: torch.mv(model.projection, g))(genomes)

    generation = best_of(sizes.repeats, run.step)
    projection = best_of(sizes.repeats, build)
    return {
        "genome_dim": float(config.genome_dim),
        "full_weights": float(len(model.theta0)),
        "agents_built": float(agents),
        "generation_s": generation,
        "projection_s": projection,
        "projection_share": projection / generation,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats, smaller slices")
    parser.add_argument("--subspace-only", action="store_true",
                        help="only the subspace share; keep the file's other rows")  # fmt: skip
    add_smoke_options(parser)
    args = parser.parse_args()
    sizes = SMOKE if args.smoke else QUICK if args.quick else FULL
    out = output_dir(args)
    if args.subspace_only:
        previous = json.loads((out / "throughput.json").read_text())
        rows, command = previous["rows"], previous["command"]
    else:
        rows = [measure(population, sizes) for population in sizes.populations]
        command = "python benchmarks/throughput.py" + (" --smoke" if args.smoke else "")
    for row in rows if not args.subspace_only else []:
        print(
            f"population {row['population']:>5}: evaluation {row['evaluation_samples_per_s']:.0f}"
            f" samples/s = {100 * row['fraction_of_ceiling']:.0f} % of the ceiling"
            f" ({row['ceiling_images_per_s']:.0f}/s); generation {row['evogan_generation_s']:.2f} s"
            f" vs article loop {row['article_loop_generation_s']:.1f} s"
            f" ({row['speedup_vs_article']:.1f}x)"
        )
    subspace = projection_share(sizes)
    print(
        f"subspace: building {subspace['agents_built']:.0f} agents' weights takes "
        f"{1000 * subspace['projection_s']:.1f} ms of a {1000 * subspace['generation_s']:.0f} ms "
        f"generation ({100 * subspace['projection_share']:.1f} %)"
    )
    result = {"command": command, "rows": rows, "subspace": subspace}
    if args.subspace_only:
        result["subspace_command"] = "python benchmarks/throughput.py --subspace-only"
    write_result("throughput", result, out)


if __name__ == "__main__":
    main()
