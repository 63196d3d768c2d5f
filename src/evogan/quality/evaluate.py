"""Sample quality of a run: which real images judge it, and the `evaluate` report.

The training images of a run (its ``--subset``) train the evaluation
classifier; the dataset's other images are the held-out reference (for the
shared MNIST split: 0-4999 train, 5000-9999 held out). A run on a whole
dataset has no held-out images, so it is judged against its own training
images, and the report says so.
"""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

from evogan.config import Config
from evogan.data import ImageDataset, load_dataset, parse_subset
from evogan.errors import EvoganError
from evogan.quality.metrics import QualityEvaluator, QualityReport
from evogan.quality.metrics.cache import default_cache_dir

if TYPE_CHECKING:  # a run is passed in; quality sits below the run machinery
    from evogan.run.engine import Evolution

EVAL_FILE = "eval.json"


def reference_split(config: Config) -> tuple[ImageDataset, ImageDataset, str]:
    """Training and held-out images of a run's dataset, and a note on the split."""
    whole = load_dataset(config.dataset, data_dir=config.data_dir, image_size=config.image_size)
    if whole.labels is None:
        raise EvoganError(f"{config.dataset}: quality metrics need labelled data")
    n = len(whole.images)
    start, stop = parse_subset(config.subset) if config.subset else (0, n)
    train = slice(start, stop)
    rest = torch.cat([torch.arange(0, start), torch.arange(stop, n)])
    if len(rest) < 100:
        rest = torch.arange(start, stop)
        note = "held-out = the training images (the run used the whole dataset)"
    else:
        note = f"train = images {start}:{stop}, held-out = the other {len(rest)}"
    return (
        ImageDataset(whole.images[train], whole.labels[train], whole.name),
        ImageDataset(whole.images[rest], whole.labels[rest], whole.name),
        note,
    )


def build_evaluator(config: Config, cache_dir: Path | None = None) -> tuple[QualityEvaluator, str]:
    train, heldout, note = reference_split(config)
    assert train.labels is not None and heldout.labels is not None
    evaluator = QualityEvaluator(
        train.images,
        train.labels,
        heldout.images,
        heldout.labels,
        cache_dir=cache_dir or default_cache_dir(),
    )
    return evaluator, note


def report_dict(report: QualityReport) -> dict[str, object]:
    return dataclasses.asdict(report)


def write_eval(directory: Path, result: dict[str, object]) -> Path:
    path = Path(directory) / EVAL_FILE
    path.write_text(json.dumps(finite_or_null(result), indent=2) + "\n")
    return path


def finite_or_null(value: Any) -> Any:
    """``value`` with every NaN or infinite float as None: strict JSON has no NaN."""
    if isinstance(value, dict):
        return {key: finite_or_null(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [finite_or_null(item) for item in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def format_table(rows: dict[str, QualityReport]) -> str:
    """A terminal table: one column per row name (samples, then the references)."""
    names = list(rows)
    lines = [f"{'':<22}" + "".join(f"{name:>14}" for name in names)]
    fields = [
        ("FID (lower better)", "fid"),
        ("Inception Score", "inception_score"),
        ("class entropy (2.303)", "class_entropy"),
        ("class TVD (0 best)", "class_tvd"),
        ("precision", "precision"),
        ("recall", "recall"),
        ("memorisation ratio", "memorisation_ratio"),
    ]
    for label, key in fields:
        values = "".join(_cell(getattr(rows[name], key)) for name in names)
        lines.append(f"{label:<22}{values}")
    return "\n".join(lines)


def _cell(value: float) -> str:
    return f"{value:>14.3f}" if math.isfinite(value) else f"{'n/a':>14}"


class QualityCallback:
    """Adds ``eval/*`` metrics every ``every`` generations, so quality-over-time curves exist.

    It must come before the run directory in the callback list: it adds its
    figures to the same metrics row that the run directory then writes.
    """

    def __init__(self, evaluator: QualityEvaluator, *, every: int, samples: int) -> None:
        self.evaluator = evaluator
        self.every = every
        self.samples = samples

    def on_start(self, run: Evolution) -> None:
        pass

    def on_generation(self, run: Evolution, metrics: dict[str, float]) -> None:
        if run.generation % self.every == 0:
            images = draw_samples(run, self.samples)
            metrics.update(self.evaluator.evaluate(images).as_dict())

    def on_end(self, run: Evolution, stop: dict[str, float]) -> None:
        pass


def draw_samples(
    run: Evolution, n: int, seed: int = 12345, genome: torch.Tensor | None = None
) -> torch.Tensor:
    """``n`` samples of ``genome`` (default: the trainer's current best) from fixed latents."""
    z = torch.randn(n, run.parts.spec.latent_dim, generator=torch.Generator().manual_seed(seed))
    return run.samples(z.to(run.parts.device), genome=genome)
