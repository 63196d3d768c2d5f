"""Checkpoints: a plain dict with everything needed to resume a run exactly.

The trainer's own ``state_dict`` (whatever trainer runs), critic weights and
Adam state, every random stream (including torch's global one, used by
dropout), the seconds spent and the history. Written atomically, so a kill leaves the
previous checkpoint intact; resuming from it reproduces the uninterrupted run.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Any

import torch

from evogan.components import Components
from evogan.config import build_config
from evogan.engine import Evolution
from evogan.errors import EvoganError
from evogan.streams import Streams

CHECKPOINT = "checkpoint.pt"
FORMAT = 2  # 2: the trainer state is one entry (trainer registry)


def save_checkpoint(run: Evolution, directory: Path) -> Path:
    state = {
        "format": FORMAT,
        "config": dataclasses.asdict(run.config),
        "trainer": run.parts.trainer.state_dict(run.state),
        "critic": run.parts.critic.state_dict(),
        "streams": run.streams.state_dict(),
        "torch_rng": run.torch_rng,
        "elapsed": run.elapsed,
        "history": run.history,
    }
    path = directory / CHECKPOINT
    partial = path.with_suffix(".pt.tmp")
    torch.save(state, partial)
    os.replace(partial, path)
    return path


def read_checkpoint(directory: Path) -> dict[str, Any]:
    path = Path(directory) / CHECKPOINT
    if not path.is_file():
        raise EvoganError(f"--resume {directory}: no {CHECKPOINT} in that directory")
    try:
        state = torch.load(path, map_location="cpu", weights_only=False)
    except Exception as err:  # a truncated or foreign file: any unpickling error
        raise EvoganError(f"{path}: unreadable checkpoint ({type(err).__name__})") from None
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise EvoganError(f"{path}: not an evogan checkpoint of format {FORMAT}")
    return state


def resume(directory: Path, overrides: dict[str, Any] | None = None) -> Evolution:
    """Rebuild a run from its checkpoint; ``overrides`` may change stop and output options."""
    check_overrides(overrides or {})
    state = read_checkpoint(directory)
    config = build_config(("checkpoint", state["config"]), ("override", overrides or {}))
    parts = Components.build(config)
    streams = Streams.from_seed(config.seed)
    streams.load_state_dict(state["streams"])
    parts.critic.load_state_dict(state["critic"])
    try:
        trainer_state = parts.trainer.load_state_dict(state["trainer"])
    except (KeyError, TypeError) as err:
        raise EvoganError(f"{directory}: checkpoint trainer state is incomplete ({err})") from None
    return Evolution(
        parts=parts,
        streams=streams,
        state=trainer_state,
        elapsed=state["elapsed"],
        history=list(state["history"]),
        torch_rng=state["torch_rng"],
    )


RESUMABLE_CHANGES = {
    "generations", "time_budget", "threshold", "progress", "sample_every", "checkpoint_every",
    "sample_interval", "checkpoint_interval",
    "data_dir", "device", "eval_every", "eval_samples", "threads", "mixture", "mixture_steps",
}  # fmt: skip


def check_overrides(overrides: dict[str, Any]) -> None:
    changed = sorted(set(overrides) - RESUMABLE_CHANGES)
    if changed:
        raise EvoganError(
            f"--resume: cannot change {', '.join(changed)} of an existing run "
            f"(only {', '.join(sorted(RESUMABLE_CHANGES))})"
        )
