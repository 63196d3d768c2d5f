"""Inception Score and class coverage from the evaluation classifier's softmax.

Salimans et al. 2016, "Improved techniques for training GANs":
IS = exp(E_x KL(p(y|x) || p(y))), high when each sample is classified
confidently (sharp p(y|x)) and the classes are spread out (flat p(y)); it
ranges from 1 to the number of classes. It says nothing about realism beyond
what the classifier sees, so evogan reports it beside FID, and adds the
entropy of the predicted-class histogram: mode collapse onto a few digits
shows there directly (ln 10 = 2.303 for perfectly even coverage of 10 classes).
"""

import math

import torch
from torch import Tensor

from evogan.errors import EvoganError

_SUM_TOLERANCE = 1e-3


def _check_probabilities(probs: Tensor) -> None:
    if not isinstance(probs, Tensor) or probs.dim() != 2 or probs.shape[0] == 0:
        shape = tuple(probs.shape) if isinstance(probs, Tensor) else type(probs).__name__
        raise EvoganError(f"probabilities must be a non-empty tensor [N, C], got {shape}")
    sums = probs.double().sum(dim=1)
    rows_sum_to_one = bool(torch.allclose(sums, torch.ones_like(sums), atol=_SUM_TOLERANCE))
    if bool((probs < 0).any()) or not rows_sum_to_one:
        raise EvoganError("probabilities must be non-negative with rows summing to 1")


def inception_score(probs: Tensor, *, splits: int = 1) -> float:
    """IS of class probabilities [N, C], averaged over ``splits`` equal parts."""
    _check_probabilities(probs)
    if not 1 <= splits <= probs.shape[0]:
        raise EvoganError(f"splits must be between 1 and {probs.shape[0]}, got {splits}")
    scores = []
    for part in probs.double().tensor_split(splits):
        marginal = part.mean(dim=0, keepdim=True)
        # xlogy gives 0 * log 0 = 0, so classes a sample rules out cost nothing.
        kl = (torch.special.xlogy(part, part) - torch.special.xlogy(part, marginal)).sum(dim=1)
        scores.append(math.exp(float(kl.mean())))
    return sum(scores) / len(scores)


def class_histogram(probs: Tensor) -> Tensor:
    """How many samples fall in each predicted (arg-max) class: int64 [C]."""
    _check_probabilities(probs)
    return torch.bincount(probs.argmax(dim=1), minlength=probs.shape[1])


def class_entropy(probs: Tensor) -> float:
    """Entropy in nats of the predicted-class histogram; ln C is perfectly even coverage."""
    counts = class_histogram(probs).double()
    share = counts / counts.sum()
    # entr(p) = -p ln p; "+ 0.0" turns the -0.0 of a single-class histogram into 0.0.
    return float(torch.special.entr(share).sum()) + 0.0
