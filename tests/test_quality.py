"""Quality of a run: the reference split, `evogan evaluate`, and eval metrics during training."""

import json

import pytest
import torch
from conftest import MNIST_DIR, TINY
from test_cli import TINY_ARGS, evogan, ok

from evogan.config import Config
from evogan.outputs.callbacks import RunDirectory
from evogan.quality.evaluate import QualityCallback, build_evaluator, reference_split
from evogan.run.engine import Evolution, evolve_run


@pytest.mark.skipif(not MNIST_DIR.is_dir(), reason="needs ../shared/data/mnist")
def test_reference_split_holds_out_the_images_not_trained_on():
    config = Config(dataset="mnist", data_dir=str(MNIST_DIR), subset="0:5000")
    train, heldout, note = reference_split(config)
    assert len(train.images) == 5000 and len(heldout.images) == 5000
    whole_first_heldout = reference_split(Config(dataset="mnist", data_dir=str(MNIST_DIR)))[0]
    assert torch.equal(heldout.images[0], whole_first_heldout.images[5000])
    assert "5000" in note


def test_whole_dataset_is_judged_against_itself_and_says_so():
    train, heldout, note = reference_split(Config())
    assert torch.equal(train.images, heldout.images)
    assert "whole dataset" in note


def test_evaluate_command_writes_eval_json(tmp_path):
    ok(evogan("train", *TINY_ARGS, "--generations", "2", "--out", "run", cwd=tmp_path))
    cache = tmp_path / "cache"
    done = ok(evogan("evaluate", "run", "-n", "300", "--cache-dir", cache, cwd=tmp_path))
    assert "FID" in done.stdout and "class TVD" in done.stdout
    result = json.loads((tmp_path / "run" / "eval.json").read_text())
    assert set(result) >= {"samples", "train", "heldout", "noise", "note"}
    assert result["samples"]["n_samples"] == 300
    # A two-generation generator is far from the data: worse than real images.
    assert result["samples"]["fid"] > result["train"]["fid"]
    for row in ("samples", "train", "heldout", "noise"):
        assert 0 <= result[row]["class_tvd"] <= 1
    assert result["train"]["class_tvd"] < 0.1
    assert list(cache.glob("classifier-*.safetensors"))


def test_eval_every_adds_quality_metrics_to_the_log(tmp_path):
    config = Config(**TINY, generations=4, eval_every=2, eval_samples=50)
    evaluator, _ = build_evaluator(config, tmp_path / "cache")
    run = Evolution.start(config)
    callbacks = [QualityCallback(evaluator, every=2, samples=50), RunDirectory(tmp_path / "run")]
    evolve_run(run, callbacks)
    rows = [json.loads(line) for line in (tmp_path / "run" / "metrics.jsonl").open()]
    assert ["eval/fid" in row for row in rows] == [False, True, False, True]
    assert all(row["eval/fid"] > 0 for row in rows if "eval/fid" in row)
    assert all(0 <= row["eval/class_tvd"] <= 1 for row in rows if "eval/fid" in row)
