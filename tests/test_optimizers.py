"""The mean's update rules, on hand-made gradients."""

import pytest
import torch

from evogan.trainers.optimizers import adam, clipup


def test_adam_first_step_is_lr_times_sign():
    grad = torch.tensor([2.0, -0.5, 0.0])
    zeros = torch.zeros(3)
    m, v, step = adam(grad, zeros, zeros, 1, lr=0.1)
    assert torch.allclose(step, torch.tensor([0.1, -0.1, 0.0]), atol=1e-6)
    assert torch.allclose(m, 0.1 * grad) and torch.allclose(v, 0.001 * grad.square())


def test_clipup_normalises_the_gradient():
    velocity, step = clipup(torch.tensor([3.0, 4.0]), torch.zeros(2), lr=0.5, max_speed=10.0)
    assert torch.allclose(step, torch.tensor([0.3, 0.4]))  # lr * grad / |grad|
    assert torch.equal(velocity, step)


def test_clipup_accumulates_momentum_and_clips_the_speed():
    v, _ = clipup(torch.tensor([1.0, 0.0]), torch.tensor([0.2, 0.0]), lr=0.1, max_speed=1.0,
                  momentum=0.5)  # fmt: skip
    assert torch.allclose(v, torch.tensor([0.2, 0.0]))  # 0.5 * 0.2 + 0.1
    fast, step = clipup(torch.tensor([0.0, 5.0]), torch.tensor([0.0, 3.0]), lr=1.0, max_speed=2.0)
    assert step.norm().item() == pytest.approx(2.0)
    assert torch.allclose(fast, torch.tensor([0.0, 2.0]))


def test_clipup_step_does_not_grow_with_the_gradients_scale():
    _, small = clipup(torch.tensor([1e-3, 0.0]), torch.zeros(2), lr=0.1, max_speed=1.0)
    _, large = clipup(torch.tensor([1e3, 0.0]), torch.zeros(2), lr=0.1, max_speed=1.0)
    assert torch.allclose(small, large)


def test_clipup_of_a_zero_gradient_only_decays():
    v, _ = clipup(torch.zeros(2), torch.tensor([1.0, 1.0]), lr=0.1, max_speed=5.0)
    assert torch.allclose(v, torch.tensor([0.9, 0.9]))
