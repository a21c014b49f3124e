"""The sidebar note saying which backend and lake the app is looking at."""

from __future__ import annotations

import streamlit as st

from lib.backends.base import BackendInfo


def backend_lines(info: BackendInfo) -> list[tuple[str, str]]:
    """(label, value) pairs describing the backend. Never a credential: BackendInfo holds none."""
    return info.lines()


def sidebar_badge(info: BackendInfo) -> None:
    with st.sidebar:
        st.caption(f"{info.icon} **{info.title}** · {info.engine}")
        st.caption(f"`{info.lake}`")
