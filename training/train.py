"""Fit the credscore pipeline on a dataset, measure it with cross-validation, and save it with
its out-of-fold scores, calibration report and operating points."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from classifier import LABELS
from classifier.errors import LabelError, ModelError
from classifier.model import read_manifest
from training.dataset import Dataset, Grouping
from training.dataset import grouping as group_rows
from training.evaluate import Calibration, Metrics, compute_calibration, compute_metrics
from training.export import save_model
from training.thresholds import OOF_GOLD, OOF_PROBA, default_points

CV_FOLDS = 5
CALIBRATION_FOLDS = 3
MIN_ROWS_PER_LABEL = 3
SVM_C = 0.5


@dataclass(frozen=True)
class TrainResult:
    """What one training run produced."""

    path: Path
    manifest: dict[str, Any]
    cv_metrics: Metrics
    previous_macro_f1: float | None
    seconds: float
    grouping: Grouping | None = None
    calibration: Calibration | None = None


def _group_splits(labels: list[str], groups: list[str], folds: int):
    """Train/test index splits that keep each group on one side (stratified when possible)."""
    from sklearn.model_selection import StratifiedGroupKFold

    n_groups = len(set(groups))
    if n_groups < 2:
        raise LabelError(
            "training data comes from one document; grouped cross-validation needs at least two "
            "'doc' values"
        )
    splitter = StratifiedGroupKFold(n_splits=min(folds, n_groups))
    return list(splitter.split(labels, labels, groups))


def _row_splits(labels: list[str], folds: int):
    """Stratified train/test splits over rows, shuffled with a fixed seed (label files are often
    sorted by topic or source, and unshuffled folds would then be contiguous blocks of them)."""
    from sklearn.model_selection import StratifiedKFold

    smallest = min(labels.count(label) for label in set(labels))
    splitter = StratifiedKFold(n_splits=max(2, min(folds, smallest)), shuffle=True, random_state=0)
    return list(splitter.split(labels, labels))


def cv_splits(labels: list[str], grouping: Grouping, *, folds: int = CV_FOLDS):
    """The cross-validation's splits: grouped by ``grouping``, or stratified over rows."""
    if grouping.column is None:
        return _row_splits(labels, folds)
    return _group_splits(labels, list(grouping.groups), folds)


def build_pipeline(labels: list[str], groups: list[str] | None = None, *, featurizer=None):
    """The unfitted pipeline: features, then a linear SVM with calibrated probabilities.

    A linear SVM trains in a fraction of a second where multinomial logistic regression took
    over ten on the bundled labels, with the same grouped-CV macro-F1. Calibration: one sigmoid
    per label (then normalised), fitted on the SVM's out-of-fold decision values over
    stratified row folds; the SVM itself is refitted on all rows. ``groups`` is not used.

    Why row folds and not the cross-validation's groups: when groups and labels go together
    (a corpus, a source or a thread tends to one label, which is the normal case in real data),
    a grouped calibration sees a label's decision values only on groups that never taught it,
    learns "this label does not transfer" and all but stops predicting it
    (``benchmarks/calibration.py`` measures this). Grouping stays where it belongs: in the
    evaluation, whose out-of-fold probabilities also check the calibration
    (:func:`training.evaluate.compute_calibration`) and choose the operating points.
    """
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.pipeline import Pipeline
    from sklearn.svm import LinearSVC

    from training.features import PipelineFeaturizer

    linear = LinearSVC(C=SVM_C, class_weight="balanced", random_state=0)  # reproducible fits
    calibrated = CalibratedClassifierCV(
        linear, method="sigmoid", cv=_row_splits(labels, CALIBRATION_FOLDS), ensemble=False
    )
    return Pipeline([("features", featurizer or PipelineFeaturizer()), ("classifier", calibrated)])


def fit(texts: list[str], labels: list[str], groups: list[str] | None = None, *, featurizer=None):
    """Fit a new pipeline on the given rows (``featurizer``: a :class:`Featurizer` other than
    the default, for experiments such as the benchmark's variants; ``groups`` is not used, see
    :func:`build_pipeline`)."""
    return build_pipeline(labels, featurizer=featurizer).fit(texts, labels)


def out_of_fold_proba(
    dataset: Dataset,
    *,
    folds: int = CV_FOLDS,
    grouping: Grouping | None = None,
    progress: Callable[[str], None] | None = None,
    featurizer: Callable[[], Any] | None = None,
):
    """Probabilities of every row from a model that saw none of its group.

    Parameters
    ----------
    dataset : Dataset
    folds : int
    grouping : Grouping, optional
        [default: :func:`training.dataset.grouping` of ``dataset``]
    progress : callable, optional
        Told, one line each, as each fold starts.
    featurizer : callable, optional
        Makes each fold's unfitted featurizer [default: the default featurizer].

    Returns
    -------
    numpy.ndarray
        One row per record, columns in :data:`classifier.LABELS` order (a label missing from a
        fold's training rows gets probability 0 in that fold).
    """
    import numpy as np

    texts, labels = dataset.texts, dataset.labels
    grouping = grouping or group_rows(dataset)
    proba = np.zeros((len(texts), len(LABELS)))
    splits = cv_splits(labels, grouping, folds=folds)
    for n, (train_idx, test_idx) in enumerate(splits, 1):
        if progress:
            progress(f"cross-validation fold {n} of {len(splits)} ({len(train_idx)} rows) ...")
        pipeline = fit(
            [texts[i] for i in train_idx],
            [labels[i] for i in train_idx],
            featurizer=featurizer() if featurizer else None,
        )
        columns = [LABELS.index(label) for label in pipeline.classes_]
        proba[np.ix_(test_idx, columns)] = pipeline.predict_proba([texts[i] for i in test_idx])
    return proba


def cross_validate(
    dataset: Dataset, *, folds: int = CV_FOLDS, grouping: Grouping | None = None
) -> Metrics:
    """Cross-validation metrics: see :func:`out_of_fold_proba`."""
    proba = out_of_fold_proba(dataset, folds=folds, grouping=grouping)
    return compute_metrics(dataset.labels, [LABELS[i] for i in proba.argmax(axis=1)])


def check_trainable(dataset: Dataset) -> None:
    """Refuse data that cannot train a three-label model.

    Raises
    ------
    LabelError
        A label has fewer than :data:`MIN_ROWS_PER_LABEL` rows.
    """
    for label in LABELS:
        count = dataset.labels.count(label)
        if count < MIN_ROWS_PER_LABEL:
            raise LabelError(
                f"{', '.join(dataset.files)}: {count} rows labelled '{label}'; training needs at "
                f"least {MIN_ROWS_PER_LABEL} of each label"
            )


def _previous_macro_f1(folder: Path) -> float | None:
    """The grouped-CV macro-F1 of the model already at ``folder``, if any."""
    try:
        return read_manifest(folder).get("cv_metrics", {}).get("macro_f1")
    except ModelError:
        return None


def _training_data(dataset: Dataset) -> dict[str, Any]:
    """What the manifest records of the rows a model was trained on."""
    return {
        "sha256": dataset.sha256,
        "fingerprint": dataset.fingerprint,
        "rows": len(dataset.records),
        "files": [Path(f).name for f in dataset.files],
        "label_counts": {label: dataset.labels.count(label) for label in LABELS},
        "documents": len(set(dataset.groups)),
    }


def _manifest(
    dataset: Dataset,
    grouping: Grouping,
    metrics: Metrics,
    calibration: Any,
    points: dict[str, Any],
    rows: int,
) -> dict[str, Any]:
    """The training facts of a model's manifest."""
    folds = len(cv_splits(dataset.labels, grouping))
    how = f"grouped by '{grouping.column}'" if grouping.column else "stratified over rows"
    return {
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "training_data": _training_data(dataset),
        "grouping": grouping.to_dict(),
        "cv": f"{folds}-fold, {how}",
        "cv_metrics": metrics.to_dict(),
        "calibration": calibration.to_dict(),
        "operating_points": {name: point.to_dict() for name, point in points.items()},
        "out_of_fold": {"proba": OOF_PROBA, "gold": OOF_GOLD, "rows": rows},
    }


def _embedded_featurizers() -> Callable[[], Any]:
    """A maker of TF-IDF + embedding featurizers sharing one encoding cache (the encoder is
    checked now, before any fold is fitted)."""
    from classifier.embeddings import training_spec
    from training.features import EmbeddedFeaturizer, PipelineFeaturizer

    spec = training_spec()
    cache: dict[str, Any] = {}
    return lambda: EmbeddedFeaturizer(PipelineFeaturizer(), spec, cache)


def _cross_validate_and_fit(
    dataset: Dataset,
    grouping: Grouping,
    say: Callable[[str], None],
    make: Callable[[], Any] | None,
) -> tuple[Any, Any]:
    """The out-of-fold probabilities and the pipeline fitted on every row."""
    try:
        proba = out_of_fold_proba(dataset, grouping=grouping, progress=say, featurizer=make)
        say(f"fitting on all {len(dataset.records)} rows ...")
        pipeline = fit(dataset.texts, dataset.labels, featurizer=make() if make else None)
    except ValueError as exc:  # scikit-learn's verdict on data it cannot fit
        raise LabelError(
            f"{', '.join(dataset.files)}: cannot train on these rows ({exc})"
        ) from None
    return proba, pipeline


def train(
    dataset: Dataset,
    output: str | Path,
    *,
    group_by: str | None = None,
    progress: Callable[[str], None] | None = None,
    embeddings: bool = False,
) -> TrainResult:
    """Cross-validate, fit on all rows and save the model with its manifest.

    The out-of-fold probabilities and gold labels (indices into LABELS) are kept beside the
    model; the calibration report and the default operating points come from them.

    Parameters
    ----------
    dataset : Dataset
        Validated labelled rows (see :func:`training.dataset.load_dataset`).
    output : str or Path
        Model folder.
    group_by : str, optional
        The column the cross-validation keeps together [default: :func:`~training.dataset.grouping`].
    progress : callable, optional
        Told, one line each, as each stage starts (folds, the final fit, saving).
    embeddings : bool
        Add the sentence-embedding block (:mod:`classifier.embeddings`; needs the
        ``embeddings`` extra or ``$CREDSCORE_ENCODER``): each text is encoded once, and the
        folds and the final fit share the encodings.

    Returns
    -------
    TrainResult

    Raises
    ------
    LabelError, OptionError
        Too few rows of a label; a ``group_by`` column with one value, or that no row has.
    ModelError
        ``embeddings`` and no encoder can be had here.
    """
    import numpy as np

    check_trainable(dataset)
    make = _embedded_featurizers() if embeddings else None
    started, folder = time.perf_counter(), Path(output)
    previous = _previous_macro_f1(folder)
    grouping = group_rows(dataset, group_by)
    say = progress or (lambda line: None)
    proba, pipeline = _cross_validate_and_fit(dataset, grouping, say, make)
    metrics = compute_metrics(dataset.labels, [LABELS[i] for i in proba.argmax(axis=1)])
    gold = np.array([LABELS.index(label) for label in dataset.labels], dtype=np.int8)
    calibration = compute_calibration(gold, proba)
    say(f"saving {folder} ...")
    facts = _manifest(
        dataset, grouping, metrics, calibration, default_points(proba, gold), len(gold)
    )
    if make:
        facts["embedding"] = pipeline.named_steps["features"].spec.to_params()
    manifest = save_model(pipeline, folder, facts, arrays={OOF_PROBA: proba, OOF_GOLD: gold})
    seconds = time.perf_counter() - started
    return TrainResult(folder, manifest, metrics, previous, seconds, grouping, calibration)
