"""RunDirectory's schedules of grids and checkpoints, and the bounded frames on disk."""

import itertools
from pathlib import Path

import pytest
from conftest import TINY

from evogan.config import Config
from evogan.outputs.callbacks import MAX_SHARE, RunDirectory, Schedule, frames, thin
from evogan.run.engine import Evolution, evolve_run


class FakeClock:
    """A clock that moves only when told to."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def due_generations(
    schedule: Schedule, clock: FakeClock, seconds_per_generation: float
) -> list[int]:
    """The generations 1..20 at whose end ``schedule`` writes, each taking no time."""
    written: list[int] = []
    schedule.start()
    for generation in range(1, 21):
        clock.now = generation * seconds_per_generation
        schedule.maybe(generation, lambda g=generation: written.append(g))
    return written


@pytest.mark.parametrize(
    ("generations", "seconds", "expected"),
    [
        (None, 5.0, [3, 6, 9, 12, 15, 18]),  # 2 s per generation: due at t >= 5, 11, 17...
        (None, 2.0, list(range(1, 21))),
        (None, 0.0, []),  # 0 s: never
        (4, 5.0, [4, 8, 12, 16, 20]),  # generations, when given, win
        (4, 0.0, [4, 8, 12, 16, 20]),
        (0, 5.0, []),  # 0 generations: never
    ],
)
def test_schedule(generations: int | None, seconds: float, expected: list[int]) -> None:
    clock = FakeClock()
    assert due_generations(Schedule(generations, seconds, clock), clock, 2.0) == expected


def test_a_slow_write_stretches_the_interval() -> None:
    clock = FakeClock()
    schedule = Schedule(None, 10.0, clock)
    schedule.start()
    written: list[float] = []

    def slow_write() -> None:  # takes 1 s: the next one waits 1 / MAX_SHARE s, not 10
        written.append(clock.now)
        clock.now += 1.0

    for now in [9.0, 10.0, 20.0, 59.0, 10.0 + 1.0 / MAX_SHARE]:
        clock.now = now
        schedule.maybe(1, slow_write)
    assert written == [10.0, 10.0 + 1.0 / MAX_SHARE]


class Recording(RunDirectory):
    """A run directory that notes the generations of its checkpoints."""

    def __init__(self, directory: Path, clock: FakeClock) -> None:
        super().__init__(directory, clock=clock)
        self.checkpointed: list[int] = []

    def save_model(self, run: Evolution) -> None:
        self.checkpointed.append(run.generation)
        super().save_model(run)


class Tick:
    """A callback that makes every generation last 2 s of the fake clock."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock

    def on_start(self, run: Evolution) -> None:
        self.clock.now = 2.0 * run.generation

    def on_generation(self, run: Evolution, metrics: dict[str, float]) -> None:
        self.clock.now = 2.0 * run.generation

    def on_end(self, run: Evolution, stop: dict[str, float]) -> None:
        pass


def test_run_directory_writes_by_wall_clock(tmp_path: Path) -> None:
    clock = FakeClock()
    directory = Recording(tmp_path, clock)
    config = Config(**TINY, generations=10, sample_interval=5.0, checkpoint_interval=8.0)
    evolve_run(Evolution.start(config), [Tick(clock), directory])
    assert list(frames(tmp_path / "samples")) == [0, 3, 6, 9, 10]  # t = 6, 12, 18, then the end
    assert directory.checkpointed == [4, 8, 10]  # t = 8, 16, then the end
    assert (tmp_path / "evolution.gif").is_file()


def test_starting_drops_frames_after_the_run(tmp_path: Path) -> None:
    """Frames written after the checkpoint a run resumes from would not match it."""
    (tmp_path / "samples").mkdir()
    for generation in (0, 7, 12):
        (tmp_path / "samples" / f"generation_{generation:05d}.png").write_bytes(b"")
    RunDirectory(tmp_path).on_start(Evolution.start(Config(**TINY, generations=1)))
    assert list(frames(tmp_path / "samples")) == [0]


def test_frames_are_ordered_by_generation(tmp_path: Path) -> None:
    for name in ("generation_99999.png", "generation_100000.png", "generation_00005.png"):
        (tmp_path / name).write_bytes(b"")
    (tmp_path / "samples.png").write_bytes(b"")
    assert list(frames(tmp_path)) == [5, 99999, 100000]


def test_thin_exact() -> None:
    # last 12, limit 5: stride 4 cuts 0..12 into 4 spans, 0-3, 4-7, 8-11, 12-15: their firsts
    assert thin([0, 1, 2, 5, 6, 9, 11, 12], 5) == [0, 5, 9, 12]
    assert thin([0, 3, 7], 5) == [0, 3, 7]
    assert thin([], 5) == []
    with pytest.raises(ValueError, match="limit"):
        thin([0, 1], 1)


@pytest.mark.parametrize("limit", [2, 10, 200])
def test_thinning_frame_by_frame_keeps_few_frames_spread_over_the_run(limit: int) -> None:
    """An hour at ~10 generations per second with a grid every 5 s: 720 grids."""
    written = [round(48.7 * i) for i in range(721)]
    kept: list[int] = []
    for generation in written:
        kept = thin([*kept, generation], limit)
        assert len(kept) <= limit
    assert kept == thin(written, limit)  # thinning as we go == thinning once at the end
    assert kept[0] == 0 and kept[-1] == written[-1]
    if limit > 2:  # no gap wider than four times the even spacing
        gaps = [b - a for a, b in itertools.pairwise(kept)]
        assert max(gaps) <= 4 * written[-1] / (limit - 1)
        assert len(kept) >= limit // 4
