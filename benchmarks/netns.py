"""A Ray cluster across two network namespaces, the link between them capped.

``ray_overhead.py --nodes N --cap-mbit M`` runs its cluster this way: the head
node (no CPUs) and the driver in one namespace, the N worker nodes in a
second, the two joined by a veth pair whose ends ``tc`` caps at M Mbit/s each
way (a token bucket: 119 MB/s at 1000 in a probe), so that every byte the
driver sends its actors or reads back crosses a link as slow as a cluster's.
The worker nodes share that one link, as a cluster's machines share the
driver's network port, which is what the scaling model charges. ``--cap-mbit
0`` leaves the pair uncapped (about 1.8 GB/s here). Both namespaces are made
and removed here, and the host's own interfaces are never touched; it needs
root (``ip netns``, ``tc``).

The Ray processes are stopped by the PIDs the namespaces hold, never with
``ray stop``: that stops every Ray on the machine.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

NAMESPACES = ("evogan-head", "evogan-nodes")  # the driver and head; the worker nodes
ADDRESSES = ("10.77.0.1", "10.77.0.2")
ENDS = ("evogan-a", "evogan-b")  # the veth pair's ends, one in each namespace
PORT = 6379  # the head's, inside its namespace: no clash with a Ray on the host
# without it the nodes of Ray 2.60 refuse each other ("InvalidAuthToken")
ENV = {"RAY_AUTH_MODE": "disabled"}


class NetnsError(Exception):
    """The namespaces or the cluster in them could not be set up."""


def sh(*command: str, namespace: str | None = None, env: dict[str, str] | None = None) -> str:
    """``command`` (inside ``namespace``), its output; a failure raises ``NetnsError``."""
    line = ["ip", "netns", "exec", namespace, *command] if namespace else list(command)
    try:
        done = subprocess.run(line, capture_output=True, text=True, env=env, check=True)
    except (OSError, subprocess.CalledProcessError) as err:
        detail = getattr(err, "stderr", "") or str(err)
        raise NetnsError(f"{' '.join(line)}: {detail.strip().splitlines()[-1:]}") from None
    return done.stdout


def run_inside(nodes: int, mbit: int, argv: list[str], *, cpus: int, store_bytes: int) -> int:
    """Run ``argv`` (this Python) beside the head of a cluster of ``nodes`` nodes of
    ``cpus`` CPUs across a link capped at ``mbit`` Mbit/s (0: uncapped), with
    ``--joined ADDRESS`` added; its exit status. Everything is removed afterwards,
    also when this process is told to stop (SIGTERM, as ``timeout`` sends)."""
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(128 + signal.SIGTERM))
    with capped_cluster(nodes, mbit, cpus=cpus, store_bytes=store_bytes) as (address, env):
        line = ["ip", "netns", "exec", NAMESPACES[0], sys.executable, *argv, "--joined", address]
        return subprocess.run(line, env=env).returncode


@contextmanager
def capped_cluster(
    nodes: int, mbit: int, *, cpus: int, store_bytes: int
) -> Iterator[tuple[str, dict[str, str]]]:
    """The head's address and the environment to join it with, while the cluster is up."""
    if os.geteuid() != 0:
        raise NetnsError("--cap-mbit needs root (ip netns, tc)")
    there = sh("ip", "netns", "list")
    if any(name in there.split() for name in NAMESPACES):
        raise NetnsError(f"network namespace {' or '.join(NAMESPACES)} exists (a run left "
                         "it?): kill the PIDs `ip netns pids NAME` lists, then "
                         "`ip netns del NAME`")  # fmt: skip
    folder = tempfile.mkdtemp(prefix="evogan-netns-", dir="/tmp")  # Ray's sessions: private
    env = os.environ | ENV | {"RAY_TMPDIR": folder}
    made: list[str] = []
    try:
        link(mbit, made)
        start_nodes(nodes, cpus, store_bytes, env)
        yield f"{ADDRESSES[0]}:{PORT}", env
    finally:
        remove(made)
        shutil.rmtree(folder, ignore_errors=True)


def link(mbit: int, made: list[str]) -> None:
    """The two namespaces (named in ``made`` as they are made) and the veth pair."""
    for namespace in NAMESPACES:
        sh("ip", "netns", "add", namespace)
        made.append(namespace)
    sh("ip", "link", "add", ENDS[0], "netns", NAMESPACES[0],
       "type", "veth", "peer", "name", ENDS[1], "netns", NAMESPACES[1])  # fmt: skip
    for namespace, end, address in zip(NAMESPACES, ENDS, ADDRESSES, strict=True):
        sh("ip", "link", "set", "lo", "up", namespace=namespace)
        sh("ip", "addr", "add", f"{address}/24", "dev", end, namespace=namespace)
        sh("ip", "link", "set", end, "up", namespace=namespace)
        if mbit:  # each end shapes what it sends: both directions capped
            sh("tc", "qdisc", "add", "dev", end, "root", "tbf", "rate", f"{mbit}mbit",
               "burst", "256kb", "latency", "50ms", namespace=namespace)  # fmt: skip


def start_nodes(nodes: int, cpus: int, store_bytes: int, env: dict[str, str]) -> None:
    """The head (no CPUs) in the first namespace, ``nodes`` worker nodes in the second."""
    ray = str(Path(sys.executable).with_name("ray"))
    common = ["start", "--disable-usage-stats", f"--object-store-memory={store_bytes}"]
    # workers at normal priority, as in the local Ray that evogan starts itself
    head = ["--head", f"--port={PORT}", "--num-cpus=0", "--include-dashboard=false",
            "--system-config", json.dumps({"worker_niceness": 0})]  # fmt: skip
    sh(ray, *common, *head, f"--node-ip-address={ADDRESSES[0]}", namespace=NAMESPACES[0], env=env)
    for _ in range(nodes):
        sh(ray, *common, f"--address={ADDRESSES[0]}:{PORT}", f"--num-cpus={cpus}",
           f"--node-ip-address={ADDRESSES[1]}", namespace=NAMESPACES[1], env=env)  # fmt: skip


def remove(made: list[str]) -> None:
    """Stop every process in ``made``'s namespaces (TERM, then KILL), then remove them."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        pids = [int(p) for ns in made for p in sh("ip", "netns", "pids", ns).split()]
        for pid in pids:
            with suppress(ProcessLookupError):
                os.kill(pid, sig)
        for _ in range(50):  # up to 5 s for them to go
            if not any(sh("ip", "netns", "pids", ns).strip() for ns in made):
                break
            time.sleep(0.1)
    for namespace in made:  # its end of the veth pair goes with it
        sh("ip", "netns", "del", namespace)


def wait_for_nodes(ray: object, nodes: int, timeout_s: float = 60) -> None:
    """Until the head and ``nodes`` worker nodes are alive (``ray``: the joined module)."""
    deadline = time.monotonic() + timeout_s
    while sum(node["Alive"] for node in ray.nodes()) < nodes + 1:  # type: ignore[attr-defined]
        if time.monotonic() > deadline:
            raise NetnsError(f"{nodes} worker nodes not up after {timeout_s:.0f} s")
        time.sleep(0.5)


def probe(ray: object, megabytes: int = 200) -> dict[str, float]:
    """The link's rate as Ray moves bytes: an object put in the driver's store and
    fetched by a task on a worker node (the head has no CPUs to run it)."""
    import numpy as np

    def fetch(refs: list[object]) -> float:
        began = time.perf_counter()
        ray.get(refs[0])  # type: ignore[attr-defined]
        return time.perf_counter() - began

    size = megabytes * 10**6
    ref = ray.put(np.ones(size, dtype=np.uint8))  # type: ignore[attr-defined]
    task = ray.remote(num_cpus=1)(fetch)  # type: ignore[attr-defined]
    seconds = float(ray.get(task.remote([ref])))  # type: ignore[attr-defined]
    return {"bytes": size, "seconds": seconds, "bytes_per_s": size / seconds}
