"""Mutation: a population ``[n, L]`` gives a mutated copy of the same shape.

``reset`` is the article's operator: now and then one gene of an agent is
replaced by a fresh draw from the initialisation distribution, which keeps
injecting values the population has lost. ``gaussian`` is the usual real-coded
perturbation ``w += sigma * N(0, 1)``; its ``sigma`` may be one float, a
per-agent ``[n]`` tensor evolved by log-normal self-adaptation
(``self_adapt_sigma``, Beyer & Schwefel 2002, "Evolution strategies: a
comprehensive introduction"), or a float from a schedule (``scheduled_sigma``).

Every operator takes the keywords ``rate``, ``sigma`` and ``init_std`` so a
registry can call any of them; ``reset`` ignores ``sigma``. ``rng`` is a
``torch.Generator`` or a ``RowRng`` (``keyed``): agent ``i`` draws from row ``i``
of it only, so an agent mutates the same alone or among others.
"""

from __future__ import annotations

import math
from typing import Protocol

import torch
from torch import Tensor

from evogan.errors import EvoganError
from evogan.trainers.operators.keyed import Rng, normal, row_rng

__all__ = [
    "MUTATION",
    "SIGMA_SCHEDULES",
    "MutationFn",
    "ScheduleFn",
    "gaussian",
    "reset",
    "scheduled_sigma",
    "self_adapt_sigma",
]


class MutationFn(Protocol):
    """``fn(population, *, rng, rate, sigma, init_std, inplace) -> mutated population``:
    a copy, or ``population`` itself changed when ``inplace`` (a caller that owns a
    freshly bred batch saves a copy of it: at 354 MB that was 0.2 s a generation)."""

    def __call__(
        self,
        population: Tensor,
        *,
        rng: Rng,
        rate: float = ...,
        sigma: Tensor | float = ...,
        init_std: Tensor | float = ...,
        inplace: bool = ...,
    ) -> Tensor: ...


def _check_population(population: Tensor) -> tuple[int, int]:
    if population.ndim != 2 or not population.is_floating_point():
        raise EvoganError(
            f"mutation needs a floating-point [n, L] population, got {population.dtype}"
            f" {list(population.shape)}"
        )
    return population.shape[0], population.shape[1]


def _check_rate(rate: float) -> None:
    if not 0.0 <= rate <= 1.0:
        raise EvoganError(f"mutation.rate must be in [0, 1], got {rate}")


def _scale(value: Tensor | float, name: str, size: int, like: Tensor) -> Tensor:
    """``value`` as a tensor of shape ``[]`` or ``[size]`` after checking it is finite and >= 0."""
    scale = torch.as_tensor(value, dtype=like.dtype, device=like.device)
    if scale.ndim > 1 or (scale.ndim == 1 and scale.shape[0] != size):
        raise EvoganError(
            f"mutation.{name} must be a float or a [{size}] tensor, got shape {list(scale.shape)}"
        )
    if not bool(torch.isfinite(scale).all()) or bool((scale < 0).any()):
        raise EvoganError(f"mutation.{name} must be finite and >= 0")
    return scale


def reset(
    population: Tensor,
    *,
    rng: Rng,
    rate: float = 0.1,
    init_std: Tensor | float = 1.0,
    sigma: Tensor | float | None = None,
    inplace: bool = False,
) -> Tensor:
    """With probability ``rate`` per agent, redraw one random gene from ``N(0, init_std[gene]^2)``.

    ``init_std`` is a float or a per-gene ``[L]`` tensor (each layer's
    initialisation scale). ``sigma`` is ignored.
    """
    _check_rate(rate)
    n, length = _check_population(population)
    std = _scale(init_std, "init_std", length, population)
    rows = row_rng(rng, n, population.device)
    # Draw for every agent, mutated or not, so the stream used does not depend on the coins.
    mutated = rows.below(rate)
    gene = rows.integers(0, length)
    fresh = rows.normal().to(population.dtype) * (std[gene] if std.ndim else std)
    out = population if inplace else population.clone()
    agent = mutated.nonzero()[:, 0]
    out[agent, gene[agent]] = fresh[agent]
    return out


def gaussian(
    population: Tensor,
    *,
    rng: Rng,
    rate: float = 0.1,
    sigma: Tensor | float = 0.02,
    init_std: Tensor | float | None = None,
    inplace: bool = False,
) -> Tensor:
    """Each gene, independently with probability ``rate``, gets ``+= sigma * init_std * N(0, 1)``.

    ``sigma`` is a float or a per-agent ``[n]`` tensor. ``init_std`` (a float or
    a per-gene ``[L]`` tensor, default 1) makes the step relative to each
    layer's initialisation scale, so one sigma suits layers of any fan-in.
    """
    _check_rate(rate)
    n, length = _check_population(population)
    step = _scale(sigma, "sigma", n, population)
    std = None if init_std is None else _scale(init_std, "init_std", length, population)
    rows = row_rng(rng, n, population.device)
    # Normals only for the genes that mutate (a tenth at the default rate): each is
    # keyed by its gene, so it does not depend on which others mutate.
    agent, gene = rows.below(rate, length).nonzero(as_tuple=True)
    noise = normal(rows.bits_at(agent, gene, length)).to(population.dtype)
    scale = step[agent] if step.ndim else step
    scale = scale if std is None else scale * (std[gene] if std.ndim else std)
    out = population if inplace else population.clone()
    out[agent, gene] = population[agent, gene] + scale * noise  # the others stay bit-identical
    return out


MUTATION: dict[str, MutationFn] = {"reset": reset, "gaussian": gaussian}


def self_adapt_sigma(
    sigma: Tensor,
    *,
    rng: torch.Generator,
    tau: float | None = None,
    n_genes: int | None = None,
) -> Tensor:
    """Log-normal self-adaptation: ``sigma * exp(tau * N(0, 1))``, one draw per agent.

    An explicit ``tau`` wins; otherwise ``tau = 1 / sqrt(2 * n_genes)``, Beyer &
    Schwefel's learning rate for one step size per individual. The result is
    clamped to the dtype's normal range so sigma stays positive and finite even
    when a large tau makes ``exp`` underflow or overflow.
    """
    if sigma.ndim != 1 or not sigma.is_floating_point():
        raise EvoganError(f"mutation.sigma must be a floating-point [n] tensor, got {sigma.dtype}")
    if not bool((sigma > 0).all()) or not bool(torch.isfinite(sigma).all()):
        raise EvoganError("mutation.sigma must be finite and > 0 for self-adaptation")
    if tau is None:
        if n_genes is None or n_genes < 1:
            raise EvoganError(f"self-adaptation needs tau or n_genes >= 1, got n_genes={n_genes}")
        tau = 1.0 / math.sqrt(2.0 * n_genes)
    if not (math.isfinite(tau) and tau >= 0):
        raise EvoganError(f"mutation.tau must be finite and >= 0, got {tau}")
    noise = torch.randn(sigma.shape, generator=rng, device=sigma.device, dtype=sigma.dtype)
    info = torch.finfo(sigma.dtype)
    return torch.clamp(sigma * torch.exp(tau * noise), info.tiny, info.max)


class ScheduleFn(Protocol):
    """``fn(generation, *, sigma0, decay, sigma_min) -> sigma`` for that generation."""

    def __call__(
        self, generation: int, *, sigma0: float, decay: float, sigma_min: float
    ) -> float: ...


def _constant(generation: int, *, sigma0: float, decay: float, sigma_min: float) -> float:
    return sigma0


def _exponential(generation: int, *, sigma0: float, decay: float, sigma_min: float) -> float:
    return max(sigma0 * decay**generation, sigma_min)


SIGMA_SCHEDULES: dict[str, ScheduleFn] = {"constant": _constant, "exponential": _exponential}


def scheduled_sigma(
    generation: int,
    *,
    sigma0: float,
    schedule: str = "constant",
    decay: float = 1.0,
    sigma_min: float = 0.0,
) -> float:
    """Sigma at ``generation`` (from 0): ``constant`` is sigma0; ``exponential`` is
    ``max(sigma0 * decay**generation, sigma_min)``, large steps early, fine ones late."""
    if schedule not in SIGMA_SCHEDULES:
        raise EvoganError(
            f"mutation.schedule must be one of {sorted(SIGMA_SCHEDULES)}, got {schedule!r}"
        )
    if generation < 0:
        raise EvoganError(f"generation must be >= 0, got {generation}")
    if not (math.isfinite(sigma0) and sigma0 >= 0):
        raise EvoganError(f"mutation.sigma0 must be finite and >= 0, got {sigma0}")
    if not 0.0 < decay <= 1.0:
        raise EvoganError(f"mutation.decay must be in (0, 1], got {decay}")
    if not (math.isfinite(sigma_min) and sigma_min >= 0):
        raise EvoganError(f"mutation.sigma_min must be finite and >= 0, got {sigma_min}")
    return SIGMA_SCHEDULES[schedule](generation, sigma0=sigma0, decay=decay, sigma_min=sigma_min)
