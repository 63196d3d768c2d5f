"""How close each generator family can come to real digits at all: the ceiling table.

For each family at its default size, the generator and one latent per image
are fitted jointly by gradient (Adam on the pixel error, the same seconds of
one thread for every family) to 1,000 training
images of the shared MNIST split, as in GLO (Bojanowski et al. 2018,
"Optimizing the latent space of generative networks"). The reconstructions
are then judged like samples (FID & co. against the held-out images). No
search can beat that figure; if a trainer's result sits far above it, the
search is the limit, not the family. The last row judges the 1,000 training
images themselves: the best any 1,000-image set can score on this scale.

Usage: python benchmarks/ceiling.py [--seconds 180] [--families mlp basis ...]
                                    [--smoke] [--out DIR]
"""

from __future__ import annotations

import argparse
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import torch

from common import MNIST_DIR, RESULTS, add_smoke_options, output_dir, write_result

IMAGES = 1000
BATCH = 100
DATA = {"dataset": "mnist", "data_dir": str(MNIST_DIR), "subset": "0:5000"}
# 8x8 digits: the evaluation classifier trains in a second instead of a minute
SMOKE_DATA = {"dataset": "digits", "subset": f"0:{IMAGES}"}
# The family's default size: the options that the presets use for MNIST.
FAMILIES: dict[str, dict[str, Any]] = {
    "mlp": {"generator": "mlp", "latent_dim": 16, "hidden": 32},
    "basis": {"preset": "mnist", "generator": "basis"},
    "pca": {"preset": "mnist", "generator": "pca"},
    "conv": {"generator": "conv", "latent_dim": 16, "channels": 8},
    "dcgan": {"generator": "dcgan", "latent_dim": 64},
    "subspace": {"generator": "subspace", "latent_dim": 16},
    "frozen": {"generator": "frozen", "latent_dim": 16},
}


def family_config(family: str, data: dict[str, str]) -> Any:
    from evogan.config import build_config, load_preset

    options = dict(FAMILIES[family])
    preset = options.pop("preset", None)
    common = data | {"threads": 1, "keep_best": 0.0}  # every image: no validation slice
    layers = [("preset", load_preset(preset))] if preset else []
    return build_config(*layers, ("family", options), ("benchmark", common))


def fit(
    family: str, seconds: float, data: dict[str, str], cache: Path, seed: int = 0
) -> dict[str, Any]:
    """GLO: generator weights and one latent per image, fitted for ``seconds``."""
    torch.set_num_threads(1)
    torch.manual_seed(seed)
    from evogan.quality.evaluate import build_evaluator
    from evogan.run.wiring import Components

    config = family_config(family, data)
    parts = Components.build(config)
    model = parts.model.train()
    real = parts.data.images[:IMAGES]
    latents = torch.nn.Parameter(torch.randn(IMAGES, parts.spec.latent_dim))
    # A latent is in one batch of ten, so it learns at ten times the weights' rate.
    groups = [{"params": list(model.parameters()), "lr": 3e-3}, {"params": [latents], "lr": 3e-2}]
    optimizer = torch.optim.Adam(groups)
    started, steps = time.perf_counter(), 0
    while time.perf_counter() - started < seconds:
        steps += 1
        index = torch.randint(IMAGES, (BATCH,))
        loss = (model(latents[index]) - real[index]).square().mean()
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
    seconds = time.perf_counter() - started
    with torch.no_grad():
        reconstructions = model(latents)
        mse = (reconstructions - real).square().mean().item()
    evaluator, _ = build_evaluator(config, cache)
    report = evaluator.evaluate(reconstructions).as_dict()
    print(f"{family}: {parts.layout.size} genes, {steps} steps in {seconds:.0f} s, "
          f"mse {mse:.4f}, FID {report['eval/fid']:.1f}", flush=True)  # fmt: skip
    return {"family": family, "genes": parts.layout.size, "steps": steps, "fit_s": seconds,
            "mse": mse, **report}  # fmt: skip


def real_row(data: dict[str, str], cache: Path) -> dict[str, Any]:
    from evogan.quality.evaluate import build_evaluator
    from evogan.run.wiring import Components

    config = family_config("basis", data)
    evaluator, _ = build_evaluator(config, cache)
    images = Components.build(config).data.images[:IMAGES]
    return {"family": "real training images", "genes": 0, **evaluator.evaluate(images).as_dict()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=None, help="180 (smoke: 0.25)")
    parser.add_argument("--families", nargs="+", default=list(FAMILIES))
    parser.add_argument("--workers", type=int, default=2)
    add_smoke_options(parser)
    args = parser.parse_args()
    seconds = args.seconds if args.seconds is not None else 0.25 if args.smoke else 180.0
    out = output_dir(args)
    # a smoke run's classifier (other training images) stays out of results/cache
    data, cache = (SMOKE_DATA, out / "cache") if args.smoke else (DATA, RESULTS / "cache")
    rows = [real_row(data, cache)]  # trains (or loads) the classifier before the workers
    with ProcessPoolExecutor(args.workers) as pool:
        futures = [pool.submit(fit, family, seconds, data, cache) for family in args.families]
        rows = [f.result() for f in futures] + rows
    families = " ".join(args.families)
    command = f"python benchmarks/ceiling.py --seconds {seconds:g} --families {families}"
    command += " --smoke" if args.smoke else ""
    write_result("ceiling", {"command": command, "images": IMAGES, "rows": rows}, out)


if __name__ == "__main__":
    main()
