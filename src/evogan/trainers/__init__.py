"""Trainers: one module per way of improving generators, one interface (``base.Trainer``).

``TRAINERS`` maps ``--trainer`` names to factories ``(config, layout) -> Trainer``;
nothing outside this registry asks which trainer runs.
"""

from collections.abc import Callable

from evogan.config import Config
from evogan.errors import EvoganError
from evogan.genome import GenomeLayout
from evogan.trainers.base import Trainer, TrainerState
from evogan.trainers.egan import EGANTrainer
from evogan.trainers.es import ESTrainer
from evogan.trainers.ga import GATrainer
from evogan.trainers.gradient import GradientTrainer

TRAINERS: dict[str, Callable[[Config, GenomeLayout], Trainer]] = {
    "ga": GATrainer.from_config,
    "es": ESTrainer.from_config,
    "gradient": GradientTrainer.from_config,
    "egan": EGANTrainer.from_config,
}


def build_trainer(config: Config, layout: GenomeLayout) -> Trainer:
    if config.trainer not in TRAINERS:
        raise EvoganError(
            f"--trainer: unknown {config.trainer!r} (choose from {', '.join(TRAINERS)})"
        )
    return TRAINERS[config.trainer](config, layout)


__all__ = ["TRAINERS", "Trainer", "TrainerState", "build_trainer"]
