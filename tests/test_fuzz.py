"""Bad input, fuzzed: every case ends in a correct result or one ``EvoganError``.

Never another exception type, a hang, or a partly written output. Valid
small files are made here, then damaged (truncated, bytes flipped, header
words replaced, huge declared sizes, random bytes). The ``fast`` profile runs
a few derandomised examples of each in ``make test``; ``EVOGAN_FUZZ=1`` (``make
fuzz``) selects the ``fuzz`` profile, over a thousand random cases.
"""

import dataclasses
import datetime
import gzip
import hashlib
import io
import json
import math
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from conftest import TINY, make_generator
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from PIL import Image

from evogan.cli import cli
from evogan.config import Config, build_config, load_toml
from evogan.data import ImageDataset, load_dataset
from evogan.errors import EvoganError
from evogan.networks import ACTIVATIONS, LayerSpec, parse_network
from evogan.outputs.callbacks import RunDirectory
from evogan.quality.evaluate import EVAL_FILE
from evogan.run.checkpoint import (
    CHECKPOINT,
    FORMAT,
    MAGIC,
    PREVIOUS,
    load_file,
    read_checkpoint,
    resume,
)
from evogan.run.engine import Evolution, evolve_run
from evogan.run.export import SPEC, WEIGHTS, load_generator, sample, save_generator
from evogan.run.wiring import check_memory, check_numbers, generator_spec

NOT_SLOW = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much]
settings.register_profile(
    "fast", max_examples=6, deadline=None, derandomize=True, database=None,
    suppress_health_check=NOT_SLOW,
)  # fmt: skip
settings.register_profile(
    "fuzz", max_examples=300, deadline=None, database=None, suppress_health_check=NOT_SLOW
)
FUZZ = os.environ.get("EVOGAN_FUZZ") == "1"
PROFILE = settings.get_profile("fuzz" if FUZZ else "fast")
# Cases that build a whole run (about 0.1 s each) get a third as many examples.
HEAVY = settings(PROFILE, max_examples=max(3, PROFILE.max_examples // 3))


def outcome(call: Callable[[], Any]) -> Any:
    """The call's result, or None after an ``EvoganError`` of one line; nothing else may escape.

    A call that has not returned after ``HANG_SECONDS`` fails the test as a hang.
    """
    previous = signal.signal(signal.SIGALRM, hung)
    signal.alarm(HANG_SECONDS)
    try:
        return call()
    except EvoganError as err:
        message = str(err)
        assert message and "\n" not in message, repr(message)
        return None
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


HANG_SECONDS = 60  # the slowest case takes well under a second


def hung(signum: int, frame: object) -> None:
    pytest.fail(f"no result or EvoganError after {HANG_SECONDS} s: a hang")


SCRATCH = tempfile.TemporaryDirectory(prefix="evogan-fuzz-")  # removed when the tests end


def fresh_dir() -> Path:
    """A new empty directory (hypothesis re-runs a test body; tmp_path is one per test)."""
    return Path(tempfile.mkdtemp(dir=SCRATCH.name))


@st.composite
def damaged(draw: st.DrawFn, data: bytes) -> bytes:
    """``data`` intact, truncated, with bytes flipped, extended, or replaced by random bytes."""
    how = draw(st.sampled_from(["intact", "truncate", "flip", "extend", "random"]))
    if how == "truncate":
        return data[: draw(st.integers(0, len(data) - 1))]
    if how == "flip":
        damaged_data = bytearray(data)
        for position in draw(st.lists(st.integers(0, len(data) - 1), min_size=1, max_size=6)):
            damaged_data[position] ^= draw(st.integers(1, 255))
        return bytes(damaged_data)
    if how == "extend":
        return data + draw(st.binary(min_size=1, max_size=64))
    if how == "random":
        return draw(st.binary(max_size=256))
    return data


# -- IDX files and mnist.npz ------------------------------------------------------------------

IMAGES, LABELS = "train-images-idx3-ubyte", "train-labels-idx1-ubyte"
PIXELS = (np.arange(5 * 4 * 4) * 3 % 256).astype(np.uint8).reshape(5, 4, 4)
DIGITS = np.array([3, 1, 4, 1, 5], dtype=np.uint8)
U32 = st.one_of(st.integers(0, 40), st.integers(0, 2**32 - 1))


@st.composite
def idx_file(draw: st.DrawFn, valid: bytes, words: int) -> bytes:
    """``valid`` with header words replaced (magic, dims: huge ones too), damaged, maybe gzipped."""
    data = bytearray(valid)
    for word in draw(st.lists(st.integers(0, words - 1), max_size=2)):
        data[4 * word : 4 * word + 4] = struct.pack(">I", draw(U32))
    raw = draw(damaged(bytes(data)))
    if draw(st.booleans()):
        raw = draw(damaged(gzip.compress(raw)))
    return raw


def write_split(directory: Path, images: bytes | None, labels: bytes | None, gz: bool) -> None:
    """One split, named with or without ``.gz`` whatever the bytes are."""
    suffix = ".gz" if gz else ""
    for stem, data in ((IMAGES, images), (LABELS, labels)):
        if data is not None:
            (directory / f"{stem}{suffix}").write_bytes(data)


def check_mnist(dataset: ImageDataset | None, intact: bool) -> None:
    if dataset is None:
        assert not intact, "intact files were refused"
        return
    assert dataset.images.dtype == torch.float32 and dataset.images.ndim == 4
    assert dataset.labels is not None and len(dataset.labels) == len(dataset)
    assert dataset.images.min() >= -1 and dataset.images.max() <= 1
    if intact:
        expected = torch.from_numpy(PIXELS.astype(np.float32)) / 127.5 - 1
        assert torch.equal(dataset.images[:, 0], expected)


VALID_IMAGES = struct.pack(">4I", 2051, *PIXELS.shape) + PIXELS.tobytes()
VALID_LABELS = struct.pack(">2I", 2049, len(DIGITS)) + DIGITS.tobytes()


@settings(PROFILE)
@given(
    images=st.one_of(st.none(), idx_file(VALID_IMAGES, 4)),
    labels=st.one_of(st.none(), idx_file(VALID_LABELS, 2)),
    gz=st.booleans(),
)
@example(images=VALID_IMAGES, labels=VALID_LABELS, gz=False)
@example(images=struct.pack(">4I", 2051, 2**32 - 1, 2**16, 2**16), labels=VALID_LABELS, gz=False)
def test_idx_files(images: bytes | None, labels: bytes | None, gz: bool) -> None:
    directory = fresh_dir()
    write_split(directory, images, labels, gz)
    dataset = outcome(lambda: load_dataset("mnist", data_dir=directory))
    intact = (images, labels) == (VALID_IMAGES, VALID_LABELS) and not gz  # plain .gz: refused
    check_mnist(dataset, intact)


def npz_bytes(arrays: dict[str, Any]) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def npy_declaring(shape: tuple[int, ...], body: bytes) -> bytes:
    """An .npy member whose header declares ``shape`` but which holds only ``body``."""
    buffer = io.BytesIO()
    header = {"descr": "|u1", "fortran_order": False, "shape": shape}
    np.lib.format.write_array_header_1_0(buffer, header)
    return buffer.getvalue() + body


VALID_NPZ = npz_bytes({"x_train": PIXELS, "y_train": DIGITS})
NPZ_KEYS = st.sampled_from(["x_train", "y_train", "x_test", "y_test", "other"])
NPZ_DTYPES = st.sampled_from(["u1", "i1", "<i8", "<u8", "<f4", "?", "<U2", "S2", "<c8"])
ANY_ARRAY = hnp.arrays(NPZ_DTYPES, hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=5))


@st.composite
def npz_file(draw: st.DrawFn) -> bytes:
    """A Keras-style archive: damaged bytes, random arrays, or a member declaring a huge shape."""
    how = draw(st.sampled_from(["bytes", "arrays", "huge"]))
    if how == "bytes":
        return draw(damaged(VALID_NPZ))
    if how == "arrays":
        arrays = draw(st.dictionaries(NPZ_KEYS, st.one_of(ANY_ARRAY, st.just(PIXELS)), max_size=4))
        return npz_bytes(arrays)
    return npz_declaring(tuple(draw(st.lists(U32, min_size=1, max_size=3))))


def npz_declaring(shape: tuple[int, ...]) -> bytes:
    """An archive whose x_train declares ``shape`` but holds the few bytes of ``PIXELS``."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("x_train.npy", npy_declaring(shape, PIXELS.tobytes()))
        archive.writestr("y_train.npy", npy_declaring((len(DIGITS),), DIGITS.tobytes()))
    return buffer.getvalue()


@settings(PROFILE)
@given(archive=npz_file())
@example(archive=VALID_NPZ)
@example(archive=npz_bytes({"x_train": np.zeros((3, 0, 0), np.uint8), "y_train": DIGITS[:3]}))
# ^ images of 0x0 pixels
@example(archive=npz_declaring((2**32 - 1, 2**16, 2**16)))  # numpy's MemoryError
@example(archive=VALID_NPZ.replace(b"x_train", b"x_trai\xff"))
def test_mnist_npz(archive: bytes) -> None:
    directory = fresh_dir()
    (directory / "mnist.npz").write_bytes(archive)
    dataset = outcome(lambda: load_dataset("mnist", data_dir=directory))
    check_mnist(dataset, archive == VALID_NPZ)
    if dataset is not None:
        assert dataset.image_size >= 1


# -- image folders ----------------------------------------------------------------------------

MODES = ["L", "RGB", "RGBA", "LA", "P", "P+transparency", "1", "I;16", "CMYK"]


def png_declaring(width: int, height: int) -> bytes:
    """A 1x1 PNG whose header (checksum fixed) claims ``width`` x ``height`` pixels."""
    buffer = io.BytesIO()
    Image.new("L", (1, 1)).save(buffer, "PNG")
    data = bytearray(buffer.getvalue())
    data[16:24] = struct.pack(">II", width, height)
    data[29:33] = struct.pack(">I", zlib.crc32(bytes(data[12:29])))
    return bytes(data)


def image_bytes(mode: str, size: tuple[int, int], suffix: str, seed: int) -> bytes:
    rng = np.random.default_rng(seed)
    image = Image.fromarray(rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8))
    if mode == "P+transparency":
        image = image.convert("P")
        image.info["transparency"] = 0
    else:
        image = image.convert(mode)
    jpeg = suffix.lower() in (".jpg", ".jpeg") or mode == "CMYK"  # PNG has no CMYK: JPEG bytes
    if jpeg and image.mode not in ("L", "RGB", "CMYK"):
        image = image.convert("RGB")
    buffer = io.BytesIO()
    options = {"transparency": 0} if mode == "P+transparency" and not jpeg else {}
    image.save(buffer, "JPEG" if jpeg else "PNG", **options)
    return buffer.getvalue()


@st.composite
def folder_file(draw: st.DrawFn) -> tuple[str, bytes]:
    suffix = draw(st.sampled_from([".png", ".jpg", ".jpeg", ".PNG", ".txt"]))
    how = draw(st.sampled_from(["image", "image", "damaged", "empty", "huge"]))
    if how == "empty":
        return suffix, b""
    if how == "huge":
        side = st.one_of(st.integers(1, 40_000), st.integers(1, 2**31 - 1))
        return suffix, png_declaring(draw(side), draw(side))
    mode = draw(st.sampled_from(MODES))
    size = (draw(st.integers(1, 40)), draw(st.integers(1, 40)))
    data = image_bytes(mode, size, suffix, draw(st.integers(0, 9)))
    return suffix, draw(damaged(data)) if how == "damaged" else data


@settings(PROFILE)
@given(
    files=st.lists(folder_file(), max_size=4),
    image_size=st.one_of(st.none(), st.integers(1, 16)),
)
@example(files=[(".png", image_bytes(mode, (5, 3), ".png", 0)) for mode in MODES], image_size=6)
@example(files=[(".png", png_declaring(100_000, 100_000))], image_size=None)
def test_image_folder(files: list[tuple[str, bytes]], image_size: int | None) -> None:
    directory = fresh_dir()
    for index, (suffix, data) in enumerate(files):
        (directory / f"{index:02d}{suffix}").write_bytes(data)
    name = f"folder:{directory}"
    dataset = outcome(lambda: load_dataset(name, image_size=image_size))
    if dataset is not None:
        side = image_size or 28
        images = [suffix for suffix, _ in files if suffix != ".txt"]
        assert dataset.images.shape == (len(images), 1, side, side)
        assert dataset.images.min() >= -1 and dataset.images.max() <= 1


def test_image_size_too_big_for_memory() -> None:
    with pytest.raises(EvoganError, match=r"^--image-size 100000: .* GiB of memory"):
        load_dataset("digits", image_size=100_000)


# -- layer specs ------------------------------------------------------------------------------

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=4), children)
    ),
    max_leaves=12,
)
SIZES = st.one_of(st.integers(-2, 20), st.none(), st.sampled_from(["none", "null", "8", 2.0, True]))
LAYER = st.lists(SIZES | st.sampled_from([*ACTIVATIONS, "bogus", "Tanh"]) | JSON, max_size=4)
NEAR_VALID = st.lists(
    st.tuples(SIZES, SIZES, st.sampled_from([*ACTIVATIONS, "bogus"]) | JSON).map(list) | LAYER,
    max_size=4,
)


@settings(PROFILE)
@given(spec=st.one_of(NEAR_VALID, JSON))
@example(spec=[[1, 2, []]])
@example(spec=[[8, 16, "tanh"], [None, 4, "sigmoid"]])
def test_parse_network_list(spec: Any) -> None:
    check_layers(outcome(lambda: parse_network(spec)))


@settings(PROFILE)
@given(text=st.one_of(NEAR_VALID.map(json.dumps), JSON.map(json.dumps), st.text(max_size=40)))
@example(text="[" * 100_000)
@example(text="[[" + "9" * 5000 + ', 4, "tanh"]]')
@example(text="[[1, 2, {}]]")
def test_parse_network_json(text: str) -> None:
    check_layers(outcome(lambda: parse_network(text)))


def check_layers(layers: tuple[LayerSpec, ...] | None) -> None:
    if layers is None:
        return
    assert layers
    for previous, layer in zip((None, *layers), layers, strict=False):
        assert type(layer.inputs) is int and layer.inputs >= 1
        assert type(layer.outputs) is int and layer.outputs >= 1
        assert layer.activation in ACTIVATIONS
        assert previous is None or layer.inputs == previous.outputs


# -- config: TOML documents and key/value dicts ----------------------------------------------

FIELDS = {f.name: f for f in dataclasses.fields(Config)}
KEYS = st.one_of(
    st.sampled_from(sorted(FIELDS)),
    st.sampled_from(sorted(FIELDS)).map(lambda name: name.replace("_", "-")),
    st.text(min_size=1, max_size=12),
)
TOML_SCALAR = st.one_of(
    st.integers(-(2**63), 2**63 - 1),
    st.integers(-3, 100),
    st.floats(),
    st.booleans(),
    st.text(max_size=12),
    st.dates(),
    st.datetimes(),
    st.times(),
)
TOML_VALUE = st.recursive(
    TOML_SCALAR,
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(st.text(min_size=1, max_size=4), children, max_size=2)
    ),
    max_leaves=6,
)


def toml_text(value: Any) -> str:
    """``value`` as a TOML value (floats by repr: nan, inf and 1e+20 are TOML too)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value).replace("\x7f", "\\u007f")
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, list):
        return "[" + ", ".join(toml_text(item) for item in value) + "]"
    return "{" + ", ".join(f"{json.dumps(k)} = {toml_text(v)}" for k, v in value.items()) + "}"


@st.composite
def toml_document(draw: st.DrawFn) -> bytes:
    """Key/value lines over Config's fields and other keys, or random text, or random bytes."""
    how = draw(st.sampled_from(["document", "document", "text", "bytes"]))
    if how == "text":
        return draw(st.text(max_size=60)).encode("utf-8", "surrogatepass")
    if how == "bytes":
        return draw(st.binary(max_size=60))
    values = draw(st.dictionaries(KEYS, TOML_VALUE, max_size=5))
    return "".join(f"{json.dumps(k)} = {toml_text(v)}\n" for k, v in values.items()).encode(
        "utf-8", "surrogatepass"
    )


def check_config(values: dict[str, Any], config: Config | None) -> None:
    """A config that passed holds exactly the given values (the last of a-b and a_b wins)."""
    if config is None:
        return
    final = {key.replace("-", "_"): value for key, value in values.items()}
    for name, value in final.items():
        if isinstance(value, dict):  # a [section] table: test_config checks tables = flat keys
            continue
        expected = json.dumps(value) if name == "network" and isinstance(value, list) else value
        got = getattr(config, name)
        assert got == expected and isinstance(got, bool) == isinstance(value, bool)
        assert not isinstance(got, float) or math.isfinite(got)


def build_checked(*layers: tuple[str, dict[str, Any]]) -> Config:
    config = build_config(*layers)
    check_numbers(config)
    return config


@settings(PROFILE)
@given(document=toml_document())
@example(document=b"network = [1979-05-27]\n")
@example(document=b"mutation_sigma = nan\n")
@example(document=b"seed = 99999999999999999\n")
@example(document=b"a = " + b"[" * 100_000)
@example(document=b"\xff\xfe = 1")
def test_config_toml(document: bytes) -> None:
    path = fresh_dir() / "config.toml"
    path.write_bytes(document)
    values = outcome(lambda: load_toml(path))
    if values is not None:
        check_config(values, outcome(lambda: build_checked((str(path), values))))


ANY_VALUE = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=12), JSON
)


@settings(PROFILE)
@given(values=st.dictionaries(KEYS, ANY_VALUE, max_size=6))
@example(values={"time_budget": math.nan})
@example(values={"threshold": math.inf, "population": 10})
def test_config_dicts(values: dict[str, Any]) -> None:
    check_config(values, outcome(lambda: build_checked(("test", values))))


def bogus(*names: str) -> st.SearchStrategy[str]:
    return st.sampled_from([*names, "bogus"])


RUN_OPTIONS = st.fixed_dictionaries(
    {},
    optional={
        "population": st.integers(-1, 12),
        "elitism": st.integers(-1, 6),
        "selection": bogus("truncation", "tournament"),
        "selection_fraction": st.floats(-0.5, 1.5) | st.just(math.nan),
        "tournament_size": st.integers(0, 14),
        "crossover": bogus("single-point", "two-point", "uniform", "layer", "blend"),
        "mutation": bogus("gaussian", "reset"),
        "sigma_schedule": bogus("constant", "exponential", "self-adaptive"),
        "trainer": bogus("ga", "es", "gradient", "egan"),
        "generator": bogus("mlp", "basis", "conv", "dcgan", "subspace", "frozen", "pca", "mppca"),
        "image_size": st.none() | st.integers(0, 12),
        "latent_dim": st.integers(0, 6),
        "hidden": st.integers(0, 6),
        "channels": st.integers(0, 3),
        "basis_size": st.integers(0, 10),
        "components": st.integers(0, 70),
        "clusters": st.integers(0, 50),
        "dcgan_channels": st.none() | st.integers(0, 4),
        "genome_dim": st.integers(0, 12),
        "samples_per_agent": st.integers(0, 6),
        "disc_batch": st.integers(0, 8),
        "disc_filters": st.integers(0, 4),
        "disc_steps": st.integers(-1, 2),
        "subset": st.sampled_from([None, "0:40", "5:2", "x", "0:100000", "-1:4", "3:4"]),
        "fitness": bogus("logit", "accuracy"),
        "network": st.sampled_from([None, '[[4, 6, "tanh"], [null, 64, "tanh"]]', "[]", "[[4"]),
        "mixture": st.integers(0, 3),
        "es_adapt": bogus("none", "snes"),
        "threads": st.sampled_from([None, 0, 1, 2, 2**31, 10**12]),
    },
)


@HEAVY
@given(options=RUN_OPTIONS)
@example(options={"population": 10**9})
@example(options={"samples_per_agent": 10**9})
@example(options={"image_size": 100_000})
@example(options={"seed": 2**60})
@example(options={"threads": 2**31})
def test_start_and_one_generation(options: dict[str, Any]) -> None:
    """Tiny runs over every option a user may get wrong: start, then one generation."""
    config = outcome(lambda: build_checked(("test", {**TINY, "generations": 1, **options})))
    run = None if config is None else outcome(lambda: Evolution.start(config))
    if run is not None:
        result = evolve_run(run)
        assert result.generations == 1 and all(
            isinstance(v, float) for v in result.history[0].values()
        )


@pytest.mark.parametrize(
    ("option", "value"),
    [("population", 10**9), ("samples_per_agent", 10**9), ("disc_batch", 10**9)],
)
def test_sizes_beyond_memory_are_refused_naming_the_option(option: str, value: int) -> None:
    flag = f"--{option.replace('_', '-')} {value}"
    with pytest.raises(EvoganError, match=rf"^{flag}: .* GiB of memory, more than the"):
        Evolution.start(Config(**{**TINY, option: value}))


@settings(PROFILE)
@given(
    population=st.integers(1, 10**12),
    samples=st.integers(1, 10**9),
    disc_batch=st.integers(1, 10**9),
    filters=st.integers(1, 10**5),
    limit=st.integers(1, 2**45),
)
def test_check_memory_names_an_option_and_is_monotonic(
    population: int, samples: int, disc_batch: int, filters: int, limit: int
) -> None:
    config = Config(
        population=population, samples_per_agent=samples, disc_batch=disc_batch,
        disc_filters=filters,
    )  # fmt: skip
    data = ImageDataset(torch.zeros(3, 1, 8, 8), None, "zeros")
    spec = generator_spec(config, 8)
    refused = outcome(lambda: check_memory(config, data, spec, limit=limit) or "ok") is None
    if refused:
        with pytest.raises(EvoganError, match=r"^--[a-z-]+ \S+: .* GiB of memory"):
            check_memory(config, data, spec, limit=limit // 2)
    else:
        check_memory(config, data, spec, limit=limit * 2)


def test_check_memory_counts_a_critic_per_island() -> None:
    """2,000 filters make a 36M-weight critic (0.7 GiB with Adam): one fits in 2 GiB, 4 do not."""
    data = ImageDataset(torch.zeros(3, 1, 8, 8), None, "zeros")
    one = Config(disc_filters=2000, population=8)
    check_memory(one, data, generator_spec(one, 8), limit=2 * 2**30)
    four = one.replace(islands=4)
    with pytest.raises(EvoganError, match=r"^--disc-filters 2000: 4 critic\(s\) of"):
        check_memory(four, data, generator_spec(four, 8), limit=2 * 2**30)


# -- checkpoints ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """A real checkpoint of a one-generation run."""
    directory = tmp_path_factory.mktemp("checkpoint")
    config = Config(**TINY, generations=1, checkpoint_every=1, sample_every=0)
    evolve_run(Evolution.start(config), [RunDirectory(directory)])
    return (directory / CHECKPOINT).read_bytes()


def envelope(payload: bytes) -> bytes:
    """``payload`` behind a valid header: the checksum no longer protects what follows."""
    return f"{MAGIC} {FORMAT} {hashlib.sha256(payload).hexdigest()}\n".encode() + payload


CHECKPOINT_VALUES = st.one_of(
    st.none(), st.integers(), st.floats(), st.text(max_size=5), st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=3),
    st.just(torch.zeros(3, dtype=torch.uint8)),
)  # fmt: skip


@st.composite
def checkpoint_file(draw: st.DrawFn, valid: bytes) -> bytes | None:
    """No file, damaged bytes, a valid header over random bytes, or entries dropped or replaced."""
    how = draw(st.sampled_from(["none", "bytes", "payload", "entries", "entries"]))
    if how == "none":
        return None
    if how == "bytes":
        return draw(damaged(valid))
    if how == "payload":
        return envelope(draw(st.binary(max_size=200)))
    state = torch.load(io.BytesIO(valid.partition(b"\n")[2]), weights_only=False)
    for key in draw(st.lists(st.sampled_from(sorted(state)), min_size=1, max_size=3)):
        if draw(st.booleans()):
            state.pop(key, None)
        else:
            state[key] = draw(CHECKPOINT_VALUES)
    return envelope(pickled(state))


def pickled(state: dict[str, Any]) -> bytes:
    buffer = io.BytesIO()
    torch.save(state, buffer)
    return buffer.getvalue()


@HEAVY
@given(data=st.data())
@example(data=None)  # regression: a right checksum over a dict without "config" (KeyError)
def test_checkpoints(checkpoint: bytes, data: Any) -> None:
    if data is None:
        newest, previous = envelope(pickled({"format": FORMAT})), None
    else:
        newest = data.draw(checkpoint_file(checkpoint), label="newest")
        either = st.one_of(st.just(checkpoint), checkpoint_file(checkpoint))
        previous = data.draw(either, label="prev")
    directory = fresh_dir()
    for name, content in ((CHECKPOINT, newest), (PREVIOUS, previous)):
        if content is not None:
            (directory / name).write_bytes(content)
    state = outcome(lambda: read_checkpoint(directory))
    run = outcome(lambda: resume(directory))
    assert state is not None or run is None
    if run is not None:
        assert run.generation == 1 and run.state.population.shape[0] == TINY["population"]


# -- exported generators ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[bytes, bytes]]:
    """(generator.json, generator.safetensors) of a small generator of each kind."""
    files = {}
    for kind in ("mlp", "basis", "conv"):
        directory = tmp_path_factory.mktemp(kind)
        save_generator(make_generator(kind), directory)
        files[kind] = ((directory / SPEC).read_bytes(), (directory / WEIGHTS).read_bytes())
    return files


SPEC_VALUES = st.one_of(
    st.integers(-3, 40), st.integers(2**40, 2**70), st.floats(), st.text(max_size=6), st.none(),
    st.booleans(), JSON,
)  # fmt: skip


@st.composite
def spec_json(draw: st.DrawFn, valid: bytes) -> bytes:
    """generator.json damaged as bytes, or as JSON: fields changed, dropped or added."""
    how = draw(st.sampled_from(["bytes", "fields", "fields", "json"]))
    if how == "bytes":
        return draw(damaged(valid))
    if how == "json":
        return json.dumps(draw(JSON)).encode()
    spec = json.loads(valid)
    for key in draw(st.lists(st.sampled_from([*spec, "extra"]), min_size=1, max_size=3)):
        if draw(st.booleans()) and key in spec:
            del spec[key]
        else:
            spec[key] = draw(SPEC_VALUES)
    return json.dumps(spec).encode()


@settings(PROFILE)
@given(data=st.data())
@example(data=None)
def test_exported_generator(exported: dict[str, tuple[bytes, bytes]], data: Any) -> None:
    if data is None:  # regression: safetensors' own error type
        kind, spec, weights = "mlp", exported["mlp"][0], b"garbage"
    else:
        kind = data.draw(st.sampled_from(sorted(exported)), label="kind")
        spec = data.draw(st.one_of(st.just(exported[kind][0]), spec_json(exported[kind][0])))
        other = st.sampled_from(sorted(exported)).map(lambda k: exported[k][1])
        weights = data.draw(
            st.one_of(st.just(exported[kind][1]), damaged(exported[kind][1]), other)
        )
    directory = fresh_dir()
    (directory / SPEC).write_bytes(spec)
    (directory / WEIGHTS).write_bytes(weights)
    generator = outcome(lambda: load_generator(directory))
    if generator is not None:
        images = sample(generator, 2)
        side = generator.spec.image_size
        assert images.shape == (2, 1, side, side)
    elif (spec, weights) == exported[kind]:
        pytest.fail("intact generator files were refused")


# -- the command line -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "case", ["bad idx", "bad npz", "population", "image size", "toml"], ids=str
)
def test_cli_refuses_bad_input_in_one_line(case: str, tmp_path: Path) -> None:
    """Through a subprocess: exit code 2, one line ``evogan: error: ...``, no run directory."""
    data = tmp_path / "data"
    data.mkdir()
    (data / f"{IMAGES}.gz").write_bytes(gzip.compress(VALID_IMAGES)[:-9])
    (data / LABELS).write_bytes(VALID_LABELS)
    if case == "bad npz":
        for path in data.iterdir():
            path.unlink()
        (data / "mnist.npz").write_bytes(VALID_NPZ[: len(VALID_NPZ) // 2])
    (tmp_path / "bad.toml").write_bytes(b"population = [1979-05-27\n")
    extra = {
        "bad idx": [], "bad npz": [],
        "population": ["--population", str(10**9)],
        "image size": ["--image-size", "100000"],
        "toml": ["--config", "bad.toml"],
    }[case]  # fmt: skip
    dataset = "digits" if case in ("population", "image size") else "mnist"
    args = ["train", "--dataset", dataset, "--data-dir", data, "--out", "run", *extra]
    command = [sys.executable, "-m", "evogan.cli", *map(str, args)]
    done = subprocess.run(
        command, cwd=tmp_path, capture_output=True, text=True, timeout=120,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
    )  # fmt: skip
    assert done.returncode == 2, done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("evogan: error: "), done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "run").exists()


def test_an_mlp_generator_without_layers_is_refused_in_one_line(
    exported: dict[str, tuple[bytes, bytes]],
) -> None:
    """Found by make fuzz: ``"network": 0`` in generator.json hit an assert."""
    spec = json.loads(exported["mlp"][0]) | {"network": 0}
    directory = fresh_dir()
    (directory / SPEC).write_text(json.dumps(spec))
    (directory / WEIGHTS).write_bytes(exported["mlp"][1])
    with pytest.raises(EvoganError, match="an mlp generator needs a network"):
        load_generator(directory)


def test_a_checkpoint_whose_format_is_a_tensor_is_refused(tmp_path: Path) -> None:
    """Found by make fuzz: a tensor in the format field made the comparison ambiguous."""
    buffer = io.BytesIO()
    torch.save({"format": torch.ones(3)}, buffer)
    path = tmp_path / CHECKPOINT
    path.write_bytes(envelope(buffer.getvalue()))
    with pytest.raises(EvoganError, match="not an evogan checkpoint"):
        load_file(path)


# -- output paths: every command that writes -------------------------------------------------

TINY_FLAGS = [
    "--dataset", "digits", "--population", "8", "--samples-per-agent", "8", "--disc-batch", "16",
    "--disc-filters", "16", "--no-progress", "--generations", "1",
]  # fmt: skip
NAME = st.text(
    st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="/"),
    min_size=1, max_size=8,
).filter(lambda name: name not in (".", ".."))  # fmt: skip
# What is at an output path before the command: nothing (twice as likely), a regular
# file above it, a directory or a file at it, or a name too long for the file system.
WHERE = ["new", "new", "below a file", "a directory", "a file", "too long"]


@st.composite
def output_path(draw: st.DrawFn, suffixes: tuple[str, ...] = ("",)) -> tuple[str, list[str]]:
    """What is there (one of ``WHERE``) and the path's parts; the last ends in a suffix."""
    where = draw(st.sampled_from(WHERE))
    suffix = draw(st.sampled_from(suffixes))
    parts = [*draw(st.lists(NAME, max_size=2)), draw(NAME) + suffix]
    if where == "too long":
        index = draw(st.integers(0, len(parts) - 1))
        parts[index] = "x" * 300 + (suffix if index == len(parts) - 1 else "")
    return where, parts


def make_path(where: str, parts: list[str]) -> tuple[Path, Path]:
    """(a new directory, the path of ``parts`` below it, with what ``where`` says there)."""
    base = fresh_dir()
    top = base
    if where == "below a file":
        top = base / "a-file"
        top.write_text("not a directory\n")
    path = top.joinpath(*parts)
    if where in ("a directory", "a file"):
        path.parent.mkdir(parents=True, exist_ok=True)
        if where == "a directory":
            path.mkdir()
        else:
            path.write_text("in the way\n")
    return base, path


def is_refused(where: str, *, file: bool) -> bool:
    """Whether a command must refuse the path: ``file`` when it writes a file there."""
    return where in ("below a file", "too long") or where == ("a directory" if file else "a file")


def cli_refusal(*args: str | Path) -> str | None:
    """``evogan ARGS`` in this process: its one-line ``EvoganError``, or None if it worked."""
    refusals: list[str] = []

    def command() -> None:
        try:
            cli.main([str(arg) for arg in args], standalone_mode=False)
        except EvoganError as err:
            refusals.append(str(err))
            raise

    outcome(command)
    return refusals[0] if refusals else None


def check_refused(message: str | None, option: str, path: Path, base: Path, before: Any) -> None:
    """One line naming the option and the path, and nothing written below ``base``."""
    assert message is not None, f"{option} {path} was not refused"
    assert message.startswith(f"{option} {path}: cannot write there ("), message
    assert sorted(base.rglob("*")) == before


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A run directory of one tiny generation as ``evogan train`` writes it, evaluated once
    (its classifier cached beside it)."""
    run = tmp_path_factory.mktemp("trained") / "run"
    assert cli_refusal("train", *TINY_FLAGS, "--out", run) is None
    assert cli_refusal("evaluate", run, "-n", "10", "--cache-dir", run.parent / "cache") is None
    (run / EVAL_FILE).unlink()
    return run


@HEAVY
@given(target=output_path())
@example(target=("below a file", ["run"]))  # a traceback before the checks
@example(target=("a file", ["run"]))  # a traceback too
def test_train_out(target: tuple[str, list[str]]) -> None:
    base, path = make_path(*target)
    before = sorted(base.rglob("*"))
    message = cli_refusal("train", *TINY_FLAGS, "--out", path)
    if is_refused(target[0], file=False):
        check_refused(message, "--out", path, base, before)
    else:
        assert message is None and (path / "summary.json").is_file()


@settings(PROFILE)
@given(target=output_path((".png", ".npy")))
@example(target=("below a file", ["x.png"]))  # a traceback before the checks
@example(target=("a directory", ["x.png"]))  # a traceback too
@example(target=("too long", ["x" * 300 + ".npy"]))
@example(target=("new", ["0", "0.npy"]))  # found by make fuzz: np.save makes no folder
def test_sample_output(trained_run: Path, target: tuple[str, list[str]]) -> None:
    base, path = make_path(*target)
    before = sorted(base.rglob("*"))
    message = cli_refusal("sample", trained_run, "-n", "4", "-o", path)
    if is_refused(target[0], file=True):
        check_refused(message, "-o", path, base, before)
    elif path.suffix == ".npy":
        assert message is None and np.load(path).shape == (4, 1, 8, 8)
    else:
        assert message is None and Image.open(path).size[0] > 8


@HEAVY
@given(target=output_path(), eval_json=st.sampled_from(["none", "a file", "a directory"]))
@example(target=("new", ["cache"]), eval_json="a directory")  # a traceback after the work
@example(target=("below a file", ["cache"]), eval_json="none")
def test_evaluate_outputs(trained_run: Path, target: tuple[str, list[str]], eval_json: str) -> None:
    """eval.json in the run directory, and the classifier cache (``--cache-dir``)."""
    run = fresh_dir() / "run"
    shutil.copytree(trained_run, run)
    if eval_json == "a file":
        (run / EVAL_FILE).write_text("{}\n")
    elif eval_json == "a directory":
        (run / EVAL_FILE).mkdir()
    base, path = make_path(*target)
    if target[0] == "a directory":  # a warm cache: 0.6 s instead of 4 s
        shutil.copytree(trained_run.parent / "cache", path, dirs_exist_ok=True)
    before = sorted(base.rglob("*"))
    message = cli_refusal("evaluate", run, "-n", "10", "--cache-dir", path)
    if eval_json == "a directory":
        check_refused(message, "RUN_DIR", run / EVAL_FILE, base, before)
    elif is_refused(target[0], file=False):
        check_refused(message, "--cache-dir", path, base, before)
    else:
        assert message is None and "samples" in json.loads((run / EVAL_FILE).read_text())


@settings(PROFILE)
@given(target=output_path())
@example(target=("below a file", ["mnist"]))
def test_data_download_directory(target: tuple[str, list[str]]) -> None:
    """Against a port where nothing listens: a good directory is made, then the download fails."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    base, path = make_path(*target)
    before = sorted(base.rglob("*"))
    message = cli_refusal("data", "download", "mnist", path, "--base-url", url)
    if is_refused(target[0], file=False):
        check_refused(message, "DIRECTORY", path, base, before)
    else:
        assert message is not None and "download failed" in message and path.is_dir()
