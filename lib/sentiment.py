"""Sentiment over any review table: which columns mean what, how sentiment is defined, and the SQL behind each chart.

The page answers the course's week-1 questions (how is sentiment distributed, per category, how long are the
reviews, how does it move over time) for any table in the lake. Everything here is plain Python:

* :func:`detect_columns` guesses the rating, text, category, date, label and word-count columns from names and
  types, for Amazon-style names (``star_rating``, ``review_body``) and raw Kaggle-style ones (``Rating``,
  ``Review Text``, ``Class Name``) alike. The analyst can change every guess.
* A sentiment *definition*: the course's three classes (ratings 1–2 → −1, 3 → 0, 4–5 → +1), binary
  (rating > 3 → 1, else 0), or an existing label column taken as it is.
* SQL builders (Athena SQL built with sqlglot's expression tree, never by pasting user text) for the few aggregate
  queries the page needs. One query of counts by category × sentiment serves several charts; the expensive text
  scan (words per review) is one more query that returns a dozen rows. Every filter is part of the WHERE clause,
  so the engine does the work and only aggregates reach the page.
* :func:`write_balanced` runs the course's balancing (every category × sentiment cell downsampled to the size of
  the smallest) on the engine and registers the result as a Parquet table, on either backend.
"""

from __future__ import annotations

import math
import re
import tempfile
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field, fields, replace
from datetime import date
from pathlib import Path
from typing import Any, Literal

import pandas as pd
import sqlglot
from sqlglot import exp

from lib.catalog import LAKE_SCHEME, Column, TableDef, arrow_type_to_glue, parquet_table, validate_identifier
from lib.errors import CatalogError, LakeLensError

SentimentDefinition = Literal["three_class", "binary", "label"]
Role = Literal["rating", "text", "category", "date", "label", "words"]
ROLES: tuple[Role, ...] = ("rating", "text", "category", "date", "label", "words")

DEFINITIONS: dict[SentimentDefinition, str] = {
    "three_class": "Three classes from the rating: 1–2 → −1, 3 → 0, 4–5 → +1 (the course)",
    "binary": "Binary from the rating: above 3 → 1, otherwise 0",
    "label": "An existing label column, as it is",
}
ROLE_HELP: dict[Role, str] = {
    "rating": "Star rating (a number, usually 1–5); the sentiment is derived from it.",
    "text": "Review text; used for words per review, text search and the drill-down.",
    "category": "Category of the reviewed product; the facet of the bias metrics.",
    "date": "When the review was written; enables the monthly charts and the date filter.",
    "label": "An existing sentiment label (e.g. -1/0/1, 0/1, positive/negative).",
    "words": "A precomputed word count; used instead of counting words in the text (much faster).",
}

SMALL_CATEGORY_MAX = 10  # the course drops categories with 10 reviews or fewer
MAX_GROUPS = 10_000  # most rows an aggregate may return (categories × sentiments, sentiments × word counts)
WORD_CAP = 1024  # word counts from here up are one group in the lengths query (their sum and maximum are kept)
WORD_BINS: tuple[int, ...] = (0, 1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024)
PERCENTILES: tuple[float, ...] = (0.1, 0.25, 0.5, 0.75, 0.9, 0.99)

_NUMERIC_TYPES = re.compile(r"^(tinyint|smallint|int|integer|bigint|float|double|real|decimal(\(.*\))?)$")
_STRING_TYPES = re.compile(r"^(string|varchar(\(\d+\))?|char(\(\d+\))?)$")


# -- columns --------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ColumnMapping:
    """Which column of the table plays which role; ``None`` when the table has none."""

    rating: str | None = None
    text: str | None = None
    category: str | None = None
    date: str | None = None
    label: str | None = None
    words: str | None = None

    def get(self, role: Role) -> str | None:
        value: str | None = getattr(self, role)
        return value

    def with_role(self, role: Role, column: str | None) -> ColumnMapping:
        return replace(self, **{role: column})

    def as_dict(self) -> dict[str, str | None]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


def normalize_name(name: str) -> str:
    """``Review Text`` -> ``review_text``: lower case, runs of other characters become one underscore."""
    return re.sub(r"[^a-z0-9]+", "_", name.strip().lower()).strip("_")


def is_numeric(glue_type: str) -> bool:
    return bool(_NUMERIC_TYPES.match(glue_type.strip().lower()))


def is_string(glue_type: str) -> bool:
    return bool(_STRING_TYPES.match(glue_type.strip().lower()))


def is_temporal(glue_type: str) -> bool:
    return glue_type.strip().lower() in ("date", "timestamp")


# (role, exact normalized names in order of preference, name fragments, type check)
_EXACT: dict[Role, tuple[str, ...]] = {
    "rating": ("star_rating", "rating", "stars", "overall", "score", "review_rating", "review_score", "rating_value"),
    "text": ("review_body", "review_text", "reviewtext", "body", "text", "review", "content", "comment", "comments"),
    "category": (
        "product_category",
        "category",
        "class_name",
        "department_name",
        "division_name",
        "main_category",
        "categories",
        "department",
        "division",
        "genre",
    ),
    "date": ("review_date", "date", "reviewed_at", "created_at", "review_time", "timestamp", "time", "created"),
    "label": ("sentiment", "label", "polarity", "sentiment_label", "target", "recommended_ind", "recommended"),
    "words": ("review_words", "word_count", "words", "num_words", "n_words", "body_words", "review_word_count"),
}
_FRAGMENTS: dict[Role, tuple[str, ...]] = {
    "rating": ("rating", "stars", "score"),
    "text": ("body", "text", "review", "comment", "content"),
    "category": ("category", "class", "department", "division", "genre"),
    "date": ("date", "time", "created"),
    "label": ("sentiment", "label", "polarity"),
    "words": ("word",),
}
# Text-like names that are not the review body: titles and headlines are short and would skew the lengths.
_NOT_TEXT = ("headline", "title", "summary", "id", "name", "url")


def _type_fits(role: Role, glue_type: str) -> bool:
    if role in ("rating", "words"):
        return is_numeric(glue_type) or (role == "rating" and is_string(glue_type))
    if role == "text":
        return is_string(glue_type)
    if role == "category":
        return is_string(glue_type) or glue_type.lower() in ("int", "integer", "bigint", "smallint", "tinyint")
    if role == "date":
        return is_temporal(glue_type) or is_string(glue_type)
    return is_numeric(glue_type) or is_string(glue_type) or glue_type.lower() == "boolean"


def _score(role: Role, column: Column) -> int:
    """How well a column fits a role: 0 = not at all; higher is better."""
    if not _type_fits(role, column.type):
        return 0
    name = normalize_name(column.name)
    exact = _EXACT[role]
    if name in exact:
        score = 1000 - exact.index(name)
    elif any(fragment in name for fragment in _FRAGMENTS[role]):
        score = 100
    else:
        return 0
    if role == "text" and any(part in name.split("_") for part in _NOT_TEXT):
        return 0
    if role == "category" and ("id" in name.split("_") or name.endswith("_id")):
        return 0
    if role == "rating" and is_numeric(column.type):
        score += 10  # a numeric rating beats one stored as text
    if role == "date" and is_temporal(column.type):
        score += 10
    return score


def detect_columns(table: TableDef) -> ColumnMapping:
    """The best guess for every role from the table's column names and types; each column used at most once."""
    taken: set[str] = set()
    found: dict[str, str | None] = {}
    order: tuple[Role, ...] = ("rating", "text", "words", "label", "category", "date")
    for role in order:
        scored = [(_score(role, c), index, c.name) for index, c in enumerate(table.all_columns) if c.name not in taken]
        scored = [item for item in scored if item[0] > 0]
        if scored:
            best = max(scored, key=lambda item: (item[0], -item[1]))[2]
            found[role] = best
            taken.add(best)
        else:
            found[role] = None
    return ColumnMapping(**found)


def column_type(table: TableDef, name: str) -> str:
    for column in table.all_columns:
        if column.name == name:
            return column.type
    raise LakeLensError(f"Table {table.qualified_name} has no column {name!r}; choose one of its columns.")


def definitions_for(mapping: ColumnMapping) -> list[SentimentDefinition]:
    """The sentiment definitions this mapping supports."""
    out: list[SentimentDefinition] = []
    if mapping.rating:
        out += ["three_class", "binary"]
    if mapping.label:
        out.append("label")
    return out


NO_SOURCE_MESSAGE = (
    "This table has no column LakeLens can turn into a sentiment: it needs a numeric rating (such as star_rating or "
    "Rating, 1–5) or an existing sentiment label column. Pick one under Columns, or choose another table."
)


# -- filters and the whole specification ------------------------------------------------------------------------
@dataclass(frozen=True)
class Filters:
    """What the analyst narrowed the reviews to. Every field becomes part of the SQL WHERE clause."""

    categories: tuple[str, ...] = ()
    date_from: date | None = None
    date_to: date | None = None
    rating_min: float | None = None
    rating_max: float | None = None
    text_contains: str = ""
    exclude_categories: tuple[str, ...] = ()


@dataclass(frozen=True)
class Spec:
    """Everything the SQL depends on: the table, the column mapping, the sentiment definition and the filters."""

    table: TableDef
    mapping: ColumnMapping
    definition: SentimentDefinition = "three_class"
    filters: Filters = field(default_factory=Filters)

    def __post_init__(self) -> None:
        for role in ROLES:
            name = self.mapping.get(role)
            if name is not None:
                column_type(self.table, name)
        if self.definition in ("three_class", "binary") and not self.mapping.rating:
            raise LakeLensError(
                "The rating-based sentiment needs a rating column; pick one under Columns or use a label column."
            )
        if self.definition == "label" and not self.mapping.label:
            raise LakeLensError("The label-based sentiment needs a label column; pick one under Columns.")

    def with_filters(self, filters: Filters) -> Spec:
        return replace(self, filters=filters)

    def describe(self) -> str:
        """One line saying what the numbers are of: table, sentiment definition and every filter."""
        f = self.filters
        parts = [
            self.table.qualified_name,
            {"three_class": "3 sentiment classes", "binary": "binary sentiment"}.get(
                self.definition, f"label {self.mapping.label}"
            ),
        ]
        if f.categories:
            parts.append("categories " + ", ".join(f.categories))
        if f.date_from or f.date_to:
            parts.append(f"dates {f.date_from or '…'} to {f.date_to or '…'}")
        if f.rating_min is not None or f.rating_max is not None:
            low = f"{f.rating_min:g}" if f.rating_min is not None else "…"
            high = f"{f.rating_max:g}" if f.rating_max is not None else "…"
            parts.append(f"rating {low}–{high}")
        if f.text_contains:
            parts.append(f"text contains “{f.text_contains}”")
        if f.exclude_categories:
            parts.append(f"without {len(f.exclude_categories)} categories of ≤ {SMALL_CATEGORY_MAX} reviews")
        return " · ".join(parts)

    @property
    def numeric_sentiment(self) -> bool:
        """Can sentiment values be averaged? Yes for the rating-based definitions and numeric labels."""
        if self.definition != "label":
            return True
        assert self.mapping.label is not None
        kind = column_type(self.table, self.mapping.label).lower()
        return is_numeric(kind) or kind == "boolean"


def _col(name: str) -> exp.Column:
    return exp.column(name, quoted=True)


def _source(table: TableDef) -> exp.Table:
    return exp.table_(table.name, db=table.database, quoted=True)


def _fill(template: str, **nodes: exp.Expr) -> exp.Expr:
    """Parse an Athena SQL expression and put the given expressions where the placeholder names stand.

    Placeholders are bare column names in the template; only expression trees (quoted columns, literals built
    by sqlglot) are substituted, so no text from the analyst is ever pasted into SQL.
    """
    tree = sqlglot.parse_one(template, read="athena")

    def substitute(node: exp.Expr) -> exp.Expr:
        if isinstance(node, exp.Column) and not node.table and node.name in nodes:
            return nodes[node.name].copy()
        return node

    return tree.transform(substitute)


def rating_expr(spec: Spec) -> exp.Expr:
    assert spec.mapping.rating is not None
    column = _col(spec.mapping.rating)
    if is_numeric(column_type(spec.table, spec.mapping.rating)):
        return column
    return _fill("TRY_CAST(r AS DOUBLE)", r=column)


def sentiment_expr(spec: Spec) -> exp.Expr:
    """The sentiment of one row as SQL; NULL when the rating (or label) is missing or not a number."""
    if spec.definition == "label":
        assert spec.mapping.label is not None
        return _col(spec.mapping.label)
    rating = rating_expr(spec)
    if spec.definition == "binary":
        return _fill("CASE WHEN r IS NULL THEN NULL WHEN r > 3 THEN 1 ELSE 0 END", r=rating)
    return _fill("CASE WHEN r IS NULL THEN NULL WHEN r < 3 THEN -1 WHEN r = 3 THEN 0 ELSE 1 END", r=rating)


def category_expr(spec: Spec) -> exp.Expr | None:
    if not spec.mapping.category:
        return None
    column = _col(spec.mapping.category)
    if is_string(column_type(spec.table, spec.mapping.category)):
        return column
    return _fill("CAST(c AS VARCHAR)", c=column)


def date_expr(spec: Spec) -> exp.Expr | None:
    if not spec.mapping.date:
        return None
    column = _col(spec.mapping.date)
    kind = column_type(spec.table, spec.mapping.date).lower()
    if kind == "date":
        return column
    if kind == "timestamp":
        return _fill("CAST(d AS DATE)", d=column)
    return _fill("TRY_CAST(d AS DATE)", d=column)


def words_expr(spec: Spec) -> exp.Expr | None:
    """Words per review: a precomputed column if mapped, else spaces counted in the text (cheap, no splitting)."""
    if spec.mapping.words:
        return _col(spec.mapping.words)
    if not spec.mapping.text:
        return None
    # spaces + 1, and 0 for empty text (sign(0) = 0); NULL text stays NULL
    return _fill("length(t) - length(replace(t, ' ', '')) + sign(length(t))", t=_col(spec.mapping.text))


def _literal(value: Any) -> exp.Expr:
    if hasattr(value, "item"):  # numpy scalars
        value = value.item()
    if isinstance(value, bool):
        return exp.Boolean(this=value)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return exp.convert(value)


def where_conditions(spec: Spec) -> list[exp.Expr]:
    """The filters as SQL conditions (ANDed by the callers)."""
    f = spec.filters
    conditions: list[exp.Expr] = []
    category = category_expr(spec)
    if category is not None and f.categories:
        conditions.append(category.copy().isin(*[exp.Literal.string(c) for c in f.categories]))
    if category is not None and f.exclude_categories:
        excluded = category.copy().isin(*[exp.Literal.string(c) for c in f.exclude_categories])
        conditions.append(exp.or_(exp.Is(this=category.copy(), expression=exp.Null()), exp.Not(this=excluded)))
    day = date_expr(spec)
    if day is not None and f.date_from is not None:
        conditions.append(_fill("d >= CAST(x AS DATE)", d=day, x=exp.Literal.string(f.date_from.isoformat())))
    if day is not None and f.date_to is not None:
        conditions.append(_fill("d <= CAST(x AS DATE)", d=day, x=exp.Literal.string(f.date_to.isoformat())))
    if spec.mapping.rating and f.rating_min is not None:
        conditions.append(exp.GTE(this=rating_expr(spec), expression=_literal(f.rating_min)))
    if spec.mapping.rating and f.rating_max is not None:
        conditions.append(exp.LTE(this=rating_expr(spec), expression=_literal(f.rating_max)))
    if spec.mapping.text and f.text_contains.strip():
        needle = exp.Literal.string(f.text_contains.strip().lower())
        conditions.append(_fill("strpos(lower(t), n) > 0", t=_col(spec.mapping.text), n=needle))
    return conditions


def _where(query: exp.Select, conditions: Sequence[exp.Expr]) -> exp.Select:
    if conditions:
        return query.where(exp.and_(*conditions))
    return query


def _render(query: exp.Expr) -> str:
    return query.sql(dialect="athena", pretty=True)


# -- the aggregate queries ----------------------------------------------------------------------------------------
def counts_sql(spec: Spec) -> str:
    """Reviews by category × sentiment (NULLs kept as their own groups), missing ratings, rating and date ranges.

    The one query behind the per-sentiment, per-category, average-sentiment and share charts, the null counts,
    the small-category flags, the bias metrics and the balance preview. It never reads the text column (unless
    a text filter is set): missing text is counted by the lengths query, which scans the text anyway.
    """
    select: list[exp.Expr] = []
    category = category_expr(spec)
    if category is not None:
        select.append(exp.alias_(category, "category", quoted=False))
    select.append(exp.alias_(sentiment_expr(spec), "sentiment"))
    select.append(exp.alias_(exp.Count(this=exp.Star()), "reviews"))
    if spec.mapping.rating:
        select.append(exp.alias_(_fill("count_if(r IS NULL)", r=_col(spec.mapping.rating)), "missing_rating"))
        select.append(exp.alias_(exp.Min(this=rating_expr(spec)), "min_rating"))
        select.append(exp.alias_(exp.Max(this=rating_expr(spec)), "max_rating"))
    day = date_expr(spec)
    if day is not None:
        select.append(exp.alias_(exp.Min(this=day.copy()), "first_date"))
        select.append(exp.alias_(exp.Max(this=day.copy()), "last_date"))
    positions = [exp.Literal.number(i + 1) for i in range(2 if category is not None else 1)]
    query = _where(exp.select(*select).from_(_source(spec.table)), where_conditions(spec))
    query = query.group_by(*positions).order_by(*[exp.Ordered(this=p.copy(), nulls_first=False) for p in positions])
    return _render(query)


def lengths_sql(spec: Spec) -> str:
    """The words-per-review distribution by sentiment: reviews per (sentiment, word count), in one scan.

    Word counts above ``WORD_CAP`` share one group (with their sum and maximum kept), so the result has at most
    a thousand-odd rows per sentiment whatever the table's size; reviews without text form a NULL group. There is
    deliberately no WHERE on ``words``: the engine would compute the word count twice (filter and projection). The percentiles, mean and histogram are
    computed from it exactly — one hash aggregate instead of a quantile sketch per percentile.
    """
    words = words_expr(spec)
    if words is None:
        raise LakeLensError("Words per review need a text column (or a word-count column); pick one under Columns.")
    inner = _where(
        exp.select(exp.alias_(sentiment_expr(spec), "sentiment"), exp.alias_(words, "words")).from_(
            _source(spec.table)
        ),
        where_conditions(spec),
    )
    query = (
        exp.select(
            exp.column("sentiment"),
            exp.alias_(_fill("least(words, cap)", cap=exp.Literal.number(WORD_CAP)), "word_count"),
            exp.alias_(exp.Count(this=exp.Star()), "reviews"),
            exp.alias_(exp.Sum(this=exp.column("words")), "total_words"),
            exp.alias_(exp.Max(this=exp.column("words")), "longest"),
        )
        .from_(inner.subquery("w"))
        .group_by(exp.Literal.number(1), exp.Literal.number(2))
        .order_by(exp.Ordered(this=exp.Literal.number(1), nulls_first=False), exp.Ordered(this=exp.Literal.number(2)))
    )
    return _render(query)


def monthly_sql(spec: Spec) -> str:
    """Reviews per month and sentiment (rows without a date are left out and counted by the page)."""
    day = date_expr(spec)
    if day is None:
        raise LakeLensError("The monthly charts need a date column; pick one under Columns.")
    query = exp.select(
        exp.alias_(_fill("date_trunc('month', d)", d=day), "month"),
        exp.alias_(sentiment_expr(spec), "sentiment"),
        exp.alias_(exp.Count(this=exp.Star()), "reviews"),
    ).from_(_source(spec.table))
    query = _where(query, [*where_conditions(spec), exp.Not(this=exp.Is(this=day.copy(), expression=exp.Null()))])
    positions = [exp.Literal.number(1), exp.Literal.number(2)]
    query = query.group_by(*positions).order_by(*[exp.Ordered(this=p.copy(), nulls_first=False) for p in positions])
    return _render(query)


def _order_key(spec: Spec) -> exp.Expr:
    """A deterministic pseudo-random order: md5 of the row's mapped columns. Same data, same sample."""
    parts: list[exp.Expr] = []
    for role in ("text", "rating", "date", "category", "label"):
        name = spec.mapping.get(role)  # type: ignore[arg-type]
        if name:
            parts.append(_fill("coalesce(CAST(c AS VARCHAR), '')", c=_col(name)))
    joined = parts[0]
    for part in parts[1:]:
        joined = exp.DPipe(this=joined, expression=part)
    return _fill("md5(to_utf8(k))", k=joined)


def _cell_conditions(spec: Spec, category: str | None, sentiment: Any) -> list[exp.Expr]:
    conditions: list[exp.Expr] = []
    category_sql = category_expr(spec)
    if category_sql is not None:
        if category is None:
            conditions.append(exp.Is(this=category_sql, expression=exp.Null()))
        else:
            conditions.append(exp.EQ(this=category_sql, expression=exp.Literal.string(category)))
    if sentiment is None or (isinstance(sentiment, float) and math.isnan(sentiment)):
        conditions.append(exp.Is(this=sentiment_expr(spec), expression=exp.Null()))
    else:
        conditions.append(exp.EQ(this=sentiment_expr(spec), expression=_literal(sentiment)))
    return conditions


def sample_sql(spec: Spec, category: str | None, sentiment: Any, page: int, page_size: int) -> str:
    """One page of reviews of one category × sentiment cell, in a fixed pseudo-random order."""
    select: list[exp.Expr] = []
    for role, alias in (("text", "text"), ("rating", "rating"), ("label", "label"), ("date", "date")):
        name = spec.mapping.get(role)  # type: ignore[arg-type]
        if name and not (role == "label" and spec.definition != "label"):
            select.append(exp.alias_(_col(name), alias))
    if not select:
        raise LakeLensError("The drill-down needs a text, rating or date column; pick one under Columns.")
    query = exp.select(*select).from_(_source(spec.table))
    query = _where(query, [*where_conditions(spec), *_cell_conditions(spec, category, sentiment)])
    query = query.order_by(_order_key(spec)).offset(max(page, 0) * page_size).limit(page_size)
    return _render(query)


# -- from the small aggregates to chart data ----------------------------------------------------------------------
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
    """The smallest word count with at least a share ``p`` of the reviews at or below it (inverted CDF)."""
    total = int(counts["reviews"].sum())
    cumulative = counts["reviews"].cumsum()
    position = int((cumulative >= p * total).to_numpy().argmax())
    return float(counts["word_count"].iloc[position])


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


# -- balancing ---------------------------------------------------------------------------------------------------
def output_names(table: TableDef) -> list[tuple[str, str]]:
    """(source column, column name in the balanced table): Glue-style names, unique, ``sentiment`` kept free."""
    used = {"sentiment"}
    pairs = []
    for column in table.all_columns:
        base = normalize_name(column.name) or "column"
        if base[0].isdigit():
            base = "c_" + base
        name = base
        number = 2
        while name in used:
            name = f"{base}_{number}"
            number += 1
        used.add(name)
        pairs.append((column.name, name))
    return pairs


def _balance_conditions(spec: Spec) -> list[exp.Expr]:
    """The rows balancing keeps: the filters, a category, a sentiment and (when mapped) a non-empty text."""
    category = category_expr(spec)
    if category is None:
        raise LakeLensError("Balancing needs a category column; pick one under Columns.")
    conditions = [
        *where_conditions(spec),
        exp.Not(this=exp.Is(this=category.copy(), expression=exp.Null())),
        exp.Not(this=exp.Is(this=sentiment_expr(spec), expression=exp.Null())),
    ]
    if spec.mapping.text:  # a review without text teaches a classifier nothing
        conditions.append(_fill("length(t) > 0", t=_col(spec.mapping.text)))
    return conditions


def balance_cells_sql(spec: Spec) -> str:
    """Reviews per category × sentiment among the rows balancing keeps; the smallest is the cell size."""
    category = category_expr(spec)
    if category is None:
        raise LakeLensError("Balancing needs a category column; pick one under Columns.")
    query = exp.select(
        exp.alias_(category, "category", quoted=False),
        exp.alias_(sentiment_expr(spec), "sentiment"),
        exp.alias_(exp.Count(this=exp.Star()), "reviews"),
    ).from_(_source(spec.table))
    query = _where(query, _balance_conditions(spec))
    positions = [exp.Literal.number(1), exp.Literal.number(2)]
    return _render(query.group_by(*positions).order_by(*[exp.Ordered(this=p.copy()) for p in positions]))


def balanced_sql(spec: Spec, cell_size: int) -> str:
    """Each category × sentiment cell's first ``cell_size`` rows in a hash order (deterministic, no rand())."""
    category = category_expr(spec)
    if category is None:
        raise LakeLensError("Balancing needs a category column; pick one under Columns.")
    if cell_size < 1:
        raise LakeLensError("There is nothing to balance: no category has reviews with a sentiment.")
    columns: list[exp.Expr] = [
        exp.alias_(_col(source), target, quoted=False) for source, target in output_names(spec.table)
    ]
    rank = exp.Window(
        this=exp.RowNumber(),
        partition_by=[category.copy(), sentiment_expr(spec)],
        order=exp.Order(expressions=[exp.Ordered(this=_order_key(spec))]),
    )
    inner = exp.select(*columns, exp.alias_(sentiment_expr(spec), "sentiment"), exp.alias_(rank, "cell_rank")).from_(
        _source(spec.table)
    )
    inner = _where(inner, _balance_conditions(spec))
    outer_columns = [exp.column(target) for _, target in output_names(spec.table)] + [exp.column("sentiment")]
    query = (
        exp.select(*outer_columns)
        .from_(inner.subquery("ranked"))
        .where(exp.LTE(this=exp.column("cell_rank"), expression=exp.Literal.number(cell_size)))
    )
    return _render(query)


def table_location(backend: Any, folder_key: str) -> str:
    """A table location for a lake folder on either backend: ``lake://`` locally, an ``s3://`` URI on aws."""
    if backend.kind == "local":
        return LAKE_SCHEME + folder_key
    to_s3 = getattr(backend, "to_s3_location", None)
    if to_s3 is None:
        raise LakeLensError("This backend cannot name an S3 location for a new table.")
    location: str = to_s3(folder_key)
    return location


@dataclass(frozen=True)
class BalancedTable:
    table: TableDef
    rows: int
    key: str
    cell_size: int


def write_balanced(
    backend: Any, spec: Spec, database: str, name: str, *, replace_existing: bool = False
) -> BalancedTable:
    """Write the balanced rows as one Parquet file in the curated zone and register it as ``database.name``.

    Two queries on the engine: the cell sizes among the rows balancing keeps (so the table is exactly balanced
    even when some reviews have no text), then the rows themselves (``row_number()`` over each category ×
    sentiment cell, ordered by a hash), streamed to a temporary file by ``backend.export``. Only then is the
    object written and the table registered, so a failure leaves no half-made table behind.
    """
    validate_identifier(database, "database")
    validate_identifier(name, "table")
    if name == spec.table.name and database == spec.table.database:
        raise CatalogError("The balanced table needs a name of its own; it must not replace the table it comes from.")
    folder = f"curated/{database}/{name}/"  # the curated zone's layout, as the Lake page's ingest writes it
    try:
        old: TableDef | None = backend.get_table(database, name)
    except LakeLensError:
        old = None
    if old is not None and not replace_existing:
        raise CatalogError(f"Table {database}.{name} already exists; choose another name or tick 'Replace it'.")
    if old is not None and backend.location_key(old.location) != folder:
        raise CatalogError(f"Table {database}.{name} lives at {old.location}, not {folder}; choose another name.")
    stale, subfolders = _objects_under(backend, folder)
    if subfolders or (stale and old is None):
        raise CatalogError(f"The lake folder {folder} already holds other files; choose another table name.")
    import pyarrow.parquet as pq

    cells = backend.run_query(balance_cells_sql(spec), max_rows=MAX_GROUPS).frame
    cell_size = int(pd.to_numeric(cells["reviews"]).min()) if len(cells) else 0
    sql = balanced_sql(spec, cell_size)
    key = f"{folder}part-{uuid.uuid4().hex[:8]}.parquet"
    with tempfile.TemporaryDirectory(prefix="lakelens-balance-") as scratch:
        path = Path(scratch) / "balanced.parquet"
        rows = backend.export(sql, path, "parquet")
        schema = pq.read_schema(path)
        data = path.read_bytes()
    backend.write(key, data, content_type="application/vnd.apache.parquet")
    columns = [Column(f.name, arrow_type_to_glue(f.type)) for f in schema]
    comments = {
        "sentiment": f"Sentiment ({DEFINITIONS[spec.definition]})",
    }
    columns = [Column(c.name, c.type, comments.get(c.name, "")) for c in columns]
    table = parquet_table(
        database,
        name,
        columns,
        table_location(backend, folder),
        description=(
            f"{spec.table.qualified_name} balanced by category × sentiment: {rows:,} reviews, {cell_size:,} per cell"
        ),
        parameters={
            "lakelens.source": spec.table.qualified_name,
            "lakelens.balanced_cell_size": str(cell_size),
            "lakelens.sentiment_definition": spec.definition,
            "lakelens.text_column": _target_name(spec.table, spec.mapping.text),
            "lakelens.category_column": _target_name(spec.table, spec.mapping.category),
            "lakelens.label_column": "sentiment",
        },
    )
    stored = backend.register_table(table, replace=old is not None)
    for old_key in stale:
        if old_key != key:
            backend.delete(old_key)
    return BalancedTable(stored, rows, key, cell_size)


def _target_name(table: TableDef, source: str | None) -> str:
    if source is None:
        return ""
    return dict(output_names(table)).get(source, "")


def _objects_under(backend: Any, folder: str) -> tuple[list[str], list[str]]:
    """(object keys, sub-folders) directly under ``folder``."""
    keys: list[str] = []
    folders: list[str] = []
    token: str | None = None
    while True:
        page = backend.list_objects(folder, token=token)
        keys += [obj.key for obj in page.objects]
        folders += page.folders
        token = page.next_token
        if not token:
            return keys, folders


# -- the whole page's data, for the benchmark and the CLI ---------------------------------------------------------
def page_data(
    qualified_name: str, definition: SentimentDefinition = "three_class", *, backend: Any = None
) -> dict[str, Any]:
    """Everything the Sentiment page computes for a table before any filter is set; returns a small summary.

    Without ``backend`` the queries go through ``lib.data`` — the page's own cached path, so a second call is
    answered from the cache — and with one they run on it directly. The SQL is the page's SQL, character for
    character, so the cache entries are shared with the page.
    """
    from lib import bias

    database, _, name = qualified_name.partition(".")
    if backend is None:
        from lib import data  # the pages' cached access: the one module in lib that imports Streamlit

        table = data.table(database, name)

        def run(sql: str) -> pd.DataFrame:
            return data.query(sql, max_rows=MAX_GROUPS).frame

    else:
        table = backend.get_table(database, name)

        def run(sql: str) -> pd.DataFrame:
            return backend.run_query(sql, max_rows=MAX_GROUPS).frame

    spec = Spec(table, detect_columns(table), definition)
    counts = tidy_counts(run(counts_sql(spec)), spec)
    summary: dict[str, Any] = {"reviews": int(counts["reviews"].sum()), "queries": 1, "rows_to_page": len(counts)}
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
        summary["balanced_rows"] = bias.balance_plan(counts).rows_after
    return summary
