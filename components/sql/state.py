"""The SQL editor's text in ``st.session_state``: read and replaced by the editor (components/sql/editor.py) and
by the tabs (components/sql/tabs.py), so neither imports the other for it.

``sql.text`` is the SQL as Python knows it; ``sql.code`` is the text last pushed into the editor (changing it
replaces the editor's content); ``sql.cursor`` is where the editor's cursor last was.
"""

from __future__ import annotations

from typing import Any

import streamlit as st


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
