"""Tests for evogan.outputs.plots: exact grid geometry and pixels, files that reload, plots."""

from pathlib import Path

import matplotlib
import numpy as np
import pytest
import torch
from PIL import GifImagePlugin, Image

from evogan.outputs.plots import (
    PAD_VALUE,
    image_grid,
    plot_curves,
    plot_metrics,
    save_gif,
    save_grid,
    spread,
)


def _digits(n: int, seed: int = 0) -> torch.Tensor:
    """``n`` random 8x8 images in [-1, 1], the size of the sklearn digits."""
    return torch.rand(n, 1, 8, 8, generator=torch.Generator().manual_seed(seed)) * 2 - 1


@pytest.mark.parametrize(
    ("n", "nrow", "padding", "scale", "shape"),
    [
        (5, None, 2, 1, (2 * 10 + 2, 3 * 10 + 2)),  # ceil(sqrt(5)) = 3 per row, 2 rows
        (16, None, 2, 1, (4 * 10 + 2, 4 * 10 + 2)),
        (5, 5, 0, 3, (24, 5 * 24)),
        (5, 2, 1, 2, (3 * 17 + 1, 2 * 17 + 1)),  # tiles 16 px + 1 px padding
        (3, 10, 2, 1, (12, 3 * 10 + 2)),  # nrow larger than N: no empty columns
        (1, None, 0, 4, (32, 32)),
    ],
)
def test_grid_shape(
    n: int, nrow: int | None, padding: int, scale: int, shape: tuple[int, int]
) -> None:
    grid = image_grid(_digits(n), nrow=nrow, padding=padding, scale=scale)
    assert grid.shape == shape
    assert grid.dtype == np.uint8


def test_grid_pixels_exact() -> None:
    images = torch.tensor(
        [[[[-1.0, 1.0], [0.0, 0.5]]], [[[2.0, -3.0], [float("nan"), -1.0]]]]
    )  # out-of-range values clamp, NaN is background
    grid = image_grid(images, nrow=2, padding=1)
    p = PAD_VALUE
    expected = np.array(
        [
            [p, p, p, p, p, p, p],
            [p, 0, 255, p, 255, 0, p],
            [p, 128, 191, p, 0, 0, p],
            [p, p, p, p, p, p, p],
        ],
        dtype=np.uint8,
    )
    np.testing.assert_array_equal(grid, expected)


def test_grid_scale_is_nearest_blocks() -> None:
    images = torch.tensor([[[[-1.0, 1.0], [1.0, -1.0]]]])
    grid = image_grid(images, padding=0, scale=3)
    expected = np.kron(np.array([[0, 255], [255, 0]]), np.ones((3, 3), dtype=np.int64))
    np.testing.assert_array_equal(grid, expected.astype(np.uint8))


def test_grid_empty_cells_are_padding() -> None:
    grid = image_grid(torch.ones(3, 1, 2, 2), nrow=2, padding=1)
    assert grid.shape == (7, 7)
    assert (grid[4:6, 4:6] == PAD_VALUE).all()  # the missing 4th image
    assert (grid[4:6, 1:3] == 255).all()


@pytest.mark.parametrize(
    ("images", "match"),
    [
        (torch.zeros(8, 8), "4-D"),
        (torch.zeros(2, 8, 8), "4-D"),
        (torch.zeros(2, 3, 8, 8), "1 channel"),
        (torch.zeros(0, 1, 8, 8), "non-empty"),
        (np.zeros((2, 1, 8, 8)), "4-D tensor"),
    ],
)
def test_bad_images_raise(images: torch.Tensor, match: str, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=match):
        image_grid(images)
    with pytest.raises(ValueError, match=match):
        save_grid(images, tmp_path / "bad.png")


@pytest.mark.parametrize("kwargs", [{"nrow": 0}, {"padding": -1}, {"scale": 0}])
def test_bad_grid_options_raise(kwargs: dict[str, int]) -> None:
    with pytest.raises(ValueError, match="need padding"):
        image_grid(_digits(4), **kwargs)


def test_save_grid_reloads_to_same_array(tmp_path: Path) -> None:
    images = _digits(16)
    path = save_grid(images, tmp_path / "samples" / "gen_0001.png")
    with Image.open(path) as im:
        assert im.format == "PNG"
        reloaded = np.asarray(im)
    # 4 images of 8 px per row = 32 px; scale 8 is the smallest reaching 256 px.
    np.testing.assert_array_equal(reloaded, image_grid(images, scale=8))
    assert reloaded.shape == (4 * 66 + 2, 4 * 66 + 2)
    assert list(tmp_path.rglob("*.tmp")) == []  # the temporary file was moved into place


def test_save_grid_title_adds_caption_strip(tmp_path: Path) -> None:
    images = _digits(4)
    grid = image_grid(images, scale=16)
    with Image.open(save_grid(images, tmp_path / "g.png", title="generation 40")) as im:
        captioned = np.asarray(im)
    strip = captioned.shape[0] - grid.shape[0]
    assert strip > 0 and captioned.shape[1] == grid.shape[1]
    np.testing.assert_array_equal(captioned[strip:], grid)
    assert captioned[:strip].max() == 255  # the text is drawn


def test_save_gif_frames(tmp_path: Path) -> None:
    frames = [save_grid(_digits(4, seed=s), tmp_path / f"f{s}.png") for s in range(3)]
    small = tmp_path / "small.png"
    Image.fromarray(image_grid(_digits(4, seed=9))).save(small)  # a different size: resized
    path = save_gif([*frames, small], tmp_path / "evolution.gif", duration_ms=100)
    with Image.open(path) as gif:
        assert isinstance(gif, GifImagePlugin.GifImageFile)
        assert gif.n_frames == 4
        assert gif.info["loop"] == 0
        assert gif.info["duration"] == 100
        size = gif.size
        gif.seek(3)
        assert gif.size == size
        assert gif.info["duration"] == 500  # the last frame is held longer
    with Image.open(frames[0]) as first:
        assert size == first.size


def test_save_gif_caps_its_frames_over_the_whole_run(tmp_path: Path) -> None:
    """250 frames, each one flat grey level: the GIF shows 100 of them, first and last."""
    frames = []
    for level in range(250):
        frames.append(tmp_path / f"f{level:03d}.png")
        Image.new("L", (4, 4), level).save(frames[-1])
    path = save_gif(frames, tmp_path / "evolution.gif", max_frames=100)
    with Image.open(path) as gif:
        assert gif.n_frames == 100
        levels = []
        for i in range(gif.n_frames):
            gif.seek(i)
            levels.append(gif.convert("L").getpixel((0, 0)))
    assert levels == spread(250, 100)
    assert levels[0] == 0 and levels[-1] == 249


@pytest.mark.parametrize(
    ("count", "limit", "expected"),
    [(5, 3, [0, 2, 4]), (10, 4, [0, 3, 6, 9]), (3, 5, [0, 1, 2]), (7, 2, [0, 6]), (0, 2, [])],
)
def test_spread(count: int, limit: int, expected: list[int]) -> None:
    assert spread(count, limit) == expected


def test_spread_keeps_first_and_last() -> None:
    with pytest.raises(ValueError, match="limit"):
        spread(10, 1)


def test_save_gif_rejects_no_frames(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="at least one frame"):
        save_gif([], tmp_path / "x.gif")


def _rows(n: int, *, eval_every: int = 0) -> list[dict[str, float]]:
    rows = []
    for g in range(n):
        row = {
            "generation": float(g),
            "fitness/best": 1.0 + g,
            "fitness/mean": 0.5 * g,
            "fitness/std": 0.1,
            "disc/loss": 0.7,
            "disc/accuracy": 0.5 + 0.01 * g,
            "time/generation_s": 0.5,
            "mutation/sigma": 0.02,
        }
        if eval_every and g % eval_every == 0:
            row["eval/fid"] = 100.0 / (g + 1)
        rows.append(row)
    return rows


@pytest.mark.parametrize(
    "rows",
    [
        pytest.param(_rows(6), id="no-eval"),
        pytest.param(_rows(6, eval_every=2), id="eval"),
        pytest.param(
            [{"generation": 0.0, "fitness/best": 1.0}, {"fitness/mean": 0.2}, {"eval/fid": 9.0}],
            id="missing-keys",
        ),
        pytest.param([{"disc/loss": 0.6}], id="only-disc"),
        pytest.param([], id="empty"),
    ],
)
def test_plot_metrics_writes_png(rows: list[dict[str, float]], tmp_path: Path) -> None:
    backend = matplotlib.get_backend()
    path = plot_metrics(rows, tmp_path / "metrics.png")
    assert path == tmp_path / "metrics.png"
    with Image.open(path) as im:
        assert im.format == "PNG"
        assert im.width > 100 and im.height > 100
    assert matplotlib.get_backend() == backend  # no global backend switch


def test_plot_curves_with_hlines(tmp_path: Path) -> None:
    series = {"ga": ([1.0, 2.0, 4.0], [90.0, 60.0, 40.0]), "sgd": ([1.0, 3.0], [80.0, 20.0])}
    path = plot_curves(
        series,
        tmp_path / "fid.png",
        xlabel="seconds",
        ylabel="FID",
        title="FID vs time",
        hlines={"real-vs-real floor": 5.0},
        logy=True,
    )
    with Image.open(path) as im:
        assert im.format == "PNG"
        assert im.width > 100


def test_plot_curves_rejects_ragged_series(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="'ga': 2 x values but 1 y values"):
        plot_curves({"ga": ([1.0, 2.0], [3.0])}, tmp_path / "x.png", xlabel="s", ylabel="y")
