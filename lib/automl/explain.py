"""Which words move a candidate toward each class: the explainability report of a local job.

Linear candidates (logistic regression, SGD) are explained by their own coefficients. Any other candidate (boosted
trees, forests) is explained by a *linear surrogate*: a logistic regression trained to reproduce the candidate's
predictions from the same TF-IDF features. Its coefficients say which tokens push the candidate's answers toward
each class; its *fidelity* (how often it agrees with the candidate on the test set) says how far to trust that
reading. Tree models also report their own feature importances, mapped back to the vocabulary (class-agnostic).

For one review, :func:`token_influence` says which of its words carry the prediction (leave one word out, any
model): the review queue shows them beside the answer buttons.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.linear_model import LogisticRegression

TOP_TOKENS = 15
MIN_INFLUENCE = 0.005  # a word moving the probability by less than half a point is not listed
WORD = re.compile(r"[^\W_]+(?:'[^\W_]+)?", re.UNICODE)
SURROGATE_ROWS = 5_000


def _class_weights(coef: np.ndarray, n_classes: int) -> np.ndarray:
    """Coefficients as one row per class; a binary model's single row is +w for class 1 and −w for class 0."""
    coef = np.asarray(coef, dtype=float)
    if coef.ndim == 1:
        coef = coef[None, :]
    if coef.shape[0] == 1 and n_classes == 2:
        return np.vstack([-coef[0], coef[0]])
    return coef


def _top(weights: np.ndarray, vocabulary: np.ndarray, count: int) -> list[dict[str, Any]]:
    order = np.argsort(-weights, kind="stable")[:count]
    return [{"token": str(vocabulary[i]), "weight": round(float(weights[i]), 5)} for i in order if weights[i] > 0]


def explain(
    model: Any,
    vocabulary: Sequence[str],
    classes: Sequence[str],
    x_train: Any,
    train_pred: np.ndarray,
    x_test: Any,
    test_pred: np.ndarray,
    *,
    seed: int = 0,
    top: int = TOP_TOKENS,
) -> dict[str, Any]:
    """The most influential tokens per class for one candidate (``model`` is its fitted scikit-learn-style model)."""
    words = np.asarray(vocabulary, dtype=object)
    out: dict[str, Any] = {"classes": [], "importance": [], "method": "", "fidelity": None, "note": ""}
    coef = getattr(model, "coef_", None)
    if coef is not None and np.asarray(coef).shape[-1] == len(words):
        out["method"] = "coefficients"
        weights = _class_weights(np.asarray(coef), len(classes))
        model_classes = [int(c) for c in getattr(model, "classes_", range(len(classes)))]
    else:
        out["method"] = "surrogate"
        rows = np.random.default_rng(seed).permutation(x_train.shape[0])[:SURROGATE_ROWS]
        target = np.asarray(train_pred)[rows]
        present = np.unique(target)
        if len(present) < 2:
            out["note"] = "The candidate predicts a single class, so no token moves it toward another one."
            weights = np.zeros((0, len(words)))
            model_classes = []
        else:
            surrogate = LogisticRegression(C=10.0, max_iter=300)
            surrogate.fit(x_train[rows], target)
            weights = _class_weights(surrogate.coef_, len(surrogate.classes_))
            model_classes = [int(c) for c in surrogate.classes_]
            out["fidelity"] = float(np.mean(surrogate.predict(x_test) == np.asarray(test_pred)))
        importances = getattr(model, "feature_importances_", None)
        if importances is not None and len(importances) == len(words):
            values = np.asarray(importances, dtype=float)
            total = values.sum() or 1.0
            order = np.argsort(-values, kind="stable")[:top]
            out["importance"] = [
                {"token": str(words[i]), "importance": round(float(values[i] / total), 5)}
                for i in order
                if values[i] > 0
            ]
    for row, index in enumerate(model_classes):
        out["classes"].append({"class": classes[index], "tokens": _top(weights[row], words, top)})
    return out


# -- why: the words of one review that carry its prediction --------------------------------------------------------
def token_influence(model: Any, text: str, cls: str, *, top: int = 8, max_words: int = 80) -> list[dict[str, Any]]:
    """The words whose removal lowers the model's probability of ``cls`` the most (leave-one-word-out: any model).

    Each distinct word of the review (at most ``max_words``) is taken out everywhere it occurs and the review scored
    again, all in one ``predict_proba`` call; a word that moves the answer toward ``cls`` has a positive weight.
    """
    classes = list(model.classes)
    if cls not in classes or not isinstance(text, str) or not text.strip():
        return []
    index = classes.index(cls)
    words: list[str] = []
    for match in WORD.finditer(text):
        word = match.group(0).lower()
        if word not in words:
            words.append(word)
        if len(words) >= max_words:
            break
    if not words:
        return []
    variants = [re.sub(rf"(?<![^\W_]){re.escape(w)}(?![^\W_])", " ", text, flags=re.IGNORECASE) for w in words]
    proba = np.asarray(model.predict_proba([text, *variants]), dtype=float)
    base = proba[0, index]
    drops = base - proba[1:, index]
    order = np.argsort(-drops, kind="stable")
    return [{"token": words[i], "weight": round(float(drops[i]), 4)} for i in order[:top] if drops[i] >= MIN_INFLUENCE]
