"""How a candidate is judged on the test set: the numbers an analyst reads out in a meeting.

Everything is computed with scikit-learn from the true labels and the candidate's class probabilities, then
made small enough to store as JSON and draw quickly: curves keep at most :data:`CURVE_POINTS` points (the area
under each curve is computed on the full curve first).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn import metrics as skm

CURVE_POINTS = 101
OBJECTIVES = {"accuracy": "Accuracy", "f1_macro": "Macro F1"}


def objective_value(objective: str, y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """The job's objective on one split: accuracy (what Autopilot optimises by default) or macro F1."""
    if objective == "f1_macro":
        return float(skm.f1_score(y_true, y_pred, average="macro", zero_division=0))
    return float(skm.accuracy_score(y_true, y_pred))


def _grid(x: np.ndarray, y: np.ndarray) -> tuple[list[float], list[float]]:
    """A curve as at most CURVE_POINTS points, sorted by x, resampled on an even grid when it is longer."""
    order = np.argsort(x, kind="stable")
    xs, ys = np.asarray(x, dtype=float)[order], np.asarray(y, dtype=float)[order]
    if len(xs) > CURVE_POINTS:
        grid = np.linspace(float(xs[0]), float(xs[-1]), CURVE_POINTS)
        xs, ys = grid, np.interp(grid, xs, ys)
    return [round(float(v), 5) for v in xs], [round(float(v), 5) for v in ys]


def evaluate(y_true: np.ndarray, proba: np.ndarray, classes: Sequence[str]) -> dict[str, Any]:
    """Accuracy, per-class precision/recall/F1, macro F1, confusion matrix, one-vs-rest ROC and PR curves.

    ``y_true`` holds class indices (0..k-1), ``proba`` one column per class (rows need not sum to one: a linear
    model's scores work for the curves). The prediction is the column with the highest score.
    """
    y_true = np.asarray(y_true, dtype=int)
    proba = np.asarray(proba, dtype=float)
    labels = list(range(len(classes)))
    y_pred = proba.argmax(axis=1)
    precision, recall, f1, support = skm.precision_recall_fscore_support(y_true, y_pred, labels=labels, zero_division=0)
    per_class = [
        {
            "class": name,
            "precision": float(precision[i]),
            "recall": float(recall[i]),
            "f1": float(f1[i]),
            "support": int(support[i]),
        }
        for i, name in enumerate(classes)
    ]
    roc: list[dict[str, Any]] = []
    pr: list[dict[str, Any]] = []
    for i, name in enumerate(classes):
        positive = (y_true == i).astype(int)
        if positive.min() == positive.max():  # a class absent from (or alone in) the test set has no curve
            continue
        fpr, tpr, _ = skm.roc_curve(positive, proba[:, i])
        prec, rec, _ = skm.precision_recall_curve(positive, proba[:, i])
        x_roc, y_roc = _grid(fpr, tpr)
        x_pr, y_pr = _grid(rec, prec)
        roc.append({"class": name, "auc": float(skm.auc(fpr, tpr)), "fpr": x_roc, "tpr": y_roc})
        pr.append(
            {
                "class": name,
                "average_precision": float(skm.average_precision_score(positive, proba[:, i])),
                "auc": float(skm.auc(rec, prec)),
                "prevalence": float(positive.mean()),
                "recall": x_pr,
                "precision": y_pr,
            }
        )
    return {
        "rows": len(y_true),
        "accuracy": float(skm.accuracy_score(y_true, y_pred)),
        "balanced_accuracy": float(skm.balanced_accuracy_score(y_true, y_pred)),
        "f1_macro": float(np.mean(f1)),
        "f1_weighted": float(skm.f1_score(y_true, y_pred, labels=labels, average="weighted", zero_division=0)),
        "roc_auc_macro": float(np.mean([curve["auc"] for curve in roc])) if roc else None,
        "classes": list(classes),
        "per_class": per_class,
        "confusion_matrix": skm.confusion_matrix(y_true, y_pred, labels=labels).tolist(),
        "roc": roc,
        "pr": pr,
    }


def majority_baseline(y_train: np.ndarray, y_test: np.ndarray, classes: Sequence[str]) -> dict[str, Any]:
    """What always answering the most common training class scores on the test set: the bar to beat."""
    counts = np.bincount(np.asarray(y_train, dtype=int), minlength=len(classes))
    majority = int(counts.argmax())
    y_pred = np.full(len(y_test), majority)
    return {
        "class": classes[majority],
        "accuracy": float(skm.accuracy_score(y_test, y_pred)),
        "f1_macro": float(
            skm.f1_score(y_test, y_pred, labels=list(range(len(classes))), average="macro", zero_division=0)
        ),
    }
