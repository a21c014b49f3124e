"""The catalog: databases, their tables, and one table in full (the Glue console's table page, and more).

The selected table is in the URL (``?table=demo.reviews``). From a table the analyst can jump to its files (the
Objects tab at its location), to the SQL page with a starter query, or to the Sentiment page with it chosen.
"""

from __future__ import annotations

import json

import pandas as pd
import streamlit as st

from components.lake.curate_panel import curate_panel
from components.feedback import friendly_errors
from components.metrics import metric_row
from components.lake.object_table import show_in_browser
from components.sql.profile_panel import table_profile
from lib import data
from lib.catalog import TableDef
from lib.errors import LakeLensError
from lib.lake.objects import key_of_location
from lib.paths import human_bytes
from lib.sql import starter_query

TABLE = "table"
_FORMAT_NAMES = {"parquet": "Parquet", "csv": "CSV", "tsv": "TSV", "json": "JSON"}
PARTITION_PAGE = 100
_PARTITION_PAGES = "lake.partition_pages"  # session state: {db.table: [token, ...]}


def selected_table() -> tuple[str, str] | None:
    raw = st.query_params.get(TABLE, "")
    database, dot, name = raw.partition(".")
    return (database, name) if dot and database and name else None


def select_table(qualified: str | None) -> None:
    if qualified:
        st.query_params[TABLE] = qualified
    else:
        st.query_params.pop(TABLE, None)


def open_in_catalog(qualified: str) -> None:
    """Callback for links from elsewhere on the page: the Catalog tab with this table open."""
    from components.lake.object_table import TAB_CATALOG, TAB_KEY

    st.session_state[TAB_KEY] = TAB_CATALOG
    select_table(qualified)


def catalog_browser() -> None:
    with friendly_errors():
        databases = data.databases()
    if not databases:
        st.info(
            "The catalog is empty. Ingest a file on the Ingest tab to create the first table.", icon=":material/info:"
        )
        return
    chosen = selected_table()
    names = [db.name for db in databases]
    default_db = chosen[0] if chosen and chosen[0] in names else data.settings().database
    left, right = st.columns(2)
    database = left.selectbox(
        "Database",
        names,
        index=names.index(default_db) if default_db in names else 0,
        key=f"lake.db:{chosen}",
    )
    description = next((db.description for db in databases if db.name == database), "")
    with friendly_errors():
        tables = data.tables(database)
    table_names = [t.name for t in tables]
    current = chosen[1] if chosen and chosen[0] == database and chosen[1] in table_names else None
    picked = right.selectbox(
        "Table",
        table_names,
        index=table_names.index(current) if current else None,
        placeholder=f"{len(table_names):,} table{'s' if len(table_names) != 1 else ''} in {database}",
        key=f"lake.table:{database}:{current}",
    )
    if picked != current:
        select_table(f"{database}.{picked}" if picked else None)
        st.rerun()
    if description:
        st.caption(description)
    if chosen and current is None and chosen[0] == database:
        st.warning(f"There is no table {chosen[0]}.{chosen[1]} in the catalog.", icon=":material/search_off:")
    if current is None:
        tables_overview(tables)
        return
    table_detail(database, current)


def tables_overview(tables: list[TableDef]) -> None:
    if not tables:
        st.caption("No tables in this database yet.")
        return
    rows = [
        {
            "Table": t.name,
            "Format": t.format,
            "Columns": len(t.all_columns),
            "Partitioned by": ", ".join(c.name for c in t.partition_keys),
            "Location": t.location,
            "Updated": t.update_time.replace(tzinfo=None) if t.update_time else None,
            "Description": t.description,
        }
        for t in tables
    ]
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")
    st.caption("Choose a table above to see its columns, storage, partitions and files.")


def table_detail(database: str, name: str) -> None:
    try:
        table = data.table(database, name)
    except LakeLensError as exc:
        st.error(str(exc), icon=":material/error:")
        return
    st.subheader(table.qualified_name, anchor=False)
    if table.description:
        st.caption(table.description)
    links(table)
    location = key_of_location(data.backend(), table.location)
    size_text, objects_text = "outside the lake", "—"
    if location is not None:
        with friendly_errors():
            stats = data.location_stats(location)
            size_text, objects_text = human_bytes(stats.bytes), stats.objects_text
    metric_row(
        [
            (
                "Format",
                _FORMAT_NAMES.get(table.format, table.format),
                f"SerDe {table.serde_library.rsplit('.', 1)[-1]}",
            ),
            ("Columns", f"{len(table.columns):,}", "Data columns, partition keys not included"),
            ("Partition keys", f"{len(table.partition_keys):,}", None),
            ("Size", size_text, "Bytes of every object under the location"),
            ("Objects", objects_text, "Objects under the location, counted up to 100,000"),
        ]
    )
    columns, storage = st.columns(2, gap="medium")
    with columns:
        st.markdown("##### Columns")
        rows = [(c.name, c.type, False, c.comment) for c in table.columns]
        rows += [(c.name, c.type, True, c.comment) for c in table.partition_keys]
        st.dataframe(
            pd.DataFrame(rows, columns=["Column", "Type", "Key", "Comment"]),
            hide_index=True,
            width="stretch",
            column_config={
                "Key": st.column_config.CheckboxColumn("Key", width="small", help="Partition key"),
                "Comment": st.column_config.TextColumn("Comment", width="large"),
            },
            height=min(38 + 35 * len(rows), 460),
        )
    with storage:
        st.markdown("##### Storage")
        st.markdown(f"**Location** `{table.location}`")
        if location is not None:
            st.button(
                "Browse the files",
                icon=":material/folder_open:",
                on_click=show_in_browser,
                args=(location,),
                key="lake.browse_location",
                help=f"Open {location} on the Objects tab",
            )
        props = [
            ("Table type", table.table_type),
            ("Input format", _class_name(table.input_format)),
            ("Output format", _class_name(table.output_format)),
            ("SerDe", _class_name(table.serde_library)),
            ("SerDe parameters", json.dumps(table.serde_parameters) if table.serde_parameters else ""),
            ("Created", _when(table.create_time)),
            ("Updated", _when(table.update_time)),
        ]
        props += [(f"Parameter: {k}", v) for k, v in sorted(table.parameters.items())]
        st.dataframe(
            pd.DataFrame(props, columns=["Property", "Value"]),
            hide_index=True,
            width="stretch",
            column_config={"Value": st.column_config.TextColumn("Value", width="large")},
        )
    if table.partition_keys:
        partitions_panel(table)
    table_profile(table, data.settings())
    curate_panel(table)


def _class_name(java_class: str) -> str:
    """``org.apache...MapredParquetInputFormat`` -> ``MapredParquetInputFormat (org.apache...)``: the telling part first."""
    package, _, name = java_class.rpartition(".")
    return f"{name} ({package})" if package else java_class


def _when(stamp: object) -> str:
    return stamp.strftime("%Y-%m-%d %H:%M UTC") if hasattr(stamp, "strftime") else "unknown"


def links(table: TableDef) -> None:
    with st.container(horizontal=True):
        st.page_link(
            "pages/sql.py",
            label="Query this table",
            icon=":material/terminal:",
            query_params={"sql": starter_query(table.database, table.name)},
        )
        st.page_link(
            "pages/sentiment.py",
            label="Explore sentiment",
            icon=":material/sentiment_satisfied:",
            query_params={"table": table.qualified_name},
        )


def _partition_tokens(qualified: str) -> list[str | None]:
    pages: dict[str, list[str | None]] = st.session_state.setdefault(_PARTITION_PAGES, {})
    return pages.setdefault(qualified, [None])


def _previous_partitions(qualified: str) -> None:
    tokens = _partition_tokens(qualified)
    if len(tokens) > 1:
        tokens.pop()


def _next_partitions(qualified: str, token: str | None) -> None:
    if token:
        _partition_tokens(qualified).append(token)


def partitions_panel(table: TableDef) -> None:
    st.markdown("##### Partitions")
    tokens = _partition_tokens(table.qualified_name)
    with friendly_errors():
        page = data.partitions(table.database, table.name, tokens[-1], PARTITION_PAGE)
        text = st.text_input(
            "Filter partitions",
            key="lake.partition_filter",
            placeholder="part of a value, e.g. Books",
            help="Filters the partitions of this page.",
        )
        rows = [(p.spec(table.partition_keys), p.location) for p in page.partitions]
        frame = pd.DataFrame(rows, columns=["Partition", "Location"])
        if text:
            frame = frame[frame["Partition"].str.contains(text.strip(), case=False, regex=False)]
        more = " — more on the next page" if page.next_token else ""
        st.caption(
            f"Page {len(tokens)}: {len(page.partitions):,} partition(s){more}"
            + (f" · {len(frame):,} match" if text else "")
        )
        if frame.empty:
            st.caption("No partitions to show." if not text else f"No partition on this page matches “{text}”.")
        else:
            st.dataframe(frame, hide_index=True, width="stretch", height=min(38 + 35 * len(frame), 420))
        if len(tokens) > 1 or page.next_token:
            with st.container(horizontal=True, vertical_alignment="center"):
                st.button(
                    "Previous partitions",
                    icon=":material/chevron_left:",
                    disabled=len(tokens) == 1,
                    on_click=_previous_partitions,
                    args=(table.qualified_name,),
                    key="lake.part_prev",
                )
                st.button(
                    "Next partitions",
                    icon=":material/chevron_right:",
                    disabled=not page.next_token,
                    on_click=_next_partitions,
                    args=(table.qualified_name, page.next_token),
                    key="lake.part_next",
                )
