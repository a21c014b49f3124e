"""The page's aggregate SQL (Athena SQL from sqlglot's expression tree), each query a few rows whatever the table.

One query of counts by category × sentiment serves several charts; the expensive text scan (words per review) is
one more query that returns a dozen rows. Every filter is part of the WHERE clause, so the engine does the work and
only aggregates reach the page.
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

from sqlglot import exp

from lib.errors import LakeLensError
from lib.sentiment.spec import (
    Spec,
    category_expr,
    date_expr,
    fill,
    order_key,
    rating_expr,
    render,
    sentiment_expr,
    text_present,
    where_conditions,
    with_where,
    words_expr,
)
from lib.sql.build import column as column_ref
from lib.sql.build import literal
from lib.sql.build import table as table_ref

WORD_CAP = 1024  # word counts from here up are one group in the lengths query (their sum and maximum are kept)


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
        select.append(exp.alias_(fill("count_if(r IS NULL)", r=column_ref(spec.mapping.rating)), "missing_rating"))
        select.append(exp.alias_(exp.Min(this=rating_expr(spec)), "min_rating"))
        select.append(exp.alias_(exp.Max(this=rating_expr(spec)), "max_rating"))
    day = date_expr(spec)
    if day is not None:
        select.append(exp.alias_(exp.Min(this=day.copy()), "first_date"))
        select.append(exp.alias_(exp.Max(this=day.copy()), "last_date"))
    positions = [exp.Literal.number(i + 1) for i in range(2 if category is not None else 1)]
    query = with_where(exp.select(*select).from_(table_ref(spec.table)), where_conditions(spec))
    query = query.group_by(*positions).order_by(*[exp.Ordered(this=p.copy(), nulls_first=False) for p in positions])
    return render(query)


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
    inner = with_where(
        exp.select(exp.alias_(sentiment_expr(spec), "sentiment"), exp.alias_(words, "words")).from_(
            table_ref(spec.table)
        ),
        where_conditions(spec),
    )
    query = (
        exp.select(
            exp.column("sentiment"),
            exp.alias_(fill("least(words, cap)", cap=exp.Literal.number(WORD_CAP)), "word_count"),
            exp.alias_(exp.Count(this=exp.Star()), "reviews"),
            exp.alias_(exp.Sum(this=exp.column("words")), "total_words"),
            exp.alias_(exp.Max(this=exp.column("words")), "longest"),
        )
        .from_(inner.subquery("w"))
        .group_by(exp.Literal.number(1), exp.Literal.number(2))
        .order_by(exp.Ordered(this=exp.Literal.number(1), nulls_first=False), exp.Ordered(this=exp.Literal.number(2)))
    )
    return render(query)


def monthly_sql(spec: Spec) -> str:
    """Reviews per month and sentiment (rows without a date are left out and counted by the page)."""
    day = date_expr(spec)
    if day is None:
        raise LakeLensError("The monthly charts need a date column; pick one under Columns.")
    query = exp.select(
        exp.alias_(fill("date_trunc('month', d)", d=day), "month"),
        exp.alias_(sentiment_expr(spec), "sentiment"),
        exp.alias_(exp.Count(this=exp.Star()), "reviews"),
    ).from_(table_ref(spec.table))
    query = with_where(query, [*where_conditions(spec), exp.Not(this=exp.Is(this=day.copy(), expression=exp.Null()))])
    positions = [exp.Literal.number(1), exp.Literal.number(2)]
    query = query.group_by(*positions).order_by(*[exp.Ordered(this=p.copy(), nulls_first=False) for p in positions])
    return render(query)


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
        conditions.append(exp.EQ(this=sentiment_expr(spec), expression=literal(sentiment)))
    return conditions


def sample_sql(spec: Spec, category: str | None, sentiment: Any, page: int, page_size: int) -> str:
    """One page of reviews of one category × sentiment cell, in a fixed pseudo-random order."""
    select: list[exp.Expr] = []
    for role, alias in (("text", "text"), ("rating", "rating"), ("label", "label"), ("date", "date")):
        name = spec.mapping.get(role)  # type: ignore[arg-type]
        if name and not (role == "label" and spec.definition != "label"):
            select.append(exp.alias_(column_ref(name), alias))
    if not select:
        raise LakeLensError("The drill-down needs a text, rating or date column; pick one under Columns.")
    query = exp.select(*select).from_(table_ref(spec.table))
    query = with_where(query, [*where_conditions(spec), *_cell_conditions(spec, category, sentiment)])
    query = query.order_by(order_key(spec)).offset(max(page, 0) * page_size).limit(page_size)
    return render(query)


def missing_sql(spec: Spec) -> str:
    """Reviews, and those missing a rating, a text or a category, under the spec's own filters; plus the same
    counts taken one after the other, as the course's preparation removes them (no rating; then no text; then no
    category), so the steps add up to what the preparation leaves out. One scan of the mapped columns."""
    base = replace(spec, filters=replace(spec.filters, complete=False, exclude_categories=()))
    rating_missing = exp.Is(this=sentiment_expr(base), expression=exp.Null())
    has_text = text_present(base, never_null=True)
    text_missing = exp.not_(has_text) if has_text is not None else exp.false()
    category = category_expr(base)
    category_missing = exp.Is(this=category, expression=exp.Null()) if category is not None else exp.false()

    def count_if(condition: exp.Expr) -> exp.Expr:
        return fill("count_if(x)", x=condition)

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
    return render(with_where(exp.select(*select).from_(table_ref(spec.table)), where_conditions(base)))
