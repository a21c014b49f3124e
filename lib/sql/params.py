"""Named query parameters (``:name``, awswrangler's "named" style), typed from how the SQL uses them.

A value is never pasted into the SQL text. It is checked against its kind (text, number, date) and then bound:

* locally as a DuckDB parameter (sqlglot writes ``:name`` as DuckDB's ``$name``; the typed Python value is
  handed to DuckDB beside the SQL);
* on Athena as ``ExecutionParameters``: each ``:name`` becomes ``?`` and the value travels as a literal of its
  type (``'it''s'``, ``42``, ``DATE '2024-01-31'``), which Athena parses as one literal, never as SQL.

A comment ``-- :name values from SELECT ...`` gives the parameter a list of values (the page shows a select);
that SELECT goes through the guard like any other query.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError, TokenError
from sqlglot.tokenizer_core import TokenType

from lib.catalog import TableDef
from lib.errors import ParameterError
from lib.sql.translate import quote_literal

ParamKind = Literal["text", "number", "date"]
ParamValue = str | int | float | date

# Athena accepts ExecutionParameters of at most 1,024 characters each; the same limit holds locally.
MAX_LITERAL_CHARS = 1024
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")
_VALUES_FROM = re.compile(r"^\s*:([A-Za-z_][A-Za-z0-9_]*)\s+values\s+from\s+(.+?)\s*;?\s*$", re.I | re.S)
_INT = re.compile(r"[+-]?\d{1,38}")
_FLOAT = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d{1,3})?")
_NUMBER_TYPES = ("int", "integer", "bigint", "smallint", "tinyint", "double", "float", "real", "decimal")
_DATE_TYPES = ("date", "timestamp")


@dataclass(frozen=True)
class Param:
    """One ``:name`` of a query: its kind and, from a ``values from`` comment, the SQL giving its choices."""

    name: str
    kind: ParamKind = "text"
    values_sql: str | None = None


@dataclass(frozen=True)
class Occurrence:
    """Where a ``:name`` stands in the text (offsets of the colon and of the name's last character)."""

    name: str
    start: int
    end: int


def occurrences(sql: str) -> list[Occurrence]:
    """Every ``:name`` in the SQL, in text order; quotes and comments are the tokenizer's business, not ours."""
    try:
        tokens = sqlglot.tokenize(sql, read="athena")
    except TokenError:
        return []
    if tokens and tokens[0].token_type == TokenType.COMMAND:
        # EXPLAIN, SHOW...: the tokenizer keeps the rest of the statement as one raw string; look inside it.
        offset = tokens[0].end + 1
        return [Occurrence(o.name, o.start + offset, o.end + offset) for o in occurrences(sql[offset:])]
    found: list[Occurrence] = []
    for before, token in itertools.pairwise(tokens):
        if before.token_type != TokenType.COLON or token.start != before.end + 1:
            continue
        if token.token_type == TokenType.STRING or not _NAME.fullmatch(token.text):
            continue
        found.append(Occurrence(token.text, before.start, token.end))
    return found


def _explained(sql: str) -> str:
    """The query inside ``EXPLAIN [ANALYZE] [(options)] <query>``, or the SQL itself."""
    try:
        tokens = sqlglot.tokenize(sql, read="athena")
    except TokenError:
        return sql
    if tokens and tokens[0].token_type == TokenType.COMMAND and tokens[0].text.upper() == "EXPLAIN":
        return re.sub(r"^\s*(ANALYZE\s+)?(\([^)]*\)\s*)?", "", sql[tokens[0].end + 1 :], flags=re.I)
    return sql


def _values_comments(sql: str) -> dict[str, str]:
    try:
        tokens = sqlglot.tokenize(sql, read="athena")
    except TokenError:
        return {}
    choices: dict[str, str] = {}
    for token in tokens:
        for comment in token.comments:
            match = _VALUES_FROM.match(comment)
            if match:
                choices.setdefault(match.group(1), match.group(2).strip())
    return choices


def find(sql: str, tables: Iterable[TableDef] = ()) -> list[Param]:
    """The distinct parameters of ``sql`` in order of first use, each typed from how it is used.

    A parameter compared with a column takes the column's type (from ``tables``); one in LIMIT, arithmetic or
    compared with a number is a number; one cast to a type takes that type; everything else is text.
    """
    names = list(dict.fromkeys(o.name for o in occurrences(sql)))
    if not names:
        return []
    kinds = _infer_kinds(_explained(sql), list(tables))
    choices = _values_comments(sql)
    return [Param(name, kinds.get(name, "text"), choices.get(name)) for name in names]


def _kind_of_type(type_name: str) -> ParamKind:
    text = type_name.strip().lower()
    if text.startswith(_NUMBER_TYPES):
        return "number"
    if text.startswith(_DATE_TYPES):
        return "date"
    return "text"


def _infer_kinds(sql: str, tables: list[TableDef]) -> dict[str, ParamKind]:
    try:
        trees = [t for t in sqlglot.parse(sql, read="athena") if t is not None]
    except (ParseError, TokenError):
        return {}
    columns: dict[str, str] = {}
    for table in tables:
        for column in table.all_columns:
            columns.setdefault(column.name.lower(), column.type)
    kinds: dict[str, ParamKind] = {}
    for tree in trees:
        for node in tree.find_all(exp.Placeholder):
            name = str(node.name or "")
            if not name or name in kinds:
                continue
            kind = _kind_from_context(node, columns)
            if kind is not None:
                kinds[name] = kind
    return kinds


def _kind_from_expression(other: exp.Expression | None, columns: dict[str, str]) -> ParamKind | None:
    if isinstance(other, exp.Column):
        column_type = columns.get(other.name.lower())
        return _kind_of_type(column_type) if column_type else None
    if isinstance(other, exp.Literal):
        return "text" if other.is_string else "number"
    if isinstance(other, exp.Cast):
        return _kind_of_type(other.to.sql(dialect="athena"))
    if isinstance(other, (exp.Add, exp.Sub, exp.Mul, exp.Div, exp.Mod, exp.Neg)):
        return "number"
    return None


def _kind_from_context(node: exp.Placeholder, columns: dict[str, str]) -> ParamKind | None:
    parent = node.parent
    if isinstance(parent, (exp.Limit, exp.Offset, exp.Fetch)):
        return "number"
    if isinstance(parent, exp.Cast):
        return _kind_of_type(parent.to.sql(dialect="athena"))
    if isinstance(parent, (exp.Add, exp.Sub, exp.Mul, exp.Div, exp.Mod, exp.Neg)):
        return "number"
    if isinstance(parent, exp.Binary):
        other = parent.right if parent.left is node else parent.left
        return _kind_from_expression(other if isinstance(other, exp.Expression) else None, columns)
    if isinstance(parent, exp.In):
        return _kind_from_expression(parent.this, columns)
    if isinstance(parent, exp.Between):
        return _kind_from_expression(parent.this, columns)
    return None


def coerce(param: Param, raw: ParamValue) -> ParamValue:
    """The value as its kind's Python type; a value that is not of the kind is one clear error."""
    shown = _shown(raw)
    if isinstance(raw, str) and "\x00" in raw:
        raise ParameterError(f"The value of :{param.name} contains a NUL character, which no engine accepts.")
    if param.kind == "number":
        if isinstance(raw, (bool, date)):
            raise ParameterError(f"Parameter :{param.name} must be a number; {shown} is not one.")
        if isinstance(raw, int):
            return raw
        if isinstance(raw, float):
            if not math.isfinite(raw):
                raise ParameterError(f"Parameter :{param.name} must be a finite number; {shown} is not one.")
            return raw
        text = raw.strip()
        if _INT.fullmatch(text):
            return int(text)
        if len(text) <= 60 and _FLOAT.fullmatch(text):
            number = float(text)
            if math.isfinite(number):
                return number
        raise ParameterError(f"Parameter :{param.name} must be a number such as 42 or 3.5; {shown} is not one.")
    if param.kind == "date":
        if isinstance(raw, datetime):
            return raw.date()
        if isinstance(raw, date):
            return raw
        try:
            return date.fromisoformat(str(raw).strip())
        except ValueError:
            raise ParameterError(
                f"Parameter :{param.name} must be a date written YYYY-MM-DD; {shown} is not one."
            ) from None
    text = raw.isoformat() if isinstance(raw, date) else str(raw)
    literal = athena_literal(text)
    if len(literal) > MAX_LITERAL_CHARS:
        raise ParameterError(
            f"The value of :{param.name} is {len(text):,} characters; Athena accepts parameter values of up to "
            f"{MAX_LITERAL_CHARS:,} characters (quotes included): shorten it."
        )
    return text


def _shown(raw: ParamValue) -> str:
    text = repr(raw if not isinstance(raw, date) else raw.isoformat())
    return text if len(text) <= 60 else text[:57] + "…'"


def athena_literal(value: ParamValue) -> str:
    """The value as an Athena literal of its type, for ``ExecutionParameters``."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value).upper() if "e" in repr(value) else repr(value)
    if isinstance(value, date):
        return f"DATE '{value.isoformat()}'"
    return quote_literal(value)


@dataclass(frozen=True)
class Bound:
    """Parameters checked against the SQL: typed values by name, and the same in text order for Athena."""

    values: dict[str, ParamValue]
    athena_sql: str
    athena_parameters: list[str]


def bind(sql: str, given: Mapping[str, ParamValue] | None, tables: Iterable[TableDef] = ()) -> Bound:
    """Check that every ``:name`` of ``sql`` has a value and no value is left over, and type each value.

    The Athena form replaces each ``:name`` by ``?`` (Athena's execution-parameter marker) at its token's
    offsets, leaving the rest of the text as it was written.
    """
    given = dict(given or {})
    found = find(sql, tables)
    used = {p.name for p in found}
    missing = [p.name for p in found if p.name not in given]
    unknown = [name for name in given if name not in used]
    if missing:
        names = ", ".join(f":{n}" for n in missing)
        raise ParameterError(
            f"The query uses {names} but no value was given; give one for each (--param NAME=VALUE on the CLI)."
        )
    if unknown:
        names = ", ".join(f":{n}" for n in unknown)
        listed = ", ".join(f":{p.name}" for p in found) or "no parameters"
        raise ParameterError(f"Unknown parameter {names}: the query uses {listed}.")
    values = {p.name: coerce(p, given[p.name]) for p in found}
    pieces: list[str] = []
    literals: list[str] = []
    cursor = 0
    for occurrence in occurrences(sql):
        pieces.append(sql[cursor : occurrence.start])
        pieces.append("?")
        literals.append(athena_literal(values[occurrence.name]))
        cursor = occurrence.end + 1
    pieces.append(sql[cursor:])
    return Bound(values, "".join(pieces), literals)


def unnamed_markers(tree: exp.Expression | None) -> int:
    """How many ``?`` markers a parsed statement holds (only PREPARE ... EXECUTE USING fills those)."""
    if tree is None:
        return 0
    return sum(1 for node in tree.find_all(exp.Placeholder) if not node.this)


def parse_cli(pairs: Iterable[str]) -> dict[str, ParamValue]:
    """``name=value`` pairs from the command line; a pair without ``=`` or a repeated name is an error."""
    values: dict[str, ParamValue] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        name = name.strip().lstrip(":")
        if not sep or not _NAME.fullmatch(name):
            raise ParameterError(f"--param {pair!r} is not NAME=VALUE (for example --param cat=Books).")
        if name in values:
            raise ParameterError(f"--param {name} is given twice; give each parameter once.")
        values[name] = value
    return values


UNNAMED_MESSAGE = (
    "A bare ? marker has no name to give it a value: write :name instead (the page then shows an input), or use "
    "PREPARE name FROM ...; EXECUTE name USING value."
)
