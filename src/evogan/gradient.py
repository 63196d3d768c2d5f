"""The gradient baseline: the same generator and critic, trained by back-propagation.

This is what a user would run instead of the GA, so it shares everything that
is not the optimiser: the generator architecture (one genome, the same spec
and parameter count), the article's discriminator and its Adam settings, the
data, the outputs and the metrics. The generator takes one Adam step per
iteration on the non-saturating loss ``-log D(G(z))`` (Goodfellow et al. 2014).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch
from torch import nn

from evogan.genome import generate

if TYPE_CHECKING:
    from evogan.engine import Evolution


def genome_optimizer(genome: torch.Tensor, *, lr: float, beta1: float) -> torch.optim.Adam:
    return torch.optim.Adam([genome], lr=lr, betas=(beta1, 0.999))


def gradient_generation(run: Evolution) -> dict[str, float]:
    """One iteration: a critic step, then a generator step against the updated critic."""
    parts, config = run.parts, run.config
    genome = run.state.population  # [1, n_params], a leaf that requires grad
    assert run.genome_optimizer is not None
    from evogan.engine import pooled_fakes, real_batch

    metrics: dict[str, float] = {}
    for _ in range(config.disc_steps):
        metrics = parts.critic.train_step(real_batch(run, config.disc_batch), pooled_fakes(run))
    z = torch.randn(config.disc_batch, parts.spec.latent_dim, generator=run.streams.latents)
    fakes = generate(parts.model, parts.layout, genome, z.to(parts.device))[0]
    critic = parts.critic.model
    critic.requires_grad_(False)  # the generator step must not touch the critic
    logits = critic(fakes)
    critic.requires_grad_(True)
    loss = nn.functional.binary_cross_entropy_with_logits(logits, torch.ones_like(logits))
    run.genome_optimizer.zero_grad(set_to_none=True)
    loss.backward()
    run.genome_optimizer.step()
    run.best_genome, run.best_fitness = genome.detach()[0], logits.mean().item()
    run.state = run.state.__class__(genome, run.state.sigma, run.state.generation + 1)
    return {
        "fitness/best": run.best_fitness,
        "fitness/mean": run.best_fitness,
        "fitness/std": 0.0,
        "gen/loss": loss.item(),
        **metrics,
    }
