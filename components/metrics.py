"""Metric cards: a row of big numbers with labels."""

from __future__ import annotations

from collections.abc import Sequence

import streamlit as st


def metric_row(items: Sequence[tuple[str, str, str | None]]) -> None:
    """``items``: (label, value, help). One bordered card per item, in one row."""
    columns = st.columns(len(items))
    for column, (label, value, help_text) in zip(columns, items, strict=True):
        column.metric(label, value, help=help_text, border=True)
