"""SageMaker Clarify's pre-training bias metrics, computed from counts, and the course's balancing.

**Conventions (Clarify's).** The facet is a column (here the category); for each of its values ``v`` — Clarify's
``facet_values_or_threshold=[v]`` — the *sensitive facet* **d** is the rows whose facet is ``v`` and facet **a** is
every other row. The label of interest (``label_values_or_threshold``, here positive sentiment) splits the labels
into positive and not positive, exactly as Clarify's bias report does before it computes the metrics; pass
``label_space="all"`` to compare the full label distributions (every sentiment value) instead.

With ``n_a``, ``n_d`` the rows of each facet, ``q = n⁽¹⁾ / n`` the share of the label of interest in a facet and
``P_a(y)``, ``P_d(y)`` the share of label value ``y`` in each facet:

* CI  = (n_a − n_d) / (n_a + n_d)                       class imbalance, in [−1, 1]
* DPL = q_a − q_d                                        difference in proportions of labels, in [−1, 1]
* KL  = Σ_y P_a(y) · ln(P_a(y) / P_d(y))                 Kullback-Leibler divergence of P_a from P_d, ≥ 0
* JS  = ½ [KL(P_a ‖ P) + KL(P_d ‖ P)], P = ½ (P_a + P_d)  Jensen-Shannon divergence, in [0, ln 2]
* LP  = (Σ_y |P_a(y) − P_d(y)|²)^½                       L2 norm of the difference, in [0, √2]
* TVD = ½ Σ_y |P_a(y) − P_d(y)|                          total variation distance, in [0, 1]
* KS  = max_y |P_a(y) − P_d(y)|                          Kolmogorov-Smirnov distance, in [0, 1]

Logarithms are natural; sums run over every label value seen in either facet, with 0 · ln 0 = 0. These are the
documentation's definitions: KL is +∞ when a label value occurs in facet a but never in d (its documented range
is [0, ∞)). The ``smclarify`` code instead drops label values missing from either facet before summing
(``pdfs_aligned_nonzero``); the two agree whenever both facets have every label value, which is the usual case
with positive vs not positive. Rows with no facet value or no label are left out, and a metric that is undefined
(one facet empty) is NaN.

Everything starts from counts by facet × label — a GROUP BY on the engine — so it works on any number of rows.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import pandas as pd

from lib.values import plain

LabelSpace = Literal["binary", "all"]
METRICS: tuple[str, ...] = ("CI", "DPL", "KL", "JS", "LP", "TVD", "KS")

METRIC_NAMES: dict[str, str] = {
    "CI": "Class imbalance",
    "DPL": "Difference in proportions of labels",
    "KL": "Kullback-Leibler divergence",
    "JS": "Jensen-Shannon divergence",
    "LP": "L2 norm",
    "TVD": "Total variation distance",
    "KS": "Kolmogorov-Smirnov distance",
}
METRIC_HELP: dict[str, str] = {
    "CI": "(n_a − n_d)/(n_a + n_d). Above 0: this category has fewer reviews than all the others together.",
    "DPL": "q_a − q_d, q = share with the label of interest. Above 0: this category has fewer positive reviews.",
    "KL": "Σ P_a ln(P_a/P_d): how far the others' label mix is from this category's. 0 = the same.",
    "JS": "Symmetric, bounded version of KL (at most ln 2 ≈ 0.693). 0 = the same label mix.",
    "LP": "Euclidean distance between the two label distributions (at most √2). 0 = the same.",
    "TVD": "Half the L1 distance: the share of labels that differs between the two (0 to 1).",
    "KS": "The largest gap in any one label value's share between the two (0 to 1).",
}
# |value| at which the colour in the metrics table is at its strongest.
FULL_SHADE: dict[str, float] = {"CI": 1.0, "DPL": 0.2, "KL": 0.1, "JS": 0.025, "LP": 0.25, "TVD": 0.2, "KS": 0.2}


def matches(a: Any, b: Any) -> bool:
    """Is label value ``a`` the label of interest ``b``? Booleans match booleans only (True is not 1 here)."""
    a, b = plain(a), plain(b)
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    try:
        return bool(a == b)
    except (TypeError, ValueError):
        return False


def _collapse(counts: Mapping[Any, int], positive: Any, label_space: LabelSpace) -> dict[Any, int]:
    if label_space == "all":
        return {key: int(value) for key, value in counts.items()}
    out = {True: 0, False: 0}
    for key, value in counts.items():
        out[matches(key, positive)] += int(value)
    return out


def _kl(p: list[float], q: list[float]) -> float:
    """Σ p ln(p/q) with 0 · ln(0/q) = 0 and +∞ where p > 0 = q."""
    total = 0.0
    for x, y in zip(p, q, strict=True):
        if x == 0:
            continue
        if y == 0:
            return math.inf
        total += x * math.log(x / y)
    return total


def pretraining_metrics(
    counts_a: Mapping[Any, int], counts_d: Mapping[Any, int], positive: Any, label_space: LabelSpace = "binary"
) -> dict[str, float]:
    """CI, DPL, KL, JS, LP, TVD and KS for facet a (label value -> rows) against the sensitive facet d."""
    n_a = sum(int(v) for v in counts_a.values())
    n_d = sum(int(v) for v in counts_d.values())
    nan = float("nan")
    out = dict.fromkeys(METRICS, nan)
    if n_a + n_d == 0:
        return out
    out["CI"] = (n_a - n_d) / (n_a + n_d)
    if n_a == 0 or n_d == 0:
        return out
    pos_a = sum(int(v) for k, v in counts_a.items() if matches(k, positive))
    pos_d = sum(int(v) for k, v in counts_d.items() if matches(k, positive))
    out["DPL"] = pos_a / n_a - pos_d / n_d
    a = _collapse(counts_a, positive, label_space)
    d = _collapse(counts_d, positive, label_space)
    keys = list(dict.fromkeys([*a, *d]))
    p_a = [a.get(k, 0) / n_a for k in keys]
    p_d = [d.get(k, 0) / n_d for k in keys]
    mixture = [(x + y) / 2 for x, y in zip(p_a, p_d, strict=True)]
    diffs = [abs(x - y) for x, y in zip(p_a, p_d, strict=True)]
    out["KL"] = _kl(p_a, p_d)
    out["JS"] = 0.5 * (_kl(p_a, mixture) + _kl(p_d, mixture))
    out["LP"] = math.sqrt(sum(x * x for x in diffs))
    out["TVD"] = 0.5 * sum(diffs)
    out["KS"] = max(diffs)
    return out


def facet_metrics(
    cells: pd.DataFrame,
    positive: Any,
    *,
    facet: str = "category",
    label: str = "sentiment",
    count: str = "reviews",
    label_space: LabelSpace = "binary",
) -> pd.DataFrame:
    """One row per facet value: its reviews, share, share with the label of interest, and the seven metrics.

    ``cells`` holds counts by facet × label (rows with a missing facet or label are ignored). Each facet value in
    turn is the sensitive facet d; all other rows are facet a.
    """
    usable = cells[cells[facet].notna() & cells[label].notna()]
    by_facet: dict[Any, dict[Any, int]] = {}
    for facet_value, label_value, n in zip(usable[facet], usable[label], usable[count], strict=True):
        key = plain(label_value)
        bucket = by_facet.setdefault(facet_value, {})
        bucket[key] = bucket.get(key, 0) + int(n)
    total: dict[Any, int] = {}
    for bucket in by_facet.values():
        for key, n in bucket.items():
            total[key] = total.get(key, 0) + n
    grand = sum(total.values())
    rows = []
    for facet_value in sorted(by_facet, key=str):
        d = by_facet[facet_value]
        a = {key: total[key] - d.get(key, 0) for key in total}
        n_d = sum(d.values())
        positives = sum(n for key, n in d.items() if matches(key, positive))
        metrics = pretraining_metrics(a, d, positive, label_space)
        rows.append(
            {
                "facet": facet_value,
                "reviews": n_d,
                "share": n_d / grand if grand else float("nan"),
                "positive_share": positives / n_d if n_d else float("nan"),
                **metrics,
            }
        )
    columns = ["facet", "reviews", "share", "positive_share", *METRICS]
    return pd.DataFrame(rows, columns=columns)


def shade(metric: str, value: float) -> float:
    """0..1: how strongly a value stands out, for colouring the metrics table."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return 0.0
    return min(1.0, abs(value) / FULL_SHADE[metric])


def reading(metric: str, row: Mapping[str, Any], facet_label: str = "this category") -> str:
    """One plain-language sentence about a facet's value of one metric."""
    value = row[metric]
    name = str(row.get("facet", facet_label))
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return f"Not defined for {name}: it needs reviews both in {name} and in the other categories."
    if metric == "CI":
        share = row["share"]
        if abs(value) < 0.1:
            judgement = "about as many reviews as all the other categories together"
        elif value > 0:
            judgement = "far fewer reviews than the rest" if value > 0.5 else "fewer reviews than the rest"
        else:
            judgement = "more reviews than all the others together"
        return f"{name} holds {share:.1%} of the reviews: {judgement}."
    if metric == "DPL":
        q_d = row["positive_share"]
        q_a = q_d + value
        if abs(value) < 0.02:
            judgement = "about the same"
        elif value > 0:
            judgement = "fewer positive reviews than elsewhere"
        else:
            judgement = "more positive reviews than elsewhere"
        return f"{q_d:.1%} of {name} reviews are positive against {q_a:.1%} in the rest: {judgement}."
    if metric == "KL" and math.isinf(value):
        return f"Infinite: a label value occurs in the other categories but never in {name}."
    if metric == "KL":
        return f"The other categories' label mix diverges from {name}'s by {value:.4f} nats (0 = identical mix)."
    if metric == "JS":
        return f"{name}'s label mix and the rest's differ by {value:.4f} (0 = identical, at most 0.693)."
    if metric == "LP":
        return (
            f"The two label distributions are {value:.3f} apart in Euclidean distance (0 = identical, at most 1.414)."
        )
    if metric == "TVD":
        return f"{value:.1%} of the label mix would have to move to make {name} look like the rest."
    if metric == "KS":
        return f"The largest gap in one label value's share between {name} and the rest is {value:.1%}."
    raise KeyError(metric)


# -- balancing -----------------------------------------------------------------------------------------------------
BalanceBy = Literal["sentiment", "category_sentiment"]


@dataclass(frozen=True)
class BalancePlan:
    """What balancing does to the counts, before anything is written.

    ``by="sentiment"`` (the course's way): each sentiment class is downsampled to the smallest class, so the
    table keeps ``classes × cell_size`` rows and the categories keep their natural mix; ``after`` then holds the
    *expected* counts per category × sentiment (each class's categories scaled alike, rounded so every class
    sums to ``cell_size``). ``by="category_sentiment"``: every non-empty category × sentiment cell is cut to the
    smallest cell, and ``after`` is exact.
    """

    cell_size: int
    before: pd.DataFrame  # facet, label, reviews (cells with a facet and a label)
    after: pd.DataFrame
    rows_before: int
    rows_after: int
    by: BalanceBy = "category_sentiment"
    groups: int = 0  # sentiment classes or cells that are cut to cell_size


def balance_plan(
    cells: pd.DataFrame,
    *,
    facet: str = "category",
    label: str = "sentiment",
    count: str = "reviews",
    by: BalanceBy = "category_sentiment",
) -> BalancePlan:
    if by == "sentiment":
        return _by_label(cells, facet=facet, label=label, count=count)
    usable = cells[cells[facet].notna() & cells[label].notna()]
    before = usable.groupby([facet, label], as_index=False)[count].sum()
    before = before[before[count] > 0].reset_index(drop=True)
    cell_size = int(before[count].min()) if len(before) else 0
    after = before.copy()
    after[count] = cell_size
    return BalancePlan(cell_size, before, after, int(before[count].sum()), int(after[count].sum()), by, len(before))


def _by_label(cells: pd.DataFrame, *, facet: str, label: str, count: str) -> BalancePlan:
    labelled = cells[cells[label].notna()]
    classes = labelled.groupby(label)[count].sum()
    classes = classes[classes > 0]
    cell_size = int(classes.min()) if len(classes) else 0
    before = labelled[labelled[facet].notna()].groupby([facet, label], as_index=False)[count].sum()
    before = before[before[count] > 0].reset_index(drop=True)
    after_parts = []
    for value, group in before.groupby(label, sort=False):
        total = int(classes.get(value, 0))
        keep = cell_size * float(group[count].sum()) / total if total else 0.0  # rows of this class with a facet
        exact = group[count].astype(float) * (keep / float(group[count].sum()))
        floors = exact.map(math.floor).astype(int)
        short = round(keep) - int(floors.sum())
        order = (exact - floors).sort_values(ascending=False).index[: max(short, 0)]
        floors.loc[order] += 1
        part = group.copy()
        part[count] = floors
        after_parts.append(part)
    after = pd.concat(after_parts).sort_index() if after_parts else before.copy()
    after = after[after[count] > 0].reset_index(drop=True)
    return BalancePlan(
        cell_size,
        before,
        after,
        int(classes.sum()),
        cell_size * len(classes),
        "sentiment",
        len(classes),
    )


def before_after(
    plan: BalancePlan,
    positive: Any,
    *,
    facet: str = "category",
    label: str = "sentiment",
    label_space: LabelSpace = "binary",
) -> pd.DataFrame:
    """Per metric: the largest |value| over the facet values before and after balancing."""
    before = facet_metrics(plan.before, positive, facet=facet, label=label, label_space=label_space)
    after = facet_metrics(plan.after, positive, facet=facet, label=label, label_space=label_space)
    rows = []
    for metric in METRICS:
        rows.append(
            {
                "metric": metric,
                "name": METRIC_NAMES[metric],
                "largest before": before[metric].abs().max() if len(before) else float("nan"),
                "largest after": after[metric].abs().max() if len(after) else float("nan"),
            }
        )
    return pd.DataFrame(rows)
