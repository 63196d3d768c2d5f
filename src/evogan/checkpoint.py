"""Checkpoints: a plain dict with everything needed to resume a run exactly.

Population, mutation steps, critic weights and Adam state, every random
stream (including torch's global one, used by dropout), the generation, the
seconds spent and the history. Written atomically, so a kill leaves the
previous checkpoint intact; resuming from it reproduces the uninterrupted run.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Any

import torch

from evogan import ga
from evogan.components import Components, Streams
from evogan.config import Config, build_config
from evogan.engine import Evolution
from evogan.errors import EvoganError

CHECKPOINT = "checkpoint.pt"
FORMAT = 1


def save_checkpoint(run: Evolution, directory: Path) -> Path:
    state = {
        "format": FORMAT,
        "config": dataclasses.asdict(run.config),
        "generation": run.state.generation,
        "population": run.state.population,
        "sigma": run.state.sigma,
        "critic": run.parts.critic.state_dict(),
        "streams": run.streams.state_dict(),
        "torch_rng": torch.get_rng_state(),
        "elapsed": run.elapsed,
        "best_genome": run.best_genome,
        "best_fitness": run.best_fitness,
        "history": run.history,
        "genome_optimizer": run.genome_optimizer.state_dict() if run.genome_optimizer else None,
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
    check_same_genome(config, state, parts)
    streams = Streams.from_seed(config.seed)
    streams.load_state_dict(state["streams"])
    parts.critic.load_state_dict(state["critic"])
    torch.set_rng_state(state["torch_rng"])
    ga_state = ga.GAState(state["population"], state["sigma"], state["generation"])
    run = Evolution(
        parts=parts,
        streams=streams,
        state=ga_state,
        elapsed=state["elapsed"],
        best_genome=state["best_genome"],
        best_fitness=state["best_fitness"],
        history=list(state["history"]),
    )
    if state["genome_optimizer"] is not None:
        run.use_single_genome(state["population"])
        assert run.genome_optimizer is not None
        run.genome_optimizer.load_state_dict(state["genome_optimizer"])
    return run


RESUMABLE_CHANGES = {
    "generations", "time_budget", "threshold", "progress", "sample_every", "checkpoint_every",
    "data_dir", "device", "eval_every", "eval_samples", "threads",
}  # fmt: skip


def check_overrides(overrides: dict[str, Any]) -> None:
    changed = sorted(set(overrides) - RESUMABLE_CHANGES)
    if changed:
        raise EvoganError(
            f"--resume: cannot change {', '.join(changed)} of an existing run "
            f"(only {', '.join(sorted(RESUMABLE_CHANGES))})"
        )


def check_same_genome(config: Config, state: dict[str, Any], parts: Components) -> None:
    agents = 1 if config.trainer == "gradient" else config.population
    if state["population"].shape != (agents, parts.layout.size):
        raise EvoganError("checkpoint population does not match its own config")
