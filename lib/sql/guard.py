"""The SQL guard: every statement is checked here before any engine sees it.

The guard parses the SQL with sqlglot's
Athena (Trino) dialect; decisions are made on the syntax tree, never by regular expressions over the text:

* exactly one statement, at most Athena's 262,144 bytes;
* reads (SELECT, WITH, VALUES, set operations, SHOW, DESCRIBE, EXPLAIN) pass; DDL and DML pass only with the
  ``allow_writes`` setting; engine commands that touch files or settings (COPY, ATTACH, INSTALL, LOAD, PRAGMA,
  SET, ...) never pass;
* table functions (``read_csv('/etc/passwd')``) and functions that read files, the environment or settings are
  refused by name;
* every table must be a catalog table or a CTE: DuckDB's "replacement scans" (``FROM 'file.csv'``) are refused.

On the local backend DuckDB's own access settings are the second wall (see ``lib/backends/local/engine.py``).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from typing import Literal

import sqlglot
from sqlglot import exp
from sqlglot.errors import ErrorLevel, ParseError

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


def cte_names(tree: exp.Expression) -> set[str]:
    return {cte.alias_or_name.lower() for cte in tree.find_all(exp.CTE)}


def table_refs(tree: exp.Expression, default_database: str) -> list[TableRef]:
    """Catalog tables the statement reads, with the default database filled in; CTE names are skipped."""
    ctes = cte_names(tree)
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
