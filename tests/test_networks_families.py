"""The dcgan generator family: shapes, batched = looped, init, config."""

import dataclasses
import json
import math

import pytest
import torch
from conftest import gen, make_generator

from evogan.components import check_numbers, generator_spec
from evogan.config import Config
from evogan.errors import EvoganError
from evogan.export import SPEC, load_generator, save_generator
from evogan.genome import GenomeLayout, generate, load_genome
from evogan.networks import GeneratorSpec
from evogan.networks.dcgan import pixel_norm

FAMILIES = ["dcgan"]
TINY = {"dcgan_channels": 4}


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


def test_too_few_channels_are_refused():
    with pytest.raises(EvoganError, match="dcgan_channels"):
        tiny("dcgan", dcgan_channels=1)


@pytest.mark.parametrize("kind", FAMILIES)
@pytest.mark.parametrize("shared", [True, False])
def test_generate_equals_per_agent_loop(kind, shared):
    model = tiny(kind)
    layout = GenomeLayout.of(model)
    population = layout.random_population(5, generator=gen(3))
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


def test_old_generator_json_without_the_new_fields_loads(tmp_path):
    model = make_generator("conv", 8)
    save_generator(model, tmp_path)
    raw = json.loads((tmp_path / SPEC).read_text())
    del raw["dcgan_channels"]
    (tmp_path / SPEC).write_text(json.dumps(raw))
    assert load_generator(tmp_path).spec == model.spec


# config wiring


def test_generator_spec_takes_the_channels():
    spec = generator_spec(Config(generator="dcgan", dcgan_channels=6), 28)
    assert spec.dcgan_channels == 6


@pytest.mark.parametrize(("field", "value"), [("dcgan_channels", 1)])
def test_config_ranges(field, value):
    with pytest.raises(EvoganError, match=field.replace("_", "-")):
        check_numbers(Config(**{field: value}))


def test_spec_defaults_match_the_config():
    defaults = {f.name: f.default for f in dataclasses.fields(GeneratorSpec)}
    assert (
        defaults["dcgan_channels"] == generator_spec(Config(generator="dcgan"), 28).dcgan_channels
    )
