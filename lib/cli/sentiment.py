"""``python -m lib sentiment summary | balance``: the Sentiment page's numbers and its balance action."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from lib.cli.common import settings_for
from lib.errors import LakeLensError

if TYPE_CHECKING:
    import pandas as pd

    from lib import sentiment
    from lib.backends.base import Backend
    from lib.cli.common import SubParsers


def add_parser(sub: SubParsers) -> None:
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

    backend = make_backend(settings_for(args))
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
