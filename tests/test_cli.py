"""The command line, run as users run it: a subprocess per command.

User errors must exit with code 2 and one line on stderr naming the culprit,
never a traceback, and must not leave a run directory behind.
"""

import dataclasses
import gzip
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from conftest import MNIST_DIR, make_generator
from PIL import Image

from evogan.cli import main
from evogan.config import Config
from evogan.run.export import save_generator

TINY_ARGS = [
    "--population", "8", "--samples-per-agent", "8", "--disc-batch", "16",
    "--disc-filters", "16", "--no-progress",
]  # fmt: skip
# One thread per process: several of them run at once on a small machine.
ENV = {**os.environ, "OMP_NUM_THREADS": "1"}


def evogan(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "evogan.cli", *map(str, args)]
    return subprocess.run(command, cwd=cwd, env=ENV, capture_output=True, text=True, timeout=300)


def ok(done: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    assert done.returncode == 0, done.stderr
    return done


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> Path:
    """``evogan train`` for two generations with the defaults apart from size."""
    base = tmp_path_factory.mktemp("cli")
    ok(evogan("train", *TINY_ARGS, "--generations", "2", "--out", "run", cwd=base))
    return base / "run"


def test_train_writes_the_run_directory(trained):
    for name in ("config.toml", "metrics.jsonl", "samples.png", "evolution.gif", "fitness.png"):
        assert (trained / name).is_file(), name
    for name in ("generator.safetensors", "generator.json", "checkpoint.pt", "summary.json"):
        assert (trained / name).is_file(), name
    assert len((trained / "metrics.jsonl").read_text().splitlines()) == 2
    assert json.loads((trained / "summary.json").read_text())["generations"] == 2


def test_resume_continues_the_run(trained, tmp_path):
    run = tmp_path / "run"
    shutil.copytree(trained, run)
    done = ok(evogan("train", "--resume", run, "--generations", "3", cwd=tmp_path))
    assert "after 3 generations" in done.stdout
    rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert [row["generation"] for row in rows] == [1.0, 2.0, 3.0]
    before = (trained / "metrics.jsonl").read_text().splitlines()
    assert (run / "metrics.jsonl").read_text().splitlines()[:2] == before
    assert json.loads((run / "summary.json").read_text())["generations"] == 3


def test_sample_png(trained, tmp_path):
    ok(evogan("sample", trained, "-n", "9", "-o", "x.png", cwd=tmp_path))
    with Image.open(tmp_path / "x.png") as image:
        assert image.format == "PNG"
        assert min(image.size) >= 24  # a 3x3 grid of 8x8 images at least


def test_sample_npy(trained, tmp_path):
    ok(evogan("sample", trained, "-n", "9", "-o", "x.npy", cwd=tmp_path))
    images = np.load(tmp_path / "x.npy")
    assert images.shape == (9, 1, 8, 8)
    assert images.dtype == np.float32
    assert images.min() >= -1.0 and images.max() <= 1.0


def test_help_lists_every_config_field(tmp_path):
    text = ok(evogan("train", "--help", cwd=tmp_path)).stdout
    for f in dataclasses.fields(Config):
        assert "--" + f.name.replace("_", "-") in text, f.name
    for flag in ("--preset", "--config", "--out", "--resume"):
        assert flag in text


def test_article_preset_on_mnist(tmp_path):
    args = ["--dataset", "mnist", "--data-dir", MNIST_DIR, "--subset", "0:500"]
    args += ["--population", "10", "--generations", "1", "--elitism", "2", "--no-progress"]
    ok(evogan("train", "--preset", "article", *args, "--out", "article", cwd=tmp_path))
    run = tmp_path / "article"
    config = (run / "config.toml").read_text().splitlines()
    assert 'fitness = "accuracy"' in config and 'crossover = "single-point"' in config
    assert json.loads((run / "summary.json").read_text())["genome_size"] == 100 * 100 + 100 * 784
    ok(evogan("sample", run, "-n", "4", "-o", "a.npy", cwd=tmp_path))
    assert np.load(tmp_path / "a.npy").shape == (4, 1, 28, 28)


# Bad inputs. Each case builds its files in a directory and gives the arguments and
# the fragments that the one line on stderr must contain.

Case = Callable[[Path], tuple[list[str | Path], list[str]]]


def _train(*args: str | Path) -> list[str | Path]:
    return ["train", *TINY_ARGS, "--generations", "1", *args, "--out", "out"]


def _empty_dir(base: Path) -> Path:
    (base / "empty").mkdir()
    return base / "empty"


def _truncated_mnist(base: Path) -> Path:
    directory = base / "mnist"
    directory.mkdir()
    images = (MNIST_DIR / "t10k-images-idx3-ubyte.gz").read_bytes()
    (directory / "t10k-images-idx3-ubyte.gz").write_bytes(images[: len(images) // 3])
    shutil.copy(MNIST_DIR / "t10k-labels-idx1-ubyte.gz", directory)
    return directory


def _truncated_raw_mnist(base: Path) -> Path:
    directory = base / "mnist"
    directory.mkdir()
    raw = gzip.decompress((MNIST_DIR / "t10k-images-idx3-ubyte.gz").read_bytes())
    (directory / "t10k-images-idx3-ubyte").write_bytes(raw[: 16 + 784 * 100])
    shutil.copy(MNIST_DIR / "t10k-labels-idx1-ubyte.gz", directory)
    return directory


def _config_file(base: Path, text: str) -> Path:
    (base / "bad.toml").write_text(text)
    return base / "bad.toml"


def _existing_run(base: Path) -> Path:
    run = base / "old-run"
    run.mkdir()
    (run / "config.toml").write_text("population = 8\n")
    (run / "metrics.jsonl").write_text('{"generation": 1.0}\n')
    return run


BAD: dict[str, Case] = {
    "selection": lambda b: (_train("--selection", "roulette"), ["--selection", "roulette"]),
    "crossover": lambda b: (_train("--crossover", "three-point"), ["--crossover"]),
    "mutation": lambda b: (_train("--mutation", "cauchy"), ["--mutation", "cauchy"]),
    "fitness": lambda b: (_train("--fitness", "wasserstein"), ["--fitness"]),
    "population": lambda b: (_train("--population", "2"), ["--population"]),
    "mnist-empty-dir": lambda b: (
        _train("--dataset", "mnist", "--data-dir", _empty_dir(b)),
        [str(b / "empty")],
    ),
    "mnist-truncated-gz": lambda b: (
        _train("--dataset", "mnist", "--data-dir", _truncated_mnist(b)),
        ["t10k-images-idx3-ubyte"],
    ),
    "mnist-truncated-idx": lambda b: (
        _train("--dataset", "mnist", "--data-dir", _truncated_raw_mnist(b)),
        ["t10k-images-idx3-ubyte", "truncated"],
    ),
    "folder-empty": lambda b: (_train("--dataset", f"folder:{_empty_dir(b)}"), [str(b / "empty")]),
    "mlp-output-size": lambda b: (
        _train("--generator", "mlp", "--network", '[[16,32,"tanh"],[null,50,"tanh"]]'),
        ["network"],
    ),
    "config-missing": lambda b: (_train("--config", b / "missing.toml"), ["missing.toml"]),
    "config-unknown-key": lambda b: (
        _train("--config", _config_file(b, "population = 8\ncolour = 'red'\n")),
        ["bad.toml", "colour"],
    ),
    "config-wrong-type": lambda b: (
        _train("--config", _config_file(b, "population = 'eight'\n")),
        ["bad.toml", "population"],
    ),
    "out-not-empty": lambda b: (
        ["train", *TINY_ARGS, "--generations", "1", "--out", _existing_run(b)],
        ["--out", "old-run"],
    ),
    "resume-no-checkpoint": lambda b: (
        ["train", "--resume", _existing_run(b)],
        ["old-run", "checkpoint"],
    ),
    "sample-jpg": lambda b: (["sample", _existing_run(b), "-n", "4", "-o", "x.jpg"], ["x.jpg"]),
    # Range errors that surface only inside the first generation or in torch:
    "crossover-rate": lambda b: (_train("--crossover-rate", "2"), ["--crossover-rate"]),
    "disc-lr": lambda b: (_train("--disc-lr", "-1"), ["--disc-lr"]),
}


def _file(base: Path) -> Path:
    (base / "a-file").write_text("not a directory\n")
    return base / "a-file"


def _directory(base: Path, name: str) -> Path:
    (base / name).mkdir(parents=True)
    return base / name


def _exported_run(base: Path) -> Path:
    """A run directory as evaluate reads it: its config and an exported generator."""
    run = _directory(base, "run")
    save_generator(make_generator("mlp"), run)
    (run / "config.toml").write_text('dataset = "digits"\n')
    return run


# A path it cannot write, for every command that writes: below a regular file, or a
# directory where a file belongs (`--out` and the others as the fuzz tests vary them).
BAD |= {
    "out-below-a-file": lambda b: (
        ["train", *TINY_ARGS, "--generations", "1", "--out", _file(b) / "run"],
        [f"--out {b}/a-file/run: cannot write there", "a-file is not a directory"],
    ),
    "out-a-file": lambda b: (
        ["train", *TINY_ARGS, "--generations", "1", "--out", _file(b)],
        [f"--out {b}/a-file: cannot write there"],
    ),
    "sample-below-a-file": lambda b: (
        ["sample", _exported_run(b), "-n", "4", "-o", _file(b) / "x.png"],
        [f"-o {b}/a-file/x.png: cannot write there"],
    ),
    "sample-npy-onto-a-directory": lambda b: (
        ["sample", _exported_run(b), "-n", "4", "-o", _directory(b, "x.npy")],
        [f"-o {b}/x.npy: cannot write there (it is a directory)"],
    ),
    "evaluate-eval-json-a-directory": lambda b: (
        ["evaluate", _directory(_exported_run(b), "eval.json").parent, "-n", "10"],
        [f"RUN_DIR {b}/run/eval.json: cannot write there (it is a directory)"],
    ),
    "evaluate-cache-below-a-file": lambda b: (
        ["evaluate", _exported_run(b), "-n", "10", "--cache-dir", _file(b) / "cache"],
        [f"--cache-dir {b}/a-file/cache: cannot write there"],
    ),
    "download-below-a-file": lambda b: (
        ["data", "download", "mnist", _file(b) / "mnist"],
        [f"DIRECTORY {b}/a-file/mnist: cannot write there"],
    ),
}


def _snapshot(base: Path) -> dict[Path, tuple[int, bytes]]:
    return {p: (p.stat().st_mtime_ns, p.read_bytes()) for p in base.rglob("*") if p.is_file()}


def _check_refused(base: Path, code: object, stderr: str, fragments: list[str], before) -> None:
    assert "Traceback" not in stderr, stderr
    assert code == 2, stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    for fragment in fragments:
        assert fragment in lines[0]
    # Nothing written: no new run directory, and existing files untouched.
    assert not (base / "out").exists()
    assert not (base / "runs").exists()
    assert _snapshot(base) == before


@pytest.mark.parametrize("name", list(BAD))
def test_bad_input_is_one_line_and_exit_code_2(name, tmp_path, monkeypatch, capsys):
    """The whole matrix in-process through the real entry point ``main`` (fast)."""
    args, fragments = BAD[name](tmp_path)
    before = _snapshot(tmp_path)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "argv", ["evogan", *map(str, args)])
    with pytest.raises(SystemExit) as exit:
        main()
    _check_refused(tmp_path, exit.value.code, capsys.readouterr().err, fragments, before)


SUBPROCESS_CASES = ["selection", "config-unknown-key", "out-not-empty", "out-below-a-file",
                    "sample-below-a-file"]  # fmt: skip


@pytest.fixture(scope="module")
def bad_processes(tmp_path_factory):
    """A few of the cases as real processes, all at once to spare the slow start-ups."""
    prepared = {}
    for name in SUBPROCESS_CASES:
        base = tmp_path_factory.mktemp(name)
        args, fragments = BAD[name](base)
        prepared[name] = (base, args, fragments, _snapshot(base))
    with ThreadPoolExecutor(max_workers=len(prepared)) as pool:
        futures = {name: pool.submit(evogan, *c[1], cwd=c[0]) for name, c in prepared.items()}
        return {name: (*prepared[name], futures[name].result()) for name in prepared}


@pytest.mark.parametrize("name", SUBPROCESS_CASES)
def test_bad_input_in_a_real_process(bad_processes, name):
    base, _, fragments, before, done = bad_processes[name]
    _check_refused(base, done.returncode, done.stderr, fragments, before)


def test_ctrl_c_stops_cleanly_saves_and_resumes(tmp_path):
    """SIGINT finishes the generation, writes every output, exits 0; --resume goes on."""
    import signal
    import time

    command = [sys.executable, "-m", "evogan.cli", "train", *TINY_ARGS,
               "--generations", "100000", "--out", "run"]  # fmt: skip
    process = subprocess.Popen(command, cwd=tmp_path, env=ENV, stderr=subprocess.PIPE, text=True)
    metrics = tmp_path / "run" / "metrics.jsonl"
    deadline = time.monotonic() + 120
    while not (metrics.exists() and len(metrics.read_text().splitlines()) >= 3):
        assert time.monotonic() < deadline and process.poll() is None, "training did not start"
        time.sleep(0.2)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 0, stderr
    assert "Traceback" not in stderr
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert "interrupted" in summary["stop"]
    done = summary["generations"]
    assert len(metrics.read_text().splitlines()) == done
    ok(evogan("train", "--resume", "run", "--generations", str(done + 2), cwd=tmp_path))
    resumed = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert resumed["generations"] == done + 2 and "generations" in resumed["stop"]


@pytest.mark.parametrize(
    "options",
    [
        ["--trainer", "es"],
        [
            "--trainer",
            "es",
            "--generator",
            "subspace",
            "--genome-dim",
            "40",
            "--dcgan-channels",
            "4",
        ],
        ["--trainer", "es", "--generator", "frozen", "--dcgan-channels", "4"],
        ["--trainer", "es", "--generator", "pca", "--components", "12"],
        ["--trainer", "es", "--generator", "mppca", "--components", "12", "--clusters", "5"],
        ["--trainer", "gradient", "--generator", "dcgan", "--dcgan-channels", "4"],
        ["--trainer", "egan", "--generator", "dcgan", "--dcgan-channels", "4", "--population", "2"],
    ],
    ids=["es", "es-subspace", "es-frozen", "es-pca", "es-mppca", "dcgan-gradient", "egan"],
)
def test_every_trainer_and_family_trains_and_samples(tmp_path, options):
    args = [*TINY_ARGS, *options]  # later flags win: egan's --population 2
    ok(evogan("train", *args, "--generations", "2", "--out", "run", cwd=tmp_path))
    ok(evogan("sample", "run", "-n", "4", "-o", "s.npy", cwd=tmp_path))
    assert np.load(tmp_path / "s.npy").shape == (4, 1, 8, 8)
