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
* Missing is missing: a NULL or blank text (only white space), a NULL or empty category and a NULL or
  non-numeric rating count as absent, so the local reading of a raw file (DuckDB: an empty field is NULL) and
  Athena's (LazySimpleSerDe: an empty string field is '') give the same numbers.
* :func:`prepare` is the course's preparation as one switch: reviews without a rating, a text or a category left
  out (each step with the count it removed), then categories with ten reviews or fewer dropped.
* :func:`write_balanced` balances on the engine and registers the result as a Parquet table, on either backend:
  by sentiment (the course's way: each sentiment class downsampled to the smallest class) or by category ×
  sentiment (every cell downsampled to the smallest cell).
* :func:`summary` is the page's numbers as one JSON-ready dict, for ``python -m lib sentiment summary``.
"""

from __future__ import annotations

import math
import re
import tempfile
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, fields, replace
from datetime import date
from pathlib import Path
from typing import Any, Literal

import pandas as pd
import sqlglot
from sqlglot import exp

from lib.catalog import LAKE_SCHEME, Column, TableDef, arrow_type_to_glue, parquet_table, validate_identifier
from lib.errors import CatalogError, LakeLensError
from lib.lake.objects import objects_under

SentimentDefinition = Literal["three_class", "binary", "label"]
BalanceBy = Literal["sentiment", "category_sentiment"]
Runner = Callable[[str], pd.DataFrame]  # SQL text -> its (small, aggregate) result
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
    complete: bool = False  # the course's dropna: only reviews with a sentiment, a text and a category


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
        if f.complete:
            parts.append("the course's preparation")
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
    """The category as text; an empty category is no category (Athena reads an empty TSV field as '')."""
    if not spec.mapping.category:
        return None
    column = _col(spec.mapping.category)
    if is_string(column_type(spec.table, spec.mapping.category)):
        return _fill("nullif(c, '')", c=column)
    return _fill("CAST(c AS VARCHAR)", c=column)


def text_present(spec: Spec) -> exp.Expr | None:
    """TRUE when the review has text: not NULL, not empty and not only white space (NULL for a NULL text)."""
    if not spec.mapping.text:
        return None
    return _fill("regexp_like(t, '\\S')", t=_col(spec.mapping.text))


def _has_text(spec: Spec) -> exp.Expr | None:
    """TRUE or FALSE (never NULL): does the review have text?"""
    present = text_present(spec)
    return None if present is None else _fill("coalesce(p, false)", p=present)


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
    """Words per review: a precomputed column if mapped, else the course's ``cardinality(split(text, ' '))``.

    Counted as spaces + 1 (the same number, without building the array); a review without text (NULL, empty or
    only white space) has no word count, on either backend.
    """
    if spec.mapping.words:
        return _col(spec.mapping.words)
    present = text_present(spec)
    if present is None:
        return None
    t = _col(spec.mapping.text or "")
    return _fill("CASE WHEN p THEN length(t) - length(replace(t, ' ', '')) + 1 END", p=present, t=t)


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
    if f.complete:
        conditions += _complete_conditions(spec)
    return conditions


def _complete_conditions(spec: Spec) -> list[exp.Expr]:
    """The course's ``dropna()`` over the mapped columns: a sentiment, a text and a category."""
    conditions: list[exp.Expr] = [exp.Not(this=exp.Is(this=sentiment_expr(spec), expression=exp.Null()))]
    has_text = _has_text(spec)
    if has_text is not None:
        conditions.append(has_text)
    category = category_expr(spec)
    if category is not None:
        conditions.append(exp.Not(this=exp.Is(this=category, expression=exp.Null())))
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


BALANCE_BY: dict[BalanceBy, str] = {
    "sentiment": "By sentiment (the course): each sentiment class downsampled to the smallest class; the categories "
    "keep their natural mix",
    "category_sentiment": "By category × sentiment: every category × sentiment cell downsampled to the smallest cell, "
    "so each category and each sentiment weighs the same",
}


def _groups(spec: Spec, by: BalanceBy) -> list[exp.Expr]:
    """What balancing equalises: the sentiment alone, or each category × sentiment cell."""
    if by == "sentiment":
        return [sentiment_expr(spec)]
    category = category_expr(spec)
    if category is None:
        raise LakeLensError("Balancing by category × sentiment needs a category column; pick one under Columns.")
    return [category, sentiment_expr(spec)]


def _balance_conditions(spec: Spec, by: BalanceBy) -> list[exp.Expr]:
    """The rows balancing keeps: the filters, a sentiment, a text (when mapped) and, by cell, a category."""
    conditions = [*where_conditions(spec), exp.Not(this=exp.Is(this=sentiment_expr(spec), expression=exp.Null()))]
    if by == "category_sentiment":
        category = category_expr(spec)
        if category is None:
            raise LakeLensError("Balancing by category × sentiment needs a category column; pick one under Columns.")
        conditions.append(exp.Not(this=exp.Is(this=category, expression=exp.Null())))
    has_text = _has_text(spec)
    if has_text is not None and not spec.filters.complete:  # a review without text teaches a classifier nothing
        conditions.append(has_text)
    return conditions


def balance_cells_sql(spec: Spec, by: BalanceBy = "sentiment") -> str:
    """Reviews per group (sentiment, or category × sentiment) among the rows balancing keeps; the smallest is the
    size every group is cut to."""
    groups = _groups(spec, by)
    names = ["sentiment"] if by == "sentiment" else ["category", "sentiment"]
    select = [exp.alias_(g, n, quoted=False) for g, n in zip(groups, names, strict=True)]
    query = exp.select(*select, exp.alias_(exp.Count(this=exp.Star()), "reviews")).from_(_source(spec.table))
    query = _where(query, _balance_conditions(spec, by))
    positions = [exp.Literal.number(i + 1) for i in range(len(groups))]
    return _render(query.group_by(*positions).order_by(*[exp.Ordered(this=p.copy()) for p in positions]))


def balanced_sql(spec: Spec, cell_size: int, by: BalanceBy = "sentiment") -> str:
    """Each group's first ``cell_size`` rows in a hash order (deterministic, no rand())."""
    if cell_size < 1:
        raise LakeLensError("There is nothing to balance: no review has a sentiment under these filters.")
    columns: list[exp.Expr] = [
        exp.alias_(_col(source), target, quoted=False) for source, target in output_names(spec.table)
    ]
    rank = exp.Window(
        this=exp.RowNumber(),
        partition_by=_groups(spec, by),
        order=exp.Order(expressions=[exp.Ordered(this=_order_key(spec))]),
    )
    inner = exp.select(*columns, exp.alias_(sentiment_expr(spec), "sentiment"), exp.alias_(rank, "cell_rank")).from_(
        _source(spec.table)
    )
    inner = _where(inner, _balance_conditions(spec, by))
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
    backend: Any,
    spec: Spec,
    database: str,
    name: str,
    *,
    replace_existing: bool = False,
    by: BalanceBy = "sentiment",
    run: Runner | None = None,
) -> BalancedTable:
    """Write the balanced rows as one Parquet file in the curated zone and register it as ``database.name``.

    Two queries on the engine: the group sizes among the rows balancing keeps (so the table is exactly balanced
    even when some reviews have no text), then the rows themselves (``row_number()`` over each sentiment class,
    or each category × sentiment cell, ordered by a hash), streamed to a temporary file by ``backend.export``.
    Only then is the object written and the table registered, so a failure leaves no half-made table behind.
    ``run`` answers the first (small) query; the page passes its cached runner.
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
    stale, subfolders = objects_under(backend, folder)
    if subfolders or (stale and old is None):
        raise CatalogError(f"The lake folder {folder} already holds other files; choose another table name.")
    import pyarrow.parquet as pq

    runner = run or (lambda sql: backend.run_query(sql, max_rows=MAX_GROUPS).frame)
    cells = runner(balance_cells_sql(spec, by))
    cell_size = int(pd.to_numeric(cells["reviews"]).min()) if len(cells) else 0
    sql = balanced_sql(spec, cell_size, by)
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
            f"{spec.table.qualified_name} balanced by {'sentiment' if by == 'sentiment' else 'category × sentiment'}: "
            f"{rows:,} reviews, {cell_size:,} per {'sentiment class' if by == 'sentiment' else 'cell'}"
            + (" (the course's preparation)" if spec.filters.complete else "")
        ),
        parameters={
            "lakelens.source": spec.table.qualified_name,
            "lakelens.balanced_by": by,
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


# -- missing values and the course's preparation -----------------------------------------------------------------
def missing_sql(spec: Spec) -> str:
    """Reviews, and those missing a rating, a text or a category, under the spec's own filters; plus the same
    counts taken one after the other, as the course's preparation removes them (no rating; then no text; then no
    category), so the steps add up to what the preparation leaves out. One scan of the mapped columns."""
    base = replace(spec, filters=replace(spec.filters, complete=False, exclude_categories=()))
    rating_missing = exp.Is(this=sentiment_expr(base), expression=exp.Null())
    has_text = _has_text(base)
    text_missing = exp.not_(has_text) if has_text is not None else exp.false()
    category = category_expr(base)
    category_missing = exp.Is(this=category, expression=exp.Null()) if category is not None else exp.false()

    def count_if(condition: exp.Expr) -> exp.Expr:
        return _fill("count_if(x)", x=condition)

    select: list[exp.Expr] = [
        exp.alias_(exp.Count(this=exp.Star()), "reviews"),
        exp.alias_(count_if(rating_missing.copy()), "missing_rating"),
        exp.alias_(count_if(text_missing.copy()), "missing_text"),
        exp.alias_(count_if(category_missing.copy()), "missing_category"),
        exp.alias_(count_if(exp.and_(exp.not_(rating_missing.copy()), text_missing.copy())), "step_text"),
        exp.alias_(
            count_if(exp.and_(exp.not_(rating_missing.copy()), exp.not_(text_missing.copy()), category_missing.copy())),
            "step_category",
        ),
    ]
    return _render(_where(exp.select(*select).from_(_source(spec.table)), where_conditions(base)))


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
    from lib.sentiment import bias

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
    from lib.sentiment import bias

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
