"""Callbacks: everything the engine loop does besides evolving.

``RunDirectory`` makes a run directory describe itself: the resolved config,
one JSON line of metrics per generation, sample grids of the best agent from a
fixed latent batch (so frames compare) and their GIF, a fitness-curve plot,
the best generator and a resumable checkpoint. Grids and checkpoints are
written every few seconds of wall clock (or every N generations when asked),
so their cost stays a small share of the run however fast generations are;
old frames are thinned so that a long run leaves a bounded directory.
``ProgressBar`` shows the run live in the terminal.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from tqdm import tqdm

from evogan.config import to_toml
from evogan.outputs import plots
from evogan.run.checkpoint import save_checkpoint
from evogan.run.engine import Evolution
from evogan.run.export import save_generator

CONFIG = "config.toml"
METRICS = "metrics.jsonl"
SAMPLES = "samples"
SUMMARY = "summary.json"
ISLANDS = "islands"  # each island's best generator, with --islands
FRAME = re.compile(r"generation_(\d+)\.png")

MAX_FRAMES = 200
"""Sample frames kept on disk (~45 KB each for 28 px digits); twice the GIF's frames, so
that after thinning halves them the GIF still has about ``GIF_FRAMES`` to choose from."""

GIF_FRAMES = 100
"""Frames in ``evolution.gif``, spread over the whole run."""

MAX_SHARE = 0.02
"""A timed output waits at least 1 / MAX_SHARE times as long as its last write took,
so a checkpoint that grows with a long history still costs under 2 % of wall clock."""


@dataclass
class Schedule:
    """When a periodic output is due: every ``generations`` if given, else every ``seconds``
    of wall clock measured by ``clock``; 0 in either means never."""

    generations: int | None
    seconds: float
    clock: Callable[[], float]
    next_time: float = 0.0

    def start(self) -> None:
        self.next_time = self.clock() + self.seconds

    def maybe(self, generation: int, write: Callable[[], object]) -> None:
        """Call ``write`` if it is due at the end of ``generation``."""
        if self.generations is not None:
            if self.generations and generation % self.generations == 0:
                write()
            return
        now = self.clock()
        if not self.seconds or now < self.next_time:
            return
        write()
        self.next_time = now + max(self.seconds, (self.clock() - now) / MAX_SHARE)


class RunDirectory:
    """Writes every output of a run into ``directory``; ``clock`` times the intervals (s)."""

    def __init__(self, directory: Path, clock: Callable[[], float] = time.monotonic) -> None:
        self.directory = Path(directory)
        self.samples = self.directory / SAMPLES
        self.clock = clock
        self.grids = self.checkpoints = Schedule(None, 0.0, clock)  # never, until on_start
        self.saved_generation = -1  # the last checkpoint's, so the end does not write it twice

    def on_start(self, run: Evolution) -> None:
        config = run.config
        self.grids = Schedule(config.sample_every, config.sample_interval, self.clock)
        self.checkpoints = Schedule(config.checkpoint_every, config.checkpoint_interval, self.clock)
        self.grids.start()
        self.checkpoints.start()
        self.samples.mkdir(parents=True, exist_ok=True)
        (self.directory / CONFIG).write_text(to_toml(config))
        keep_metrics_until(self.directory / METRICS, run.generation)
        for generation, path in frames(self.samples).items():
            if generation > run.generation:  # written after the checkpoint resumed from
                path.unlink()
        if run.generation == 0:
            self.save_grid(run)

    def on_generation(self, run: Evolution, metrics: dict[str, float]) -> None:
        with open(self.directory / METRICS, "a") as log:
            log.write(json.dumps(metrics) + "\n")
        self.grids.maybe(run.generation, lambda: self.save_grid(run))
        self.checkpoints.maybe(run.generation, lambda: self.save_model(run))

    def on_end(self, run: Evolution, stop: dict[str, float]) -> None:
        self.save_grid(run)
        self.save_model(run)
        plots.save_gif(
            list(frames(self.samples).values()),
            self.directory / "evolution.gif",
            max_frames=GIF_FRAMES,
        )
        plots.plot_metrics(run.history, self.directory / "fitness.png")
        summary = {
            "stop": stop,
            "generations": run.generation,
            "best_fitness": run.best_fitness,
            "elapsed_s": run.elapsed,
            "genome_size": run.parts.layout.size,
        }
        if islands := self.save_islands(run):
            summary["islands"] = islands
        if run.keeper is not None:  # the returned generator is the kept one
            keeper = run.keeper
            summary["kept"] = {"generation": keeper.generation, "validation_fid": keeper.fid}
            summary["last"] = {"generation": run.generation, "validation_fid": keeper.last_fid}
        (self.directory / SUMMARY).write_text(json.dumps(summary, indent=2) + "\n")

    def save_islands(self, run: Evolution) -> list[dict[str, object]]:
        """Each island's best generator and sample grid under ``islands/island{i}/``
        (``evogan sample`` reads any of them like the run's own)."""
        written = []
        for i, (genome, fitness) in enumerate(run.island_bests()):
            directory = self.directory / ISLANDS / f"island{i}"
            directory.mkdir(parents=True, exist_ok=True)
            save_generator(run.generator(genome), directory)
            plots.save_grid(run.samples(genome=genome), directory / "samples.png",
                            title=f"island {i}, fitness {fitness:.3g}")  # fmt: skip
            written.append({"island": i, "best_fitness": fitness, "directory": str(directory)})
        return written

    def save_grid(self, run: Evolution) -> None:
        generation = run.generation
        images = run.samples()
        path = self.samples / f"generation_{generation:05d}.png"
        plots.save_grid(images, path, title=f"generation {generation}")
        plots.save_grid(images, self.directory / "samples.png")
        written = frames(self.samples)
        kept = set(thin(list(written), MAX_FRAMES))
        for old, frame in written.items():
            if old not in kept:
                frame.unlink()

    def save_model(self, run: Evolution) -> None:
        if run.generation == self.saved_generation:
            return  # rewriting it would push the previous checkpoint out for a copy of itself
        save_generator(run.best_generator(), self.directory)
        save_checkpoint(run, self.directory)
        self.saved_generation = run.generation


def frames(samples: Path) -> dict[int, Path]:
    """The sample frames in ``samples`` by generation, in order (not by name: 100000 < 99999)."""
    found = {
        int(m[1]): p for p in samples.glob("generation_*.png") if (m := FRAME.fullmatch(p.name))
    }
    return dict(sorted(found.items()))


def thin(generations: list[int], limit: int) -> list[int]:
    """The frames to keep: the first in each span of ``stride`` generations, and the last.

    ``stride`` is the smallest power of two that cuts generations 0..last into at most
    ``limit - 1`` spans. It only grows, by doubling, and a doubled span holds two whole
    old ones, so thinning frame by frame keeps what thinning once at the end would:
    frames spread evenly over the run, the first and the latest among them.
    """
    if limit < 2:
        raise ValueError(f"thin keeps the first and last frames: limit must be >= 2, got {limit}")
    if not generations:
        return []
    last, stride = max(generations), 1
    while last // stride > limit - 2:
        stride *= 2
    firsts: dict[int, int] = {}
    for generation in sorted(generations):
        firsts.setdefault(generation // stride, generation)
    return sorted({*firsts.values(), last})


def keep_metrics_until(path: Path, generation: int) -> None:
    """Drop metric lines written after the checkpoint a run resumes from."""
    if not path.exists():
        return
    kept = [
        line
        for line in path.read_text().splitlines()
        if json.loads(line)["generation"] <= generation
    ]
    path.write_text("".join(line + "\n" for line in kept))


class ProgressBar:
    """A live tqdm bar: generation, best and mean fitness, critic accuracy, s/generation.

    With a time budget the bar counts training seconds, so "time left" is true
    whichever limit stops the run first; otherwise it counts generations.
    """

    def __init__(self) -> None:
        self.bar: tqdm | None = None
        self.by_time = False

    def on_start(self, run: Evolution) -> None:
        self.by_time = run.config.time_budget is not None
        if self.by_time:
            budget = run.config.time_budget
            self.bar = tqdm(total=budget, initial=min(run.elapsed, budget or 0.0), unit="s",
                            bar_format=TIME_BAR, dynamic_ncols=True)  # fmt: skip
        else:
            self.bar = tqdm(total=run.config.generation_limit, initial=run.generation,
                            unit="gen", dynamic_ncols=True)  # fmt: skip

    def on_generation(self, run: Evolution, metrics: dict[str, float]) -> None:
        assert self.bar is not None
        seconds = metrics["time/generation_s"]
        if self.by_time:
            self.bar.update(min(seconds, self.bar.total - self.bar.n))
        else:
            self.bar.update(1)
        postfix = {
            "gen": run.generation,
            "best": f"{metrics['fitness/best']:.3g}",
            "mean": f"{metrics['fitness/mean']:.3g}",
            "disc_acc": f"{metrics.get('disc/accuracy', float('nan')):.2f}",
            "s/gen": f"{seconds:.3f}",
        }
        self.bar.set_postfix(postfix, refresh=False)  # a dict keeps this order

    def on_end(self, run: Evolution, stop: dict[str, float]) -> None:
        if self.bar is not None:
            self.bar.close()


TIME_BAR = "{l_bar}{bar}| {n:.0f}/{total:.0f} s [{elapsed}<{remaining}{postfix}]"
