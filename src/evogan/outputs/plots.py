"""Pictures of a run: sample grids, animated GIFs of them, and metric curves.

Users want to *watch* evolution happen, so a run writes a grid of the best
generator's samples every few generations, a GIF of those grids, and a plot
of the metrics rows. Images follow the evogan pixel convention,
``[N, 1, H, W]`` float in [-1, 1] (-1 black background, +1 white ink).
Plots use matplotlib's Agg canvas on a bare ``Figure``, never ``pyplot``, so
they work headless and leave the global backend and figure registry alone.
Every file is written to a temporary sibling and moved into place with
``os.replace``, so a viewer never sees a half-written picture.
"""

from __future__ import annotations

import io
import math
import os
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import torch
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from PIL import Image, ImageDraw, ImageFont

PAD_VALUE = 128
"""Mid-grey: padding must stand out from the black background of digits."""

MIN_GRID_WIDTH = 256
"""``save_grid`` upsamples tiny images (8x8 digits) until the grid is this wide."""

LAST_FRAME_FACTOR = 5
"""The last GIF frame stays this many times longer, so the result can be seen."""


def image_grid(
    images: torch.Tensor, *, nrow: int | None = None, padding: int = 2, scale: int = 1
) -> np.ndarray:
    """Tile ``[N, 1, H, W]`` images into a uint8 ``[H', W']`` grid, ``nrow`` images per row.

    Each pixel becomes a ``scale x scale`` block; ``padding`` is in output pixels,
    so W' = ncol * (W * scale + padding) + padding, and empty cells are padding.
    """
    _check_images(images)
    if padding < 0 or scale < 1 or (nrow is not None and nrow < 1):
        raise ValueError(
            f"need padding >= 0, scale >= 1, nrow >= 1; got {padding}, {scale}, {nrow}"
        )
    n, _, h, w = images.shape
    ncol = _columns(n, nrow)
    nrows = math.ceil(n / ncol)
    x = torch.nan_to_num(images.detach().cpu().float(), nan=-1.0).clamp(-1.0, 1.0)
    pixels = ((x[:, 0] + 1.0) * 127.5).round().to(torch.uint8).numpy()
    pixels = pixels.repeat(scale, axis=1).repeat(scale, axis=2)
    th, tw = h * scale + padding, w * scale + padding
    grid = np.full((nrows * th + padding, ncol * tw + padding), PAD_VALUE, dtype=np.uint8)
    for i, tile in enumerate(pixels):
        top, left = (i // ncol) * th + padding, (i % ncol) * tw + padding
        grid[top : top + h * scale, left : left + w * scale] = tile
    return grid


def save_grid(
    images: torch.Tensor, path: Path, *, nrow: int | None = None, title: str | None = None
) -> Path:
    """Write ``image_grid(images)`` as a PNG at least ~256 px wide, with an optional caption."""
    _check_images(images)
    n, _, _, w = images.shape
    scale = max(1, math.ceil(MIN_GRID_WIDTH / (_columns(n, nrow) * w)))
    picture = Image.fromarray(image_grid(images, nrow=nrow, scale=scale))
    if title:
        picture = _with_caption(picture, title)
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG")
    return _write_atomic(Path(path), buffer.getvalue())


def save_gif(
    frames: Sequence[Path], path: Path, *, duration_ms: int = 200, max_frames: int | None = None
) -> Path:
    """Animate image files into a looping GIF; frames are resized to the first one's size.

    With ``max_frames``, only that many frames spread evenly over ``frames`` (the first
    and last among them) are animated, which bounds the GIF of a long run.
    """
    if not frames:
        raise ValueError("save_gif needs at least one frame")
    if duration_ms < 1:
        raise ValueError(f"duration_ms must be >= 1, got {duration_ms}")
    chosen = spread(len(frames), max_frames) if max_frames is not None else range(len(frames))
    images = [_load(frames[i]) for i in chosen]
    first = images[0]
    rest = [
        im.convert(first.mode).resize(first.size, Image.Resampling.NEAREST) for im in images[1:]
    ]
    durations = [duration_ms] * len(rest) + [duration_ms * LAST_FRAME_FACTOR]
    buffer = io.BytesIO()
    # Pillow merges identical consecutive frames (adding their durations), so a
    # run that stalls gives fewer frames but the same playing time.
    first.save(buffer, format="GIF", save_all=True, append_images=rest, duration=durations, loop=0)
    return _write_atomic(Path(path), buffer.getvalue())


def spread(count: int, limit: int) -> list[int]:
    """At most ``limit`` indices of ``range(count)`` evenly spaced, including the first and last."""
    if limit < 2:
        raise ValueError(f"spread keeps the first and last: limit must be >= 2, got {limit}")
    if count <= limit:
        return list(range(count))
    return [round(i * (count - 1) / (limit - 1)) for i in range(limit)]


def plot_metrics(rows: Sequence[Mapping[str, float]], path: Path, *, x: str = "generation") -> Path:
    """Plot fitness, discriminator and ``eval/*`` panels from metrics rows, skipping absent ones."""
    evals = sorted({k for row in rows for k in row if k.startswith("eval/")})
    panels = [
        (draw, keys)
        for draw, keys in [
            (_fitness_panel, ["fitness/best", "fitness/mean"]),
            (_disc_panel, ["disc/loss", "disc/accuracy"]),
            (_eval_panel, evals),
        ]
        if any(k in row for row in rows for k in keys)
    ]
    fig = Figure(figsize=(7.0, 2.6 * max(1, len(panels))), layout="constrained")
    if not panels:
        # An early callback may have no rows yet: say so rather than fail the run.
        ax = fig.add_subplot()
        ax.text(0.5, 0.5, "no metrics yet", ha="center", va="center", transform=ax.transAxes)
        return _save_figure(fig, Path(path))
    axes = fig.subplots(len(panels), 1, sharex=True, squeeze=False)[:, 0]
    for ax, (draw, keys) in zip(axes, panels, strict=True):
        draw(ax, rows, x, keys)
        ax.grid(alpha=0.3)
    axes[-1].set_xlabel(x)
    return _save_figure(fig, Path(path))


def plot_curves(
    series: Mapping[str, tuple[Sequence[float], Sequence[float]]],
    path: Path,
    *,
    xlabel: str,
    ylabel: str,
    title: str = "",
    hlines: Mapping[str, float] | None = None,
    logy: bool = False,
) -> Path:
    """Plot named ``(xs, ys)`` curves and labelled horizontal reference lines to a PNG."""
    fig = Figure(figsize=(7.0, 4.5), layout="constrained")
    ax = fig.add_subplot()
    for label, (xs, ys) in series.items():
        if len(xs) != len(ys):
            raise ValueError(f"series {label!r}: {len(xs)} x values but {len(ys)} y values")
        ax.plot(xs, ys, marker="o", markersize=3, label=label)
    for i, (label, y) in enumerate((hlines or {}).items()):
        ax.axhline(y, color="0.35", linestyle=["--", ":", "-."][i % 3], label=label)
    if logy:
        ax.set_yscale("log")
    ax.set(xlabel=xlabel, ylabel=ylabel, title=title)
    ax.grid(alpha=0.3)
    if series or hlines:
        ax.legend()
    return _save_figure(fig, Path(path))


def _check_images(images: torch.Tensor) -> None:
    """Reject anything that is not a non-empty ``[N, 1, H, W]`` tensor, naming what it got."""
    if not isinstance(images, torch.Tensor) or images.dim() != 4:
        shape = tuple(images.shape) if isinstance(images, torch.Tensor) else type(images).__name__
        raise ValueError(f"images must be a 4-D tensor [N, 1, H, W], got {shape}")
    n, c, h, w = images.shape
    if c != 1:
        raise ValueError(f"images must have 1 channel (grey-scale) [N, 1, H, W], got {c} channels")
    if n == 0 or h == 0 or w == 0:
        raise ValueError(f"images must be non-empty, got shape {tuple(images.shape)}")


def _columns(n: int, nrow: int | None) -> int:
    """Images per row: ``nrow`` (never more than ``n``), else a near-square grid."""
    return min(n, nrow) if nrow is not None else math.ceil(math.sqrt(n))


def _with_caption(picture: Image.Image, title: str) -> Image.Image:
    """Put ``title`` in white on a black strip above ``picture``, widening it if needed."""
    font = ImageFont.load_default(size=14)
    left, top, right, bottom = ImageDraw.Draw(picture).textbbox((0, 0), title, font=font)
    margin = 4
    width = max(picture.width, math.ceil(right - left) + 2 * margin)
    strip = math.ceil(bottom - top) + 2 * margin
    canvas = Image.new("L", (width, picture.height + strip), 0)
    canvas.paste(picture, ((width - picture.width) // 2, strip))
    ImageDraw.Draw(canvas).text((margin - left, margin - top), title, fill=255, font=font)
    return canvas


def _load(path: Path) -> Image.Image:
    """Read an image fully and close the file, so many frames do not hold many descriptors."""
    with Image.open(path) as im:
        return im.copy()


def _column(
    rows: Sequence[Mapping[str, float]], x: str, *keys: str
) -> tuple[list[float], list[list[float]]]:
    """Return xs and one list per key over rows having all ``keys``; x falls back to row index."""
    kept = [
        (row.get(x, float(i)), row) for i, row in enumerate(rows) if all(k in row for k in keys)
    ]
    return [float(xv) for xv, _ in kept], [[float(row[k]) for _, row in kept] for k in keys]


def _fitness_panel(ax: Axes, rows: Sequence[Mapping[str, float]], x: str, keys: list[str]) -> None:
    """Best and mean fitness, with mean ± std shaded where std was logged."""
    for key in keys:
        xs, (ys,) = _column(rows, x, key)
        if xs:
            ax.plot(xs, ys, label=key.removeprefix("fitness/"))
    xs, (mean, std) = _column(rows, x, "fitness/mean", "fitness/std")
    if xs:
        lo, hi = np.subtract(mean, std), np.add(mean, std)
        ax.fill_between(xs, lo, hi, alpha=0.2, color="C1", label="mean ± std")
    ax.set_ylabel("fitness")
    ax.legend(loc="best", fontsize="small")


def _disc_panel(ax: Axes, rows: Sequence[Mapping[str, float]], x: str, keys: list[str]) -> None:
    """Discriminator loss on the left axis, accuracy in [0, 1] on a twin right axis."""
    twin = ax.twinx()
    twin.set_ylim(0.0, 1.0)
    handles = []
    for key, axis, colour in [("disc/loss", ax, "C3"), ("disc/accuracy", twin, "C2")]:
        name = key.removeprefix("disc/")
        xs, (ys,) = _column(rows, x, key)
        if xs:
            handles += axis.plot(xs, ys, color=colour, label=name)
        axis.set_ylabel(name, color=colour)
    ax.legend(handles=handles, loc="best", fontsize="small")


def _eval_panel(ax: Axes, rows: Sequence[Mapping[str, float]], x: str, keys: list[str]) -> None:
    """Sparse evaluation metrics (e.g. ``eval/fid``), with markers since they are infrequent."""
    for key in keys:
        xs, (ys,) = _column(rows, x, key)
        ax.plot(xs, ys, marker="o", markersize=3, label=key.removeprefix("eval/"))
    ax.set_ylabel(keys[0] if len(keys) == 1 else "eval")
    ax.legend(loc="best", fontsize="small")


def _save_figure(fig: Figure, path: Path) -> Path:
    """Render ``fig`` with the Agg canvas (no pyplot, no global backend) and write it atomically."""
    FigureCanvasAgg(fig)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100)
    return _write_atomic(path, buffer.getvalue())


def _write_atomic(path: Path, data: bytes) -> Path:
    """Write ``data`` to a unique sibling temp file, then ``os.replace`` it onto ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        with open(tmp, "xb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path
