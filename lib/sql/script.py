"""Scripts: several statements run in order, each with its own result; PREPARE/EXECUTE mapped to parameters.

A script is split on the tokenizer's semicolons (a ``;`` inside a string or a comment does not split it); each
piece keeps the comments written above it. Statements run one after the other; the first one that is refused
or fails stops the script with its message, and the results before it are kept.

``PREPARE name FROM <query>`` is remembered for the rest of the script (nothing is created in Athena);
``EXECUTE name USING v1, v2`` runs that query with its ``?`` markers bound, in order, to the literal values
given (text, numbers, ``DATE '...'``), exactly like ``:name`` parameters; ``DEALLOCATE PREPARE name`` forgets
it. The values after USING must be literals: they are parsed, never pasted.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Literal

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError, TokenError
from sqlglot.tokenizer_core import TokenType

from lib.backends.base import QueryResult
from lib.errors import LakeLensError, ParameterError, QueryCancelled, SqlError
from lib.sql import params as paramsmod
from lib.sql.params import ParamValue

MAX_STATEMENTS = 50

_PREPARE = re.compile(r"^\s*PREPARE\s+([A-Za-z_][A-Za-z0-9_]*)\s+FROM\s+(.+)$", re.I | re.S)
_EXECUTE = re.compile(r"^\s*EXECUTE\s+([A-Za-z_][A-Za-z0-9_]*)(?:\s+USING\s+(.+))?$", re.I | re.S)
_DEALLOCATE = re.compile(r"^\s*DEALLOCATE\s+PREPARE\s+([A-Za-z_][A-Za-z0-9_]*)\s*$", re.I | re.S)


def split(sql: str) -> list[str]:
    """The statements of a script, as written (comments above a statement stay with it); empty pieces dropped."""
    try:
        tokens = sqlglot.tokenize(sql, read="athena")
    except TokenError:
        return [sql] if sql.strip() else []  # the guard reports the unclosed quote with its line and column
    pieces: list[str] = []
    start = 0
    for token in tokens:
        if token.token_type == TokenType.SEMICOLON:
            pieces.append(sql[start : token.start])
            start = token.end + 1
    pieces.append(sql[start:])
    return [piece.strip() for piece in pieces if _has_code(piece)]


def _has_code(piece: str) -> bool:
    try:
        return bool(sqlglot.tokenize(piece, read="athena"))
    except TokenError:
        return True


@dataclass(frozen=True)
class Step:
    """One statement to run: the SQL sent to the backend and the parameter values it gets."""

    shown: str  # as the analyst wrote it
    sql: str  # what runs (for EXECUTE: the prepared query with its ? markers named)
    params: dict[str, ParamValue] = field(default_factory=dict)
    kind: Literal["run", "prepare", "deallocate"] = "run"


def first_word(piece: str) -> str:
    try:
        tokens = sqlglot.tokenize(piece, read="athena")
    except TokenError:
        return ""
    return tokens[0].text.upper() if tokens else ""


def _using_values(text: str | None) -> list[ParamValue]:
    """The literals after EXECUTE ... USING, parsed by sqlglot; anything but a literal is refused."""
    if not text or not text.strip():
        return []
    try:
        tree = sqlglot.parse_one("SELECT " + text, read="athena")
    except (ParseError, TokenError):
        raise ParameterError(
            "EXECUTE ... USING takes literal values separated by commas, e.g. USING 'Books', 4."
        ) from None
    if not isinstance(tree, exp.Select) or any(v for k, v in tree.args.items() if k != "expressions"):
        raise ParameterError("EXECUTE ... USING takes literal values only.")
    values: list[ParamValue] = []
    for node in tree.expressions:
        values.append(_literal_value(node))
    return values


def _literal_value(node: exp.Expression) -> ParamValue:
    if isinstance(node, exp.Literal):
        if node.is_string:
            return str(node.this)
        text = str(node.this)
        return int(text) if re.fullmatch(r"\d+", text) else float(text)
    if isinstance(node, exp.Neg) and isinstance(node.this, exp.Literal) and not node.this.is_string:
        value = _literal_value(node.this)
        assert isinstance(value, (int, float))
        return -value
    if isinstance(node, exp.Cast) and isinstance(node.this, exp.Literal) and node.to.is_type("date"):
        try:
            return date.fromisoformat(str(node.this.this))
        except ValueError:
            raise ParameterError(f"{node.sql(dialect='athena')} is not a date written YYYY-MM-DD.") from None
    raise ParameterError(
        f"EXECUTE ... USING takes literal values only (text, numbers, DATE '...'); {node.sql(dialect='athena')!r} "
        "is not one."
    )


def _name_markers(sql: str, values: list[ParamValue], name: str) -> tuple[str, dict[str, ParamValue]]:
    """Turn the prepared query's ``?`` markers into ``:_1``, ``:_2``... (at their token offsets) with the values."""
    try:
        tokens = sqlglot.tokenize(sql, read="athena")
    except TokenError:
        return sql, {}
    markers = [t for t in tokens if t.token_type == TokenType.PLACEHOLDER and t.text == "?"]
    if len(markers) != len(values):
        raise ParameterError(
            f"EXECUTE {name} gives {len(values)} value(s) but the prepared query has {len(markers)} ? marker(s)."
        )
    pieces: list[str] = []
    cursor = 0
    bound: dict[str, ParamValue] = {}
    for index, (marker, value) in enumerate(zip(markers, values, strict=True), start=1):
        pieces.append(sql[cursor : marker.start])
        pieces.append(f":_{index}")
        bound[f"_{index}"] = value
        cursor = marker.end + 1
    pieces.append(sql[cursor:])
    return "".join(pieces), bound


def plan(sql: str, params: Mapping[str, ParamValue] | None = None) -> list[Step]:
    """The steps of a script; each statement gets only the parameters it uses.

    A parameter no statement uses is an error here, as a missing one is when its statement runs.
    """
    pieces = split(sql)
    if not pieces:
        raise SqlError("The SQL is empty: write a query such as SELECT * FROM demo.reviews LIMIT 10.")
    if len(pieces) > MAX_STATEMENTS:
        raise SqlError(f"The script has {len(pieces)} statements; LakeLens runs at most {MAX_STATEMENTS} at once.")
    given = dict(params or {})
    used: set[str] = set()
    steps: list[Step] = []
    for piece in pieces:
        word = first_word(piece)
        if word == "PREPARE":
            match = _PREPARE.match(piece)
            if not match:
                raise SqlError("Write PREPARE name FROM SELECT ...")
            steps.append(Step(piece, match.group(2).strip(), {}, "prepare"))
            continue
        if word == "DEALLOCATE":
            steps.append(Step(piece, piece, {}, "deallocate"))
            continue
        names = {o.name for o in paramsmod.occurrences(piece)}
        used |= names
        steps.append(Step(piece, piece, {n: given[n] for n in names if n in given}))
    unknown = [name for name in given if name not in used]
    if unknown:
        listed = ", ".join(f":{n}" for n in unknown)
        raise ParameterError(f"Unknown parameter {listed}: no statement of the SQL uses it.")
    return steps


@dataclass
class StepOutcome:
    """One statement of a script after it ran: a result, a note (PREPARE), or the error that stopped the script."""

    shown: str
    sql: str
    params: dict[str, ParamValue]
    result: QueryResult | None = None
    error: str = ""
    note: str = ""
    cancelled: bool = False
    cached: bool = False  # set by the page: the result came from its cache


Runner = Callable[[str, dict[str, ParamValue]], QueryResult]


def run(sql: str, runner: Runner, params: Mapping[str, ParamValue] | None = None) -> list[StepOutcome]:
    """Run a script's statements in order through ``runner(sql, params)``; stop at the first error."""
    prepared: dict[str, str] = {}
    outcomes: list[StepOutcome] = []
    try:
        steps = plan(sql, params)
    except LakeLensError as exc:
        return [StepOutcome(sql, sql, dict(params or {}), error=str(exc))]
    for step in steps:
        outcome = StepOutcome(step.shown, step.sql, step.params)
        outcomes.append(outcome)
        try:
            if step.kind == "prepare":
                match = _PREPARE.match(step.shown)
                assert match is not None
                prepared[match.group(1).lower()] = step.sql
                outcome.note = f"Prepared {match.group(1)}: EXECUTE {match.group(1)} USING … runs it."
                continue
            if step.kind == "deallocate":
                match = _DEALLOCATE.match(step.shown)
                if not match or match.group(1).lower() not in prepared:
                    raise SqlError("DEALLOCATE PREPARE needs the name of a statement prepared earlier in the script.")
                prepared.pop(match.group(1).lower())
                outcome.note = f"Forgot {match.group(1)}."
                continue
            execute = _EXECUTE.match(step.shown) if first_word(step.shown) == "EXECUTE" else None
            if execute:
                name = execute.group(1)
                if name.lower() not in prepared:
                    raise SqlError(f"EXECUTE {name}: no PREPARE {name} FROM ... earlier in this script.")
                text, bound = _name_markers(prepared[name.lower()], _using_values(execute.group(2)), name)
                outcome.sql, outcome.params = text, bound
            outcome.result = runner(outcome.sql, outcome.params)
        except LakeLensError as exc:
            outcome.error = str(exc)
            outcome.cancelled = isinstance(exc, QueryCancelled)
            break
    return outcomes


def format_sql(sql: str) -> str:
    """Every statement rewritten readably (sqlglot's pretty printer, Athena dialect), comments kept.

    sqlglot writes ``-- a comment`` as ``/* a comment */`` next to the clause it belongs to; statements it can
    only hold as raw commands (SHOW, PREPARE, EXECUTE...) are kept as written. Unparseable SQL is an error with
    its line and column, and the text is left alone.
    """
    from lib.sql import check_syntax

    pieces = split(sql)
    if not pieces:
        return sql
    out: list[str] = []
    for piece in pieces:
        tree = check_syntax(piece)
        if tree is None or isinstance(tree, exp.Command):
            out.append(piece.strip())
            continue
        out.append(tree.sql(dialect="athena", pretty=True, comments=True))
    return ";\n\n".join(out) + ("\n" if len(out) == 1 else ";\n")
