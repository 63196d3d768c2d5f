"""QualityEvaluator and QualityReport on 8x8 digits; one optional real-MNIST check."""

import math
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch
from sklearn.datasets import load_digits

from evogan.errors import EvoganError
from evogan.quality.metrics import (
    ClassifierSettings,
    QualityEvaluator,
    QualityReport,
    probabilities,
)

TINY = ClassifierSettings(
    epochs=8, channels=(8, 16), feature_dim=32, batch_size=32, learning_rate=1e-2, max_shift=0
)
MNIST_DIRS = [
    Path(__file__).resolve().parents[2] / "shared" / "data" / "mnist",
    Path("/work/shared/data/mnist"),
]


@pytest.fixture(scope="module", autouse=True)
def one_thread() -> Iterator[None]:
    """Tiny convolutions are overhead-bound: a second thread only adds contention."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def digits() -> tuple[torch.Tensor, torch.Tensor]:
    data = load_digits()
    images = torch.tensor(data.images, dtype=torch.float32).unsqueeze(1) / 8 - 1
    return images, torch.tensor(data.target, dtype=torch.int64)


@pytest.fixture(scope="module")
def evaluator(
    digits: tuple[torch.Tensor, torch.Tensor], tmp_path_factory: pytest.TempPathFactory
) -> QualityEvaluator:
    images, labels = digits
    cache = tmp_path_factory.mktemp("classifiers")
    return QualityEvaluator(
        images[:900], labels[:900], images[900:], labels[900:], cache_dir=cache, settings=TINY
    )


def test_report_flattens_to_namespaced_scalars() -> None:
    report = QualityReport(
        fid=1.5,
        inception_score=9.0,
        class_entropy=2.3,
        class_histogram=(3, 0, 1),
        class_tvd=0.25,
        precision=0.7,
        recall=0.6,
        memorisation_ratio=1.1,
        n_samples=4,
        classifier_accuracy=0.99,
    )
    flat = report.as_dict()
    assert flat["eval/fid"] == 1.5 and flat["eval/is"] == 9.0
    assert flat["eval/class_entropy"] == 2.3 and flat["eval/memorisation_ratio"] == 1.1
    assert flat["eval/class_tvd"] == 0.25
    assert flat["eval/precision"] == 0.7 and flat["eval/recall"] == 0.6
    assert flat["eval/class_count/0"] == 3.0 and flat["eval/n_samples"] == 4.0
    assert set(report.as_dict("ref/noise")) == {k.replace("eval", "ref/noise") for k in flat}


def test_reference_brackets_real_and_noise(evaluator: QualityEvaluator) -> None:
    ref = evaluator.reference()
    train, heldout, noise = ref["train"], ref["heldout"], ref["noise"]
    assert evaluator.classifier_accuracy > 0.8
    for real in (train, heldout):
        assert real.fid * 5 < noise.fid
        assert real.precision > 0.6 and real.recall > 0.6
        assert real.class_entropy > 0.9 * math.log(10)
        assert real.class_tvd < 0.1
    assert noise.precision < 0.1 and noise.recall < 0.1
    assert noise.class_tvd > 0.4  # 0.57: noise lands mostly in two classes
    assert train.memorisation_ratio < 1e-3  # the training images themselves: a pure copier
    assert 0.7 < heldout.memorisation_ratio < 1.3
    assert train.n_samples == noise.n_samples == 897 and heldout.n_samples == 448
    assert evaluator.reference() is ref


def test_fresh_real_images_look_novel(
    evaluator: QualityEvaluator, digits: tuple[torch.Tensor, torch.Tensor]
) -> None:
    report = evaluator.evaluate(digits[0][900:1300])
    assert 0.7 < report.memorisation_ratio < 1.3
    assert report.fid < evaluator.reference()["noise"].fid / 5
    assert sum(report.class_histogram) == report.n_samples == 400
    assert report.class_tvd < 0.1


def test_fid_alone_is_the_reports_fid(
    evaluator: QualityEvaluator, digits: tuple[torch.Tensor, torch.Tensor]
) -> None:
    """--keep-best's cheap path: the same figure, bit for bit, without the distance matrices."""
    for samples in (digits[0][900:1300], digits[0][:200].flip(-1)):
        assert evaluator.fid(samples) == evaluator.evaluate(samples).fid


def test_a_one_class_generator_is_nine_tenths_off(
    evaluator: QualityEvaluator, digits: tuple[torch.Tensor, torch.Tensor]
) -> None:
    """Only threes against held-out labels with about 10 % threes: TVD = 1 - share of threes."""
    images, labels = digits
    heldout_labels = labels[900:]
    threes = images[900:][heldout_labels == 3]
    judged_three = probabilities(evaluator.model, threes).argmax(dim=1) == 3
    exact = 1 - float((heldout_labels == 3).double().mean())  # 1 - 91/897 = 0.899
    collapsed = evaluator.evaluate(threes[judged_three])
    assert collapsed.class_tvd == pytest.approx(exact, abs=1e-12)
    assert collapsed.class_tvd == pytest.approx(0.9, abs=0.01)
    # With the threes the classifier misreads, some mass lands in other classes: a bit lower.
    assert exact - 0.2 < evaluator.evaluate(threes).class_tvd <= exact + 1e-12  # 0.77


def test_heldout_labels_are_checked(
    digits: tuple[torch.Tensor, torch.Tensor], tmp_path: Path
) -> None:
    images, labels = digits
    with pytest.raises(EvoganError, match="labels"):
        QualityEvaluator(
            images[:100], labels[:100], images[100:200], labels[:5], cache_dir=tmp_path
        )


@pytest.mark.parametrize(
    ("samples", "message"),
    [
        (torch.zeros(10, 1, 16, 16), "expected"),
        (torch.zeros(3, 1, 8, 8), "more than k=3"),
        (torch.zeros(10, 8, 8), r"\[N, 1, H, W\]"),
        (torch.full((10, 1, 8, 8), 3.0), r"\[-1, 1\]"),
    ],
)
def test_bad_samples_raise(
    evaluator: QualityEvaluator, samples: torch.Tensor, message: str
) -> None:
    with pytest.raises(EvoganError, match=message):
        evaluator.evaluate(samples)
    with pytest.raises(EvoganError, match=message):
        evaluator.fid(samples)


def test_mismatched_heldout_raises(
    digits: tuple[torch.Tensor, torch.Tensor], tmp_path: Path
) -> None:
    images, labels = digits
    with pytest.raises(EvoganError, match="differ in shape"):
        heldout = torch.zeros(10, 1, 16, 16)
        QualityEvaluator(images[:100], labels[:100], heldout, labels[:10], cache_dir=tmp_path)


def test_real_mnist_small(tmp_path: Path) -> None:
    data = pytest.importorskip("evogan.data")
    mnist_dir = next((d for d in MNIST_DIRS if d.is_dir()), None)
    if mnist_dir is None:
        pytest.skip("MNIST test split not found")
    train = data.load_dataset("mnist", data_dir=mnist_dir, subset=(0, 1000))
    heldout = data.load_dataset("mnist", data_dir=mnist_dir, subset=(5000, 5500))
    assert heldout.labels is not None
    settings = ClassifierSettings(
        epochs=6, channels=(8, 16), feature_dim=32, batch_size=32, learning_rate=5e-3, max_shift=0
    )
    evaluator = QualityEvaluator(
        train.images,
        train.labels,
        heldout.images,
        heldout.labels,
        cache_dir=tmp_path,
        settings=settings,
    )
    assert evaluator.classifier_accuracy > 0.7
    ref = evaluator.reference()
    assert ref["heldout"].fid * 5 < ref["noise"].fid
    assert ref["train"].fid * 5 < ref["noise"].fid
    assert ref["heldout"].class_tvd < 0.1 and ref["noise"].class_tvd > 0.4


def test_heldout_equal_to_training_images_has_no_memorisation_baseline(
    digits: tuple[torch.Tensor, torch.Tensor], tmp_path: Path
) -> None:
    """A run on the whole dataset is judged against its own images: no ratio, not 1e7."""
    from evogan.quality.evaluate import format_table, report_dict, write_eval

    images, labels = digits
    same = QualityEvaluator(
        images[:600], labels[:600], images[:600], labels[:600],
        cache_dir=tmp_path / "cache", settings=TINY,
    )  # fmt: skip
    report = same.evaluate(images[900:1300])
    assert math.isnan(report.memorisation_ratio) and math.isfinite(report.fid)
    row = format_table({"samples": report}).splitlines()[-1]
    assert row.split()[-1] == "n/a" and row.startswith("memorisation ratio")
    written = write_eval(tmp_path, {"samples": report_dict(report)})
    text = written.read_text()
    assert "NaN" not in text and '"memorisation_ratio": null' in text
