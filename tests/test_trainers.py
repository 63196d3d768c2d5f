"""Every trainer behind one interface: runs, resumes exactly, refuses a foreign state."""

import dataclasses

import pytest
import torch
from conftest import TINY, without_time

from evogan.config import Config
from evogan.errors import EvoganError
from evogan.outputs.callbacks import RunDirectory
from evogan.run.checkpoint import resume
from evogan.run.engine import Evolution, evolve, evolve_run
from evogan.streams import Streams
from evogan.trainers import TRAINERS, build_trainer
from evogan.trainers.es import centred_ranks


@pytest.mark.parametrize("trainer", sorted(TRAINERS))
def test_every_trainer_runs_and_reports(trainer):
    result = evolve(Config(**TINY, trainer=trainer), generations=3)
    assert result.generations == 3
    assert [row["generation"] for row in result.history] == [1.0, 2.0, 3.0]
    for row in result.history:
        assert {"fitness/best", "fitness/mean", "disc/loss", "disc/accuracy"} <= set(row)
    assert result.best_fitness == pytest.approx(result.evolution.best_fitness)
    images = result.generator(torch.randn(4, result.generator.spec.latent_dim))
    assert images.shape == (4, 1, 8, 8)


@pytest.mark.parametrize("trainer", sorted(TRAINERS))
def test_every_trainer_resumes_bit_identically(trainer, tmp_path):
    config = Config(**TINY, trainer=trainer, generations=4, checkpoint_every=1, sample_every=0)
    straight = evolve_run(Evolution.start(config), [RunDirectory(tmp_path / "a")])
    evolve_run(Evolution.start(config.replace(generations=2)), [RunDirectory(tmp_path / "b")])
    resumed = evolve_run(resume(tmp_path / "b", {"generations": 4}), [RunDirectory(tmp_path / "b")])
    assert torch.equal(resumed.evolution.best_genome, straight.evolution.best_genome)
    assert torch.equal(resumed.evolution.state.population, straight.evolution.state.population)
    assert without_time(resumed.history) == without_time(straight.history)


@pytest.mark.parametrize("trainer", sorted(TRAINERS))
def test_a_state_of_another_size_is_refused(trainer):
    small = Evolution.start(Config(**TINY, trainer=trainer, hidden=4))
    big = Evolution.start(Config(**TINY, trainer=trainer, hidden=8))
    saved = small.parts.trainer.state_dict(small.state)
    with pytest.raises(EvoganError, match="does not match"):
        big.parts.trainer.load_state_dict(saved)


def test_unknown_trainer():
    run = Evolution.start(Config(**TINY))
    with pytest.raises(EvoganError, match="--trainer: unknown 'sgd'"):
        build_trainer(Config(**TINY, trainer="sgd"), run.parts.layout)


def test_gradient_trainer_moves_its_genome_toward_fooling_the_critic():
    run = Evolution.start(Config(**{**TINY, "disc_batch": 64}, trainer="gradient", disc_steps=0))
    before = run.best_genome.clone()
    fitness = [run.step()["fitness/best"] for _ in range(30)]
    assert not torch.equal(before, run.best_genome)
    # with a frozen critic (no critic steps) the generator can only climb its logit
    assert fitness[-1] > fitness[0]


def test_centred_ranks():
    ranks = centred_ranks(torch.tensor([3.0, -1.0, 10.0, 0.0, 5.0]))
    assert torch.equal(ranks, torch.tensor([0.0, -0.5, 0.5, -0.25, 0.25]))


@pytest.mark.parametrize("adapt", ["none", "snes", "pgpe"])
def test_es_climbs_a_fixed_fitness(adapt):
    """On a static objective (no critic updates) the mean climbs; antithetic pairs share eps."""
    config = Config(
        **{**TINY, "population": 16}, trainer="es", es_adapt=adapt, disc_steps=0, es_lr=0.1
    )
    run = Evolution.start(config)
    first = run.step()
    population = run.state.population
    pairs = len(population) // 2
    centres = (population[:pairs] + population[pairs:]) / 2  # every pair mirrors one mean
    assert torch.allclose(centres, centres[:1].expand_as(centres), atol=1e-6)
    assert not torch.allclose(population[0], population[1])
    for _ in range(25):
        last = run.step()
    assert last["fitness/center"] > first["fitness/center"]
    if adapt == "none":
        assert last["es/sigma"] == pytest.approx(config.es_sigma)
    else:
        assert last["es/sigma"] != pytest.approx(config.es_sigma)


def test_es_needs_an_even_population():
    with pytest.raises(EvoganError, match="must be even"):
        Evolution.start(Config(**{**TINY, "population": 7}, trainer="es"))


@pytest.mark.parametrize("agents", [1, 3])
def test_a_few_agents_draw_the_critics_fakes_as_many_agents_would(agents):
    """The whole-batch path for small populations gives the per-agent path's images."""
    from evogan.game import arena as arena_module
    from evogan.streams import Streams

    run = Evolution.start(Config(**{**TINY, "disc_batch": 32}))
    population = run.parts.layout.random_population(agents, rng=torch.Generator().manual_seed(0))
    fast = run.parts.arena.pooled_fakes(population, Streams.from_seed(5))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(arena_module, "FEW_AGENTS", 10**6)  # never the whole-batch path
        slow = run.parts.arena.pooled_fakes(population, Streams.from_seed(5))
    assert fast.shape == slow.shape == (32, 1, 8, 8)
    assert torch.allclose(fast, slow, atol=1e-5)


def test_es_lr_decay_scales_each_step_by_its_generation():
    """Adam's step is linear in lr: from one state at generation 2, decay 0.5 gives a
    quarter of the undecayed step (no critic updates, so both steps see one critic)."""
    run = Evolution.start(Config(**{**TINY, "population": 8}, trainer="es", disc_steps=0))
    run.step()
    run.step()
    steps = []
    for decay in (1.0, 0.5):
        trainer = dataclasses.replace(run.parts.trainer, lr_decay=decay)
        streams = Streams.from_seed(0)
        streams.load_state_dict(run.streams.state_dict())
        steps.append(trainer.step(run.state, run.parts.arena, streams)[1])
    plain, decayed = steps
    assert decayed["es/lr"] == pytest.approx(run.config.es_lr * 0.25)
    assert decayed["es/step_norm"] == pytest.approx(0.25 * plain["es/step_norm"], rel=1e-5)
    assert decayed["fitness/mean"] == plain["fitness/mean"]  # the same samples were scored


@pytest.mark.parametrize("trainer", ["gradient", "egan"])
def test_the_generators_adam_has_options_of_its_own(trainer):
    """--gen-lr / --gen-beta1 set the generator's Adam; unset, they follow the critic's."""
    layout = Evolution.start(Config(**TINY, trainer=trainer)).parts.layout
    plain = build_trainer(Config(**TINY, trainer=trainer, disc_lr=1e-3, disc_beta1=0.3), layout)
    assert (plain.lr, plain.beta1) == (1e-3, 0.3)
    own = build_trainer(
        Config(**TINY, trainer=trainer, disc_lr=1e-3, gen_lr=5e-5, gen_beta1=0.9), layout
    )
    assert (own.lr, own.beta1) == (5e-5, 0.9)
