"""Running a report's blocks: the SQL page's guard first, then the backend; each result becomes a snapshot.

Blocks are always read-only, whatever ``LAKELENS_ALLOW_WRITES`` says: a report is refreshed by whoever opens it
(or by cron), so a write or a file function in a block is that block's error ("refused: read-only ..."), never
a change to the lake, and the other blocks still run.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

from lib import sql as sqlmod
from lib.backends.base import Backend, QueryResult
from lib.errors import LakeLensError, SqlError, SqlRefused
from lib.reports.document import Block
from lib.reports.store import ReportStore, Snapshot, StoredReport
from lib.sql.estimate import athena_cost_usd, estimate_scan

MAX_SNAPSHOT_ROWS = 1000  # used when a caller gives no limit; refresh keeps the LAKELENS_MAX_ROWS setting's rows


def guard(block: Block, default_database: str) -> str:
    """Why the block cannot run ("" when it can): its own problem, or the guard's refusal."""
    if block.problem:
        return block.problem
    if not block.has_sql:
        return ""
    try:
        sqlmod.check(block.sql, allow_writes=False, default_database=default_database)
    except SqlRefused as exc:
        if str(exc).startswith("Run one statement"):
            return f"refused: one statement per block. {exc}"
        return f"refused: read-only. {exc}"
    except SqlError as exc:
        return str(exc)
    return ""


def snapshot_of(block: Block, result: QueryResult, max_rows: int = MAX_SNAPSHOT_ROWS) -> Snapshot:
    stats = result.stats
    shown = result.frame.head(max_rows)
    records = json.loads(shown.to_json(orient="records", date_format="iso", default_handler=str))
    total = stats.total_rows if stats.total_rows is not None else stats.rows
    return Snapshot(
        run_at=datetime.now(UTC).isoformat(),
        engine=stats.engine,
        rows=total,
        bytes_scanned=stats.bytes_scanned,
        bytes_estimated=stats.bytes_estimated,
        columns=[str(c) for c in shown.columns],
        records=records,
        truncated=stats.truncated or len(result.frame) > len(shown),
        query_id=stats.query_id,
        sql=block.sql,
    )


@dataclass
class RefreshOutcome:
    ran: int = 0
    failed: list[str] = field(default_factory=list)  # "block title: message"
    refused: int = 0
    kept: int = 0  # pinned blocks without SQL: their snapshot stays as it was


def refresh(
    backend: Backend, store: ReportStore, stored: StoredReport, indexes: list[int] | None = None
) -> RefreshOutcome:
    """Run the blocks (all, or the ones in ``indexes``) and store their snapshots; one failure stops none."""
    outcome = RefreshOutcome()
    database = backend.settings.database
    max_rows = backend.settings.max_rows  # a snapshot keeps what the SQL page would show: at most LAKELENS_MAX_ROWS
    changed: dict[str, Snapshot] = {}
    for index, block in enumerate(stored.report.blocks):
        if indexes is not None and index not in indexes:
            continue
        problem = guard(block, database)
        if problem:
            outcome.refused += 1
            continue
        if not block.has_sql:
            outcome.kept += 1
            continue
        try:
            result = backend.run_query(block.sql, max_rows=max_rows, database=database)
        except LakeLensError as exc:
            previous = stored.snapshots.get(block.snapshot_key)
            changed[block.snapshot_key] = (
                replace(previous, error=str(exc))
                if previous is not None
                else Snapshot(run_at=datetime.now(UTC).isoformat(), error=str(exc), sql=block.sql)
            )
            outcome.failed.append(f"{block.heading}: {exc}")
            continue
        changed[block.snapshot_key] = snapshot_of(block, result, max_rows)
        outcome.ran += 1
    if changed:
        store.update_snapshots(stored.slug, changed)
    return outcome


@dataclass(frozen=True)
class RefreshEstimate:
    queries: int
    bytes: int
    cost_usd: float
    complete: bool

    def describe(self) -> str:
        from lib.paths import human_bytes

        if not self.queries:
            return "Nothing to run: no block has SQL that may run."
        bound = "about" if self.complete else "at least"
        amount = f"${self.cost_usd:,.2f}" if self.cost_usd >= 0.01 else f"${self.cost_usd:.5f}".rstrip("0").rstrip(".")
        queries = "1 query that scans" if self.queries == 1 else f"{self.queries} queries that scan"
        return (
            f"Refreshing runs {queries} {bound} {human_bytes(self.bytes)}: {bound} {amount} on Athena "
            "($5 per TB, at least 10 MB billed per query)."
        )


def estimate(backend: Backend, report: StoredReport, object_cap: int = 100_000) -> RefreshEstimate:
    """What a refresh would scan and cost, from the catalog and object listings; nothing runs."""
    database = backend.settings.database
    queries, total, cost, complete = 0, 0, 0.0, True
    for block in report.report.blocks:
        if guard(block, database) or not block.has_sql:
            continue
        queries += 1
        try:
            scan = estimate_scan(backend, block.sql, default_database=database, object_cap=object_cap)
        except LakeLensError:
            complete = False
            cost += athena_cost_usd(0)
            continue
        total += scan.bytes
        cost += athena_cost_usd(scan.bytes)
        complete = complete and scan.complete
    return RefreshEstimate(queries, total, cost, complete)
