"""Crossover: two parent batches ``a, b: [n, L]`` give two child batches ``[n, L]``.

Row ``i`` of ``a`` is paired with row ``i`` of ``b``. The swap operators
(single-point, two-point, uniform, layer) build one boolean mask per pair and
give child 1 the genes of ``b`` where it is set and child 2 the genes of ``a``,
so the children are complementary: together they hold every parent gene
exactly once. The article's code gave both children the same genes, which
halves the diversity a generation produces; ours never do. ``blend`` is the
arithmetic crossover, which mixes values instead of swapping them.

Every operator takes the same keywords (``rng``, ``segments``) so a
registry can call any of them; ``segments`` lists the ``(start, stop)`` slice
of each parameter tensor in the flat genome and only ``layer`` uses it.
``rng`` is a ``torch.Generator`` or a ``RowRng`` (``keyed``): pair ``i`` draws
from row ``i`` of it only, so a pair crosses the same alone or among others.
"""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from typing import Any, Protocol

import torch
from torch import Tensor

from evogan.errors import EvoganError
from evogan.trainers.operators.keyed import Rng, row_rng

__all__ = [
    "CROSSOVER",
    "CrossoverFn",
    "Segments",
    "blend",
    "crossover_population",
    "layer",
    "single_point",
    "two_point",
    "uniform",
]

Segments = Sequence[tuple[int, int]]


class CrossoverFn(Protocol):
    """``fn(a, b, *, rng, segments=None) -> (child1, child2)``; options have defaults."""

    def __call__(
        self, a: Tensor, b: Tensor, *, rng: Rng, segments: Segments | None = None
    ) -> tuple[Tensor, Tensor]: ...


def _check_pair(a: Tensor, b: Tensor, min_genes: int = 1) -> tuple[int, int]:
    """Return ``(n, L)`` after checking that the parents are matching ``[n, L]`` batches."""
    if a.ndim != 2 or a.shape != b.shape:
        raise EvoganError(
            f"crossover parents must be two [n, L] tensors of one shape, got"
            f" {list(a.shape)} and {list(b.shape)}"
        )
    if a.shape[1] < min_genes:
        raise EvoganError(f"this crossover needs genomes of >= {min_genes} genes, got {a.shape[1]}")
    return a.shape[0], a.shape[1]


def _swap(a: Tensor, b: Tensor, mask: Tensor) -> tuple[Tensor, Tensor]:
    """Complementary children: child 1 takes ``b`` where ``mask`` is set, child 2 takes ``a``."""
    return torch.where(mask, b, a), torch.where(mask, a, b)


def single_point(
    a: Tensor, b: Tensor, *, rng: Rng, segments: Segments | None = None
) -> tuple[Tensor, Tensor]:
    """One cut ``c`` in [1, L-1] per pair: ``a[:c] ++ b[c:]`` and ``b[:c] ++ a[c:]``."""
    n, length = _check_pair(a, b, min_genes=2)
    cut = row_rng(rng, n, a.device).integers(1, length)[:, None]
    return _swap(a, b, torch.arange(length, device=a.device) >= cut)


def two_point(
    a: Tensor, b: Tensor, *, rng: Rng, segments: Segments | None = None
) -> tuple[Tensor, Tensor]:
    """Swap genes ``[lo, hi)`` between two distinct cuts in [1, L-1]; all three parts non-empty."""
    n, length = _check_pair(a, b, min_genes=3)
    rows = row_rng(rng, n, a.device)
    first = rows.integers(1, length)[:, None]
    # Draw the second cut among the L-2 remaining points: distinct, and uniform over pairs.
    second = rows.integers(1, length - 1)[:, None]
    second = second + (second >= first).long()
    lo, hi = torch.minimum(first, second), torch.maximum(first, second)
    position = torch.arange(length, device=a.device)
    return _swap(a, b, (position >= lo) & (position < hi))


def uniform(
    a: Tensor,
    b: Tensor,
    *,
    rng: Rng,
    segments: Segments | None = None,
    swap_prob: float = 0.5,
) -> tuple[Tensor, Tensor]:
    """Each gene is swapped between the children independently with probability ``swap_prob``."""
    if not 0.0 <= swap_prob <= 1.0:
        raise EvoganError(f"crossover.swap_prob must be in [0, 1], got {swap_prob}")
    n, length = _check_pair(a, b)
    return _swap(a, b, row_rng(rng, n, a.device).below(swap_prob, length))


def _segment_lengths(segments: Segments, length: int, device: torch.device) -> Tensor:
    """Lengths of ``segments`` after checking they tile ``[0, length)`` in order."""
    stop = 0
    for start, end in segments:
        if start != stop or end <= start:
            raise EvoganError(
                f"crossover.segments must be consecutive non-empty (start, stop) slices from 0,"
                f" got {(start, end)} after stop {stop}"
            )
        stop = end
    if stop != length:
        raise EvoganError(f"crossover.segments must cover the genome [0, {length}), end at {stop}")
    return torch.tensor([end - start for start, end in segments], device=device)


def layer(
    a: Tensor, b: Tensor, *, rng: Rng, segments: Segments | None = None
) -> tuple[Tensor, Tensor]:
    """Per pair and per segment, a fair coin picks which parent gives child 1 that whole layer.

    ``segments`` is required; it has a ``None`` default only so that every
    crossover fits one signature.
    """
    if segments is None:
        raise EvoganError("layer crossover needs the genome's layer segments")
    n, length = _check_pair(a, b)
    lengths = _segment_lengths(segments, length, a.device)
    coins = row_rng(rng, n, a.device).below(0.5, len(lengths))
    return _swap(a, b, coins.repeat_interleave(lengths, dim=1))


def blend(
    a: Tensor,
    b: Tensor,
    *,
    rng: Rng,
    segments: Segments | None = None,
    alpha: float = 0.5,
) -> tuple[Tensor, Tensor]:
    """Whole arithmetic crossover: ``w*a + (1-w)*b`` and ``(1-w)*a + w*b``, ``w ~ U(0.5 ± alpha)``.

    One weight per pair. ``alpha`` is the half-width of the weight's range and
    is capped at 0.5, so children always lie on the segment between their
    parents (unlike BLX-alpha, which extrapolates); the default 0.5 gives
    ``w ~ U(0, 1)`` and 0 gives two copies of the midpoint.
    """
    if not 0.0 <= alpha <= 0.5:
        raise EvoganError(f"crossover.alpha must be in [0, 0.5], got {alpha}")
    n, _ = _check_pair(a, b)
    if not a.is_floating_point():
        raise EvoganError(f"blend crossover needs floating-point genomes, got {a.dtype}")
    u = row_rng(rng, n, a.device).uniform()[:, None].to(a.dtype)
    w = 0.5 + alpha * (2.0 * u - 1.0)
    # Plain ops, not lerp: its vectorised and scalar paths may round differently, and a
    # pair must give the same child wherever it falls in a batch.
    return b + w * (a - b), a + w * (b - a)


CROSSOVER: dict[str, CrossoverFn] = {
    "single-point": single_point,
    "two-point": two_point,
    "uniform": uniform,
    "layer": layer,
    "blend": blend,
}


def _check_options(fn: CrossoverFn, options: dict[str, Any]) -> None:
    """Turn an option the operator does not take into a config error, not a TypeError."""
    params = inspect.signature(fn).parameters
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
        return
    accepted = {name for name, p in params.items() if p.kind is inspect.Parameter.KEYWORD_ONLY}
    accepted.discard("rng")
    for name in options:
        if name not in accepted:
            raise EvoganError(
                f"crossover option {name!r} is not accepted by"
                f" {getattr(fn, '__name__', fn)!s}; it takes {sorted(accepted)}"
            )


def crossover_population(
    parents_a: Tensor,
    parents_b: Tensor,
    *,
    fn: CrossoverFn,
    rate: float,
    rng: Rng,
    **options: Any,
) -> tuple[Tensor, Tensor]:
    """Cross each pair with probability ``rate``; the other pairs' children copy their parents."""
    if not 0.0 <= rate <= 1.0:
        raise EvoganError(f"crossover.rate must be in [0, 1], got {rate}")
    n, _ = _check_pair(parents_a, parents_b)
    _check_options(fn, options)
    rows = row_rng(rng, n, parents_a.device)
    crossed = rows.below(rate).nonzero()[:, 0]
    if crossed.numel() == n:  # every pair (the article's rate 1): no copies to overwrite
        return fn(parents_a, parents_b, rng=rows, **options)
    children_a, children_b = parents_a.clone(), parents_b.clone()
    if crossed.numel() > 0:
        pair = (parents_a[crossed], parents_b[crossed])
        children_a[crossed], children_b[crossed] = fn(*pair, rng=rows.take(crossed), **options)
    return children_a, children_b
