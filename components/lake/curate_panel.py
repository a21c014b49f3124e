"""Curate a table already in the lake into Parquet, from the Catalog: the plan and (on Athena) its cost first, then
the work in a thread with its progress, and Cancel that stops it and removes what it wrote (lib/lake/curate.py)."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import streamlit as st

from components.feedback import friendly_errors
from lib import data
from lib.lake import curate
from lib.catalog import TableDef
from lib.errors import IngestCancelled, LakeLensError
from lib.sql.estimate import athena_cost_usd
from lib.paths import human_bytes

if TYPE_CHECKING:
    from lib.backends.base import Backend

STATE = "lake.curate"
NONE = "(not partitioned)"


@dataclass
class CurateJob:
    """A curate running in a worker thread: what the page shows of it, and how to stop it."""

    plan: curate.CuratePlan
    cancel: threading.Event = field(default_factory=threading.Event)
    fraction: float = 0.0
    message: str = "Starting"
    result: curate.CurateResult | None = None
    error: str | None = None
    cancelled: bool = False
    thread: threading.Thread | None = None
    started: float = field(default_factory=time.monotonic)

    @property
    def done(self) -> bool:
        return self.thread is not None and not self.thread.is_alive()


def _default_name(table: TableDef) -> str:
    base = table.name[: -len("_raw")] if table.name.endswith("_raw") else f"{table.name}_curated"
    return base if base != table.name else f"{table.name}_curated"


def _start(backend: Backend, plan: curate.CuratePlan, replace_existing: bool) -> CurateJob:
    job = CurateJob(plan)

    def progress(fraction: float, message: str) -> None:
        job.fraction, job.message = fraction, message

    def work() -> None:
        try:
            job.result = curate.curate(
                backend, plan, replace_existing=replace_existing, progress=progress, cancel=job.cancel
            )
        except IngestCancelled as exc:
            job.cancelled, job.error = True, str(exc)
        except LakeLensError as exc:
            job.error = str(exc)
        except Exception as exc:  # a bug: one line on the page, the details in the server log
            import logging

            logging.getLogger("lakelens").exception("curate failed")
            job.error = (
                f"Something went wrong inside LakeLens ({type(exc).__name__}); the details are in the server log."
            )

    job.thread = threading.Thread(target=work, name=f"lakelens-curate-{plan.table}", daemon=True)
    job.thread.start()
    return job


def curate_panel(table: TableDef) -> None:
    """The Catalog's *Curate as Parquet* section for one table."""
    job: CurateJob | None = st.session_state.get(STATE)
    if job is not None and job.plan.source.qualified_name == table.qualified_name:
        _follow(job)
        return
    with st.expander("Curate as Parquet", icon=":material/cycle:", expanded=False):
        st.caption(
            "Convert this table into a curated Parquet table under curated/<database>/<table>/, optionally in Hive "
            "folders by a category: locally in one streaming pass with bounded memory, on aws by an Athena CTAS. "
            "All or nothing."
        )
        keys = [NONE, *[c.name for c in table.all_columns]]
        with st.form(f"curate:{table.qualified_name}"):
            left, middle, right = st.columns([2, 2, 1], vertical_alignment="bottom")
            target = left.text_input("New table", value=f"{table.database}.{_default_name(table)}")
            key = middle.selectbox("Partition by", keys, index=0)
            replace_existing = right.checkbox("Replace it")
            planned = st.form_submit_button("Plan the curate", icon=":material/checklist:")
        if planned:
            with friendly_errors():
                st.session_state["lake.curate_plan"] = (
                    curate.plan_curate(
                        data.backend(), table.qualified_name, target.strip(), partition_by=None if key == NONE else key
                    ),
                    replace_existing,
                )
        pending = st.session_state.get("lake.curate_plan")
        if pending and pending[0].source.qualified_name == table.qualified_name:
            plan, replace_existing = pending
            cost = (
                f" Athena bills about ${athena_cost_usd(plan.scan_bytes):.2f} for it ($5 per TB scanned)."
                if plan.engine == "Athena"
                else ""
            )
            st.info(f"{plan.describe()}.{cost}", icon=":material/info:")
            if st.button("Curate", icon=":material/play_arrow:", type="primary", key="lake.curate_go"):
                st.session_state.pop("lake.curate_plan", None)
                st.session_state[STATE] = _start(data.backend(), plan, replace_existing)
                st.rerun()


@st.fragment(run_every=1.0)
def _follow(job: CurateJob) -> None:
    """The running curate's progress, redrawn every second; the page reruns once when it ends."""
    if not job.done:
        st.progress(min(max(job.fraction, 0.0), 1.0), text=job.message)
        elapsed = time.monotonic() - job.started
        st.caption(f"Curating {job.plan.source.qualified_name} → {job.plan.qualified_name} · {elapsed:.0f} s")
        if st.button("Cancel", icon=":material/stop:", key="lake.curate_cancel", disabled=job.cancel.is_set()):
            job.cancel.set()
        return
    if job.result is not None:
        rows = f"{job.result.rows:,} rows" if job.result.rows is not None else "the rows Athena wrote"
        scanned = f", {human_bytes(job.result.bytes_scanned)} read" if job.result.bytes_scanned else ""
        st.success(
            f"Curated {rows} into **{job.result.table.qualified_name}** ({job.result.table.location}) in "
            f"{job.result.seconds:.1f} s{scanned}.",
            icon=":material/check_circle:",
        )
        data.clear()
    elif job.cancelled:
        st.warning(job.error or "Cancelled; nothing was written.", icon=":material/cancel:")
    else:
        st.error(job.error or "The curate failed.", icon=":material/error:")
    if st.button("Done", key="lake.curate_done"):
        st.session_state.pop(STATE, None)
        st.rerun()
