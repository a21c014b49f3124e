"""From the small aggregate frames to the page's numbers and chart data: sentiment names, null counts, ranges,
per-sentiment and per-category tables, the words-per-review percentiles and histogram, the monthly series."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import pandas as pd

from lib.sentiment.columns import SentimentDefinition
from lib.sentiment.spec import SMALL_CATEGORY_MAX, Spec

WORD_BINS: tuple[int, ...] = (0, 1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024)
PERCENTILES: tuple[float, ...] = (0.1, 0.25, 0.5, 0.75, 0.9, 0.99)

SENTIMENT_NAMES = ("negative", "neutral", "positive")
MISSING_SENTIMENT = "no sentiment"
_NAME_BY_TEXT = {
    "negative": "negative",
    "neg": "negative",
    "neutral": "neutral",
    "neu": "neutral",
    "positive": "positive",
    "pos": "positive",
}


def sentiment_name(value: Any, definition: SentimentDefinition) -> str:
    """The name a chart shows for a sentiment value: negative / neutral / positive where the value says so."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return MISSING_SENTIMENT
    if hasattr(value, "item"):
        value = value.item()
    if definition == "binary":
        return "positive" if value == 1 else "negative"
    if isinstance(value, bool):
        return "positive" if value else "negative"
    if isinstance(value, (int, float)):
        if definition == "three_class" or value in (-1, 0, 1):
            return {-1: "negative", 0: "neutral", 1: "positive"}.get(int(value), str(value))
        return f"{value:g}" if isinstance(value, float) else str(value)
    text = str(value).strip()
    return _NAME_BY_TEXT.get(text.lower(), text)


def sentiment_order(names: Sequence[str]) -> list[str]:
    """negative, neutral, positive first (in that order), then other labels, then the missing ones."""
    known = [n for n in SENTIMENT_NAMES if n in names]
    others = sorted({n for n in names if n not in SENTIMENT_NAMES and n != MISSING_SENTIMENT})
    missing = [MISSING_SENTIMENT] if MISSING_SENTIMENT in names else []
    return known + others + missing


def default_positive(values: Sequence[Any], definition: SentimentDefinition) -> Any:
    """The label value of interest for the bias metrics: the one named positive, else 1, else the largest."""
    present = [
        v.item() if hasattr(v, "item") else v for v in values if sentiment_name(v, definition) != MISSING_SENTIMENT
    ]
    for value in present:
        if sentiment_name(value, definition) == "positive":
            return value
    if not present:
        return None
    try:
        return max(present)
    except TypeError:
        return sorted(present, key=str)[-1]


def tidy_counts(frame: pd.DataFrame, spec: Spec) -> pd.DataFrame:
    """The counts query's result with a category column always present and a sentiment name per row."""
    out = frame.copy()
    if "category" not in out.columns:
        out.insert(0, "category", None)
    out["category"] = out["category"].astype(object).where(out["category"].notna(), None)
    out["sentiment"] = out["sentiment"].astype(object).where(out["sentiment"].notna(), None)
    out["name"] = [sentiment_name(v, spec.definition) for v in out["sentiment"]]
    for column in ("reviews", "missing_rating"):
        if column in out.columns:
            out[column] = out[column].astype("int64")
    return out


@dataclass(frozen=True)
class NullSummary:
    rows: int
    missing_sentiment: int
    missing_rating: int | None
    missing_category: int | None


def null_summary(counts: pd.DataFrame, spec: Spec) -> NullSummary:
    """Rows, and rows missing a sentiment, a rating or a category (missing text: :attr:`Lengths.missing`)."""
    rows = int(counts["reviews"].sum())
    return NullSummary(
        rows=rows,
        missing_sentiment=int(counts.loc[counts["sentiment"].isna(), "reviews"].sum()),
        missing_rating=int(counts["missing_rating"].sum()) if "missing_rating" in counts.columns else None,
        missing_category=int(counts.loc[counts["category"].isna(), "reviews"].sum()) if spec.mapping.category else None,
    )


@dataclass(frozen=True)
class Ranges:
    """The smallest and largest rating and date in the counted reviews (for the filter widgets)."""

    min_rating: float | None
    max_rating: float | None
    integer_ratings: bool
    first_date: date | None
    last_date: date | None


def ranges(counts: pd.DataFrame) -> Ranges:
    def bound(column: str, how: str) -> Any:
        if column not in counts.columns or counts[column].isna().all():
            return None
        value = counts[column].min() if how == "min" else counts[column].max()
        return value.item() if hasattr(value, "item") else value

    low, high = bound("min_rating", "min"), bound("max_rating", "max")
    integers = all(float(v).is_integer() for v in counts.get("min_rating", pd.Series(dtype=float)).dropna()) and all(
        float(v).is_integer() for v in counts.get("max_rating", pd.Series(dtype=float)).dropna()
    )
    first, last = bound("first_date", "min"), bound("last_date", "max")
    return Ranges(
        min_rating=float(low) if low is not None else None,
        max_rating=float(high) if high is not None else None,
        integer_ratings=integers,
        first_date=pd.Timestamp(first).date() if first is not None else None,
        last_date=pd.Timestamp(last).date() if last is not None else None,
    )


def category_totals(counts: pd.DataFrame) -> pd.DataFrame:
    """Reviews per category (categories with a name only), largest first, with the small ones flagged."""
    named = counts[counts["category"].notna()]
    totals = named.groupby("category")["reviews"].sum().reset_index()
    totals = totals.sort_values(["reviews", "category"], ascending=[False, True])
    totals["small"] = totals["reviews"] <= SMALL_CATEGORY_MAX
    return totals.reset_index(drop=True)


def small_categories(counts: pd.DataFrame) -> list[str]:
    totals = category_totals(counts)
    return sorted(str(c) for c in totals.loc[totals["small"], "category"])


def per_sentiment(counts: pd.DataFrame) -> pd.DataFrame:
    """Reviews per sentiment name (the missing ones included), in the standard order, with the share."""
    grouped = counts.groupby("name")["reviews"].sum().reset_index()
    order = sentiment_order(list(grouped["name"]))
    grouped = grouped.set_index("name").loc[order].reset_index()
    grouped["share"] = grouped["reviews"] / grouped["reviews"].sum() if len(grouped) else 0.0
    return grouped


def per_category(counts: pd.DataFrame) -> pd.DataFrame:
    """Reviews per category × sentiment name (rows with a category and a sentiment), plus each category's total."""
    cells = counts[counts["category"].notna() & counts["sentiment"].notna()]
    grouped = cells.groupby(["category", "name"])["reviews"].sum().reset_index()
    totals = grouped.groupby("category")["reviews"].transform("sum")
    grouped["share"] = grouped["reviews"] / totals
    grouped["category_total"] = totals
    return grouped.sort_values(["category_total", "category", "name"], ascending=[False, True, True]).reset_index(
        drop=True
    )


def average_per_category(counts: pd.DataFrame) -> pd.DataFrame:
    """Average sentiment per category (numeric sentiments only), highest first."""
    cells = counts[counts["category"].notna() & counts["sentiment"].notna()].copy()
    cells["value"] = pd.to_numeric(cells["sentiment"].map(lambda v: float(v)), errors="coerce")
    cells["weighted"] = cells["value"] * cells["reviews"]
    grouped = cells.groupby("category", as_index=False).agg(total=("weighted", "sum"), reviews=("reviews", "sum"))
    grouped["average"] = grouped["total"] / grouped["reviews"]
    return (
        grouped[["category", "average", "reviews"]]
        .sort_values(["average", "category"], ascending=[False, True])
        .reset_index(drop=True)
    )


def drop_categories(counts: pd.DataFrame, excluded: Sequence[str]) -> pd.DataFrame:
    if not excluded:
        return counts
    return counts[~counts["category"].isin(list(excluded))].reset_index(drop=True)


@dataclass(frozen=True)
class Lengths:
    percentiles: pd.DataFrame  # one row per sentiment name and "all reviews"
    histogram: pd.DataFrame  # bin, bin_label, name, reviews, share
    missing: int = 0  # reviews without text (or without a word count): not in the lengths


def bin_label(low: int) -> str:
    index = WORD_BINS.index(low)
    if index + 1 == len(WORD_BINS):
        return f"{low:,}+"
    high = WORD_BINS[index + 1] - 1
    return str(low) if high == low else f"{low}–{high}"


def _percentile(counts: pd.DataFrame, p: float) -> float:
    """The ``p`` quantile of the word counts as pandas computes it (``Series.quantile``, linear interpolation).

    ``counts`` holds (word_count, reviews) sorted by word count: the k-th smallest review (0-based) is the first
    word count whose running total of reviews exceeds k, so the quantile is exact without expanding the rows.
    """
    total = int(counts["reviews"].sum())
    cumulative = counts["reviews"].cumsum().to_numpy()
    values = counts["word_count"].to_numpy()
    position = p * (total - 1)
    low, high = math.floor(position), math.ceil(position)

    def kth(k: int) -> float:
        return float(values[int((cumulative > k).argmax())])

    below = kth(low)
    return below + (position - low) * (kth(high) - below)


def _summary(counts: pd.DataFrame) -> dict[str, float]:
    counts = counts.sort_values("word_count")
    reviews = int(counts["reviews"].sum())
    row: dict[str, float] = {"reviews": reviews, "mean": float(counts["total_words"].sum()) / reviews}
    for p in PERCENTILES:
        row[f"p{round(p * 100)}"] = _percentile(counts, p)
    row["max"] = float(counts["longest"].max())
    return row


def tidy_lengths(frame: pd.DataFrame, spec: Spec) -> Lengths:
    """Percentile table (one row per sentiment and one for all reviews) and the log2 histogram, from the counts."""
    missing = int(pd.to_numeric(frame.loc[frame["word_count"].isna(), "reviews"]).sum())
    out = frame[frame["word_count"].notna()].copy()
    for column in ("word_count", "reviews", "total_words", "longest"):
        out[column] = pd.to_numeric(out[column])
    out["name"] = [sentiment_name(v, spec.definition) for v in out["sentiment"].astype(object)]
    stats = ["reviews", "mean", *[f"p{round(p * 100)}" for p in PERCENTILES], "max"]
    names = sentiment_order(list(out["name"].unique()))
    rows = [{"sentiment": name, **_summary(out[out["name"] == name])} for name in names]
    if len(out):
        overall = out.groupby("word_count", as_index=False).agg(
            reviews=("reviews", "sum"), total_words=("total_words", "sum"), longest=("longest", "max")
        )
        rows.append({"sentiment": "all reviews", **_summary(overall)})
    percentiles = pd.DataFrame(rows, columns=["sentiment", *stats])
    out["bin"] = [max(b for b in WORD_BINS if b <= w) for w in out["word_count"]]
    binned = out[out["name"] != MISSING_SENTIMENT].groupby(["name", "bin"])["reviews"].sum()
    histogram_rows = []
    for name in [n for n in names if n != MISSING_SENTIMENT]:
        total = int(binned[name].sum()) or 1
        for low in WORD_BINS:
            count = int(binned.get((name, low), 0))
            histogram_rows.append(
                {"bin": low, "bin_label": bin_label(low), "name": name, "reviews": count, "share": count / total}
            )
    histogram = pd.DataFrame(histogram_rows, columns=["bin", "bin_label", "name", "reviews", "share"])
    if len(histogram):
        used = histogram.groupby("bin")["reviews"].sum()
        nonzero = used[used > 0].index
        if len(nonzero):
            histogram = histogram[(histogram["bin"] >= nonzero.min()) & (histogram["bin"] <= nonzero.max())]
    return Lengths(percentiles, histogram.reset_index(drop=True), missing)


def tidy_monthly(frame: pd.DataFrame, spec: Spec) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(reviews per month × sentiment name, average sentiment and reviews per month)."""
    out = frame.copy()
    out["month"] = pd.to_datetime(out["month"])
    out["name"] = [sentiment_name(v, spec.definition) for v in out["sentiment"].astype(object)]
    by_name = out.groupby(["month", "name"])["reviews"].sum().reset_index()
    rated = out[out["sentiment"].notna()].copy()
    if spec.numeric_sentiment and len(rated):
        rated["weighted"] = pd.to_numeric(rated["sentiment"].map(float), errors="coerce") * rated["reviews"]
        monthly = rated.groupby("month", as_index=False).agg(total=("weighted", "sum"), rated=("reviews", "sum"))
        monthly["average"] = monthly["total"] / monthly["rated"]
        reviews = out.groupby("month")["reviews"].sum().reset_index()
        monthly = reviews.merge(monthly[["month", "average"]], on="month", how="left")
    else:
        monthly = out.groupby("month")["reviews"].sum().reset_index()
        monthly["average"] = float("nan")
    return by_name, monthly.sort_values("month").reset_index(drop=True)


@dataclass(frozen=True)
class Missing:
    """Reviews under the filters and how many miss each mapped column (``None``: the role is not mapped)."""

    reviews: int
    rating: int
    text: int | None
    category: int | None
    step_text: int  # missing a text among those with a rating
    step_category: int  # missing a category among those with a rating and a text


def tidy_missing(frame: pd.DataFrame, spec: Spec) -> Missing:
    row = {k: int(pd.to_numeric(v) or 0) for k, v in frame.iloc[0].to_dict().items()} if len(frame) else {}
    return Missing(
        reviews=row.get("reviews", 0),
        rating=row.get("missing_rating", 0),
        text=row.get("missing_text", 0) if spec.mapping.text else None,
        category=row.get("missing_category", 0) if spec.mapping.category else None,
        step_text=row.get("step_text", 0),
        step_category=row.get("step_category", 0),
    )
