"""``--backend ray`` without ``--ray-address`` starts a Ray of its own, even beside one
started with ``ray start --head`` (running, or dead with its bootstrap file left), and
its result is the local run's.

Each test points ``RAY_TMPDIR`` at a private directory, where Ray keeps its sessions and
the bootstrap file (``ray/ray_current_cluster``): a user's own Ray under /tmp/ray is
neither read nor touched. The cluster a test starts is stopped by its process group.
"""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from conftest import TINY

from evogan.config import Config
from evogan.run.engine import Evolution, evolve_run

pytest.importorskip("ray")

RUN = {**TINY, "generations": 1, "threads": 1}
FLAGS = [
    *("--dataset", "digits", "--population", "8", "--samples-per-agent", "8"),
    *("--disc-batch", "16", "--disc-filters", "16", "--generations", "1", "--threads", "1"),
    *("--no-progress", "--backend", "ray", "--ray-workers", "1", "--out", "run"),
]
START_SECONDS = 120  # `ray start --head` takes 5-20 s on a busy 2-core machine


@pytest.fixture(scope="module")
def local_best() -> float:
    """The best fitness of the same run on the local backend."""
    return evolve_run(Evolution.start(Config(**RUN))).best_fitness


@pytest.fixture
def ray_tmp() -> Iterator[Path]:
    """A private Ray temp dir, short enough for Ray's socket paths (108 bytes at most)."""
    directory = Path(tempfile.mkdtemp(prefix="evogan-ray-", dir="/tmp"))
    (directory / "ray").mkdir()
    yield directory
    shutil.rmtree(directory, ignore_errors=True)


def environment(ray_tmp: Path) -> dict[str, str]:
    env = {**os.environ, "RAY_TMPDIR": str(ray_tmp), "OMP_NUM_THREADS": "1"}
    env.pop("RAY_ADDRESS", None)
    return env


def free_ports(count: int) -> list[int]:
    """Ports free a moment ago, all different (every socket is held until all are bound)."""
    sockets = [socket.socket() for _ in range(count)]
    for sock in sockets:
        sock.bind(("127.0.0.1", 0))
    ports = [sock.getsockname()[1] for sock in sockets]
    for sock in sockets:
        sock.close()
    return ports


@pytest.fixture
def head(ray_tmp: Path) -> Iterator[subprocess.Popen[bytes]]:
    """``ray start --head --block`` on free ports; stopped (its whole group) afterwards."""
    names = ["port", "ray-client-server-port", "node-manager-port", "object-manager-port",
             "dashboard-agent-listen-port", "dashboard-agent-grpc-port",
             "runtime-env-agent-port", "metrics-export-port"]  # fmt: skip
    ports = [f"--{name}={port}" for name, port in zip(names, free_ports(len(names)), strict=True)]
    ray = str(Path(sys.executable).parent / "ray")
    command = [ray, "start", "--head", "--block", "--num-cpus=1", "--include-dashboard=false",
               "--disable-usage-stats", *ports]  # fmt: skip
    log = (ray_tmp / "head.log").open("wb")
    process = subprocess.Popen(
        command, env=environment(ray_tmp), stdout=log, stderr=subprocess.STDOUT,
        start_new_session=True,
    )  # fmt: skip
    try:
        wait_for(lambda: bootstrap(ray_tmp).exists() or process.poll() is not None)
        assert process.poll() is None, (ray_tmp / "head.log").read_text()
        yield process
    finally:
        stop_group(process)
        log.close()


def bootstrap(ray_tmp: Path) -> Path:
    return ray_tmp / "ray" / "ray_current_cluster"


def wait_for(done: Callable[[], bool], seconds: float = START_SECONDS) -> None:
    deadline = time.monotonic() + seconds
    while not done():
        if time.monotonic() > deadline:
            pytest.fail(f"not done after {seconds} s")
        time.sleep(0.2)


def stop_group(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM to the process group of ``process`` (only what it started), then SIGKILL."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            break
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and group_alive(process):
            time.sleep(0.2)
        if not group_alive(process):
            break
    process.wait(timeout=20)


def group_alive(process: subprocess.Popen[bytes]) -> bool:
    process.poll()  # reaps the leader, whose pid the group keeps while members are left
    try:
        os.killpg(process.pid, 0)
    except ProcessLookupError:
        return False
    return True


def train_on_ray(ray_tmp: Path) -> float:
    """``evogan train --backend ray`` in a subprocess: its best fitness, after a clean exit."""
    command = [sys.executable, "-m", "evogan.cli", "train", *FLAGS]
    done = subprocess.run(
        command, cwd=ray_tmp, env=environment(ray_tmp), capture_output=True, text=True,
        timeout=240,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("stopped (generations 1) after 1 generations"), done.stdout
    return json.loads((ray_tmp / "run" / "summary.json").read_text())["best_fitness"]


def test_a_running_cluster_is_left_alone_and_the_run_equals_the_local_run(
    ray_tmp: Path, head: subprocess.Popen[bytes], local_best: float
) -> None:
    address = bootstrap(ray_tmp).read_text()
    assert train_on_ray(ray_tmp) == local_best
    assert head.poll() is None, "the cluster was stopped by the run"
    assert bootstrap(ray_tmp).read_text() == address


def test_a_stale_bootstrap_file_is_ignored(ray_tmp: Path, local_best: float) -> None:
    """The file a dead ``ray start`` leaves: an address where nothing listens."""
    (port,) = free_ports(1)
    bootstrap(ray_tmp).write_text(f"127.0.0.1:{port}")
    assert train_on_ray(ray_tmp) == local_best
    assert bootstrap(ray_tmp).read_text() == f"127.0.0.1:{port}"
