"""``python -m lib <command>``: the same domain the pages use, from a terminal.

Every failure the user can cause ends as one line on stderr and a non-zero exit: 1 for a LakeLens error
(bad SQL, missing table, unreachable backend), 2 for a usage error (argparse's own convention).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from lib.errors import LakeLensError
from lib.settings import Settings, load_settings


def _settings(args: argparse.Namespace) -> Settings:
    settings = load_settings()
    root = getattr(args, "root", None)
    if root:
        settings = settings.replace(lake_root=root, backend="local")
    return settings


def cmd_demo(args: argparse.Namespace) -> int:
    from lib import demo
    from lib.backends.local import LocalBackend

    settings = _settings(args)
    rows = args.rows or settings.demo_rows
    backend = LocalBackend(settings)
    if args.if_missing and demo.exists(backend):
        print(f"Demo lake already present at {backend.root}")
        return 0
    started = time.perf_counter()
    last = [-1]

    def progress(fraction: float, message: str) -> None:
        percent = int(fraction * 100)
        if percent // 10 != last[0] // 10 or fraction >= 1:
            last[0] = percent
            print(f"{percent:3d}%  {message}", file=sys.stderr)

    demo.build(backend, rows, progress=progress)
    print(f"Demo lake with {rows:,} reviews built in {time.perf_counter() - started:.1f} s at {backend.root}")
    return 0


def cmd_query(args: argparse.Namespace) -> int:
    import pandas as pd

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
    settings = _settings(args)
    backend = make_backend(settings)
    backend.check()
    if args.out:
        rows = backend.export(sql, Path(args.out), args.format)
        print(f"Wrote {rows:,} rows to {args.out} ({args.format})", file=sys.stderr)
        return 0
    result = backend.run_query(sql, max_rows=args.max_rows or settings.max_rows)
    with pd.option_context("display.max_rows", None, "display.max_columns", None, "display.width", 200):
        print(result.frame.to_string(index=False) if len(result.frame.columns) else "(no columns)")
    stats = result.stats
    footer = f"{stats.rows:,} rows"
    if stats.truncated:
        of = f" of {stats.total_rows:,}" if stats.total_rows is not None else ""
        footer = f"showing {stats.rows:,}{of} rows; raise LAKELENS_MAX_ROWS or use --out to get them all"
    print(f"-- {footer} · {stats.engine} · {stats.runtime_s:.2f} s · query {stats.query_id}", file=sys.stderr)
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
    query.add_argument("--max-rows", type=int, help="rows to print (default: the LAKELENS_MAX_ROWS setting)")
    query.add_argument("--root", help="query this local lake folder instead of the configured backend")
    query.set_defaults(func=cmd_query)
    bench = sub.add_parser(
        "bench",
        help="measure every page's data path against pandas, SQLite and raw DuckDB",
        add_help=False,
        description="See `python -m lib bench --help`.",
    )
    bench.add_argument("bench_args", nargs=argparse.REMAINDER)
    bench.set_defaults(func=cmd_bench)
    return parser


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
