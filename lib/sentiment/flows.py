"""The flows the Sentiment page and the CLI run: the course's preparation, the page's numbers as one dict, and
everything the page computes for a table (for the benchmark)."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

import pandas as pd

from lib.catalog import TableDef
from lib.sentiment import bias
from lib.sentiment.columns import SentimentDefinition, detect_columns
from lib.sentiment.queries import counts_sql, lengths_sql, missing_sql, monthly_sql
from lib.sentiment.spec import SMALL_CATEGORY_MAX, Runner, Spec
from lib.sentiment.tidy import (
    Missing,
    average_per_category,
    category_totals,
    default_positive,
    small_categories,
    tidy_counts,
    tidy_lengths,
    tidy_missing,
    tidy_monthly,
)


@dataclass(frozen=True)
class Step:
    what: str
    removed: int
    left: int


@dataclass(frozen=True)
class Prepared:
    """The spec the charts use, its counts, the small categories, and the preparation's steps (if it ran)."""

    spec: Spec
    counts: pd.DataFrame
    small: list[str]
    missing: Missing
    steps: list[Step]

    @property
    def reviews(self) -> int:
        return int(self.counts["reviews"].sum())


def prepare(spec: Spec, run: Runner, *, course: bool = False, exclude_small: bool = False) -> Prepared:
    """The course's preparation as one switch, on the engine.

    With ``course``: reviews without a sentiment source (rating or label), a text or a category are left out —
    the notebook's ``dropna()`` after renaming the three columns it keeps — and then categories with
    ``SMALL_CATEGORY_MAX`` or fewer reviews are dropped (the notebook's ``groupby(...).filter(len > 10)``).
    Each step comes with the count it removed. Without it, missing values stay counted; ``exclude_small`` drops
    the small categories alone.
    """
    missing = tidy_missing(run(missing_sql(spec)), spec)
    if course:
        spec = spec.with_filters(replace(spec.filters, complete=True))
    counts = tidy_counts(run(counts_sql(spec)), spec)
    small = small_categories(counts)
    steps: list[Step] = []
    if course:
        what = "label" if spec.definition == "label" else "rating"
        left = missing.reviews - missing.rating
        steps.append(Step(f"without a {what}", missing.rating, left))
        if spec.mapping.text:
            left -= missing.step_text
            steps.append(Step("without text", missing.step_text, left))
        if spec.mapping.category:
            left -= missing.step_category
            steps.append(Step("without a category", missing.step_category, left))
    if (course or exclude_small) and small:
        removed = int(counts.loc[counts["category"].isin(small), "reviews"].sum())
        spec = spec.with_filters(replace(spec.filters, exclude_categories=tuple(small)))
        counts = tidy_counts(run(counts_sql(spec)), spec)
        if course:
            steps.append(
                Step(f"in categories with ≤ {SMALL_CATEGORY_MAX} reviews", removed, int(counts["reviews"].sum()))
            )
    return Prepared(spec, counts, small, missing, steps)


def _number(value: Any) -> float | int | str | None:
    """A JSON-ready number: NaN (undefined) is null, ±infinity the string "inf"/"-inf"."""
    if value is None or value is pd.NA:
        return None
    value = value.item() if hasattr(value, "item") else value
    if isinstance(value, float):
        if math.isnan(value):
            return None
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
    return value  # type: ignore[no-any-return]


def _key(value: Any) -> str:
    value = value.item() if hasattr(value, "item") else value
    if value is None:
        return "null"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def summary(spec: Spec, run: Runner, *, course: bool = False, exclude_small: bool = False) -> dict[str, Any]:
    """The Sentiment page's numbers as one JSON-ready dict (``python -m lib sentiment summary``).

    Same SQL as the page, same arithmetic: ``reviews``; ``by_sentiment`` (value -> reviews); ``missing`` (rating,
    text, category, before the preparation); ``words`` (mean, median, max, from the text or the word-count
    column); ``categories`` (name -> reviews, average_sentiment); ``bias`` (category -> Clarify's CI, DPL, KL,
    JS, LP, TVD, KS with positive as the label of interest); ``steps`` (what the course's preparation removed).
    """
    prepared = prepare(spec, run, course=course, exclude_small=exclude_small)
    spec, counts = prepared.spec, prepared.counts
    by_sentiment: dict[str, int] = {}
    for value, n in zip(counts["sentiment"], counts["reviews"], strict=True):
        by_sentiment[_key(value)] = by_sentiment.get(_key(value), 0) + int(n)
    out: dict[str, Any] = {
        "table": spec.table.qualified_name,
        "definition": spec.definition,
        "course": course,
        "reviews": prepared.reviews,
        "by_sentiment": dict(sorted(by_sentiment.items())),
        "missing": {
            "rating": prepared.missing.rating,
            "text": prepared.missing.text,
            "category": prepared.missing.category,
        },
        "steps": [{"what": st.what, "removed": st.removed, "left": st.left} for st in prepared.steps],
        "columns": spec.mapping.as_dict(),
    }
    if spec.mapping.text or spec.mapping.words:
        lengths = tidy_lengths(run(lengths_sql(spec)), spec)
        overall = lengths.percentiles.set_index("sentiment")
        if "all reviews" in overall.index:
            row = overall.loc["all reviews"]
            out["words"] = {"mean": _number(row["mean"]), "median": _number(row["p50"]), "max": _number(row["max"])}
        else:
            out["words"] = {"mean": None, "median": None, "max": None}
        out["words"]["reviews_without_text"] = lengths.missing
    if spec.mapping.category:
        categories: dict[str, dict[str, Any]] = {}
        totals = category_totals(counts)
        averages = average_per_category(counts).set_index("category") if spec.numeric_sentiment else None
        for name, n in zip(totals["category"], totals["reviews"], strict=True):
            average = averages["average"].get(name) if averages is not None else None
            categories[str(name)] = {"reviews": int(n), "average_sentiment": _number(average)}
        out["categories"] = categories
        positive = (
            1 if spec.definition != "label" else default_positive(list(counts["sentiment"].dropna()), spec.definition)
        )
        metrics = bias.facet_metrics(counts, positive)
        out["label_of_interest"] = _number(positive)
        out["bias"] = {
            str(row["facet"]): {m: _number(row[m]) for m in bias.METRICS} for row in metrics.to_dict("records")
        }
    return out


# -- the whole page's data, for the benchmark ---------------------------------------------------------------------
def page_data(table: TableDef, run: Runner, definition: SentimentDefinition = "three_class") -> dict[str, Any]:
    """Everything the Sentiment page computes for a table before any filter is set; returns a small summary.

    ``run`` answers the page's SQL: the benchmark passes the page's own cached path (``lib.data``), so a second
    call is answered from the cache; a test passes a backend's ``run_query``. The SQL is the page's SQL,
    character for character, so cache entries are shared with the page.
    """
    spec = Spec(table, detect_columns(table), definition)
    prepared = prepare(spec, run)
    counts = prepared.counts
    summary: dict[str, Any] = {"reviews": prepared.reviews, "queries": 2, "rows_to_page": len(counts) + 1}
    if spec.mapping.text or spec.mapping.words:
        frame = run(lengths_sql(spec))
        tidy_lengths(frame, spec)
        summary["queries"] += 1
        summary["rows_to_page"] += len(frame)
        summary["words_from"] = "column" if spec.mapping.words else "text"
    if spec.mapping.date:
        frame = run(monthly_sql(spec))
        tidy_monthly(frame, spec)
        summary["queries"] += 1
        summary["rows_to_page"] += len(frame)
    if spec.mapping.category:
        positive = default_positive(list(counts["sentiment"].dropna().unique()), definition)
        summary["facets"] = len(bias.facet_metrics(counts, positive))
        summary["balanced_rows"] = bias.balance_plan(counts, by="sentiment").rows_after
    return summary
