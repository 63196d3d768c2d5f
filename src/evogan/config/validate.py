"""The one check of a config's values, read from the rules on its fields.

Types are checked as the layers merge (``files.coerce``); this checks what a
type cannot say: every number finite and within its field's range, every
name one of its field's choices, before anything runs or is written. Each
error is one line naming the flag.
"""

from __future__ import annotations

import math
from dataclasses import fields

from evogan.config.option import choice_error, choices_of, flag
from evogan.config.schema import Config
from evogan.errors import EvoganError


def validate(config: Config) -> None:
    """Raise ``EvoganError`` for the first value outside its field's range or choices."""
    for f in fields(config):
        value = getattr(config, f.name)
        if isinstance(value, float) and not math.isfinite(value):  # nan passes every < and >
            raise EvoganError(f"{flag(f.name)} must be a finite number, got {value}")
    for f in fields(config):
        value = getattr(config, f.name)
        if value is None:
            continue
        bounds = f.metadata["range"]
        if bounds is not None and not bounds.admits(value):
            raise EvoganError(f"{flag(f.name)} must be in {bounds.interval()}, got {value}")
        choices = choices_of(f)
        if choices is not None and value not in choices:
            raise EvoganError(choice_error(f.name, value, choices))
    group = config.disc_minibatch_group
    if group == 1:
        raise EvoganError("--disc-minibatch-group 1 judges each image alone: use 0, or 2 and more")
    for name in ("samples_per_agent", "disc_batch"):
        if group > 1 and getattr(config, name) % group:
            raise EvoganError(
                f"--disc-minibatch-group {group} must divide {flag(name)} "
                f"({getattr(config, name)}): a group is one agent's fakes"
            )
    if config.pixel_mmd_weight and config.trainer not in ("ga", "es"):
        raise EvoganError(
            f"--pixel-mmd-weight works with --trainer ga or es, not {config.trainer} "
            "(it scores its generators by its own losses)"
        )
    if config.mixture == 1:
        raise EvoganError("--mixture 1 is the single best generator: use 0, or 2 and more")
