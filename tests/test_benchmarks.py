"""Every benchmark script's smoke mode, run as `make bench` runs it: a subprocess.

Each script runs at tiny sizes (`--smoke`) and writes its JSON under a temporary
folder; the tests check the keys that report.py reads and that every figure is
a finite number, so that a renamed attribute or a broken preset fails here and
not two hours into `make bench`.
"""

from __future__ import annotations

import importlib.util
import json
import math
import os
import subprocess
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

BENCH = Path(__file__).resolve().parents[1] / "benchmarks"
RESULTS = BENCH / "results"
TIMEOUT_S = 240  # a smoke run takes seconds; minutes only on a machine busy with other work


def smoke(script: str, out: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``script --smoke --out out [args]`` in a fresh interpreter."""
    line = [sys.executable, str(BENCH / script), "--smoke", "--out", str(out), *args]
    return subprocess.run(line, capture_output=True, text=True, timeout=TIMEOUT_S)


def result(out: Path, name: str) -> dict[str, Any]:
    data = json.loads((out / f"{name}.json").read_text())
    assert {"machine", "command"} <= data.keys()
    assert "--smoke" in data["command"]
    return data


def assert_finite(row: dict[str, Any], *keys: str, positive: bool = False) -> None:
    for key in keys:
        value = row[key]
        assert isinstance(value, int | float) and not isinstance(value, bool), (key, value)
        assert math.isfinite(value), (key, value)
        assert value > 0 or not positive, (key, value)


def load_script(name: str, monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    monkeypatch.syspath_prepend(str(BENCH))  # the scripts import their `common`
    spec = importlib.util.spec_from_file_location(name, BENCH / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, name, module)  # a dataclass looks its module up there
    spec.loader.exec_module(module)
    return module


def check_throughput(out: Path, stdout: str) -> None:
    data = result(out, "throughput")
    assert [row["population"] for row in data["rows"]] == [8]
    assert_finite(data["rows"][0], "ceiling_images_per_s", "evaluation_samples_per_s",
                  "fraction_of_ceiling", "evogan_generation_s", "article_loop_generation_s",
                  "speedup_vs_article", positive=True)  # fmt: skip
    assert_finite(data["subspace"], "genome_dim", "full_weights", "agents_built", "generation_s",
                  "projection_s", "projection_share", positive=True)  # fmt: skip


def check_memory(out: Path, stdout: str) -> None:
    rows = result(out, "memory")["rows"]
    assert [(row["trainer"], row["population"]) for row in rows] == [("ga", 8), ("gradient", 8)]
    for row in rows:
        assert_finite(row, "peak_rss_mib", positive=True)


QUALITY = ("eval/fid", "eval/class_entropy", "eval/class_tvd", "eval/precision", "eval/recall")


def check_ceiling(out: Path, stdout: str) -> None:
    rows = result(out, "ceiling")["rows"]
    families = ["mlp", "basis", "pca", "conv", "dcgan", "subspace", "frozen"]
    assert [row["family"] for row in rows] == [*families, "real training images"]
    for row in rows:
        assert_finite(row, "genes", *QUALITY)
    for row in rows[:-1]:
        assert_finite(row, "steps", "fit_s", "mse", positive=True)
    assert (out / "cache").is_dir()  # the smoke run's classifier, not in results/cache


def check_hybrid_cost(out: Path, stdout: str) -> None:
    rows = result(out, "hybrid_cost")["rows"]
    assert [row["method"] for row in rows] == ["dcgan-gradient", "egan", "egan-loss-mutation"]
    for row in rows:
        assert_finite(row, "seconds_per_generation", "generations_per_s", "ratio_to_dcgan_step",
                      positive=True)  # fmt: skip
    assert rows[0]["ratio_to_dcgan_step"] == 1.0


def check_digits_sweep(out: Path, stdout: str) -> None:
    rows = result(out, "digits_sweep")["rows"]
    assert [(row["setting"], row["seed"]) for row in rows] == [
        ("population 8, 8 samples", 0),
        ("population 4, 4 samples", 0),
    ]
    for row in rows:
        assert_finite(row, "generations", positive=True)
        assert_finite(row, *QUALITY)


def check_ray_overhead(out: Path, stdout: str) -> None:
    data = result(out, "ray_overhead")
    assert data["population"] == 20
    backends = [(row["backend"], row["cores"]) for row in data["rows"]]
    assert backends == [("local", 1), ("ray full", 1), ("ray compact", 1), ("local", 2),
                        ("ray full", 2), ("ray compact", 2), ("local islands", 2),
                        ("ray islands", 2)]  # fmt: skip
    for row in data["rows"]:
        assert_finite(row, "seconds_per_generation", "genome_bytes", positive=True)
        assert_finite(row, "overhead", "genome_bytes_per_agent")
        if row["backend"] != "ray islands":  # islands on actors score there, untimed
            assert_finite(row, "evaluation_seconds", positive=True)
        check_profile(row)
    assert data["driver_keeps_freed_memory"] in (True, False)  # False without glibc
    assert_finite(data, "driver_peak_rss_mb", positive=True)
    for row in data["rows"]:  # what keeping freed memory costs: each actor's peak
        actors = {"ray full": row["cores"], "ray compact": row["cores"], "ray islands": 2}
        assert len(row["actor_peak_rss_mb"]) == actors.get(row["backend"], 0), row["backend"]
        assert all(mb > 0 for mb in row["actor_peak_rss_mb"])
    model = data["model"]
    assert_finite(model, "driver_seconds", "scoring_seconds_per_agent")
    assert_finite(model["ray_added_seconds"], "full", "compact")
    for prediction in model["predictions"]:
        assert_finite(prediction, "seconds_per_generation")


PROFILE = ("critic", "scoring_call", "sending", "waiting_beyond_actor", "rest",
           "driver_breeding", "driver_rows_bred", "busiest_actor",
           "busiest_actor_breeding")  # fmt: skip


def check_profile(row: dict[str, Any]) -> None:
    """Where a generation's seconds go: the driver's parts, its breeding and the actors'."""
    profile, backend = row["profile"], row["backend"]
    assert_finite(profile, *PROFILE)
    if backend in ("local", "ray full", "ray compact"):  # the GA breeds (some rows) here
        assert_finite(profile, "driver_breeding", "driver_rows_bred", positive=True)
    if backend == "ray compact" and row["cores"] > 1:  # the actors rebuild their shards
        assert_finite(profile, "busiest_actor", "busiest_actor_breeding", positive=True)
    if backend == "ray compact" and row["cores"] == 1:  # one worker here gets full genomes
        assert profile["busiest_actor_breeding"] == 0.0
    if backend in ("ray full", "ray compact"):  # one median per actor
        for key in ("actor_seconds", "actor_breeding_seconds"):
            values = row[key]
            assert len(values) == row["cores"], (backend, key, values)
            assert all(math.isfinite(value) and value >= 0 for value in values), (key, values)


def check_quality_vs_time(out: Path, stdout: str) -> None:
    """Judged by generation, on the kept generator and the last one."""
    data = result(out, "quality_vs_time")
    (run,) = data["runs"]
    assert run["method"] == "es-annealed" and run["generations"] == 4
    assert [p["mark_generation"] for p in run["points"]] == [2.0, 4.0]
    for point in run["points"]:
        assert_finite(point, "eval/fid", "last/eval/fid", "train_s", "keep/best_fid",
                      "keep/last_fid", positive=True)  # fmt: skip
        assert 1 <= point["kept_generation"] <= point["generation"]
    assert_finite(data["reference"]["heldout"], "eval/fid", positive=True)
    assert (out / "quality_vs_time.png").is_file()


def check_keep_best_judge(out: Path, stdout: str) -> None:
    """Every saved genome judged by both judges; each keeper variant ranked on the plateau."""
    (run,) = result(out, "keep_best_judge")["runs"]
    assert [p["generation"] for p in run["points"]] == [2, 4, 6]
    for point in run["points"]:
        assert_finite(point, "bench/fid", "keep/fid_first", "keep/fid_second", "keep/fid_mean",
                      "keep/fid_large", "time/fid_small_s", "time/fid_large_s",
                      positive=True)  # fmt: skip
    summary = run["summary"]
    assert summary["plateau_genomes"] == 3
    assert_finite(summary, "keep/noise_sd", "time/fid_small_s", "time/fid_large_s")
    for variant in ("first", "second", "mean", "large"):
        assert -1 <= summary[f"spearman/{variant}"] <= 1


def check_keep_best_margin(out: Path, stdout: str) -> None:
    """The starting genome and every saved one judged by both judges; a replay per margin."""
    (run,) = result(out, "keep_best_margin")["runs"]
    assert [p["generation"] for p in run["points"]] == [0, 2, 4, 6]
    for point in run["points"]:
        assert_finite(point, "bench/fid", "keep/fid_first", "keep/fid_second", positive=True)
    assert [row["margin"] for row in run["margins"]] == [0, 0.01, 0.02, 0.03, 0.05, 0.08, 0.1, 0.12]
    for row in run["margins"]:
        assert_finite(row, "swaps", "rises", "worst_rise", "start", "end", "best_seen")


def test_a_replayed_keeper_holds_what_keep_best_would(monkeypatch: pytest.MonkeyPatch) -> None:
    """keep_best_margin.py's replay decides as BestKeeper.judge: confirm pass, then margin."""
    replay = load_script("keep_best_margin", monkeypatch).replay

    def point(first: float, second: float, bench: float) -> dict[str, float]:
        return {"keep/fid_first": first, "keep/fid_second": second, "bench/fid": bench}

    points = [point(20, 20, 50), point(19.5, 19.5, 52), point(19, 22, 40), point(18, 18, 49)]
    # no margin: 19.5 beats 20 (kept, bench 52); 19 looks better but its mean 20.5 does not
    assert replay(points, 0.0) == [50, 52, 52, 49]
    # 5 %: a candidate must score below 19 (20 * 0.95): 19.5 and 19 do not, 18 does
    assert replay(points, 0.05) == [50, 50, 50, 49]
    assert replay(points, 0.2) == [50, 50, 50, 50]


def test_merged_results_keep_every_run_and_where_it_came_from(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """quality_vs_time.py --merge: one plot of runs measured on different days."""
    script = load_script("quality_vs_time", monkeypatch)

    def run(method: str, seed: int, fid: float) -> dict[str, object]:
        points = [{"mark_s": mark, "eval/fid": fid + mark / 60} for mark in (300.0, 600.0)]
        return {"method": method, "seed": seed, "points": points}

    reference = {"heldout": {"eval/fid": 11.0}}
    for name, budgets, runs in [("a", [300, 600], [run("es", 0, 50), run("es", 1, 52)]),
                                ("b", [600, 3600], [run("dcgan", 2, 200)])]:  # fmt: skip
        (tmp_path / f"{name}.json").write_text(json.dumps(
            {"machine": name, "command": f"run {name}", "budgets": budgets,
             "reference": reference, "runs": runs}))  # fmt: skip
    script.merge("both", ["a", "b"], tmp_path)
    merged = json.loads((tmp_path / "both.json").read_text())
    assert merged["budgets"] == [300, 600, 3600]
    assert merged["sources"] == {"a": {"machine": "a", "command": "run a"},
                                 "b": {"machine": "b", "command": "run b"}}  # fmt: skip
    assert [(r["method"], r["seed"], r["source"]) for r in merged["runs"]] == [
        ("es", 0, "a"), ("es", 1, "a"), ("dcgan", 2, "b")]  # fmt: skip
    assert merged["runs"][2]["points"][1]["eval/fid"] == 210.0
    assert (tmp_path / "both.png").is_file()


def check_mppca_fit(out: Path, stdout: str) -> None:
    """The fit judged by both judges, at each clusters and sharpness asked for."""
    (row,) = result(out, "mppca_fit")["rows"]
    assert (row["components"], row["clusters"], row["sharpness"]) == (64, 4, 1.75)
    assert (row["kmeans_seed"], row["latent_seed"]) == (0, 0)
    assert row["genes"] == 4 * 64 + 4 * 15 + 1  # the preset's sizes on 8x8 digits
    assert_finite(row, "validation/fid", "build_s", *QUALITY, positive=True)


def check_run_all(out: Path, stdout: str) -> None:
    """--smoke reaches the scripts, and report.py renders this run's results."""
    names = sorted(path.name for path in out.iterdir())
    assert {"hybrid_cost.json", "quality_vs_time.json", "tables.md"} <= set(names)
    tables = (out / "tables.md").read_text()
    assert "hybrid_cost.py --steps 3 --smoke" in tables
    assert "| egan-loss-mutation |" in tables
    assert "| es-annealed | 1 |" in tables and "FID @ 4 gen" in tables


Check = Callable[[Path, str], None]
# script -> (extra arguments, check of its output folder and stdout); longest first, as
# the runs start in this order
CHECKS: dict[str, tuple[list[str], Check]] = {
    "ray_overhead.py": ([], check_ray_overhead),
    "memory.py": ([], check_memory),
    "ceiling.py": ([], check_ceiling),
    "digits_sweep.py": ([], check_digits_sweep),
    "throughput.py": ([], check_throughput),
    "hybrid_cost.py": ([], check_hybrid_cost),
    "quality_vs_time.py": ([], check_quality_vs_time),
    "keep_best_judge.py": ([], check_keep_best_judge),
    "keep_best_margin.py": ([], check_keep_best_margin),
    "mppca_fit.py": ([], check_mppca_fit),
    # two cheap scripts: the runs above cover the rest
    "run_all.py": (["--only", "hybrid_cost.py", "quality_vs_time.py", "report.py"], check_run_all),
}


@pytest.fixture(scope="module")
def smoke_runs(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, tuple[Path, subprocess.CompletedProcess[str]]]:
    """The selected scripts' smoke runs, two at a time: one's waits (Ray starting actors,
    worker pools importing torch) overlap another's work. On 2 busy cores (load 3.5): 85 s
    one after the other, 62 s two at a time."""
    selected = {item.callspec.params["script"] for item in request.session.items
                if item.originalname == "test_smoke_run"}  # fmt: skip
    if importlib.util.find_spec("ray") is None:
        selected.discard("ray_overhead.py")
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = {}
        for script, (args, _) in CHECKS.items():
            if script in selected:
                out = tmp_path_factory.mktemp(script.removesuffix(".py"))
                futures[script] = (out, pool.submit(smoke, script, out, *args))
        return {script: (out, future.result()) for script, (out, future) in futures.items()}


@pytest.mark.parametrize("script", CHECKS)
def test_smoke_run(
    script: str, smoke_runs: dict[str, tuple[Path, subprocess.CompletedProcess[str]]]
) -> None:
    if script == "ray_overhead.py":
        pytest.importorskip("ray")
    out, done = smoke_runs[script]
    assert done.returncode == 0, f"{script} --smoke failed:\n{done.stdout}\n{done.stderr}"
    CHECKS[script][1](out, done.stdout)


def test_every_script_is_benchmarked_and_smoke_tested(monkeypatch: pytest.MonkeyPatch) -> None:
    run_all = load_script("run_all", monkeypatch)
    # common.py and netns.py are the scripts' helpers
    scripts = {path.name for path in BENCH.glob("*.py")} - {"common.py", "netns.py", "run_all.py"}
    assert set(run_all.SCRIPTS) == scripts, "make bench (run_all.SCRIPTS) misses a script"
    tested = set(CHECKS) | {"report.py"}
    assert scripts - run_all.NO_SMOKE | {"run_all.py"} == tested, "a smoke mode without a test"


TITLES = {"throughput": "### Throughput", "memory": "### Memory", "ceiling": "### Ceiling",
          "hybrid_cost": "### Cost of the E-GAN hybrid", "ray_overhead": "### Ray",
          "digits_sweep": "### Choosing the defaults",
          "quality_vs_time": "### Quality against time"}  # fmt: skip


def test_report_renders_the_results_into_a_temporary_folder(tmp_path: Path) -> None:
    """Without --out, a smoke run writes into a fresh temporary folder, not results/."""
    before = (RESULTS / "tables.md").read_bytes()
    env = os.environ | {"TMPDIR": str(tmp_path)}
    line = [sys.executable, str(BENCH / "report.py"), "--smoke"]
    done = subprocess.run(line, capture_output=True, text=True, timeout=TIMEOUT_S, env=env)
    assert done.returncode == 0, done.stderr
    [written] = tmp_path.glob("evogan-bench-smoke-*/tables.md")
    tables = written.read_text()
    for name, title in TITLES.items():
        assert (title in tables) == (RESULTS / f"{name}.json").exists(), title
    assert (RESULTS / "tables.md").read_bytes() == before
