"""--keep-best: the run judges its generator now and then and returns the best judged."""

import json

import pytest
import torch
from conftest import TINY

from evogan.config import Config
from evogan.data import ImageDataset
from evogan.errors import EvoganError
from evogan.outputs.callbacks import RunDirectory
from evogan.quality.keep_best import BestKeeper, hold_out
from evogan.run.checkpoint import resume
from evogan.run.engine import Evolution, evolve, evolve_run


class ScriptedJudge:
    """An evaluator whose FIDs are given in advance."""

    def __init__(self, fids: list[float]) -> None:
        self.fids = list(fids)

    def fid(self, images: torch.Tensor) -> float:
        return self.fids.pop(0)


@pytest.fixture(autouse=True)
def private_cache(tmp_path_factory, monkeypatch):
    """The judge's classifier is trained into a cache of the tests' own, once."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.getbasetemp() / "cache"))


def test_the_keeper_keeps_the_lowest_fid_and_remembers_the_last():
    keeper = BestKeeper(ScriptedJudge([5.0, 3.0, 4.0]), every=1.0, samples=10)  # type: ignore[arg-type]
    for generation in (1, 2, 3):
        keeper.judge(torch.zeros(2), torch.full((3,), float(generation)), generation)
    assert keeper.fid == 3.0 and keeper.generation == 2 and keeper.last_fid == 4.0
    assert torch.equal(keeper.genome, torch.full((3,), 2.0))
    assert [h["fid"] for h in keeper.history] == [5.0, 3.0, 4.0]
    assert keeper.judged(3) and not keeper.judged(2)


def test_a_genome_that_looks_best_is_kept_only_on_the_mean_of_two_draws():
    """First draws 5, 4, 5.5, 6.5; second draws (only when the first beats the kept) 7, 10, 4.5."""
    judge = ScriptedJudge([5.0, 7.0, 4.0, 10.0, 5.5, 4.5, 6.5])
    keeper = BestKeeper(judge, every=1.0, samples=10, confirm=True)  # type: ignore[arg-type]
    seconds = []
    for generation in (1, 2, 3, 4):
        genome = torch.full((3,), float(generation))
        keeper.judge(torch.zeros(2), genome, generation, lambda: seconds.append(1) or torch.ones(2))
    assert keeper.fid == 5.0 and keeper.generation == 3  # (5.5 + 4.5) / 2 beats (5 + 7) / 2
    assert len(seconds) == 3 and not judge.fids  # generation 4's 6.5 lost on its first draw
    assert [h.get("confirmed_fid") for h in keeper.history] == [6.0, 7.0, 5.0, None]
    assert keeper.last_fid == 6.5


def test_the_second_draw_comes_from_other_latents():
    from evogan.quality.keep_best import latents

    assert torch.equal(latents(5, 3), latents(5, 3))
    assert not torch.allclose(latents(5, 3, 1), latents(5, 3))


def test_the_keeper_needs_labels_and_enough_images():
    images = torch.zeros(400, 1, 8, 8)
    with pytest.raises(EvoganError, match="--keep-best: faces has no labels"):
        hold_out(ImageDataset(images, None, "faces"))
    small = ImageDataset(images[:50], torch.zeros(50, dtype=torch.long), "few")
    with pytest.raises(EvoganError, match="50 training images leave 10 for validation"):
        hold_out(small)
    many = ImageDataset(torch.zeros(1000, 1, 8, 8), torch.arange(1000), "digits")
    training, validation = hold_out(many)
    assert torch.equal(training.labels, torch.arange(800))
    assert torch.equal(validation.labels, torch.arange(800, 1000))


def test_a_run_returns_the_kept_generator_and_reports_both(tmp_path):
    config = Config(**TINY, trainer="es", keep_best=1e-9, keep_best_samples=100, generations=5)
    result = evolve_run(Evolution.start(config), [RunDirectory(tmp_path)])
    keeper = result.evolution.keeper
    assert keeper is not None
    # the starting generator, then every generation
    assert [h["generation"] for h in keeper.history] == [0, 1, 2, 3, 4, 5]
    confirmed = [h["confirmed_fid"] for h in keeper.history if "confirmed_fid" in h]
    assert confirmed and keeper.fid == min(confirmed)  # kept on the mean of two draws
    z = torch.randn(3, 8)
    kept = result.evolution.generator(keeper.genome)
    assert torch.equal(result.generator(z), kept(z))
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["kept"] == {"generation": keeper.generation, "validation_fid": keeper.fid}
    assert summary["last"] == {"generation": 5, "validation_fid": keeper.last_fid}
    assert result.history[-1]["keep/best_fid"] == keeper.fid


def test_without_keep_best_the_run_returns_its_last():
    result = evolve(Config(**TINY, trainer="es"), generations=2)
    assert result.evolution.keeper is None
    assert torch.equal(result.evolution.returned_genome, result.evolution.best_genome)


def test_the_kept_generator_survives_a_resume(tmp_path):
    config = Config(**TINY, trainer="es", keep_best=1e-9, keep_best_samples=100, generations=2,
                    checkpoint_every=1, sample_every=0)  # fmt: skip
    first = evolve_run(Evolution.start(config), [RunDirectory(tmp_path)])
    resumed = resume(tmp_path, {"generations": 3})
    assert resumed.keeper is not None and first.evolution.keeper is not None
    assert resumed.keeper.history == first.evolution.keeper.history
    assert torch.equal(resumed.keeper.genome, first.evolution.keeper.genome)


def test_a_margin_keeps_the_kept_generator_against_a_near_tie():
    """Kept 10; 9.6 is within 5 % of it, 9.4 beats it by more."""
    keeper = BestKeeper(ScriptedJudge([10.0, 9.6, 9.4]), every=1.0, samples=10, margin=0.05)  # type: ignore[arg-type]
    for generation in (0, 1, 2):
        keeper.judge(torch.zeros(2), torch.full((3,), float(generation)), generation)
        if generation == 1:
            assert keeper.fid == 10.0 and keeper.generation == 0
    assert keeper.fid == 9.4 and keeper.generation == 2


def test_a_margin_also_gates_the_second_draw():
    """9.8 does not beat 10 by 5 %: no second draw is made."""
    judge = ScriptedJudge([10.0, 10.0, 9.8])
    keeper = BestKeeper(judge, every=1.0, samples=10, confirm=True, margin=0.05)  # type: ignore[arg-type]
    draws = []

    def second() -> torch.Tensor:
        draws.append(1)
        return torch.ones(2)

    for generation in (0, 1):
        keeper.judge(torch.zeros(2), torch.zeros(3), generation, second)
    assert len(draws) == 1 and keeper.fid == 10.0
    assert keeper.history[-1].get("confirmed_fid") is None


def test_the_validation_slice_is_held_out_of_training():
    """The critic's real images and a fitted family's basis never include the judged slice."""
    from evogan.networks.pca import principal_components
    from evogan.run.wiring import Components

    config = Config(**TINY, trainer="es", generator="pca", components=8, keep_best=1.0)
    whole = Components.build(config.replace(keep_best=0.0)).data.images
    parts = Components.build(config)
    n = len(whole)
    held = n // 5
    assert parts.validation is not None and len(parts.validation) == held
    assert torch.equal(parts.data.images, whole[: n - held])
    assert torch.equal(parts.validation.images, whole[n - held :])
    assert torch.equal(parts.arena.images, whole[: n - held])  # the critic's real batches
    mean, basis = principal_components(whole[: n - held], 8)
    assert torch.equal(parts.model.basis, basis) and torch.equal(parts.model.mean, mean)


def test_the_keeper_counts_the_judgements_since_it_last_kept():
    keeper = BestKeeper(ScriptedJudge([5.0, 3.0, 4.0, 4.5, 2.0]), every=1.0, samples=10)  # type: ignore[arg-type]
    stale = []
    for generation in range(5):
        keeper.judge(torch.zeros(2), torch.zeros(3), generation)
        stale.append(keeper.stale)
    assert stale == [0, 0, 1, 2, 0]


def test_es_restarts_at_a_genome_with_its_momentum_cleared():
    from evogan.trainers.es import ESState, ESTrainer

    config = Config(**TINY, trainer="es", es_mean_ema=0.9)
    parts_layout = Evolution.start(config.replace(generations=1)).parts.layout
    trainer = ESTrainer.from_config(config, parts_layout)
    n = parts_layout.size
    state = ESState(
        mean=torch.full((n,), 3.0), sigma=torch.full((n,), 0.5), adam_m=torch.ones(n),
        adam_v=torch.full((n,), 2.0), generation=7, population=torch.zeros(8, n),
        average=torch.full((n,), 4.0),
    )  # fmt: skip
    genome = torch.linspace(-1, 1, n)
    restarted = trainer.restart(state, genome)
    assert torch.equal(restarted.mean * trainer.scale, genome / trainer.scale * trainer.scale)
    assert torch.allclose(trainer.best(restarted)[0], genome)  # the average moved too
    assert torch.equal(restarted.adam_m, torch.zeros(n))
    assert torch.equal(restarted.adam_v, state.adam_v) and torch.equal(restarted.sigma, state.sigma)
    assert restarted.generation == 7


def test_egan_restarts_its_leading_parent_with_its_momentum_cleared():
    from evogan.trainers.egan import EGANState, EGANTrainer

    config = Config(**TINY | {"population": 2}, trainer="egan")
    layout = Evolution.start(config.replace(generations=1)).parts.layout
    trainer = EGANTrainer.from_config(config, layout)
    n = layout.size
    state = EGANState(
        parents=torch.stack([torch.full((n,), 3.0), torch.full((n,), 5.0)]),
        adam_m=torch.ones(2, n), adam_v=torch.full((2, n), 2.0), adam_t=9, generation=7,
        best_fitness=0.25,
    )  # fmt: skip
    genome = torch.linspace(-1, 1, n)
    restarted = trainer.restart(state, genome)
    assert torch.equal(trainer.best(restarted)[0], genome)
    assert torch.equal(restarted.parents[1], torch.full((n,), 5.0))  # the other lineage stays
    assert torch.equal(restarted.adam_m, torch.stack([torch.zeros(n), torch.ones(n)]))
    assert torch.equal(restarted.adam_v, state.adam_v)
    assert (restarted.adam_t, restarted.generation) == (9, 7)
    assert torch.equal(state.parents[0], torch.full((n,), 3.0))  # the old state is untouched


class Restarts:
    """Records, after each generation the keeper judged, whether the mean is the kept genome."""

    def __init__(self) -> None:
        self.at_kept: list[bool] = []

    def on_start(self, run):
        pass

    def on_generation(self, run, metrics):
        if "keep/restarts" in metrics:
            self.at_kept.append(torch.allclose(run.best_genome, run.keeper.genome))

    def on_end(self, run, stop):
        pass


@pytest.mark.parametrize("trainer", ["es", "egan"])
@pytest.mark.parametrize(("patience", "at_kept"), [(1, [True] * 4), (2, [False, True] * 2)])
def test_a_stalled_keeper_restarts_the_search_from_the_kept_genome(trainer, patience, at_kept):
    """The starting generator judged 1.0, every later one 2.0: nothing new is ever kept."""
    config = Config(**TINY, trainer=trainer, keep_best=1e-9, keep_best_samples=100, generations=4,
                    keep_best_confirm=False, keep_best_restart=patience)  # fmt: skip
    run = Evolution.start(config)
    assert run.keeper is not None
    run.keeper.evaluator = ScriptedJudge([1.0] + [2.0] * 4)  # type: ignore[assignment]
    start = run.best_genome.clone()
    recorder = Restarts()
    result = evolve_run(run, [recorder])
    assert recorder.at_kept == at_kept
    assert torch.equal(result.evolution.keeper.genome, start)
    assert result.evolution.keeper.restarts == 4 // patience
    assert result.history[-1]["keep/restarts"] == 4 // patience


@pytest.mark.parametrize("trainer", ["es", "egan"])
def test_a_run_that_restarts_resumes_bit_identically(tmp_path, trainer):
    """A margin of 90 % keeps nothing after the start: the search restarts every judgement."""
    config = Config(**TINY, trainer=trainer, keep_best=1e-9, keep_best_samples=100, generations=4,
                    keep_best_restart=1, keep_best_margin=0.9, checkpoint_every=1,
                    sample_every=0)  # fmt: skip
    straight = evolve_run(Evolution.start(config), [])
    evolve_run(Evolution.start(config.replace(generations=2)), [RunDirectory(tmp_path)])
    resumed = resume(tmp_path, {"generations": 4})
    evolve_run(resumed, [])
    assert straight.evolution.keeper is not None and resumed.keeper is not None
    assert resumed.keeper.history == straight.evolution.keeper.history
    assert resumed.keeper.restarts == straight.evolution.keeper.restarts > 0
    assert torch.equal(resumed.best_genome, straight.evolution.best_genome)


def test_keep_best_restart_does_nothing_without_keep_best_or_for_another_trainer():
    """Like every ES option: a preset's restart does not stop --keep-best 0 or --trainer ga."""
    without = evolve(Config(**TINY, trainer="es", keep_best_restart=1), generations=2)
    assert without.evolution.keeper is None
    ga = Config(**TINY, trainer="ga", keep_best=1e-9, keep_best_samples=100, generations=3,
                keep_best_restart=1, keep_best_margin=0.9)  # fmt: skip
    result = evolve_run(Evolution.start(ga), [])
    assert result.evolution.keeper is not None and result.evolution.keeper.restarts == 0
    assert result.evolution.keeper.stale == 3  # nothing kept after the start: ES would restart
