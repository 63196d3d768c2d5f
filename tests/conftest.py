"""Shared tiny settings for the engine, checkpoint and CLI tests."""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import torch

from evogan.networks import GeneratorSpec, build_generator, parse_network
from evogan.networks.generators import Generator

# The shared MNIST test split (t10k files), outside the repository.
MNIST_DIR = Path(__file__).resolve().parents[2] / "shared" / "data" / "mnist"

# A run small enough for a test: 8 agents on the built-in 8x8 digits. A critic
# of 16 filters instead of 64 makes a generation ~20x faster on a busy 2-core box.
TINY: dict[str, Any] = {
    "dataset": "digits",
    "population": 8,
    "samples_per_agent": 8,
    "disc_batch": 16,
    "disc_filters": 16,
    "progress": False,
}


def straight_and_resumed(config: Any, tmp_path: Path) -> tuple[Any, Any]:
    """``config`` (4 generations) run straight, and run 2 then resumed to 4: the results."""
    from evogan.outputs.callbacks import RunDirectory
    from evogan.run.checkpoint import resume
    from evogan.run.engine import Evolution, evolve_run

    config = config.replace(generations=4, checkpoint_every=1)
    straight = evolve_run(Evolution.start(config), [RunDirectory(tmp_path / "a")])
    evolve_run(Evolution.start(config.replace(generations=2)), [RunDirectory(tmp_path / "b")])
    resumed = evolve_run(resume(tmp_path / "b", {"generations": 4}), [RunDirectory(tmp_path / "b")])
    return straight, resumed


def without_time(history: list[dict[str, float]]) -> list[dict[str, float]]:
    """Metrics rows minus the wall-clock ones, which never repeat."""
    return [{k: v for k, v in row.items() if not k.startswith("time/")} for row in history]


def make_generator(kind: str, image_size: int = 8, **changes: Any) -> Generator:
    """A small generator of ``kind`` for ``image_size`` x ``image_size`` images."""
    options: dict[str, Any] = {
        "kind": kind,
        "image_size": image_size,
        "latent_dim": 5,
        "hidden": 6,
        "channels": 3,
        "basis_size": min(4, image_size),
        "network": None,
        "bias": True,
        "init": "scaled",
    }
    if kind == "mlp":
        options["network"] = parse_network([[5, 7, "tanh"], [None, image_size**2, "tanh"]])
    options.update(changes)
    return build_generator(GeneratorSpec(**options))


def gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


@pytest.fixture(autouse=True)
def one_thread() -> Iterator[None]:
    """Tiny tensors are overhead-bound: a second thread only adds contention."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="session")
def ray_session() -> Iterator[None]:
    """One local Ray for the tests that need it (starting it costs seconds); evogan
    joins it instead of starting its own."""
    ray = pytest.importorskip("ray")
    ray.init(
        address="local",
        num_cpus=2,
        include_dashboard=False,
        log_to_driver=False,
        configure_logging=False,
    )
    yield
    ray.shutdown()
