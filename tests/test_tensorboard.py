"""--tensorboard: scalars per generation, sample grids and fitness histograms in event files."""

import pytest
from conftest import TINY

from evogan.config import Config
from evogan.outputs.callbacks import RunDirectory
from evogan.outputs.tensorboard import SUBDIRECTORY, TensorBoard
from evogan.run.engine import Evolution, evolve_run

event_accumulator = pytest.importorskip("tensorboard.backend.event_processing.event_accumulator")


def read(directory):
    events = event_accumulator.EventAccumulator(
        str(directory / SUBDIRECTORY), size_guidance={"scalars": 0, "images": 0, "histograms": 0}
    )
    return events.Reload()


@pytest.mark.parametrize("trainer", ["ga", "es"])
def test_metrics_grids_and_histograms_reach_tensorboard(tmp_path, trainer):
    config = Config(**TINY, trainer=trainer, generations=4, sample_every=2)
    evolve_run(Evolution.start(config), [RunDirectory(tmp_path), TensorBoard(tmp_path)])
    events = read(tmp_path)
    tags = events.Tags()
    assert {"fitness/best", "fitness/mean", "disc/loss"} <= set(tags["scalars"])
    assert [e.step for e in events.Scalars("fitness/best")] == [1, 2, 3, 4]
    assert "samples" in tags["images"]
    assert [e.step for e in events.Images("samples")] == [0, 2, 4]
    assert [e.step for e in events.Histograms("fitness/agents")] == [1, 2, 3, 4]


def test_a_resumed_run_continues_the_same_curves(tmp_path):
    from evogan.run.checkpoint import resume

    config = Config(**TINY, generations=2, checkpoint_every=1, sample_every=0)
    evolve_run(Evolution.start(config), [RunDirectory(tmp_path), TensorBoard(tmp_path)])
    run = resume(tmp_path, {"generations": 4})
    evolve_run(run, [RunDirectory(tmp_path), TensorBoard(tmp_path)])
    steps = [e.step for e in read(tmp_path).Scalars("fitness/best")]
    assert steps == [1, 2, 3, 4]
