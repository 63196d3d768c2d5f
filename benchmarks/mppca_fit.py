"""The mppca family's fit alone, before any evolution: FID by clusters and sharpness.

The mnist preset's generator starts as a mixture of probabilistic PCA fitted
to its training images (k-means, then each cluster's directions); its genes
are offsets from that fit. This script draws the zero genome (the fit
itself) for each ``--clusters`` and each stroke sharpness (the factor on the
deviation from the mean image before the ``tanh``), and judges it twice: by
keep-best's judge, FID against the validation slice of the training images
(MNIST 4000-4999 since 2026-12-07: held out of the fit, as in a run with
--keep-best; before, a slice of the images fitted), where the family's
SHARPEN was chosen, and by the
benchmark's judge, FID & co. on 5,000 samples against held-out images
5000-9999 (quality_vs_time.py's ``eval/fid``). What evolution adds is then
quality_vs_time.py's figure minus this one.

Usage: python benchmarks/mppca_fit.py [--components 64] [--clusters 16 32 64 128]
                                     [--sharpness 1.25 1.5 1.75 2] [--kmeans-seeds 0]
                                     [--latent-seeds 0] [--name mppca_fit]
"""

from __future__ import annotations

import argparse
import itertools
import math
import time
from pathlib import Path
from typing import Any

import torch

from common import RESULTS, add_smoke_options, output_dir, write_result
from quality_vs_time import DIGITS, MNIST, method_config

SAMPLES = 5000
SMOKE = {"clusters": [4], "sharpness": [1.75], "samples": 200}


def judges(data: dict[str, Any], cache: Path) -> tuple[Any, Any]:
    """The benchmark's evaluator and keep-best's (its validation slice)."""
    from evogan.quality.evaluate import build_evaluator
    from evogan.quality.keep_best import BestKeeper
    from evogan.run.wiring import Components

    config = method_config("mnist", 0, None, data=data)
    bench, _ = build_evaluator(config, cache)
    parts = Components.build(config)  # keep-best's slice, held out of the fit as in a run
    assert parts.validation is not None
    keeper = BestKeeper.build(parts.data, parts.validation, 60.0, SAMPLES, cache)
    return bench, keeper.evaluator


def fit_rows(
    components: int,
    clusters: int,
    sharpness: list[float],
    samples: int,
    data: dict[str, Any],
    judged: Any,
    kmeans_seed: int = 0,
    latent_seeds: tuple[int, ...] = (0,),
) -> list[dict[str, Any]]:
    from evogan.networks import mppca
    from evogan.networks.mppca import SHARPEN
    from evogan.run.wiring import Components

    mppca.KMEANS_SEED = kmeans_seed  # a module constant: runs always fit with seed 0

    bench, validation = judged
    config = method_config("mnist", 0, None, data=data)
    config = config.replace(components=components, clusters=clusters)
    started = time.perf_counter()
    parts = Components.build(config)  # loads the images and fits the mixture
    model = parts.model.eval()
    build_s = time.perf_counter() - started
    rows = []
    for sharp, latent_seed in itertools.product(sharpness, latent_seeds):
        z = torch.randn(samples, parts.spec.latent_dim,
                        generator=torch.Generator().manual_seed(latent_seed))  # fmt: skip
        with torch.no_grad():
            model.sharpness.fill_(math.log(sharp / SHARPEN))
            images = model(z)
        report = bench.evaluate(images).as_dict()
        row = {"components": components, "clusters": clusters, "sharpness": sharp,
               "kmeans_seed": kmeans_seed, "latent_seed": latent_seed, "genes": parts.layout.size,
               "build_s": build_s, "validation/fid": validation.fid(images), **report}  # fmt: skip
        print(f"components {components} clusters {clusters} sharpness {sharp:g} "
              f"k-means seed {kmeans_seed} latent seed {latent_seed}: validation FID "
              f"{row['validation/fid']:.1f}, benchmark FID {report['eval/fid']:.1f}",
              flush=True)  # fmt: skip
        rows.append(row)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--components", type=int, nargs="+", default=[64])
    parser.add_argument("--clusters", type=int, nargs="+", default=[16, 32, 64, 128])
    parser.add_argument("--sharpness", type=float, nargs="+", default=[1.25, 1.5, 1.75, 2.0])
    parser.add_argument("--kmeans-seeds", type=int, nargs="+", default=[0],
                        help="k-means++ seeds to fit with (a run uses 0)")  # fmt: skip
    parser.add_argument("--latent-seeds", type=int, nargs="+", default=[0],
                        help="seeds of the 5,000 judged latents (quality_vs_time.py draws "
                             "from 12345)")  # fmt: skip
    parser.add_argument("--name", default="mppca_fit", help="result file results/NAME.json")
    add_smoke_options(parser)
    args = parser.parse_args()
    samples = SAMPLES
    if args.smoke:
        args.clusters, args.sharpness, samples = (SMOKE[k] for k in ("clusters", "sharpness",
                                                                      "samples"))  # fmt: skip
    out = output_dir(args)
    data, cache = (DIGITS, out / "cache") if args.smoke else (MNIST, RESULTS / "cache")
    torch.set_num_threads(2)
    judged = judges(data, cache)
    rows = [row for seed in args.kmeans_seeds for c in args.components for k in args.clusters
            for row in fit_rows(c, k, args.sharpness, samples, data, judged, seed,
                                tuple(args.latent_seeds))]  # fmt: skip
    command = "python benchmarks/mppca_fit.py --components {} --clusters {} --sharpness {}".format(
        " ".join(map(str, args.components)), " ".join(map(str, args.clusters)),
        " ".join(f"{s:g}" for s in args.sharpness),
    )  # fmt: skip
    if args.kmeans_seeds != [0]:
        command += " --kmeans-seeds " + " ".join(map(str, args.kmeans_seeds))
    if args.latent_seeds != [0]:
        command += " --latent-seeds " + " ".join(map(str, args.latent_seeds))
    command += f" --name {args.name}" if args.name != "mppca_fit" else ""
    command += " --smoke" if args.smoke else ""
    write_result(args.name, {"command": command, "samples": samples, "rows": rows}, out)


if __name__ == "__main__":
    main()
