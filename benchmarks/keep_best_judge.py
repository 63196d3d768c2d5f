"""How well --keep-best's judge ranks a run's generators, against the benchmark's judge.

The keeper judges a generator by FID against a validation slice of the run's
own training images (the last fifth of MNIST 0-4999), on samples of fixed
latents; the benchmark judges by FID on 5,000 samples against held-out images
5000-9999 (quality_vs_time.py's ``eval/fid``, with its classifier cache). Each
seed trains the mnist preset with keep-best off and saves the genome the run
would return (the ES mean) every ``--every`` generations. Every saved genome
is then judged by the benchmark's judge and by the keeper's: on 1,000 samples
(its first latent batch), on a second 1,000 (the confirm pass's batch), on
the mean of the two, and on 5,000. Over the plateau (generation >=
``--plateau``), each keeper variant's Spearman rank correlation with the
benchmark's judge says how well it picks the best generator, and the sd of
the two 1,000-sample judgements' difference over sqrt(2) is one judgement's
noise. Judging is timed on one thread.

Usage: python benchmarks/keep_best_judge.py [--seeds 0 1] [--generations 6000] [--every 250]
                                            [--plateau 1500] [--workers 2]
"""

from __future__ import annotations

import argparse
import statistics
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from scipy.stats import spearmanr

from common import add_smoke_options, output_dir, write_result
from quality_vs_time import DIGITS, MNIST, method_config

# what each saved genome is judged on (names fixed, sizes in the result's "samples")
VARIANTS = ("keep/fid_first", "keep/fid_second", "keep/fid_mean", "keep/fid_large")
# --smoke: seconds on the built-in digits, three genomes judged
SMOKE = {"seeds": [0], "generations": 6, "every": 2, "plateau": 2, "workers": 1}


@dataclass(frozen=True)
class Study:
    """What every seed's run does: its length, when it saves, how many samples each judge draws."""

    generations: int
    every: int
    small: int  # the keeper's samples before 5,000 became its default
    large: int  # the keeper's samples now
    bench: int  # the benchmark's samples
    data: dict[str, Any]
    cache: Path  # the evaluation classifiers (results/cache, or a smoke run's own)

    def config(self, seed: int) -> Any:
        config = method_config("mnist", seed, None, self.generations, self.data)
        return config.replace(keep_best=0.0)  # the ES mean, judged by nothing in the run


class Snapshots:
    """A copy of the genome the run would return, every ``every`` generations."""

    def __init__(self, every: int) -> None:
        self.every = every
        self.genomes: dict[int, torch.Tensor] = {}

    def on_start(self, run: Any) -> None:
        pass

    def on_generation(self, run: Any, metrics: dict[str, float]) -> None:
        if run.generation % self.every == 0:
            self.genomes[run.generation] = run.returned_genome.clone()

    def on_end(self, run: Any, stop: dict[str, float]) -> None:
        pass


def judges(run: Any, cache: Path) -> tuple[Any, Any]:
    """The benchmark's evaluator (held-out images) and the keeper's (the run's validation slice)."""
    from evogan.quality.evaluate import build_evaluator
    from evogan.quality.keep_best import BestKeeper, hold_out

    bench, _ = build_evaluator(run.config, cache)
    # the run trains on all its images (keep_best 0), so this slice is one it trained on,
    # as keep-best's was before 2026-12-07
    return bench, BestKeeper.build(*hold_out(run.parts.data), 0.0, 1, cache).evaluator


def judge(
    run: Any, genome: torch.Tensor, study: Study, bench: Any, keeper: Any
) -> dict[str, float]:
    """One genome's FIDs by both judges, and the keeper's seconds a judgement."""
    from evogan.quality.evaluate import draw_samples
    from evogan.quality.keep_best import latents

    def keep(n: int, batch: int) -> tuple[float, float]:  # as Evolution.judge draws them
        z = latents(n, run.parts.spec.latent_dim, batch)
        images = run.samples(z.to(run.parts.device), genome).cpu()
        started = time.perf_counter()
        return keeper.fid(images), time.perf_counter() - started

    (first, small_s), (second, _), (large, large_s) = (
        keep(study.small, 0), keep(study.small, 1), keep(study.large, 0))  # fmt: skip
    # fid() alone is evaluate()'s eval/fid, bit for bit, without the distance matrices
    bench_fid = bench.fid(draw_samples(run, study.bench, genome=genome).cpu())
    return {"bench/fid": bench_fid, "keep/fid_first": first, "keep/fid_second": second,
            "keep/fid_mean": (first + second) / 2, "keep/fid_large": large,
            "time/fid_small_s": small_s, "time/fid_large_s": large_s}  # fmt: skip


def snapshot_run(config: Any, snapshots: Snapshots) -> tuple[Any, float]:
    """``config`` trained on one thread with ``snapshots`` watching; the run and its seconds."""
    torch.set_num_threads(1)
    from evogan.run.engine import Evolution, evolve_run

    started = time.time()
    run = Evolution.start(config)
    evolve_run(run, [snapshots])
    return run, time.time() - started


def one_seed(seed: int, study: Study) -> dict[str, Any]:
    snapshots = Snapshots(study.every)
    started = time.time()
    run, train_s = snapshot_run(study.config(seed), snapshots)
    bench, keeper = judges(run, study.cache)
    points = [{"generation": g} | judge(run, genome, study, bench, keeper)
              for g, genome in snapshots.genomes.items()]  # fmt: skip
    print(f"seed {seed}: {run.generation} generations in {train_s:.0f} s, "
          f"{len(points)} genomes judged in {time.time() - started - train_s:.0f} s")  # fmt: skip
    return {"seed": seed, "generations": run.generation, "train_s": train_s, "points": points}


def summary(points: list[dict[str, float]], plateau: int) -> dict[str, float]:
    """Over the plateau: each keeper variant's rank correlation with the benchmark, its noise."""
    flat = [p for p in points if p["generation"] >= plateau]
    bench = [p["bench/fid"] for p in flat]
    row = {"plateau_genomes": float(len(flat))}
    for key in VARIANTS:
        rho = spearmanr([p[key] for p in flat], bench).statistic
        row[f"spearman/{key.removeprefix('keep/fid_')}"] = float(rho)
    gaps = [p["keep/fid_first"] - p["keep/fid_second"] for p in flat]
    row["keep/noise_sd"] = statistics.stdev(gaps) / 2**0.5  # one judgement's, not the gap's
    for key in ("time/fid_small_s", "time/fid_large_s"):
        row[key] = statistics.median(p[key] for p in points)
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--generations", type=int, default=6000)
    parser.add_argument(
        "--every", type=int, default=250, help="save the genome every N generations"
    )
    parser.add_argument("--plateau", type=int, default=1500,
                        help="rank the genomes saved from this generation on")  # fmt: skip
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--name", default="keep_best_judge", help="result file results/NAME.json")
    add_smoke_options(parser)
    args = parser.parse_args()
    sizes, data = (1000, 5000, 5000), MNIST
    if args.smoke:  # the 8x8 digits, a few hundred samples a judgement
        sizes, data = (200, 400, 400), DIGITS
        vars(args).update(SMOKE)
    out = output_dir(args)
    study = Study(args.generations, args.every, *sizes, data=data, cache=out / "cache")
    torch.set_num_threads(1)
    from evogan.run.engine import Evolution

    judges(Evolution.start(study.config(args.seeds[0])), study.cache)  # both classifiers, once
    with ProcessPoolExecutor(args.workers) as pool:
        runs = list(pool.map(one_seed, args.seeds, [study] * len(args.seeds)))
    for run in runs:
        run["summary"] = summary(run["points"], args.plateau)
    command = (f"python benchmarks/keep_best_judge.py --seeds {' '.join(map(str, args.seeds))} "
               f"--generations {args.generations} --every {args.every} --plateau {args.plateau} "
               f"--workers {args.workers} --name {args.name}")  # fmt: skip
    command += " --smoke" if args.smoke else ""
    samples = {"small": study.small, "large": study.large, "bench": study.bench}
    write_result(args.name, {"command": command, "samples": samples, "runs": runs}, out)
    print_table(runs, samples)


def print_table(runs: list[dict[str, Any]], samples: dict[str, int]) -> None:
    small, large = samples["small"], samples["large"]
    print(f"Spearman against the benchmark's FID ({samples['bench']} samples), plateau genomes")
    print(f"{'seed':>4} {'n':>3} {small:>6} {f'{small}b':>6} {f'{small}x2':>6} {large:>6} "
          f"{'noise':>6} {f's@{small}':>7} {f's@{large}':>7}")  # fmt: skip
    for run in runs:
        s = run["summary"]
        rhos = " ".join(f"{s[f'spearman/{v}']:6.2f}" for v in ("first", "second", "mean", "large"))
        print(f"{run['seed']:>4} {s['plateau_genomes']:>3.0f} {rhos} {s['keep/noise_sd']:6.1f} "
              f"{s['time/fid_small_s']:7.2f} {s['time/fid_large_s']:7.2f}")  # fmt: skip


if __name__ == "__main__":
    main()
