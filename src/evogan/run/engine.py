"""The engine: the training loop, top to bottom in one short function.

trainer.step -> callbacks -> stop check. The engine knows no trainer: a
generation is whatever the configured trainer's ``step`` does (see
``evogan.trainers``). Logging, pictures and checkpoints are callbacks; the
loop itself does no I/O.
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

from evogan.config import Config
from evogan.genome import generate, load_genome
from evogan.networks import Generator
from evogan.quality.keep_best import BestKeeper, latents
from evogan.quality.metrics.cache import default_cache_dir
from evogan.run.wiring import Components
from evogan.streams import Streams


@dataclass
class Evolution:
    """A run in progress: the components plus the trainer state that changes each generation."""

    parts: Components
    streams: Streams
    state: Any  # the trainer's state: has .generation and .population
    elapsed: float = 0.0  # seconds of training, summed across resumes
    history: list[dict[str, float]] = field(default_factory=list)
    torch_rng: torch.Tensor | None = None  # the run's own state of torch's global RNG
    keeper: BestKeeper | None = None  # --keep-best: the best generator judged so far

    @classmethod
    def start(cls, config: Config) -> Evolution:
        parts = Components.build(config)
        streams = Streams.from_seed(config.seed)
        state = parts.trainer.init(streams.ga)
        return cls(parts, streams, state, torch_rng=parts.dropout_rng, keeper=build_keeper(parts))

    @property
    def config(self) -> Config:
        return self.parts.config

    @property
    def generation(self) -> int:
        return int(self.state.generation)

    @property
    def best_genome(self) -> torch.Tensor:
        return self.parts.trainer.best(self.state)[0].detach()

    @property
    def best_fitness(self) -> float:
        return self.parts.trainer.best(self.state)[1]

    def step(self) -> dict[str, float]:
        """One generation of the configured trainer.

        Dropout draws from torch's global RNG; the run keeps its own state of
        it and swaps it in only for the step, so the caller's RNG is untouched.
        """
        clock = self.parts.arena.clock  # what schedules read: the budget spent so far
        clock.elapsed, clock.generation = self.elapsed, self.generation
        caller_rng = torch.get_rng_state()
        if self.torch_rng is not None:
            torch.set_rng_state(self.torch_rng)
        try:
            self.state, metrics = self.parts.trainer.step(
                self.state, self.parts.arena, self.streams
            )
        finally:
            self.torch_rng = torch.get_rng_state()
            torch.set_rng_state(caller_rng)
        return metrics

    @property
    def returned_genome(self) -> torch.Tensor:
        """What the run returns: the kept genome with ``--keep-best``, else the trainer's best."""
        if self.keeper is not None and self.keeper.genome is not None:
            return self.keeper.genome
        return self.best_genome

    def best_generator(self) -> Generator:
        """The returned genome as an ordinary ``nn.Module``."""
        return self.generator(self.returned_genome)

    def judge(self) -> None:
        """``--keep-best``: judge the trainer's current best now, keep it if it is the best."""
        assert self.keeper is not None
        keeper, genome = self.keeper, self.best_genome

        def draw(batch: int) -> torch.Tensor:
            z = latents(keeper.samples, self.parts.spec.latent_dim, batch)
            return self.samples(z.to(self.parts.device), genome)

        second = (lambda: draw(1)) if keeper.confirm else None
        keeper.judge(draw(0), genome, self.generation, second)
        keeper.next_at = self.elapsed + keeper.every
        patience = self.config.keep_best_restart
        if patience and keeper.stale >= patience and keeper.genome is not None:
            restarted = self.parts.trainer.restart(self.state, keeper.genome)
            if restarted is not None:
                self.state = restarted
                keeper.stale = 0
                keeper.restarts += 1

    def generator(self, genome: torch.Tensor) -> Generator:
        """``genome`` as an ordinary ``nn.Module``."""
        return load_genome(copy.deepcopy(self.parts.model), self.parts.layout, genome.detach())

    def samples(
        self, latents: torch.Tensor | None = None, genome: torch.Tensor | None = None
    ) -> torch.Tensor:
        """Images of ``genome`` (default: the best); by default from the fixed sample latents."""
        z = self.parts.sample_latents if latents is None else latents
        genome = self.best_genome if genome is None else genome
        with torch.no_grad():
            return generate(self.parts.model, self.parts.layout, genome[None], z)[0]

    def island_bests(self) -> list[tuple[torch.Tensor, float]]:
        """Each island's best genome and fitness (by its own critic); [] without islands."""
        return self.parts.trainer.island_bests(self.state)


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


def stop_reason(config: Config, generation: int, best: float, elapsed: float) -> dict[str, float]:
    """Why to stop now (empty: keep going). ``generation`` counts finished generations."""
    if config.threshold is not None and best >= config.threshold:
        return {"threshold": best}
    if config.time_budget is not None and elapsed >= config.time_budget:
        return {"time_budget": elapsed}
    limit = config.generation_limit
    if limit is not None and generation >= limit:
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
    caller_threads = torch.get_num_threads()
    torch.set_num_threads(run.parts.threads)
    try:
        return _loop(run, callbacks)
    finally:
        torch.set_num_threads(caller_threads)
        # a Ray backend stops its actors (it restarts if used again)
        run.parts.arena.scorer.close()
        run.parts.trainer.close()


def _loop(run: Evolution, callbacks: Sequence[Callback]) -> Result:
    for callback in callbacks:
        callback.on_start(run)
    if run.keeper is not None and not run.keeper.history:
        run.judge()  # the starting generator is a candidate too (a fitted family's fit)
    stop = stop_reason(run.config, run.generation, run.best_fitness, run.elapsed)
    with StopRequest() as ctrl_c:
        while not stop:
            started = time.perf_counter()
            metrics = run.step()
            seconds = time.perf_counter() - started
            run.elapsed += seconds
            metrics = {"generation": float(run.generation), **metrics}
            metrics |= {"time/generation_s": seconds, "time/elapsed_s": run.elapsed}
            if run.keeper is not None and run.keeper.due(run.elapsed):
                run.judge()
                metrics |= run.keeper.metrics()
            run.history.append(metrics)
            for callback in callbacks:
                callback.on_generation(run, metrics)
            stop = stop_reason(run.config, run.generation, run.best_fitness, run.elapsed)
            if ctrl_c.requested:
                stop = {"interrupted": float(run.generation)}
    if run.keeper is not None and not run.keeper.judged(run.generation):
        run.judge()  # the last generator's figure, beside the kept one's
    for callback in callbacks:
        callback.on_end(run, stop)
    return Result(
        generator=run.best_generator(),
        best_fitness=run.best_fitness,
        generations=run.generation,
        stop=stop,
        history=run.history,
        evolution=run,
    )


def build_keeper(parts: Components) -> BestKeeper | None:
    config = parts.config
    if not config.keep_best:
        return None
    assert parts.validation is not None  # held out of training with --keep-best
    return BestKeeper.build(parts.data, parts.validation, config.keep_best,
                            config.keep_best_samples,
                            default_cache_dir(), config.keep_best_confirm,
                            config.keep_best_margin)  # fmt: skip


def evolve(
    config: Config | None = None, callbacks: Sequence[Callback] = (), **options: Any
) -> Result:
    """Evolve a generator: ``evogan.evolve(population=64, generations=20)``."""
    config = (config or Config()).replace(**options)
    return evolve_run(Evolution.start(config), callbacks)
