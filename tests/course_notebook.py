"""The course's week-1 preparation, written out in pandas as the notebook does it: the independent source the
fidelity tests compare LakeLens's numbers with.

The notebook (Practical Data Science on AWS, course 1, week 1) reads the clothing CSV with ``pd.read_csv``,
renames ``Review Text`` / ``Rating`` / ``Class Name`` to ``review_body`` / ``star_rating`` /
``product_category``, keeps those three, ``dropna()``, maps ratings 1–2 → −1, 3 → 0, 4–5 → +1, keeps categories
with more than ten reviews (``groupby(...).filter(lambda reviews: len(reviews) > 10)``), then counts words as
Athena's ``CARDINALITY(SPLIT(review_body, ' '))`` and reads ``describe()``. Balancing downsamples every sentiment
class to the smallest (``groupby('sentiment').apply(lambda x: x.sample(smallest))``).

One deliberate difference, the same for every file: LakeLens counts a text of only white space as missing, so the
blank texts are turned into NaN before ``dropna()`` (the course's file has none).
"""

from __future__ import annotations

from typing import Any

import pandas as pd


def to_sentiment(star_rating: float) -> int | None:
    if star_rating in {1, 2}:
        return -1
    if star_rating == 3:
        return 0
    if star_rating in {4, 5}:
        return 1
    return None


def missing(df: pd.DataFrame, rating: str, text: str, category: str) -> dict[str, int]:
    """Missing values per column in the raw file (blank text counted as missing, as LakeLens does)."""
    blank = df[text].isna() | (df[text].astype(str).str.strip() == "")
    return {
        "rating": int(df[rating].isna().sum()),
        "text": int(blank.sum()),
        "category": int(df[category].isna().sum()),
    }


def prepare(df: pd.DataFrame, rating: str, text: str, category: str) -> pd.DataFrame:
    """The notebook's cells, in order: rename, keep three columns, dropna, to_sentiment, drop small categories."""
    out = df.rename(columns={text: "review_body", rating: "star_rating", category: "product_category"})
    out = out[["review_body", "star_rating", "product_category"]].copy()
    out["review_body"] = out["review_body"].where(out["review_body"].astype(str).str.strip() != "")
    out = out.dropna()
    out["sentiment"] = out["star_rating"].apply(lambda star_rating: to_sentiment(star_rating=star_rating))
    out = out.drop(columns=["star_rating"])
    out = out.groupby("product_category").filter(lambda reviews: len(reviews) > 10)
    return out[["sentiment", "review_body", "product_category"]]


def summary(prepared: pd.DataFrame) -> dict[str, Any]:
    """The numbers the course reads off the prepared frame."""
    words = prepared["review_body"].str.split(" ").str.len()
    described = words.describe()
    by_category = prepared.groupby("product_category")
    return {
        "reviews": len(prepared),
        "by_sentiment": {str(k): int(v) for k, v in prepared["sentiment"].value_counts().sort_index().items()},
        "words": {"mean": float(described["mean"]), "median": float(described["50%"]), "max": float(described["max"])},
        "categories": {
            str(name): {"reviews": len(group), "average_sentiment": float(group["sentiment"].mean())}
            for name, group in by_category
        },
    }


def balanced_size(prepared: pd.DataFrame) -> int:
    """Rows after the course's balancing: every sentiment class cut to the smallest class."""
    sizes = prepared.groupby("sentiment").size()
    return int(sizes.min()) * len(sizes)
