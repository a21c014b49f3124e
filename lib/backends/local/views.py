"""What a DuckDB view over a catalog table is made of: the table's data files (walked as Hive would, never
outside the lake) and the SELECT that reads them with the catalog's columns and types, its SerDe and its Hive
partitions; and the views' column types the SQL translation needs (lib/sql/translate.py)."""

from __future__ import annotations

import os
from pathlib import Path

from lib import sql as sqlmod
from lib.backends.local.files import hidden
from lib.catalog import Column, TableDef, glue_type_to_duckdb
from lib.errors import PathError

# Athena reads rows of up to 32 MB from text files; DuckDB's CSV reader stops at 2 MB lines unless told.
MAX_LINE_BYTES = 33 * 2**20


def walk_table_files(root: Path, table: TableDef, directory: Path, files: list[tuple[Path, int]]) -> None:
    """Append (file, size) for every data file under ``directory`` (the lake folder ``root``'s table location):
    hidden and temporary files skipped, linked folders not followed, a linked file read only inside the lake."""
    resolved_root = root.resolve()
    entries = sorted(os.scandir(directory), key=lambda entry: entry.name)
    for entry in entries:
        if hidden(entry.name):
            continue
        path = Path(entry.path)
        if entry.is_symlink():
            if entry.is_dir():
                continue  # not followed, as os.walk and Hive don't
            try:
                resolved = path.resolve(strict=True)
            except (OSError, RuntimeError):  # a link that leads nowhere or loops
                continue
            if resolved_root not in resolved.parents:
                shown = path.relative_to(root).as_posix()
                raise PathError(
                    f"Table {table.qualified_name} has a file that links outside the lake ({shown}); LakeLens "
                    "does not read it: remove the link or copy the file into the lake."
                )
            if resolved.is_file():
                files.append((resolved, resolved.stat().st_size))
        elif entry.is_dir(follow_symlinks=False):
            walk_table_files(root, table, path, files)
        elif entry.is_file(follow_symlinks=False):  # not a pipe or a device, which a read would hang on
            files.append((path, entry.stat(follow_symlinks=False).st_size))


def view_sql(table: TableDef, files: list[Path]) -> str:
    """The SELECT (DuckDB's dialect) over ``files`` that a table's view is: its columns, then its partition keys
    cast to their catalog types; no files gives the columns and no rows."""
    quote = sqlmod.quote_identifier
    columns = table.columns
    keys = table.partition_keys
    select = ", ".join(f"CAST({quote(c.name)} AS {glue_type_to_duckdb(c.type)}) AS {quote(c.name)}" for c in keys)
    names = ", ".join(quote(c.name) for c in columns)
    projection = ", ".join(part for part in (names, select) if part)
    if not files:
        empty = ", ".join(f"CAST(NULL AS {glue_type_to_duckdb(c.type)}) AS {quote(c.name)}" for c in table.all_columns)
        return f"SELECT {empty} WHERE false"
    file_list = "[" + ", ".join(sqlmod.quote_literal(str(f)) for f in files) + "]"
    hive = "true" if keys else "false"
    fmt = table.format
    if fmt == "parquet":
        source = f"read_parquet({file_list}, hive_partitioning = {hive}, union_by_name = true)"
    elif fmt == "json":
        spec = columns_struct(columns)
        source = (
            f"read_json({file_list}, format = 'newline_delimited', columns = {spec}, hive_partitioning = {hive}, "
            f"maximum_object_size = {MAX_LINE_BYTES})"
        )
    else:
        spec = columns_struct(columns)
        quote_char = sqlmod.quote_literal('"' if "OpenCSVSerde" in table.serde_library else "")
        source = (
            f"read_csv({file_list}, delim = {sqlmod.quote_literal(table.delimiter)}, "
            f"header = {str(table.has_header).lower()}, columns = {spec}, quote = {quote_char}, escape = {quote_char}, "
            f"auto_detect = false, hive_partitioning = {hive}, null_padding = true, max_line_size = {MAX_LINE_BYTES})"
        )
    return f"SELECT {projection} FROM {source}"


def columns_struct(columns: list[Column]) -> str:
    """DuckDB's ``columns = {'name': 'TYPE', ...}`` argument of read_csv and read_json."""
    literal = sqlmod.quote_literal
    return "{" + ", ".join(f"{literal(c.name)}: {literal(glue_type_to_duckdb(c.type))}" for c in columns) + "}"


def view_column_map(tables: list[TableDef]) -> sqlmod.ViewColumns:
    """Every view's column types by schema and name, for the translation's integer division."""
    columns: sqlmod.ViewColumns = {}
    for table in tables:
        columns.setdefault(table.database, {})[table.name] = view_columns(table)
    return columns


def view_columns(table: TableDef) -> dict[str, str]:
    """A view's column types, as the SQL translation needs them to divide integers the way Athena does."""
    return {column.name.lower(): glue_type_to_duckdb(column.type) for column in table.all_columns}


def column_types(tables: list[TableDef]) -> dict[str, str]:
    """Column name -> Glue type over the tables read (the first table's type where names repeat)."""
    types: dict[str, str] = {}
    for table in tables:
        for column in table.all_columns:
            types.setdefault(column.name.lower(), column.type)
    return types
