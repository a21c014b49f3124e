"""What the local engine answers from the catalog rather than from DuckDB: SHOW and DESCRIBE, and
``information_schema.tables``/``columns``/``schemata``, in the shapes Athena returns (DuckDB's own would
describe LakeLens's views instead)."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pyarrow as pa

from lib import sql as sqlmod
from lib.backends.local.catalog import LocalCatalog
from lib.catalog import TableDef, athena_ddl
from lib.errors import SqlError

_COLUMNS_COLUMNS = [
    "column_name",
    "ordinal_position",
    "column_default",
    "is_nullable",
    "data_type",
    "comment",
    "extra_info",
]


def show_frame(catalog: LocalCatalog, statement: sqlmod.Statement, default_db: str) -> pd.DataFrame:
    """SHOW and DESCRIBE answered from the catalog, in the shapes Athena returns."""
    if statement.kind == "describe":
        assert statement.tree is not None
        ref = statement.tables[0] if statement.tables else None
        if ref is None:
            raise SqlError("DESCRIBE needs a table name.")
        return describe_frame(catalog.get_table(ref.database, ref.table))
    words = statement.command.split()
    upper = [w.upper() for w in words]
    if upper[:1] in (["DATABASES"], ["SCHEMAS"]):
        return pd.DataFrame({"database_name": [db.name for db in catalog.list_databases()]})
    if upper[:1] == ["TABLES"]:
        database = words[2] if len(words) >= 3 and upper[1] in ("IN", "FROM") else default_db
        return pd.DataFrame({"tab_name": [t.name for t in catalog.list_tables(database.strip('"`').lower())]})
    if upper[:1] == ["COLUMNS"] and len(words) >= 3 and upper[1] in ("IN", "FROM"):
        db, _, name = words[2].strip('"`').rpartition(".")
        table = catalog.get_table((db or default_db).lower(), name.lower())
        return pd.DataFrame({"field": [c.name for c in table.all_columns]})
    if upper[:2] == ["CREATE", "TABLE"] and len(words) >= 3:
        db, _, name = words[2].strip('"`').rpartition(".")
        table = catalog.get_table((db or default_db).strip('"`').lower(), name.strip('"`').lower())
        return pd.DataFrame({"createtab_stmt": athena_ddl(table).splitlines()})
    if upper[:1] == ["PARTITIONS"] and len(words) >= 2:
        db, _, name = words[1].strip('"`').rpartition(".")
        table = catalog.get_table((db or default_db).lower(), name.lower())
        parts = catalog.load_partitions(table.database, table.name)
        return pd.DataFrame({"partition": [p.spec(table.partition_keys) for p in parts]})
    raise SqlError(
        f"SHOW {statement.command} is not supported locally; try SHOW DATABASES, SHOW TABLES IN db, SHOW COLUMNS IN t, SHOW PARTITIONS t or SHOW CREATE TABLE t."
    )


def describe_frame(table: TableDef) -> pd.DataFrame:
    rows = [(c.name, c.type, c.comment) for c in table.columns]
    rows += [(c.name, c.type, (c.comment + " (partition key)").strip()) for c in table.partition_keys]
    return pd.DataFrame(rows, columns=["col_name", "data_type", "comment"])


def information_schema_table(catalog: LocalCatalog, name: str) -> pa.Table:
    """``information_schema.<name>`` (tables, columns or schemata) as Athena shows it, built from the catalog."""
    catalog_name = sqlmod.DEFAULT_CATALOG
    databases = [db.name for db in catalog.list_databases()]
    if name == "schemata":
        frame = pd.DataFrame(
            {"catalog_name": [catalog_name] * (len(databases) + 1), "schema_name": [*databases, "information_schema"]}
        )
    elif name in ("tables", "columns"):
        rows: list[dict[str, Any]] = []
        for database in databases:
            for table in catalog.list_tables(database):
                base = {"table_catalog": catalog_name, "table_schema": database, "table_name": table.name}
                if name == "tables":
                    rows.append({**base, "table_type": "BASE TABLE"})
                    continue
                for position, column in enumerate(table.all_columns, start=1):
                    rows.append(
                        {
                            **base,
                            "column_name": column.name,
                            "ordinal_position": position,
                            "column_default": None,
                            "is_nullable": "YES",
                            "data_type": column.type,
                            "comment": column.comment or None,
                            "extra_info": "partition key" if column in table.partition_keys else None,
                        }
                    )
        columns = ["table_catalog", "table_schema", "table_name"] + (
            ["table_type"] if name == "tables" else _COLUMNS_COLUMNS
        )
        frame = pd.DataFrame(rows, columns=columns)
        if name == "columns":
            frame["ordinal_position"] = frame["ordinal_position"].astype("int64")
            for text in ("column_default", "comment", "extra_info"):
                frame[text] = frame[text].astype("object")
    else:
        raise SqlError(
            f"information_schema.{name} is not available locally; information_schema.tables, columns and "
            "schemata are (built from the catalog)."
        )
    arrow = pa.Table.from_pandas(frame, preserve_index=False)
    if name == "columns":
        arrow = arrow.cast(
            pa.schema(
                [pa.field(f.name, pa.int64() if f.name == "ordinal_position" else pa.string()) for f in arrow.schema]
            )
        )
    return arrow
