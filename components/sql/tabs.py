"""Query tabs (Superset's SQL Lab, the Athena console): several queries open at once, each with its own result.

The editor, the parameter inputs and the result always show the *current* tab through the working keys of
``st.session_state`` (``sql.text``, ``sql.code``, ``sql.params``, ``sql.outcome``); every tab is a
:class:`QueryTab` in ``sql.tabs``. Switching saves the working keys into the tab being left and loads the one
chosen, so a result stays with its tab across reruns. A tab is named from its query (its first comment, else
the table it reads) until the analyst names it.

The link holds every tab: ``?tabs=`` is the tabs' names, SQL and parameter values as compressed JSON, ``?tab=``
the current one; the current tab's SQL and values are also plain ``?sql=`` and ``?p_name=`` as before.
"""

from __future__ import annotations

import base64
import json
import re
import uuid
import zlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import sqlglot
import streamlit as st
from sqlglot import exp

from components.plain import plain
from components.sql import params as sql_params
from components.sql import state as sql_state

if TYPE_CHECKING:
    from components.sql.editor import Outcome  # editor imports this module: the type only

MAX_TABS = 12
_MAX_LINK_BYTES = 256 * 1024


@dataclass
class QueryTab:
    sql: str
    name: str = ""  # given by the analyst; empty: named from the query
    params: dict[str, str] = field(default_factory=dict)
    outcome: Outcome | None = None  # the tab's last finished run, as sql.editor keeps it
    # Each tab has its own editor instance: an editor that loses focus as the analyst clicks another tab sends
    # its text late, and it must land in the tab it came from, not the one just opened.
    uid: str = field(default_factory=lambda: uuid.uuid4().hex[:12])


def title(tab: QueryTab, number: int) -> str:
    if tab.name:
        return tab.name
    return auto_name(tab.sql) or f"Query {number}"


def auto_name(sql: str) -> str:
    """The first comment's words, else ``SHOW``/the first table read; ``""`` if neither says anything."""
    try:
        tokens = sqlglot.tokenize(sql, read="athena")
    except sqlglot.errors.TokenError:
        return ""
    for token in tokens[:1]:
        for comment in token.comments:
            words = re.sub(r"\s+", " ", comment).strip(" -*")
            if words and not words.startswith(":"):
                return words if len(words) <= 32 else words[:31] + "…"
    try:
        tree = sqlglot.parse_one(sql, read="athena")
    except (sqlglot.errors.ParseError, sqlglot.errors.TokenError):
        return ""
    if isinstance(tree, exp.Command):
        return str(tree.this).upper()
    table = next(iter(tree.find_all(exp.Table)), None)
    return f"{table.db + '.' if table is not None and table.db else ''}{table.name}" if table is not None else ""


# -- state --------------------------------------------------------------------------------------------------
def tabs() -> list[QueryTab]:
    value = st.session_state.get("sql.tabs")
    if not isinstance(value, list) or not value:
        value = [QueryTab(str(st.session_state.get("sql.text", "")))]
        st.session_state["sql.tabs"] = value
    return value


def editor_key() -> str:
    return f"sql.editor.{tabs()[active()].uid}"


def active() -> int:
    index = st.session_state.get("sql.tab", 0)
    return index if isinstance(index, int) and 0 <= index < len(tabs()) else 0


def save_active() -> None:
    """Copy the working keys into the current tab."""
    tab = tabs()[active()]
    tab.sql = str(st.session_state.get("sql.text", ""))
    tab.params = sql_params.values()
    tab.outcome = st.session_state.get("sql.outcome")


def _load(index: int) -> None:
    st.session_state["sql.tab"] = index
    tab = tabs()[index]
    sql_state.set_text(tab.sql)
    sql_params.set_values(tab.params)
    st.session_state["sql.outcome"] = tab.outcome
    st.session_state["sql.tab_choice"] = index
    st.session_state.pop("sql.tab_name", None)  # the rename box shows the new tab's name
    sync_url()


def switch(index: int) -> None:
    if index == active() or not 0 <= index < len(tabs()):
        return
    save_active()
    _load(index)


def new_tab(sql: str = "") -> None:
    if len(tabs()) >= MAX_TABS:
        st.session_state["sql.tab_error"] = f"At most {MAX_TABS} tabs are open at once; close one first."
        return
    save_active()
    tabs().append(QueryTab(sql))
    _load(len(tabs()) - 1)


def close_tab() -> None:
    if len(tabs()) == 1:
        return
    index = active()
    tabs().pop(index)
    _load(max(0, index - 1))


def rename(name: str) -> None:
    tabs()[active()].name = name.strip()[:40]
    sync_url()


# -- the link -----------------------------------------------------------------------------------------------
def encode(items: list[QueryTab]) -> str:
    body = [{"n": t.name, "s": t.sql, "p": t.params} for t in items]
    packed = zlib.compress(json.dumps(body, separators=(",", ":")).encode("utf-8"), 9)
    return base64.urlsafe_b64encode(packed).decode("ascii").rstrip("=")


def decode(text: str) -> list[QueryTab]:
    """The tabs of a link; anything that is not what :func:`encode` wrote gives no tabs (never an error)."""
    if not text or len(text) > _MAX_LINK_BYTES:
        return []
    try:
        packed = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        raw = zlib.decompressobj().decompress(packed, _MAX_LINK_BYTES)
        body = json.loads(raw)
    except (ValueError, zlib.error):
        return []
    out: list[QueryTab] = []
    for item in body if isinstance(body, list) else []:
        if not isinstance(item, dict) or not isinstance(item.get("s"), str):
            continue
        given = item.get("p")
        params = {str(k): str(v) for k, v in given.items()} if isinstance(given, dict) else {}
        out.append(QueryTab(item["s"], str(item.get("n") or "")[:40], params))
    return out[:MAX_TABS]


def sync_url() -> None:
    save_active()
    items = tabs()
    if len(items) > 1 or items[0].name:
        st.query_params["tabs"] = encode(items)
        st.query_params["tab"] = str(active())
    else:
        st.query_params.pop("tabs", None)
        st.query_params.pop("tab", None)
    current = items[active()]
    if current.sql:
        st.query_params["sql"] = current.sql
    sql_params.to_url(sql_params.used(current.sql, current.params))


def init_from_url(default_sql: str) -> tuple[str, dict[str, str]] | None:
    """On the first visit: the tabs from the link (or one tab); returns the current tab's SQL and values when
    the link carried a query, so the caller can decide whether to run it."""
    if "sql.tabs" in st.session_state:
        return None
    linked = decode(str(st.query_params.get("tabs", "")))
    sql = str(st.query_params.get("sql", ""))
    values = sql_params.from_url()
    try:
        index = int(str(st.query_params.get("tab", "0")))
    except ValueError:
        index = 0
    index = index if 0 <= index < len(linked) else 0
    if linked:
        if sql:
            linked[index].sql = sql
        if values:
            linked[index].params = values
    else:
        linked = [QueryTab(sql or default_sql, "", values)]
    st.session_state["sql.tabs"] = linked
    st.session_state["sql.tab"] = index
    st.session_state["sql.tab_choice"] = index
    current = linked[index]
    sql_state.set_text(current.sql)
    sql_params.set_values(current.params)
    carried = bool(sql) or bool(st.query_params.get("tabs"))
    return (current.sql, current.params) if carried else None


# -- the bar ------------------------------------------------------------------------------------------------
def bar(*, running: bool) -> None:
    """The tabs, New, Rename and Close; disabled while a query runs (its result belongs to the current tab)."""
    items = tabs()
    problem = st.session_state.pop("sql.tab_error", None)
    left, right = st.columns([5, 3], vertical_alignment="center")
    actions = right.container(horizontal=True, horizontal_alignment="right", vertical_alignment="center")
    new = rename_col = close = actions
    with left:
        st.segmented_control(
            "Query tabs",
            list(range(len(items))),
            format_func=lambda i: plain(title(_live(items, i), i + 1)),
            key="sql.tab_choice",
            on_change=_chosen,
            disabled=running,
            label_visibility="collapsed",
            required=True,
        )
    new.button(
        "New tab",
        icon=":material/add:",
        key="sql.tab_new",
        on_click=new_tab,
        disabled=running,
        help="Open another query beside this one; each tab keeps its own result",
    )
    with rename_col.popover("Rename", icon=":material/edit:", disabled=running):
        st.text_input(
            "Tab name",
            value=items[active()].name,
            key="sql.tab_name",
            max_chars=40,
            placeholder=auto_name(items[active()].sql) or "Query",
            on_change=lambda: rename(str(st.session_state.get("sql.tab_name", ""))),
        )
    close.button(
        "Close",
        icon=":material/close:",
        key="sql.tab_close",
        on_click=close_tab,
        disabled=running or len(items) == 1,
        help="Close this tab (its SQL stays in the history)",
    )
    if problem:
        st.caption(f":red[{problem}]")


def _live(items: list[QueryTab], index: int) -> QueryTab:
    """The current tab with the editor's text as it is now (the saved copy lags until the next switch)."""
    if index != active():
        return items[index]
    return QueryTab(str(st.session_state.get("sql.text", items[index].sql)), items[index].name, uid=items[index].uid)


def _chosen() -> None:
    choice = st.session_state.get("sql.tab_choice")
    if isinstance(choice, int):
        switch(choice)
    else:
        st.session_state["sql.tab_choice"] = active()
