"""Islands: per-island metrics and critics, ring migration every M generations, exact resume."""

import dataclasses
import json
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
import torch
from conftest import TINY, without_time
from test_cli import TINY_ARGS, evogan, ok

from evogan.config import Config
from evogan.errors import EvoganError
from evogan.genome import GenomeLayout
from evogan.outputs.callbacks import RunDirectory
from evogan.run.checkpoint import resume
from evogan.run.engine import Evolution, evolve, evolve_run
from evogan.run.export import load_generator
from evogan.streams import Streams
from evogan.trainers.es import ESState, ESTrainer
from evogan.trainers.ga import GAState, GATrainer
from evogan.trainers.islands import MIGRATIONS, IslandsState, IslandsTrainer, summarise

ISLANDS = {**TINY, "population": 16, "islands": 2, "migration_every": 2, "migrants": 1}


def weights(critic: Any) -> torch.Tensor:
    return torch.cat([p.detach().reshape(-1) for p in critic.model.parameters()])


@pytest.mark.parametrize("trainer", sorted(MIGRATIONS))
def test_islands_run_and_report_per_island_metrics(trainer):
    result = evolve(Config(**ISLANDS, trainer=trainer), generations=3)
    assert [row["islands/migration"] for row in result.history] == [0.0, 1.0, 0.0]
    for row in result.history:
        bests = [row["island0/fitness/best"], row["island1/fitness/best"]]
        assert row["fitness/best"] == max(bests)
        losses = [row["island0/disc/loss"], row["island1/disc/loss"]]
        assert row["disc/loss"] == pytest.approx(sum(losses) / 2)
        assert {"fitness/mean", "disc/accuracy", "island1/disc/accuracy"} <= set(row)
    state = result.evolution.state
    assert isinstance(state, IslandsState) and len(state.islands) == 2
    assert state.population.shape == (16, result.evolution.parts.layout.size)
    assert state.fitness is not None and state.fitness.shape == (16,)
    _, fitness = result.evolution.parts.trainer.best(state)
    assert fitness == max(result.evolution.parts.trainer.inner.best(s)[1] for s in state.islands)
    assert result.generator(torch.randn(4, result.generator.spec.latent_dim)).shape == (4, 1, 8, 8)


def test_summary_over_islands():
    per_island = [
        {"fitness/best": 1.0, "disc/loss": 0.5, "fitness/nonfinite": 1.0},
        {"fitness/best": 3.0, "disc/loss": 0.7, "fitness/nonfinite": 2.0},
    ]
    metrics = summarise(per_island)
    assert metrics["fitness/best"] == 3.0
    assert metrics["disc/loss"] == pytest.approx(0.6)
    assert metrics["fitness/nonfinite"] == 3.0
    assert metrics["island0/fitness/best"] == 1.0 and metrics["island1/disc/loss"] == 0.7


@dataclass(frozen=True)
class Still:
    """An inner GA-like trainer that keeps its agents and scores each by its first gene."""

    def init(self, rng: torch.Generator) -> GAState:
        raise NotImplementedError

    def step(self, state: GAState, arena: Any, streams: Any) -> tuple[GAState, dict[str, float]]:
        fitness = state.population[:, 0].clone()
        following = GAState(state.population, state.sigma, state.generation + 1, fitness=fitness)
        return following, {"fitness/best": fitness.max().item()}

    def best(self, state: GAState) -> tuple[torch.Tensor, float]:
        raise NotImplementedError


def test_migration_sends_the_best_to_the_next_island_every_m_generations():
    """Three islands of five agents whose fitness is their first gene, 2 migrants every 3."""
    arena = Evolution.start(Config(**TINY)).parts.arena
    trainer = IslandsTrainer(Still(), MIGRATIONS["ga"], 3, 3, 2, lambda island: arena.critic)
    gene0 = torch.tensor([[3.0, 9.0, 1.0, 7.0, 5.0], [20, 40, 30, 10, 0], [-1, -5, -2, -3, -4]])
    sigma = torch.arange(15.0).reshape(3, 5)
    islands = tuple(
        GAState(torch.stack([gene0[i], -gene0[i]], dim=1), sigma[i], 0) for i in range(3)
    )
    state = IslandsState(islands, (arena.critic, arena.critic), *trainer.fresh_streams(), 0)
    streams = Streams.from_seed(0)
    for _ in range(2):
        state, metrics = trainer.step(state, arena, streams)
        assert metrics["islands/migration"] == 0.0
        assert all(
            torch.equal(a.population, b.population)
            for a, b in zip(state.islands, islands, strict=True)
        )
    state, metrics = trainer.step(state, arena, streams)
    assert metrics["islands/migration"] == 1.0 and state.generation == 3
    # the two best of island i (best first) replace the last two agents of island i + 1
    expected = [[3, 9, 1, -1, -2], [20, 40, 30, 9, 7], [-1, -5, -2, 40, 30]]
    got = [island.population[:, 0].tolist() for island in state.islands]
    assert got == expected
    assert all(torch.equal(i.population[:, 1], -i.population[:, 0]) for i in state.islands)
    assert state.islands[1].sigma.tolist() == [5, 6, 7, 1, 3]  # a migrant keeps its sigma
    for _ in range(2):
        state, metrics = trainer.step(state, arena, streams)
        assert metrics["islands/migration"] == 0.0
    assert [island.population[:, 0].tolist() for island in state.islands] == got
    state, metrics = trainer.step(state, arena, streams)
    assert metrics["islands/migration"] == 1.0 and state.generation == 6


def test_real_ga_islands_differ_from_isolated_ones_only_by_the_migrants():
    """Up to the first migration a run equals one that never migrates, bar the migrants."""
    with_migration = Evolution.start(Config(**{**ISLANDS, "migrants": 2}))
    isolated = Evolution.start(Config(**{**ISLANDS, "migrants": 2, "migration_every": 10**6}))
    with_migration.step()
    isolated.step()
    before = isolated.state.islands
    with_migration.step()
    isolated.step()
    for i, (moved, alone) in enumerate(
        zip(with_migration.state.islands, isolated.state.islands, strict=True)
    ):
        sender = isolated.state.islands[i - 1]
        best = sender.fitness.argsort(descending=True, stable=True)[:2]
        assert torch.equal(moved.population[:-2], alone.population[:-2])
        assert torch.equal(moved.population[-2:], before[i - 1].population[best])
        assert not torch.equal(moved.population[-2:], alone.population[-2:])


def test_es_migrants_pull_the_receiving_mean():
    layout = GenomeLayout(("w",), (torch.Size([3]),), ((0, 3),), torch.full((3,), 2.0))
    trainer = ESTrainer(layout, 4, sigma0=1.0, lr=0.1, adapt="none", sigma_lr=0.1)
    zeros = torch.zeros(3)
    state = ESState(zeros, zeros + 1, zeros, zeros, 1, torch.zeros(4, 3))
    migrants = {"population": torch.tensor([[4.0, 4.0, 4.0], [8.0, 8.0, 8.0]])}
    moved = MIGRATIONS["es"].immigrate(trainer, state, migrants)
    # the migrants' average is 3 init spreads away; as 2 of 4 samples they move it halfway
    assert moved.mean.tolist() == [1.5, 1.5, 1.5]
    sampled = dataclasses.replace(state, population=torch.arange(12.0).reshape(4, 3))
    sampled = dataclasses.replace(sampled, fitness=torch.tensor([0.0, 3.0, 1.0, 2.0]))
    leaving = MIGRATIONS["es"].emigrants(state, sampled, 2)["population"]
    assert leaving.tolist() == [[3.0, 4.0, 5.0], [9.0, 10.0, 11.0]]


def test_each_island_has_a_critic_of_its_own():
    run = Evolution.start(Config(**{**ISLANDS, "islands": 3, "population": 24}))
    critics = [run.parts.critic, *run.state.critics]
    start = [weights(critic) for critic in critics]
    for a in range(3):
        for b in range(a + 1, 3):
            assert not torch.equal(start[a], start[b])
    run.step()
    for critic, first in zip(critics, start, strict=True):
        assert not torch.equal(weights(critic), first)  # every critic trained


@pytest.mark.parametrize("trainer", sorted(MIGRATIONS))
def test_shared_critic_steps_once_per_generation_on_every_islands_agents(trainer):
    config = Config(**(ISLANDS | {"trainer": trainer, "shared_critic": True, "migration_every": 0}))
    run = Evolution.start(config)
    assert run.state.critics == ()
    seen = []
    original = run.parts.critic.train_step
    run.parts.critic.train_step = lambda real, fake, **kw: (
        seen.append(fake) or original(real, fake, **kw)
    )
    before = [island.population.clone() for island in run.state.islands]
    metrics = run.step()
    assert len(seen) == 1  # one critic step (disc_steps 1), not one per island
    assert "disc/loss" in metrics and "island0/disc/loss" not in metrics
    pooled = run.parts.arena.pooled_fakes(torch.cat(before), Streams.from_seed(0))
    assert seen[0].shape == pooled.shape
    for _ in range(3):
        metrics = run.step()
    assert metrics["islands/migration"] == 0.0  # never, with --migration-every 0
    means = [run.parts.trainer.inner.best(island)[0] for island in run.state.islands]
    assert not torch.equal(means[0], means[1])  # separate searches


def test_shared_critic_islands_resume_bit_identically(tmp_path):
    config = Config(**ISLANDS, trainer="es", shared_critic=True, generations=4,
                    checkpoint_every=1, sample_every=0)  # fmt: skip
    straight = evolve_run(Evolution.start(config), [RunDirectory(tmp_path / "a")])
    evolve_run(Evolution.start(config.replace(generations=2)), [RunDirectory(tmp_path / "b")])
    resumed = evolve_run(resume(tmp_path / "b", {"generations": 4}), [RunDirectory(tmp_path / "b")])
    assert torch.equal(resumed.evolution.state.population, straight.evolution.state.population)
    critics = [weights(r.evolution.parts.critic) for r in (resumed, straight)]
    assert torch.equal(*critics)
    shared = straight.evolution.parts.trainer.state_dict(straight.evolution.state)
    separate = Evolution.start(config.replace(shared_critic=False)).parts.trainer
    with pytest.raises(EvoganError, match="0 island critic"):
        separate.load_state_dict(shared)


@pytest.mark.parametrize("trainer", sorted(MIGRATIONS))
def test_islands_resume_bit_identically(trainer, tmp_path):
    config = Config(
        **ISLANDS, trainer=trainer, generations=5, checkpoint_every=1, sample_every=0
    )  # migrations after generations 2 and 4, the break after 3
    straight = evolve_run(Evolution.start(config), [RunDirectory(tmp_path / "a")])
    evolve_run(Evolution.start(config.replace(generations=3)), [RunDirectory(tmp_path / "b")])
    resumed = evolve_run(resume(tmp_path / "b", {"generations": 5}), [RunDirectory(tmp_path / "b")])
    assert torch.equal(resumed.evolution.best_genome, straight.evolution.best_genome)
    assert torch.equal(resumed.evolution.state.population, straight.evolution.state.population)
    for ours, theirs in zip(
        resumed.evolution.state.critics, straight.evolution.state.critics, strict=True
    ):
        assert torch.equal(weights(ours), weights(theirs))
    assert without_time(resumed.history) == without_time(straight.history)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"islands": 0}, r"--islands must be in \[1, inf\], got 0"),
        ({"migration_every": -1}, "--migration-every must be in"),
        ({"migrants": 7}, "--migrants 7: an island of 8 agents takes at most 6"),
        ({"islands": 3}, "--population 16 does not split into 3 islands"),
        ({"islands": 8}, "--islands 8 of --population 16: --population 2 is too small"),
        ({"islands": 4, "population": 12, "trainer": "es"}, "--islands 4 of --population 12"),
        ({"trainer": "gradient"}, "islands need a population trainer"),
    ],
)
def test_bad_island_options(options, message):
    with pytest.raises(EvoganError, match=message) as err:
        Evolution.start(Config(**{**ISLANDS, **options}))
    assert "\n" not in str(err.value)


def test_one_island_is_the_plain_trainer_and_a_foreign_state_is_refused():
    plain = Evolution.start(Config(**{**ISLANDS, "islands": 1}))
    assert isinstance(plain.parts.trainer, GATrainer)
    four = Evolution.start(Config(**{**ISLANDS, "islands": 4}))
    saved = four.parts.trainer.state_dict(four.state)
    two = Evolution.start(Config(**ISLANDS))
    with pytest.raises(EvoganError, match=r"4 island.* does not match the config's 2"):
        two.parts.trainer.load_state_dict(saved)
    with pytest.raises(EvoganError, match=r"1 island.* does not match"):
        two.parts.trainer.load_state_dict(plain.parts.trainer.state_dict(plain.state))


def test_cli_trains_resumes_and_samples_with_islands(tmp_path):
    args = [*TINY_ARGS, "--islands", "2", "--migration-every", "2", "--migrants", "1"]
    args += ["--population", "16"]  # later flags win over TINY_ARGS' population
    ok(evogan("train", *args, "--generations", "2", "--out", "run", cwd=tmp_path))
    ok(evogan("train", "--resume", "run", "--generations", "3", cwd=tmp_path))
    lines = (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()
    rows = [json.loads(line) for line in lines]
    assert [row["islands/migration"] for row in rows] == [0.0, 1.0, 0.0]
    assert {"island0/fitness/best", "island1/disc/loss"} <= set(rows[-1])
    ok(evogan("sample", "run", "-n", "4", "-o", "s.npy", cwd=tmp_path))
    assert (tmp_path / "s.npy").is_file()
    # each island's best generator, sampled like the run's own
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    fitness = [island["best_fitness"] for island in summary["islands"]]
    assert fitness == [rows[-1]["island0/fitness/best"], rows[-1]["island1/fitness/best"]]
    assert summary["best_fitness"] == max(fitness)
    for i in range(2):
        assert (tmp_path / "run" / "islands" / f"island{i}" / "samples.png").is_file()
        ok(evogan("sample", f"run/islands/island{i}", "-n", "4", "-o", f"{i}.npy", cwd=tmp_path))
        assert np.load(tmp_path / f"{i}.npy").shape == np.load(tmp_path / "s.npy").shape


def test_each_islands_best_generator_is_written(tmp_path):
    result = evolve_run(Evolution.start(Config(**ISLANDS, generations=1)), [RunDirectory(tmp_path)])
    run = result.evolution
    z = torch.randn(4, run.parts.spec.latent_dim)
    bests = run.island_bests()
    assert [b[1] for b in bests] == [run.history[-1][f"island{i}/fitness/best"] for i in (0, 1)]
    for i, (genome, _) in enumerate(bests):
        written = load_generator(tmp_path / "islands" / f"island{i}")
        assert torch.equal(written(z), run.generator(genome)(z))
    assert not torch.equal(bests[0][0], bests[1][0])  # before any migration they differ
