"""The SQL editor and its run controls.

* The editor is streamlit-code-editor (Ace): SQL highlighting, live completion of keywords, Athena functions,
  databases, tables and columns, and Ctrl/Cmd+Enter to run. Its text reaches Python when the analyst runs
  (Ctrl+Enter) or leaves the editor (blur), so typing never reruns the page.
* A run happens in a worker thread (``backend.run_query`` with a query id generated here, through the cached
  ``lib.data.query`` unless the analyst asks for a fresh run). A fragment polls it twice a second, shows the
  elapsed time and a Cancel button that calls ``backend.cancel_query``. The handle lives in ``st.session_state``.
* Before a run: the guard, then the scan estimate; above ``scan_warn_bytes`` the analyst must confirm.
* A run is a script (lib/sql/script.py): one statement or several, run in order with the parameter values of
  components/sql/params.py; the first refused or failing statement stops it, the results before it are kept.
* After a run, successful or not, one history entry per statement is written to the lake.
* Format rewrites the SQL (lib.sql.script.format_sql); Plan asks components/sql/plan_panel.py for the engine's plan.

Tabs (components/sql/tabs.py), the parameter inputs (components/sql/params.py), the results of a script
(components/sql/results.py) and the history and saved queries (components/sql/memory.py) live beside this.

State (all under ``sql.`` in ``st.session_state``): ``text`` is the SQL as Python knows it; ``code`` is the text
last pushed into the editor (changing it replaces the editor's content); ``run`` is the running query;
``outcome`` the last finished one. The text's helpers (``text``, ``set_text``, ``insert``) live in
components/sql/state.py, which the tabs use too; they are re-exported here.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import streamlit as st
from code_editor import code_editor
from streamlit.runtime.scriptrunner import add_script_run_ctx, get_script_run_ctx

from components.feedback import friendly_errors
from components.plain import defanged
from components.result_grid import format_usd
from components.sql import params as sql_params
from components.sql import tabs as sql_tabs
from components.sql.state import insert as insert
from components.sql.state import set_text as set_text
from components.sql.state import text as text
from lib import data
from lib import sql as sqlmod
from lib.backends.base import QueryResult
from lib.errors import LakeLensError, NotFound, ParameterError, SqlError
from lib.paths import human_bytes
from lib.settings import Settings
from lib.sql import params as paramsmod
from lib.sql import script
from lib.sql.estimate import ScanEstimate, estimate_scan
from lib.sql.history import History, HistoryEntry, SavedQueries, Status
from lib.sql.params import ParamValue

if TYPE_CHECKING:
    from streamlit.runtime.state import SessionStateProxy

log = logging.getLogger("lakelens")

ESTIMATE_OBJECT_CAP = 20_000


@dataclass
class RunHandle:
    """A query (or a script of several) running in a worker thread."""

    query_id: str
    sql: str
    database: str
    started: float
    started_at: datetime
    future: Future[list[script.StepOutcome]]
    fresh: bool
    estimate: ScanEstimate | None
    cancel_requested: bool = False
    cancel_sent_at: float | None = None
    params: dict[str, str] = field(default_factory=dict)


@dataclass
class Outcome:
    """A finished run: a result or one clear error; a script's statements each in ``steps``."""

    number: int
    sql: str
    started_at: datetime
    status: Status
    result: QueryResult | None = None
    error: str = ""
    estimate: ScanEstimate | None = None
    elapsed_s: float = 0.0
    steps: list[script.StepOutcome] = field(default_factory=list)
    params: dict[str, str] = field(default_factory=dict)

    @property
    def cached(self) -> bool:
        return self.status == "cached"

    @property
    def is_script(self) -> bool:
        return len(self.steps) > 1


# -- state ---------------------------------------------------------------------------------------------------
def _state() -> SessionStateProxy:
    return st.session_state


def outcome() -> Outcome | None:
    value = _state().get("sql.outcome")
    return value if isinstance(value, Outcome) else None


def running() -> RunHandle | None:
    value = _state().get("sql.run")
    return value if isinstance(value, RunHandle) else None


def init_from_url(settings: Settings, default_sql: str) -> None:
    """On the first visit in a session, open the link's tabs (or one with ``?sql=`` or a starter) and decide on
    auto-run.

    A link runs at once on the local backend; on aws only if the result is cached, so opening a link never
    starts a paid scan by surprise.
    """
    if "sql.tabs" in _state():
        return
    linked = sql_tabs.init_from_url(default_sql)
    _state()["sql.run_count"] = 0
    if linked is None:
        return
    sql, values = linked
    used = sql_params.used(sql, values)
    if not data.backend(settings).bills_scans or data.query_is_cached(sql, params=used or None):
        _state()["sql.autorun"] = True
    else:
        _state()["sql.link_waiting"] = True


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
        key=sql_tabs.editor_key(),
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
def _estimate(key: str, sql: str, database: str, params: tuple[tuple[str, str], ...] = ()) -> ScanEstimate:
    # Listing stops after ESTIMATE_OBJECT_CAP objects so a huge S3 table cannot hold the page up; the estimate
    # is then a lower bound and the run asks first. Each statement of a script adds its own scans.
    scans = []
    for step in script.plan(sql, dict(params) or None):
        if step.kind != "run":
            continue
        try:
            statement = sqlmod.check(step.sql, allow_writes=data.settings().allow_writes, default_database=database)
        except LakeLensError:
            continue  # refused or unparseable: it stops the script when its turn comes, and reads nothing
        found = estimate_scan(
            data.backend(), statement, default_database=database, object_cap=ESTIMATE_OBJECT_CAP, params=step.params
        )
        scans.extend(found.tables)
    return ScanEstimate(scans)


def estimate(sql: str, settings: Settings, params: dict[str, str] | None = None) -> ScanEstimate:
    """Bytes the SQL (every statement of a script) will scan, from the catalog (cached for two minutes)."""
    values = tuple(sorted((params or {}).items()))
    return _estimate(data.settings_key(settings), sql, settings.database, values)


def request_run(settings: Settings, *, fresh: bool = False, confirmed: bool = False) -> None:
    """Check the SQL, estimate the scan, then start it, or ask first when it is above ``scan_warn_bytes``."""
    sql = text()
    if running() is not None:
        return
    _state().pop("sql.confirm", None)
    _state().pop("sql.link_waiting", None)
    values = sql_params.used(sql)
    try:
        steps = script.plan(sql, values)
        if len(steps) == 1 and steps[0].kind == "run":
            statement = sqlmod.check(sql, allow_writes=settings.allow_writes, default_database=settings.database)
            missing = [p.name for p in paramsmod.find(sql) if p.name not in values]
            if missing:
                names = ", ".join(f":{n}" for n in missing)
                raise ParameterError(f"Give a value for {names} in the inputs above the editor, then run.")
            scan = estimate(sql, settings, values) if statement.kind in ("query", "write") else ScanEstimate([])
        else:
            scan = estimate(sql, settings, values)
    except LakeLensError as exc:
        # Refused before it ran: still a run the analyst made, so it is shown until the next one and recorded.
        _finish(sql, datetime.now(UTC), "failed", error=str(exc), database=settings.database, params=values)
        return
    if not confirmed and needs_confirmation(scan, settings):
        _state()["sql.confirm"] = {"sql": sql, "fresh": fresh, "estimate": scan, "params": values}
        return
    start(settings, sql, fresh=fresh, scan=scan, params=values)


def needs_confirmation(scan: ScanEstimate, settings: Settings) -> bool:
    """Above the warning limit, or of a size that could not be worked out in full."""
    return scan.bytes > settings.scan_warn_bytes or not scan.complete


def start(
    settings: Settings, sql: str, *, fresh: bool, scan: ScanEstimate | None, params: dict[str, str] | None = None
) -> None:
    query_id = str(uuid.uuid4())
    database = settings.database
    values = dict(params or {})
    future: Future[list[script.StepOutcome]] = Future()
    backend = data.backend(settings)

    def one(statement: str, bound: dict[str, ParamValue]) -> QueryResult:
        if fresh:
            return backend.run_query(
                statement,
                max_rows=settings.max_rows,
                database=database,
                query_id=query_id,
                timeout_s=settings.query_timeout_s,
                params=bound or None,
            )
        return data.query(
            statement,
            settings.max_rows,
            database,
            query_id=query_id,
            timeout_s=settings.query_timeout_s,
            params=bound or None,
        )

    def work() -> None:
        if not future.set_running_or_notify_cancel():
            return
        try:
            future.set_result(script.run(sql, one, values))
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
        params=values,
    )
    sql_tabs.sync_url()
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
    common: dict[str, Any] = {
        "elapsed_s": elapsed,
        "estimate": handle.estimate,
        "database": handle.database,
        "params": handle.params,
    }
    try:
        steps = handle.future.result()
    except Exception as exc:
        log.error("Query %s failed unexpectedly", handle.query_id, exc_info=exc)
        message = (
            f"Something went wrong inside LakeLens while running the query ({type(exc).__name__}). "
            "The details are in the server log; please report it."
        )
        _finish(handle.sql, handle.started_at, "failed", error=message, query_id=handle.query_id, **common)
        return True
    for step in steps:
        # A cached answer carries the query id of the run that computed it, not the id generated for this run.
        step.cached = step.result is not None and step.result.stats.query_id != handle.query_id
    failed = next((step for step in steps if step.error), None)
    results = [step for step in steps if step.result is not None]
    status: Status
    if failed is not None:
        status = "cancelled" if failed.cancelled else "failed"
    elif results and all(step.cached for step in results):
        status = "cached"
    else:
        status = "succeeded"
    _finish(
        handle.sql,
        handle.started_at,
        status,
        result=results[-1].result if results else None,
        error=failed.error if failed is not None else "",
        query_id=handle.query_id,
        steps=steps,
        **common,
    )
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
    params: dict[str, str] | None = None,
    steps: list[script.StepOutcome] | None = None,
) -> None:
    """Make this the outcome the page shows, and write a history entry per statement to the lake."""
    number = int(_state().get("sql.run_count", 0)) + 1
    _state()["sql.run_count"] = number
    values = dict(params or {})
    _state()["sql.outcome"] = Outcome(
        number, sql, started_at, status, result, error, estimate, elapsed_s, list(steps or []), values
    )
    sql_tabs.save_active()
    recorded = [s for s in steps or [] if s.result is not None or s.error]
    if not recorded:
        recorded = [script.StepOutcome(sql, sql, {}, result=result, error=error, cancelled=status == "cancelled")]
    for step in recorded:
        step_params = {name: str(value) for name, value in step.params.items()} if steps else values
        if step.result is not None:
            entry = HistoryEntry.from_stats(
                step.shown,
                step.result.stats,
                started_at=started_at,
                database=database,
                cached=step.cached,
                params=step_params,
            )
        else:
            entry = HistoryEntry(
                sql=step.shown,
                status="cancelled" if step.cancelled else "failed",
                started_at=started_at,
                runtime_s=elapsed_s,
                query_id=query_id,
                error=step.error,
                database=database,
                engine=_engine_name(),
                params=step_params,
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
    buttons, right = st.columns([4, 3], vertical_alignment="center")
    toolbar = buttons.container(horizontal=True, vertical_alignment="center")
    left = middle = fmt = plan = toolbar
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
    fmt.button(
        "Format",
        icon=":material/format_align_left:",
        key="sql.format_button",
        on_click=format_text,
        disabled=handle is not None,
        help="Rewrite the SQL readably (keywords in capitals, one clause per line); comments are kept",
    )
    plan.button(
        "Plan",
        icon=":material/account_tree:",
        key="sql.plan_button",
        on_click=request_plan,
        help="Show the engine's plan: the tables, partitions and filters the query reads, next to the estimate",
    )
    with right:
        _estimate_line(settings)
    problem = _state().pop("sql.format_error", None)
    if problem:
        st.error(problem, icon=":material/error:")
    if _state().get("sql.link_waiting"):
        st.info(
            "This link's query has not run yet: on AWS every run scans data and costs money. Check it, then press Run.",
            icon=":material/link:",
        )
    _confirm(settings)
    if running() is not None:
        _progress()


def format_text() -> None:
    """A callback: the editor's SQL pretty-printed; unparseable SQL stays as it is, with the reason shown."""
    try:
        set_text(script.format_sql(text()))
    except LakeLensError as exc:
        _state()["sql.format_error"] = f"Format left the SQL as it is: {exc}"


def request_plan() -> None:
    _state()["sql.plan_request"] = {"sql": text(), "params": sql_params.used(text())}


def _estimate_line(settings: Settings) -> None:
    sql = text()
    if not sql.strip():
        return
    try:
        if len(script.split(sql)) == 1:
            statement = sqlmod.check(sql, allow_writes=settings.allow_writes, default_database=settings.database)
            if statement.kind not in ("query", "write"):
                return
        scan = estimate(sql, settings, sql_params.used(sql))
    except LakeLensError as exc:
        if isinstance(exc, SqlError) and exc.line is not None:
            st.caption(f":material/error: {defanged(str(exc))}")
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
                start(settings, pending["sql"], fresh=bool(pending["fresh"]), scan=scan, params=pending.get("params"))
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
