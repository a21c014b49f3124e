"""What the SQL page remembers: starter questions, the lake's query history and its saved queries.

History and saved queries live in the lake (lib/sql/history.py), so everyone on a lake shares them. Opening one puts
its SQL and its parameter values in the current tab's editor.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import streamlit as st

from components.feedback import friendly_errors
from components.plain import defanged, plain
from components.sql import params as sql_params
from components.sql.editor import history, saved_queries, set_text, text
from lib import sql as sqlmod
from lib.errors import LakeLensError
from lib.sql.history import SavedQueries

if TYPE_CHECKING:
    from streamlit.runtime.state import SessionStateProxy


def _state() -> SessionStateProxy:
    return st.session_state


def _open(sql: str, params: dict[str, str] | None = None) -> None:
    set_text(sql)
    sql_params.set_values(params or {})


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


def _rerun_entry(sql: str, params: dict[str, str] | None = None) -> None:
    _open(sql, params)
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
                details: list[str] = [entry.status]
                if entry.rows is not None:
                    details.append(f"{entry.total_rows if entry.total_rows is not None else entry.rows:,} rows")
                if entry.runtime_s is not None:
                    details.append(f"{entry.runtime_s:,.2f} s")
                info.markdown(f"{icons.get(entry.status, '')} **{when}**  \n:gray[{' · '.join(details)}]")
                sql_col.code(_snippet(entry.sql), language="sql", wrap_lines=True)
                if entry.params:
                    sql_col.caption(" · ".join(plain(f":{name} = {value!r}") for name, value in entry.params.items()))
                if entry.error:
                    sql_col.caption(f":red[{defanged(entry.error)}]")
                buttons.button(
                    "Open",
                    key=f"history.open.{entry.id}",
                    icon=":material/edit:",
                    on_click=_open,
                    args=(entry.sql, entry.params),
                    help="Put this SQL (and its parameter values) in the editor",
                )
                buttons.button(
                    "Run",
                    key=f"history.run.{entry.id}",
                    icon=":material/replay:",
                    on_click=_rerun_entry,
                    args=(entry.sql, entry.params),
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
                saved = store.save(name, text(), description, sql_params.used(text()))
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
                if query.params:
                    info.caption(" · ".join(plain(f":{name} = {value!r}") for name, value in query.params.items()))
                buttons.button(
                    "Open",
                    key=f"saved.open.{query.name}",
                    icon=":material/edit:",
                    on_click=_open,
                    args=(query.sql, query.params),
                )
                buttons.button(
                    "Delete",
                    key=f"saved.delete.{query.name}",
                    icon=":material/delete:",
                    on_click=_delete_saved,
                    args=(store, query.name),
                )
