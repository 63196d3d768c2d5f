"""The article's layer-spec format for MLP generators.

A network is a list of layers ``[inputs, outputs, activation]``; ``inputs`` may
be ``None`` (JSON ``null``, or the string ``"none"`` in TOML, which has no null)
meaning "the outputs of the previous layer". The article's generator is
``[[100, 100, "sigmoid"], [null, 784, "sigmoid"]]``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from evogan.errors import EvoganError

ACTIVATIONS: dict[str, Callable[[], nn.Module]] = {
    "sigmoid": nn.Sigmoid,
    "tanh": nn.Tanh,
    "relu": nn.ReLU,
    "leaky_relu": lambda: nn.LeakyReLU(0.2),
    "elu": nn.ELU,
    "linear": nn.Identity,
}


@dataclass(frozen=True)
class LayerSpec:
    inputs: int
    outputs: int
    activation: str


def parse_network(spec: str | Sequence[Any], *, option: str = "network") -> tuple[LayerSpec, ...]:
    """Validate a layer spec (a list, or its JSON text) and resolve ``None`` inputs."""
    if isinstance(spec, str):
        try:
            spec = json.loads(spec)
        except json.JSONDecodeError as err:
            raise EvoganError(f"{option}: not valid JSON ({err.msg})") from None
        except (ValueError, RecursionError) as err:  # a number of 4300+ digits; deep nesting
            raise EvoganError(f"{option}: not a layer spec ({err})") from None
    if not isinstance(spec, Sequence) or isinstance(spec, str) or not spec:
        raise EvoganError(f"{option}: expected a non-empty list of [inputs, outputs, activation]")
    layers: list[LayerSpec] = []
    for index, layer in enumerate(spec):
        layers.append(_parse_layer(layer, index, layers, option))
    return tuple(layers)


def _parse_layer(layer: Any, index: int, previous: list[LayerSpec], option: str) -> LayerSpec:
    where = f"{option}[{index}]"
    if not isinstance(layer, Sequence) or isinstance(layer, str) or len(layer) != 3:
        raise EvoganError(f"{where}: expected [inputs, outputs, activation], got {layer!r}")
    inputs, outputs, activation = layer
    if inputs is None or (isinstance(inputs, str) and inputs.lower() in ("none", "null")):
        if not previous:
            raise EvoganError(f"{where}: the first layer needs an explicit number of inputs")
        inputs = previous[-1].outputs
    for name, value in (("inputs", inputs), ("outputs", outputs)):
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise EvoganError(f"{where}: {name} must be a positive integer, got {value!r}")
    if previous and inputs != previous[-1].outputs:
        raise EvoganError(
            f"{where}: takes {inputs} inputs but the previous layer has "
            f"{previous[-1].outputs} outputs"
        )
    if not isinstance(activation, str) or activation not in ACTIVATIONS:  # a list is unhashable
        raise EvoganError(
            f"{where}: unknown activation {activation!r} (choose from {', '.join(ACTIVATIONS)})"
        )
    return LayerSpec(inputs, outputs, activation)


def to_pixels(output: torch.Tensor, activation: str) -> torch.Tensor:
    """Map the last layer's range onto evogan's pixel convention [-1, 1]."""
    return output * 2 - 1 if activation == "sigmoid" else output
