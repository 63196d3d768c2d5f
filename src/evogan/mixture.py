"""``--mixture K``: the K best generators of a finished run as one evolved mixture.

After training, the final population (plus the trainer's best genome) is
scored once by the critic, the K best become the components of a
``MixtureGenerator``, and its weights are evolved by a (1+1)-ES on the run's
own FID (the evaluation classifier's, on one fixed latent batch): a log-weight
vector is perturbed, kept when FID does not get worse, and the step size
follows Rechenberg's 1/5 success rule. This is Lipizzaner's final step
(Toutouh, Hemberg & O'Reilly 2019). It works for every trainer whose
population holds more than one genome.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import torch

from evogan.engine import Evolution
from evogan.errors import EvoganError
from evogan.genome import load_genome
from evogan.metrics import QualityEvaluator
from evogan.networks import Generator, build_generator
from evogan.networks.mixture import MixtureGenerator
from evogan.streams import Streams

STEP0 = 0.5  # initial spread of a log-weight perturbation
SUCCESS_RATE = 0.2  # Rechenberg's 1/5 rule


def top_genomes(run: Evolution, k: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The ``k`` genomes ``[k, n]`` the critic likes best, and their fitness ``[k]``.

    Scored on streams of their own, so that the run's streams (and a later
    ``--resume``) are untouched.
    """
    candidates = torch.cat([run.best_genome[None], run.state.population]).unique(dim=0)
    if len(candidates) < k:
        raise EvoganError(
            f"--mixture {k}: the final population holds only {len(candidates)} distinct genomes"
        )
    streams = Streams.from_seed(run.config.seed + 7919)
    with torch.no_grad():
        fitness, _ = run.parts.arena.score(candidates, streams)
    best = fitness.topk(k).indices
    return candidates[best], fitness[best]


def mixture_of(run: Evolution, genomes: torch.Tensor) -> MixtureGenerator:
    """A mixture with equal weights whose components are ``genomes``."""
    spec = dataclasses.replace(
        run.parts.spec, mixture=len(genomes), latent_dim=run.parts.spec.latent_dim + 1
    )
    mixture = build_generator(spec)
    assert isinstance(mixture, MixtureGenerator)
    for component, genome in zip(mixture.components, genomes, strict=True):
        load_genome(component, run.parts.layout, genome)  # type: ignore[arg-type]
    return mixture.eval()


def evolve_weights(
    mixture: MixtureGenerator, evaluator: QualityEvaluator, *, steps: int, samples: int, seed: int
) -> list[float]:
    """(1+1)-ES on the mixture's log-weights against FID; returns the FID after each step."""
    rng = torch.Generator().manual_seed(seed)
    z = torch.randn(samples, mixture.spec.latent_dim, generator=rng)

    def fid() -> float:
        with torch.no_grad():
            return evaluator.evaluate(mixture(z)).fid

    current, step, history = fid(), STEP0, []
    for _ in range(steps):
        parent = mixture.log_weights.detach().clone()
        mixture.log_weights.data += step * torch.randn(len(parent), generator=rng)
        candidate = fid()
        success = candidate <= current
        if success:
            current = candidate
        else:
            mixture.log_weights.data.copy_(parent)
        # 1/5 rule: grow on success, shrink otherwise, stationary at a 20 % success rate
        step *= math.exp((float(success) - SUCCESS_RATE) / (1 - SUCCESS_RATE) / 3)
        history.append(current)
    return history


def build_mixture(
    run: Evolution, evaluator: QualityEvaluator, k: int, *, steps: int, samples: int = 1000
) -> tuple[MixtureGenerator, dict[str, Any]]:
    """The evolved mixture of the run's ``k`` best genomes, and a report of what it gained."""
    genomes, fitness = top_genomes(run, k)
    mixture = mixture_of(run, genomes)
    single = evaluator.evaluate(draw(run.best_generator(), samples, run.config.seed))
    equal = evaluator.evaluate(draw(mixture, samples, run.config.seed))
    history = evolve_weights(mixture, evaluator, steps=steps, samples=samples, seed=run.config.seed)
    evolved = evaluator.evaluate(draw(mixture, samples, run.config.seed))
    report = {
        "components": k,
        "component_fitness": fitness.tolist(),
        "weights": mixture.weights.tolist(),
        "fid_history": history,
        "single_best": dataclasses.asdict(single),
        "equal_weights": dataclasses.asdict(equal),
        "evolved": dataclasses.asdict(evolved),
    }
    return mixture, report


def draw(generator: Generator, n: int, seed: int) -> torch.Tensor:
    """``n`` samples from latents of a seed unrelated to the ES's fixed batch."""
    rng = torch.Generator().manual_seed(seed + 104729)
    z = torch.randn(n, generator.spec.latent_dim, generator=rng)
    with torch.no_grad():
        return generator(z)
