"""The interface both backends implement, and the plain data they return.

Pages, the CLI and tests talk to a :class:`Backend`; they never import boto3 or duckdb. Results are
dataclasses so they can be cached by Streamlit and compared in tests.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

import pandas as pd

from lib.catalog import Partition, TableDef
from lib.errors import LakeLensError, NotFound
from lib.settings import Settings
from lib.sql.params import ParamValue
from lib.sql.plan import Plan


@dataclass(frozen=True)
class ObjectInfo:
    key: str
    size: int
    last_modified: datetime | None = None
    etag: str | None = None
    storage_class: str | None = None
    content_type: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)
    version_id: str | None = None


@dataclass(frozen=True)
class ObjectPage:
    """One page of a listing: sub-folders (common prefixes) and objects directly under ``prefix``."""

    prefix: str
    folders: list[str]
    objects: list[ObjectInfo]
    next_token: str | None = None


@dataclass(frozen=True)
class DatabaseInfo:
    name: str
    description: str = ""
    location: str = ""


@dataclass(frozen=True)
class PartitionPage:
    partitions: list[Partition]
    next_token: str | None = None


@dataclass(frozen=True)
class QueryStats:
    engine: str
    query_id: str
    runtime_s: float
    queue_s: float = 0.0
    bytes_scanned: int | None = None
    bytes_estimated: bool = False  # local engine: bytes in the files of the tables read
    rows: int = 0
    total_rows: int | None = None
    truncated: bool = False
    sql_executed: str = ""

    @property
    def cost_usd(self) -> float | None:
        """Athena's price: $5 per TB scanned, with a 10 MB minimum per query."""
        if self.bytes_scanned is None:
            return None
        billed = max(self.bytes_scanned, 10 * 10**6)
        return billed / 10**12 * 5.0


@dataclass(frozen=True)
class QueryResult:
    frame: pd.DataFrame
    stats: QueryStats


@dataclass(frozen=True)
class LakeSummary:
    databases: int
    tables: int
    objects: int
    bytes: int
    objects_capped: bool = False


@dataclass(frozen=True)
class BackendInfo:
    """What the home page shows about the active backend. Never holds credentials."""

    kind: Literal["local", "aws"]
    lake: str
    engine: str
    region: str | None = None
    endpoint: str | None = None
    workgroup: str | None = None


class Backend(ABC):
    """Objects, catalog and queries of one lake."""

    kind: Literal["local", "aws"]

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    # -- the backend itself ---------------------------------------------------------------------------------
    @abstractmethod
    def info(self) -> BackendInfo: ...

    @abstractmethod
    def check(self) -> None:
        """Raise :class:`BackendUnavailable` with a clear message if the lake cannot be reached."""

    # -- objects --------------------------------------------------------------------------------------------
    @abstractmethod
    def list_objects(self, prefix: str = "", *, token: str | None = None, page_size: int = 1000) -> ObjectPage:
        """One page of folders and objects directly under ``prefix``; pass ``next_token`` for the next page."""

    @abstractmethod
    def stat(self, key: str) -> ObjectInfo: ...

    @abstractmethod
    def read(self, key: str, start: int | None = None, end: int | None = None) -> bytes:
        """The object's bytes, or bytes ``start`` up to but excluding ``end``."""

    @abstractmethod
    def write(
        self, key: str, data: bytes, *, content_type: str | None = None, metadata: dict[str, str] | None = None
    ) -> ObjectInfo:
        """Write an object whole: readers see the old object or the new one, never a part."""

    def write_file(
        self,
        key: str,
        path: Path,
        *,
        content_type: str | None = None,
        metadata: dict[str, str] | None = None,
        progress: Callable[[int], None] | None = None,
        move: bool = False,
    ) -> ObjectInfo:
        """Write a local file as an object without holding it in memory (the backends stream it; this default
        reads it whole). ``progress`` is told the bytes done so far and may raise to stop; ``move`` lets a
        backend rename the file into place instead of copying it when it can."""
        data = path.read_bytes()
        if progress:
            progress(len(data))
        return self.write(key, data, content_type=content_type, metadata=metadata)

    @abstractmethod
    def delete(self, key: str) -> None: ...

    # -- catalog --------------------------------------------------------------------------------------------
    @abstractmethod
    def list_databases(self) -> list[DatabaseInfo]: ...

    @abstractmethod
    def list_tables(self, database: str) -> list[TableDef]: ...

    @abstractmethod
    def get_table(self, database: str, table: str) -> TableDef: ...

    @abstractmethod
    def list_partitions(
        self, database: str, table: str, *, token: str | None = None, page_size: int = 100
    ) -> PartitionPage: ...

    @abstractmethod
    def create_database(self, name: str, description: str = "") -> None: ...

    @abstractmethod
    def register_table(
        self, table: TableDef, *, partitions: list[Partition] | None = None, replace: bool = False
    ) -> TableDef:
        """Create (or with ``replace``, overwrite) a table and its partitions; returns it as stored."""

    @abstractmethod
    def drop_table(self, database: str, table: str) -> None: ...

    def save_column_statistics(self, database: str, table: str, body: dict[str, Any]) -> None:
        """Keep a table's column statistics (lib/profile.py) with the time they were computed.

        The default keeps them in the lake under ``<meta_prefix>statistics/``: moto has no Glue
        UpdateColumnStatisticsForTable to test against, so LakeLens does not call it.
        """
        self.write(
            self._statistics_key(database, table),
            json.dumps(body, indent=2, default=str).encode(),
            content_type="application/json",
        )

    def column_statistics(self, database: str, table: str) -> dict[str, Any] | None:
        """The statistics saved by :meth:`save_column_statistics`, or ``None``."""
        try:
            loaded: dict[str, Any] = json.loads(self.read(self._statistics_key(database, table)))
        except NotFound:
            return None
        return loaded

    def _statistics_key(self, database: str, table: str) -> str:
        return f"{self.settings.meta_prefix}statistics/{database.lower()}/{table.lower()}.json"

    # -- queries --------------------------------------------------------------------------------------------
    @abstractmethod
    def run_query(
        self,
        sql: str,
        *,
        max_rows: int | None = None,
        database: str | None = None,
        query_id: str | None = None,
        timeout_s: int | None = None,
        params: Mapping[str, ParamValue] | None = None,
    ) -> QueryResult:
        """Run Athena SQL after the guard has passed it; at most ``max_rows`` rows come back.

        ``params`` are the values of the SQL's ``:name`` parameters, bound as typed literals (lib/params.py).
        """

    @abstractmethod
    def cancel_query(self, query_id: str) -> None: ...

    def explain(self, sql: str, *, params: Mapping[str, ParamValue] | None = None, database: str | None = None) -> Plan:
        """The engine's plan for a query, as a tree (lib/plan.py); nothing is read but the catalog."""
        raise LakeLensError(f"Plans are not available on the {self.kind} backend yet.")

    def export(
        self,
        sql: str,
        path: Path,
        fmt: Literal["csv", "parquet", "json"],
        database: str | None = None,
        params: Mapping[str, ParamValue] | None = None,
    ) -> int:
        """Write the whole result of ``sql`` to ``path`` without holding it in memory; returns the row count."""
        raise LakeLensError(f"Exporting whole results is not available on the {self.kind} backend yet.")

    # -- shared helpers -------------------------------------------------------------------------------------
    def location_key(self, location: str) -> str | None:
        """The lake key of a table location, or ``None`` if the location is outside the lake."""
        raise NotImplementedError

    def summary(self, object_cap: int = 100_000) -> LakeSummary:
        """Databases, tables, objects and bytes in the lake; stops counting objects at ``object_cap``."""
        databases = self.list_databases()
        tables = sum(len(self.list_tables(db.name)) for db in databases)
        objects = 0
        size = 0
        capped = False
        pending = [""]
        while pending and not capped:
            prefix = pending.pop()
            token: str | None = None
            while True:
                page = self.list_objects(prefix, token=token)
                objects += len(page.objects)
                size += sum(obj.size for obj in page.objects)
                pending.extend(page.folders)
                token = page.next_token
                if objects >= object_cap:
                    capped = True
                    break
                if not token:
                    break
        return LakeSummary(len(databases), tables, objects, size, capped)


def unique_columns(names: list[str]) -> list[str]:
    """Athena returns ``SELECT 1 AS foo, 2 AS foo`` as two columns named foo; a DataFrame, Arrow table or JSON
    object needs distinct names, so the second is ``foo_2`` (as ingest numbers repeated header names)."""
    seen: set[str] = set()
    out: list[str] = []
    for name in names:
        candidate, number = name, 1
        while candidate in seen:
            number += 1
            candidate = f"{name}_{number}"
        seen.add(candidate)
        out.append(candidate)
    return out
