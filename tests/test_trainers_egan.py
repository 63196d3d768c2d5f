"""E-GAN: its losses, batched child gradients, Adam lineage, selection and loss mutation."""

import math

import pytest
import torch
from conftest import TINY
from torch.func import functional_call

from evogan.config import Config
from evogan.run.engine import Evolution
from evogan.streams import Streams
from evogan.trainers.egan import LOSSES, child_fitness, child_gradients, generator_losses

EGAN = {**TINY, "trainer": "egan", "population": 2}


def test_generator_losses_at_an_undecided_critic():
    losses = generator_losses(torch.zeros(5))
    expected = [math.log(2), -math.log(2), 0.25]
    assert torch.allclose(losses, torch.tensor(expected))


def test_generator_losses_fall_as_the_critic_is_fooled():
    fooled, caught = (
        generator_losses(torch.full((4,), 3.0)),
        generator_losses(torch.full((4,), -3.0)),
    )
    assert (fooled < caught).all()


def test_child_gradients_match_autograd_child_by_child():
    run = Evolution.start(Config(**EGAN))
    arena = run.parts.arena
    genomes = run.state.parents[[0, 0, 1]]
    loss_of = torch.tensor([0, 2, 1])
    z = torch.randn(6, arena.latent_dim, generator=torch.Generator().manual_seed(1))
    batched = child_gradients(arena, genomes, loss_of, z)
    arena.critic.model.eval()
    for child in range(3):
        genome = genomes[child].clone().requires_grad_(True)
        fakes = functional_call(
            arena.model, {k: v[0] for k, v in arena.layout.unflatten(genome[None]).items()}, (z,)
        )
        loss = generator_losses(arena.critic.model(fakes))[loss_of[child]]
        (expected,) = torch.autograd.grad(loss, genome)
        assert torch.allclose(batched[child], expected, atol=1e-6)


def test_a_survivor_is_its_parent_after_one_adam_step_under_its_loss():
    config = Config(**{**EGAN, "population": 1}, loss_mutation=True, disc_steps=0)
    run = Evolution.start(config)
    parent = run.state.parents[0].clone()
    critic_before = {k: v.clone() for k, v in run.parts.critic.model.state_dict().items()}
    streams_before = run.streams.latents.get_state()
    metrics = run.step()
    (loss_index,) = [i for i, name in enumerate(LOSSES) if metrics[f"egan/survivors_{name}"] == 1]
    # Replay: the same latents, the same frozen critic, torch's own Adam.
    run.parts.critic.model.load_state_dict(critic_before)
    z = torch.randn(
        config.disc_batch, run.parts.spec.latent_dim,
        generator=torch.Generator().set_state(streams_before),
    )  # fmt: skip
    genome = parent.clone().requires_grad_(True)
    adam = torch.optim.Adam([genome], lr=config.disc_lr, betas=(config.disc_beta1, 0.999))
    run.parts.critic.model.eval()
    params = {k: v[0] for k, v in run.parts.layout.unflatten(genome[None]).items()}
    fakes = functional_call(run.parts.model, params, (z,))
    generator_losses(run.parts.critic.model(fakes))[loss_index].backward()
    adam.step()
    assert torch.allclose(run.state.parents[0], genome.detach(), atol=1e-6)
    assert run.state.adam_t == 1


def test_selection_keeps_the_population_and_reports_loss_shares():
    run = Evolution.start(Config(**EGAN))
    for _ in range(2):
        metrics = run.step()
    assert run.state.parents.shape == (2, run.parts.layout.size)
    assert sum(metrics[f"egan/survivors_{name}"] for name in LOSSES) == pytest.approx(1.0)
    assert metrics["fitness/best"] >= metrics["fitness/mean"]
    assert not torch.equal(run.state.parents[0], run.state.parents[1])


def test_loss_mutation_makes_one_child_per_parent():
    run = Evolution.start(Config(**EGAN, loss_mutation=True))
    run.step()
    # two parents, two children: both survive, whatever their fitness
    assert run.state.parents.shape[0] == 2


def test_without_diversity_weight_the_quality_is_the_same_and_diversity_is_skipped():
    run = Evolution.start(Config(**EGAN))
    children = run.state.parents[[0, 1, 1]]
    seeds = Streams.from_seed(3), Streams.from_seed(3)
    quality, diversity = child_fitness(run.parts.arena, children, seeds[0])
    quality_only, zeros = child_fitness(run.parts.arena, children, seeds[1], diversity=False)
    assert torch.allclose(quality, quality_only)
    assert (zeros == 0).all() and (diversity != 0).all()
