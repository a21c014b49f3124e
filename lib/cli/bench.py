"""``python -m lib bench``: listed in ``python -m lib --help``; its arguments are lib.bench's own parser's."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from lib.cli.common import SubParsers


def add_parser(sub: SubParsers) -> None:
    bench = sub.add_parser(
        "bench",
        help="measure every page's data path against pandas, SQLite and raw DuckDB",
        add_help=False,
        description="See `python -m lib bench --help`.",
    )
    bench.add_argument("bench_args", nargs=argparse.REMAINDER)
    bench.set_defaults(func=cmd_bench)


def cmd_bench(args: argparse.Namespace) -> int:
    from lib import bench

    return bench.main(list(args.bench_args))
