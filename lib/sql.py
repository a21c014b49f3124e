"""The SQL guard and the Athena -> DuckDB translation.

Every statement goes through :func:`check` before any engine sees it. The guard parses the SQL with sqlglot's
Athena (Trino) dialect; decisions are made on the syntax tree, never by regular expressions over the text:

* exactly one statement, at most Athena's 262,144 bytes;
* reads (SELECT, WITH, VALUES, set operations, SHOW, DESCRIBE, EXPLAIN) pass; DDL and DML pass only with the
  ``allow_writes`` setting; engine commands that touch files or settings (COPY, ATTACH, INSTALL, LOAD, PRAGMA,
  SET, ...) never pass;
* table functions (``read_csv('/etc/passwd')``) and functions that read files, the environment or settings are
  refused by name;
* every table must be a catalog table or a CTE: DuckDB's "replacement scans" (``FROM 'file.csv'``) are refused.

On the local backend DuckDB's own access settings are the second wall (see ``lib/backends/local.py``).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from typing import Literal

import sqlglot
from sqlglot import exp
from sqlglot.errors import ErrorLevel, ParseError, UnsupportedError

from lib.errors import SqlError, SqlRefused

logging.getLogger("sqlglot").setLevel(logging.ERROR)  # "falling back to Command" is expected for SHOW/EXPLAIN

ATHENA_MAX_QUERY_BYTES = 262_144
DEFAULT_CATALOG = "awsdatacatalog"
INFORMATION_SCHEMA = "information_schema"

StatementKind = Literal["query", "show", "describe", "explain", "write"]

# Functions that read files, the environment or the engine's configuration. Matched on the lower-case name;
# a trailing "*" matches a prefix.
_BLOCKED_FUNCTIONS = (
    "read_*",
    "parquet_*",
    "sniff_csv",
    "glob",
    "getenv",
    "current_setting",
    "duckdb_*",
    "pragma_*",
    "sqlite_*",
    "postgres_*",
    "mysql_*",
    "iceberg_*",
    "delta_*",
    "query",
    "query_table",
    "which_secret",
    "load_aws_credentials",
    "system",
    "shell",
    "http_*",
    "readcsv",
    "readparquet",
    "readjson",
    "csv_scan",
    "json_scan",
    "parquet_scan",
    "arrow_scan",
    "file_*",
    "set_*",
)

_WRITE_TYPES: tuple[type, ...] = (
    exp.Insert,
    exp.Update,
    exp.Delete,
    exp.Merge,
    exp.Create,
    exp.Drop,
    exp.Alter,
    exp.TruncateTable,
    exp.Grant,
)
_READ_TYPES: tuple[type, ...] = (exp.Query, exp.Values)
_NEVER_COMMANDS = {
    "ATTACH",
    "DETACH",
    "COPY",
    "INSTALL",
    "LOAD",
    "PRAGMA",
    "SET",
    "RESET",
    "CALL",
    "EXPORT",
    "IMPORT",
    "CHECKPOINT",
    "VACUUM",
    "USE",
    "FORCE",
    "UPDATE_EXTENSIONS",
}
_WRITE_COMMANDS = {
    "MSCK",
    "ALTER",
    "CREATE",
    "DROP",
    "INSERT",
    "DELETE",
    "UPDATE",
    "MERGE",
    "UNLOAD",
    "OPTIMIZE",
    "GRANT",
    "REVOKE",
    "TRUNCATE",
    "REFRESH",
    "REPLACE",
}


_TABLE_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_-]{0,254}")


@dataclass(frozen=True)
class TableRef:
    database: str
    table: str

    @property
    def qualified(self) -> str:
        return f"{self.database}.{self.table}"


@dataclass
class Statement:
    """A statement that passed the guard."""

    sql: str
    kind: StatementKind
    tree: exp.Expression | None
    tables: list[TableRef] = field(default_factory=list)
    command: str = ""  # for SHOW/EXPLAIN: the text after the keyword


def _parse_error(exc: ParseError, sql: str) -> SqlError:
    """sqlglot's parse error as one sentence an analyst can act on, with the line and column."""
    first = exc.errors[0] if exc.errors else {}
    line, column = first.get("line"), first.get("col")
    description = str(first.get("description") or exc).split(". Line")[0]
    description = re.sub(r"<Token token_type: TokenType\.(\w+), text: ([^,]*),.*?>", r"'\2'", description)
    highlight = first.get("highlight")
    missing = re.search(r"Required keyword: '(\w+)' missing for <class '[\w.]*\.(\w+)'>", description)
    if "SENTINEL" in description or (missing and highlight and sql.rstrip().rstrip(";").endswith(str(highlight))):
        description = "the statement ends too early; something is missing at the end"
    elif missing:
        description = f"the {_CLAUSE_NAMES.get(missing.group(2), missing.group(2).upper())} is incomplete"
    elif description.startswith("Invalid expression / Unexpected token"):
        description = "this word or symbol is not expected here"
    elif description.startswith("Expecting )"):
        description = "a closing parenthesis ')' is missing"
    near = f" near {highlight!r}" if highlight else ""
    where = f" at line {line}, column {column}" if line is not None else ""
    return SqlError(f"Syntax error{where}{near}: {description}.", line=line, column=column)


_CLAUSE_NAMES = {
    "Where": "WHERE clause",
    "Order": "ORDER BY clause",
    "Group": "GROUP BY clause",
    "Having": "HAVING clause",
    "Join": "JOIN",
    "EQ": "comparison '='",
    "NEQ": "comparison '<>'",
    "GT": "comparison '>'",
    "LT": "comparison '<'",
    "GTE": "comparison '>='",
    "LTE": "comparison '<='",
    "And": "AND condition",
    "Or": "OR condition",
    "Add": "'+' expression",
    "Sub": "'-' expression",
    "Mul": "'*' expression",
    "Div": "'/' expression",
    "Limit": "LIMIT clause",
    "Cast": "CAST",
    "In": "IN list",
    "Between": "BETWEEN",
    "Like": "LIKE",
}


def _token_error(exc: Exception, sql: str) -> SqlError:
    """A tokenizer error (usually an unclosed quote or comment) with the line and column where it starts."""
    start = _unclosed_at(sql)
    if start is None:
        return SqlError("Syntax error: a quote or comment is not closed.")
    line = sql.count("\n", 0, start) + 1
    column = start - (sql.rfind("\n", 0, start) + 1) + 1
    opener = sql[start : start + 2] if sql.startswith("/*", start) else sql[start]
    what = "a comment '/*' is not closed" if opener == "/*" else f"the quote {opener} is not closed"
    return SqlError(f"Syntax error at line {line}, column {column}: {what}.", line=line, column=column)


def _unclosed_at(sql: str) -> int | None:
    """Offset of the quote or block comment that never closes (only used to point at a tokenizer error)."""
    index = 0
    while index < len(sql):
        char = sql[index]
        if sql.startswith("--", index):
            newline = sql.find("\n", index)
            index = len(sql) if newline < 0 else newline + 1
            continue
        if sql.startswith("/*", index):
            close = sql.find("*/", index + 2)
            if close < 0:
                return index
            index = close + 2
            continue
        if char in ("'", '"', "`"):
            cursor = index + 1
            while True:
                close = sql.find(char, cursor)
                if close < 0:
                    return index
                if sql.startswith(char * 2, close):
                    cursor = close + 2
                    continue
                break
            index = close + 1
            continue
        index += 1
    return None


def _function_name(node: exp.Func) -> str:
    if isinstance(node, exp.Anonymous):
        return str(node.name).lower()
    return node.sql_name().lower()


def _blocked(name: str) -> bool:
    for pattern in _BLOCKED_FUNCTIONS:
        if pattern.endswith("*") and name.startswith(pattern[:-1]):
            return True
        if name == pattern:
            return True
    return False


def _check_tree(tree: exp.Expression) -> None:
    for node in tree.walk():
        if isinstance(node, exp.Func):
            name = _function_name(node)
            if _blocked(name) or _blocked(type(node).__name__.lower()):
                raise SqlRefused(
                    f"The function {name}() is not allowed: LakeLens SQL reads catalog tables only, not files, "
                    "settings or the environment."
                )
        if isinstance(node, _WRITE_TYPES) and node is not tree:
            raise SqlRefused(
                f"A {type(node).__name__.upper()} inside a query would change the lake, and LakeLens never runs "
                "one there: write a query that only reads."
            )
        if isinstance(node, exp.Table) and node.this is not None and not isinstance(node.this, exp.Identifier):
            inner = node.this
            name = _function_name(inner) if isinstance(inner, exp.Func) else inner.sql()
            raise SqlRefused(f"Reading from {name}(...) is not allowed: query catalog tables by name (database.table).")
        if isinstance(node, (exp.Copy, exp.Pragma, exp.Set, exp.Command)) and node is not tree:
            raise SqlRefused("Engine commands (COPY, PRAGMA, SET, ...) are not allowed inside a query.")


def _cte_names(tree: exp.Expression) -> set[str]:
    return {cte.alias_or_name.lower() for cte in tree.find_all(exp.CTE)}


def table_refs(tree: exp.Expression, default_database: str) -> list[TableRef]:
    """Catalog tables the statement reads, with the default database filled in; CTE names are skipped."""
    ctes = _cte_names(tree)
    refs: list[TableRef] = []
    for node in tree.find_all(exp.Table):
        if not isinstance(node.this, exp.Identifier):
            continue
        name = node.name
        database = node.db
        catalog = node.catalog
        if not database and name.lower() in ctes:
            continue
        if catalog and catalog.lower() != DEFAULT_CATALOG:
            raise SqlRefused(f"Catalog {catalog!r} is not available: LakeLens queries the {DEFAULT_CATALOG} catalog.")
        for part in (database, name):
            if part and not _TABLE_NAME.fullmatch(part):
                raise SqlRefused(
                    f"{part!r} is not a table name: LakeLens reads catalog tables (database.table), not files or paths."
                )
        ref = TableRef((database or default_database).lower(), name.lower())
        if ref not in refs:
            refs.append(ref)
    return refs


def check(sql: str, *, allow_writes: bool = False, default_database: str = "demo") -> Statement:
    """Parse and vet one statement. Raises :class:`SqlError` (unparseable) or :class:`SqlRefused` (not allowed)."""
    if sql is None or not sql.strip() or not _strip_comments(sql).strip().strip(";").strip():
        raise SqlError("The SQL is empty: write a query such as SELECT * FROM demo.reviews LIMIT 10.")
    size = len(sql.encode("utf-8"))
    if size > ATHENA_MAX_QUERY_BYTES:
        raise SqlError(f"The SQL is {size:,} bytes; Athena accepts at most {ATHENA_MAX_QUERY_BYTES:,} bytes per query.")
    first = _first_keyword(sql)
    if first in _NEVER_COMMANDS:
        raise SqlRefused(f"{first} is not allowed in LakeLens: it reaches files or settings outside the lake.")
    try:
        trees = [tree for tree in sqlglot.parse(sql, read="athena", error_level=ErrorLevel.RAISE) if tree is not None]
    except ParseError as exc:
        raise _parse_error(exc, sql) from None
    except sqlglot.errors.TokenError as exc:
        raise _token_error(exc, sql) from None
    if len(trees) != 1:
        raise SqlRefused(f"Run one statement at a time; this SQL has {len(trees)} statements.")
    tree: exp.Expression = trees[0]  # type: ignore[assignment]
    return _classify(sql, tree, allow_writes=allow_writes, default_database=default_database)


def check_syntax(sql: str) -> exp.Expression | None:
    """Parse one statement (for formatting) with the guard's error messages; nothing is vetted or run."""
    try:
        trees = [tree for tree in sqlglot.parse(sql, read="athena", error_level=ErrorLevel.RAISE) if tree is not None]
    except ParseError as exc:
        raise _parse_error(exc, sql) from None
    except sqlglot.errors.TokenError as exc:
        raise _token_error(exc, sql) from None
    return trees[0] if trees else None  # type: ignore[return-value]


def _first_keyword(sql: str) -> str:
    try:
        tokens = sqlglot.tokenize(sql, read="athena")
    except sqlglot.errors.TokenError:
        return ""
    return tokens[0].text.upper() if tokens else ""


def _strip_comments(sql: str) -> str:
    return re.sub(r"--[^\n]*|/\*.*?\*/", " ", sql, flags=re.S)


def _classify(sql: str, tree: exp.Expression, *, allow_writes: bool, default_database: str) -> Statement:
    if isinstance(tree, exp.Command):
        keyword = (str(tree.this).upper().split() or [""])[0]
        expression = tree.expression
        if isinstance(expression, exp.Expression):
            rest = expression.name if isinstance(expression, exp.Literal) else expression.sql()
        else:
            rest = str(expression or "")
        if keyword == "SHOW":
            return Statement(sql, "show", None, command=rest.strip())
        if keyword == "EXPLAIN":
            inner_sql = re.sub(r"^\s*(ANALYZE\s+)?(\([^)]*\)\s*)?", "", rest, flags=re.I)
            inner = check(inner_sql, allow_writes=False, default_database=default_database)
            if inner.kind != "query":
                raise SqlRefused("EXPLAIN works on queries (SELECT, WITH, VALUES) only.")
            return Statement(sql, "explain", inner.tree, inner.tables, command=inner_sql)
        if keyword in _NEVER_COMMANDS:
            raise SqlRefused(f"{keyword} is not allowed in LakeLens: it reaches files or settings outside the lake.")
        if keyword in _WRITE_COMMANDS:
            return _write(sql, tree, keyword, allow_writes, default_database)
        raise SqlRefused(f"{keyword} statements are not supported; LakeLens runs queries (SELECT, WITH, SHOW, ...).")
    if isinstance(tree, (exp.Copy, exp.Pragma, exp.Set)) or type(tree).__name__ in {
        "Attach",
        "Detach",
        "Install",
        "Load",
        "Use",
        "Export",
    }:
        name = type(tree).__name__.upper()
        raise SqlRefused(f"{name} is not allowed in LakeLens: it reaches files or settings outside the lake.")
    if isinstance(tree, exp.Alias) or not isinstance(tree, (*_READ_TYPES, exp.Describe, *_WRITE_TYPES)):
        first = sql.strip().split(None, 1)[0].upper() if sql.strip() else ""
        if first in _NEVER_COMMANDS:
            raise SqlRefused(f"{first} is not allowed in LakeLens: it reaches files or settings outside the lake.")
        raise SqlRefused(
            f"This kind of statement ({first or type(tree).__name__}) is not supported; LakeLens runs queries."
        )
    _check_tree(tree)
    if isinstance(tree, _WRITE_TYPES):
        return _write(sql, tree, type(tree).__name__.upper(), allow_writes, default_database)
    if isinstance(tree, exp.Describe):
        return Statement(sql, "describe", tree, table_refs(tree, default_database))
    return Statement(sql, "query", tree, table_refs(tree, default_database))


def _write(sql: str, tree: exp.Expression, keyword: str, allow_writes: bool, default_database: str) -> Statement:
    if not allow_writes:
        raise SqlRefused(
            f"{keyword} changes the lake, and SQL is read-only here. Ask an administrator to set "
            "LAKELENS_ALLOW_WRITES=true if writes are needed."
        )
    refs = [] if isinstance(tree, exp.Command) else table_refs(tree, default_database)
    return Statement(sql, "write", tree, refs)


ViewColumns = dict[str, dict[str, dict[str, str]]]  # view schema -> view name -> column -> DuckDB type


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
    ctes = _cte_names(tree)
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
    except Exception:
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
    return exp.to_identifier(name, quoted=True).sql(dialect="duckdb")


def starter_query(database: str, table: str, limit: int = 100) -> str:
    """``SELECT * FROM db.table LIMIT n`` built with sqlglot, names quoted where needed."""
    query = exp.select("*").from_(exp.table_(table, db=database)).limit(limit)
    return query.sql(dialect="athena")


@dataclass(frozen=True)
class StarterQuery:
    """A ready-made question for the SQL page's starter menu."""

    title: str
    sql: str


# The course's mapping from star ratings to sentiment: 1-2 stars negative (-1), 3 neutral (0), 4-5 positive (+1).
SENTIMENT_CASE = "CASE WHEN star_rating <= 2 THEN -1 WHEN star_rating = 3 THEN 0 WHEN star_rating >= 4 THEN 1 END"


def week1_queries(table: str = "demo.reviews") -> list[StarterQuery]:
    """The *Practical Data Science on AWS* week-1 questions, written in Athena SQL for ``table``.

    ``table`` must be a catalog name (``database.table``) with the demo lake's columns; it is checked, never
    pasted as free text.
    """
    database, _, name = table.partition(".")
    if not name or not _TABLE_NAME.fullmatch(database) or not _TABLE_NAME.fullmatch(name):
        raise SqlError(f"{table!r} is not a database.table name.")
    labelled = (
        f"WITH labelled AS (\n    SELECT product_category, review_body,\n           {SENTIMENT_CASE} AS sentiment\n"
        f"    FROM {table}\n)\n"
    )
    return [
        StarterQuery(
            "Sentiment counts",
            "-- How many reviews are negative (-1), neutral (0) and positive (+1)?\n"
            + labelled
            + "SELECT sentiment, COUNT(sentiment) AS count_sentiment\nFROM labelled\nGROUP BY sentiment\n"
            "ORDER BY sentiment",
        ),
        StarterQuery(
            "Reviews per category",
            "-- Which product categories have the most reviews?\n"
            f"SELECT product_category, COUNT(*) AS count_reviews\nFROM {table}\nGROUP BY product_category\n"
            "ORDER BY count_reviews DESC, product_category",
        ),
        StarterQuery(
            "Average sentiment per category",
            "-- Which product categories are rated highest by average sentiment?\n"
            + labelled
            + "SELECT product_category, AVG(sentiment) AS avg_sentiment\nFROM labelled\nGROUP BY product_category\n"
            "ORDER BY avg_sentiment DESC, product_category",
        ),
        StarterQuery(
            "Sentiment share per category",
            "-- What share of each category's reviews is negative, neutral and positive?\n"
            + labelled
            + ", counts AS (\n    SELECT product_category, sentiment, COUNT(*) AS count_reviews\n    FROM labelled\n"
            "    GROUP BY product_category, sentiment\n)\n"
            "SELECT product_category, sentiment, count_reviews,\n"
            "       ROUND(100.0 * count_reviews / SUM(count_reviews) OVER (PARTITION BY product_category), 2)"
            " AS percent_of_category\nFROM counts\nORDER BY product_category, sentiment",
        ),
        StarterQuery(
            "Words per review",
            "-- How long are the reviews? Number of words per review, and how many reviews have that many.\n"
            "SELECT num_words, COUNT(*) AS count_reviews\nFROM (\n"
            f"    SELECT CARDINALITY(SPLIT(review_body, ' ')) AS num_words\n    FROM {table}\n)\n"
            "GROUP BY num_words\nORDER BY num_words",
        ),
    ]
