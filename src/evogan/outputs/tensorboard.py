"""``--tensorboard``: the run's metrics, sample grids and fitness histogram for TensorBoard.

Long runs are watched in TensorBoard: every metric of ``metrics.jsonl`` as a
scalar (its namespaced name, ``fitness/best``, ``disc/loss``, ... groups the
charts), the sample grid of the best generator on the same wall-clock
schedule as the run directory's frames, and a histogram of the last scored
generation's fitness where the trainer keeps one. Files go to
``RUN_DIR/tensorboard``: ``tensorboard --logdir RUN_DIR``. TensorBoard is an
optional extra (``pip install 'evogan[tensorboard]'``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import torch

from evogan.errors import EvoganError
from evogan.outputs.callbacks import Schedule
from evogan.outputs.plots import image_grid
from evogan.run.engine import Evolution

SUBDIRECTORY = "tensorboard"


class TensorBoard:
    """A callback writing TensorBoard event files into ``directory / "tensorboard"``."""

    def __init__(self, directory: Path, clock: Callable[[], float] = time.monotonic) -> None:
        try:
            from torch.utils.tensorboard import SummaryWriter
        except ImportError:
            raise EvoganError(
                "--tensorboard: TensorBoard is not installed (pip install 'evogan[tensorboard]')"
            ) from None
        self.writer_class = SummaryWriter
        self.path = Path(directory) / SUBDIRECTORY
        self.clock = clock
        self.writer: SummaryWriter | None = None
        self.grids = Schedule(None, 0.0, clock)
        self.grid_generation = -1

    def on_start(self, run: Evolution) -> None:
        # purge_step drops events written after the checkpoint a resumed run restarts from
        self.writer = self.writer_class(str(self.path), purge_step=run.generation + 1)
        self.grids = Schedule(run.config.sample_every, run.config.sample_interval, self.clock)
        self.grids.start()
        if run.generation == 0:
            self.add_grid(run)

    def on_generation(self, run: Evolution, metrics: dict[str, float]) -> None:
        assert self.writer is not None
        step = run.generation
        for name, value in metrics.items():
            if name != "generation":
                self.writer.add_scalar(name, value, step)
        fitness = run.parts.trainer.agent_fitness(run.state)
        if fitness is not None and torch.isfinite(fitness).all():
            self.writer.add_histogram("fitness/agents", fitness, step)
        self.grids.maybe(step, lambda: self.add_grid(run))

    def on_end(self, run: Evolution, stop: dict[str, float]) -> None:
        assert self.writer is not None
        self.add_grid(run)
        self.writer.close()

    def add_grid(self, run: Evolution) -> None:
        assert self.writer is not None
        if run.generation == self.grid_generation:
            return
        self.grid_generation = run.generation
        grid = image_grid(run.samples())  # [H, W] uint8
        self.writer.add_image("samples", grid, run.generation, dataformats="HW")
