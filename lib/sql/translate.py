"""The Athena (Trino) -> DuckDB translation of a checked statement: tables pointed at the local engine's views,
Athena's function names and semantics (integer division, date formats, NaN/Infinity) kept."""

from __future__ import annotations

import logging

from sqlglot import exp
from sqlglot.errors import ErrorLevel, OptimizeError, SchemaError, UnsupportedError

from lib.errors import SqlError
from lib.sql.guard import Statement, TableRef, cte_names

ViewColumns = dict[str, dict[str, dict[str, str]]]  # view schema -> view name -> column -> DuckDB type

log = logging.getLogger("lakelens.sql")


def to_duckdb(
    statement: Statement,
    view_names: dict[TableRef, str],
    columns: ViewColumns | None = None,
    column_types: dict[str, str] | None = None,
) -> str:
    """Translate a checked query to DuckDB SQL, pointing every table at its view.

    With ``columns`` (the views' column types), integer divisions are made integer divisions, as in Athena.
    ``column_types`` (column name -> Glue type, for the tables read) lets the translation keep Athena's result
    types where DuckDB's differ (``date_trunc`` on a DATE column returns a DATE).
    """
    if statement.tree is None:
        raise SqlError("Only queries can be translated to DuckDB.")
    tree = statement.tree.copy()
    ctes = cte_names(tree)
    for node in list(tree.find_all(exp.Table)):
        if not isinstance(node.this, exp.Identifier):
            continue
        if not node.db and node.name.lower() in ctes:
            continue
        ref = TableRef((node.db or "").lower(), node.name.lower())
        target = next(
            (
                name
                for key, name in view_names.items()
                if key.table == ref.table and (not ref.database or key.database == ref.database)
            ),
            None,
        )
        if target is None:
            continue
        schema, table = target.split(".", 1)
        node.set("catalog", None)
        node.set("db", exp.to_identifier(schema, quoted=True))
        node.set("this", exp.to_identifier(table, quoted=True))
        if not node.alias:
            node.set("alias", exp.TableAlias(this=exp.to_identifier(ref.table, quoted=True)))
    date_columns = {name.lower() for name, kind in (column_types or {}).items() if kind.lower() == "date"}
    tree = _athena_functions(tree, date_columns)
    if columns is not None:
        _integer_division(tree, columns)
    _name_outputs(tree)
    try:
        return tree.sql(dialect="duckdb", unsupported_level=ErrorLevel.RAISE)
    except UnsupportedError as exc:
        raise SqlError(f"This Athena SQL cannot be run by the local engine: {exc}.") from None


def _integer_division(tree: exp.Expression, columns: ViewColumns) -> None:
    """Athena (Trino) divides two integers as integers, truncating (7 / 2 is 3, -7 / 2 is -3), and an integer
    division by zero fails; DuckDB's ``/`` gives 3.5 and NULL. The operand types come from sqlglot's annotation
    over the views' columns (on a typed copy, so the query's own names are untouched); a division whose operands
    cannot be typed stays DuckDB's."""
    from sqlglot.optimizer.annotate_types import annotate_types
    from sqlglot.optimizer.qualify import qualify

    divisions = list(tree.find_all(exp.Div))
    if not divisions:
        return
    for number, division in enumerate(divisions):
        division.meta["lakelens_division"] = number  # copies keep their meta: each division finds its typed twin
    schema: dict[str, object] = dict(columns)
    try:
        typed = qualify(tree.copy(), schema=schema, dialect="duckdb", expand_alias_refs=False, expand_stars=False)
        annotate_types(typed, schema=schema, dialect="duckdb")
    except (OptimizeError, SchemaError, ValueError) as exc:
        # What sqlglot raises for a query it cannot type: a column or table it cannot resolve, an alias used
        # twice, an ambiguous schema (OptimizeError, SchemaError), a table its schema lookup misses (ValueError).
        log.debug("Divisions left to DuckDB: sqlglot cannot type the query (%s: %s)", type(exc).__name__, exc)
        return
    twins: dict[int, exp.Div] = {}
    for division in typed.find_all(exp.Div):
        twins.setdefault(int(division.meta.get("lakelens_division", -1)), division)
    integer = exp.DataType.INTEGER_TYPES
    for number, division in enumerate(divisions):
        twin = twins.get(number)
        if twin is None or twin.this.type is None or twin.expression.type is None:
            continue
        if not (twin.this.type.is_type(*integer) and twin.expression.type.is_type(*integer)):
            continue
        zero = exp.EQ(this=division.expression.copy(), expression=exp.Literal.number(0))
        failure = exp.Anonymous(this="error", expressions=[exp.Literal.string("Division by zero")])
        quotient = exp.IntDiv(this=division.this.copy(), expression=division.expression.copy())
        division.replace(exp.Case(ifs=[exp.If(this=zero, true=failure)], default=quotient))


def _name_outputs(tree: exp.Expression) -> None:
    """Athena names an unnamed result column ``_col<position>`` (``SELECT category, count(*)`` gives
    ``category, _col1``); DuckDB would name it after the expression (``count_star()``)."""
    select = tree
    while isinstance(select, exp.SetOperation):
        select = select.this
    if not isinstance(select, exp.Select):
        return
    for index, projection in enumerate(list(select.expressions)):
        if isinstance(projection, exp.Alias | exp.Column | exp.Star) or projection.alias:
            continue
        projection.replace(exp.alias_(projection.copy(), f"_col{index}", quoted=True))


def _is_date(node: exp.Expression, date_columns: set[str]) -> bool:
    """True if the expression is a DATE as far as the SQL's text and the catalog tell (not a timestamp)."""
    if isinstance(node, exp.Cast):
        return node.to.is_type("date")
    if isinstance(node, (exp.CurrentDate, exp.Date, exp.DateFromParts, exp.StrToDate, exp.TsOrDsToDate)):
        return True
    if isinstance(node, exp.Column):
        return node.name.lower() in date_columns
    if isinstance(node, exp.Paren):
        return _is_date(node.this, date_columns)
    return False


def _athena_functions(node: exp.Expression, date_columns: set[str] | None = None) -> exp.Expression:
    """Athena functions sqlglot passes through untranslated (or translates with other semantics), for DuckDB.

    Children first (post-order), so an argument is translated before the function around it and a replacement
    is never translated twice.
    """
    for child in list(node.iter_expressions()):
        translated = _athena_functions(child, date_columns)
        if translated is not child:
            child.replace(translated)
    return _athena_function(node, date_columns or set())


def _athena_function(node: exp.Expression, date_columns: set[str]) -> exp.Expression:
    if isinstance(node, (exp.TimestampTrunc, exp.DateTrunc)) and _is_date(node.this, date_columns):
        # Athena: date_trunc on a DATE is a DATE; DuckDB returns a TIMESTAMP.
        return exp.cast(node.copy(), exp.DataType.build("DATE"))
    if isinstance(node, exp.Cast) and node.to.is_type("json"):
        # Trino: CAST(varchar AS JSON) is a JSON string ("text"), CAST(number AS JSON) a JSON number...; DuckDB's
        # CAST parses the text instead. to_json encodes the value as Trino does; json_parse(text) parses.
        return exp.Anonymous(this="to_json", expressions=[node.this.copy()])
    if isinstance(node, exp.IsInf):
        return exp.Anonymous(this="isinf", expressions=[node.this.copy()])
    if isinstance(node, exp.RegexpExtract) and not isinstance(node.parent, exp.Case):
        # Athena returns NULL when the pattern does not match; DuckDB returns ''.
        matched = exp.RegexpLike(this=node.this.copy(), expression=node.expression.copy())
        return exp.Case(ifs=[exp.If(this=matched, true=node.copy())])
    if not isinstance(node, exp.Anonymous):
        return node
    name = str(node.name).lower()
    args = list(node.expressions)
    if name == "nan" and not args:
        return exp.cast(exp.Literal.string("NaN"), exp.DataType.build("DOUBLE"))
    if name == "infinity" and not args:
        return exp.cast(exp.Literal.string("Infinity"), exp.DataType.build("DOUBLE"))
    if name in ("is_finite", "is_infinite", "is_nan") and len(args) == 1:
        target = {"is_finite": "isfinite", "is_infinite": "isinf", "is_nan": "isnan"}[name]
        return exp.Anonymous(this=target, expressions=[args[0]])
    if name == "format_datetime":
        if len(args) != 2 or not (isinstance(args[1], exp.Literal) and args[1].is_string):
            raise SqlError(
                "format_datetime() needs a value and a fixed pattern text, e.g. format_datetime(ts, 'yyyy-MM')."
            )
        pattern = joda_to_strftime(args[1].name)
        return exp.Anonymous(this="strftime", expressions=[args[0], exp.Literal.string(pattern)])
    if name == "to_iso8601" and len(args) == 1:
        # Athena writes dates as 2020-01-31 and timestamps as 2020-01-31T12:00:00.000; DuckDB's text form
        # of a timestamp has a space instead of the T.
        text = exp.cast(args[0], exp.DataType.build("VARCHAR"))
        return exp.Anonymous(this="replace", expressions=[text, exp.Literal.string(" "), exp.Literal.string("T")])
    return node


# Joda-Time pattern letters (Athena's format_datetime/parse_datetime) and their strftime equivalents, longest first.
_JODA = [
    ("yyyy", "%Y"),
    ("YYYY", "%Y"),
    ("yy", "%y"),
    ("MMMM", "%B"),
    ("MMM", "%b"),
    ("MM", "%m"),
    ("M", "%-m"),
    ("dd", "%d"),
    ("d", "%-d"),
    ("HH", "%H"),
    ("H", "%-H"),
    ("hh", "%I"),
    ("h", "%-I"),
    ("mm", "%M"),
    ("m", "%-M"),
    ("ss", "%S"),
    ("s", "%-S"),
    ("SSSSSS", "%f"),
    ("SSS", "%g"),
    ("a", "%p"),
    ("EEEE", "%A"),
    ("EEE", "%a"),
    ("E", "%a"),
    ("DDD", "%j"),
    ("D", "%-j"),
    ("ZZ", "%z"),
    ("Z", "%z"),
    ("z", "%Z"),
]


def joda_to_strftime(pattern: str) -> str:
    """``yyyy-MM-dd HH:mm`` -> ``%Y-%m-%d %H:%M``; text in single quotes is kept; an unknown letter is an error."""
    out: list[str] = []
    index = 0
    while index < len(pattern):
        char = pattern[index]
        if char == "'":
            close = pattern.find("'", index + 1)
            literal = pattern[index + 1 : close if close >= 0 else len(pattern)]
            out.append("'" if literal == "" else literal.replace("%", "%%"))
            index = len(pattern) if close < 0 else close + 1
            continue
        if char.isalpha():
            token = next((t for t in _JODA if pattern.startswith(t[0], index)), None)
            if token is None:
                raise SqlError(
                    f"The format_datetime pattern letter {char!r} has no equivalent in the local engine; "
                    "use yyyy, MM, dd, HH, mm, ss, SSS, a, EEE or quoted text."
                )
            out.append(token[1])
            index += len(token[0])
            continue
        out.append("%%" if char == "%" else char)
        index += 1
    return "".join(out)


def quote_identifier(name: str) -> str:
    """``name`` as a quoted DuckDB identifier (``"a""b"`` for ``a"b``)."""
    return exp.to_identifier(name, quoted=True).sql(dialect="duckdb")


def quote_literal(text: str) -> str:
    """``text`` as one SQL string literal (quotes doubled), for SQL built from code."""
    return exp.Literal.string(text).sql("duckdb")
