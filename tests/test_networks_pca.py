"""The pca generator family: its basis from hand-made images, the fitted parts travelling
with exports, Ray workers and mixtures, and a resumed run rebuilding the same basis."""

import math

import pytest
import torch
from conftest import MNIST_DIR, TINY, make_generator, straight_and_resumed

from evogan.config import Config
from evogan.distributed.scorer import ShardWorker, WorkerSpec
from evogan.errors import EvoganError
from evogan.networks import GeneratorSpec, build_generator
from evogan.networks.generators import cosine_basis
from evogan.networks.pca import SQUEEZE, principal_components
from evogan.run.engine import Evolution
from evogan.run.export import load_generator, sample, save_generator


def images_before_tanh(pre_tanh: torch.Tensor) -> torch.Tensor:
    """Images ``[N, 1, 1, P]`` whose pre-tanh values (``atanh(SQUEEZE x)``) are ``pre_tanh``."""
    return (torch.tanh(pre_tanh.double()) / SQUEEZE).float()[:, None, None, :]


def test_two_images_give_their_one_direction_scaled_by_its_spread():
    """Pre-tanh rows (1, 2) and (-1, -2): mean 0, one direction (1, 2)/sqrt 5 with singular
    value sqrt 10, spread sqrt(10 / (2 - 1)): the component is (1, 2) * sqrt 2."""
    images = images_before_tanh(torch.tensor([[1.0, 2.0], [-1.0, -2.0]]))
    mean, basis = principal_components(images, 1)
    assert torch.allclose(mean, torch.zeros(2), atol=1e-5)
    assert torch.allclose(basis, torch.tensor([[math.sqrt(2), 2 * math.sqrt(2)]]), atol=1e-5)


def test_components_come_by_spread_and_each_has_its_largest_entry_positive():
    """Four images spread +-1.5 along pixel 1 and +-0.5 along pixel 0, negated or not:
    spreads sqrt(4.5 / 3) and sqrt(0.5 / 3), pixel 1's first."""
    pre_tanh = torch.tensor([[0.0, 1.5], [0.0, -1.5], [0.5, 0.0], [-0.5, 0.0]])
    expected = torch.tensor([[0.0, math.sqrt(1.5)], [math.sqrt(1 / 6), 0.0]])
    for sign in (1, -1):
        _, basis = principal_components(images_before_tanh(sign * pre_tanh), 2)
        assert torch.allclose(basis, expected, atol=1e-5)


def test_the_basis_is_the_same_bit_for_bit_on_one_thread_or_two():
    images = torch.rand(300, 1, 8, 8, generator=torch.Generator().manual_seed(0)) * 2 - 1
    one = principal_components(images, 20)
    threads = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        two = principal_components(images, 20)
    finally:
        torch.set_num_threads(threads)
    assert torch.equal(one[0], two[0]) and torch.equal(one[1], two[1])


@pytest.mark.parametrize("k", [0, 4])
def test_more_components_than_images_or_none_is_refused(k):
    images = torch.zeros(3, 1, 2, 2)
    with pytest.raises(EvoganError, match=f"components {k}: .* 1 to 3"):
        principal_components(images, k)


def test_more_components_than_pixels_is_refused_at_build():
    with pytest.raises(EvoganError, match=r"components must be in \[1, 64\]"):
        make_generator("pca", 8, components=65)


def test_a_zero_genome_draws_the_mean_digit_and_a_coefficient_adds_its_component():
    model = make_generator("pca", 8, components=3)
    images = torch.rand(50, 1, 8, 8, generator=torch.Generator().manual_seed(1)) * 2 - 1
    model.fit_to(images)
    mean, basis = principal_components(images, 3)
    with torch.no_grad():
        model.coefficients.weight.zero_()
        model.coefficients.bias.copy_(torch.tensor([0.0, 1.0, 0.0]))
    drawn = model(torch.randn(2, model.spec.latent_dim))
    expected = torch.tanh(mean + basis[1]).reshape(1, 1, 8, 8).expand(2, -1, -1, -1)
    assert torch.allclose(drawn, expected, atol=1e-6)


def test_before_fitting_it_draws_with_the_cosine_waves():
    model = make_generator("pca", 8, components=5)
    assert torch.equal(model.basis, cosine_basis(3, 8)[:5])


def test_the_fitted_basis_is_exported_and_loaded_with_the_genes(tmp_path):
    model = make_generator("pca", 8, components=6)
    model.fit_to(torch.rand(40, 1, 8, 8, generator=torch.Generator().manual_seed(2)) * 2 - 1)
    save_generator(model, tmp_path)
    loaded = load_generator(tmp_path)
    assert torch.equal(loaded.basis, model.basis) and torch.equal(loaded.mean, model.mean)
    assert torch.equal(sample(loaded, 5), sample(model.eval(), 5))


def test_a_mixture_fits_one_basis_for_all_its_components():
    spec = GeneratorSpec(
        kind="pca", image_size=8, latent_dim=5, hidden=4, channels=1, basis_size=4,
        network=None, bias=True, init="scaled", mixture=3, components=4,
    )  # fmt: skip
    mixture = build_generator(spec)
    images = torch.rand(30, 1, 8, 8, generator=torch.Generator().manual_seed(3)) * 2 - 1
    mixture.fit_to(images)
    _, basis = principal_components(images, 4)
    assert all(torch.equal(component.basis, basis) for component in mixture.components)


PCA = {**TINY, "trainer": "es", "generator": "pca", "components": 16, "threads": 1}


def test_a_ray_worker_scores_with_the_drivers_basis():
    """Without Ray: the actor class itself. Built from the spec alone it would draw waves."""
    run = Evolution.start(Config(**PCA))
    spec = run.parts.spec
    critic = run.parts.critic.model
    latents = torch.randn(8, spec.latent_dim, generator=torch.Generator().manual_seed(0))
    population = run.state.population
    local = run.parts.arena.scorer.evaluate(population, latents, critic)
    state = run.parts.model.fixed_state()
    assert set(state) == {"mean", "basis"}
    fitted = ShardWorker(WorkerSpec(spec, 8, 16, 0.4, generator_state=state))
    remote = fitted.evaluate(critic.state_dict(), population, latents)
    assert torch.equal(remote[0], local[0])
    bare = ShardWorker(WorkerSpec(spec, 8, 16, 0.4))
    assert not torch.equal(bare.evaluate(critic.state_dict(), population, latents)[0], local[0])


def test_a_resumed_pca_run_equals_the_straight_one(tmp_path):
    straight, resumed = straight_and_resumed(Config(**PCA), tmp_path)
    assert torch.equal(resumed.evolution.state.mean, straight.evolution.state.mean)
    assert torch.equal(resumed.evolution.parts.model.basis, straight.evolution.parts.model.basis)


@pytest.mark.skipif(not MNIST_DIR.is_dir(), reason=f"no shared MNIST at {MNIST_DIR}")
def test_the_pca_family_draws_from_eigen_digits_of_its_training_images():
    """The mnist preset with the pca family on 500 real MNIST images: the basis is theirs,
    and the mean image (a zero genome's drawing) is background at the corners and grey at
    the centre."""
    from evogan.config import build_config, load_preset

    config = build_config(
        ("preset", load_preset("mnist")),
        ("test", {"data_dir": str(MNIST_DIR), "subset": "0:500", "generator": "pca",
                  "population": 4,
                  "samples_per_agent": 2, "keep_best": 0.0, "progress": False}),
    )  # fmt: skip
    run = Evolution.start(config)
    model = run.parts.model
    mean, basis = principal_components(run.parts.data.images, 64)
    assert model.spec.kind == "pca" and run.parts.layout.size == 2656
    assert torch.equal(model.basis, basis) and torch.equal(model.mean, mean)
    average = torch.tanh(mean).reshape(28, 28)
    assert average[0, 0] < -0.95 and average[14, 14] > average[0, 0] + 0.5
