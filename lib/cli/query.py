"""``python -m lib query`` and ``python -m lib profile``: SQL on the configured backend, and a table's column
statistics."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from lib.cli.common import settings_for
from lib.errors import LakeLensError

if TYPE_CHECKING:
    from lib.backends.base import QueryResult
    from lib.cli.common import SubParsers


def add_parser(sub: SubParsers) -> None:
    query = sub.add_parser(
        "query",
        help="run Athena SQL on the configured backend",
        description="Run one read-only Athena (Trino) SQL statement on the configured backend and print the result, or write the whole result to a file.",
    )
    source = query.add_mutually_exclusive_group(required=True)
    source.add_argument("--sql", help="the SQL text")
    source.add_argument("--sql-file", help="a file holding the SQL")
    query.add_argument(
        "--format",
        choices=["csv", "parquet", "json"],
        default="csv",
        help="format of --out (json: one object per line)",
    )
    query.add_argument("--out", help="write the whole result to this file instead of printing it")
    query.add_argument(
        "--param",
        action="append",
        metavar="NAME=VALUE",
        help="value of the SQL's :NAME parameter, bound as a typed literal (repeatable)",
    )
    query.add_argument("--max-rows", type=int, help="rows to print (default: the LAKELENS_MAX_ROWS setting)")
    query.add_argument("--root", help="query this local lake folder instead of the configured backend")
    query.set_defaults(func=cmd_query)
    prof = sub.add_parser(
        "profile",
        help="column statistics of a table, as JSON",
        description="Glue-style column statistics of a catalog table (nulls, distinct values, min/max, string "
        "lengths, true/false counts, top values) from one aggregate query, printed as JSON.",
    )
    prof.add_argument("--table", required=True, metavar="DB.T", help="the table (database.table)")
    prof.add_argument("--save", action="store_true", help="also store the statistics with the table")
    prof.add_argument("--root", help="use this local lake folder instead of the configured backend")
    prof.set_defaults(func=cmd_profile)


def cmd_query(args: argparse.Namespace) -> int:
    from lib.backends import make_backend

    if args.sql_file:
        try:
            sql = Path(args.sql_file).read_text("utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise LakeLensError(
                f"Cannot read the SQL file {args.sql_file}: {getattr(exc, 'strerror', None) or exc}."
            ) from None
    else:
        sql = args.sql
    from lib.sql import params as paramsmod
    from lib.sql import script

    values = paramsmod.parse_cli(args.param or [])
    settings = settings_for(args)
    backend = make_backend(settings)
    backend.check()
    if args.out:
        rows = backend.export(sql, Path(args.out), args.format, params=values or None)
        print(f"Wrote {rows:,} rows to {args.out} ({args.format})", file=sys.stderr)
        return 0
    steps = script.split(sql)
    if len(steps) > 1 or script.first_word(sql) in ("PREPARE", "EXECUTE"):
        outcomes = script.run(
            sql,
            lambda text, bound: backend.run_query(text, max_rows=args.max_rows or settings.max_rows, params=bound),
            values,
        )
        for number, outcome in enumerate(outcomes, start=1):
            print(f"-- statement {number}: {outcome.shown.splitlines()[0] if outcome.shown else ''}", file=sys.stderr)
            if outcome.error:
                raise LakeLensError(f"statement {number}: {outcome.error}")
            if outcome.note:
                print(f"-- {outcome.note}", file=sys.stderr)
            if outcome.result is not None:
                _print_result(outcome.result)
        return 0
    _print_result(backend.run_query(sql, max_rows=args.max_rows or settings.max_rows, params=values or None))
    return 0


def _print_result(result: QueryResult) -> None:
    import pandas as pd

    with pd.option_context("display.max_rows", None, "display.max_columns", None, "display.width", 200):
        print(result.frame.to_string(index=False) if len(result.frame.columns) else "(no columns)")
    stats = result.stats
    footer = f"{stats.rows:,} rows"
    if stats.truncated:
        of = f" of {stats.total_rows:,}" if stats.total_rows is not None else ""
        footer = f"showing {stats.rows:,}{of} rows; raise LAKELENS_MAX_ROWS or use --out to get them all"
    print(f"-- {footer} · {stats.engine} · {stats.runtime_s:.2f} s · query {stats.query_id}", file=sys.stderr)


def cmd_profile(args: argparse.Namespace) -> int:
    import json

    from lib.backends import make_backend
    from lib.sql import profile

    database, _, name = str(args.table).partition(".")
    if not name:
        raise LakeLensError(f"--table {args.table!r} is not DATABASE.TABLE (for example demo.reviews).")
    settings = settings_for(args)
    backend = make_backend(settings)
    backend.check()
    table = backend.get_table(database.lower(), name.lower())
    result = profile.profile_table(table, lambda sql: backend.run_query(sql, max_rows=10_000).frame)
    body = result.to_json()
    if args.save:
        backend.save_column_statistics(table.database, table.name, body)
        print(f"-- saved with {table.qualified_name} at {body['computed_at']}", file=sys.stderr)
    print(json.dumps(body, indent=2, default=str))
    return 0
