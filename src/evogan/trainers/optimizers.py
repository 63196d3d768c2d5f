"""Update rules for a search mean along an estimated ascent direction.

Pure functions over flat tensors: each returns the new optimiser moments and
the step to add, so a trainer's state holds the moments and nothing mutates.

- ``adam``: bias-corrected Adam (Kingma & Ba 2015), as OpenAI-ES uses it.
- ``clipup``: ClipUp (Toklu et al. 2020, "ClipUp: a simple and powerful
  optimizer for distribution-based policy evolution"): the gradient is
  normalised to unit length, accumulated with heavy-ball momentum, and the
  velocity is clipped to a maximum speed. Its step length is therefore bounded
  and does not grow when the fitness' scale changes, which Adam's first steps
  after a critic shift do.
"""

from __future__ import annotations

import torch

ADAM_EPS = 1e-8
CLIPUP_MOMENTUM = 0.9  # the paper's default


def adam(
    grad: torch.Tensor,
    m: torch.Tensor,
    v: torch.Tensor,
    t: int,
    *,
    lr: float,
    betas: tuple[float, float] = (0.9, 0.999),
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """One bias-corrected Adam step along ``grad``: new moments and the step to add."""
    beta1, beta2 = betas
    m = beta1 * m + (1 - beta1) * grad
    v = beta2 * v + (1 - beta2) * grad.square()
    m_hat = m / (1 - beta1**t)
    v_hat = v / (1 - beta2**t)
    return m, v, lr * m_hat / (v_hat.sqrt() + ADAM_EPS)


def clipup(
    grad: torch.Tensor,
    velocity: torch.Tensor,
    *,
    lr: float,
    max_speed: float,
    momentum: float = CLIPUP_MOMENTUM,
) -> tuple[torch.Tensor, torch.Tensor]:
    """One ClipUp step: the new velocity, which is also the step to add (norm <= max_speed)."""
    norm = grad.norm()
    direction = grad / norm if norm > 0 else grad
    velocity = momentum * velocity + lr * direction
    speed = velocity.norm()
    if speed > max_speed:
        velocity = velocity * (max_speed / speed)
    return velocity, velocity
