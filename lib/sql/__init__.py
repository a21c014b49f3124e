"""Athena SQL: the guard every statement passes (``guard``), its translation for the local engine (``translate``),
``:name`` parameters (``params``), scripts of several statements (``script``), EXPLAIN plans (``plan``), scan
estimates (``estimate``), query history and saved queries (``history``), column profiles (``profile``) and the
SQL page's ready-made queries (``starters``).

The names below are the guard's and the translation's public API, so ``from lib import sql; sql.check(...)``
reads as it did when this was one module.
"""

from __future__ import annotations

from lib.sql.guard import (
    ATHENA_MAX_QUERY_BYTES,
    DEFAULT_CATALOG,
    INFORMATION_SCHEMA,
    Statement,
    TableRef,
    check,
    check_syntax,
    table_refs,
)
from lib.sql.starters import SENTIMENT_CASE, StarterQuery, starter_query, week1_queries
from lib.sql.translate import ViewColumns, joda_to_strftime, quote_identifier, quote_literal, to_duckdb

__all__ = [
    "ATHENA_MAX_QUERY_BYTES",
    "DEFAULT_CATALOG",
    "INFORMATION_SCHEMA",
    "SENTIMENT_CASE",
    "StarterQuery",
    "Statement",
    "TableRef",
    "ViewColumns",
    "check",
    "check_syntax",
    "joda_to_strftime",
    "quote_identifier",
    "quote_literal",
    "starter_query",
    "table_refs",
    "to_duckdb",
    "week1_queries",
]
