"""``python -m lib <command>``: the parser, assembled from the command modules, and the run of one command.

Every failure the user can cause ends as one line on stderr and a non-zero exit: 1 for a LakeLens error
(bad SQL, missing table, unreachable backend), 2 for a usage error (argparse's own convention).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from lib.cli import automl, lake, query, report, sentiment
from lib.cli import bench as bench_command
from lib.errors import LakeLensError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m lib", description="LakeLens from the command line.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    # in the order `python -m lib --help` has always listed them
    lake.add_demo(sub)
    query.add_parser(sub)  # query, profile
    lake.add_ingest(sub)
    lake.add_register(sub)
    bench_command.add_parser(sub)
    automl.add_parser(sub)
    sentiment.add_parser(sub)
    lake.add_curate(sub)
    report.add_parser(sub)
    return parser


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
