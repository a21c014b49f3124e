"""One input per ``:name`` parameter of the SQL, above the editor (Redash's query parameters, bound as literals).

The inputs follow the SQL: a parameter appears when the analyst writes ``:name`` and leaves the editor, and goes
when its last use does. Each is typed from how the SQL uses it (lib/sql/params.py): text and numbers are text boxes
checked as the analyst types, dates a date picker, and a parameter with a ``-- :name values from SELECT ...``
comment a select of that query's first column (run through the guard and cached like any query).

Values live in ``st.session_state["sql.params"]`` (the current tab's) and in the URL as ``p_<name>=value``, so a
link opens the query with its values filled in.
"""

from __future__ import annotations

from datetime import date

import streamlit as st

from components.plain import defanged
from lib import data
from lib.catalog import TableDef
from lib.errors import LakeLensError
from lib.settings import Settings
from lib.sql import params as paramsmod

URL_PREFIX = "p_"
VALUES_LIMIT = 1_000
_PLACEHOLDERS = {"text": "text", "number": "a number, e.g. 4", "date": "YYYY-MM-DD"}


def values() -> dict[str, str]:
    current = st.session_state.get("sql.params")
    return dict(current) if isinstance(current, dict) else {}


def set_values(new: dict[str, str]) -> None:
    """Replace the values (a saved query, a history entry, another tab); the inputs show them on the next run."""
    st.session_state["sql.params"] = {str(k): str(v) for k, v in new.items()}
    for key in [k for k in st.session_state if str(k).startswith("sql.param.")]:
        del st.session_state[key]


def from_url() -> dict[str, str]:
    return {
        name[len(URL_PREFIX) :]: str(st.query_params.get(name, ""))
        for name in st.query_params
        if name.startswith(URL_PREFIX)
    }


def to_url(used: dict[str, str]) -> None:
    for name in [n for n in st.query_params if n.startswith(URL_PREFIX)]:
        if name[len(URL_PREFIX) :] not in used:
            del st.query_params[name]
    for name, value in used.items():
        st.query_params[f"{URL_PREFIX}{name}"] = value


def used(sql: str, given: dict[str, str] | None = None) -> dict[str, str]:
    """The values of the parameters this SQL uses (each statement of a script), missing ones left out."""
    current = values() if given is None else given
    names = dict.fromkeys(o.name for o in paramsmod.occurrences(sql))
    return {name: current[name] for name in names if name in current and current[name] != ""}


@st.cache_data(ttl=120, show_spinner=False)
def _choices(key: str, sql: str) -> list[str]:
    frame = data.query(sql, VALUES_LIMIT).frame
    if frame.empty or not len(frame.columns):
        return []
    return [str(v) for v in frame.iloc[:, 0].tolist() if v is not None and str(v) != "nan"]


def inputs(sql: str, tables: list[TableDef], settings: Settings) -> dict[str, str]:
    """Draw the inputs; returns the values of the parameters the SQL uses (what a run binds)."""
    found = paramsmod.find(sql, tables)
    if not found:
        return {}
    current = values()
    columns = st.columns(min(len(found), 4))
    for index, param in enumerate(found):
        with columns[index % len(columns)]:
            current[param.name] = _one(param, current.get(param.name, ""), settings)
    st.session_state["sql.params"] = current
    return used(sql, current)


def _values_allowed(param: paramsmod.Param, settings: Settings) -> bool:
    key = f"sql.param.{param.name}.allowed"
    if st.session_state.get(key):
        return True
    return bool(param.values_sql) and data.query_is_cached(str(param.values_sql), VALUES_LIMIT)


def _one(param: paramsmod.Param, value: str, settings: Settings) -> str:
    key = f"sql.param.{param.name}"
    label = f":{param.name}"
    if param.values_sql and data.backend(settings).bills_scans and not _values_allowed(param, settings):
        # On Athena the list of values is a query that scans and costs: it runs when asked, never on page load.
        typed = st.text_input(label, value=value, key=key, placeholder="type a value, or load the list")
        st.button(
            "Load the values",
            key=f"{key}.load",
            icon=":material/list:",
            on_click=lambda: st.session_state.__setitem__(f"{key}.allowed", True),
            help=f"Runs on Athena: {param.values_sql}",
        )
        return typed or ""
    if param.values_sql:
        options: list[str] = []
        problem = ""
        try:
            options = _choices(data.settings_key(settings), param.values_sql)
        except LakeLensError as exc:
            problem = str(exc)
        if value and value not in options:
            options = [value, *options]
        chosen = st.selectbox(
            label,
            options,
            index=options.index(value) if value in options else None,
            key=key,
            placeholder="Choose a value…",
            help=f"Values from: {param.values_sql}",
        )
        if problem:
            st.caption(f":red[The list of values could not be read: {defanged(problem)}]")
        return "" if chosen is None else str(chosen)
    if param.kind == "date":
        initial: date | None = None
        try:
            initial = date.fromisoformat(value) if value else None
        except ValueError:
            initial = None
        picked = st.date_input(label, value=initial, key=key, format="YYYY-MM-DD", help="A date (bound as DATE)")
        return picked.isoformat() if isinstance(picked, date) else ""
    typed = st.text_input(
        label,
        value=value,
        key=key,
        placeholder=_PLACEHOLDERS[param.kind],
        help="Bound as a number literal" if param.kind == "number" else "Bound as a string literal, never as SQL",
    )
    text = typed or ""
    if text:
        try:
            paramsmod.coerce(param, text)
        except LakeLensError as exc:
            st.caption(f":red[{defanged(str(exc))}]")
    return text
