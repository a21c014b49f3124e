"""The Ingest tab: upload a file, see what LakeLens will make of it, adjust names and types, commit.

Nothing is written until "Ingest" is pressed: the plan (format, rows, names, types, where each file goes, which
tables are registered) is shown first, and replacing an existing table needs an explicit tick.
"""

from __future__ import annotations

import hashlib

import pandas as pd
import streamlit as st

from components.feedback import friendly_errors
from components.lake.table_detail import open_in_catalog
from lib import data
from lib.lake import ingest
from lib.errors import LakeLensError, NotFound
from lib.lake.ingest import ColumnPlan, IngestPlan, IngestResult
from lib.lake.objects import sanitize_name, split_compression
from lib.paths import human_bytes
from lib.sql import starter_query

_PLAN = "ingest.plan"
_RESULT = "ingest.result"
UPLOAD_TYPES = ["csv", "tsv", "tab", "txt", "json", "jsonl", "ndjson", "parquet", "gz"]
_FORMAT_NAMES = {"csv": "CSV", "tsv": "TSV", "json": "JSON", "jsonl": "JSON lines", "parquet": "Parquet"}


def ingest_form() -> None:
    settings = data.settings()
    st.caption(
        "The file lands in the raw zone (`raw/<database>/<table>/`) and is registered as a table with the schema "
        "below. Optionally a curated Parquet copy (`curated/<database>/<table>/`) is written, partitioned by a "
        "column, and becomes the table (the raw file is then `<table>_raw`). All or nothing: a failure leaves "
        "nothing behind."
    )
    uploaded = st.file_uploader(
        f"File to ingest: CSV, TSV, JSON, JSON lines or Parquet (.gz too), up to {human_bytes(settings.max_upload_bytes)}",
        type=UPLOAD_TYPES,
        max_upload_size=max(1, settings.max_upload_bytes // 10**6),
        key="ingest.file",
    )
    if uploaded is None:
        _last_result()
        return
    file_id = getattr(uploaded, "file_id", "") or f"{uploaded.name}:{uploaded.size}"
    stem = split_compression(uploaded.name)[0].rsplit(".", 1)[0]
    row = st.columns([2, 2, 1.3, 1.3, 1.6], vertical_alignment="bottom")
    database = row[0].text_input("Database", value=settings.database, key=f"ingest.db:{file_id}")
    table = row[1].text_input(
        "Table", value=sanitize_name(stem).strip("_") or "uploaded", key=f"ingest.table:{file_id}"
    )
    fmt = row[2].selectbox(
        "Format", ingest.FORMATS, key=f"ingest.format:{file_id}", help="auto: from the name and content"
    )
    encoding = row[3].selectbox(
        "Encoding",
        ingest.ENCODINGS,
        key=f"ingest.encoding:{file_id}",
        help="latin-1 or cp1252 for files from Excel or older systems",
    )
    skip = row[4].checkbox(
        "Skip malformed rows", key=f"ingest.skip:{file_id}", help="Rows with the wrong number of fields"
    )
    plan = _plan(
        uploaded.getvalue(), uploaded.name, file_id, database, table, fmt, encoding, skip, settings.max_upload_bytes
    )
    if plan is None:
        return
    _summary(plan)
    edited = _schema_editor(plan)
    if edited is None:
        return
    curated, partition_by = _curated_options(edited)
    _destination(edited, curated, partition_by)
    clashes = _clashes(edited, curated)
    replace = False
    if clashes:
        names = ", ".join(clashes)
        st.warning(
            f"{names} already exist{'s' if len(clashes) == 1 else ''} in the catalog.", icon=":material/warning:"
        )
        replace = st.checkbox(
            f"Replace the existing table{'s' if len(clashes) > 1 else ''} {names}", key=f"ingest.replace:{file_id}"
        )
    if st.button(
        "Ingest",
        type="primary",
        icon=":material/upload:",
        disabled=bool(clashes) and not replace,
        key="ingest.go",
    ):
        with friendly_errors(), st.spinner(f"Writing {edited.filename} to the lake…"):
            result = ingest.commit(data.backend(), edited, curated=curated, partition_by=partition_by, replace=replace)
            data.clear()
            st.session_state[_RESULT] = result
    _last_result()


def _plan(
    content: bytes,
    name: str,
    file_id: str,
    database: str,
    table: str,
    fmt: ingest.IngestFormat,
    encoding: str,
    skip: bool,
    max_bytes: int,
) -> IngestPlan | None:
    """The plan for these options, parsed once per combination (reruns do not parse the file again)."""
    signature = (file_id, database, table, fmt, encoding, skip)
    cached = st.session_state.get(_PLAN)
    if cached and cached[0] == signature:
        plan: IngestPlan = cached[1]
        return plan
    try:
        with st.spinner(f"Reading {name}…"):
            plan = ingest.plan_ingest(
                content,
                name,
                database=database,
                table=table,
                fmt=fmt,
                encoding=encoding,
                skip_bad_rows=skip,
                max_bytes=max_bytes,
            )
    except LakeLensError as exc:
        st.error(str(exc), icon=":material/error:")
        st.session_state.pop(_PLAN, None)
        return None
    st.session_state[_PLAN] = (signature, plan)
    return plan


def _summary(plan: IngestPlan) -> None:
    parts = [_FORMAT_NAMES.get(plan.format, plan.format)]
    if plan.delimiter:
        parts.append(
            {",": "comma", "\t": "tab", ";": "semicolon", "|": "pipe"}.get(plan.delimiter, repr(plan.delimiter))
            + "-separated"
        )
    if plan.compression:
        parts.append(f"{plan.compression}-compressed")
    parts += [plan.encoding, f"{plan.rows:,} rows", f"{len(plan.columns)} columns", human_bytes(plan.size)]
    st.markdown(f"**{plan.filename}** · " + " · ".join(parts))
    for note in plan.notes:
        st.caption(f":material/info: {note}")
    if plan.bad_rows:
        with st.expander(f"{len(plan.bad_rows):,} skipped row(s)", icon=":material/rule:"):
            frame = pd.DataFrame(
                [(b.line, b.fields, b.expected, b.text) for b in plan.bad_rows[:500]],
                columns=["Line", "Fields", "Expected", "Text"],
            )
            st.dataframe(frame, hide_index=True, width="stretch")


def _schema_editor(plan: IngestPlan) -> IngestPlan | None:
    st.markdown("##### Schema")
    st.caption("Names are made Glue-safe the way awswrangler does it; edit a name or a type before ingesting.")
    types = list(dict.fromkeys([*ingest.GLUE_TYPES, *(c.inferred for c in plan.columns)]))
    frame = pd.DataFrame(
        [(c.source, c.name, c.type, c.inferred, c.missing) for c in plan.columns],
        columns=["Column in the file", "Name", "Type", "Inferred", "Missing"],
    )
    key = hashlib.sha1(
        repr((plan.filename, plan.size, [c.source for c in plan.columns], plan.format)).encode()
    ).hexdigest()[:12]
    edited = st.data_editor(
        frame,
        hide_index=True,
        width="stretch",
        disabled=["Column in the file", "Inferred", "Missing"],
        column_config={
            "Missing": st.column_config.NumberColumn(
                "Missing", help="Empty fields in the file: NULL in the table", format="%d"
            ),
            "Name": st.column_config.TextColumn("Name", required=True, validate=r"^[a-z0-9_]{1,255}$"),
            "Type": st.column_config.SelectboxColumn("Type", options=types, required=True),
        },
        key=f"ingest.schema:{key}",
        height=min(38 + 35 * len(frame), 420),
    )
    columns = [
        ColumnPlan(
            source=str(row["Column in the file"]),
            name=str(row["Name"] or ""),
            type=str(row["Type"] or ""),
            inferred=str(row["Inferred"]),
            missing=int(row["Missing"]),
        )
        for _, row in edited.iterrows()
    ]
    try:
        result = plan.with_columns(columns)
    except LakeLensError as exc:
        st.error(str(exc), icon=":material/error:")
        return None
    with st.expander("First rows", expanded=True, icon=":material/table_rows:"):
        sample = result.data.slice(0, 20).to_pandas()
        sample.columns = [c.name for c in result.columns]
        st.dataframe(sample, hide_index=True, width="stretch")
    return result


def _curated_options(plan: IngestPlan) -> tuple[bool, str | None]:
    st.markdown("##### Curated copy")
    forced = not plan.raw_registrable
    left, right = st.columns(2, vertical_alignment="bottom")
    curated = left.checkbox(
        "Write a curated Parquet copy",
        value=forced,
        disabled=forced,
        key=f"ingest.curated:{forced}",
        help="Typed, compressed and partitioned: what Athena reads fastest and cheapest.",
    )
    if forced:
        st.caption(
            f":material/info: A curated copy is needed: the raw file cannot be the table because {plan.raw_problem}."
        )
    names = [c.name for c in plan.columns]
    partition = right.selectbox(
        "Partition the copy by",
        names,
        index=None,
        placeholder="no partitioning",
        disabled=not curated,
        key="ingest.partition",
        help="One folder per value, as the demo's curated reviews are split by product_category.",
    )
    return curated, partition if curated else None


def _targets(plan: IngestPlan, curated: bool) -> list[str]:
    if curated:
        names = [plan.table] + ([f"{plan.table}{ingest.RAW_SUFFIX}"] if plan.raw_registrable else [])
    else:
        names = [plan.table]
    return [f"{plan.database}.{n}" for n in names]


def _destination(plan: IngestPlan, curated: bool, partition_by: str | None) -> None:
    lines = [f"- raw file: `{plan.raw_prefix}{plan.raw_filename}`"]
    if curated:
        layout = f"{partition_by}=<value>/" if partition_by else ""
        lines.append(f"- curated copy: `{plan.curated_prefix}{layout}part-0.parquet`")
    for index, name in enumerate(_targets(plan, curated)):
        kind = "Parquet copy" if curated and index == 0 else f"{_FORMAT_NAMES.get(plan.format, plan.format)} raw file"
        lines.append(f"- table **{name}** ({kind})")
    if curated and not plan.raw_registrable:
        lines.append(f"- the raw file is kept but not registered ({plan.raw_problem})")
    st.markdown("##### What will be written\n" + "\n".join(lines))


def _clashes(plan: IngestPlan, curated: bool) -> list[str]:
    try:
        existing = {t.qualified_name for t in data.tables(plan.database)}
    except NotFound:
        return []
    return [name for name in _targets(plan, curated) if name in existing]


def _last_result() -> None:
    result: IngestResult | None = st.session_state.get(_RESULT)
    if result is None:
        return
    names = " and ".join(t.qualified_name for t in result.tables)
    st.success(
        f"Ingested {result.rows:,} rows: {names} registered; {len(result.keys)} file(s) written.",
        icon=":material/check_circle:",
    )
    for note in result.notes:
        st.caption(f":material/info: {note}")
    table = result.table
    with st.container(horizontal=True):
        st.button(
            f"Open {table.qualified_name} in the catalog",
            icon=":material/table_view:",
            on_click=open_in_catalog,
            args=(table.qualified_name,),
            key="ingest.open_catalog",
        )
        st.page_link(
            "pages/sql.py",
            label="Query it",
            icon=":material/terminal:",
            query_params={"sql": starter_query(table.database, table.name)},
        )
