"""Callbacks: everything the engine loop does besides evolving.

``RunDirectory`` makes a run directory describe itself: the resolved config,
one JSON line of metrics per generation, sample grids of the best agent from a
fixed latent batch (so frames compare) and their GIF, a fitness-curve plot,
the best generator and a resumable checkpoint. ``ProgressBar`` shows the run
live in the terminal.
"""

from __future__ import annotations

import json
from pathlib import Path

from tqdm import tqdm

from evogan import plots
from evogan.checkpoint import save_checkpoint
from evogan.config import to_toml
from evogan.engine import Evolution
from evogan.export import save_generator

CONFIG = "config.toml"
METRICS = "metrics.jsonl"
SAMPLES = "samples"
SUMMARY = "summary.json"


class RunDirectory:
    """Writes every output of a run into ``directory``."""

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)
        self.samples = self.directory / SAMPLES

    def on_start(self, run: Evolution) -> None:
        self.samples.mkdir(parents=True, exist_ok=True)
        (self.directory / CONFIG).write_text(to_toml(run.config))
        keep_metrics_until(self.directory / METRICS, run.generation)
        if run.generation == 0:
            self.save_grid(run)

    def on_generation(self, run: Evolution, metrics: dict[str, float]) -> None:
        with open(self.directory / METRICS, "a") as log:
            log.write(json.dumps(metrics) + "\n")
        generation = run.generation
        if run.config.sample_every and generation % run.config.sample_every == 0:
            self.save_grid(run)
        if run.config.checkpoint_every and generation % run.config.checkpoint_every == 0:
            self.save_model(run)

    def on_end(self, run: Evolution, stop: dict[str, float]) -> None:
        self.save_grid(run)
        self.save_model(run)
        frames = sorted(self.samples.glob("generation_*.png"))
        if frames:
            plots.save_gif(frames, self.directory / "evolution.gif")
        plots.plot_metrics(run.history, self.directory / "fitness.png")
        summary = {
            "stop": stop,
            "generations": run.generation,
            "best_fitness": run.best_fitness,
            "elapsed_s": run.elapsed,
            "genome_size": run.parts.layout.size,
        }
        (self.directory / SUMMARY).write_text(json.dumps(summary, indent=2) + "\n")

    def save_grid(self, run: Evolution) -> None:
        generation = run.generation
        path = self.samples / f"generation_{generation:05d}.png"
        plots.save_grid(run.samples(), path, title=f"generation {generation}")
        plots.save_grid(run.samples(), self.directory / "samples.png")

    def save_model(self, run: Evolution) -> None:
        save_generator(run.best_generator(), self.directory)
        save_checkpoint(run, self.directory)


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
