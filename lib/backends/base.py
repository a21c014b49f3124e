"""The interface both backends implement, and the plain data they return.

Pages, the CLI and tests talk to a :class:`Backend`; they never import boto3 or duckdb. Results are
dataclasses so they can be cached by Streamlit and compared in tests.
"""

from __future__ import annotations

import json
import threading
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

    @property
    def title(self) -> str:
        """The backend's name for the sidebar badge."""
        return "Local lake" if self.kind == "local" else "AWS"

    @property
    def icon(self) -> str:
        return ":material/computer:" if self.kind == "local" else ":material/cloud:"

    def lines(self) -> list[tuple[str, str]]:
        """(label, value) pairs describing the backend for the home page. Never a credential: none is held here."""
        lines = [
            ("Backend", "local (embedded)" if self.kind == "local" else "aws"),
            ("Lake", self.lake),
            ("Engine", self.engine),
        ]
        if self.kind == "aws":
            lines += [("Region", self.region or ""), ("Workgroup", self.workgroup or "")]
            lines.append(("Endpoint", self.endpoint or "AWS (default)"))
        return lines


WriteAction = Literal[
    "write", "delete", "replace_folder", "create_database", "register_table", "drop_table", "statistics", "sql"
]


@dataclass(frozen=True)
class WriteEvent:
    """One change about to be made to the lake: what kind (``action``) and to what (a key, a folder, a table as
    ``db.table``, a database, or the SQL of a write statement)."""

    action: WriteAction
    target: str


WriteHook = Callable[[WriteEvent], None]


class Backend(ABC):
    """Objects, catalog and queries of one lake.

    **The one write path.** Every change to the lake passes one of the public write methods of this class:
    :meth:`write`, :meth:`write_file`, :meth:`replace_folder`, :meth:`delete`, :meth:`create_database`,
    :meth:`register_table`, :meth:`drop_table`, :meth:`save_column_statistics`, :meth:`run_statement` (LakeLens's own
    statements that write, such as a curate's CTAS) and :meth:`run_query` for a write statement where
    ``LAKELENS_ALLOW_WRITES`` lets one through. Each calls :meth:`_writing` first: the one place a policy (who may
    do what) and an audit trail hook in (``write_hooks``; a hook that raises stops the change). Backends implement
    the ``_``-prefixed halves and never write the lake any other way.

    **Capabilities.** What differs between the backends is asked of the backend, never decided by its kind:
    :meth:`location` (a table location for a lake folder), :attr:`lake_folder` (the lake as a folder on this
    machine, if it is one), :meth:`scratch_dir` (where files wait before they are moved in), :attr:`engine_name`,
    :attr:`bills_scans` and :meth:`scan_cost_usd`, :attr:`has_autopilot`, :attr:`statistics_note`, :meth:`source_sql` (the engine's own SELECT over a table's files),
    :meth:`run_statement` and :meth:`result_location`.
    """

    kind: Literal["local", "aws"]
    engine_name: str = "SQL engine"
    """The engine that runs the SQL, as the analyst knows it ("DuckDB", "Athena")."""
    bills_scans: bool = False
    """Whether every query's scan costs money (Athena's $5 per TB): pages confirm before a refresh that scans."""
    has_autopilot: bool = False
    """Whether SageMaker Autopilot jobs can be listed and launched in this backend's account."""
    statistics_note: str = ""
    """Where saved column statistics are kept, when it is not the catalog itself (said beside them)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.write_hooks: list[WriteHook] = []

    # -- the backend itself ---------------------------------------------------------------------------------
    @abstractmethod
    def info(self) -> BackendInfo: ...

    @abstractmethod
    def check(self) -> None:
        """Raise :class:`BackendUnavailable` with a clear message if the lake cannot be reached."""

    # -- capabilities -----------------------------------------------------------------------------------------
    @abstractmethod
    def location(self, key: str) -> str:
        """The catalog location of the lake folder ``key`` (``lake://<key>`` locally, ``s3://...`` on aws)."""

    @property
    def lake_folder(self) -> Path | None:
        """The lake as a folder on this machine, or ``None`` when it lives elsewhere (S3)."""
        return None

    def scratch_dir(self, prefix: str) -> Path:
        """A new empty folder for files on their way into the lake: on the lake's own disk where the lake is a
        folder (so that moving them in is a rename), else in the system's temporary folder. The caller removes it."""
        import tempfile

        parent = self.lake_folder
        if parent is not None:
            parent.mkdir(parents=True, exist_ok=True)
        return Path(tempfile.mkdtemp(prefix=prefix, dir=parent))

    def scan_cost_usd(self, scanned_bytes: int) -> float | None:
        """What scanning ``scanned_bytes`` costs, or ``None`` where scans are free."""
        return None

    def source_sql(self, table: TableDef) -> str:
        """The engine's own SELECT over a table's files (for LakeLens's own statements, never the analyst's)."""
        raise LakeLensError(f"The {self.engine_name} engine has no source SQL for {table.qualified_name}.")

    def result_location(self, query_id: str) -> str | None:
        """Where the engine wrote a query's whole result (Athena's CSV), or ``None`` where it keeps none."""
        return None

    # -- the one write path -----------------------------------------------------------------------------------
    def _writing(self, action: WriteAction, target: str) -> None:
        """Called before every change to the lake; each hook hears it and may refuse it by raising."""
        event = WriteEvent(action, target)
        for hook in self.write_hooks:
            hook(event)

    # -- objects --------------------------------------------------------------------------------------------
    @abstractmethod
    def list_objects(self, prefix: str = "", *, token: str | None = None, page_size: int = 1000) -> ObjectPage:
        """One page of folders and objects directly under ``prefix``; pass ``next_token`` for the next page."""

    @abstractmethod
    def stat(self, key: str) -> ObjectInfo: ...

    @abstractmethod
    def read(self, key: str, start: int | None = None, end: int | None = None) -> bytes:
        """The object's bytes, or bytes ``start`` up to but excluding ``end``."""

    def write(
        self, key: str, data: bytes, *, content_type: str | None = None, metadata: dict[str, str] | None = None
    ) -> ObjectInfo:
        """Write an object whole: readers see the old object or the new one, never a part."""
        self._writing("write", key)
        return self._write(key, data, content_type=content_type, metadata=metadata)

    @abstractmethod
    def _write(
        self, key: str, data: bytes, *, content_type: str | None = None, metadata: dict[str, str] | None = None
    ) -> ObjectInfo: ...

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
        """Write a local file as an object without holding it in memory. ``progress`` is told the bytes done so
        far and may raise to stop; ``move`` lets a backend rename the file into place instead of copying it."""
        self._writing("write", key)
        return self._write_file(key, path, content_type=content_type, metadata=metadata, progress=progress, move=move)

    def _write_file(
        self,
        key: str,
        path: Path,
        *,
        content_type: str | None = None,
        metadata: dict[str, str] | None = None,
        progress: Callable[[int], None] | None = None,
        move: bool = False,
    ) -> ObjectInfo:
        """The backends stream the file; this default reads it whole."""
        data = path.read_bytes()
        if progress:
            progress(len(data))
        return self._write(key, data, content_type=content_type, metadata=metadata)

    def replace_folder(self, prefix: str, folder: Path) -> None:
        """Make the lake folder ``prefix`` hold exactly the files of the local ``folder`` (moved in; what was under
        ``prefix`` before is gone)."""
        self._writing("replace_folder", prefix)
        self._replace_folder(prefix, folder)

    def _replace_folder(self, prefix: str, folder: Path) -> None:
        """Object by object: each file written, then the objects that were there before and are not now deleted."""
        from lib.paths import clean_key

        prefix = clean_key(prefix, folder=True)
        written = set()
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            key = prefix + path.relative_to(folder).as_posix()
            self._write_file(key, path, move=True)
            written.add(key)
        pending = [prefix]
        while pending:
            current = pending.pop()
            token: str | None = None
            while True:
                page = self.list_objects(current, token=token)
                for obj in page.objects:
                    if obj.key not in written:
                        self._delete(obj.key)
                pending.extend(page.folders)
                token = page.next_token
                if not token:
                    break

    def delete(self, key: str) -> None:
        self._writing("delete", key)
        self._delete(key)

    @abstractmethod
    def _delete(self, key: str) -> None: ...

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

    def create_database(self, name: str, description: str = "") -> None:
        self._writing("create_database", name)
        self._create_database(name, description)

    @abstractmethod
    def _create_database(self, name: str, description: str = "") -> None: ...

    def register_table(
        self, table: TableDef, *, partitions: list[Partition] | None = None, replace: bool = False
    ) -> TableDef:
        """Create (or with ``replace``, overwrite) a table and its partitions; returns it as stored."""
        self._writing("register_table", table.qualified_name)
        return self._register_table(table, partitions=partitions, replace=replace)

    @abstractmethod
    def _register_table(
        self, table: TableDef, *, partitions: list[Partition] | None = None, replace: bool = False
    ) -> TableDef: ...

    def drop_table(self, database: str, table: str) -> None:
        self._writing("drop_table", f"{database}.{table}")
        self._drop_table(database, table)

    @abstractmethod
    def _drop_table(self, database: str, table: str) -> None: ...

    def save_column_statistics(self, database: str, table: str, body: dict[str, Any]) -> None:
        """Keep a table's column statistics (lib/sql/profile.py) with the time they were computed."""
        self._writing("statistics", f"{database}.{table}")
        self._save_column_statistics(database, table, body)

    def _save_column_statistics(self, database: str, table: str, body: dict[str, Any]) -> None:
        """The default keeps them in the lake under ``<meta_prefix>statistics/``: moto has no Glue
        UpdateColumnStatisticsForTable to test against, so LakeLens does not call it."""
        self._write(
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

        ``params`` are the values of the SQL's ``:name`` parameters, bound as typed literals (lib/sql/params.py).
        """

    @abstractmethod
    def cancel_query(self, query_id: str) -> None: ...

    def run_statement(
        self,
        sql: str,
        *,
        database: str | None = None,
        on_poll: Callable[[str, int, str], None] | None = None,
        cancel: threading.Event | None = None,
        timeout_s: int | None = None,
    ) -> QueryStats:
        """Run one of LakeLens's own statements that write (a curate's CTAS or INSERT INTO), never the analyst's
        SQL, which goes through the guard in :meth:`run_query`. ``on_poll`` hears (state, bytes scanned so far,
        query id) at every poll; ``cancel`` stops it."""
        self._writing("sql", sql)
        return self._run_statement(sql, database=database, on_poll=on_poll, cancel=cancel, timeout_s=timeout_s)

    def _run_statement(
        self,
        sql: str,
        *,
        database: str | None = None,
        on_poll: Callable[[str, int, str], None] | None = None,
        cancel: threading.Event | None = None,
        timeout_s: int | None = None,
    ) -> QueryStats:
        raise LakeLensError(f"The {self.engine_name} engine runs no statements of LakeLens's own.")

    def explain(self, sql: str, *, params: Mapping[str, ParamValue] | None = None, database: str | None = None) -> Plan:
        """The engine's plan for a query, as a tree (lib/sql/plan.py); nothing is read but the catalog."""
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
