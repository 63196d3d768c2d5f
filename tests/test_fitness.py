"""Fitness functions on hand-made logits, and the critic that produces the logits."""

import math

import pytest
import torch

from evogan.critic import Critic, score
from evogan.fitness import FITNESS, accuracy_fitness, logit_fitness

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
    assert sorted(FITNESS) == ["accuracy", "logit"]


def test_logit_fitness_is_the_mean_fake_logit():
    assert logit_fitness(FAKE, REAL).tolist() == [-2.5, 2.5, 0.0]


def test_logit_fitness_ignores_real_images():
    assert torch.equal(logit_fitness(FAKE, REAL), logit_fitness(FAKE, torch.tensor([9.0])))


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
    assert FITNESS[name](torch.randn(5, 7), torch.randn(7)).shape == (5,)


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
