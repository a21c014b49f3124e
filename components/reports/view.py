"""The Reports page's parts: the list, one report (blocks, refresh, export), the editor, versions and slides.

Which report, which view and which slide are in the URL (``?report=<slug>&view=edit|versions&slide=N``), so a
link opens exactly what a colleague saw. Text is rendered by :mod:`lib.reports.markdown` (raw HTML becomes text)
and shown with ``st.html``, the same HTML the exported file carries.
"""

from __future__ import annotations

import difflib
from datetime import UTC, datetime

import streamlit as st

from components.feedback import friendly_errors
from lib import data
from lib.errors import LakeLensError, ReportError
from lib.reports import render, run
from lib.reports.document import Block, new_report_text, parse, replace_block_sql
from lib.reports.markdown import to_html
from lib.reports.store import ReportStore, ReportSummary, Snapshot, StoredReport

PAGE = "pages/reports.py"
SQL_PAGE = "pages/sql.py"


# -- data ----------------------------------------------------------------------------------------------------------
def store() -> ReportStore:
    return ReportStore(data.backend())


@st.cache_data(ttl=30, show_spinner=False)
def _summaries(key: str) -> list[ReportSummary]:
    return store().list()


def summaries() -> list[ReportSummary]:
    """Every report of the lake (cached for half a minute; :func:`forget` after a change)."""
    return _summaries(data.settings_key(data.settings()))


def forget() -> None:
    _summaries.clear()


def _when(moment: datetime | None) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if moment else "never"


def _url(**params: str | None) -> None:
    for name, value in params.items():
        if value is None:
            st.query_params.pop(name, None)
        else:
            st.query_params[name] = value


# -- the list ------------------------------------------------------------------------------------------------------
def report_list() -> None:
    reports = summaries()
    if not reports:
        st.info(
            "No reports yet. Pin charts and results on any page and save them from the sidebar, start one below, "
            "or import a Markdown file with `python -m lib report import FILE.md`.",
            icon=":material/article:",
        )
    for summary in reports:
        with st.container(border=True):
            left, right = st.columns([5, 2], vertical_alignment="center")
            with left:
                st.page_link(
                    PAGE, label=summary.title, icon=":material/article:", query_params={"report": summary.slug}
                )
                if summary.problem:
                    st.caption(f":material/error: {summary.problem}")
                else:
                    by = f" · by {summary.author}" if summary.author else ""
                    st.caption(f"{summary.blocks} block(s) · last refreshed {_when(summary.refreshed_at)}{by}")
            right.caption(f"`{summary.slug}`")
    new_report_form()


def new_report_form() -> None:
    with st.expander("Import a Markdown file", icon=":material/upload_file:"):
        upload = st.file_uploader("A report file (.md)", type=["md", "markdown"], key="reports.upload")
        if upload is not None and st.button("Import", key="reports.import", icon=":material/upload:"):
            with friendly_errors():
                try:
                    text = upload.getvalue().decode("utf-8")
                except UnicodeDecodeError:
                    raise ReportError(f"{upload.name} is not UTF-8 text.") from None
                slug = store().create(text)
                forget()
                _url(report=slug, view=None, slide=None)
                st.rerun()
    with st.expander("New report", icon=":material/add:"), st.form("reports.new", border=False):
        title = st.text_input("Title")
        author = st.text_input("Author", placeholder="optional")
        if st.form_submit_button("Create and edit", icon=":material/edit:"):
            with friendly_errors():
                if not title.strip():
                    raise ReportError("Give the report a title.")
                slug = store().create(new_report_text(title, author=author) + _STARTER)
                forget()
                _url(report=slug, view="edit", slide=None)
                st.rerun()


_STARTER = """Write what the numbers say here, in Markdown.

```sql title="Reviews per category" chart=bar x=product_category y=reviews
SELECT product_category, count(*) AS reviews FROM demo.reviews GROUP BY product_category
```
"""


# -- one report ----------------------------------------------------------------------------------------------------
def load(slug: str) -> StoredReport:
    return store().load(slug)


def header(stored: StoredReport) -> None:
    report = stored.report
    st.title(report.title, anchor=False)
    parts = [p for p in (report.description, f"by {report.author}" if report.author else "") if p]
    parts += [f"{len(report.blocks)} block(s)", f"last refreshed {_when(stored.refreshed_at)}"]
    st.caption(" · ".join(parts))


def toolbar(stored: StoredReport) -> None:
    """Refresh, Edit, Slides, Versions, Export and All reports, in one row."""
    bar = st.container(horizontal=True, gap="small")
    if bar.button("Refresh", key="reports.refresh", icon=":material/refresh:", type="primary"):
        if data.backend().bills_scans:
            st.session_state["reports.confirm"] = stored.slug
        else:
            do_refresh(stored)
    if bar.button("Edit", key="reports.edit", icon=":material/edit:"):
        _url(view="edit")
        st.rerun()
    if bar.button("Slides", key="reports.slides", icon=":material/slideshow:"):
        _url(slide="1", view=None)
        st.rerun()
    if bar.button("Versions", key="reports.versions", icon=":material/history:"):
        _url(view="versions")
        st.rerun()
    settings = data.settings()
    bar.download_button(
        "Export HTML",
        data=lambda: render.export_html(stored, data.info().lake, settings.database),
        file_name=f"{stored.slug}.html",
        mime="text/html",
        icon=":material/download:",
        key="reports.export",
        on_click="ignore",
        help="One file that opens offline; the browser's Print gives one block per page",
    )
    bar.button("All reports", key="reports.all", icon=":material/list:", type="tertiary", on_click=all_reports)
    if st.session_state.get("reports.confirm") == stored.slug:
        confirm_refresh(stored)


@st.cache_data(ttl=120, show_spinner="Estimating what the refresh will scan…")
def _estimate(key: str, slug: str, text: str) -> run.RefreshEstimate:
    from components.sql.editor import ESTIMATE_OBJECT_CAP

    stored = StoredReport(slug, text, parse(text), {})
    return run.estimate(data.backend(), stored, object_cap=ESTIMATE_OBJECT_CAP)


def confirm_refresh(stored: StoredReport) -> None:
    """On Athena a refresh costs money: say what it scans first, and run only when asked."""
    estimate = _estimate(data.settings_key(data.settings()), stored.slug, stored.text)
    with st.container(border=True):
        st.warning(estimate.describe(), icon=":material/paid:")
        go, cancel = st.columns([1, 4])
        if go.button(
            f"Run {estimate.queries} quer{'y' if estimate.queries == 1 else 'ies'}",
            key="reports.confirm_run",
            type="primary",
            disabled=not estimate.queries,
        ):
            st.session_state.pop("reports.confirm", None)
            do_refresh(stored)
        if cancel.button("Cancel", key="reports.confirm_cancel", type="tertiary"):
            st.session_state.pop("reports.confirm", None)
            st.rerun()


def do_refresh(stored: StoredReport) -> None:
    with st.spinner(f"Running {len(stored.report.blocks)} block(s)…"):
        outcome = run.refresh(data.backend(), store(), stored)
    forget()
    message = f"Refreshed {outcome.ran} block(s)."
    if outcome.refused:
        message += f" {outcome.refused} refused."
    if outcome.failed:
        message += f" {len(outcome.failed)} failed: " + "; ".join(outcome.failed)
    st.session_state["reports.refreshed"] = message
    st.session_state["reports.refresh_failed"] = bool(outcome.failed)
    st.rerun()


def body(stored: StoredReport) -> None:
    notice = st.session_state.pop("reports.refreshed", None)
    if notice and st.session_state.pop("reports.refresh_failed", False):
        st.warning(notice, icon=":material/warning:")
    elif notice:
        st.success(notice, icon=":material/refresh:")
    database = data.settings().database
    for index, block in enumerate(stored.report.blocks):
        block_view(stored, index, block, stored.snapshot(index), database)
    if stored.report.tail.strip():
        st.html(to_html(stored.report.tail))
    if not stored.report.blocks:
        st.caption("This report has no SQL blocks yet: Edit it, or pin charts from any page and save them here.")


def block_view(stored: StoredReport, index: int, block: Block, snapshot: Snapshot | None, database: str) -> None:
    if block.intro.strip():
        st.html(to_html(block.intro))
    with st.container(border=True, key=f"reports.block.{index}"):
        st.subheader(block.heading, anchor=False)
        shown = render.view(block, snapshot, database)
        show(shown, key=f"reports.block.{stored.slug}.{index}")
        if shown.kind != "error" and snapshot is not None:
            if snapshot.error:
                st.warning(f"The last refresh failed; this is the result from before. {snapshot.error}")
            st.caption(f":material/schedule: {render.stats_line(snapshot)}")
        if not block.has_sql:
            st.caption(":material/push_pin: Pinned without SQL: a refresh keeps it as it was pinned.")
        else:
            with st.expander("SQL behind this", icon=":material/code:"):
                st.code(block.sql, language="sql")
                st.page_link(
                    SQL_PAGE,
                    label="Open in the SQL page",
                    icon=":material/terminal:",
                    query_params={"sql": block.sql, "report": stored.slug, "block": str(index + 1)},
                )


def show(shown: render.View, *, key: str, slide: bool = False) -> None:
    if shown.kind == "error":
        st.error(shown.message, icon=":material/block:")
    elif shown.kind == "empty":
        st.info(shown.message, icon=":material/hourglass_empty:")
    elif shown.kind == "chart" and shown.figure is not None:
        st.plotly_chart(shown.figure, key=key, theme="streamlit", config={"displaylogo": False}, width="stretch")
    elif shown.kind == "metric":
        st.metric(shown.label, shown.value)
    elif shown.frame is not None:
        if shown.message:
            st.caption(shown.message)
        st.dataframe(shown.frame, hide_index=True, width="stretch", key=key, height=560 if slide else "auto")


# -- edit ----------------------------------------------------------------------------------------------------------
_EDITOR_CSS = """<style>.st-key-report_editor textarea { font-family: "Source Code Pro", ui-monospace, monospace;
font-size: 0.85rem; line-height: 1.45; }</style>"""


def editor(stored: StoredReport) -> None:
    """The Markdown on the left, the report it makes on the right (from the stored snapshots: nothing runs)."""
    key = f"reports.text.{stored.slug}"
    if key not in st.session_state:
        st.session_state[key] = stored.text
    left, right = st.columns(2, gap="large")
    with left, st.container(key="report_editor"):
        st.html(_EDITOR_CSS)
        st.text_area(
            "Markdown",
            key=key,
            height=640,
            help="Front matter (title, description, author), Markdown, and ```sql blocks with title=, chart=bar|"
            "line|histogram|pie|table|metric, x=, y=, color=, value=. Ctrl/Cmd+Enter updates the preview.",
        )
        buttons = st.container(horizontal=True, gap="small")
        if buttons.button("Save", key="reports.save", icon=":material/save:", type="primary"):
            with friendly_errors():
                store().save(stored.slug, st.session_state[key])
                forget()
                st.session_state.pop(key, None)
                st.session_state["reports.refreshed"] = "Saved; the previous text is kept under Versions."
                _url(view=None)
                st.rerun()
        if buttons.button("Close editor", key="reports.cancel", icon=":material/close:"):
            st.session_state.pop(key, None)
            _url(view=None)
            st.rerun()
    with right:
        st.caption("Preview, from the last snapshots (nothing runs until you refresh)")
        with friendly_errors():
            report = parse(st.session_state[key])
            preview = StoredReport(stored.slug, st.session_state[key], report, stored.snapshots)
            st.markdown(f"### {report.title}")
            body(preview)


# -- versions ------------------------------------------------------------------------------------------------------
def versions(stored: StoredReport) -> None:
    found = store().versions(stored.slug)
    st.subheader("Versions", anchor=False)
    if st.button("Back to the report", key="reports.versions_back", icon=":material/arrow_back:"):
        _url(view=None)
        st.rerun()
    if not found:
        st.caption("No earlier versions: every save keeps the text it replaces here.")
        return
    labels = {v.id: f"{_when(v.saved_at)} · {v.size:,} bytes" for v in found}
    chosen = st.radio(
        "Earlier versions, newest first", list(labels), format_func=labels.__getitem__, key="reports.version"
    )
    if chosen is None:
        return
    text = store().version_text(stored.slug, chosen)
    changes, whole = st.tabs(["What changed since", "The whole text"])
    diff = "".join(
        difflib.unified_diff(
            text.splitlines(keepends=True), stored.text.splitlines(keepends=True), "this version", "now", n=2
        )
    )
    changes.code(diff or "No difference from the current text.", language="diff", height=420)
    whole.code(text, language="markdown", height=420)
    if st.button("Restore this version", key="reports.restore", icon=":material/restore:", type="primary"):
        with friendly_errors():
            store().restore(stored.slug, chosen)
            forget()
            st.session_state["reports.refreshed"] = "Restored; the text it replaced is kept as a version too."
            _url(view=None)
            st.rerun()


# -- slides --------------------------------------------------------------------------------------------------------
_SLIDE_CSS = """
<style>
[data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"], [data-testid="stHeader"],
[data-testid="stExpandSidebarButton"], [data-testid="stElementToolbar"], .modebar-container { display: none !important; }
[data-testid="stMainBlockContainer"] { max-width: 100% !important; padding: 1.2rem 3rem 1rem !important; }
.st-key-slide_headline h1 { font-size: 3.2rem !important; line-height: 1.15; padding: 0.2rem 0 0.4rem; }
.st-key-slide_intro p, .st-key-slide_intro li { font-size: 1.35rem; }
[data-testid="stMetricValue"] { font-size: 6rem !important; }
[data-testid="stMetricLabel"] p { font-size: 1.6rem !important; }
.st-key-slide_keys { display: none !important; }
</style>
"""

_KEYS = """<!DOCTYPE html><html><body>
<script>
const doc = window.parent.document;
if (!doc.lakelensSlideKeys) {
  doc.lakelensSlideKeys = true;
  doc.addEventListener("keydown", (event) => {
    const target = event.target;
    if (target && (target.tagName === "INPUT" || target.tagName === "TEXTAREA" || target.isContentEditable)) return;
    const which = {ArrowRight: "next", PageDown: "next", ArrowLeft: "prev", PageUp: "prev", Escape: "exit"}[event.key];
    if (!which) return;
    const button = doc.querySelector(".st-key-slide_" + which + " button");
    if (button && !button.disabled) { event.preventDefault(); button.click(); }
  });
}
</script></body></html>
"""


def slide_number(total: int) -> int:
    raw = str(st.query_params.get("slide", "1"))
    number = int(raw) if raw.isdigit() else 1
    return min(max(number, 1), max(total, 1))


def _go(number: int | None) -> None:
    if number is None:
        st.query_params.pop("slide", None)
    else:
        st.query_params["slide"] = str(number)


def slides(stored: StoredReport) -> None:
    """One block per slide: its title as the headline, the text above it, the chart filling the screen."""
    st.html(_SLIDE_CSS)
    with st.container(key="slide_keys"):  # the arrow keys: a constant script, in a hidden same-origin frame
        st.iframe(_KEYS, height=1)
    blocks = stored.report.blocks
    if not blocks:
        st.info("This report has no blocks to present.")
        st.button("Exit slides", key="slide_exit", on_click=_go, args=(None,))
        return
    number = slide_number(len(blocks))
    if str(st.query_params.get("slide")) != str(number):
        st.query_params["slide"] = str(number)
    block = blocks[number - 1]
    snapshot = stored.snapshot(number - 1)
    shown = render.view(block, snapshot, data.settings().database, slide=True)
    navigation(stored, number, len(blocks), snapshot if shown.kind != "error" else None)
    with st.container(key="slide_headline"):
        st.title(block.heading, anchor=False)
    if block.intro.strip():
        with st.container(key="slide_intro"):
            st.html(to_html(block.intro))
    show(shown, key=f"slide.{stored.slug}.{number}", slide=True)


def navigation(stored: StoredReport, number: int, total: int, snapshot: Snapshot | None) -> None:
    """Previous, where we are, next and exit, in one row at the top (it stays on screen on a short display)."""
    row = st.container(horizontal=True, vertical_alignment="center", gap="small")
    row.button(
        "Previous",
        key="slide_prev",
        icon=":material/arrow_back:",
        disabled=number <= 1,
        on_click=_go,
        args=(number - 1,),
    )
    row.button(
        "Next",
        key="slide_next",
        icon=":material/arrow_forward:",
        disabled=number >= total,
        on_click=_go,
        args=(number + 1,),
    )
    stamp = f" · data from {snapshot.when}" if snapshot is not None else ""
    row.caption(f"{stored.report.title} · slide {number} of {total}{stamp} · ← → to move")
    row.space("stretch")
    row.button("Exit slides", key="slide_exit", icon=":material/close_fullscreen:", on_click=_go, args=(None,))


# -- the way back from the SQL page ------------------------------------------------------------------------------
def sql_page_return() -> None:
    """On the SQL page opened from a report block (``?report=&block=``): fill the editor, offer the way back."""
    slug = str(st.query_params.get("report", ""))
    raw = str(st.query_params.get("block", ""))
    if not slug or not raw.isdigit():
        return
    link = (slug, raw, str(st.query_params.get("sql", "")))
    if st.session_state.get("reports.sql_link") != link:
        st.session_state["reports.sql_link"] = link
        if link[2]:
            from components.sql import editor as sql_editor

            sql_editor.set_text(link[2])
    index = int(raw) - 1
    with friendly_errors():
        stored = load(slug)
        if not 0 <= index < len(stored.report.blocks):
            raise ReportError(f"The report {stored.report.title!r} has no block {index + 1}.")
        block = stored.report.blocks[index]
        with st.container(border=True):
            st.caption(f":material/article: Editing block {index + 1}, “{block.heading}”, of “{stored.report.title}”.")
            if st.button("Use this SQL in the report", key="reports.sql_back", icon=":material/keyboard_return:"):
                from components.sql import editor as sql_editor

                text = replace_block_sql(stored.text, index, sql_editor.text())
                store().save(slug, text)
                forget()
                st.session_state.pop(f"reports.text.{slug}", None)
                st.session_state.pop("reports.sql_link", None)
                st.switch_page(PAGE, query_params={"report": slug, "view": "edit"})


def all_reports() -> None:
    """Back to the list: the report's parameters leave the URL (a callback, so it happens before the rerun)."""
    for name in ("report", "view", "slide"):
        st.query_params.pop(name, None)


def open_report(slug: str) -> None:
    """``?report=<slug>``: the report, or its editor, versions or a slide."""
    try:
        stored = load(slug)
    except LakeLensError as exc:
        st.error(str(exc), icon=":material/error:")
        st.button("All reports", key="reports.all", icon=":material/list:", on_click=all_reports)
        return
    if st.query_params.get("slide"):
        slides(stored)
        return
    view = st.query_params.get("view", "")
    header(stored)
    if view == "edit":
        editor(stored)
    elif view == "versions":
        versions(stored)
    else:
        toolbar(stored)
        body(stored)
