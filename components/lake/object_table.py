"""The object browser: a breadcrumb, one page of folders and files, and the detail and preview of one object.

Where the analyst is lives in the URL (``?prefix=curated/reviews/&object=...``), so a copied link reopens the
same folder or file. Listings are paged with the backend's own continuation tokens: "Next page" asks for one
more page (S3 hands back 1,000 keys a call) and remembers the tokens seen so far, so "Previous page" needs no
second listing and a folder of 50,000 objects is never listed whole.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pandas as pd
import streamlit as st

from components.feedback import friendly_errors
from components.reports.pins import pin_table
from lib import data
from lib.backends.base import ObjectInfo, ObjectPage
from lib.errors import LakeLensError
from lib.lake.objects import kind_from_name
from lib.lake.preview import Preview
from lib.paths import clean_key, human_bytes, parent_prefix

PREFIX = "prefix"
OBJECT = "object"
TAB_KEY = "tab"
TAB_OBJECTS = "Objects"
TAB_CATALOG = "Catalog"
TAB_INGEST = "Ingest"
PAGE_SIZE = 1000
_PAGES = "lake.pages"  # session state: {prefix: [token of page 1 (None), token of page 2, ...]}
_NONCE = "lake.nonce"  # bumped on every navigation so a grid's old row selection is not replayed


# -- where the analyst is ---------------------------------------------------------------------------------------
def current_prefix() -> str:
    """The folder in the URL, in normal form; a prefix that leaves the lake is refused and the root shown."""
    raw = st.query_params.get(PREFIX, "")
    try:
        return clean_key(raw, folder=True)
    except LakeLensError as exc:
        st.error(str(exc), icon=":material/error:")
        return ""


def current_object() -> str | None:
    raw = st.query_params.get(OBJECT)
    if not raw:
        return None
    try:
        key = clean_key(raw)
    except LakeLensError as exc:
        st.error(str(exc), icon=":material/error:")
        return None
    return key if key and not key.endswith("/") else None


def _bump() -> None:
    st.session_state[_NONCE] = st.session_state.get(_NONCE, 0) + 1


def open_prefix(prefix: str) -> None:
    """Show a folder (usable as a callback): the URL changes, the object detail closes, paging restarts."""
    if prefix:
        st.query_params[PREFIX] = prefix
    else:
        st.query_params.pop(PREFIX, None)
    st.query_params.pop(OBJECT, None)
    st.session_state.setdefault(_PAGES, {}).pop(prefix, None)
    _bump()


def open_object(key: str) -> None:
    parent = parent_prefix(key)
    if parent:
        st.query_params[PREFIX] = parent
    else:
        st.query_params.pop(PREFIX, None)
    st.query_params[OBJECT] = key
    _bump()


def show_in_browser(prefix: str) -> None:
    """From elsewhere on the page (a table's location): switch to the Objects tab at ``prefix``."""
    st.session_state[TAB_KEY] = TAB_OBJECTS
    open_prefix(prefix)


# -- breadcrumb ---------------------------------------------------------------------------------------------------
def breadcrumb(prefix: str, object_key: str | None = None) -> None:
    parts = [p for p in prefix.split("/") if p]
    with st.container(horizontal=True, gap="small", vertical_alignment="center", key="lake_breadcrumb"):
        st.button(
            "lake",
            icon=":material/home:",
            type="tertiary",
            on_click=open_prefix,
            args=("",),
            disabled=not parts and object_key is None,
            help=data.info().lake,
        )
        for depth, part in enumerate(parts):
            st.markdown(":material/chevron_right:")
            target = "/".join(parts[: depth + 1]) + "/"
            last = depth == len(parts) - 1 and object_key is None
            st.button(part, type="tertiary", on_click=open_prefix, args=(target,), disabled=last, key=f"crumb:{target}")
        if object_key:
            st.markdown(":material/chevron_right:")
            st.markdown(f"**{object_key.rsplit('/', 1)[-1]}**")


# -- one page of a folder ------------------------------------------------------------------------------------------
def _page_tokens(prefix: str) -> list[str | None]:
    pages: dict[str, list[str | None]] = st.session_state.setdefault(_PAGES, {})
    return pages.setdefault(prefix, [None])


def _next_page(prefix: str, token: str) -> None:
    _page_tokens(prefix).append(token)
    _bump()


def _previous_page(prefix: str) -> None:
    tokens = _page_tokens(prefix)
    if len(tokens) > 1:
        tokens.pop()
    _bump()


def listing_frame(page: ObjectPage) -> pd.DataFrame:
    """Folders first, then objects: the columns the S3 console shows."""
    rows: list[dict[str, Any]] = []
    for folder in page.folders:
        name = folder[len(page.prefix) :]
        rows.append(
            {
                "Name": name,
                "Kind": "folder",
                "Size": "",
                "bytes": None,
                "Last modified": None,
                "Storage class": "",
                "ETag": "",
                "key": folder,
            }
        )
    for obj in page.objects:
        rows.append(
            {
                "Name": obj.key[len(page.prefix) :],
                "Kind": kind_from_name(obj.key) or "file",
                "Size": human_bytes(obj.size),
                "bytes": obj.size,
                "Last modified": _naive(obj.last_modified),
                "Storage class": obj.storage_class or "",
                "ETag": (obj.etag or "").strip('"'),
                "key": obj.key,
            }
        )
    columns = ["Name", "Kind", "Size", "bytes", "Last modified", "Storage class", "ETag", "key"]
    return pd.DataFrame(rows, columns=columns)


def _naive(stamp: datetime | None) -> datetime | None:
    return stamp.replace(tzinfo=None) if stamp else None


def sort_and_filter(frame: pd.DataFrame, text: str, sort: str) -> pd.DataFrame:
    """Filter names containing ``text`` (any case); sort folders first, then by the chosen column."""
    if text:
        frame = frame[frame["Name"].str.contains(text, case=False, regex=False)]
    folders = frame[frame["Kind"] == "folder"]
    files = frame[frame["Kind"] != "folder"]
    if sort == "Largest":
        files = files.sort_values("bytes", ascending=False, kind="stable")
    elif sort == "Newest":
        files = files.sort_values("Last modified", ascending=False, kind="stable", na_position="last")
    elif sort == "Name Z-A":
        folders = folders.sort_values("Name", ascending=False, kind="stable")
        files = files.sort_values("Name", ascending=False, kind="stable")
    else:
        folders = folders.sort_values("Name", kind="stable")
        files = files.sort_values("Name", kind="stable")
    return pd.concat([folders, files], ignore_index=True)


def _open_entry(frame: pd.DataFrame, index: int) -> None:
    row = frame.iloc[index]
    if row["Kind"] == "folder":
        open_prefix(str(row["key"]))
    else:
        open_object(str(row["key"]))


def folder_listing(prefix: str, page_size: int = PAGE_SIZE) -> None:
    tokens = _page_tokens(prefix)
    with friendly_errors():
        page = data.objects(prefix, tokens[-1], page_size)
        nonce = st.session_state.get(_NONCE, 0)
        controls = st.columns([3, 2, 3], vertical_alignment="bottom")
        text = controls[0].text_input(
            "Filter by name",
            key="filter",
            bind="query-params",
            placeholder="part of a name, e.g. Books",
            help="Filters the entries of this page.",
        )
        sort = controls[1].selectbox(
            "Sort", ["Name A-Z", "Name Z-A", "Largest", "Newest"], key="sort", bind="query-params"
        )
        frame = sort_and_filter(listing_frame(page), text.strip(), sort or "Name A-Z")
        if page.folders or page.objects:
            names = frame["Name"].tolist()
            controls[2].selectbox(
                "Open",
                names,
                index=None,
                placeholder="Type a name to open a folder or file",
                key=f"lake.open:{prefix}:{nonce}",
                on_change=_open_selected,
                args=(frame, f"lake.open:{prefix}:{nonce}"),
            )
        _summary_line(page, len(tokens), frame, text)
        if frame.empty:
            if page.folders or page.objects:
                st.caption(f"No name on this page contains “{text}”.")
            else:
                st.info("This folder is empty.", icon=":material/folder_off:")
        else:
            event = st.dataframe(
                frame.drop(columns=["bytes", "key"]),
                hide_index=True,
                width="stretch",
                height=min(38 + 35 * len(frame), 560),
                on_select="rerun",
                selection_mode="single-row",
                key=f"lake.grid:{prefix}:{len(tokens)}:{nonce}",
                column_config={
                    "Name": st.column_config.TextColumn("Name", width="large"),
                    "Last modified": st.column_config.DatetimeColumn(
                        "Last modified (UTC)", format="YYYY-MM-DD HH:mm:ss"
                    ),
                },
            )
            selected = getattr(getattr(event, "selection", None), "rows", None) or []
            if selected:
                _open_entry(frame, int(selected[0]))
                st.rerun()
        _pager(prefix, page, len(tokens))
        if prefix:
            register_form(prefix)


def _open_selected(frame: pd.DataFrame, key: str) -> None:
    choice = st.session_state.get(key)
    matches = frame.index[frame["Name"] == choice].tolist()
    if matches:
        _open_entry(frame, int(matches[0]))


def _summary_line(page: ObjectPage, number: int, frame: pd.DataFrame, text: str) -> None:
    parts = [f"{len(page.folders):,} folder{'s' if len(page.folders) != 1 else ''}"]
    parts.append(f"{len(page.objects):,} object{'s' if len(page.objects) != 1 else ''}")
    size = sum(o.size for o in page.objects)
    if page.objects:
        parts.append(human_bytes(size))
    where = f"page {number}" + (" — more on the next page" if page.next_token else "")
    if number == 1 and not page.next_token:
        where = "everything in this folder"
    shown = f" · {len(frame):,} match “{text}”" if text else ""
    st.caption(f"{' · '.join(parts)} · {where}{shown}")


def _pager(prefix: str, page: ObjectPage, number: int) -> None:
    if number == 1 and not page.next_token:
        return
    with st.container(horizontal=True, vertical_alignment="center"):
        st.button(
            "Previous page",
            icon=":material/chevron_left:",
            disabled=number == 1,
            on_click=_previous_page,
            args=(prefix,),
            key="lake.prev",
        )
        st.caption(f"Page {number}")
        st.button(
            "Next page",
            icon=":material/chevron_right:",
            disabled=not page.next_token,
            on_click=_next_page,
            args=(prefix, page.next_token or ""),
            key="lake.next",
        )


def register_form(prefix: str) -> None:
    """Register the folder being browsed as a table (the Glue crawler's job, for one folder)."""
    from lib.lake import ingest

    settings = data.settings()
    with st.expander("Register this folder as a table", icon=":material/add_notes:"):
        st.caption(
            "Format from the file names, schema from the first file, `key=value` folders as partition keys. "
            "Files read by column name (Parquet, JSON) must already have Glue-safe names."
        )
        with st.form(key=f"lake.register:{prefix}", border=False):
            left, right = st.columns(2)
            database = left.text_input("Database", value=settings.database)
            table = right.text_input("Table", value=prefix.rstrip("/").rsplit("/", 1)[-1].split("=")[0])
            replace = st.checkbox("Replace a table of the same name")
            if st.form_submit_button("Register", icon=":material/app_registration:", type="primary"):
                with friendly_errors():
                    created = ingest.register_prefix(
                        data.backend(), prefix, database=database, table=table, replace=replace
                    )
                    data.clear()
                    st.success(
                        f"Registered {created.qualified_name}: {len(created.columns)} columns"
                        + (f", {len(created.partition_keys)} partition key(s)" if created.partition_keys else "")
                        + ". Find it on the Catalog tab.",
                        icon=":material/check_circle:",
                    )


# -- one object ---------------------------------------------------------------------------------------------------
def object_detail(key: str) -> None:
    settings = data.settings()
    with friendly_errors():
        info = data.stat(key)
        st.subheader(key.rsplit("/", 1)[-1], anchor=False)
        with st.container(horizontal=True, vertical_alignment="center"):
            st.button(
                "Back to the folder",
                icon=":material/arrow_back:",
                on_click=open_prefix,
                args=(parent_prefix(key),),
                key="lake.back",
            )
            download_button(info, settings.max_download_bytes)
        facts(info)
        preview = data.preview(key, info.etag)
        render_preview(preview)


def facts(info: ObjectInfo) -> None:
    rows = [
        ("Key", info.key),
        ("Size", f"{human_bytes(info.size)} ({info.size:,} bytes)"),
        ("Last modified", info.last_modified.strftime("%Y-%m-%d %H:%M:%S UTC") if info.last_modified else "unknown"),
        ("Content type", info.content_type or "unknown"),
        ("Storage class", info.storage_class or "unknown"),
        ("ETag", (info.etag or "").strip('"') or "none"),
    ]
    if info.version_id:
        rows.append(("Version id", info.version_id))
    rows += [(f"Metadata: {name}", value) for name, value in sorted(info.metadata.items())]
    frame = pd.DataFrame(rows, columns=["Property", "Value"])
    with st.expander("Object properties", expanded=False, icon=":material/info:"):
        st.dataframe(frame, hide_index=True, width="stretch")


def download_button(info: ObjectInfo, cap: int) -> None:
    name = info.key.rsplit("/", 1)[-1]
    if info.size > cap:
        st.caption(
            f":material/block: Download is offered up to {human_bytes(cap)} (LAKELENS_MAX_DOWNLOAD_BYTES); "
            f"this object is {human_bytes(info.size)}."
        )
        return
    backend = data.backend()
    key = info.key

    def read() -> bytes:
        return backend.read(key)

    st.download_button(
        f"Download ({human_bytes(info.size)})",
        data=read,
        file_name=name,
        mime=info.content_type or "application/octet-stream",
        icon=":material/download:",
        on_click="ignore",
        key="lake.download",
    )


def render_preview(preview: Preview) -> None:
    st.markdown("#### Preview")
    line = _describe(preview)
    if line:
        st.caption(line)
    for note in preview.notes:
        st.caption(f":material/info: {note}")
    if preview.parquet is not None:
        _parquet_facts(preview)
    if preview.frame is not None:
        if preview.frame.empty:
            st.info("The file holds no rows.", icon=":material/info:")
        else:
            st.dataframe(preview.frame, hide_index=True, width="stretch", height=min(38 + 35 * len(preview.frame), 420))
            pin_table(
                f"Preview of {preview.key}", "Lake", preview.frame, key=f"lake.preview.{preview.key}", context=line
            )
        if preview.columns and preview.parquet is None:
            with st.expander("Inferred schema (Glue types)", icon=":material/schema:"):
                schema = pd.DataFrame([(c.name, c.type) for c in preview.columns], columns=["Column", "Type"])
                st.dataframe(schema, hide_index=True, width="stretch")
    elif preview.image is not None:
        st.image(preview.image, caption=preview.key.rsplit("/", 1)[-1])
    elif preview.text is not None:
        language = "json" if preview.kind == "json" else None
        st.code(preview.text, language=language, height=420 if preview.text.count("\n") > 20 else "content")
    elif preview.kind != "image":
        st.caption("There is nothing to preview.")


def _describe(preview: Preview) -> str:
    parts: list[str] = []
    names = {"csv": "CSV", "tsv": "TSV", "json": "JSON", "jsonl": "JSON lines", "parquet": "Parquet"}
    parts.append(names.get(preview.kind, preview.kind))
    if preview.compression:
        parts.append(f"{preview.compression}-compressed")
    if preview.delimiter:
        parts.append(f"{preview.delimiter}-separated")
    if preview.header is not None:
        parts.append("with a header row" if preview.header else "no header row")
    if preview.encoding and preview.kind not in ("parquet", "image", "binary"):
        parts.append(preview.encoding)
    if preview.rows_estimate is not None and preview.parquet is None:
        count = f"{preview.rows_estimate:,} rows" if preview.rows_exact else f"about {preview.rows_estimate:,} rows"
        parts.append(count)
    if preview.frame is not None and not preview.frame.empty:
        parts.append(f"showing the first {len(preview.frame):,}")
    if preview.partial and preview.parquet is None:
        parts.append(f"from the first {human_bytes(preview.bytes_read)} of {human_bytes(preview.size)}")
    return " · ".join(parts)


def _parquet_facts(preview: Preview) -> None:
    footer = preview.parquet
    assert footer is not None
    from components.metrics import metric_row

    metric_row(
        [
            ("Rows", f"{footer.rows:,}", "Row count from the file's footer"),
            ("Row groups", f"{len(footer.row_groups):,}", "Parquet row groups in the file"),
            ("Columns", f"{len(footer.columns):,}", None),
            ("Compression", ", ".join(footer.compression) or "none", "Codecs of the column chunks"),
        ]
    )
    st.caption(
        f"Read {human_bytes(preview.bytes_read)} of {human_bytes(preview.size)} · written by {footer.created_by or 'unknown'} · format {footer.format_version}"
    )
    left, right = st.columns(2)
    with left.expander("Schema (Glue types)", icon=":material/schema:"):
        st.dataframe(
            pd.DataFrame([(c.name, c.type) for c in footer.columns], columns=["Column", "Type"]),
            hide_index=True,
            width="stretch",
        )
    with right.expander("Row groups", icon=":material/view_agenda:"):
        groups = pd.DataFrame(
            [(g.index, g.rows, human_bytes(g.bytes), human_bytes(g.compressed_bytes)) for g in footer.row_groups],
            columns=["Group", "Rows", "Uncompressed", "Compressed"],
        )
        st.dataframe(groups, hide_index=True, width="stretch")


def object_browser(page_size: int = PAGE_SIZE) -> None:
    """The Objects tab: breadcrumb, then the folder's listing or one object's detail."""
    prefix = current_prefix()
    key = current_object()
    breadcrumb(prefix, key)
    if key:
        object_detail(key)
    else:
        folder_listing(prefix, page_size)
