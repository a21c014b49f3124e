"""Athena's failures as the stand-in raises them, and DuckDB's errors translated into Athena's messages."""

from __future__ import annotations

import re

import duckdb
from sqlglot import exp


class AthenaFailure(Exception):
    """A query failure as Athena reports it: an error type name and a message that may name a line and column."""

    def __init__(self, code: str, message: str, *, category: int = 2, error_type: int = 1006) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.category = category  # 1 system, 2 user, 3 other
        self.error_type = error_type


class Cancelled(Exception):
    pass


class AthenaRequestError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


# -- errors -------------------------------------------------------------------------------------------------
def position(sql: str, node: exp.Expression) -> str:
    starts = [
        part.meta["start"]
        for part in (node.args.get("catalog"), node.args.get("db"), node.args.get("this"))
        if isinstance(part, exp.Identifier) and "start" in part.meta
    ]
    if not starts:
        return "line 1:1"
    offset = min(starts)
    before = sql[:offset]
    return f"line {before.count(chr(10)) + 1}:{offset - (before.rfind(chr(10)) + 1) + 1}"


def duckdb_failure(exc: duckdb.Error, sql: str) -> AthenaFailure:
    text = str(exc)
    missing = re.search(r'Referenced column "?([^"\s]+)"? not found', text) or re.search(
        r'column "?([^"\s]+)"? (?:not found|does not exist)', text
    )
    if missing:
        name = missing.group(1).split(".")[-1]
        where = _word_position(sql, name)
        return AthenaFailure(
            "COLUMN_NOT_FOUND",
            f"{where}: Column '{name}' cannot be resolved or requester is not authorized to access requested resources",
            error_type=1006,
        )
    function = re.search(r"(?:Scalar|Aggregate|Table) Function with name \"?(\w+)\"? does not exist", text)
    if function:
        name = function.group(1)
        return AthenaFailure("FUNCTION_NOT_FOUND", f"{_word_position(sql, name)}: Function '{name}' not registered")
    if "Division by zero" in text:
        return AthenaFailure("DIVISION_BY_ZERO", "Division by zero")
    if isinstance(exc, duckdb.ConversionException):
        return AthenaFailure("INVALID_CAST_ARGUMENT", text.splitlines()[0])
    if isinstance(exc, duckdb.BinderException | duckdb.CatalogException | duckdb.ParserException):
        return AthenaFailure("SYNTAX_ERROR", f"line 1:1: {text.splitlines()[0]}", error_type=1001)
    return AthenaFailure("GENERIC_USER_ERROR", text.splitlines()[0])


def _word_position(sql: str, word: str) -> str:
    match = re.search(rf"(?<![\w\"']){re.escape(word)}(?![\w])", sql, re.I) or re.search(re.escape(word), sql, re.I)
    offset = match.start() if match else 0
    before = sql[:offset]
    return f"line {before.count(chr(10)) + 1}:{offset - (before.rfind(chr(10)) + 1) + 1}"
