"""The best generator on disk: ``safetensors`` weights plus the spec to rebuild it.

``load_generator(run_dir)`` gives back an ordinary ``torch.nn.Module``;
``sample(generator, n)`` draws images from it.
"""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from evogan.errors import EvoganError
from evogan.networks import Generator, GeneratorSpec, LayerSpec, build_generator

WEIGHTS = "generator.safetensors"
SPEC = "generator.json"
# What damaged files raise on the way: bad JSON, JSON of the wrong shape (a list,
# an int too big for C), a spec the registry refuses, weights that do not fit.
CORRUPT = (
    ValueError, TypeError, KeyError, AttributeError, OverflowError, RecursionError,
    RuntimeError, SafetensorError,
)  # fmt: skip


def save_generator(generator: Generator, directory: Path) -> Path:
    weights = {name: p.detach().contiguous().cpu() for name, p in generator.named_parameters()}
    weights |= {name: b.contiguous().cpu() for name, b in generator.fixed_state().items()}
    path = directory / WEIGHTS
    save_file(weights, str(path.with_suffix(".tmp")))
    os.replace(path.with_suffix(".tmp"), path)
    (directory / SPEC).write_text(json.dumps(dataclasses.asdict(generator.spec), indent=2) + "\n")
    return path


def load_generator(directory: Path) -> Generator:
    directory = Path(directory)
    for name in (WEIGHTS, SPEC):
        if not (directory / name).is_file():
            raise EvoganError(f"{directory}: no {name} (is this an evogan run directory?)")
    try:
        raw = json.loads((directory / SPEC).read_text())
        network = raw.pop("network")
        spec = GeneratorSpec(
            **raw, network=tuple(LayerSpec(**layer) for layer in network) if network else None
        )
        generator = build_generator(spec)
        generator.load_state_dict(load_file(str(directory / WEIGHTS)))
    except CORRUPT as err:
        details = " ".join(str(err).split())  # load_state_dict lists its keys on many lines
        raise EvoganError(f"{directory}: corrupt generator files ({details})") from None
    return generator.eval()


@torch.no_grad()
def sample(generator: Generator, n: int, *, seed: int = 0) -> torch.Tensor:
    """``n`` images ``[n, 1, H, W]`` in [-1, 1] from latents drawn with ``seed``."""
    z = torch.randn(n, generator.spec.latent_dim, generator=torch.Generator().manual_seed(seed))
    return generator(z)
