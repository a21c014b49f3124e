"""``python -m lib demo | ingest | register | curate``: putting data into the lake and registering it as tables.

The four commands sit at different places in ``python -m lib --help`` (the order predates this module), so each
has its own ``add_*`` function, called in that order by :mod:`lib.cli.commands`.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

from lib.cli.common import progress_printer, settings_for
from lib.errors import LakeLensError

if TYPE_CHECKING:
    from lib.cli.common import SubParsers


def add_demo(sub: SubParsers) -> None:
    demo = sub.add_parser(
        "demo",
        help="build or rebuild the demo lake",
        description="Build (or rebuild) the demo lake: raw TSV and curated Parquet reviews, registered as demo.reviews_raw and demo.reviews.",
    )
    demo.add_argument("--rows", type=int, help="number of reviews (default: the LAKELENS_DEMO_ROWS setting, 100,000)")
    demo.add_argument("--if-missing", action="store_true", help="do nothing when the demo tables already exist")
    demo.add_argument("--root", help="lake folder (default: the LAKELENS_LAKE_ROOT setting, ./lake)")
    demo.set_defaults(func=cmd_demo)


def add_ingest(sub: SubParsers) -> None:
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


def add_register(sub: SubParsers) -> None:
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


def add_curate(sub: SubParsers) -> None:
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


def cmd_demo(args: argparse.Namespace) -> int:
    from lib.backends import make_backend
    from lib.lake import demo

    settings = settings_for(args)
    rows = args.rows or settings.demo_rows
    backend = make_backend(settings)
    where = backend.info().lake  # the lake folder, or the S3 lake
    remote = backend.lake_folder is None  # a lake folder may not exist yet: building it makes it
    if remote:
        backend.check()
    if args.if_missing and demo.exists(backend):
        print(f"Demo lake already present at {where}")
        return 0
    if args.if_missing and remote:  # `make run`: never write to an AWS account unasked
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


def cmd_ingest(args: argparse.Namespace) -> int:
    from lib.backends import make_backend
    from lib.lake import ingest
    from lib.lake import stream as ingest_stream

    settings = settings_for(args)
    backend = make_backend(settings)
    if backend.lake_folder is not None:
        backend.lake_folder.mkdir(parents=True, exist_ok=True)  # a new lake: ingesting the first file creates it
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
            progress=progress_printer(),
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

    settings = settings_for(args)
    backend = make_backend(settings)
    backend.check()
    plan = curate.plan_curate(backend, args.from_table, args.table, partition_by=args.partition_by)
    price = backend.scan_cost_usd(plan.scan_bytes)
    cost = f" (about ${price:.2f} at {backend.engine_name}'s $5/TB)" if price is not None else ""
    print(f"curate: {plan.describe()}{cost}", file=sys.stderr)
    if backend.bills_scans and plan.scan_bytes > settings.scan_warn_bytes and not args.yes:
        raise LakeLensError(
            f"Athena would scan about {human_bytes(plan.scan_bytes)}, over LAKELENS_SCAN_WARN_BYTES "
            f"({human_bytes(settings.scan_warn_bytes)}); pass --yes to run it."
        )
    result = curate.curate(backend, plan, replace_existing=args.replace, progress=progress_printer())
    rows = f"{result.rows:,} rows" if result.rows is not None else "rows counted by Athena"
    print(f"{result.table.qualified_name}\t{result.table.location}\t{rows}\t{result.seconds:.1f} s")
    return 0


def cmd_register(args: argparse.Namespace) -> int:
    from lib.backends import make_backend
    from lib.lake import ingest

    backend = make_backend(settings_for(args))
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
