"""The Ray backend: shards on actors give the local result bit for bit, and survive a kill;
GA generations travel as lineages that the actors rebuild."""

import itertools
import os
import signal

import pytest
import torch
from conftest import TINY

from evogan.config import Config
from evogan.distributed.scorer import RayScorer, ShardWorker, WorkerSpec, shard_bounds
from evogan.run.engine import Evolution, evolve
from evogan.trainers import ga
from evogan.trainers.lineage import breed

ray = pytest.importorskip("ray")

# 128 samples per agent: groups of 4 agents, so the 8 agents make two shards, one per actor
RAY = {**TINY, "samples_per_agent": 128, "threads": 1, "backend": "ray", "ray_workers": 2}


def test_shards_cut_on_group_boundaries_and_cover_the_population():
    assert shard_bounds(10, 2, 3) == [(0, 6), (6, 10)]
    assert shard_bounds(8, 3, 1) == [(0, 3), (3, 6), (6, 8)]
    assert shard_bounds(2, 4, 5) == [(0, 2)]
    for population, workers, group in [(50, 2, 32), (1000, 7, 10), (9, 9, 2)]:
        bounds = shard_bounds(population, workers, group)
        assert bounds[0][0] == 0 and bounds[-1][1] == population
        assert all(a % group == 0 and a < b for a, b in bounds)
        assert all(b == c for (_, b), (c, _) in itertools.pairwise(bounds))


@pytest.mark.parametrize(
    ("transport", "pixel_mmd"), [("compact", 0.0), ("full", 0.0), ("compact", 2.0)]
)
def test_a_ray_run_equals_the_local_run_bit_for_bit(ray_session, transport, pixel_mmd):
    """With --pixel-mmd-weight the actors also get the generation's real images."""
    settings = {**RAY, "pixel_mmd_weight": pixel_mmd}
    local = evolve(Config(**{**settings, "backend": "local"}), generations=4)
    remote = evolve(Config(**settings, ray_transport=transport), generations=4)
    assert torch.equal(remote.evolution.state.population, local.evolution.state.population)
    assert torch.equal(remote.evolution.best_genome, local.evolution.best_genome)
    assert remote.history[-1]["fitness/best"] == local.history[-1]["fitness/best"]
    sent = remote.evolution.parts.arena.scorer.sent
    genomes = local.evolution.state.population.nbytes
    if transport == "full":  # every generation: each agent's genome once
        assert sent == [genomes] * 4
    else:  # shards, the whole population to each actor once, then lineages only
        assert sent[:2] == [genomes, 2 * genomes]
        assert all(0 < n < genomes / 4 for n in sent[2:])


def test_with_lineages_the_driver_breeds_only_the_rows_it_reads(ray_session, monkeypatch):
    """32 agents: the critic reads 4, the next parents are the best 7 (the 2 elites among
    them); the actors rebuild the rest. Generation 1 goes whole (nothing to breed it from)."""
    options = {**RAY, "population": 32, "elitism": 2, "disc_batch": 4, "ray_transport": "compact"}
    local = evolve(Config(**{**options, "backend": "local"}), generations=4)
    rows: list[int] = []

    def counting(params, parents, lineage, wanted=None):
        rows.append(len(lineage) if wanted is None else len(wanted))
        return breed(params, parents, lineage, wanted)

    monkeypatch.setattr(ga, "breed", counting)  # the driver's: the actors import their own
    remote = evolve(Config(**options), generations=4)
    bred = sum(rows)  # 4 tells; the last generation is not read yet
    assert 32 < bred <= 32 + 2 * (4 + 7), rows
    assert torch.equal(remote.evolution.state.population, local.evolution.state.population)
    assert torch.equal(remote.evolution.best_genome, local.evolution.best_genome)


def test_a_killed_worker_mid_run_gets_the_whole_population_and_the_run_is_unchanged(ray_session):
    local = evolve(Config(**{**RAY, "backend": "local"}), generations=5)
    run = Evolution.start(Config(**RAY, ray_transport="compact"))
    for _ in range(3):
        run.step()
    evaluator = run.parts.arena.scorer
    os.kill(ray.get(evaluator.actors[1].pid.remote()), signal.SIGKILL)
    for _ in range(2):
        run.step()
    evaluator.close()
    assert torch.equal(run.state.population, local.evolution.state.population)
    genomes = run.state.population.nbytes
    assert evaluator.sent[3] > genomes / 2  # the new actor got the whole population
    assert evaluator.sent[4] < genomes / 4  # and lineages again after it


def test_an_actor_rebuilds_a_generation_from_held_parents_and_says_when_it_has_none():
    """Without Ray: the actor class itself, against the driver's own GA."""
    run = Evolution.start(Config(**TINY))
    spec = run.parts.spec
    worker = ShardWorker(WorkerSpec(spec, 8, 16, 0.4, rebuild=run.parts.trainer.rebuild))
    weights = run.parts.critic.model.state_dict()
    latents = torch.randn(8, spec.latent_dim, generator=torch.Generator().manual_seed(0))
    run.step()
    parents = run.state.population  # generation 1, the first with a lineage
    run.step()
    lineage = run.state.lineage
    assert worker.evaluate_bred(weights, lineage, (0, 8), latents) is None  # nothing held
    worker.evaluate_whole(weights, parents, run.state.lineage.parent_seed, (0, 8), latents)
    bred = worker.evaluate_bred(weights, lineage, (2, 6), latents)
    expected = worker.evaluate(weights, run.state.population[2:6], latents)
    assert bred is not None
    assert torch.equal(bred[0], expected[0]) and torch.equal(bred[1], expected[1])
    held = worker.held[lineage.seed]  # its shard, and the parents to breed any other row
    assert torch.equal(held.rows, torch.arange(2, 6))
    assert torch.equal(held.genomes, run.state.population[2:6])
    assert held.parents is not None and len(held.parents) == len(lineage.parents())


def test_an_actor_breeds_only_its_shard_and_the_parents_it_lacks():
    """Without Ray: shards that move between generations, a second shard of one
    generation, and a missed generation; every row equal to the driver's."""
    run = Evolution.start(Config(**TINY | {"population": 12, "selection": "tournament"}))
    bred: list[int] = []

    def rebuild(parents, lineage, rows=None):
        bred.append(12 if rows is None else len(rows))
        return run.parts.trainer.rebuild(parents, lineage, rows)

    worker = ShardWorker(WorkerSpec(run.parts.spec, 8, 16, 0.4, rebuild=rebuild))
    weights = run.parts.critic.model.state_dict()
    latents = torch.randn(8, run.parts.spec.latent_dim)
    run.step()
    worker.evaluate_whole(weights, run.state.population, run.state.lineage.seed, (0, 4), latents)
    for shards in ([(0, 6)], [(6, 12)], [(3, 9), (0, 3)], [(9, 12)]):
        run.step()
        bred.clear()
        for start, stop in shards:
            rows = torch.arange(start, stop)
            assert torch.equal(worker.breed(run.state.lineage, rows), run.state.population[rows])
        # the shard, and at most the parents it did not breed: never a whole population
        shard = sum(stop - start for start, stop in shards)
        assert shard <= sum(bred) <= shard + len(run.state.lineage.parents()) and max(bred) < 12
        assert bred == [6] or shards != [(0, 6)]  # after the whole one, every parent is held
    run.step()
    run.step()  # a generation this actor never saw: it says so
    assert worker.breed(run.state.lineage, torch.arange(4)) is None


def test_a_killed_worker_is_replaced_and_the_scores_do_not_change(ray_session):
    run = Evolution.start(Config(**RAY))
    evaluator = run.parts.arena.scorer
    population = run.state.population
    latents = torch.randn(8, run.parts.spec.latent_dim, generator=torch.Generator().manual_seed(0))
    critic = run.parts.critic.model
    before = evaluator.evaluate(population, latents, critic)
    victim = ray.get(evaluator.actors[0].pid.remote())
    os.kill(victim, signal.SIGKILL)
    after = evaluator.evaluate(population, latents, critic)
    assert torch.equal(after[0], before[0]) and torch.equal(after[1], before[1])
    assert ray.get(evaluator.actors[0].pid.remote()) != victim
    evaluator.close()


def test_auto_transport_is_full_on_a_local_ray_and_compact_on_a_cluster():
    run = Evolution.start(Config(**TINY))
    spec = WorkerSpec(run.parts.spec, 8, 16, 0.4, rebuild=run.parts.trainer.rebuild)
    assert not RayScorer(spec, workers=1, address=None).compact
    assert RayScorer(spec, workers=1, address="auto").compact
    assert RayScorer(spec, workers=1, address=None, transport="compact").compact
    assert not RayScorer(spec, workers=1, address="auto", transport="full").compact


def test_one_worker_on_this_machine_gets_full_genomes_and_says_so(ray_session, capfd):
    """With lineages a lone actor would breed every row the driver also breeds."""
    local = evolve(Config(**{**RAY, "backend": "local"}), generations=3)
    remote = evolve(Config(**RAY | {"ray_workers": 1, "ray_transport": "compact"}), generations=3)
    assert torch.equal(remote.evolution.state.population, local.evolution.state.population)
    assert torch.equal(remote.evolution.best_genome, local.evolution.best_genome)
    genomes = local.evolution.state.population.nbytes
    assert remote.evolution.parts.arena.scorer.sent == [genomes] * 3
    assert capfd.readouterr().err.count("one worker, on this machine: sending full genomes") == 1


def test_one_worker_on_another_node_still_gets_lineages(ray_session, monkeypatch):
    run = Evolution.start(Config(**RAY | {"ray_workers": 1, "ray_transport": "compact"}))
    scorer = run.parts.arena.scorer
    scorer.start()
    assert not scorer.rebuilds  # on the driver's node
    scorer.alone = None  # asked again: now the driver seems to be on another node

    class Elsewhere:
        def get_node_id(self) -> str:
            return "f" * 56

    monkeypatch.setattr(
        ray, "get_runtime_context", Elsewhere
    )  # the driver's (the actor's runs there)
    assert scorer.rebuilds
    for _ in range(3):
        run.step()
    scorer.close()
    assert all(n < run.state.population.nbytes / 4 for n in scorer.sent[2:])
