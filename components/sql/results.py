"""The Results tab: one result, or a script's statements each with its own grid and stats.

A script that stopped shows the results before the statement that stopped it, then that statement's message.
Every result has its stats, its grid (at most ``max_rows`` rows), whole-result downloads, a pin for the report
and its column profile.
"""

from __future__ import annotations

import streamlit as st

from components.plain import defanged, plain
from components.reports.pins import pin_table
from components.result_grid import download_buttons, result_grid, stats_cards
from components.sql.editor import Outcome
from components.sql.profile_panel import result_profile
from lib import sql as sqlmod
from lib.backends.base import QueryResult
from lib.errors import LakeLensError
from lib.settings import Settings
from lib.sql import script


def pin_details(sql: str, result: QueryResult) -> dict[str, object]:
    stats = result.stats
    return {
        "sql": sql,
        "engine": stats.engine,
        "rows": stats.total_rows if stats.total_rows is not None else stats.rows,
        "bytes_scanned": stats.bytes_scanned,
        "bytes_estimated": stats.bytes_estimated,
    }


def _one(
    sql: str, result: QueryResult, params: dict[str, str], settings: Settings, *, cached: bool, elapsed: float, key: str
) -> None:
    stats_cards(result.stats, cached=cached, elapsed_s=elapsed)
    result_grid(result, key=key)
    download_buttons(sql, result.stats, settings, key=key, params=params)
    pin_table("Query result", "SQL", result.frame, key=f"sql.result.{key}", **pin_details(sql, result))
    if len(result.frame.columns) and result.stats.rows and _is_query(sql, settings):
        result_profile(sql, result.frame, params, settings, key=key)


def _is_query(sql: str, settings: Settings) -> bool:
    """SHOW, DESCRIBE and EXPLAIN answer from the catalog or the planner: there is nothing to profile."""
    try:
        return sqlmod.check(sql, allow_writes=settings.allow_writes, default_database=settings.database).kind == "query"
    except LakeLensError:
        return False


def _step_params(step: script.StepOutcome) -> dict[str, str]:
    return {name: str(value) for name, value in step.params.items()}


def show(outcome: Outcome | None, settings: Settings) -> None:
    if outcome is None:
        st.caption("Run a query to see its rows here.")
        return
    if not outcome.is_script:
        if outcome.result is None:
            note = outcome.steps[0].note if outcome.steps else ""
            if note and not outcome.error:
                st.success(plain(note), icon=":material/check:")
                return
            icon = ":material/cancel:" if outcome.status == "cancelled" else ":material/error:"
            st.error(defanged(outcome.error), icon=icon)
            return
        step = outcome.steps[0] if outcome.steps else None
        _one(
            step.sql if step else outcome.sql,
            outcome.result,
            _step_params(step) if step else outcome.params,
            settings,
            cached=outcome.cached,
            elapsed=outcome.elapsed_s,
            key=str(outcome.number),
        )
        return
    total = len(script.split(outcome.sql))
    ran = sum(1 for s in outcome.steps if s.result is not None or s.note)
    stopped = next((s for s in outcome.steps if s.error), None)
    where = outcome.steps.index(stopped) + 1 if stopped is not None else 0
    st.caption(
        f":material/format_list_numbered: Script of {total} statements · {ran} ran"
        + (f" · statement {where} stopped it; the results before it are kept" if stopped else "")
    )
    for index, step in enumerate(outcome.steps, start=1):
        with st.container(border=True, key=f"sql.step.{outcome.number}.{index}"):
            first = step.shown.strip().splitlines()[0] if step.shown.strip() else ""
            st.markdown(f"**Statement {index}** · {plain(first[:90])}{'…' if len(first) > 90 else ''}")
            if step.error:
                icon = ":material/cancel:" if step.cancelled else ":material/error:"
                st.error(defanged(step.error), icon=icon)
            elif step.note:
                st.caption(f":material/check: {plain(step.note)}")
            elif step.result is not None:
                _one(
                    step.sql,
                    step.result,
                    _step_params(step),
                    settings,
                    cached=step.cached,
                    elapsed=step.result.stats.runtime_s,
                    key=f"{outcome.number}.{index}",
                )
    if stopped is not None and ran + 1 < total:
        st.caption(f"{total - ran - 1} statement(s) after it did not run.")
