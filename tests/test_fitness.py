"""Fitness functions on hand-made logits, and the critic that produces the logits."""

import math

import pytest
import torch
from conftest import TINY

from evogan.config import Config
from evogan.game.arena import worst_for_nonfinite
from evogan.game.critic import Critic, score
from evogan.game.fitness import (
    FITNESS,
    ON_FEATURES,
    accuracy_fitness,
    feature_matching_fitness,
    logit_fitness,
    mmd_fitness,
    nonsaturating_fitness,
)
from evogan.run.engine import Evolution

FAKE = torch.tensor(
    [
        [-1.0, -2.0, -3.0, -4.0],  # all four fakes caught
        [1.0, 2.0, 3.0, 4.0],  # all four fakes pass as real
        [1.0, -1.0, 2.0, -2.0],  # half caught
    ]
)
REAL = torch.tensor([1.0, -1.0, 2.0, -3.0])  # two of four reals recognised


def test_registry():
    assert FITNESS["logit"] is logit_fitness and FITNESS["accuracy"] is accuracy_fitness
    assert FITNESS["features"] is feature_matching_fitness and FITNESS["mmd"] is mmd_fitness
    assert FITNESS["nonsaturating"] is nonsaturating_fitness
    assert sorted(FITNESS) == ["accuracy", "features", "logit", "mmd", "nonsaturating"]
    assert {"features", "mmd"} == ON_FEATURES


def test_logit_fitness_is_the_mean_fake_logit():
    assert logit_fitness(FAKE, REAL).tolist() == [-2.5, 2.5, 0.0]


def test_logit_fitness_ignores_real_images():
    assert torch.equal(logit_fitness(FAKE, REAL), logit_fitness(FAKE, torch.tensor([9.0])))


def test_nonsaturating_fitness_exact():
    # log sigmoid(x) = -log(1 + exp(-x)), averaged over each agent's fakes
    expected = [sum(-math.log1p(math.exp(-x)) for x in row) / 4 for row in FAKE.tolist()]
    assert nonsaturating_fitness(FAKE, REAL).tolist() == pytest.approx(expected, rel=1e-6)


def test_nonsaturating_fitness_prefers_every_fake_passing_to_a_few_convincing_ones():
    # equal mean logit (1.0): the mean logit ties them, log sigmoid ranks the even agent first
    fake = torch.tensor([[1.0, 1.0, 1.0, 1.0], [-2.0, -2.0, 4.0, 4.0]])
    assert logit_fitness(fake, REAL).tolist() == [1.0, 1.0]
    even, uneven = nonsaturating_fitness(fake, REAL).tolist()
    assert even > uneven


def test_accuracy_fitness_exact():
    # accuracy = (fakes right + reals right) / 8 -> 100 * (1 - accuracy)
    # agent 0: (4 + 2) / 8 -> 25; agent 1: (0 + 2) / 8 -> 75; agent 2: (2 + 2) / 8 -> 50
    assert accuracy_fitness(FAKE, REAL).tolist() == [25.0, 75.0, 50.0]


def test_accuracy_fitness_extremes():
    fooled = accuracy_fitness(torch.full((2, 3), 5.0), torch.full((3,), -5.0))
    assert fooled.tolist() == [100.0, 100.0]  # discriminator wrong on every image
    caught = accuracy_fitness(torch.full((1, 3), -5.0), torch.full((3,), 5.0))
    assert caught.tolist() == [0.0]


def test_accuracy_fitness_counts_fakes_and_reals_of_different_numbers():
    # 1 of 2 fakes caught, 3 of 3 reals right: accuracy 4/5 -> fitness 20
    fitness = accuracy_fitness(torch.tensor([[-1.0, 1.0]]), torch.tensor([1.0, 2.0, 3.0]))
    assert fitness.tolist() == [pytest.approx(20.0)]


@pytest.mark.parametrize("name", sorted(FITNESS))
def test_fitness_shape(name):
    on_features = name in ON_FEATURES  # [pop, S, F] and [R, F] instead of [pop, S] and [R]
    if on_features:
        fake, real = torch.randn(5, 7, 3), torch.randn(6, 3)
    else:
        fake, real = torch.randn(5, 7), torch.randn(7)
    assert FITNESS[name](fake, real).shape == (5,)


def test_feature_matching_exact():
    """Minus the squared distance between mean fake and mean real features."""
    real = torch.tensor([[1.0, 0.0], [3.0, 2.0]])  # mean (2, 1)
    fake = torch.tensor([
        [[2.0, 1.0], [2.0, 1.0]],  # mean (2, 1): matches
        [[0.0, 1.0], [4.0, 1.0]],  # mean (2, 1) too: only the mean counts
        [[5.0, 5.0], [5.0, 5.0]],  # mean (5, 5): 9 + 16
    ])  # fmt: skip
    assert feature_matching_fitness(fake, real).tolist() == [0.0, 0.0, -25.0]


def test_mmd_exact_and_it_rewards_varied_fakes():
    """Kernel exp(-d^2 / w) with w the mean squared real-real distance (here 4)."""
    real = torch.tensor([[0.0], [2.0]])
    fake = torch.tensor([[[0.0], [2.0]], [[0.0], [0.0]]])  # the reals; one real twice
    k = math.exp(-1.0)  # d^2 = 4 over w = 4
    # agent 0: within = k(0,2) = e^-1; cross = mean(1, e^-1, e^-1, 1) = (1 + e^-1) / 2
    # agent 1: within = k(0,0) = 1; cross = mean(1, e^-1, 1, e^-1) = (1 + e^-1) / 2
    expected = [-(k - (1 + k)), -(1 - (1 + k))]
    assert mmd_fitness(fake, real).tolist() == pytest.approx(expected)
    # an agent collapsed onto the real mean matches it exactly, yet mmd ranks it below
    # the agent that draws both reals
    collapsed = torch.tensor([[[1.0], [1.0]]])
    assert feature_matching_fitness(collapsed, real).item() == 0.0
    assert mmd_fitness(collapsed, real).item() < mmd_fitness(fake[:1], real).item()


def test_feature_fitness_reads_the_critics_dense_input():
    """``critic.features`` is the discriminator without its dense unit: logits follow from it."""
    critic = _critic()
    images = torch.randn(3, 1, 8, 8, generator=torch.Generator().manual_seed(4))
    feats = score(critic.features, images)
    dense = critic.model[-2]
    assert feats.shape == (3, dense.in_features)
    assert torch.allclose(dense(feats).flatten(), critic.logits(images), atol=1e-6)


@pytest.mark.parametrize("fitness", sorted(ON_FEATURES))
def test_a_run_on_feature_fitness_scores_every_agent(fitness):
    run = Evolution.start(Config(**TINY, fitness=fitness))
    scores, metrics = run.parts.arena.score(run.state.population, run.streams)
    assert scores.shape == (8,) and torch.isfinite(scores).all()
    if fitness == "features":
        assert (scores <= 0).all()  # a squared distance, negated
    assert math.isfinite(metrics["disc/real_logit"])


def _critic(size: int = 8) -> Critic:
    torch.manual_seed(0)
    return Critic(size, filters=4, dropout=0.4, lr=1e-3, beta1=0.5, device=torch.device("cpu"))


def test_critic_loss_and_accuracy_exact_with_zero_weights():
    """All-zero logits: BCE is ln 2, and logit 0 reads as 'fake', so only fakes are right."""
    critic = _critic()
    with torch.no_grad():
        for p in critic.model.parameters():
            p.zero_()
    metrics = critic.train_step(torch.randn(3, 1, 8, 8), torch.randn(5, 1, 8, 8))
    assert metrics["disc/loss"] == pytest.approx(math.log(2), rel=1e-6)
    assert metrics["disc/accuracy"] == pytest.approx(5 / 8)


def test_critic_step_learns_to_separate():
    critic = _critic()
    real, fake = torch.ones(16, 1, 8, 8), -torch.ones(16, 1, 8, 8)
    first = critic.train_step(real, fake)["disc/loss"]
    for _ in range(30):
        last = critic.train_step(real, fake)["disc/loss"]
    assert last < first
    assert (critic.logits(real) > 0).all() and (critic.logits(fake) < 0).all()


def test_critic_logits_are_deterministic_and_restore_mode():
    critic = _critic()
    images = torch.randn(6, 1, 8, 8, generator=torch.Generator().manual_seed(1))
    critic.model.train()
    a, b = critic.logits(images), critic.logits(images)
    assert a.shape == (6,)
    assert torch.equal(a, b)  # dropout is off while scoring
    assert critic.model.training  # and the training mode is back
    assert torch.equal(score(critic.model, images), a)


def test_critic_state_dict_round_trip():
    critic = _critic()
    critic.train_step(torch.ones(4, 1, 8, 8), -torch.ones(4, 1, 8, 8))
    other = _critic()
    other.load_state_dict(critic.state_dict())
    images = torch.randn(3, 1, 8, 8, generator=torch.Generator().manual_seed(2))
    assert torch.equal(other.logits(images), critic.logits(images))
    assert other.optimizer.state_dict()["state"][0]["step"] == 1


def test_nonfinite_fitness_ranks_last_and_is_counted():
    fitness, broken = worst_for_nonfinite(torch.tensor([1.0, float("nan"), -2.0, float("inf")]))
    assert broken == 2
    assert fitness.tolist() == [1.0, -3.0, -2.0, -3.0]
    untouched, none = worst_for_nonfinite(torch.tensor([0.5, 0.25]))
    assert none == 0 and untouched.tolist() == [0.5, 0.25]


def test_agents_drawing_nan_get_the_worst_fitness_in_a_generation():
    run = Evolution.start(Config(**TINY))
    population = run.state.population.clone()
    population[3] = float("nan")  # an agent whose every fake is NaN
    fitness, metrics = run.parts.arena.score(population, run.streams)
    assert metrics["fitness/nonfinite"] == 1.0
    assert torch.isfinite(fitness).all()
    assert int(fitness.argmin()) == 3


def test_a_nonfinite_critic_step_is_undone_and_reported():
    critic = Critic(8, filters=4, dropout=0.0, lr=1e-3, beta1=0.5, device=torch.device("cpu"))
    good = critic.state_dict()["model"]
    real = torch.rand(4, 1, 8, 8)
    metrics = critic.train_step(real, torch.full((4, 1, 8, 8), float("nan")))
    assert metrics["disc/restored"] == 1.0
    assert all(torch.equal(v, critic.model.state_dict()[k]) for k, v in good.items())
    assert critic.train_step(real, -real)["disc/restored"] == 0.0
