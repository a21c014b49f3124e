"""``python -m lib report list | import | export | refresh``: reports from a terminal (or cron).

Every failure is one line on stderr and exit 1 (argparse's usage errors: 2), as for the other commands.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from lib.cli.common import settings_for
from lib.errors import LakeLensError, ReportError

if TYPE_CHECKING:
    from lib.cli.common import SubParsers
    from lib.reports.store import ReportStore


def add_parser(sub: SubParsers) -> None:
    report = sub.add_parser(
        "report",
        help="list, import, refresh and export reports",
        description="Reports: Markdown + SQL files kept in the lake under <meta_prefix>reports/.",
    )
    verbs = report.add_subparsers(dest="report_command", required=True, metavar="ACTION")
    listing = verbs.add_parser("list", help="one line per report: slug, title, blocks, last refreshed")
    listing.set_defaults(func=cmd_list)
    imported = verbs.add_parser(
        "import",
        help="put a Markdown report file into the lake",
        description="Store FILE.md as a report (the name comes from its title unless --slug is given). A report "
        "of that name is updated, and its previous text kept as a version.",
    )
    imported.add_argument("file", metavar="FILE.md")
    imported.add_argument("--slug", help="the report's name in the lake (lower-case letters, digits and '-')")
    imported.set_defaults(func=cmd_import)
    export = verbs.add_parser(
        "export", help="write a report as one self-contained HTML file", description="Write SLUG as one HTML file."
    )
    export.add_argument("slug", metavar="SLUG")
    export.add_argument("--out", required=True, metavar="FILE.html")
    export.add_argument("--refresh", action="store_true", help="run the blocks first (costs a scan on Athena)")
    export.set_defaults(func=cmd_export)
    refresh = verbs.add_parser("refresh", help="run a report's blocks and store their results")
    refresh.add_argument("slug", metavar="SLUG")
    refresh.set_defaults(func=cmd_refresh)
    for parser in (listing, imported, export, refresh):
        parser.add_argument("--root", help="use this local lake folder instead of the configured backend")


def _store(args: argparse.Namespace) -> ReportStore:
    from lib.backends import make_backend
    from lib.reports.store import ReportStore

    backend = make_backend(settings_for(args))
    backend.check()
    return ReportStore(backend)


def cmd_list(args: argparse.Namespace) -> int:
    store = _store(args)
    for summary in store.list():
        if summary.problem:
            print(f"{summary.slug}\t(cannot be read: {summary.problem})")
            continue
        refreshed = summary.refreshed_at.strftime("%Y-%m-%d %H:%M UTC") if summary.refreshed_at else "never"
        print(f"{summary.slug}\t{summary.title}\t{summary.blocks} blocks\tlast refreshed {refreshed}")
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    from lib.reports.document import check_slug, parse, slugify

    try:
        text = Path(args.file).read_text("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ReportError(f"Cannot read {args.file}: {getattr(exc, 'strerror', None) or exc}.") from None
    report = parse(text)
    slug = check_slug(args.slug) if args.slug else slugify(report.title)
    store = _store(args)
    existed = store.exists(slug)
    store.save(slug, text)
    verb = "Updated" if existed else "Imported"
    print(f"{verb} {slug}: {report.title} ({len(report.blocks)} blocks) at {store.key(slug)}")
    return 0


def _refresh(store: ReportStore, slug: str) -> tuple[int, list[str]]:
    from lib.reports import run

    stored = store.load(slug)
    if store.backend.bills_scans:
        print(run.estimate(store.backend, stored).describe(), file=sys.stderr)
    outcome = run.refresh(store.backend, store, stored)
    problems = list(outcome.failed)
    database = store.backend.settings.database
    problems += [f"{b.heading}: {run.guard(b, database)}" for b in stored.report.blocks if run.guard(b, database)]
    return outcome.ran, problems


def cmd_refresh(args: argparse.Namespace) -> int:
    store = _store(args)
    ran, problems = _refresh(store, args.slug)
    print(f"Refreshed {ran} block(s) of {args.slug}", file=sys.stderr)
    if problems:
        print(f"error: {len(problems)} block(s) did not refresh: " + " | ".join(problems), file=sys.stderr)
        return 1
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from lib.reports.render import export_html

    store = _store(args)
    if args.refresh:
        _ran, problems = _refresh(store, args.slug)
        for problem in problems:
            print(f"warning: {problem}", file=sys.stderr)
    stored = store.load(args.slug)
    page = export_html(stored, store.backend.info().lake, store.backend.settings.database)
    try:
        Path(args.out).write_text(page, "utf-8")
    except OSError as exc:
        raise LakeLensError(f"Cannot write {args.out}: {exc.strerror or exc}.") from None
    print(f"Wrote {args.out}: {stored.report.title}, {len(stored.report.blocks)} blocks", file=sys.stderr)
    return 0
