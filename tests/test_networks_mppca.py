"""The mppca generator family: k-means and each cluster's directions on hand-made points,
a zero genome drawing the fit, the genes' effects, and the fit travelling and resuming."""

import math

import pytest
import torch
from conftest import MNIST_DIR, TINY, make_generator, straight_and_resumed

from evogan.config import Config
from evogan.errors import EvoganError
from evogan.networks.mppca import SHARPEN, cluster_directions, kmeans, project
from evogan.networks.pca import SQUEEZE, principal_components
from evogan.run.engine import Evolution
from evogan.run.export import load_generator, sample, save_generator


def two_blobs() -> torch.Tensor:
    """Six 2-D points: three around (10, 0) spread along y, three around (-10, 0) along x."""
    return torch.tensor(
        [[10.0, 1.0], [10.0, 0.0], [10.0, -1.0], [-12.0, 0.0], [-10.0, 0.0], [-8.0, 0.0]],
        dtype=torch.float64,
    )


def test_kmeans_finds_the_two_blobs_and_their_centres():
    centres, assignment = kmeans(two_blobs(), 2)
    first = assignment[0]
    assert assignment.tolist() == [first] * 3 + [1 - first] * 3
    expected = torch.tensor([[10.0, 0.0], [-10.0, 0.0]], dtype=torch.float64)
    order = [first.item(), 1 - first.item()]
    assert torch.equal(centres[order], expected)


def test_each_cluster_gets_its_own_direction_scaled_by_its_spread():
    """Blob one spreads +-1 along y: std 1. Blob two +-2 along x: std 2. Signed positive."""
    points = two_blobs()
    centres, assignment = kmeans(points, 2)
    spec = make_generator("mppca", 8, latent_dim=2, components=2, clusters=2).spec
    directions = cluster_directions(points, centres, assignment, spec)
    first = assignment[0].item()
    assert torch.allclose(directions[first], torch.tensor([[0.0], [1.0]]), atol=1e-6)
    assert torch.allclose(directions[1 - first], torch.tensor([[2.0], [0.0]]), atol=1e-6)


def test_a_cluster_of_one_image_has_no_directions():
    points = torch.tensor([[0.0, 0.0], [0.0, 1.0], [9.0, 9.0]], dtype=torch.float64)
    centres, assignment = kmeans(points, 2)
    spec = make_generator("mppca", 8, latent_dim=3, components=2, clusters=2).spec
    directions = cluster_directions(points, centres, assignment, spec)
    lone = assignment[2].item()
    assert torch.equal(directions[lone], torch.zeros(2, 2))
    assert directions[1 - lone].abs().sum() > 0


def test_projection_gives_unit_spread_on_the_fitted_images():
    images = torch.rand(200, 1, 8, 8, generator=torch.Generator().manual_seed(0)) * 2 - 1
    mean, basis = principal_components(images, 6)
    coefficients = project(images, mean, basis)
    assert torch.allclose(coefficients.std(0), torch.ones(6, dtype=torch.float64), atol=1e-4)
    assert torch.allclose(coefficients.mean(0), torch.zeros(6, dtype=torch.float64), atol=1e-5)


def fitted(**changes):
    model = make_generator("mppca", 8, **({"latent_dim": 3, "components": 4, "clusters": 3}
                                          | changes))  # fmt: skip
    images = torch.rand(60, 1, 8, 8, generator=torch.Generator().manual_seed(1)) * 2 - 1
    model.fit_to(images)
    return model, images


def test_a_zero_genome_draws_the_fitted_cluster_picked_by_the_first_coordinate():
    """z = (-inf-ish, 0, 0) picks the first cluster and sits at its centre."""
    model, _ = fitted()
    z = torch.tensor([[-8.0, 0.0, 0.0], [8.0, 0.0, 0.0]])
    drawn = model(z).reshape(2, -1)
    for row, cluster in ((0, 0), (1, 2)):
        centre = model.centres[cluster] @ model.basis
        assert torch.allclose(drawn[row], torch.tanh(SHARPEN * centre + model.mean), atol=1e-6)


def test_the_genes_shift_a_centre_scale_a_direction_and_sharpen():
    model, _ = fitted()
    z = torch.tensor([[-8.0, 1.0, 0.0]])
    with torch.no_grad():
        model.shift[0] = torch.tensor([1.0, 0.0, 0.0, 0.0])
        model.log_spread[0, 0] = math.log(2.0)
        model.sharpness.fill_(math.log(3.0))
    coefficients = model.centres[0] + model.shift[0] + 2.0 * model.directions[0, :, 0]
    expected = torch.tanh(SHARPEN * 3.0 * (coefficients @ model.basis) + model.mean)
    assert torch.allclose(model(z).reshape(-1), expected, atol=1e-5)


def test_clusters_are_drawn_in_their_share_of_the_training_images():
    model, _ = fitted()
    z = torch.randn(20000, 3, generator=torch.Generator().manual_seed(2))
    uniform = 0.5 * (1 + torch.erf(z[:, 0] / math.sqrt(2)))
    picked = torch.searchsorted(model.shares, uniform).clamp_max(2)
    shares = torch.bincount(picked, minlength=3) / 20000
    expected = torch.diff(model.shares, prepend=torch.zeros(1))
    assert torch.allclose(shares, expected, atol=0.015)
    assert model.shares[-1] == 1.0


def test_the_fit_is_the_same_bit_for_bit_on_one_thread_or_two():
    images = torch.rand(300, 1, 8, 8, generator=torch.Generator().manual_seed(3)) * 2 - 1
    one = make_generator("mppca", 8, latent_dim=4, components=10, clusters=5)
    one.fit_to(images)
    threads = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        two = make_generator("mppca", 8, latent_dim=4, components=10, clusters=5)
        two.fit_to(images)
    finally:
        torch.set_num_threads(threads)
    for name, value in one.fixed_state().items():
        assert torch.equal(value, two.fixed_state()[name]), name


def test_more_clusters_than_images_or_a_latent_wider_than_the_components_is_refused():
    model = make_generator("mppca", 8, latent_dim=3, components=4, clusters=5)
    with pytest.raises(EvoganError, match=r"clusters 5: .* training images \(4\)"):
        model.fit_to(torch.zeros(4, 1, 8, 8))
    with pytest.raises(EvoganError, match=r"latent_dim must be in \[2, 5\]"):
        make_generator("mppca", 8, latent_dim=6, components=4)


def test_identical_images_fit_without_nans_and_draw_that_image():
    model = make_generator("mppca", 8, latent_dim=3, components=4, clusters=2)
    image = torch.linspace(-0.9, 0.9, 64).reshape(1, 1, 8, 8)
    model.fit_to(image.expand(6, -1, -1, -1))
    for value in model.fixed_state().values():
        assert torch.isfinite(value).all()
    drawn = model(torch.randn(3, 3, generator=torch.Generator().manual_seed(4)))
    # the fit is pre-tanh, atanh(SQUEEZE x): drawn back, the image is SQUEEZE x
    assert torch.allclose(drawn, SQUEEZE * image.expand(3, -1, -1, -1), atol=1e-5)


def test_the_fit_is_exported_and_loaded_with_the_genes(tmp_path):
    model, _ = fitted()
    save_generator(model, tmp_path)
    loaded = load_generator(tmp_path)
    for name, value in model.fixed_state().items():
        assert torch.equal(getattr(loaded, name), value), name
    assert torch.equal(sample(loaded, 5), sample(model.eval(), 5))


MPPCA = {**TINY, "trainer": "es", "generator": "mppca", "components": 8, "clusters": 4,
         "latent_dim": 4, "threads": 1}  # fmt: skip


def test_a_resumed_mppca_run_equals_the_straight_one(tmp_path):
    straight, resumed = straight_and_resumed(Config(**MPPCA), tmp_path)
    assert torch.equal(resumed.evolution.state.mean, straight.evolution.state.mean)
    for name, value in straight.evolution.parts.model.fixed_state().items():
        assert torch.equal(resumed.evolution.parts.model.fixed_state()[name], value), name


def test_es_starts_at_the_fit_itself_and_other_families_at_a_random_mean():
    """The mppca genes are offsets from the fit: ES's first mean is the zero genome."""
    from evogan.run.engine import Evolution

    run = Evolution.start(Config(**MPPCA))
    assert torch.equal(run.best_genome, torch.zeros(run.parts.layout.size))
    mlp = Evolution.start(Config(**TINY, trainer="es"))
    assert not mlp.parts.layout.search_from_initial
    assert mlp.best_genome.abs().min() > 0  # a random draw (the article's start)


def test_the_images_pre_tanh_values_are_what_the_fit_projects():
    """``project`` inverts the drawing: an image drawn at zero sharpness gene from given
    coefficients projects back to them divided by SHARPEN (up to the SQUEEZE)."""
    model, _ = fitted()
    z = torch.tensor([[0.3, 0.5, -0.2]])
    image = model(z)
    back = project(image, model.mean, model.basis)
    uniform = 0.5 * (1 + torch.erf(z[:, 0] / math.sqrt(2)))
    cluster = torch.searchsorted(model.shares, uniform).item()
    coefficients = model.centres[cluster] + model.directions[cluster] @ z[0, 1:]
    # atanh(SQUEEZE * tanh(x)) is x shrunk slightly: compare within a few percent
    assert torch.allclose(back[0].float(), SHARPEN * coefficients, rtol=0.1, atol=0.1)


@pytest.mark.skipif(not MNIST_DIR.is_dir(), reason=f"no shared MNIST at {MNIST_DIR}")
def test_the_mnist_preset_fits_every_cluster_to_real_digits_and_draws_strokes():
    from evogan.config import build_config, load_preset

    config = build_config(
        ("preset", load_preset("mnist")),
        ("test", {"data_dir": str(MNIST_DIR), "subset": "0:500", "population": 4,
                  "samples_per_agent": 2, "keep_best": 0.0, "progress": False}),
    )  # fmt: skip
    run = Evolution.start(config)
    model = run.parts.model
    shares = torch.diff(model.shares, prepend=torch.zeros(1))
    assert model.spec.kind == "mppca" and run.parts.layout.size == 64 * 64 + 64 * 15 + 1
    assert (shares > 0).all()
    drawn = model(torch.randn(64, model.spec.latent_dim, generator=torch.Generator()))
    ink = (drawn > 0).float().mean()
    assert 0.05 < ink < 0.35  # strokes on a dark background, like MNIST's ~19 % ink
