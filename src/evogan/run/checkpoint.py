"""Checkpoints: a plain dict with everything needed to resume a run exactly.

The trainer's own ``state_dict`` (whatever trainer runs), critic weights and
Adam state, every random stream (including the run's state of torch's global
one, used by dropout), the seconds spent and the history.

Crash safety: a checkpoint is written to a temporary file, fsynced and renamed
over the last one, which is kept as ``checkpoint.prev.pt``. The file starts
with a header line (magic, format, SHA-256 of the rest), so a truncated or
corrupt newest checkpoint is detected, reported in one line, and the previous
one is used instead. A run killed at any moment (SIGKILL included) therefore
loses at most the generations since its last checkpoint, and resuming
reproduces the uninterrupted run.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import os
import sys
from pathlib import Path
from typing import Any

import torch

from evogan.config import RESUMABLE, build_config
from evogan.errors import EvoganError
from evogan.run.engine import Evolution, build_keeper
from evogan.run.wiring import Components
from evogan.streams import Streams

CHECKPOINT = "checkpoint.pt"
PREVIOUS = "checkpoint.prev.pt"
MAGIC = "EVOGAN-CHECKPOINT"
FORMAT = 3  # 2: the trainer state is one entry (trainer registry); 3: header + checksum


def save_checkpoint(run: Evolution, directory: Path) -> Path:
    # the trainer's first: islands that live on Ray actors bring their state home with it,
    # the run's critic and streams (island 0's) included
    trainer = run.parts.trainer.state_dict(run.state)
    state = {
        "format": FORMAT,
        "config": dataclasses.asdict(run.config),
        "trainer": trainer,
        "critic": run.parts.critic.state_dict(),
        "streams": run.streams.state_dict(),
        "torch_rng": run.torch_rng,
        "elapsed": run.elapsed,
        "history": run.history,
    }
    if run.keeper is not None:
        state["keeper"] = run.keeper.state_dict()
    buffer = io.BytesIO()
    torch.save(state, buffer)
    payload = buffer.getvalue()
    header = f"{MAGIC} {FORMAT} {hashlib.sha256(payload).hexdigest()}\n".encode()
    path = Path(directory) / CHECKPOINT
    partial = path.with_suffix(".pt.tmp")
    with open(partial, "wb") as handle:
        handle.write(header + payload)
        handle.flush()
        os.fsync(handle.fileno())
    if path.exists():
        os.replace(path, path.with_name(PREVIOUS))
    os.replace(partial, path)
    sync_directory(path.parent)
    return path


def sync_directory(directory: Path) -> None:
    """Make the renames durable (a no-op where directories cannot be opened)."""
    try:
        handle = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(handle)
    finally:
        os.close(handle)


def read_checkpoint(directory: Path) -> dict[str, Any]:
    """The newest readable checkpoint: ``checkpoint.pt``, else ``checkpoint.prev.pt``."""
    directory = Path(directory)
    newest, previous = directory / CHECKPOINT, directory / PREVIOUS
    if not newest.is_file() and not previous.is_file():
        raise EvoganError(f"--resume {directory}: no {CHECKPOINT} in that directory")
    try:
        return load_file(newest)
    except EvoganError as err:
        if not previous.is_file():
            raise
        state = load_file(previous)
        print(
            f"evogan: warning: {err}; resuming from {PREVIOUS} "
            f"(generation {state['trainer'].get('generation', '?')})",
            file=sys.stderr,
        )
        return state


def load_file(path: Path) -> dict[str, Any]:
    """One checkpoint file, its header and checksum verified."""
    if not path.is_file():
        raise EvoganError(f"{path}: missing")
    data = path.read_bytes()
    header, _, payload = data.partition(b"\n")
    fields = header.decode("ascii", errors="replace").split(" ")
    if len(fields) != 3 or fields[0] != MAGIC:
        raise EvoganError(f"{path}: not an evogan checkpoint of format {FORMAT}")
    if fields[1] != str(FORMAT):
        raise EvoganError(f"{path}: checkpoint format {fields[1]}, this evogan reads {FORMAT}")
    if hashlib.sha256(payload).hexdigest() != fields[2]:
        raise EvoganError(f"{path}: corrupt or truncated checkpoint (checksum mismatch)")
    try:
        state = torch.load(io.BytesIO(payload), map_location="cpu", weights_only=False)
    except Exception as err:  # checksum right but unreadable: a foreign pickle
        raise EvoganError(f"{path}: unreadable checkpoint ({type(err).__name__})") from None
    if (
        not isinstance(state, dict)
        or type(state.get("format")) is not int
        or state["format"] != FORMAT
    ):
        raise EvoganError(f"{path}: not an evogan checkpoint of format {FORMAT}")
    for key, kind in ENTRIES.items():
        if not isinstance(state.get(key), kind):
            raise EvoganError(f"{path}: checkpoint entry {key!r} is missing or damaged")
    return state


# What a checkpoint holds, by type: a file with the right checksum can still be
# someone else's pickle, or be written by a different build of this format.
ENTRIES: dict[str, type | tuple[type, ...]] = {
    "config": dict, "trainer": dict, "critic": dict, "streams": dict,
    "torch_rng": (torch.Tensor, type(None)), "elapsed": (int, float), "history": list,
}  # fmt: skip


def resume(directory: Path, overrides: dict[str, Any] | None = None) -> Evolution:
    """Rebuild a run from its checkpoint; ``overrides`` may change stop and output options."""
    check_overrides(overrides or {})
    state = read_checkpoint(directory)
    config = build_config(("checkpoint", state["config"]), ("override", overrides or {}))
    parts = Components.build(config)
    streams = Streams.from_seed(config.seed)
    try:
        streams.load_state_dict(state["streams"])
        parts.critic.load_state_dict(state["critic"])
        trainer_state = parts.trainer.load_state_dict(state["trainer"])
        if state["torch_rng"] is not None:
            torch.Generator().set_state(state["torch_rng"])  # fails now, not at the first step
    except (KeyError, TypeError, ValueError, RuntimeError, AttributeError) as err:
        details = " ".join(str(err).split())  # load_state_dict lists its keys on many lines
        raise EvoganError(
            f"{directory}: checkpoint state does not fit its run ({details})"
        ) from None
    keeper = build_keeper(parts)
    if keeper is not None and isinstance(state.get("keeper"), dict):
        keeper.load_state_dict(state["keeper"])
    return Evolution(
        parts=parts,
        streams=streams,
        state=trainer_state,
        elapsed=state["elapsed"],
        history=list(state["history"]),
        torch_rng=state["torch_rng"],
        keeper=keeper,
    )


RESUMABLE_CHANGES = RESUMABLE  # declared on each field: option(..., resume=True)


def check_overrides(overrides: dict[str, Any]) -> None:
    changed = sorted(set(overrides) - RESUMABLE_CHANGES)
    if changed:
        raise EvoganError(
            f"--resume: cannot change {', '.join(changed)} of an existing run "
            f"(only {', '.join(sorted(RESUMABLE_CHANGES))})"
        )
