"""A mixture of probabilistic PCA in the eigen-digit space, fitted to the data, then evolved.

The ``pca`` family's MLP must learn to turn one Gaussian latent into ten
digit classes, and evolution never taught it: its samples score about what a
single Gaussian in the same 64 coefficients scores (FID 266). Digits are
clusters. Here each image is drawn from one of ``clusters`` Gaussians in the
coefficients of the training images' leading principal components (``pca``'s
basis): the first latent coordinate picks the cluster (with the clusters'
share of the training images), the others are coordinates along the
cluster's own leading ``latent_dim - 1`` directions of spread. That is a
mixture of probabilistic PCA (Tipping & Bishop 1999, "Mixtures of
probabilistic principal component analysers").

``fit_to`` fits it to the training images in about a second, without
gradients: k-means (k-means++ seeding, fixed seed, float64) for the centres
and shares, and an SVD of each cluster's residuals for its directions. The
genes are offsets from that fit, so a zero genome draws the fitted mixture:
each cluster's centre (``shift``), the log-spread along each of its
directions (``log_spread``) and a log-sharpness of the strokes
(``sharpness``). Evolution moves them against the critic.

The image is ``tanh(SHARPEN * exp(sharpness) * coefficients @ basis + mean)``:
64 components blur a stroke, and scaling the deviation from the mean image
before the ``tanh`` makes it crisp again. SHARPEN was chosen on keep-best's
validation slice of MNIST 0-4999 (the fit of 32 clusters: FID 52.1, 30.5,
24.9, 25.9 at 1.25, 1.5, 1.75, 2), never on the benchmark's held-out images.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from evogan.errors import EvoganError
from evogan.networks.base import BACKGROUND_OFFSET, Generator, GeneratorSpec
from evogan.networks.pca import SQUEEZE, principal_components

SHARPEN = 1.75  # the deviation from the mean image, times this, before the tanh
GENE_SPREAD = 0.1  # a fresh gene's spread: a tenth of a coefficient, or of a log-scale
KMEANS_SEED = 0  # the fit is a function of the images alone: a resume rebuilds it
KMEANS_ROUNDS = 50


class MPPCAGenerator(Generator):
    """Cluster centres and directions in eigen-digit space, steered by evolved offsets.

    Before ``fit_to`` (a spec alone) it draws the pca family's stand-in: cosine
    waves around the background, every cluster alike."""

    mean: torch.Tensor  # [H*W] the images' mean before the output tanh
    basis: torch.Tensor  # [C, H*W] principal components, each scaled by its spread
    centres: torch.Tensor  # [K, C] cluster centres in coefficients
    directions: torch.Tensor  # [K, C, R] each cluster's directions, scaled by its spread
    shares: torch.Tensor  # [K] cumulative share of the training images, ending at 1
    search_from_own_parameters = True  # zero offsets: ES starts at the fit itself

    def __init__(self, spec: GeneratorSpec) -> None:
        super().__init__()
        from evogan.networks.generators import cosine_basis  # the registry imports this module

        self.spec = spec
        k, c, r = spec.clusters, spec.components, spec.latent_dim - 1
        self.shift = nn.Parameter(torch.zeros(k, c))
        self.log_spread = nn.Parameter(torch.zeros(k, r))
        self.sharpness = nn.Parameter(torch.zeros(1))
        waves = cosine_basis(math.ceil(math.sqrt(c)), spec.image_size)
        self.register_buffer("basis", waves[:c].clone())
        self.register_buffer("mean", torch.full((spec.image_size**2,), BACKGROUND_OFFSET))
        # unfitted: every cluster at the mean digit, spread along the first components
        self.register_buffer("centres", torch.zeros(k, c))
        self.register_buffer("directions", torch.eye(c, r).expand(k, c, r).clone())
        self.register_buffer("shares", torch.arange(1, k + 1, dtype=torch.float32) / k)

    def init_std(self, name: str, param: torch.Tensor) -> float:
        return GENE_SPREAD

    def fit_to(self, images: torch.Tensor) -> None:
        spec = self.spec
        images = images.cpu()  # k-means draws from a CPU generator; once per run
        mean, basis = principal_components(images, spec.components)
        coefficients = project(images, mean, basis)
        if spec.clusters > len(coefficients):
            raise EvoganError(
                f"clusters {spec.clusters}: the mppca generator needs at most as many "
                f"clusters as training images ({len(coefficients)})"
            )
        centres, assignment = kmeans(coefficients, spec.clusters)
        self.mean.copy_(mean)
        self.basis.copy_(basis)
        self.centres.copy_(centres)
        self.directions.copy_(cluster_directions(coefficients, centres, assignment, spec))
        counts = torch.bincount(assignment, minlength=spec.clusters).double()
        shares = counts.cumsum(0) / counts.sum()
        self.shares.copy_(shares)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        # the first coordinate, through the normal CDF, is uniform: it picks a cluster
        uniform = 0.5 * (1 + torch.erf(z[:, 0] / math.sqrt(2)))
        cluster = torch.searchsorted(self.shares, uniform).clamp_max(self.spec.clusters - 1)
        spread = self.directions[cluster] * self.log_spread[cluster].exp()[:, None, :]
        offsets = torch.einsum("scr,sr->sc", spread, z[:, 1:])
        coefficients = self.centres[cluster] + self.shift[cluster] + offsets
        sharpen = SHARPEN * self.sharpness.exp()
        image = torch.tanh(sharpen * (coefficients @ self.basis) + self.mean)
        side = self.spec.image_size
        return image.reshape(z.shape[0], 1, side, side)


def project(images: torch.Tensor, mean: torch.Tensor, basis: torch.Tensor) -> torch.Tensor:
    """``images [N, 1, H, W]`` -> their coefficients ``[N, C]`` (float64) on ``basis``,
    in units of each component's spread (so each has variance 1 over the fitted images)."""
    flat = torch.atanh(images.reshape(len(images), -1).double().clamp(-1, 1) * SQUEEZE)
    scaled = basis.double()
    # a component along which the images do not vary at all (spread 0) gives coefficient 0
    return (flat - mean.double()) @ scaled.T / scaled.square().sum(1).clamp_min(1e-12)


def kmeans(points: torch.Tensor, k: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Lloyd's k-means on ``[N, D]`` float64 points with k-means++ seeding (Arthur &
    Vassilvitskii 2007) from a fixed seed: centres ``[K, D]`` and each point's cluster."""
    rng = torch.Generator().manual_seed(KMEANS_SEED)
    centres = points[torch.randint(len(points), (1,), generator=rng)]
    for _ in range(1, k):
        nearest = torch.cdist(points, centres).min(dim=1).values.square()
        if nearest.sum() == 0:  # every point sits on a centre already: any will do
            nearest = torch.ones_like(nearest)
        pick = torch.multinomial(nearest / nearest.sum(), 1, generator=rng)
        centres = torch.cat([centres, points[pick]])
    assignment = torch.cdist(points, centres).argmin(dim=1)
    for _ in range(KMEANS_ROUNDS):
        sums = torch.zeros_like(centres).index_add_(0, assignment, points)
        counts = torch.bincount(assignment, minlength=k)
        centres = torch.where(counts[:, None] > 0, sums / counts.clamp_min(1)[:, None], centres)
        moved = torch.cdist(points, centres).argmin(dim=1)
        if torch.equal(moved, assignment):
            break
        assignment = moved
    return centres, assignment


def cluster_directions(
    points: torch.Tensor, centres: torch.Tensor, assignment: torch.Tensor, spec: GeneratorSpec
) -> torch.Tensor:
    """Each cluster's leading ``latent_dim - 1`` directions of spread ``[K, C, R]``, each
    scaled by the spread along it (zero where a cluster has too few images)."""
    rank = spec.latent_dim - 1
    out = torch.zeros(spec.clusters, spec.components, rank, dtype=torch.float64)
    for j in range(spec.clusters):  # once per run, at fit time
        residuals = points[assignment == j] - centres[j]
        if len(residuals) < 2:
            continue
        _, spread, directions = torch.linalg.svd(residuals, full_matrices=False)
        keep = min(rank, len(spread))
        directions = directions[:keep]
        # signed so that each direction's largest entry is positive, as pca's components:
        # the same images give the same directions whatever the thread count
        sign = directions.gather(1, directions.abs().argmax(1, keepdim=True)).sign()
        scale = spread[:keep] / math.sqrt(len(residuals) - 1)
        out[j, :, :keep] = (directions * sign).T * scale
    return out.float()
