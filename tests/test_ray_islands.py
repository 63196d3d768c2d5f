"""Islands on Ray actors: the local islands' result bit for bit, through migrations, a
killed worker (replayed from the driver's last full copy) and a resume; an island's state
stays on its actor; islands draw from streams of their own."""

import dataclasses
import os
import signal

import numpy as np
import pytest
import torch
from conftest import TINY, without_time

from evogan.config import Config
from evogan.distributed.cluster import to_wire, wire_bytes
from evogan.distributed.islands import RayIslands
from evogan.game import LocalScorer
from evogan.outputs.callbacks import RunDirectory
from evogan.run.checkpoint import resume
from evogan.run.engine import Evolution, evolve, evolve_run
from evogan.trainers.islands import LocalIslands

ray = pytest.importorskip("ray")

# two islands of 8, a migration every 2 generations, one thread as on each actor
ISLANDS = {**TINY, "population": 16, "islands": 2, "migration_every": 2, "migrants": 1,
           "threads": 1}  # fmt: skip


def critic_weights(run: Evolution) -> list[torch.Tensor]:
    critics = [run.parts.critic, *run.state.critics]
    return [torch.cat([p.detach().reshape(-1) for p in c.model.parameters()]) for c in critics]


def assert_same_run(ours: Evolution, theirs: Evolution) -> None:
    assert torch.equal(ours.state.population, theirs.state.population)
    assert torch.equal(ours.best_genome, theirs.best_genome)
    for a, b in zip(critic_weights(ours), critic_weights(theirs), strict=True):
        assert torch.equal(a, b)
    for a, b in zip(ours.state.streams, theirs.state.streams, strict=True):
        states = zip(a.state_dict().values(), b.state_dict().values(), strict=True)
        assert all(torch.equal(x, y) for x, y in states)
    assert torch.equal(ours.torch_rng, theirs.torch_rng)


@pytest.mark.parametrize("trainer", ["ga", "es"])
def test_islands_on_actors_equal_local_islands_bit_for_bit(ray_session, trainer):
    local = evolve(Config(**ISLANDS, trainer=trainer), generations=5)
    remote = evolve(Config(**ISLANDS, trainer=trainer, backend="ray"), generations=5)
    assert isinstance(remote.evolution.parts.trainer.runner, RayIslands)
    assert isinstance(remote.evolution.parts.arena.scorer, LocalScorer)
    assert remote.evolution.parts.trainer.runner.actors == []  # closed with the run
    assert_same_run(remote.evolution, local.evolution)
    assert without_time(remote.history) == without_time(local.history)
    assert [row["islands/migration"] for row in remote.history] == [0, 1, 0, 1, 0]
    assert remote.evolution.parts.trainer.runner.replayed == [1, 1]  # the first generation


def test_islands_live_on_their_actors_and_little_crosses(ray_session):
    """After the first generation (every island in full) an island's state stays on its
    actor: the driver sends the clock (and migrants), and reads bests and metrics."""
    config = Config(**{**ISLANDS, "population": 32, "backend": "ray"})  # two islands of 16
    remote = evolve(config, generations=4).evolution
    runner = remote.parts.trainer.runner
    island = remote.state.islands[0].population.nbytes  # 16 genomes
    migrant = remote.state.islands[0].population[0].nbytes
    assert runner.sent[0] > 2 * island  # generation 1: both islands in full
    assert all(n < 2 * 1024 for n in runner.sent[2::2])  # generation 3: the clock
    assert all(2 * migrant < n < 3 * migrant for n in runner.sent[1::2])  # 2 and 4: migrants
    per_island = [(sent + received) / 2 for sent, received in zip(
        runner.sent[1:], runner.received[1:], strict=True)]  # fmt: skip
    assert max(per_island) < island / 4
    assert len(runner.fetched) == 1 and runner.fetched[0] > 2 * island  # the end, in full
    # the closed run goes on: new actors get the islands from the copy taken at its end
    remote.parts.config = config.replace(generations=5)
    evolve_run(remote)
    assert runner.replayed == [1, 1, 1, 1]  # generation 1, then generation 5 on the copy
    assert_same_run(remote, evolve(config.replace(backend="local"), generations=5).evolution)


@pytest.mark.parametrize(("trainer", "copy_every", "replayed"), [("ga", 10, 5), ("es", 2, 2)])
def test_a_killed_island_worker_is_replaced_and_the_run_is_unchanged(
    ray_session, trainer, copy_every, replayed
):
    """The lost island is rebuilt from the driver's last full copy (generation 0, or 2)
    and replays the events since: generations 1..4 and the migrants of 2, or 3 and 4."""
    local = Evolution.start(Config(**ISLANDS, trainer=trainer))
    run = Evolution.start(Config(**ISLANDS, trainer=trainer, backend="ray"))
    runner = run.parts.trainer.runner
    runner.copy_every = copy_every
    for _ in range(3):
        local.step()
        run.step()
    victim = ray.get(runner.actors[1].pid.remote())
    os.kill(victim, signal.SIGKILL)
    for _ in range(2):
        local.step()
        run.step()
    assert ray.get(runner.actors[1].pid.remote()) != victim
    assert runner.replayed == [1, 1, replayed]
    runner.close()
    assert_same_run(run, local)


def test_ray_islands_resume_from_a_checkpoint_as_if_never_stopped(ray_session, tmp_path):
    config = Config(**ISLANDS, generations=5, checkpoint_every=1, sample_every=0)
    straight = evolve(config).evolution  # local: the Ray run equals it
    on_ray = config.replace(backend="ray", generations=3)
    evolve_run(Evolution.start(on_ray), [RunDirectory(tmp_path)])
    resumed = evolve_run(resume(tmp_path, {"generations": 5}), [RunDirectory(tmp_path)])
    assert_same_run(resumed.evolution, straight)
    assert without_time(resumed.history) == without_time(straight.history)


def test_shared_critic_islands_on_actors_equal_local_islands(ray_session):
    config = Config(**ISLANDS, trainer="es", shared_critic=True)
    local = evolve(config, generations=3)
    remote = evolve(config.replace(backend="ray"), generations=3)
    assert_same_run(remote.evolution, local.evolution)
    assert without_time(remote.history) == without_time(local.history)


def test_wire_bytes_counts_arrays_without_copying_them():
    array = np.zeros((100, 1000), dtype=np.float32)
    assert array.nbytes < wire_bytes({"population": array}) < array.nbytes + 200
    assert wire_bytes(to_wire(torch.zeros(1000))) >= 4000


class ReversedIslands(LocalIslands):
    """The local runner, last island first."""

    def step_all(self, inner, states, arenas, streams, rngs):
        after, metrics, rngs = super().step_all(inner, states[::-1], arenas[::-1],
                                                streams[::-1], rngs[::-1])  # fmt: skip
        return after[::-1], metrics[::-1], rngs[::-1]


def test_islands_step_alike_in_any_order():
    """What lets islands run in parallel: no island's draws depend on another's."""
    forward = Evolution.start(Config(**ISLANDS))
    backward = Evolution.start(Config(**ISLANDS))
    backward.parts.trainer = dataclasses.replace(backward.parts.trainer, runner=ReversedIslands())
    for _ in range(3):
        assert forward.step() == backward.step()
    assert_same_run(backward, forward)


class FakeRay:
    """Records how evogan starts Ray."""

    def __init__(self) -> None:
        self.calls: list[dict] = []

    def is_initialized(self) -> bool:
        return bool(self.calls)

    def init(self, **options) -> None:
        self.calls.append(options)


def test_a_local_ray_runs_its_workers_at_normal_priority_and_a_cluster_is_joined_as_is():
    from evogan.distributed.cluster import connect

    local, cluster = FakeRay(), FakeRay()
    assert connect(local, None, 3) and not connect(local, None, 3)  # started once, by us
    assert not connect(cluster, "auto", 3)  # a cluster is not ours to stop
    assert local.calls[0]["address"] == "local"  # not a cluster that `ray start` left here
    assert local.calls[0]["num_cpus"] == 3
    assert local.calls[0]["_system_config"] == {"worker_niceness": 0}
    assert cluster.calls == [{"address": "auto", "include_dashboard": False,
                              "log_to_driver": False, "configure_logging": False}]  # fmt: skip
