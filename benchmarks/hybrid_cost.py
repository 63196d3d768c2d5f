"""What a generation of the E-GAN hybrid costs against a gradient DCGAN step.

Both on MNIST with the dcgan family and the same critic, one thread, timed
in alternation in one process (so both see the same machine load): seconds
per generation of ``--preset egan`` (one parent, three children by one Adam
step each, scored, the critic trained) and of ``--preset dcgan`` (one critic
step, one generator step), with and without loss mutation (one child).

Usage: python benchmarks/hybrid_cost.py [--steps 20] [--smoke] [--out DIR]
"""

from __future__ import annotations

import argparse
import statistics
import time
from typing import Any

import torch

from common import MNIST_DIR, add_smoke_options, output_dir, write_result

# the egan preset's DCGAN before it moved to the mppca family (2026-12-07): the cost of
# E-GAN's three gradient steps against the DCGAN's one, on the same network
EGAN_DCGAN = {"generator": "dcgan", "latent_dim": 64}
RUNS = {
    "dcgan-gradient": ("dcgan", {}),
    "egan": ("egan", EGAN_DCGAN),
    "egan-loss-mutation": ("egan", EGAN_DCGAN | {"loss_mutation": True}),
}
WARMUP = 2  # generations left out of the median
# a narrow DCGAN on few images and batches: every run steps in a fraction of a second
SMOKE = {"subset": "0:500", "dcgan_channels": 16, "disc_batch": 16}


def start(preset: str, options: dict[str, Any], sizes: dict[str, Any]) -> Any:
    from evogan.config import build_config, load_preset
    from evogan.run.engine import Evolution

    common = {"data_dir": str(MNIST_DIR), "subset": "0:5000", "threads": 1, "progress": False}
    return Evolution.start(
        build_config(("preset", load_preset(preset)), ("bench", common | sizes | options))
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=None, help="20 (smoke: 3)")
    add_smoke_options(parser)
    args = parser.parse_args()
    steps = args.steps if args.steps is not None else 3 if args.smoke else 20
    if steps <= WARMUP:
        parser.error(f"--steps must be more than the {WARMUP} of warm-up")
    sizes = SMOKE if args.smoke else {}
    torch.set_num_threads(1)
    runs = {name: start(preset, options, sizes) for name, (preset, options) in RUNS.items()}
    times: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(steps):
        for name, run in runs.items():
            began = time.perf_counter()
            run.step()
            times[name].append(time.perf_counter() - began)
    seconds = {name: statistics.median(t[WARMUP:]) for name, t in times.items()}
    base = seconds["dcgan-gradient"]
    rows = [{"method": name, "seconds_per_generation": s, "generations_per_s": 1 / s,
             "ratio_to_dcgan_step": s / base} for name, s in seconds.items()]  # fmt: skip
    for row in rows:
        print(f"{row['method']:>20}: {row['seconds_per_generation']:.3f} s/generation "
              f"({row['generations_per_s']:.2f}/s), "
              f"{row['ratio_to_dcgan_step']:.2f}x a DCGAN step")  # fmt: skip
    command = f"python benchmarks/hybrid_cost.py --steps {steps}" + (
        " --smoke" if args.smoke else ""
    )
    write_result("hybrid_cost", {"command": command, "rows": rows}, output_dir(args))


if __name__ == "__main__":
    main()
