"""The sidebar note saying which backend and lake the app is looking at."""

from __future__ import annotations

import streamlit as st

from lib.backends.base import BackendInfo


def backend_lines(info: BackendInfo) -> list[tuple[str, str]]:
    """(label, value) pairs describing the backend. Never a credential: BackendInfo holds none."""
    lines = [
        ("Backend", "local (embedded)" if info.kind == "local" else "aws"),
        ("Lake", info.lake),
        ("Engine", info.engine),
    ]
    if info.kind == "aws":
        lines += [("Region", info.region or ""), ("Workgroup", info.workgroup or "")]
        lines.append(("Endpoint", info.endpoint or "AWS (default)"))
    return lines


def sidebar_badge(info: BackendInfo) -> None:
    icon = ":material/computer:" if info.kind == "local" else ":material/cloud:"
    with st.sidebar:
        st.caption(f"{icon} **{'Local lake' if info.kind == 'local' else 'AWS'}** · {info.engine}")
        st.caption(f"`{info.lake}`")
