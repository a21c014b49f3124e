"""Sentiment over any review table: which columns mean what, how sentiment is defined, and the SQL behind each chart.

The page answers the course's week-1 questions (how is sentiment distributed, per category, how long are the
reviews, how does it move over time) for any table in the lake. Everything here is plain Python, in modules by
responsibility; this package names what callers use, so ``from lib import sentiment`` is all a page, the CLI or a
test needs:

* :mod:`~lib.sentiment.columns`: the roles (rating, text, category, date, label, word count),
  :func:`detect_columns`'s guesses from names and types, and the sentiment *definitions*: the course's three
  classes (ratings 1–2 → −1, 3 → 0, 4–5 → +1), binary (rating > 3 → 1, else 0), or an existing label column.
* :mod:`~lib.sentiment.spec`: :class:`Filters` and :class:`Spec` (what the numbers are of) and the sqlglot
  expressions every query shares (sentiment, category, date, words, "the review has text", the WHERE clause).
  Missing is missing: a NULL or blank text, a NULL or empty category and a NULL or non-numeric rating count as
  absent on both backends.
* :mod:`~lib.sentiment.queries`: the page's few aggregate queries (counts, lengths, monthly, sample, missing).
* :mod:`~lib.sentiment.tidy`: from those small frames to the page's numbers and chart data.
* :mod:`~lib.sentiment.balance`: :func:`write_balanced` balances on the engine (by sentiment, or by
  category × sentiment) and registers the result as a Parquet table, on either backend.
* :mod:`~lib.sentiment.flows`: :func:`prepare` (the course's preparation as one switch, each step with the count
  it removed), :func:`summary` (the page's numbers as one JSON-ready dict, for ``python -m lib sentiment
  summary``) and :func:`page_data` (for the benchmark).
* :mod:`~lib.sentiment.bias`: SageMaker Clarify's pre-training bias metrics per category.
"""

from __future__ import annotations

from lib.sentiment import bias
from lib.sentiment.balance import (
    BALANCE_BY,
    BalanceBy,
    BalancedTable,
    balance_cells_sql,
    balanced_sql,
    output_names,
    write_balanced,
)
from lib.sentiment.columns import (
    DEFINITIONS,
    NO_SOURCE_MESSAGE,
    ROLE_HELP,
    ROLES,
    ColumnMapping,
    Role,
    SentimentDefinition,
    column_type,
    definitions_for,
    detect_columns,
    is_numeric,
    is_string,
    is_temporal,
    normalize_name,
)
from lib.sentiment.flows import Prepared, Step, page_data, prepare, summary
from lib.sentiment.queries import WORD_CAP, counts_sql, lengths_sql, missing_sql, monthly_sql, sample_sql
from lib.sentiment.spec import (
    MAX_GROUPS,
    SMALL_CATEGORY_MAX,
    Filters,
    Runner,
    Spec,
    category_expr,
    date_expr,
    rating_expr,
    sentiment_expr,
    text_present,
    where_conditions,
    words_expr,
)
from lib.sentiment.tidy import (
    MISSING_SENTIMENT,
    PERCENTILES,
    SENTIMENT_NAMES,
    WORD_BINS,
    Lengths,
    Missing,
    NullSummary,
    Ranges,
    average_per_category,
    bin_label,
    category_totals,
    default_positive,
    drop_categories,
    null_summary,
    per_category,
    per_sentiment,
    ranges,
    sentiment_name,
    sentiment_order,
    small_categories,
    tidy_counts,
    tidy_lengths,
    tidy_missing,
    tidy_monthly,
)

__all__ = [
    "BALANCE_BY",
    "DEFINITIONS",
    "MAX_GROUPS",
    "MISSING_SENTIMENT",
    "NO_SOURCE_MESSAGE",
    "PERCENTILES",
    "ROLES",
    "ROLE_HELP",
    "SENTIMENT_NAMES",
    "SMALL_CATEGORY_MAX",
    "WORD_BINS",
    "WORD_CAP",
    "BalanceBy",
    "BalancedTable",
    "ColumnMapping",
    "Filters",
    "Lengths",
    "Missing",
    "NullSummary",
    "Prepared",
    "Ranges",
    "Role",
    "Runner",
    "SentimentDefinition",
    "Spec",
    "Step",
    "average_per_category",
    "balance_cells_sql",
    "balanced_sql",
    "bias",
    "bin_label",
    "category_expr",
    "category_totals",
    "column_type",
    "counts_sql",
    "date_expr",
    "default_positive",
    "definitions_for",
    "detect_columns",
    "drop_categories",
    "is_numeric",
    "is_string",
    "is_temporal",
    "lengths_sql",
    "missing_sql",
    "monthly_sql",
    "normalize_name",
    "null_summary",
    "output_names",
    "page_data",
    "per_category",
    "per_sentiment",
    "prepare",
    "ranges",
    "rating_expr",
    "sample_sql",
    "sentiment_expr",
    "sentiment_name",
    "sentiment_order",
    "small_categories",
    "summary",
    "text_present",
    "tidy_counts",
    "tidy_lengths",
    "tidy_missing",
    "tidy_monthly",
    "where_conditions",
    "words_expr",
    "write_balanced",
]
