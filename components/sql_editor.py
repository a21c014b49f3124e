"""The SQL editor and its run controls.

* The editor is streamlit-code-editor (Ace): SQL highlighting, live completion of keywords, Athena functions,
  databases, tables and columns, and Ctrl/Cmd+Enter to run. Its text reaches Python when the analyst runs
  (Ctrl+Enter) or leaves the editor (blur), so typing never reruns the page.
* A run happens in a worker thread (``backend.run_query`` with a query id generated here, through the cached
  ``lib.data.query`` unless the analyst asks for a fresh run). A fragment polls it twice a second, shows the
  elapsed time and a Cancel button that calls ``backend.cancel_query``. The handle lives in ``st.session_state``.
* Before a run: the guard, then the scan estimate; above ``scan_warn_bytes`` the analyst must confirm.
* After a run, successful or not, one history entry is written to the lake.

State (all under ``sql.`` in ``st.session_state``): ``text`` is the SQL as Python knows it; ``code`` is the text
last pushed into the editor (changing it replaces the editor's content); ``run`` is the running query;
``outcome`` the last finished one.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import streamlit as st
from code_editor import code_editor
from streamlit.runtime.scriptrunner import add_script_run_ctx, get_script_run_ctx

from components.feedback import friendly_errors
from components.result_grid import format_usd
from lib import data
from lib import sql as sqlmod
from lib.backends.base import QueryResult
from lib.catalog import TableDef
from lib.errors import LakeLensError, NotFound, QueryCancelled, SqlError
from lib.estimate import ScanEstimate, estimate_scan
from lib.history import History, HistoryEntry, SavedQueries, Status
from lib.paths import human_bytes
from lib.settings import Settings

log = logging.getLogger("lakelens")

EDITOR_KEY = "sql.editor"
ESTIMATE_OBJECT_CAP = 20_000

# Athena (Trino) functions offered by the completer besides Ace's SQL keywords.
ATHENA_FUNCTIONS = (
    "approx_distinct",
    "approx_percentile",
    "arbitrary",
    "array_agg",
    "array_join",
    "avg",
    "bool_and",
    "bool_or",
    "cardinality",
    "ceil",
    "coalesce",
    "concat",
    "contains",
    "count",
    "count_if",
    "date",
    "date_add",
    "date_diff",
    "date_format",
    "date_parse",
    "date_trunc",
    "day",
    "day_of_week",
    "element_at",
    "filter",
    "floor",
    "format_datetime",
    "from_iso8601_date",
    "from_iso8601_timestamp",
    "from_unixtime",
    "greatest",
    "histogram",
    "if",
    "json_extract",
    "json_extract_scalar",
    "least",
    "length",
    "lower",
    "lpad",
    "ltrim",
    "map_agg",
    "max",
    "max_by",
    "min",
    "min_by",
    "month",
    "now",
    "nullif",
    "parse_datetime",
    "quarter",
    "rank",
    "regexp_extract",
    "regexp_like",
    "regexp_replace",
    "replace",
    "reverse",
    "round",
    "row_number",
    "rpad",
    "rtrim",
    "sequence",
    "split",
    "split_part",
    "stddev",
    "strpos",
    "substr",
    "sum",
    "to_iso8601",
    "to_unixtime",
    "transform",
    "trim",
    "try",
    "try_cast",
    "typeof",
    "unnest",
    "upper",
    "variance",
    "week",
    "year",
)


@dataclass
class RunHandle:
    """A query running in a worker thread."""

    query_id: str
    sql: str
    database: str
    started: float
    started_at: datetime
    future: Future[QueryResult]
    fresh: bool
    estimate: ScanEstimate | None
    cancel_requested: bool = False
    cancel_sent_at: float | None = None


@dataclass
class Outcome:
    """A finished run: a result or one clear error."""

    number: int
    sql: str
    started_at: datetime
    status: Status
    result: QueryResult | None = None
    error: str = ""
    estimate: ScanEstimate | None = None
    elapsed_s: float = 0.0

    @property
    def cached(self) -> bool:
        return self.status == "cached"


# -- state ---------------------------------------------------------------------------------------------------
def _state() -> Any:
    return st.session_state


def text() -> str:
    return str(_state().get("sql.text", ""))


def set_text(sql: str) -> None:
    """Replace the editor's content (a starter, a saved query, a history entry, a link)."""
    _state()["sql.text"] = sql
    _state()["sql.code"] = sql
    _state()["sql.cursor"] = None


def insert(snippet: str) -> None:
    """Insert ``snippet`` where the editor's cursor last was (or at the end), with a space before it if needed."""
    current = text()
    cursor = _state().get("sql.cursor")
    offset = len(current)
    if isinstance(cursor, dict) and "row" in cursor and "column" in cursor:
        lines = current.split("\n")
        row = min(int(cursor["row"]), len(lines) - 1)
        column = min(int(cursor["column"]), len(lines[row]))
        offset = sum(len(line) + 1 for line in lines[:row]) + column
    before, after = current[:offset], current[offset:]
    if before and not before[-1].isspace() and before[-1] not in "(.,":
        snippet = " " + snippet
    new = before + snippet + after
    _state()["sql.text"] = new
    _state()["sql.code"] = new
    row = new[: offset + len(snippet)].count("\n")
    column = offset + len(snippet) - (new.rfind("\n", 0, offset + len(snippet)) + 1)
    _state()["sql.cursor"] = {"row": row, "column": column}


def outcome() -> Outcome | None:
    value = _state().get("sql.outcome")
    return value if isinstance(value, Outcome) else None


def running() -> RunHandle | None:
    value = _state().get("sql.run")
    return value if isinstance(value, RunHandle) else None


def init_from_url(settings: Settings, default_sql: str) -> None:
    """On the first visit in a session, fill the editor from ``?sql=`` (or a starter) and decide on auto-run.

    A link runs at once on the local backend; on aws only if the result is cached, so opening a link never
    starts a paid scan by surprise.
    """
    if "sql.text" in _state():
        return
    linked = st.query_params.get("sql", "")
    set_text(linked or default_sql)
    _state()["sql.run_count"] = 0
    if linked and (settings.backend == "local" or data.query_is_cached(linked)):
        _state()["sql.autorun"] = True
    elif linked:
        _state()["sql.link_waiting"] = True


def completions(databases: list[str], tables: list[TableDef]) -> list[dict[str, Any]]:
    """What the editor offers while typing, besides Ace's own SQL keywords."""
    items: list[dict[str, Any]] = []
    for name in databases:
        items.append({"caption": name, "value": name, "meta": "database", "score": 900})
    seen_columns: set[tuple[str, str]] = set()
    for table in tables:
        qualified = table.qualified_name
        items.append({"caption": qualified, "value": qualified, "meta": "table", "score": 1000})
        items.append({"caption": table.name, "value": table.name, "meta": f"table in {table.database}", "score": 800})
        for column in table.all_columns:
            if (column.name, column.type) in seen_columns:
                continue
            seen_columns.add((column.name, column.type))
            items.append({"caption": column.name, "value": column.name, "meta": column.type, "score": 950})
    for function in ATHENA_FUNCTIONS:
        items.append({"caption": function, "value": function, "meta": "function", "score": 500})
    return items


# -- the editor ----------------------------------------------------------------------------------------------
def editor(items: list[dict[str, Any]]) -> bool:
    """Show the editor; returns True when the analyst pressed Ctrl/Cmd+Enter in it."""
    response = code_editor(
        str(_state().get("sql.code", "")),
        lang="sql",
        height=[8, 24],
        shortcuts="vscode",
        allow_reset=True,
        response_mode=["blur"],
        completions=items,
        options={"wrap": True, "showLineNumbers": True},
        props={"style": {"borderRadius": "0.5rem"}},
        key=EDITOR_KEY,
    )
    if not isinstance(response, dict) or not response.get("id"):
        return False
    if response["id"] == _state().get("sql.event"):
        return False
    _state()["sql.event"] = response["id"]
    _state()["sql.text"] = str(response.get("text", ""))
    _state()["sql.cursor"] = response.get("cursor") or None
    return response.get("type") == "submit"


# -- running -------------------------------------------------------------------------------------------------
def history() -> History:
    return _history(data.settings_key(data.settings()))


@st.cache_resource(show_spinner=False)
def _history(key: str) -> History:
    """One History per lake, so entries already read are not read again (they never change)."""
    return History(data.backend())


def saved_queries() -> SavedQueries:
    return SavedQueries(data.backend())


@st.cache_data(ttl=120, show_spinner=False)
def _estimate(key: str, sql: str, database: str) -> ScanEstimate:
    # Listing stops after ESTIMATE_OBJECT_CAP objects so a huge S3 table cannot hold the page up; the estimate
    # is then a lower bound and the run asks first.
    return estimate_scan(data.backend(), sql, default_database=database, object_cap=ESTIMATE_OBJECT_CAP)


def estimate(sql: str, settings: Settings) -> ScanEstimate:
    """Bytes the statement will scan, from the catalog (cached for two minutes)."""
    return _estimate(data.settings_key(settings), sql, settings.database)


def request_run(settings: Settings, *, fresh: bool = False, confirmed: bool = False) -> None:
    """Check the SQL, estimate the scan, then start it, or ask first when it is above ``scan_warn_bytes``."""
    sql = text()
    if running() is not None:
        return
    _state().pop("sql.confirm", None)
    _state().pop("sql.link_waiting", None)
    try:
        statement = sqlmod.check(sql, allow_writes=settings.allow_writes, default_database=settings.database)
        scan = estimate(sql, settings) if statement.kind in ("query", "write") else ScanEstimate([])
    except LakeLensError as exc:
        # Refused before it ran: still a run the analyst made, so it is shown until the next one and recorded.
        _finish(sql, datetime.now(UTC), "failed", error=str(exc), database=settings.database)
        return
    if not confirmed and needs_confirmation(scan, settings):
        _state()["sql.confirm"] = {"sql": sql, "fresh": fresh, "estimate": scan}
        return
    start(settings, sql, fresh=fresh, scan=scan)


def needs_confirmation(scan: ScanEstimate, settings: Settings) -> bool:
    """Above the warning limit, or of a size that could not be worked out in full."""
    return scan.bytes > settings.scan_warn_bytes or not scan.complete


def start(settings: Settings, sql: str, *, fresh: bool, scan: ScanEstimate | None) -> None:
    query_id = str(uuid.uuid4())
    database = settings.database
    future: Future[QueryResult] = Future()
    backend = data.backend(settings)

    def work() -> None:
        if not future.set_running_or_notify_cancel():
            return
        try:
            if fresh:
                result = backend.run_query(
                    sql,
                    max_rows=settings.max_rows,
                    database=database,
                    query_id=query_id,
                    timeout_s=settings.query_timeout_s,
                )
            else:
                result = data.query(
                    sql, settings.max_rows, database, query_id=query_id, timeout_s=settings.query_timeout_s
                )
            future.set_result(result)
        except BaseException as exc:  # handed to the page, which shows it as one message
            future.set_exception(exc)

    worker = threading.Thread(target=work, name=f"lakelens-query-{query_id[:8]}", daemon=True)
    context = get_script_run_ctx()
    if context is not None:
        add_script_run_ctx(worker, context)
    _state()["sql.run"] = RunHandle(
        query_id=query_id,
        sql=sql,
        database=database,
        started=time.monotonic(),
        started_at=datetime.now(UTC),
        future=future,
        fresh=fresh,
        estimate=scan,
    )
    st.query_params["sql"] = sql
    worker.start()


def cancel() -> None:
    handle = running()
    if handle is None:
        return
    handle.cancel_requested = True
    _send_cancel(handle)


CANCEL_RETRY_S = 2.0


def _send_cancel(handle: RunHandle) -> None:
    """Ask the engine to stop. A request can arrive before the engine has started the query (NotFound, or a
    DuckDB interrupt that lands before execution begins), so the progress fragment asks again every
    ``CANCEL_RETRY_S`` seconds until the worker finishes."""
    handle.cancel_sent_at = time.monotonic()
    try:
        data.backend().cancel_query(handle.query_id)
    except NotFound:
        handle.cancel_sent_at = None  # not registered yet: ask again on the next tick
    except LakeLensError as exc:
        _state()["sql.cancel_error"] = str(exc)


def collect() -> bool:
    """If the running query has finished, turn it into the outcome and record it; True if it did."""
    handle = running()
    if handle is None or not handle.future.done():
        return False
    _state()["sql.run"] = None
    elapsed = time.monotonic() - handle.started
    common = {"elapsed_s": elapsed, "estimate": handle.estimate, "database": handle.database}
    try:
        result = handle.future.result()
    except QueryCancelled as exc:
        _finish(handle.sql, handle.started_at, "cancelled", error=str(exc), query_id=handle.query_id, **common)
    except LakeLensError as exc:
        _finish(handle.sql, handle.started_at, "failed", error=str(exc), query_id=handle.query_id, **common)
    except Exception as exc:
        log.error("Query %s failed unexpectedly", handle.query_id, exc_info=exc)
        message = (
            f"Something went wrong inside LakeLens while running the query ({type(exc).__name__}). "
            "The details are in the server log; please report it."
        )
        _finish(handle.sql, handle.started_at, "failed", error=message, query_id=handle.query_id, **common)
    else:
        # A cached answer carries the query id of the run that computed it, not the id generated for this run.
        status: Status = "succeeded" if result.stats.query_id == handle.query_id else "cached"
        _finish(handle.sql, handle.started_at, status, result=result, **common)
    return True


def _finish(
    sql: str,
    started_at: datetime,
    status: Status,
    *,
    result: QueryResult | None = None,
    error: str = "",
    elapsed_s: float = 0.0,
    estimate: ScanEstimate | None = None,
    query_id: str = "",
    database: str = "",
) -> None:
    """Make this the outcome the page shows, and write its history entry to the lake."""
    number = int(_state().get("sql.run_count", 0)) + 1
    _state()["sql.run_count"] = number
    _state()["sql.outcome"] = Outcome(number, sql, started_at, status, result, error, estimate, elapsed_s)
    if result is not None:
        entry = HistoryEntry.from_stats(
            sql, result.stats, started_at=started_at, database=database, cached=status == "cached"
        )
    else:
        entry = HistoryEntry(
            sql=sql,
            status=status,
            started_at=started_at,
            runtime_s=elapsed_s,
            query_id=query_id,
            error=error,
            database=database,
            engine=_engine_name(),
        )
    history().record(entry)


def _engine_name() -> str:
    try:
        return data.info().engine
    except LakeLensError:
        return ""


def run_controls(settings: Settings, submitted: bool) -> None:
    """Run button, estimate line, confirmation and the live progress of a running query."""
    with friendly_errors():
        if _state().pop("sql.autorun", False) or submitted:
            request_run(settings)
    handle = running()
    left, middle, right = st.columns([1, 1, 5], vertical_alignment="center")
    if left.button(
        "Run",
        type="primary",
        icon=":material/play_arrow:",
        disabled=handle is not None,
        key="sql.run_button",
        help="Run the SQL in the editor (Ctrl/Cmd+Enter in the editor does the same)",
    ):
        with friendly_errors():
            request_run(settings)
    finished = outcome()
    cached = finished is not None and finished.cached and running() is None
    if cached and middle.button(
        "Run fresh",
        icon=":material/refresh:",
        key="sql.fresh_button",
        help="The result shown came from the cache. Run the query again on the engine.",
    ):
        with friendly_errors():
            request_run(settings, fresh=True)
    with right:
        _estimate_line(settings)
    if _state().get("sql.link_waiting"):
        st.info(
            "This link's query has not run yet: on AWS every run scans data and costs money. Check it, then press Run.",
            icon=":material/link:",
        )
    _confirm(settings)
    if running() is not None:
        _progress()


def _estimate_line(settings: Settings) -> None:
    sql = text()
    if not sql.strip():
        return
    try:
        statement = sqlmod.check(sql, allow_writes=settings.allow_writes, default_database=settings.database)
        if statement.kind not in ("query", "write"):
            return
        scan = estimate(sql, settings)
    except LakeLensError as exc:
        if isinstance(exc, SqlError) and exc.line is not None:
            st.caption(f":material/error: {exc}")
        return
    if not scan.tables:
        st.caption(":material/database: Reads no table data.")
        return
    warn = needs_confirmation(scan, settings)
    icon = ":material/warning:" if warn else ":material/database:"
    cost = f" · about {format_usd(scan.cost_usd)} on Athena" if scan.bytes else ""
    st.caption(f"{icon} Will scan {scan.describe()}{cost}.")


def _confirm(settings: Settings) -> None:
    pending = _state().get("sql.confirm")
    if not isinstance(pending, dict):
        return
    scan: ScanEstimate = pending["estimate"]
    if scan.bytes > settings.scan_warn_bytes:
        why = (
            f"This query will scan {scan.describe()}, more than the {human_bytes(settings.scan_warn_bytes)} "
            f"warning limit (LAKELENS_SCAN_WARN_BYTES). On Athena that costs about {format_usd(scan.cost_usd)}. "
        )
    else:
        why = (
            f"The size of this scan could not be worked out in full ({scan.describe()}): a table is outside the "
            "lake or has too many objects to list. "
        )
    with st.container(border=True):
        st.warning(why + "Add a filter on a partition key to scan less, or run it anyway.", icon=":material/warning:")
        yes, no, _ = st.columns([1, 1, 4])
        if yes.button("Run anyway", type="primary", key="sql.confirm_yes"):
            _state().pop("sql.confirm", None)
            with friendly_errors():
                start(settings, pending["sql"], fresh=bool(pending["fresh"]), scan=scan)
            st.rerun()
        if no.button("Cancel", key="sql.confirm_no"):
            _state().pop("sql.confirm", None)
            st.rerun()


@st.fragment(run_every=0.5)
def _progress() -> None:
    """Polls the running query without rerunning the page; a full rerun shows the result when it is done."""
    handle = running()
    if handle is None:
        return
    if handle.future.done():
        st.rerun()
    sent = handle.cancel_sent_at
    if handle.cancel_requested and (sent is None or time.monotonic() - sent >= CANCEL_RETRY_S):
        _send_cancel(handle)
    elapsed = time.monotonic() - handle.started
    with st.container(border=True):
        left, right = st.columns([5, 1], vertical_alignment="center")
        verb = "Cancelling" if handle.cancel_requested else "Running"
        left.markdown(f":material/hourglass_top: **{verb}…** {elapsed:,.1f} s · query `{handle.query_id}`")
        right.button(
            "Cancel",
            icon=":material/stop_circle:",
            key="sql.cancel_button",
            on_click=cancel,
            disabled=handle.cancel_requested,
        )
        problem = _state().pop("sql.cancel_error", None)
        if problem:
            st.error(problem, icon=":material/error:")


# -- memory: starters, history, saved queries ----------------------------------------------------------------
def starter_picker(starters: list[sqlmod.StarterQuery]) -> None:
    """A menu of ready-made questions; picking one replaces the editor's SQL."""
    titles = [s.title for s in starters]

    def pick() -> None:
        chosen = _state().get("sql.starter")
        match = next((s for s in starters if s.title == chosen), None)
        if match is not None:
            set_text(match.sql)
        _state()["sql.starter"] = None

    st.selectbox(
        "Starter queries",
        titles,
        index=None,
        key="sql.starter",
        placeholder="Start from a course question…",
        on_change=pick,
        label_visibility="collapsed",
    )


def _rerun_entry(sql: str) -> None:
    set_text(sql)
    _state()["sql.autorun"] = True


def _snippet(sql: str, lines: int = 4) -> str:
    """The first lines of a statement, for lists; Open shows the whole of it in the editor."""
    kept = sql.strip().splitlines()
    return "\n".join(kept[:lines]) + ("\n…" if len(kept) > lines else "")


def history_panel() -> None:
    search = st.text_input(
        "Search history",
        key="sql.history_search",
        placeholder="Words in the SQL or the error, e.g. product_category failed",
        label_visibility="collapsed",
        icon=":material/search:",
    )
    with friendly_errors():
        entries = history().recent(limit=25, search=search)
        if not entries:
            st.caption("No runs match." if search.strip() else "No queries have run on this lake yet.")
            return
        icons = {
            "succeeded": ":green[:material/check_circle:]",
            "cached": ":blue[:material/cached:]",
            "failed": ":red[:material/error:]",
            "cancelled": ":orange[:material/cancel:]",
        }
        for entry in entries:
            with st.container(border=True):
                info, sql_col, buttons = st.columns([2, 6, 1.2], vertical_alignment="center")
                when = entry.started_at.astimezone().strftime("%Y-%m-%d %H:%M:%S")
                details = [entry.status]
                if entry.rows is not None:
                    details.append(f"{entry.total_rows if entry.total_rows is not None else entry.rows:,} rows")
                if entry.runtime_s is not None:
                    details.append(f"{entry.runtime_s:,.2f} s")
                info.markdown(f"{icons.get(entry.status, '')} **{when}**  \n:gray[{' · '.join(details)}]")
                sql_col.code(_snippet(entry.sql), language="sql", wrap_lines=True)
                if entry.error:
                    sql_col.caption(f":red[{entry.error}]")
                buttons.button(
                    "Open",
                    key=f"history.open.{entry.id}",
                    icon=":material/edit:",
                    on_click=set_text,
                    args=(entry.sql,),
                    help="Put this SQL in the editor",
                )
                buttons.button(
                    "Run",
                    key=f"history.run.{entry.id}",
                    icon=":material/replay:",
                    on_click=_rerun_entry,
                    args=(entry.sql,),
                    help="Put this SQL in the editor and run it",
                )


def _delete_saved(store: SavedQueries, name: str) -> None:
    """A callback: an error is kept for the next run to show, since callbacks cannot draw."""
    try:
        store.delete(name)
    except LakeLensError as exc:
        _state()["sql.saved_error"] = str(exc)


def saved_panel() -> None:
    store = saved_queries()
    problem = _state().pop("sql.saved_error", None)
    if problem:
        st.error(problem, icon=":material/error:")
    with st.form("sql.save_form", clear_on_submit=True, border=True):
        st.markdown("**Save the SQL in the editor**")
        name = st.text_input("Name", max_chars=120, placeholder="e.g. Sentiment share per category")
        description = st.text_area("Description", height=68, placeholder="What question does it answer?")
        if st.form_submit_button("Save query", icon=":material/bookmark_add:"):
            with friendly_errors():
                saved = store.save(name, text(), description)
                st.success(f"Saved “{saved.name}”. Everyone on this lake can open it.", icon=":material/bookmark:")
    with friendly_errors():
        queries = store.list()
        if not queries:
            st.caption("No saved queries on this lake yet.")
            return
        for query in queries:
            with st.container(border=True):
                info, buttons = st.columns([6, 1.2], vertical_alignment="center")
                info.markdown(f"**{query.name}**  \n:gray[{query.description or 'No description'}]")
                info.code(_snippet(query.sql), language="sql", wrap_lines=True)
                buttons.button(
                    "Open",
                    key=f"saved.open.{query.name}",
                    icon=":material/edit:",
                    on_click=set_text,
                    args=(query.sql,),
                )
                buttons.button(
                    "Delete",
                    key=f"saved.delete.{query.name}",
                    icon=":material/delete:",
                    on_click=_delete_saved,
                    args=(store, query.name),
                )
