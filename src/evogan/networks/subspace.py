"""The DCGAN searched in a random low-dimensional subspace of its weights.

Following Li et al. 2018 ("Measuring the intrinsic dimension of objective
landscapes"), the full weights are ``theta = theta0 + P g``: ``theta0`` is a
fixed random init of the DCGAN, ``P`` a fixed random projection, and only
``g`` (``genome_dim`` numbers) evolves. A GA cannot search the DCGAN's tens
to hundreds of thousands of weights, but it can search a thousand directions
of them.

``P`` is sparse so that building every agent's weights stays cheap: each full
weight sums ``PROJECTION_FAN`` random genes with random signs, scaled by that
weight's init spread / sqrt(fan), so that ``g ~ N(0, I)`` moves every weight
by about its init spread. It is held as a sparse CSR matrix: ``torch.mv``
vmaps over agents into one sparse-dense product, 5-15x faster on one CPU
thread than the same sum written as a gather ``(g[idx] * s).sum(-1)``, whose
``[pop, n_full, fan]`` intermediate falls out of cache. ``theta0`` and ``P``
are rebuilt from ``spec.subspace_seed`` (non-persistent buffers): the
exported weights are ``g`` alone. ``P`` is kept as its three CSR arrays and
wrapped per forward (microseconds), because a sparse buffer cannot be
deep-copied, which the engine does to the model.
"""

from __future__ import annotations

import math
import warnings
from functools import partial

import torch
from torch import nn

from evogan.networks.base import Generator, GeneratorSpec
from evogan.networks.dcgan import DCGANGenerator, draw

PROJECTION_FAN = 4  # genes summed into each full weight
# Spread of a fresh gene: generation 0 is theta0 plus a perturbation of half
# the init spread, so agents differ visibly but share theta0's structure
# (1.0 would put them as far apart as independent inits; 0 makes them all
# theta0). Mutation and ES steps are relative to it: sigma 0.3 moves a gene 0.15.
GENE_STD = 0.5


class SubspaceGenerator(Generator):
    """A ``dcgan`` whose weights are ``theta0 + P g``; ``g`` is the only parameter."""

    theta0: torch.Tensor  # [n_full] fixed init
    rows: torch.Tensor  # P's CSR arrays: [n_full + 1] row starts,
    columns: torch.Tensor  # [nnz] gene of each entry,
    values: torch.Tensor  # [nnz] sign * init spread / sqrt(fan)

    def __init__(self, spec: GeneratorSpec) -> None:
        super().__init__()
        self.spec = spec
        template = DCGANGenerator(spec)  # only for names, shapes and init spreads
        self.base = template.base
        self.shapes = {name: p.shape for name, p in template.named_parameters()}
        self.sizes = [math.prod(shape) for shape in self.shapes.values()]
        spread = torch.cat(
            [
                torch.full((p.numel(),), template.init_std(n, p))
                for n, p in template.named_parameters()
            ]
        )
        theta0, projection = random_projection(spread, spec.genome_dim, spec.subspace_seed)
        self.register_buffer("theta0", theta0, persistent=False)
        self.register_buffer("rows", projection.crow_indices(), persistent=False)
        self.register_buffer("columns", projection.col_indices(), persistent=False)
        self.register_buffer("values", projection.values(), persistent=False)
        self.genome = nn.Parameter(torch.zeros(spec.genome_dim))

    @property
    def projection(self) -> torch.Tensor:
        """``P [n_full, genome_dim]`` as a sparse CSR matrix (a view of the buffers)."""
        size = (len(self.theta0), self.spec.genome_dim)
        with warnings.catch_warnings():  # "sparse CSR support is in beta": mv is all we use
            warnings.simplefilter("ignore", UserWarning)
            return torch.sparse_csr_tensor(
                self.rows, self.columns, self.values, size=size, check_invariants=False
            )

    def full_weights(self) -> dict[str, torch.Tensor]:
        """``theta0 + P g`` split into the DCGAN's named weights."""
        theta = self.theta0 + torch.mv(self.projection, self.genome)
        pieces = theta.split(self.sizes, dim=-1)
        return {
            name: piece.reshape(shape)
            for (name, shape), piece in zip(self.shapes.items(), pieces, strict=True)
        }

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        w = self.full_weights()
        conv = partial(nn.functional.conv_transpose2d, stride=2, padding=1)
        return draw(
            z,
            lambda x: nn.functional.linear(x, w["project.weight"], w.get("project.bias")),
            lambda x: conv(x, w["up1.weight"], w.get("up1.bias")),
            lambda x: conv(x, w["up2.weight"], w.get("up2.bias")),
            self.base,
        )

    def init_std(self, name: str, param: torch.Tensor) -> float:
        return GENE_STD


def random_projection(
    spread: torch.Tensor, genome_dim: int, seed: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """``theta0 [n]`` and a sparse CSR ``P [n, genome_dim]`` drawn from ``seed``.

    ``spread [n]`` is each full weight's init std. Row i of ``P`` holds
    ``PROJECTION_FAN`` random signs times ``spread[i] / sqrt(fan)`` at random
    columns (repeated columns add up). The same seed gives the same tensors
    on any machine with the same torch (CPU generator).
    """
    rng = torch.Generator().manual_seed(seed)
    n, fan = len(spread), PROJECTION_FAN
    theta0 = torch.randn(n, generator=rng) * spread
    columns = torch.randint(genome_dim, (n * fan,), generator=rng)
    signs = torch.randint(2, (n * fan,), generator=rng).float() * 2 - 1
    values = signs * spread.repeat_interleave(fan) / math.sqrt(fan)
    rows = torch.arange(n).repeat_interleave(fan)
    coo = torch.sparse_coo_tensor(
        torch.stack([rows, columns]), values, (n, genome_dim), check_invariants=True
    )
    with warnings.catch_warnings():  # "sparse CSR support is in beta"
        warnings.simplefilter("ignore", UserWarning)
        return theta0, coo.coalesce().to_sparse_csr()
