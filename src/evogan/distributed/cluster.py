"""Joining (or starting) Ray, and moving tensors through its object store.

What the two Ray backends share, with the actor pool (``evogan.distributed.pool``):
the shard scorer (``evogan.distributed.scorer``) and islands as actors
(``evogan.distributed.islands``). Ray is imported only when one of them is used.

Tensors travel as numpy arrays: Ray pickles a torch tensor by copying it on
both sides (a 354 MB population took 1.6-2.5 s to put and 0.7-2.7 s to get),
while a numpy array is put in 0.2 s and read in place, without a copy.
"""

from __future__ import annotations

import dataclasses
import pickle
import warnings
from typing import Any

import numpy as np
import torch

from evogan.errors import EvoganError

Genomes = torch.Tensor | np.ndarray  # [n, n_params]; numpy on the wire (read in place)


def import_ray() -> Any:
    try:
        import ray
    except ImportError:
        raise EvoganError(
            "--backend ray: Ray is not installed (pip install 'evogan[ray]')"
        ) from None
    return ray


def connect(ray: Any, address: str | None, cpus: int) -> bool:
    """Join the cluster at ``address``, or start a local Ray of ``cpus`` CPUs; whether
    this call started Ray (and so should stop it)."""
    if ray.is_initialized():
        return False
    # Ray runs its workers at nice 15: on a busy machine they starved, and a 1-generation
    # run waited 2 minutes for its actors (16 s at nice 0). The driver only waits for them.
    local = {"num_cpus": cpus, "_system_config": {"worker_niceness": 0}}
    # "local", not None: None joins whatever cluster $RAY_ADDRESS or the bootstrap file
    # ($RAY_TMPDIR/ray/ray_current_cluster, left by `ray start`, alive or not) names. A
    # private Ray keeps the run's CPUs, niceness and code, so its result is the same.
    try:
        ray.init(address=address or "local", include_dashboard=False, log_to_driver=False,
                 configure_logging=False, **(local if address is None else {}))  # fmt: skip
    except (ConnectionError, RuntimeError, ValueError) as err:
        where = f"--ray-address {address}" if address else "--backend ray (a local Ray)"
        raise EvoganError(f"{where}: cannot start Ray ({err})") from None
    return address is None


def to_store(genomes: torch.Tensor) -> np.ndarray:
    """Genomes as the object store reads them in place: a numpy array."""
    return genomes.detach().cpu().contiguous().numpy()


def from_store(genomes: Genomes) -> torch.Tensor:
    """A tensor over the object store's (read-only) array, without a copy. Torch warns
    that it could write there; evogan only reads what it receives."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return torch.as_tensor(genomes)


def to_wire(value: Any) -> Any:
    """``value`` with every tensor inside (dataclasses, dicts, lists, tuples) as numpy."""
    return _convert(value, lambda t: to_store(t) if isinstance(t, torch.Tensor) else t)


def from_wire(value: Any) -> Any:
    """The inverse of ``to_wire``: numpy arrays back to tensors (views, no copy)."""
    return _convert(value, lambda a: from_store(a) if isinstance(a, np.ndarray) else a)


def leaves(value: Any) -> list[np.ndarray]:
    """The numpy arrays inside a ``to_wire`` value."""
    found: list[np.ndarray] = []
    _convert(value, lambda a: found.append(a) if isinstance(a, np.ndarray) else None)
    return found


def wire_bytes(value: Any) -> int:
    """The bytes ``value`` takes pickled, numpy arrays out of band (counted, not copied)."""
    buffers: list[pickle.PickleBuffer] = []
    size = len(pickle.dumps(value, protocol=5, buffer_callback=buffers.append))
    return size + sum(buffer.raw().nbytes for buffer in buffers)


def _convert(value: Any, leaf: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        changes = {
            f.name: _convert(getattr(value, f.name), leaf) for f in dataclasses.fields(value)
        }
        return dataclasses.replace(value, **changes)
    if isinstance(value, dict):
        return {key: _convert(item, leaf) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_convert(item, leaf) for item in value)
    return leaf(value)


__all__ = [
    "Genomes",
    "connect",
    "from_store",
    "from_wire",
    "import_ray",
    "leaves",
    "to_store",
    "to_wire",
    "wire_bytes",
]
