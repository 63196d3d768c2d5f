"""Layer specs, generator architectures and the discriminator: shapes, ranges, errors."""

import math

import pytest
import torch
from conftest import make_generator

from evogan.errors import EvoganError
from evogan.networks import (
    ACTIVATIONS,
    GENERATORS,
    GeneratorSpec,
    LayerSpec,
    build_discriminator,
    build_generator,
    parse_network,
)
from evogan.networks.discriminator import Dropout
from evogan.networks.generators import cosine_basis

# parse_network


@pytest.mark.parametrize("none", [None, "none", "None", "null"])
def test_parse_network_resolves_none_inputs(none):
    spec = [[4, 8, "tanh"], [none, 16, "relu"], [none, 64, "sigmoid"]]
    assert parse_network(spec) == (
        LayerSpec(4, 8, "tanh"),
        LayerSpec(8, 16, "relu"),
        LayerSpec(16, 64, "sigmoid"),
    )


def test_parse_network_reads_json_text():
    text = '[[100, 100, "sigmoid"], [null, 784, "sigmoid"]]'
    assert parse_network(text) == (LayerSpec(100, 100, "sigmoid"), LayerSpec(100, 784, "sigmoid"))


def test_parse_network_accepts_explicit_matching_inputs():
    assert parse_network([[3, 5, "elu"], [5, 2, "linear"]])[1] == LayerSpec(5, 2, "linear")


@pytest.mark.parametrize(
    ("spec", "fragment"),
    [
        ([[4, 8, "tanh"], [9, 64, "tanh"]], "network[1]"),  # 9 inputs after 8 outputs
        ([[4, 8, "tanh"], [None, 64, "swish"]], "swish"),
        ([[None, 8, "tanh"]], "network[0]"),  # first layer cannot be "previous"
        ([[4, 8]], "network[0]"),
        ([[4, 8, "tanh", 1]], "network[0]"),
        (["4, 8, tanh"], "network[0]"),
        ([[0, 8, "tanh"]], "inputs"),
        ([[4, -1, "tanh"]], "outputs"),
        ([[4.0, 8, "tanh"]], "inputs"),
        ([[True, 8, "tanh"]], "inputs"),
        ([[4, "8", "tanh"]], "outputs"),
        ([], "network"),
        ({"inputs": 4}, "network"),
        ("[[4, 8, 'tanh']]", "JSON"),  # single quotes are not JSON
        ("", "JSON"),
        ('"tanh"', "network"),
    ],
)
def test_parse_network_rejects(spec, fragment):
    with pytest.raises(EvoganError) as err:
        parse_network(spec)
    assert fragment in str(err.value)


def test_parse_network_error_names_the_option():
    with pytest.raises(EvoganError, match=r"--network\[0\]"):
        parse_network([[4, 8]], option="--network")


# generators


@pytest.mark.parametrize("kind", sorted(GENERATORS))
@pytest.mark.parametrize("size", [8, 28])
def test_generator_shape_and_range(kind, size):
    model = make_generator(kind, size)
    # Large weights push every activation into saturation: the range must still hold.
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.randn(p.shape, generator=torch.Generator().manual_seed(1)) * 10)
    z = torch.randn(6, model.spec.latent_dim, generator=torch.Generator().manual_seed(2))
    images = model(z)
    assert images.shape == (6, 1, size, size)
    assert images.dtype == torch.float32
    assert images.min() >= -1.0 and images.max() <= 1.0
    assert images.min() < 0 < images.max()  # both ends of the range are reachable


@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
def test_mlp_images_in_pixel_range_for_every_last_activation(activation):
    """Images are in [-1, 1] whatever the last layer; otherwise the spec must be refused."""
    spec = GeneratorSpec(
        kind="mlp",
        image_size=8,
        latent_dim=4,
        hidden=0,
        channels=0,
        basis_size=8,
        network=parse_network([[4, 16, "tanh"], [None, 64, activation]]),
        bias=True,
        init="normal",
    )
    try:
        model = build_generator(spec)
    except EvoganError:
        return  # refusing a last layer that cannot draw [-1, 1] pixels is fine
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.randn(p.shape, generator=torch.Generator().manual_seed(0)) * 3)
    images = model(torch.randn(32, 4, generator=torch.Generator().manual_seed(1)))
    low, high = images.min().item(), images.max().item()
    assert low >= -1.0 and high <= 1.0, f"last layer {activation}: pixels in [{low}, {high}]"


def test_sigmoid_output_maps_to_minus_one_one():
    """Zero weights give sigmoid(0) = 0.5, which is pixel 0; a bias of +-inf gives +-1."""
    model = make_generator("mlp", 8, network=parse_network([[5, 7, "tanh"], [None, 64, "sigmoid"]]))
    with torch.no_grad():
        for p in model.parameters():
            p.zero_()
    assert torch.equal(model(torch.ones(2, 5)), torch.zeros(2, 1, 8, 8))
    with torch.no_grad():
        model.body[2].bias.copy_(torch.tensor([-1e4, 1e4]).repeat(32))
    assert model(torch.ones(1, 5)).flatten().tolist() == [-1.0, 1.0] * 32


def test_mlp_last_layer_must_match_image():
    with pytest.raises(EvoganError, match="64"):
        make_generator("mlp", 8, network=parse_network([[5, 7, "tanh"], [None, 50, "tanh"]]))
    with pytest.raises(EvoganError, match="784"):
        make_generator("mlp", 28, network=parse_network([[5, 7, "tanh"], [None, 64, "tanh"]]))


def test_mlp_first_layer_must_match_latent():
    with pytest.raises(EvoganError, match="latent"):
        make_generator("mlp", 8, latent_dim=6)


def test_unknown_generator_kind():
    with pytest.raises(EvoganError, match="gan9000"):
        make_generator("gan9000")


def test_conv_needs_a_multiple_of_four():
    with pytest.raises(EvoganError, match="10"):
        make_generator("conv", 10)


@pytest.mark.parametrize("basis_size", [0, 9])
def test_basis_size_within_image(basis_size):
    with pytest.raises(EvoganError, match="basis_size"):
        make_generator("basis", 8, basis_size=basis_size)


def test_mlp_without_bias_has_only_weights():
    model = make_generator("mlp", 8, bias=False)
    assert [name for name, _ in model.named_parameters()] == ["body.0.weight", "body.2.weight"]


def test_init_std_exact():
    model = make_generator("conv", 8)  # latent 5, 3 channels
    stds = {name: model.init_std(name, p) for name, p in model.named_parameters()}
    assert stds["project.weight"] == 1 / math.sqrt(5)
    assert stds["conv1.weight"] == 1 / math.sqrt(3 * 9)
    assert stds["conv2.weight"] == 1 / math.sqrt(3 * 9)
    assert stds["project.bias"] == stds["conv1.bias"] == 0.1
    normal = make_generator("conv", 8, init="normal")
    assert {normal.init_std(n, p) for n, p in normal.named_parameters()} == {1.0}


def test_cosine_basis_is_orthogonal_and_scaled():
    """k*k DCT images of side s: orthogonal, each of norm s/k (a pixel RMS of 1/k)."""
    k, side = 3, 8
    basis = cosine_basis(k, side)
    assert basis.shape == (k * k, side * side)
    gram = basis @ basis.T
    torch.testing.assert_close(gram, torch.eye(k * k) * (side / k) ** 2, atol=1e-4, rtol=1e-5)
    # The lowest frequency is flat: every pixel equals 1/side * side/k = 1/k.
    torch.testing.assert_close(basis[0], torch.full((side * side,), 1 / k))


# discriminator


@pytest.mark.parametrize("size", [7, 8, 28])
def test_discriminator_output_shape(size):
    disc = build_discriminator(size, filters=4, dropout=0.4).eval()
    out = disc(torch.randn(5, 1, size, size))
    assert out.shape == (5,)


def test_discriminator_logit_is_the_last_bias_when_weights_are_zero():
    disc = build_discriminator(8, filters=4, dropout=0.0)
    with torch.no_grad():
        for p in disc.parameters():
            p.zero_()
        disc[7].bias.fill_(0.75)
    assert disc(torch.randn(3, 1, 8, 8)).tolist() == [0.75, 0.75, 0.75]


def test_discriminator_layers_follow_the_article():
    disc = build_discriminator(28)
    convs = [m for m in disc if isinstance(m, torch.nn.Conv2d)]
    assert [(c.out_channels, c.kernel_size, c.stride) for c in convs] == [(64, (3, 3), (2, 2))] * 2
    slopes = [m.negative_slope for m in disc if isinstance(m, torch.nn.LeakyReLU)]
    assert slopes == [0.2, 0.2]
    assert [m.p for m in disc if isinstance(m, Dropout)] == [0.4, 0.4]
    assert disc[7].in_features == 64 * 7 * 7 and disc[7].out_features == 1


def test_dropout_keeps_the_right_share_and_scales_the_kept():
    drop = Dropout(0.4).train()
    x = torch.ones(1000, 1000)
    y = drop(x)
    kept = y != 0
    assert abs(kept.float().mean().item() - 0.6) < 0.003
    assert torch.allclose(y[kept], torch.full_like(y[kept], 1 / 0.6))


def test_dropout_is_identity_in_eval_and_reproducible_under_a_seed():
    drop = Dropout(0.4)
    x = torch.randn(8, 4, 6, 6).contiguous(memory_format=torch.channels_last)
    assert drop.eval()(x) is x
    drop.train()
    torch.manual_seed(3)
    a = drop(x)
    torch.manual_seed(3)
    assert torch.equal(a, drop(x))
    assert a.is_contiguous(memory_format=torch.channels_last)
    assert not torch.equal(a, drop(x))


def test_dropout_masks_the_gradient_like_the_output():
    x = torch.randn(5, 3, 4, 4, requires_grad=True)
    y = Dropout(0.5).train()(x)
    y.sum().backward()
    assert torch.equal(x.grad != 0, y != 0)


def test_dropout_rejects_a_probability_of_one():
    with pytest.raises(ValueError, match="dropout probability"):
        Dropout(1.0)
