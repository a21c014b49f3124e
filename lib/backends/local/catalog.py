"""The local catalog store: Glue-shaped JSON records under ``<lake>/<meta_prefix>catalog/``, each written whole
(:func:`atomic_write`), and only by the catalog's halves of the write path (lib/backends/base.py)::

    <db>/_database.json                 Glue ``Database``
    <db>/<table>.json                   Glue ``Table``, location ``lake://<key>``
    <db>/<table>.partitions.json        Glue ``Partition`` shapes
    <db>/<table>.statistics.json        column statistics (lib/sql/profile.py)
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from lib.backends.base import DatabaseInfo, PartitionPage
from lib.backends.local.files import atomic_write
from lib.backends.local.lake import LocalLake
from lib.catalog import LAKE_SCHEME, Partition, TableDef, glue_type_to_duckdb, now, validate_identifier
from lib.errors import CatalogError, NotFound, TableNotFound

_NAME = re.compile(r"[A-Za-z0-9_]+")


class LocalCatalog(LocalLake):
    """Databases, tables, partitions and column statistics kept as JSON in the lake."""

    def _catalog_dir(self) -> Path:
        return self.root / self.meta / "catalog"

    def _table_path(self, database: str, table: str) -> Path:
        if not _NAME.fullmatch(database) or not _NAME.fullmatch(table):
            raise TableNotFound(f"Table {database}.{table} does not exist in the catalog.")
        return self._catalog_dir() / database.lower() / f"{table.lower()}.json"

    def _partitions_path(self, database: str, table: str) -> Path:
        return self._table_path(database, table).with_suffix(".partitions.json")

    def _statistics_path(self, database: str, table: str) -> Path:
        return self._table_path(database, table).with_suffix(".statistics.json")

    # -- reading --------------------------------------------------------------------------------------------
    def list_databases(self) -> list[DatabaseInfo]:
        catalog = self._catalog_dir()
        if not catalog.is_dir():
            return []
        out = []
        for child in sorted(catalog.iterdir()):
            marker = child / "_database.json"
            if child.is_dir() and marker.is_file():
                data = json.loads(marker.read_text("utf-8"))
                out.append(DatabaseInfo(name=data["Name"], description=data.get("Description", "")))
        return out

    def list_tables(self, database: str) -> list[TableDef]:
        directory = self._catalog_dir() / database
        if not _NAME.fullmatch(database) or not (directory / "_database.json").is_file():
            raise NotFound(f"Database {database!r} does not exist in the catalog.")
        tables = []
        for path in sorted(directory.glob("*.json")):
            if path.name.startswith("_") or path.name.endswith((".partitions.json", ".statistics.json")):
                continue
            tables.append(TableDef.from_glue(json.loads(path.read_text("utf-8"))))
        return tables

    def get_table(self, database: str, table: str) -> TableDef:
        path = self._table_path(database, table)
        if not path.is_file():
            raise TableNotFound(f"Table {database}.{table} does not exist in the catalog.")
        return TableDef.from_glue(json.loads(path.read_text("utf-8")))

    def load_partitions(self, database: str, table: str) -> list[Partition]:
        """Every partition of a table, as registered (no check that the table exists)."""
        path = self._partitions_path(database, table)
        if not path.is_file():
            return []
        return [
            Partition(values=tuple(item["Values"]), location=item["StorageDescriptor"]["Location"])
            for item in json.loads(path.read_text("utf-8"))
        ]

    def list_partitions(
        self, database: str, table: str, *, token: str | None = None, page_size: int = 100
    ) -> PartitionPage:
        self.get_table(database, table)
        partitions = self.load_partitions(database, table)
        start = int(token) if token else 0
        page = partitions[start : start + page_size]
        next_token = str(start + page_size) if start + page_size < len(partitions) else None
        return PartitionPage(page, next_token)

    def discover_partitions(self, table: TableDef) -> list[Partition]:
        """Hive-style ``key=value`` folders under the table's location, as MSCK REPAIR TABLE finds them."""
        base_key = self.location_key(table.location) or ""
        found: list[Partition] = []

        def walk(key: str, depth: int, values: tuple[str, ...]) -> None:
            if depth == len(table.partition_keys):
                found.append(Partition(values=values, location=LAKE_SCHEME + key))
                return
            expected = table.partition_keys[depth].name + "="
            directory = self.path_for(key, folder=True)
            if not directory.is_dir():
                return
            for entry in sorted(os.scandir(directory), key=lambda e: e.name):
                if entry.is_dir() and entry.name.startswith(expected):
                    walk(f"{key}{entry.name}/", depth + 1, (*values, unquote(entry.name[len(expected) :])))

        walk(base_key, 0, ())
        return found

    def column_statistics(self, database: str, table: str) -> dict[str, Any] | None:
        path = self._statistics_path(database, table)
        if not path.is_file():
            return None
        loaded: dict[str, Any] = json.loads(path.read_text("utf-8"))
        return loaded

    # -- the write path's halves (lib/backends/base.py) -------------------------------------------------------
    def _create_database(self, name: str, description: str = "") -> None:
        validate_identifier(name, "database")
        marker = self._catalog_dir() / name / "_database.json"
        if not marker.is_file():
            body = {"Name": name, "Description": description, "CreateTime": now().isoformat()}
            atomic_write(marker, json.dumps(body, indent=2).encode())

    def _register_table(
        self, table: TableDef, *, partitions: list[Partition] | None = None, replace: bool = False
    ) -> TableDef:
        validate_identifier(table.database, "database")
        validate_identifier(table.name, "table")
        for column in table.all_columns:
            glue_type_to_duckdb(column.type)
        key = self.location_key(table.location)
        if key is None:
            raise CatalogError(f"Table location {table.location!r} must be inside the lake (lake://<folder>/).")
        self.path_for(key, folder=True)
        if not [db for db in self.list_databases() if db.name == table.database]:
            self.create_database(table.database)
        path = self._table_path(table.database, table.name)
        existing = TableDef.from_glue(json.loads(path.read_text("utf-8"))) if path.is_file() else None
        if existing and not replace:
            raise CatalogError(f"Table {table.qualified_name} already exists; replace it explicitly to overwrite it.")
        stamp = now()
        stored = TableDef(
            **{
                **table.__dict__,
                "create_time": existing.create_time if existing and existing.create_time else stamp,
                "update_time": stamp,
            }
        )
        if partitions is None and table.partition_keys:
            partitions = self.discover_partitions(stored)
        body = [{"Values": list(p.values), "StorageDescriptor": {"Location": p.location}} for p in (partitions or [])]
        atomic_write(self._partitions_path(table.database, table.name), json.dumps(body).encode())
        atomic_write(path, json.dumps(stored.to_glue(), indent=2).encode())
        return stored

    def _drop_table(self, database: str, table: str) -> None:
        path = self._table_path(database, table)
        if not path.is_file():
            raise TableNotFound(f"Table {database}.{table} does not exist in the catalog.")
        path.unlink()
        self._partitions_path(database, table).unlink(missing_ok=True)
        self._statistics_path(database, table).unlink(missing_ok=True)

    def _save_column_statistics(self, database: str, table: str, body: dict[str, Any]) -> None:
        """Next to the table in the local catalog: ``<db>/<table>.statistics.json``."""
        path = self._table_path(database, table)
        if not path.is_file():
            raise TableNotFound(f"Table {database}.{table} does not exist in the catalog.")
        atomic_write(self._statistics_path(database, table), json.dumps(body, indent=2, default=str).encode())
