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
from typing import TYPE_CHECKING, Any

import torch

from evogan.errors import EvoganError
from evogan.genome import load_genome
from evogan.networks import Generator, build_generator
from evogan.networks.mixture import MixtureGenerator
from evogan.quality.metrics import QualityEvaluator
from evogan.streams import Streams

if TYPE_CHECKING:  # a run is passed in; quality sits below the run machinery
    from evogan.run.engine import Evolution

STEP0 = 0.5  # initial spread of a log-weight perturbation
SUCCESS_RATE = 0.2  # Rechenberg's 1/5 rule


def top_genomes(run: Evolution, k: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The ``k`` genomes ``[k, n]`` the critic likes best, and their fitness ``[k]``.

    With ``--islands`` they are taken from the islands in turn (each island's
    best, then each one's second best, ...): a GA's final population is near
    copies of its elites, so the critic's top ``k`` of one population would be
    one generator ``k`` times, and a mixture gains from components that
    evolved apart. Scored by the run's critic on streams of their own, so that
    the run's streams (and a later ``--resume``) are untouched.
    """
    groups = run.parts.trainer.groups(run.state)
    pool = torch.cat([*groups, run.best_genome[None]])  # last: it is island 0's if none has it
    ids = [torch.full((len(g),), i) for i, g in enumerate(groups)]
    group_of = torch.cat([*ids, torch.zeros(1, dtype=torch.long)])
    candidates, inverse = pool.unique(dim=0, return_inverse=True)
    if len(candidates) < k:
        raise EvoganError(
            f"--mixture {k}: the final population holds only {len(candidates)} distinct genomes"
        )
    first = torch.full((len(candidates),), len(pool)).scatter_reduce(
        0, inverse, torch.arange(len(pool)), reduce="amin"
    )  # each distinct genome's first place in the pool, which names its island
    streams = Streams.from_seed(run.config.seed + 7919)
    with torch.no_grad():
        fitness, _ = run.parts.arena.score(candidates, streams)
    group = group_of[first]
    by_fitness = fitness.argsort(descending=True, stable=True)
    place = torch.empty_like(by_fitness)  # 0 for the fittest candidate, 1 for the next, ...
    place[by_fitness] = torch.arange(len(by_fitness))
    rank_in_group = torch.empty_like(by_fitness)
    for g in range(len(groups)):  # a loop over islands, not agents
        members = by_fitness[group[by_fitness] == g]
        rank_in_group[members] = torch.arange(len(members))
    best = (rank_in_group * len(candidates) + place).argsort()[:k]
    return candidates[best], fitness[best]


def mixture_of(run: Evolution, genomes: torch.Tensor) -> MixtureGenerator:
    """A mixture with equal weights whose components are ``genomes``."""
    spec = dataclasses.replace(
        run.parts.spec, mixture=len(genomes), latent_dim=run.parts.spec.latent_dim + 1
    )
    mixture = build_generator(spec)
    assert isinstance(mixture, MixtureGenerator)
    for component, genome in zip(mixture.components, genomes, strict=True):
        component.load_state_dict(component.state_dict() | run.parts.model.fixed_state())
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
