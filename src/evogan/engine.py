"""The engine: the evolution loop, top to bottom in one short function.

evaluate -> tell -> callbacks -> stop check. Logging, pictures and
checkpoints are callbacks; the loop itself does no I/O. A generation:

1. the critic takes ``disc_steps`` gradient steps on real images against fakes
   pooled from random agents of the current population;
2. every agent draws fakes from the same latent batch and the critic scores
   them all in one batched pass (the evaluator);
3. the GA turns fitness into the next population.
"""

from __future__ import annotations

import copy
import signal
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import torch

from evogan import ga
from evogan.components import Components, Streams
from evogan.config import Config
from evogan.genome import generate, load_genome
from evogan.gradient import genome_optimizer, gradient_generation
from evogan.networks import Generator


@dataclass
class Evolution:
    """A run in progress: the components plus the state that changes each generation."""

    parts: Components
    streams: Streams
    state: ga.GAState
    elapsed: float = 0.0  # seconds of training, summed across resumes
    best_genome: torch.Tensor | None = None
    best_fitness: float = float("-inf")
    history: list[dict[str, float]] = field(default_factory=list)
    genome_optimizer: torch.optim.Optimizer | None = None  # the gradient baseline only

    @classmethod
    def start(cls, config: Config) -> Evolution:
        parts = Components.build(config)
        streams = Streams.from_seed(config.seed)
        state = ga.init(parts.params, parts.layout, generator=streams.ga)
        run = cls(parts, streams, state)
        if config.trainer == "gradient":
            run.use_single_genome(state.population[:1].clone())
        return run

    def use_single_genome(self, genome: torch.Tensor) -> None:
        """Gradient baseline: one genome ``[1, n_params]`` trained by Adam."""
        genome = genome.detach().requires_grad_(True)
        self.state = ga.GAState(genome, self.state.sigma[:1], self.state.generation)
        self.genome_optimizer = genome_optimizer(
            genome, lr=self.config.disc_lr, beta1=self.config.disc_beta1
        )

    @property
    def config(self) -> Config:
        return self.parts.config

    def best_generator(self) -> Generator:
        """The best agent of the last evaluated generation as an ordinary ``nn.Module``."""
        genome = self.best_genome if self.best_genome is not None else self.state.population[0]
        return load_genome(copy.deepcopy(self.parts.model), self.parts.layout, genome.detach())

    def samples(self, latents: torch.Tensor | None = None) -> torch.Tensor:
        """Images of the best agent; by default from the fixed sample latents."""
        genome = self.best_genome if self.best_genome is not None else self.state.population[0]
        z = self.parts.sample_latents if latents is None else latents
        with torch.no_grad():
            return generate(self.parts.model, self.parts.layout, genome[None], z)[0]


@dataclass(frozen=True)
class Result:
    """What ``evolve`` returns: the best generator, why the run stopped, and its history."""

    generator: Generator
    best_fitness: float
    generations: int
    stop: dict[str, float]
    history: list[dict[str, float]]
    evolution: Evolution


class Callback(Protocol):
    def on_start(self, run: Evolution) -> None: ...
    def on_generation(self, run: Evolution, metrics: dict[str, float]) -> None: ...
    def on_end(self, run: Evolution, stop: dict[str, float]) -> None: ...


def run_generation(run: Evolution) -> dict[str, float]:
    """One generation of the configured trainer."""
    if run.config.trainer == "gradient":
        return gradient_generation(run)
    return ga_generation(run)


def ga_generation(run: Evolution) -> dict[str, float]:
    """One GA generation: train the critic, score every agent, breed the next population."""
    parts, config = run.parts, run.config
    population = ga.ask(run.state)
    metrics: dict[str, float] = {}
    for _ in range(config.disc_steps):
        metrics = parts.critic.train_step(real_batch(run, config.disc_batch), pooled_fakes(run))
    latents = torch.randn(
        config.samples_per_agent, parts.spec.latent_dim, generator=run.streams.latents
    ).to(parts.device)
    fake_logits, spread = parts.evaluator.evaluate(population, latents, parts.critic.model)
    real_logits = parts.critic.logits(real_batch(run, config.samples_per_agent))
    fitness = parts.fitness(fake_logits, real_logits) + config.diversity_weight * spread
    run.best_genome, run.best_fitness = ga.best(run.state, fitness)
    run.state, ga_metrics = ga.tell(parts.params, run.state, fitness, generator=run.streams.ga)
    extra = {"disc/real_logit": real_logits.mean().item(), "fitness/spread": spread.mean().item()}
    return {**ga_metrics, **metrics, **extra}


def real_batch(run: Evolution, size: int) -> torch.Tensor:
    images = run.parts.data.images
    index = torch.randint(len(images), (size,), generator=run.streams.data)
    return images[index.to(images.device)]


def pooled_fakes(run: Evolution) -> torch.Tensor:
    """One fake from each of ``disc_batch`` random agents: the critic sees the population."""
    parts = run.parts
    population = run.state.population
    size = run.config.disc_batch
    agents = torch.randint(len(population), (size,), generator=run.streams.data)
    z = torch.randn(size, 1, parts.spec.latent_dim, generator=run.streams.latents)
    with torch.no_grad():
        return generate(parts.model, parts.layout, population[agents], z.to(parts.device))[:, 0]


def stop_reason(config: Config, generation: int, best: float, elapsed: float) -> dict[str, float]:
    """Why to stop now (empty: keep going). ``generation`` counts finished generations."""
    if config.threshold is not None and best >= config.threshold:
        return {"threshold": best}
    if config.time_budget is not None and elapsed >= config.time_budget:
        return {"time_budget": elapsed}
    if generation >= config.generations:
        return {"generations": float(generation)}
    return {}


class StopRequest:
    """Ctrl-C finishes the current generation, then stops cleanly; a second one aborts.

    Stopping between generations keeps the checkpoint consistent, so an
    interrupted run resumes exactly where it would have gone on.
    """

    def __init__(self) -> None:
        self.requested = False
        self.previous: Any = None

    def __enter__(self) -> StopRequest:
        if threading.current_thread() is threading.main_thread():
            self.previous = signal.signal(signal.SIGINT, self._handle)
        return self

    def __exit__(self, *exc: object) -> None:
        if self.previous is not None:
            signal.signal(signal.SIGINT, self.previous)

    def _handle(self, signum: int, frame: object) -> None:
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True
        print("\nevogan: stopping after this generation (Ctrl-C again to abort)", file=sys.stderr)


def evolve_run(run: Evolution, callbacks: Sequence[Callback] = ()) -> Result:
    """Continue ``run`` until a stop condition holds or the user presses Ctrl-C."""
    for callback in callbacks:
        callback.on_start(run)
    stop = stop_reason(run.config, run.state.generation, run.best_fitness, run.elapsed)
    with StopRequest() as ctrl_c:
        while not stop:
            started = time.perf_counter()
            metrics = run_generation(run)
            seconds = time.perf_counter() - started
            run.elapsed += seconds
            metrics = {"generation": float(run.state.generation), **metrics}
            metrics |= {"time/generation_s": seconds, "time/elapsed_s": run.elapsed}
            run.history.append(metrics)
            for callback in callbacks:
                callback.on_generation(run, metrics)
            stop = stop_reason(run.config, run.state.generation, run.best_fitness, run.elapsed)
            if ctrl_c.requested:
                stop = {"interrupted": float(run.state.generation)}
    for callback in callbacks:
        callback.on_end(run, stop)
    return Result(
        generator=run.best_generator(),
        best_fitness=run.best_fitness,
        generations=run.state.generation,
        stop=stop,
        history=run.history,
        evolution=run,
    )


def evolve(
    config: Config | None = None, callbacks: Sequence[Callback] = (), **options: Any
) -> Result:
    """Evolve a generator: ``evogan.evolve(population=64, generations=20)``."""
    config = (config or Config()).replace(**options)
    return evolve_run(Evolution.start(config), callbacks)
