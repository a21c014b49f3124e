"""LakeLens: the entry point. Sets the page up, makes sure there is a lake, and routes to the pages."""

from __future__ import annotations

import streamlit as st

from components.backend_badge import backend_lines, sidebar_badge
from components.feedback import friendly_errors
from components.metrics import metric_row
from components.reports import pins as report_pins
from components.reports import present
from components.sign_in import require_sign_in
from lib import data
from lib.errors import LakeLensError
from lib.lake import demo
from lib.paths import human_bytes

st.set_page_config(page_title="LakeLens", page_icon=":material/water:", layout="wide")

PAGES = {
    "lake": (
        "pages/lake.py",
        "Lake",
        ":material/folder_open:",
        "Browse objects and the catalog, preview files, ingest a file as a table.",
    ),
    "sql": (
        "pages/sql.py",
        "SQL",
        ":material/terminal:",
        "Write Athena SQL, see results, chart them and share the link.",
    ),
    "sentiment": (
        "pages/sentiment.py",
        "Sentiment",
        ":material/sentiment_satisfied:",
        "Sentiment per category, review lengths and pre-training bias.",
    ),
    "automl": (
        "pages/automl.py",
        "AutoML",
        ":material/model_training:",
        "Train and compare sentiment classifiers; read Autopilot jobs.",
    ),
    "reports": (
        "pages/reports.py",
        "Reports",
        ":material/article:",
        "Markdown + SQL reports kept in the lake: refresh, present as slides, export.",
    ),
}


def ensure_lake() -> None:
    """On first start with an empty lake folder, build the demo lake (once, even with several sessions). A lake
    that is not a folder on this machine (S3) is never written unasked: `python -m lib demo` builds it there."""
    settings = data.settings()
    backend = data.backend(settings)
    folder = backend.lake_folder
    if folder is None:
        data.check()
        return
    if folder.exists():
        data.check()
    if demo.exists(backend) or not demo.lake_is_empty(folder):
        return
    with data.demo_lock(settings.identity()):
        if demo.exists(backend):
            return
        notice = st.empty()
        with notice.container():
            st.info(f"First start: building the demo lake with {settings.demo_rows:,} reviews in {folder}.")
            bar = st.progress(0.0, text="Preparing")

            def show(fraction: float, message: str) -> None:
                bar.progress(min(fraction, 1.0), text=message)

            demo.build(backend, settings.demo_rows, progress=show)
        notice.empty()
        data.clear()


def home() -> None:
    st.title("LakeLens")
    st.caption("Explore the review lake: what is in it, what it says, and whether it is fit to train on.")
    with friendly_errors(stop=True):
        info = data.info()
        summary = data.summary()
        databases = data.databases()
    objects = f"{summary.objects:,}{'+' if summary.objects_capped else ''}"
    metric_row(
        [
            ("Databases", f"{summary.databases:,}", "Databases in the catalog"),
            ("Tables", f"{summary.tables:,}", "Tables registered in the catalog"),
            ("Objects", objects, "Files in the lake, LakeLens's own records included"),
            ("Size", human_bytes(summary.bytes), "Bytes in those files"),
        ]
    )
    left, right = st.columns([4, 1.6], gap="large")
    with left:
        st.subheader("Tables")
        rows = []
        for database in databases:
            with friendly_errors():
                for table in data.tables(database.name):
                    rows.append(
                        {
                            "table": table.qualified_name,
                            "format": table.format,
                            "columns": len(table.all_columns),
                            "partitioned by": ", ".join(c.name for c in table.partition_keys) or "",
                            "description": table.description,
                        }
                    )
        if rows:
            st.dataframe(
                rows,
                hide_index=True,
                width="stretch",
                column_config={
                    "format": st.column_config.TextColumn(width="small"),
                    "columns": st.column_config.NumberColumn(width="small"),
                    "description": st.column_config.TextColumn(width="large"),
                },
            )
        else:
            st.caption("No tables are registered yet. Ingest a file on the Lake page to create one.")
    with right:
        st.subheader("Backend")
        for label, value in backend_lines(info):
            st.markdown(f"**{label}:** `{value}`")
    st.subheader("Pages")
    columns = st.columns(len(PAGES))
    for column, (path, title, icon, blurb) in zip(columns, PAGES.values(), strict=True):
        with column.container(border=True):
            st.page_link(path, label=title, icon=icon)
            st.caption(blurb)


def main() -> None:
    try:
        data.settings()
    except LakeLensError as exc:
        st.error(str(exc), icon=":material/settings:")
        st.stop()
    require_sign_in(data.settings().login_provider)  # nothing else renders before it (LAKELENS_LOGIN_PROVIDER)
    pages = [st.Page(home, title="Home", icon=":material/home:", default=True)]
    pages += [st.Page(path, title=title, icon=icon, url_path=name) for name, (path, title, icon, _) in PAGES.items()]
    navigation = st.navigation(pages)  # first, so the sidebar shows LakeLens's pages even during a demo build
    with friendly_errors(stop=True):
        ensure_lake()
        sidebar_badge(data.info())
    present.toggle()
    report_pins.sidebar_report()
    navigation.run()


main()
