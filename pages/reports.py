"""Reports: Markdown + SQL stories kept in the lake; open one, refresh it, edit it, present it as slides, export it."""

from __future__ import annotations

import streamlit as st

from components.feedback import friendly_errors
from components.reports import view as report_view
from components.routing import require_app

require_app()
slug = str(st.query_params.get("report", ""))
if slug:
    report_view.open_report(slug)
else:
    st.title("Reports")
    st.caption(
        "Markdown and SQL kept in the lake: each block's last result is stored with it, so a report opens at once "
        "and costs nothing until you refresh it."
    )
    with friendly_errors(stop=True):
        report_view.report_list()
