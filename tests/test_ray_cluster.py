"""Ray across nodes: a cluster of three nodes on this machine (``ray.cluster_utils``),
each with its own raylet and object store, one CPU each.

A run there equals the local run bit for bit (shards and islands); a worker
killed, or a whole node removed mid-generation with no replacement, changes
nothing: the lost work is redone on the actors left, the run says so in one
line and goes on with fewer workers, and grows again when a node joins.
"""

import os
import signal
import tempfile
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import torch
from conftest import TINY

from evogan.config import Config
from evogan.distributed import pool
from evogan.distributed.pool import ActorPool
from evogan.run.engine import Evolution, evolve

ray = pytest.importorskip("ray")
from ray.cluster_utils import Cluster  # noqa: E402

NODES = 3
# 12 agents in groups of 4 (128 samples each): three shards, one per node
SHARDS = {**TINY, "population": 12, "samples_per_agent": 128, "threads": 1, "ray_workers": 3}
# three islands of 4, a migration every 2 generations
ISLANDS = {**TINY, "population": 12, "islands": 3, "migration_every": 2, "migrants": 1,
           "threads": 1}  # fmt: skip
GENERATIONS = 5
SHORT_WAIT = 2.0  # seconds a replacement waits for a node once a node has gone


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    """Three nodes, one CPU each, their sessions in a private temp dir; the driver on
    the head node (it takes no CPU). Nodes removed by a test are added back."""
    if ray.is_initialized():
        ray.shutdown()
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("RAY_TMPDIR", tempfile.mkdtemp(prefix="evogan-cl-", dir="/tmp"))
        patch.delenv("RAY_ADDRESS", raising=False)
        head = {"num_cpus": 1, "include_dashboard": False,
                "_system_config": {"worker_niceness": 0}}  # fmt: skip
        nodes = Cluster(initialize_head=True, head_node_args=head)
        for _ in range(NODES - 1):
            nodes.add_node(num_cpus=1)
        nodes.wait_for_nodes()
        yield nodes
        ray.shutdown()
        nodes.shutdown()


@pytest.fixture
def joined(cluster: Cluster) -> Iterator[Cluster]:
    """The cluster, joined, with ``NODES`` nodes again after the test."""
    if not ray.is_initialized():
        ray.init(address=cluster.address, log_to_driver=False, configure_logging=False)
    yield cluster
    while len(cluster.worker_nodes) < NODES - 1:
        cluster.add_node(num_cpus=1)
    cluster.wait_for_nodes()


@pytest.fixture(scope="module")
def local_shards() -> Evolution:
    return evolve(Config(**SHARDS), generations=GENERATIONS).evolution


@pytest.fixture(scope="module")
def local_islands() -> Evolution:
    return evolve(Config(**ISLANDS), generations=GENERATIONS).evolution


def on_ray(options: dict[str, Any], cluster: Cluster, **more: Any) -> Config:
    return Config(**options, backend="ray", ray_address=cluster.address, **more)


def assert_same(ours: Evolution, theirs: Evolution) -> None:
    assert torch.equal(ours.state.population, theirs.state.population)
    assert torch.equal(ours.best_genome, theirs.best_genome)
    assert ours.best_fitness == theirs.best_fitness


def the_pool(run: Evolution) -> ActorPool:
    """The run's actors: the shard scorer's, or the islands' runner's."""
    scorer = run.parts.arena.scorer
    return scorer if isinstance(scorer, ActorPool) else run.parts.trainer.runner


def ray_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith("evogan: ray:")]


def during_next_run(actors: ActorPool, act: Callable[[], None]) -> list[int]:
    """Call ``act`` once, in the pool's next ``run``, after its jobs are cut and before
    the first is sent; returns the jobs sent, per call of ``run`` (a lost job twice)."""
    original, sends = actors.run, []

    def run(jobs: Any, send: Any) -> Any:
        sends.append(0)

        def sending(actor: Any, job: Any, fresh: bool) -> Any:
            if len(sends) == 1 and sends[0] == 0:
                act()
            sends[-1] += 1
            return send(actor, job, fresh)

        return original(jobs, sending)

    actors.run = run  # type: ignore[method-assign]
    return sends


@pytest.mark.parametrize("transport", ["compact", "full"])
def test_a_run_across_nodes_equals_the_local_run(cluster, local_shards, transport):
    """evogan joins the cluster itself (the first test to run does the joining)."""
    remote = evolve(on_ray(SHARDS, cluster, ray_transport=transport), generations=GENERATIONS)
    assert_same(remote.evolution, local_shards)
    sent = remote.evolution.parts.arena.scorer.sent
    genomes = local_shards.state.population.nbytes
    assert sent[0] == genomes  # shards; then (compact) lineages of a few bytes an agent
    assert all(n < genomes / 4 for n in sent[2:]) == (transport == "compact")


def test_islands_across_nodes_equal_local_islands(joined, local_islands):
    remote = evolve(on_ray(ISLANDS, joined), generations=GENERATIONS).evolution
    assert_same(remote, local_islands)


def test_a_worker_killed_mid_generation_changes_nothing(joined, local_shards, capsys):
    run = Evolution.start(on_ray(SHARDS, joined))
    run.step()
    actors = the_pool(run)
    victim = ray.get(actors.actors[1].pid.remote())
    sends = during_next_run(actors, lambda: os.kill(victim, signal.SIGKILL))
    for _ in range(GENERATIONS - 1):
        run.step()
    actors.close()
    assert_same(run, local_shards)
    assert sends[0] > 3  # the lost shard went again, to the replacement
    assert ray_lines(capsys.readouterr().err) == []  # replaced at once: nothing to say


@pytest.mark.parametrize("options", [SHARDS, ISLANDS], ids=["shards", "islands"])
def test_a_node_removed_mid_generation_changes_nothing_and_the_run_grows_back(
    joined, local_shards, local_islands, options, monkeypatch, capsys
):
    run = Evolution.start(on_ray(options, joined))
    if options is ISLANDS:
        run.parts.trainer.runner.copy_every = 2  # the driver's full copies at 2 and 4
    for _ in range(2):
        run.step()
    actors = the_pool(run)
    assert len(actors.actors) == NODES
    monkeypatch.setattr(pool, "PLACE_SECONDS", SHORT_WAIT)
    node = next(iter(joined.worker_nodes))
    sends = during_next_run(actors, lambda: joined.remove_node(node))
    run.step()  # generation 3: its lost shard (island) is redone on the actors left
    assert sends[0] > 3 and len(actors.actors) == NODES - 1 and len(actors.queued) == 1
    if options is ISLANDS:  # the lost island, rebuilt from the copy of 2, replays 3
        assert actors.replayed == [1, 1, 1, 1]
    run.step()
    (shrunk,) = ray_lines(capsys.readouterr().err)
    assert shrunk == (
        f"evogan: ray: 1 actor needing {{'CPU': 1.0}} not placed within {SHORT_WAIT:g} s "
        "(the cluster has {'CPU': 0.0} free); going on with 2 workers, and more when a "
        "node can take them"
    )
    joined.add_node(num_cpus=1)
    actors.admit(60)  # the queued actor, placed on the new node, starts
    run.step()
    assert len(actors.actors) == NODES and not actors.queued
    if options is ISLANDS:  # one island moved to the new node's actor (from the copy of 4)
        assert actors.replayed == [1, 1, 1, 1, 1]
    actors.close()
    assert ray_lines(capsys.readouterr().err) == [
        "evogan: ray: 1 actor placed; going on with 3 workers"
    ]
    assert_same(run, local_shards if options is SHARDS else local_islands)
