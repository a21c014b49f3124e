"""``python -m lib <command>``: the same domain the pages use, from a terminal.

Every failure the user can cause ends as one line on stderr and a non-zero exit: 1 for a LakeLens error
(bad SQL, missing table, unreachable backend), 2 for a usage error (argparse's own convention).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from lib.errors import LakeLensError
from lib.settings import Settings, load_settings

if TYPE_CHECKING:
    import pandas as pd

    from lib import sentiment
    from lib.backends.base import Backend, QueryResult


def _settings(args: argparse.Namespace) -> Settings:
    settings = load_settings()
    root = getattr(args, "root", None)
    if root:
        settings = settings.replace(lake_root=root, backend="local")
    return settings


def cmd_demo(args: argparse.Namespace) -> int:
    from lib.backends import make_backend
    from lib.lake import demo

    settings = _settings(args)
    rows = args.rows or settings.demo_rows
    backend = make_backend(settings)
    where = getattr(backend, "root", None) or settings.s3_lake  # the lake folder, or the S3 lake on aws
    if settings.backend == "aws":
        backend.check()
    if args.if_missing and demo.exists(backend):
        print(f"Demo lake already present at {where}")
        return 0
    if args.if_missing and settings.backend == "aws":  # `make run`: never write to an AWS account unasked
        print(f"No demo lake in {where}; on aws it is built only when asked: python -m lib demo")
        return 0
    started = time.perf_counter()
    last = [-1]

    def progress(fraction: float, message: str) -> None:
        percent = int(fraction * 100)
        if percent // 10 != last[0] // 10 or fraction >= 1:
            last[0] = percent
            print(f"{percent:3d}%  {message}", file=sys.stderr)

    demo.build(backend, rows, progress=progress)
    print(f"Demo lake with {rows:,} reviews built in {time.perf_counter() - started:.1f} s at {where}")
    return 0


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
    settings = _settings(args)
    backend = make_backend(settings)
    backend.check()
    if args.out:
        rows = backend.export(sql, Path(args.out), args.format, params=values or None)
        print(f"Wrote {rows:,} rows to {args.out} ({args.format})", file=sys.stderr)
        return 0
    steps = script.split(sql)
    if len(steps) > 1 or script._first_word(sql) in ("PREPARE", "EXECUTE"):
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
    settings = _settings(args)
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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m lib", description="LakeLens from the command line.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    demo = sub.add_parser(
        "demo",
        help="build or rebuild the demo lake",
        description="Build (or rebuild) the demo lake: raw TSV and curated Parquet reviews, registered as demo.reviews_raw and demo.reviews.",
    )
    demo.add_argument("--rows", type=int, help="number of reviews (default: the LAKELENS_DEMO_ROWS setting, 100,000)")
    demo.add_argument("--if-missing", action="store_true", help="do nothing when the demo tables already exist")
    demo.add_argument("--root", help="lake folder (default: the LAKELENS_LAKE_ROOT setting, ./lake)")
    demo.set_defaults(func=cmd_demo)

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

    ingest = sub.add_parser(
        "ingest",
        help="ingest a CSV, TSV, JSON, JSON lines or Parquet file as a table",
        description="Land FILE in the raw zone (raw/<database>/<table>/) and register it as a table; with "
        "--curated or --partition-by, also write a Parquet copy to curated/<database>/<table>/ and register it as "
        "the table (the raw file becomes <table>_raw). All or nothing: a failure leaves nothing behind.",
    )
    ingest.add_argument("file", metavar="FILE", help="the file to ingest (.gz variants of the text formats too)")
    ingest.add_argument("--database", required=True, help="database to register the table in (created if missing)")
    ingest.add_argument("--table", required=True, help="table name (made Glue-safe the way awswrangler does it)")
    ingest.add_argument("--format", choices=["auto", "csv", "tsv", "json", "jsonl", "parquet"], default="auto")
    ingest.add_argument("--partition-by", metavar="COL", help="write the curated Parquet copy partitioned by COL")
    ingest.add_argument(
        "--curated", action="store_true", help="write a curated Parquet copy (implied by --partition-by)"
    )
    ingest.add_argument("--encoding", choices=["utf-8", "latin-1", "cp1252"], default="utf-8", help="text encoding")
    ingest.add_argument("--skip-bad-rows", action="store_true", help="skip rows with the wrong number of fields")
    ingest.add_argument("--replace", action="store_true", help="overwrite a table of the same name")
    ingest.add_argument("--root", help="ingest into this local lake folder instead of the configured backend")
    ingest.set_defaults(func=cmd_ingest)
    register = sub.add_parser(
        "register",
        help="register an existing prefix of the lake as a table",
        description="Register the files under PREFIX as a table: format from the file names, schema from the first "
        "file, key=value folders as partition keys.",
    )
    register.add_argument("prefix", metavar="PREFIX", help="folder inside the lake, e.g. curated/reviews/")
    register.add_argument("--database", required=True)
    register.add_argument("--table", required=True)
    register.add_argument("--format", choices=["auto", "csv", "tsv", "jsonl", "parquet"], default="auto")
    register.add_argument("--replace", action="store_true", help="overwrite a table of the same name")
    register.add_argument("--root", help="register in this local lake folder instead of the configured backend")
    register.set_defaults(func=cmd_register)
    bench = sub.add_parser(
        "bench",
        help="measure every page's data path against pandas, SQLite and raw DuckDB",
        add_help=False,
        description="See `python -m lib bench --help`.",
    )
    bench.add_argument("bench_args", nargs=argparse.REMAINDER)
    bench.set_defaults(func=cmd_bench)
    from lib.cli.automl import add_automl

    add_automl(sub)
    _add_sentiment(sub)
    curate = sub.add_parser(
        "curate",
        help="convert a raw table already in the lake to curated Parquet",
        description="Convert a table already in the lake (say a multi-GB TSV copied there with other tools) into a "
        "curated Parquet table under curated/<database>/<table>/: locally in one streaming DuckDB pass, on aws by "
        "an Athena CTAS (INSERT INTO per 100 partitions). All or nothing.",
    )
    curate.add_argument("--from-table", required=True, metavar="DB.RAW", help="the raw table to read")
    curate.add_argument("--table", required=True, metavar="DB.T", help="the curated table to write")
    curate.add_argument("--partition-by", metavar="COL", help="write Hive folders by this column (a category)")
    curate.add_argument("--replace", action="store_true", help="overwrite the curated table if it exists")
    curate.add_argument("--yes", action="store_true", help="run even if Athena would scan more than the warning limit")
    curate.add_argument("--root", help="use this local lake folder instead of the configured backend")
    curate.set_defaults(func=cmd_curate)
    from lib.cli.report import add_parser as add_report_parser

    add_report_parser(sub)
    return parser


def _add_sentiment(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    sentiment = sub.add_parser(
        "sentiment",
        help="the Sentiment page's numbers and the balance action",
        description="The Sentiment page from the command line: the same SQL, the same numbers.",
    )
    verbs = sentiment.add_subparsers(dest="sentiment_command", required=True, metavar="ACTION")
    summary = verbs.add_parser(
        "summary",
        help="print the page's numbers for a table as one JSON object",
        description="Reviews, reviews per sentiment, missing values, words per review, categories with their "
        "average sentiment, and Clarify's pre-training bias metrics per category, as one JSON object.",
    )
    balance = verbs.add_parser(
        "balance",
        help="write a balanced copy of a table (Parquet, registered)",
        description="Downsample a table's reviews so each sentiment class (or each category x sentiment cell) has "
        "as many as the smallest, write them as Parquet and register the result as a table.",
    )
    for verb in (summary, balance):
        verb.add_argument("--table", required=True, metavar="DB.T", help="the review table (database.table)")
        verb.add_argument(
            "--course",
            action="store_true",
            help="the course's preparation: leave out reviews without rating, text or category, then drop "
            "categories with 10 reviews or fewer",
        )
        verb.add_argument(
            "--definition", choices=["three_class", "binary", "label"], default="three_class", help="sentiment"
        )
        for role in ("rating", "text", "category", "date", "label", "words"):
            verb.add_argument(f"--{role}-col", metavar="COL", help=f"the {role} column (default: detected)")
        verb.add_argument("--exclude-small", action="store_true", help="drop categories with 10 reviews or fewer")
        verb.add_argument("--root", help="use this local lake folder instead of the configured backend")
    summary.set_defaults(func=cmd_sentiment_summary)
    balance.add_argument("--out-table", required=True, metavar="DB.T2", help="the balanced table to write")
    balance.add_argument(
        "--by",
        choices=["sentiment", "category_sentiment"],
        default="sentiment",
        help="sentiment (the course: each class cut to the smallest) or category_sentiment (each cell)",
    )
    balance.add_argument("--replace", action="store_true", help="overwrite the balanced table if it exists")
    balance.set_defaults(func=cmd_sentiment_balance)


def _sentiment_spec(args: argparse.Namespace) -> tuple[Backend, sentiment.Spec]:
    from lib import sentiment
    from lib.backends import make_backend

    backend = make_backend(_settings(args))
    backend.check()
    database, dot, name = str(args.table).partition(".")
    if not dot or not database or not name:
        raise LakeLensError(f"--table takes database.table, e.g. demo.reviews; got {args.table!r}.")
    table = backend.get_table(database, name)
    mapping = sentiment.detect_columns(table)
    for role in sentiment.ROLES:
        chosen = getattr(args, f"{role}_col", None)
        if chosen is not None:
            mapping = mapping.with_role(role, chosen or None)
    spec = sentiment.Spec(table, mapping, args.definition)
    return backend, spec


def cmd_sentiment_summary(args: argparse.Namespace) -> int:
    import json

    from lib import sentiment

    backend, spec = _sentiment_spec(args)

    def run(sql: str) -> pd.DataFrame:
        return backend.run_query(sql, max_rows=sentiment.MAX_GROUPS).frame

    result = sentiment.summary(spec, run, course=args.course, exclude_small=args.exclude_small)
    print(json.dumps(result, indent=2, ensure_ascii=False, default=str))
    return 0


def cmd_sentiment_balance(args: argparse.Namespace) -> int:
    from lib import sentiment

    backend, spec = _sentiment_spec(args)
    database, dot, name = str(args.out_table).partition(".")
    if not dot or not database or not name:
        raise LakeLensError(f"--out-table takes database.table, e.g. demo.reviews_balanced; got {args.out_table!r}.")

    def run(sql: str) -> pd.DataFrame:
        return backend.run_query(sql, max_rows=sentiment.MAX_GROUPS).frame

    prepared = sentiment.prepare(spec, run, course=args.course, exclude_small=args.exclude_small)
    written = sentiment.write_balanced(
        backend, prepared.spec, database, name, replace_existing=args.replace, by=args.by
    )
    per = "sentiment class" if args.by == "sentiment" else "category x sentiment cell"
    print(
        f"{written.table.qualified_name}\t{written.table.location}\t{written.rows:,} rows\t{written.cell_size:,} per {per}"
    )
    return 0


def cmd_ingest(args: argparse.Namespace) -> int:
    from lib.backends import make_backend
    from lib.lake import ingest
    from lib.lake import stream as ingest_stream

    settings = _settings(args)
    if settings.backend == "local":
        settings.lake_path.mkdir(parents=True, exist_ok=True)  # a new lake: ingesting the first file creates it
    backend = make_backend(settings)
    backend.check()
    path = Path(args.file)
    if ingest_stream.should_stream(path, args.format, args.encoding):
        streamed = ingest_stream.ingest_large(
            backend,
            path,
            database=args.database,
            table=args.table,
            fmt=args.format,
            skip_bad_rows=args.skip_bad_rows,
            curated=args.curated,
            partition_by=args.partition_by,
            replace=args.replace,
            progress=_progress_printer(),
        )
        plan, result = streamed.plan, streamed.result
    else:
        plan, result = ingest.ingest_file(
            backend,
            path,
            database=args.database,
            table=args.table,
            fmt=args.format,
            encoding=args.encoding,
            skip_bad_rows=args.skip_bad_rows,
            curated=args.curated,
            partition_by=args.partition_by,
            replace=args.replace,
        )
        if plan.bad_rows:
            lines = ", ".join(str(row.line) for row in plan.bad_rows[:10])
            print(f"note: skipped {len(plan.bad_rows):,} malformed row(s) (line {lines})", file=sys.stderr)
    for note in [*plan.notes, *result.notes]:
        print(f"note: {note}", file=sys.stderr)
    for table in result.tables:
        print(f"{table.qualified_name}\t{table.location}\t{result.rows:,} rows")
    return 0


def cmd_curate(args: argparse.Namespace) -> int:
    from lib.backends import make_backend
    from lib.lake import curate
    from lib.paths import human_bytes
    from lib.sql.estimate import athena_cost_usd

    settings = _settings(args)
    backend = make_backend(settings)
    backend.check()
    plan = curate.plan_curate(backend, args.from_table, args.table, partition_by=args.partition_by)
    cost = f" (about ${athena_cost_usd(plan.scan_bytes):.2f} at Athena's $5/TB)" if backend.kind == "aws" else ""
    print(f"curate: {plan.describe()}{cost}", file=sys.stderr)
    if backend.kind == "aws" and plan.scan_bytes > settings.scan_warn_bytes and not args.yes:
        raise LakeLensError(
            f"Athena would scan about {human_bytes(plan.scan_bytes)}, over LAKELENS_SCAN_WARN_BYTES "
            f"({human_bytes(settings.scan_warn_bytes)}); pass --yes to run it."
        )
    result = curate.curate(backend, plan, replace_existing=args.replace, progress=_progress_printer())
    rows = f"{result.rows:,} rows" if result.rows is not None else "rows counted by Athena"
    print(f"{result.table.qualified_name}\t{result.table.location}\t{rows}\t{result.seconds:.1f} s")
    return 0


def _progress_printer(every_s: float = 2.0) -> Callable[[float, str], None]:
    """Progress lines on stderr, at most one every ``every_s`` seconds (and the last one)."""
    last = [0.0]

    def show(fraction: float, message: str) -> None:
        now = time.monotonic()
        if fraction >= 1.0 or now - last[0] >= every_s:
            last[0] = now
            print(f"{int(fraction * 100):3d}%  {message}", file=sys.stderr, flush=True)

    return show


def cmd_register(args: argparse.Namespace) -> int:
    from lib.backends import make_backend
    from lib.lake import ingest

    backend = make_backend(_settings(args))
    backend.check()
    table = ingest.register_prefix(
        backend, args.prefix, database=args.database, table=args.table, fmt=args.format, replace=args.replace
    )
    keys = ", ".join(c.name for c in table.partition_keys)
    print(
        f"{table.qualified_name}\t{table.location}\t{len(table.columns)} columns"
        + (f", partitioned by {keys}" if keys else "")
    )
    return 0


def cmd_bench(args: argparse.Namespace) -> int:
    from lib import bench

    return bench.main(list(args.bench_args))


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    if arguments[:1] == ["bench"]:  # its own parser: argparse.REMAINDER cannot pass a leading --help through
        from lib import bench

        return bench.main(arguments[1:])
    parser = build_parser()
    args = parser.parse_args(arguments)
    try:
        code: int = args.func(args)
        return code
    except LakeLensError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # the reader went away (`... | head`): nothing more to say, and no traceback
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
