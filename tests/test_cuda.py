"""``--device cuda`` and ``auto``: where a GPU is, every trainer runs on it and its
checkpoints move between the GPU and the CPU. On a machine without CUDA the GPU
tests are reported as skipped ("needs CUDA"), never passed."""

import pytest
import torch
from test_cli import TINY_ARGS, evogan, ok

import evogan as api
from evogan.run.wiring import resolve_device

needs_cuda = pytest.mark.skipif(
    not torch.cuda.is_available(), reason="needs CUDA: not run on this machine"
)
TINY = {"population": 8, "samples_per_agent": 8, "disc_batch": 16, "disc_filters": 16,
        "progress": False, "sample_every": 0, "checkpoint_every": 0}  # fmt: skip


@pytest.mark.parametrize("available", [False, True])
def test_auto_takes_the_gpu_only_when_there_is_one(monkeypatch, available):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: available)
    assert resolve_device("auto").type == ("cuda" if available else "cpu")
    assert resolve_device("cpu").type == "cpu"


@needs_cuda
@pytest.mark.parametrize("trainer", ["ga", "es", "egan", "gradient"])
def test_every_trainer_runs_on_the_gpu(trainer):
    result = api.evolve(trainer=trainer, device="cuda", generations=3, **TINY)
    assert result.generations == 3
    images = api.sample(result.generator.to("cuda"), 4)
    assert images.shape == (4, 1, 8, 8) and torch.isfinite(images).all()


@needs_cuda
def test_auto_runs_on_the_gpu():
    result = api.evolve(device="auto", generations=2, **TINY)
    assert next(result.generator.parameters()).device.type in ("cuda", "cpu")
    assert result.generations == 2


@needs_cuda
def test_a_gpu_checkpoint_resumes_on_the_cpu_and_back(tmp_path):
    ok(evogan("train", *TINY_ARGS, "--device", "cuda", "--generations", "2", "--out", "run",
              cwd=tmp_path))  # fmt: skip
    ok(evogan("train", "--resume", "run", "--device", "cpu", "--generations", "4", cwd=tmp_path))
    ok(evogan("train", "--resume", "run", "--device", "cuda", "--generations", "6", cwd=tmp_path))
    ok(evogan("sample", "run", "-n", "4", "-o", "samples.png", cwd=tmp_path))
    assert (tmp_path / "samples.png").stat().st_size > 0
