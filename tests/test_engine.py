"""The evolution loop: results, stop reasons, reproducibility, MNIST, config validation."""

import pytest
import torch
from conftest import MNIST_DIR, TINY, without_time
from torch import nn

from evogan.config import Config
from evogan.errors import EvoganError
from evogan.genome import generate
from evogan.run.engine import Evolution, Result, evolve, evolve_run, stop_reason

METRIC_KEYS = {
    "generation",
    "fitness/best",
    "fitness/mean",
    "fitness/std",
    "fitness/spread",
    "mutation/sigma",
    "disc/loss",
    "disc/accuracy",
    "disc/real_logit",
    "disc/restored",
    "fitness/nonfinite",
    "time/generation_s",
    "time/elapsed_s",
}


@pytest.fixture(scope="module")
def result() -> Result:
    return evolve(Config(**TINY), generations=3)


def test_result(result):
    assert isinstance(result, Result)
    assert isinstance(result.generator, nn.Module)
    with torch.no_grad():
        images = result.generator(torch.randn(5, result.generator.spec.latent_dim))
    assert images.shape == (5, 1, 8, 8)
    assert images.min() >= -1 and images.max() <= 1
    assert result.generations == 3
    assert result.stop == {"generations": 3.0}
    assert result.evolution.state.generation == 3
    assert result.evolution.state.population.shape == (8, result.evolution.parts.layout.size)


def test_history(result):
    assert [row["generation"] for row in result.history] == [1.0, 2.0, 3.0]
    for row in result.history:
        assert set(row) == METRIC_KEYS
        assert all(isinstance(v, float) for v in row.values())
        assert row["fitness/best"] >= row["fitness/mean"]
        assert 0.0 <= row["disc/accuracy"] <= 1.0
    elapsed = [row["time/elapsed_s"] for row in result.history]
    assert elapsed == sorted(elapsed) and elapsed[-1] == result.evolution.elapsed
    assert result.best_fitness == result.history[-1]["fitness/best"]


def test_result_generator_is_the_best_genome(result):
    run = result.evolution
    z = torch.randn(4, run.parts.spec.latent_dim, generator=torch.Generator().manual_seed(9))
    with torch.no_grad():
        expected = generate(run.parts.model, run.parts.layout, run.best_genome[None], z)[0]
        assert torch.equal(result.generator(z), expected)
    assert torch.equal(run.samples(z), expected)


def test_threshold_stop():
    result = evolve(Config(**TINY), generations=5, threshold=-1e9)
    assert result.generations == 1
    assert result.stop == {"threshold": result.best_fitness}


def test_time_budget_stop():
    result = evolve(Config(**TINY), generations=5, time_budget=1e-9)
    assert result.generations == 1
    assert list(result.stop) == ["time_budget"]
    assert result.stop["time_budget"] == result.evolution.elapsed


def test_stop_reason_order_and_values():
    config = Config(generations=10, threshold=50.0, time_budget=60.0)
    assert stop_reason(config, 3, 49.9, 59.9) == {}
    assert stop_reason(config, 3, 50.0, 99.0) == {"threshold": 50.0}
    assert stop_reason(config, 10, 10.0, 60.0) == {"time_budget": 60.0}
    assert stop_reason(config, 10, 10.0, 1.0) == {"generations": 10.0}
    assert stop_reason(Config(generations=10), 9, 1e9, 1e9) == {}


def test_same_seed_same_run(result):
    again = evolve(Config(**TINY), generations=3)
    assert torch.equal(again.evolution.state.population, result.evolution.state.population)
    assert torch.equal(again.evolution.state.sigma, result.evolution.state.sigma)
    assert without_time(again.history) == without_time(result.history)


def test_other_seed_other_run(result):
    other = evolve(Config(**TINY), generations=3, seed=1)
    assert not torch.equal(other.evolution.state.population, result.evolution.state.population)
    assert without_time(other.history) != without_time(result.history)


def test_callbacks_see_every_generation():
    seen = []

    class Recorder:
        def on_start(self, run):
            seen.append(("start", run.state.generation))

        def on_generation(self, run, metrics):
            seen.append(("generation", run.state.generation, metrics))

        def on_end(self, run, stop):
            seen.append(("end", run.state.generation, stop))

    run = Evolution.start(Config(**TINY, generations=2))
    result = evolve_run(run, [Recorder()])
    assert seen[0] == ("start", 0)
    assert [entry[:2] for entry in seen[1:3]] == [("generation", 1), ("generation", 2)]
    assert [entry[2] for entry in seen[1:3]] == result.history
    assert seen[3] == ("end", 2, {"generations": 2.0})


def test_mnist_subset_run():
    config = Config(**{**TINY, "dataset": "mnist", "data_dir": str(MNIST_DIR), "subset": "0:500"})
    result = evolve(config, generations=2)
    assert result.evolution.parts.data.images.shape == (500, 1, 28, 28)
    assert result.generations == 2
    with torch.no_grad():
        images = result.generator(torch.randn(3, result.generator.spec.latent_dim))
    assert images.shape == (3, 1, 28, 28)


@pytest.mark.parametrize(
    "bad",
    [
        {"population": 0},
        {"generations": 0},
        {"samples_per_agent": 0},
        {"time_budget": 0.0},
        {"init": "xavier"},
        {"fitness": "wasserstein"},
        {"device": "tpu"},
        {"selection": "roulette"},
        {"generator": "mlp", "network": '[[16, 32, "tanh"], [null, 50, "tanh"]]'},
        # Ranges that the operators check only inside the first tell, after the run
        # directory has been written: start() must refuse them up front.
        {"selection_fraction": 0.0},
        {"crossover_rate": 2.0},
        {"mutation_rate": -0.5},
        {"mutation_sigma": -1.0},
        {"selection": "tournament", "tournament_size": 0},
        {"sigma_decay": 1.5},
        {"sigma_min": -1.0},
        # Ranges that torch refuses with a ValueError/IndexError (a traceback in the CLI).
        {"disc_lr": -1.0},
        {"disc_beta1": 1.5},
        {"disc_dropout": 1.5},
        {"generator": "basis", "hidden": 0},
        {"generator": "conv", "channels": 0},
    ],
    ids=lambda bad: ",".join(bad),
)
def test_start_rejects_bad_config_before_anything_runs(bad):
    """``Evolution.start`` validates everything, so a run never dies after it began writing."""
    with pytest.raises(EvoganError):
        Evolution.start(Config(**{**TINY, "generations": 1, **bad}))


def test_a_library_call_leaves_the_callers_threads_and_rng_alone():
    torch.set_num_threads(1)
    torch.manual_seed(123)
    before = torch.get_rng_state()
    evolve(Config(**TINY, threads=2), generations=2)
    assert torch.get_num_threads() == 1
    assert torch.equal(torch.get_rng_state(), before)


def test_the_run_is_the_same_whatever_the_caller_did_to_the_global_rng():
    torch.manual_seed(1)
    a = evolve(Config(**TINY), generations=3)
    torch.manual_seed(2)
    b = evolve(Config(**TINY), generations=3)
    assert torch.equal(a.evolution.state.population, b.evolution.state.population)
