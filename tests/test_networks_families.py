"""The dcgan, subspace and frozen generator families: shapes, batched = looped, seeds, export."""

import copy
import dataclasses
import json
import math
import pickle

import pytest
import torch
from conftest import gen, make_generator

from evogan.config import Config
from evogan.errors import EvoganError
from evogan.genome import GenomeLayout, generate, load_genome
from evogan.networks import GeneratorSpec
from evogan.networks.dcgan import pixel_norm
from evogan.networks.frozen import AFFINE_STD, FrozenGenerator, upsample
from evogan.networks.subspace import GENE_STD, PROJECTION_FAN, SubspaceGenerator
from evogan.run.export import SPEC, WEIGHTS, load_generator, save_generator
from evogan.run.wiring import check_numbers, generator_spec

FAMILIES = ["dcgan", "subspace", "frozen"]
TINY = {"dcgan_channels": 4, "genome_dim": 12}


def tiny(kind: str, size: int = 8, **changes):
    return make_generator(kind, size, **{**TINY, **changes})


@pytest.mark.parametrize("kind", FAMILIES)
@pytest.mark.parametrize("size", [8, 12, 28])
def test_shape_and_pixel_range(kind, size):
    model = tiny(kind, size)
    with torch.no_grad():  # large weights saturate the tanh: the range must still hold
        for p in model.parameters():
            p.copy_(torch.randn(p.shape, generator=gen(1)) * 10)
        images = model(torch.randn(6, 5, generator=gen(2)))
    assert images.shape == (6, 1, size, size)
    assert images.min() >= -1.0 and images.max() <= 1.0
    assert images.min() < 0 < images.max()


@pytest.mark.parametrize("kind", FAMILIES)
def test_image_size_must_be_a_multiple_of_four(kind):
    with pytest.raises(EvoganError, match="10"):
        tiny(kind, 10)


@pytest.mark.parametrize(("field", "value"), [("dcgan_channels", 1), ("genome_dim", 0)])
def test_sizes_too_small_are_refused(field, value):
    with pytest.raises(EvoganError, match=field):
        tiny("subspace", **{field: value})


@pytest.mark.parametrize("kind", FAMILIES)
@pytest.mark.parametrize("shared", [True, False])
def test_generate_equals_per_agent_loop(kind, shared):
    model = tiny(kind)
    layout = GenomeLayout.of(model)
    population = layout.random_population(5, rng=gen(3))
    latents = torch.randn((4, 5) if shared else (5, 4, 5), generator=gen(4))
    with torch.no_grad():
        images = generate(model, layout, population, latents, chunk=2)
        expected = torch.stack(
            [
                load_genome(model, layout, genome)(latents if shared else latents[i]).clone()
                for i, genome in enumerate(population)
            ]
        )
    assert images.shape == (5, 4, 1, 8, 8)
    torch.testing.assert_close(images, expected, rtol=1e-5, atol=1e-6)
    assert not torch.allclose(images[0], images[1])


def test_pixel_norm_is_per_pixel_over_channels():
    h = torch.tensor([3.0, 4.0]).reshape(1, 2, 1, 1).repeat(2, 1, 2, 2)
    h[1] *= 10  # another sample's scale must not matter (no batch statistics)
    expected = torch.tensor([3.0, 4.0]) / math.sqrt(12.5)
    torch.testing.assert_close(pixel_norm(h)[:, :, 1, 0], expected.repeat(2, 1))


def test_dcgan_draws_the_same_image_alone_or_in_a_batch():
    """No BatchNorm: an image depends on its own latent only."""
    model = tiny("dcgan")
    z = torch.randn(7, 5, generator=gen(5))
    with torch.no_grad():
        torch.testing.assert_close(model(z[2:3]), model(z)[2:3])


def test_dcgan_parameter_count_at_the_reference_size():
    """latent 64 -> 128x7x7, 128 -> 64 -> 1 transposed convs (k 4): 539,841 weights."""
    model = make_generator("dcgan", 28, latent_dim=64, dcgan_channels=128)
    linear = 64 * 128 * 49 + 128 * 49
    up1 = 128 * 64 * 16 + 64
    up2 = 64 * 1 * 16 + 1
    assert sum(p.numel() for p in model.parameters()) == linear + up1 + up2 == 539_841


def test_dcgan_init_std_uses_the_transposed_conv_fan_in():
    """A stride-2, kernel-4 transposed conv sums in_channels x 2 x 2 inputs per pixel."""
    model = tiny("dcgan", dcgan_channels=6)  # 6 -> 3 -> 1 channels
    stds = {name: model.init_std(name, p) for name, p in model.named_parameters()}
    assert stds["project.weight"] == 1 / math.sqrt(5)
    assert stds["up1.weight"] == 1 / math.sqrt(6 * 4)
    assert stds["up2.weight"] == 1 / math.sqrt(3 * 4)
    assert stds["up1.bias"] == 0.1
    normal = tiny("dcgan", init="normal")
    assert {normal.init_std(n, p) for n, p in normal.named_parameters()} == {1.0}


# subspace


def dense_projection(model: SubspaceGenerator) -> torch.Tensor:
    return model.projection.to_dense()


def test_subspace_genome_is_the_only_parameter_and_state():
    model = tiny("subspace")
    assert [(n, tuple(p.shape)) for n, p in model.named_parameters()] == [("genome", (12,))]
    assert list(model.state_dict()) == ["genome"]  # theta0 and P are rebuilt, never stored


def test_subspace_same_seed_same_projection_other_seed_differs():
    a, b = tiny("subspace", subspace_seed=7), tiny("subspace", subspace_seed=7)
    c = tiny("subspace", subspace_seed=8)
    assert torch.equal(a.theta0, b.theta0)
    assert torch.equal(dense_projection(a), dense_projection(b))
    assert not torch.equal(a.theta0, c.theta0)
    assert not torch.equal(dense_projection(a), dense_projection(c))


def test_subspace_projection_rows_are_sparse_signed_and_scaled():
    model = tiny("subspace", 28, genome_dim=500)
    spread = GenomeLayout.of(tiny("dcgan", 28)).init_std
    p = dense_projection(model)
    assert p.shape == (len(spread), 500)
    # Entries are +-spread/sqrt(fan); a column drawn twice in a row adds (or cancels).
    units = p / (spread[:, None] / math.sqrt(PROJECTION_FAN))
    torch.testing.assert_close(units, units.round())
    total = units.abs().sum(dim=1)
    assert (total <= PROJECTION_FAN).all() and (total % 2 == PROJECTION_FAN % 2).all()
    assert (total == PROJECTION_FAN).float().mean() > 0.95  # repeats are rare at 500 genes


def test_subspace_unit_genes_move_each_weight_by_its_init_spread():
    model = tiny("subspace", 28, genome_dim=200)
    spread = GenomeLayout.of(tiny("dcgan", 28)).init_std
    genes = torch.randn(200, 400, generator=gen(6))
    moves = model.projection @ genes  # [n_full, 400]
    ratio = (moves.std(dim=1) / spread).mean().item()
    assert ratio == pytest.approx(1.0, rel=0.05)


def test_subspace_draws_what_the_dcgan_draws_with_theta0_plus_p_g():
    """g = 0 is theta0 exactly; any g is the dcgan with weights theta0 + P g."""
    model, dcgan = tiny("subspace"), tiny("dcgan")
    layout = GenomeLayout.of(dcgan)
    z = torch.randn(3, 5, generator=gen(7))
    with torch.no_grad():
        full = torch.cat([w.reshape(-1) for w in model.full_weights().values()])
        assert torch.equal(full, model.theta0)
        torch.testing.assert_close(model(z), load_genome(dcgan, layout, model.theta0)(z))
        model.genome.copy_(torch.randn(12, generator=gen(8)))
        theta = model.theta0 + dense_projection(model) @ model.genome
        expected = load_genome(dcgan, layout, theta)(z)
        torch.testing.assert_close(model(z), expected, rtol=1e-5, atol=1e-6)


def test_subspace_genes_start_near_theta0():
    model = tiny("subspace")
    layout = GenomeLayout.of(model)
    assert torch.equal(layout.init_std, torch.full((12,), GENE_STD))
    assert 0 < GENE_STD < 1  # agents differ, but share theta0's structure


def test_subspace_gradient_reaches_the_genome():
    model = tiny("subspace")
    layout = GenomeLayout.of(model)
    genome = layout.random_population(1, rng=gen(9)).requires_grad_(True)
    images = generate(model, layout, genome, torch.randn(4, 5, generator=gen(10)))
    images.sum().backward()
    assert genome.grad is not None and genome.grad.abs().sum() > 0


def test_subspace_copies_and_pickles():
    """The engine deep-copies the model (a sparse CSR buffer could not be)."""
    model = tiny("subspace")
    z = torch.randn(2, 5, generator=gen(13))
    with torch.no_grad():
        model.genome.fill_(0.3)
        for copied in (copy.deepcopy(model), pickle.loads(pickle.dumps(model))):
            assert torch.equal(copied(z), model(z))


def test_subspace_export_round_trip(tmp_path):
    model = tiny("subspace", subspace_seed=3)
    with torch.no_grad():
        model.genome.copy_(torch.randn(12, generator=gen(11)))
    save_generator(model, tmp_path)
    loaded = load_generator(tmp_path)
    assert isinstance(loaded, SubspaceGenerator)
    assert json.loads((tmp_path / SPEC).read_text())["subspace_seed"] == 3
    z = torch.randn(5, 5, generator=gen(12))
    with torch.no_grad():
        assert torch.equal(loaded(z), model.eval()(z))
    assert (tmp_path / WEIGHTS).stat().st_size < 1000  # only g: 12 floats and a header


# frozen


def test_frozen_genes_are_the_steering_the_body_is_fixed():
    model = tiny("frozen", 8, dcgan_channels=6, hidden=4)
    genes = {name: p.numel() for name, p in model.named_parameters()}
    assert genes == {
        "project.weight": 5 * 4, "project.bias": 4,  # latent 5 -> rank 4
        "scale1": 6, "shift1": 6, "scale2": 3, "shift2": 3,
        "out.weight": 3 * 9, "out.bias": 1,  # 3x3 conv, C/2 = 3 -> 1
    }  # fmt: skip
    assert model.state_dict().keys() == genes.keys()  # lift and body rebuilt from the seed
    assert model.lift.shape == (6 * 2 * 2, 4) and model.body.shape == (3, 6, 3, 3)
    stds = {name: model.init_std(name, p) for name, p in model.named_parameters()}
    assert stds["scale1"] == stds["shift2"] == AFFINE_STD
    assert stds["out.weight"] == pytest.approx(1 / math.sqrt(27))


def test_frozen_same_seed_same_body_other_seed_differs():
    a, b = tiny("frozen", subspace_seed=7), tiny("frozen", subspace_seed=7)
    c = tiny("frozen", subspace_seed=8)
    assert torch.equal(a.lift, b.lift) and torch.equal(a.body, b.body)
    assert not torch.equal(a.lift, c.lift) and not torch.equal(a.body, c.body)


def test_frozen_draws_the_hand_written_net():
    """Scales 1 + gene and shifts after each pixel norm, bilinear 2x, the fixed conv."""
    model = tiny("frozen", 8)
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.randn(p.shape, generator=gen(5)) * 0.5)
        z = torch.randn(3, 5, generator=gen(6))
        h = (model.project(z) @ model.lift.T).reshape(3, 4, 2, 2)
        h = torch.relu(
            pixel_norm(h) * (1 + model.scale1)[:, None, None] + model.shift1[:, None, None]
        )
        up = torch.nn.functional.interpolate(h, size=(4, 4), mode="bilinear", align_corners=False)
        h = torch.nn.functional.conv2d(up, model.body, padding=1)
        h = torch.relu(
            pixel_norm(h) * (1 + model.scale2)[:, None, None] + model.shift2[:, None, None]
        )
        expected = torch.tanh(model.out(upsample(h)) - 1.5)
        torch.testing.assert_close(model(z), expected)


def test_frozen_zero_affine_genes_leave_the_random_features_as_they_are():
    """Genes at 0 are scales of 1 and shifts of 0: the net is the plain random body."""
    model = tiny("frozen", 8)
    z = torch.randn(3, 5, generator=gen(7))
    with torch.no_grad():
        h = (model.project(z) @ model.lift.T).reshape(3, 4, 2, 2)
        h = torch.nn.functional.conv2d(upsample(torch.relu(pixel_norm(h))), model.body, padding=1)
        plain = torch.tanh(model.out(upsample(torch.relu(pixel_norm(h)))) - 1.5)
        torch.testing.assert_close(model(z), plain)
        model.shift2.fill_(0.4)
        assert not torch.allclose(model(z), plain)


def test_frozen_export_round_trip_stores_the_genes_alone(tmp_path):
    model = tiny("frozen", 8, subspace_seed=3)
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.randn(p.shape, generator=gen(11)))
    save_generator(model, tmp_path)
    loaded = load_generator(tmp_path)
    assert isinstance(loaded, FrozenGenerator)
    z = torch.randn(5, 5, generator=gen(12))
    with torch.no_grad():
        assert torch.equal(loaded(z), model.eval()(z))
    genes = sum(p.numel() for p in model.parameters())
    assert (tmp_path / WEIGHTS).stat().st_size < genes * 4 + 1000  # no lift, no body


def test_frozen_copies_and_pickles():
    model = tiny("frozen")
    z = torch.randn(2, 5, generator=gen(13))
    with torch.no_grad():
        for copied in (copy.deepcopy(model), pickle.loads(pickle.dumps(model))):
            assert torch.equal(copied(z), model(z))


def test_old_generator_json_without_the_new_fields_loads(tmp_path):
    model = make_generator("conv", 8)
    save_generator(model, tmp_path)
    raw = json.loads((tmp_path / SPEC).read_text())
    for key in ("dcgan_channels", "genome_dim", "subspace_seed"):
        del raw[key]
    (tmp_path / SPEC).write_text(json.dumps(raw))
    assert load_generator(tmp_path).spec == model.spec


# config wiring


@pytest.mark.parametrize(
    ("changes", "channels"),
    [
        ({"generator": "dcgan"}, 128),
        ({"generator": "subspace"}, 32),
        ({"generator": "subspace", "dcgan_channels": 6}, 6),
        ({"generator": "frozen"}, 32),
    ],
)
def test_generator_spec_channels_and_seed(changes, channels):
    spec = generator_spec(Config(seed=5, genome_dim=30, **changes), 28)
    assert (spec.dcgan_channels, spec.genome_dim, spec.subspace_seed) == (channels, 30, 5)


@pytest.mark.parametrize(("field", "value"), [("dcgan_channels", 1), ("genome_dim", 0)])
def test_config_ranges(field, value):
    with pytest.raises(EvoganError, match=field.replace("_", "-")):
        check_numbers(Config(**{field: value}))


def test_spec_defaults_match_the_config():
    defaults = {f.name: f.default for f in dataclasses.fields(GeneratorSpec)}
    assert defaults["genome_dim"] == Config().genome_dim
    assert (
        defaults["dcgan_channels"] == generator_spec(Config(generator="dcgan"), 28).dcgan_channels
    )
