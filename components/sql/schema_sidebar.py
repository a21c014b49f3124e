"""The schema browser in the sidebar: databases, their tables, each table's columns with types.

A click on a table or a column inserts its name into the SQL editor at the cursor.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import streamlit as st

from components.feedback import friendly_errors
from lib import data
from lib.catalog import TableDef


@dataclass(frozen=True)
class Schema:
    databases: list[str]
    tables: list[TableDef]


def load_schema() -> Schema:
    """Every database and table in the catalog (cached listings); a database that fails to list is skipped."""
    names = [db.name for db in data.databases()]
    tables: list[TableDef] = []
    for name in names:
        with friendly_errors():
            tables.extend(data.tables(name))
    return Schema(names, tables)


def schema_sidebar(schema: Schema, on_insert: Callable[[str], None]) -> None:
    with st.sidebar:
        st.subheader("Schema", help="Click a table or a column to insert its name into the editor.")
        if not schema.databases:
            st.caption("The catalog has no databases yet. Ingest a file on the Lake page to create a table.")
            return
        for database in schema.databases:
            tables = [t for t in schema.tables if t.database == database]
            st.markdown(f":material/database: **{database}** · {len(tables)} table{'s' if len(tables) != 1 else ''}")
            if not tables:
                st.caption("No tables.")
            for table in tables:
                with st.expander(table.name, icon=":material/table:"):
                    if table.description:
                        st.caption(table.description)
                    st.button(
                        f"Insert `{table.qualified_name}`",
                        key=f"schema.{table.qualified_name}",
                        type="tertiary",
                        icon=":material/add:",
                        on_click=on_insert,
                        args=(table.qualified_name,),
                    )
                    keys = {c.name for c in table.partition_keys}
                    for column in table.all_columns:
                        label = f"`{column.name}` :gray[{column.type}]"
                        if column.name in keys:
                            label += " :gray[· partition]"
                        st.button(
                            label,
                            key=f"schema.{table.qualified_name}.{column.name}",
                            type="tertiary",
                            help=column.comment or None,
                            on_click=on_insert,
                            args=(column.name,),
                        )
