"""What the numbers are of (the table, its column mapping, the sentiment definition and the filters) and the SQL
expressions every query shares.

Everything is built with sqlglot's expression tree: column and table names are quoted identifiers, values are
literals, and :func:`fill` parses only fixed templates, so no text from the analyst is ever pasted into SQL.
Missing is missing: a NULL or blank text (only white space), a NULL or empty category and a NULL or non-numeric
rating count as absent, so the local reading of a raw file (DuckDB: an empty field is NULL) and Athena's
(LazySimpleSerDe: an empty string field is '') give the same numbers.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date

import pandas as pd
import sqlglot
from sqlglot import exp

from lib.catalog import TableDef
from lib.errors import LakeLensError
from lib.sentiment.columns import ROLES, ColumnMapping, SentimentDefinition, column_type, is_numeric, is_string
from lib.sql.build import column as column_ref
from lib.sql.build import has_text, literal

Runner = Callable[[str], pd.DataFrame]  # SQL text -> its (small, aggregate) result

SMALL_CATEGORY_MAX = 10  # the course drops categories with 10 reviews or fewer
MAX_GROUPS = 10_000  # most rows an aggregate may return (categories × sentiments, sentiments × word counts)


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


# -- SQL building blocks -------------------------------------------------------------------------------------------
def fill(template: str, **nodes: exp.Expr) -> exp.Expr:
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


def with_where(query: exp.Select, conditions: Sequence[exp.Expr]) -> exp.Select:
    """The query with its conditions ANDed into one WHERE clause (none: no WHERE)."""
    if conditions:
        return query.where(exp.and_(*conditions))
    return query


def render(query: exp.Expr) -> str:
    """The SQL text the engine runs (and the page caches by): Athena dialect, pretty-printed."""
    return query.sql(dialect="athena", pretty=True)


# -- the expressions every query shares ----------------------------------------------------------------------------
def rating_expr(spec: Spec) -> exp.Expr:
    assert spec.mapping.rating is not None
    column = column_ref(spec.mapping.rating)
    if is_numeric(column_type(spec.table, spec.mapping.rating)):
        return column
    return fill("TRY_CAST(r AS DOUBLE)", r=column)


def sentiment_expr(spec: Spec) -> exp.Expr:
    """The sentiment of one row as SQL; NULL when the rating (or label) is missing or not a number."""
    if spec.definition == "label":
        assert spec.mapping.label is not None
        return column_ref(spec.mapping.label)
    rating = rating_expr(spec)
    if spec.definition == "binary":
        return fill("CASE WHEN r IS NULL THEN NULL WHEN r > 3 THEN 1 ELSE 0 END", r=rating)
    return fill("CASE WHEN r IS NULL THEN NULL WHEN r < 3 THEN -1 WHEN r = 3 THEN 0 ELSE 1 END", r=rating)


def category_expr(spec: Spec) -> exp.Expr | None:
    """The category as text; an empty category is no category (Athena reads an empty TSV field as '')."""
    if not spec.mapping.category:
        return None
    column = column_ref(spec.mapping.category)
    if is_string(column_type(spec.table, spec.mapping.category)):
        return fill("nullif(c, '')", c=column)
    return fill("CAST(c AS VARCHAR)", c=column)


def text_present(spec: Spec, *, never_null: bool = False) -> exp.Expr | None:
    """TRUE when the review has text: not NULL, not empty and not only white space; ``None`` without a text column.

    A NULL text gives NULL, which is as good as FALSE in a WHERE clause or a CASE. ``never_null`` makes it FALSE,
    for a condition that is negated or counted (NOT NULL is NULL, so the review would count as neither).
    """
    if not spec.mapping.text:
        return None
    return has_text(column_ref(spec.mapping.text), never_null=never_null)


def date_expr(spec: Spec) -> exp.Expr | None:
    if not spec.mapping.date:
        return None
    column = column_ref(spec.mapping.date)
    kind = column_type(spec.table, spec.mapping.date).lower()
    if kind == "date":
        return column
    if kind == "timestamp":
        return fill("CAST(d AS DATE)", d=column)
    return fill("TRY_CAST(d AS DATE)", d=column)


def words_expr(spec: Spec) -> exp.Expr | None:
    """Words per review: a precomputed column if mapped, else the course's ``cardinality(split(text, ' '))``.

    Counted as spaces + 1 (the same number, without building the array); a review without text (NULL, empty or
    only white space) has no word count, on either backend.
    """
    if spec.mapping.words:
        return column_ref(spec.mapping.words)
    present = text_present(spec)
    if present is None:
        return None
    t = column_ref(spec.mapping.text or "")
    return fill("CASE WHEN p THEN length(t) - length(replace(t, ' ', '')) + 1 END", p=present, t=t)


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
        conditions.append(fill("d >= CAST(x AS DATE)", d=day, x=exp.Literal.string(f.date_from.isoformat())))
    if day is not None and f.date_to is not None:
        conditions.append(fill("d <= CAST(x AS DATE)", d=day, x=exp.Literal.string(f.date_to.isoformat())))
    if spec.mapping.rating and f.rating_min is not None:
        conditions.append(exp.GTE(this=rating_expr(spec), expression=literal(f.rating_min)))
    if spec.mapping.rating and f.rating_max is not None:
        conditions.append(exp.LTE(this=rating_expr(spec), expression=literal(f.rating_max)))
    if spec.mapping.text and f.text_contains.strip():
        needle = exp.Literal.string(f.text_contains.strip().lower())
        conditions.append(fill("strpos(lower(t), n) > 0", t=column_ref(spec.mapping.text), n=needle))
    if f.complete:
        conditions += _complete_conditions(spec)
    return conditions


def _complete_conditions(spec: Spec) -> list[exp.Expr]:
    """The course's ``dropna()`` over the mapped columns: a sentiment, a text and a category."""
    conditions: list[exp.Expr] = [exp.Not(this=exp.Is(this=sentiment_expr(spec), expression=exp.Null()))]
    texted = text_present(spec, never_null=True)
    if texted is not None:
        conditions.append(texted)
    category = category_expr(spec)
    if category is not None:
        conditions.append(exp.Not(this=exp.Is(this=category, expression=exp.Null())))
    return conditions


def order_key(spec: Spec) -> exp.Expr:
    """A deterministic pseudo-random order: md5 of the row's mapped columns. Same data, same sample."""
    parts: list[exp.Expr] = []
    for role in ("text", "rating", "date", "category", "label"):
        name = spec.mapping.get(role)  # type: ignore[arg-type]
        if name:
            parts.append(fill("coalesce(CAST(c AS VARCHAR), '')", c=column_ref(name)))
    joined = parts[0]
    for part in parts[1:]:
        joined = exp.DPipe(this=joined, expression=part)
    return fill("md5(to_utf8(k))", k=joined)
