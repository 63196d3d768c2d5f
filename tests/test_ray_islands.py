"""Islands on Ray actors: the local islands' result bit for bit, through migrations and a
killed worker; islands draw from streams of their own."""

import dataclasses
import os
import signal

import pytest
import torch
from conftest import TINY, without_time

from evogan.config import Config
from evogan.distributed.islands import RayIslands
from evogan.game import LocalScorer
from evogan.run.engine import Evolution, evolve
from evogan.trainers.islands import local_islands

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
    # a state goes into the store at first and after each migration (generations 1, 3, 5);
    # in between an actor gets back the state it returned, as it is in the store
    population = local.evolution.state.islands[0].population
    sent = remote.evolution.parts.trainer.runner.sent
    assert len(sent) == 6 and all(n >= population.nbytes for n in sent)


def test_a_killed_island_worker_is_replaced_and_the_run_is_unchanged(ray_session):
    local = Evolution.start(Config(**ISLANDS))
    run = Evolution.start(Config(**ISLANDS, backend="ray"))
    for _ in range(3):
        local.step()
        run.step()
    runner = run.parts.trainer.runner
    victim = ray.get(runner.actors[1].pid.remote())
    os.kill(victim, signal.SIGKILL)
    for _ in range(2):
        local.step()
        run.step()
    assert ray.get(runner.actors[1].pid.remote()) != victim
    runner.close()
    assert_same_run(run, local)


def reversed_islands(inner, states, arenas, streams, rngs):
    """The local runner, last island first."""
    after, metrics, rngs = local_islands(inner, states[::-1], arenas[::-1], streams[::-1],
                                         rngs[::-1])  # fmt: skip
    return after[::-1], metrics[::-1], rngs[::-1]


def test_islands_step_alike_in_any_order():
    """What lets islands run in parallel: no island's draws depend on another's."""
    forward = Evolution.start(Config(**ISLANDS))
    backward = Evolution.start(Config(**ISLANDS))
    backward.parts.trainer = dataclasses.replace(backward.parts.trainer, runner=reversed_islands)
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
