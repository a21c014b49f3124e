"""The embedded backend: a lake folder, a Glue-compatible catalog stored in it, DuckDB running Athena SQL.

Layout of the lake folder::

    <lake>/...                                  the data: any files, any folders
    <lake>/<meta_prefix>catalog/<db>/_database.json
    <lake>/<meta_prefix>catalog/<db>/<table>.json             Glue ``Table`` shape, location ``lake://<key>``
    <lake>/<meta_prefix>catalog/<db>/<table>.partitions.json  Glue ``Partition`` shapes

DuckDB runs with external access switched off except for the lake folder, extensions neither installed nor
loaded, and its configuration locked, so even SQL that slipped past the guard could not read outside the lake.
"""

from __future__ import annotations

import hashlib
import json
import mimetypes
import os
import re
import shutil
import tempfile
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import duckdb
import pandas as pd
import pyarrow as pa

from lib import sql as sqlmod
from lib.backends.base import (
    Backend,
    BackendInfo,
    DatabaseInfo,
    ObjectInfo,
    ObjectPage,
    PartitionPage,
    QueryResult,
    QueryStats,
    unique_columns,
)
from lib.catalog import (
    LAKE_SCHEME,
    Column,
    Partition,
    TableDef,
    athena_ddl,
    glue_type_to_duckdb,
    now,
    validate_identifier,
)
from lib.errors import (
    BackendUnavailable,
    CatalogError,
    LakeLensError,
    NotFound,
    ParameterError,
    PathError,
    QueryCancelled,
    QueryFailed,
    QueryTimeout,
    SqlError,
    TableNotFound,
)
from lib.paths import clean_key
from lib.settings import Settings
from lib.sql import params as paramsmod
from lib.sql import plan as planmod
from lib.sql.params import ParamValue

_TMP_MARK = ".lakelens-tmp-"
_LISTING_TTL_S = 1.0  # a table's file list is reused this long (the queries of one page load)
# Athena reads rows of up to 32 MB from text files; DuckDB's CSV reader stops at 2 MB lines unless told.
MAX_LINE_BYTES = 33 * 2**20


def atomic_write(path: Path, data: bytes) -> None:
    """Write to a temporary file beside ``path``, flush it to disk, then rename over ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=_TMP_MARK, dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp_name, path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise


COPY_CHUNK = 8 * 2**20


def atomic_copy(source: Path, path: Path, progress: Callable[[int], None] | None = None, move: bool = False) -> None:
    """:func:`atomic_write` for a file: copied in chunks (or renamed, if ``move`` and on the same disk), flushed,
    then renamed over ``path``; a failure (or ``progress`` raising) leaves ``path`` as it was."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if move:
        try:
            os.replace(source, path)
            if progress:
                progress(path.stat().st_size)
            return
        except OSError:
            pass  # another disk: copy
    fd, tmp_name = tempfile.mkstemp(prefix=_TMP_MARK, dir=path.parent)
    try:
        done = 0
        with os.fdopen(fd, "wb") as handle, source.open("rb") as reader:
            while chunk := reader.read(COPY_CHUNK):
                handle.write(chunk)
                done += len(chunk)
                if progress:
                    progress(done)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp_name, path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise


def _hidden(name: str) -> bool:
    """Files Hive/Athena skip inside a table location, and our own temporary files."""
    return name.startswith((".", "_")) or _TMP_MARK in name


class LocalBackend(Backend):
    kind = "local"
    engine_name = "DuckDB"

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        self.root = settings.lake_path
        self.meta = settings.meta_prefix
        self._lock = threading.RLock()
        self._con: duckdb.DuckDBPyConnection | None = None
        self._views: dict[str, tuple[Any, ...]] = {}
        self._running: dict[str, duckdb.DuckDBPyConnection] = {}
        self._listings: dict[str, tuple[float, list[tuple[Path, int]]]] = {}
        self._cancelled: OrderedDict[str, None] = OrderedDict()  # cancels that may arrive before the query runs

    # -- the backend ----------------------------------------------------------------------------------------
    def info(self) -> BackendInfo:
        return BackendInfo(kind="local", lake=str(self.root), engine=f"DuckDB {duckdb.__version__}")

    def check(self) -> None:
        if not self.root.exists():
            raise BackendUnavailable(
                f"The lake folder {self.root} does not exist. Run `python -m lib demo` to build the demo lake."
            )
        if not self.root.is_dir():
            raise BackendUnavailable(f"LAKELENS_LAKE_ROOT points at {self.root}, which is not a folder.")
        if not os.access(self.root, os.R_OK | os.X_OK):
            raise BackendUnavailable(f"The lake folder {self.root} cannot be read by this user.")

    # -- paths ----------------------------------------------------------------------------------------------
    def path_for(self, key: str, *, folder: bool = False) -> Path:
        """The file for ``key``; refuses keys that leave the lake, symlinks included."""
        normal = clean_key(key, folder=folder)
        path = self.root / normal if normal else self.root
        try:
            resolved = path.resolve()
        except (OSError, RuntimeError):  # Python 3.11 raises RuntimeError for a symlink loop
            raise PathError(f"The key {key!r} is a link that loops back on itself; LakeLens refuses it.") from None
        root = self.root.resolve()
        if resolved != root and root not in resolved.parents:
            raise PathError(f"The key {key!r} points outside the lake (through a link); LakeLens refuses it.")
        return path

    # -- capabilities ---------------------------------------------------------------------------------------
    def location(self, key: str) -> str:
        return LAKE_SCHEME + clean_key(key, folder=True)

    @property
    def lake_folder(self) -> Path:
        return self.root

    def _replace_folder(self, prefix: str, folder: Path) -> None:
        """A rename: ``folder`` (made by :meth:`scratch_dir`, on the lake's disk) becomes the lake folder."""
        import shutil

        target = self.path_for(prefix, folder=True)
        if target.exists():
            shutil.rmtree(target)
        target.parent.mkdir(parents=True, exist_ok=True)
        folder.rename(target)
        self._forget_listings()

    def location_key(self, location: str) -> str | None:
        if location.startswith(LAKE_SCHEME):
            return clean_key(location[len(LAKE_SCHEME) :], folder=True)
        return None

    def _catalog_dir(self) -> Path:
        return self.root / self.meta / "catalog"

    # -- objects --------------------------------------------------------------------------------------------
    def list_objects(self, prefix: str = "", *, token: str | None = None, page_size: int = 1000) -> ObjectPage:
        prefix = clean_key(prefix, folder=True)
        directory = self.path_for(prefix, folder=True)
        if not directory.is_dir():
            return ObjectPage(prefix, [], [], None)
        root = self.root.resolve()
        try:
            scanned = [entry for entry in os.scandir(directory) if _TMP_MARK not in entry.name]
        except OSError as exc:
            raise BackendUnavailable(f"Cannot list {prefix or 'the lake root'}: {exc.strerror}.") from exc
        kinds = {entry.name: _entry_kind(entry, root) for entry in scanned}
        entries = sorted(
            (entry for entry in scanned if kinds[entry.name] is not None),
            key=lambda entry: entry.name + ("/" if kinds[entry.name] == "dir" else ""),
        )
        folders: list[str] = []
        objects: list[ObjectInfo] = []
        next_token = None
        for entry in entries:
            is_dir = kinds[entry.name] == "dir"
            name = entry.name + ("/" if is_dir else "")
            if token is not None and name <= token:
                continue
            if len(folders) + len(objects) >= page_size:
                next_token = _last_name(folders, objects, prefix)
                break
            if is_dir:
                folders.append(prefix + name)
            else:
                try:
                    stat = entry.stat()
                except OSError:  # removed since the folder was read
                    continue
                objects.append(
                    ObjectInfo(
                        key=prefix + entry.name,
                        size=stat.st_size,
                        last_modified=datetime.fromtimestamp(stat.st_mtime, UTC),
                        etag=_etag(stat),
                    )
                )
        return ObjectPage(prefix, folders, objects, next_token)

    def stat(self, key: str) -> ObjectInfo:
        path = self.path_for(key)
        if not path.is_file():
            raise NotFound(f"There is no object {key!r} in the lake.")
        stat = path.stat()
        content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        metadata: dict[str, str] = {}
        sidecar = self._metadata_path(key)
        if sidecar.is_file():
            metadata = json.loads(sidecar.read_text("utf-8"))
        return ObjectInfo(
            key=clean_key(key),
            size=stat.st_size,
            last_modified=datetime.fromtimestamp(stat.st_mtime, UTC),
            etag=_etag(stat),
            storage_class="LOCAL",
            content_type=content_type,
            metadata=metadata,
        )

    def _metadata_path(self, key: str) -> Path:
        digest = hashlib.sha256(clean_key(key).encode()).hexdigest()
        return self.root / self.meta / "object-metadata" / f"{digest}.json"

    def read(self, key: str, start: int | None = None, end: int | None = None) -> bytes:
        path = self.path_for(key)
        if not path.is_file():
            raise NotFound(f"There is no object {key!r} in the lake.")
        with path.open("rb") as handle:
            if start:
                handle.seek(start)
            if end is None:
                return handle.read()
            return handle.read(max(0, end - (start or 0)))

    def _write(
        self, key: str, data: bytes, *, content_type: str | None = None, metadata: dict[str, str] | None = None
    ) -> ObjectInfo:
        normal = clean_key(key)
        if not normal or normal.endswith("/"):
            raise PathError("An object needs a key that names a file, not a folder.")
        path = self.path_for(normal)
        atomic_write(path, data)
        self._forget_listings()
        if metadata:
            atomic_write(self._metadata_path(normal), json.dumps(metadata).encode())
        return self.stat(normal)

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
        normal = clean_key(key)
        if not normal or normal.endswith("/"):
            raise PathError("An object needs a key that names a file, not a folder.")
        atomic_copy(path, self.path_for(normal), progress, move)
        self._forget_listings()
        if metadata:
            atomic_write(self._metadata_path(normal), json.dumps(metadata).encode())
        return self.stat(normal)

    def _delete(self, key: str) -> None:
        path = self.path_for(key)
        if path.is_file():
            path.unlink()
            self._forget_listings()
            self._metadata_path(key).unlink(missing_ok=True)
            parent = path.parent
            while parent != self.root and parent.is_dir() and not any(parent.iterdir()):
                parent.rmdir()
                parent = parent.parent

    # -- catalog --------------------------------------------------------------------------------------------
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

    def _create_database(self, name: str, description: str = "") -> None:
        validate_identifier(name, "database")
        marker = self._catalog_dir() / name / "_database.json"
        if not marker.is_file():
            body = {"Name": name, "Description": description, "CreateTime": now().isoformat()}
            atomic_write(marker, json.dumps(body, indent=2).encode())

    def _table_path(self, database: str, table: str) -> Path:
        if not re.fullmatch(r"[A-Za-z0-9_]+", database) or not re.fullmatch(r"[A-Za-z0-9_]+", table):
            raise TableNotFound(f"Table {database}.{table} does not exist in the catalog.")
        return self._catalog_dir() / database.lower() / f"{table.lower()}.json"

    def list_tables(self, database: str) -> list[TableDef]:
        directory = self._catalog_dir() / database
        if not re.fullmatch(r"[A-Za-z0-9_]+", database) or not (directory / "_database.json").is_file():
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

    def _partitions_path(self, database: str, table: str) -> Path:
        return self._table_path(database, table).with_suffix(".partitions.json")

    def _load_partitions(self, database: str, table: str) -> list[Partition]:
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
        partitions = self._load_partitions(database, table)
        start = int(token) if token else 0
        page = partitions[start : start + page_size]
        next_token = str(start + page_size) if start + page_size < len(partitions) else None
        return PartitionPage(page, next_token)

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
                    walk(f"{key}{entry.name}/", depth + 1, (*values, _unescape(entry.name[len(expected) :])))

        walk(base_key, 0, ())
        return found

    def _drop_table(self, database: str, table: str) -> None:
        path = self._table_path(database, table)
        if not path.is_file():
            raise TableNotFound(f"Table {database}.{table} does not exist in the catalog.")
        path.unlink()
        self._partitions_path(database, table).unlink(missing_ok=True)
        self._table_path(database, table).with_suffix(".statistics.json").unlink(missing_ok=True)

    def _save_column_statistics(self, database: str, table: str, body: dict[str, Any]) -> None:
        """Next to the table in the local catalog: ``<db>/<table>.statistics.json``."""
        path = self._table_path(database, table)
        if not path.is_file():
            raise TableNotFound(f"Table {database}.{table} does not exist in the catalog.")
        atomic_write(path.with_suffix(".statistics.json"), json.dumps(body, indent=2, default=str).encode())

    def column_statistics(self, database: str, table: str) -> dict[str, Any] | None:
        path = self._table_path(database, table).with_suffix(".statistics.json")
        if not path.is_file():
            return None
        loaded: dict[str, Any] = json.loads(path.read_text("utf-8"))
        return loaded

    # -- the engine -----------------------------------------------------------------------------------------
    def _connection(self) -> duckdb.DuckDBPyConnection:
        with self._lock:
            if self._con is None:
                con = duckdb.connect(
                    ":memory:",
                    config={"autoinstall_known_extensions": False, "autoload_known_extensions": False},
                )
                root = str(self.root.resolve())
                con.execute("SET allowed_directories = $dirs", {"dirs": [root + os.sep]})
                con.execute("SET enable_external_access = false")
                con.execute("SET lock_configuration = true")
                self._con = con
            return self._con

    def source_sql(self, table: TableDef) -> str:
        """The SELECT (DuckDB's dialect) that reads a table's files as this engine's views do: the catalog's
        columns and types, the table's SerDe, Hive partitions. For LakeLens's own statements (a curate), never for
        the analyst's SQL, which goes through the guard."""
        return self._view_sql(table, self.table_files(table))

    def table_files(self, table: TableDef) -> list[Path]:
        """The data files of a table: every non-hidden file under its location."""
        return [path for path, _ in self._table_files(table)]

    def _table_files(self, table: TableDef) -> list[tuple[Path, int]]:
        """(file, size) under the table's location; listed once per second at most, since a page's queries
        arrive together and the walk costs more than the query's bind on a table with many files."""
        key = self.location_key(table.location)
        if key is None:
            raise CatalogError(f"Table {table.qualified_name} has location {table.location!r}, outside the lake.")
        base = self.path_for(key, folder=True)
        now = time.monotonic()
        with self._lock:
            cached = self._listings.get(str(base))
        if cached is not None and now - cached[0] < _LISTING_TTL_S:
            return cached[1]
        files: list[tuple[Path, int]] = []
        if base.is_dir():
            self._walk(table, base, files)
        with self._lock:
            self._listings[str(base)] = (now, files)
        return files

    def _walk(self, table: TableDef, directory: Path, files: list[tuple[Path, int]]) -> None:
        root = self.root.resolve()
        entries = sorted(os.scandir(directory), key=lambda entry: entry.name)
        for entry in entries:
            if _hidden(entry.name):
                continue
            path = Path(entry.path)
            if entry.is_symlink():
                if entry.is_dir():
                    continue  # not followed, as os.walk and Hive don't
                try:
                    resolved = path.resolve(strict=True)
                except (OSError, RuntimeError):  # a link that leads nowhere or loops
                    continue
                if root not in resolved.parents:
                    shown = path.relative_to(self.root).as_posix()
                    raise PathError(
                        f"Table {table.qualified_name} has a file that links outside the lake ({shown}); LakeLens "
                        "does not read it: remove the link or copy the file into the lake."
                    )
                if resolved.is_file():
                    files.append((resolved, resolved.stat().st_size))
            elif entry.is_dir(follow_symlinks=False):
                self._walk(table, path, files)
            elif entry.is_file(follow_symlinks=False):  # not a pipe or a device, which a read would hang on
                files.append((path, entry.stat(follow_symlinks=False).st_size))

    def _prepare_tables(
        self, con: duckdb.DuckDBPyConnection, statement: sqlmod.Statement
    ) -> tuple[dict[sqlmod.TableRef, str], list[TableDef], int]:
        """A DuckDB view per catalog table the statement reads (information_schema from the catalog itself);
        returns the view names, the tables and the bytes in their files."""
        views: dict[sqlmod.TableRef, str] = {}
        tables: list[TableDef] = []
        scanned = 0
        for ref in statement.tables:
            if ref.database == sqlmod.INFORMATION_SCHEMA:
                views[ref] = self._information_schema(con, ref.table)
                continue
            table = self.get_table(ref.database, ref.table)
            tables.append(table)
            scanned += self._ensure_view(con, table)
            views[ref] = f"{table.database}.{table.name}"
        return views, tables, scanned

    def _information_schema(self, con: duckdb.DuckDBPyConnection, name: str) -> str:
        """``information_schema.tables``/``columns``/``schemata`` as Athena shows them, built from the catalog
        (DuckDB's own information_schema would describe LakeLens's views instead)."""
        catalog = sqlmod.DEFAULT_CATALOG
        databases = [db.name for db in self.list_databases()]
        if name == "schemata":
            frame = pd.DataFrame(
                {"catalog_name": [catalog] * (len(databases) + 1), "schema_name": [*databases, "information_schema"]}
            )
        elif name in ("tables", "columns"):
            rows: list[dict[str, Any]] = []
            for database in databases:
                for table in self.list_tables(database):
                    base = {"table_catalog": catalog, "table_schema": database, "table_name": table.name}
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
                ["table_type"]
                if name == "tables"
                else [
                    "column_name",
                    "ordinal_position",
                    "column_default",
                    "is_nullable",
                    "data_type",
                    "comment",
                    "extra_info",
                ]
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
                    [
                        pa.field(f.name, pa.int64() if f.name == "ordinal_position" else pa.string())
                        for f in arrow.schema
                    ]
                )
            )
        with self._lock:
            scratch = f"lakelens_info_{uuid.uuid4().hex}"
            con.register(scratch, arrow)
            try:
                con.execute('CREATE SCHEMA IF NOT EXISTS "lakelens_information_schema"')
                con.execute(
                    f'CREATE OR REPLACE TABLE "lakelens_information_schema"."{name}" AS SELECT * FROM {scratch}'
                )
            finally:
                con.unregister(scratch)
        return f"lakelens_information_schema.{name}"

    def _ensure_view(self, con: duckdb.DuckDBPyConnection, table: TableDef) -> int:
        """Create or refresh the DuckDB view for a catalog table; returns the bytes in its files."""
        listed = self._table_files(table)
        files = [path for path, _ in listed]
        signature = (json.dumps(table.to_glue_input(), sort_keys=True), tuple(str(f) for f in files))
        name = f'"{table.database}"."{table.name}"'
        size = sum(size for _, size in listed)
        with self._lock:
            if self._views.get(table.qualified_name) == signature:
                return size
            con.execute(f'CREATE SCHEMA IF NOT EXISTS "{table.database}"')
            con.execute(f"CREATE OR REPLACE VIEW {name} AS {self._view_sql(table, files)}")
            self._views[table.qualified_name] = signature
        return size

    def _view_sql(self, table: TableDef, files: list[Path]) -> str:
        columns = table.columns
        keys = table.partition_keys
        select = ", ".join(
            [
                f"CAST({sqlmod.quote_identifier(c.name)} AS {glue_type_to_duckdb(c.type)}) AS {sqlmod.quote_identifier(c.name)}"
                for c in keys
            ]
        )
        names = ", ".join(sqlmod.quote_identifier(c.name) for c in columns)
        projection = ", ".join(part for part in (names, select) if part)
        if not files:
            empty = ", ".join(
                f"CAST(NULL AS {glue_type_to_duckdb(c.type)}) AS {sqlmod.quote_identifier(c.name)}"
                for c in table.all_columns
            )
            return f"SELECT {empty} WHERE false"
        file_list = "[" + ", ".join(_literal(str(f)) for f in files) + "]"
        hive = "true" if keys else "false"
        fmt = table.format
        if fmt == "parquet":
            source = f"read_parquet({file_list}, hive_partitioning = {hive}, union_by_name = true)"
        elif fmt == "json":
            spec = _columns_struct(columns)
            source = (
                f"read_json({file_list}, format = 'newline_delimited', columns = {spec}, hive_partitioning = {hive}, "
                f"maximum_object_size = {MAX_LINE_BYTES})"
            )
        else:
            spec = _columns_struct(columns)
            quote = "'\"'" if "OpenCSVSerde" in table.serde_library else "''"
            source = (
                f"read_csv({file_list}, delim = {_literal(table.delimiter)}, header = {str(table.has_header).lower()}, "
                f"columns = {spec}, quote = {quote}, escape = {quote}, auto_detect = false, "
                f"hive_partitioning = {hive}, null_padding = true, max_line_size = {MAX_LINE_BYTES})"
            )
        return f"SELECT {projection} FROM {source}"

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
        limit = max_rows or self.settings.max_rows
        default_db = database or self.settings.database
        statement = sqlmod.check(sql, allow_writes=self.settings.allow_writes, default_database=default_db)
        query_id = query_id or str(uuid.uuid4())
        started = time.perf_counter()
        if statement.kind == "write":
            raise SqlError("The local engine runs queries only; ingest files on the Lake page to add tables.")
        if statement.kind in ("show", "describe"):
            paramsmod.bind(sql, params)
            frame = self._show(statement, default_db)
            return self._result(frame, frame, query_id, started, 0, limit, sql)
        con = self._connection()
        views, tables, scanned = self._prepare_tables(con, statement)
        bound = paramsmod.bind(sql, params, tables)
        if paramsmod.unnamed_markers(statement.tree):
            raise ParameterError(paramsmod.UNNAMED_MESSAGE)
        duck_sql = sqlmod.to_duckdb(statement, views, _view_column_map(tables), _column_types(tables))
        if statement.kind == "explain":
            duck_sql = "EXPLAIN " + duck_sql
        cursor = con.cursor()
        with self._lock:
            self._running[query_id] = cursor
            cancelled_early = query_id in self._cancelled
        if cancelled_early:
            self._finish(query_id, cursor)
            raise QueryCancelled("The query was cancelled.")
        timer = threading.Timer(timeout_s or self.settings.query_timeout_s, cursor.interrupt)
        timer.start()
        try:
            reader = _athena_types(cursor.sql(duck_sql, params=bound.values or None)).to_arrow_reader(
                max(limit + 1, 2048)
            )
            kept: list[pa.RecordBatch] = []
            kept_rows = 0
            total = 0
            for batch in reader:
                total += batch.num_rows
                if kept_rows <= limit:
                    kept.append(batch.slice(0, limit + 1 - kept_rows))
                    kept_rows += min(batch.num_rows, limit + 1 - kept_rows)
            schema = reader.schema
        except duckdb.InterruptException:
            if not timer.is_alive():
                raise QueryTimeout(
                    f"The query ran longer than {timeout_s or self.settings.query_timeout_s} s and was stopped; "
                    "raise LAKELENS_QUERY_TIMEOUT_S or narrow the query."
                ) from None
            raise QueryCancelled("The query was cancelled.") from None
        except duckdb.Error as exc:
            if "No files found" in str(exc):  # another process replaced the table's files within the listing's second
                self._forget_listings()
                raise QueryFailed("The table's files changed as the query started; run it again.") from None
            raise _engine_error(exc) from None
        finally:
            timer.cancel()
            cancelled_late = self._finish(query_id, cursor)
        if cancelled_late:  # DuckDB may not see an interrupt sent just before it started executing
            raise QueryCancelled("The query was cancelled.")
        table = pa.Table.from_batches(kept, schema=schema) if kept else schema.empty_table()
        table = table.rename_columns(unique_columns(table.column_names))
        frame = table.slice(0, limit).to_pandas()
        return QueryResult(
            frame=frame,
            stats=QueryStats(
                engine=f"DuckDB {duckdb.__version__}",
                query_id=query_id,
                runtime_s=time.perf_counter() - started,
                bytes_scanned=scanned,
                bytes_estimated=True,
                rows=len(frame),
                total_rows=total,
                truncated=total > limit,
                sql_executed=duck_sql,
            ),
        )

    def explain(
        self, sql: str, *, params: Mapping[str, ParamValue] | None = None, database: str | None = None
    ) -> planmod.Plan:
        default_db = database or self.settings.database
        statement = sqlmod.check(sql, allow_writes=False, default_database=default_db)
        if statement.kind == "explain":
            statement = sqlmod.check(statement.command, allow_writes=False, default_database=default_db)
        if statement.kind != "query":
            raise SqlError("Plan works on queries (SELECT, WITH, VALUES); SHOW and DESCRIBE read only the catalog.")
        con = self._connection()
        views, tables, _ = self._prepare_tables(con, statement)
        bound = paramsmod.bind(sql, params, tables)
        duck_sql = sqlmod.to_duckdb(statement, views, _view_column_map(tables), _column_types(tables))
        cursor = con.cursor()
        try:
            rows = cursor.execute("EXPLAIN (FORMAT JSON) " + duck_sql, bound.values or None).fetchall()
        except duckdb.Error as exc:
            raise _engine_error(exc) from None
        finally:
            cursor.close()
        text = str(rows[0][1]) if rows and len(rows[0]) > 1 else "[]"
        return planmod.from_duckdb(text, [t.qualified_name for t in tables], f"DuckDB {duckdb.__version__}")

    def _result(
        self, frame: pd.DataFrame, full: pd.DataFrame, query_id: str, started: float, scanned: int, limit: int, sql: str
    ) -> QueryResult:
        return QueryResult(
            frame=frame.head(limit),
            stats=QueryStats(
                engine="LakeLens catalog",
                query_id=query_id,
                runtime_s=time.perf_counter() - started,
                bytes_scanned=scanned,
                rows=min(len(full), limit),
                total_rows=len(full),
                truncated=len(full) > limit,
                sql_executed=sql,
            ),
        )

    def _show(self, statement: sqlmod.Statement, default_db: str) -> pd.DataFrame:
        """SHOW and DESCRIBE answered from the catalog, in the shapes Athena returns."""
        if statement.kind == "describe":
            assert statement.tree is not None
            ref = statement.tables[0] if statement.tables else None
            if ref is None:
                raise SqlError("DESCRIBE needs a table name.")
            table = self.get_table(ref.database, ref.table)
            return _describe_frame(table)
        words = statement.command.split()
        upper = [w.upper() for w in words]
        if upper[:1] in (["DATABASES"], ["SCHEMAS"]):
            return pd.DataFrame({"database_name": [db.name for db in self.list_databases()]})
        if upper[:1] == ["TABLES"]:
            database = words[2] if len(words) >= 3 and upper[1] in ("IN", "FROM") else default_db
            return pd.DataFrame({"tab_name": [t.name for t in self.list_tables(database.strip('"`').lower())]})
        if upper[:1] == ["COLUMNS"] and len(words) >= 3 and upper[1] in ("IN", "FROM"):
            db, _, name = words[2].strip('"`').rpartition(".")
            table = self.get_table((db or default_db).lower(), name.lower())
            return pd.DataFrame({"field": [c.name for c in table.all_columns]})
        if upper[:2] == ["CREATE", "TABLE"] and len(words) >= 3:
            db, _, name = words[2].strip('"`').rpartition(".")
            table = self.get_table((db or default_db).strip('"`').lower(), name.strip('"`').lower())
            return pd.DataFrame({"createtab_stmt": athena_ddl(table).splitlines()})
        if upper[:1] == ["PARTITIONS"] and len(words) >= 2:
            db, _, name = words[1].strip('"`').rpartition(".")
            table = self.get_table((db or default_db).lower(), name.lower())
            parts = self._load_partitions(table.database, table.name)
            return pd.DataFrame({"partition": [p.spec(table.partition_keys) for p in parts]})
        raise SqlError(
            f"SHOW {statement.command} is not supported locally; try SHOW DATABASES, SHOW TABLES IN db, SHOW COLUMNS IN t, SHOW PARTITIONS t or SHOW CREATE TABLE t."
        )

    def _finish(self, query_id: str, cursor: duckdb.DuckDBPyConnection) -> bool:
        """Forget a finished query; True if a cancel was asked for it."""
        with self._lock:
            self._running.pop(query_id, None)
            cancelled = self._cancelled.pop(query_id, 0) is None
        cursor.close()
        return cancelled

    def cancel_query(self, query_id: str) -> None:
        """Interrupt a running query; a cancel that arrives before the query starts is remembered."""
        with self._lock:
            cursor = self._running.get(query_id)
            self._cancelled[query_id] = None
            while len(self._cancelled) > 1000:
                self._cancelled.popitem(last=False)
        if cursor is not None:
            cursor.interrupt()

    def export(
        self,
        sql: str,
        path: Path,
        fmt: Literal["csv", "parquet", "json"],
        database: str | None = None,
        params: Mapping[str, ParamValue] | None = None,
    ) -> int:
        """Stream a whole query result to ``path`` (csv, parquet or JSON lines) without holding it in memory."""
        import pyarrow.csv as pacsv
        import pyarrow.parquet as pq

        default_db = database or self.settings.database
        statement = sqlmod.check(sql, allow_writes=False, default_database=default_db)
        if statement.kind in ("show", "describe"):
            frame = self._show(statement, default_db)
            reader: Any = pa.Table.from_pandas(frame, preserve_index=False).to_reader()
        else:
            con = self._connection()
            views, tables, _ = self._prepare_tables(con, statement)
            bound = paramsmod.bind(sql, params, tables)
            cursor = con.cursor()
            try:
                duck_sql = sqlmod.to_duckdb(statement, views, _view_column_map(tables), _column_types(tables))
                reader = _athena_types(cursor.sql(duck_sql, params=bound.values or None)).to_arrow_reader(100_000)
            except duckdb.Error as exc:
                raise _engine_error(exc) from None
        names = unique_columns(reader.schema.names)
        if names != reader.schema.names:
            renamed = pa.schema([field.with_name(name) for field, name in zip(reader.schema, names, strict=True)])
            reader = pa.RecordBatchReader.from_batches(
                renamed, (pa.RecordBatch.from_arrays(b.columns, schema=renamed) for b in reader)
            )
        rows = 0
        tmp = path.with_name(path.name + _TMP_MARK)
        try:
            if fmt == "parquet":
                with pq.ParquetWriter(tmp, reader.schema) as writer:
                    for batch in reader:
                        writer.write_batch(batch)
                        rows += batch.num_rows
            elif fmt == "json":
                with tmp.open("w", encoding="utf-8") as handle:
                    for batch in reader:
                        batch.to_pandas().to_json(handle, orient="records", lines=True, date_format="iso")
                        rows += batch.num_rows
            else:
                with pacsv.CSVWriter(tmp, reader.schema) as csv_writer:
                    for batch in reader:
                        csv_writer.write_batch(batch)
                        rows += batch.num_rows
            os.replace(tmp, path)
        except duckdb.Error as exc:
            raise _engine_error(exc) from None
        except OSError as exc:
            raise LakeLensError(f"Cannot write {path}: {exc.strerror}.") from None
        finally:
            tmp.unlink(missing_ok=True)
        return rows

    def close(self) -> None:
        with self._lock:
            if self._con is not None:
                self._con.close()
                self._con = None
                self._views.clear()

    def remove_tree(self, key: str) -> None:
        """Delete a folder and everything under it (used to roll back a failed write)."""
        path = self.path_for(key, folder=True)
        if path.is_dir() and path != self.root:
            shutil.rmtree(path)
            self._forget_listings()

    def _forget_listings(self) -> None:
        """The lake changed through this backend: table file lists are listed again on the next query."""
        with self._lock:
            self._listings.clear()


def _entry_kind(entry: os.DirEntry[str], root: Path) -> Literal["dir", "file"] | None:
    """``dir`` or ``file``; ``None`` for what is not part of the lake and is left out of listings: a link that leads
    outside the lake, nowhere or round in a loop, and special files (pipes, sockets, devices) a read would hang on."""
    try:
        if entry.is_symlink():
            target = Path(entry.path).resolve(strict=True)
            if target != root and root not in target.parents:
                return None
        if entry.is_dir():
            return "dir"
        return "file" if entry.is_file() else None
    except (OSError, RuntimeError):
        return None


def _athena_types(relation: duckdb.DuckDBPyRelation) -> duckdb.DuckDBPyRelation:
    """DuckDB's SUM of integers is a HUGEINT (a Decimal in pandas); Athena's is a bigint: cast those columns."""
    types = [str(t).upper() for t in relation.types]
    if "HUGEINT" not in types and "UHUGEINT" not in types:
        return relation
    parts = [
        f"CAST({sqlmod.quote_identifier(name)} AS BIGINT) AS {sqlmod.quote_identifier(name)}"
        if kind in ("HUGEINT", "UHUGEINT")
        else sqlmod.quote_identifier(name)
        for name, kind in zip(relation.columns, types, strict=True)
    ]
    return relation.project(", ".join(parts))


def _column_types(tables: list[TableDef]) -> dict[str, str]:
    types: dict[str, str] = {}
    for table in tables:
        for column in table.all_columns:
            types.setdefault(column.name.lower(), column.type)
    return types


def _describe_frame(table: TableDef) -> pd.DataFrame:
    rows = [(c.name, c.type, c.comment) for c in table.columns]
    rows += [(c.name, c.type, (c.comment + " (partition key)").strip()) for c in table.partition_keys]
    return pd.DataFrame(rows, columns=["col_name", "data_type", "comment"])


def _engine_error(exc: Exception) -> Exception:
    """DuckDB's message, first line, with names tidied; column and table errors say which."""
    text = str(exc).strip()
    first = text.splitlines()[0] if text else type(exc).__name__
    first = re.sub(
        r"^(Binder|Catalog|Parser|Conversion|Invalid Input|Permission|IO|Out of Memory|Not implemented) Error: ",
        "",
        first,
    )
    if isinstance(exc, duckdb.PermissionException):
        return QueryFailed("The query tried to read outside the lake and was refused.")
    match = re.search(r"(Scalar|Aggregate|Table) Function with name (\w+) does not exist", first)
    if match:
        return SqlError(
            f"Function {match.group(2)}() has no translation for the local engine (DuckDB); rewrite it or run on Athena."
        )
    if isinstance(exc, duckdb.ParserException):
        return SqlError(f"The local engine could not parse the translated SQL: {first}")
    if isinstance(exc, (duckdb.BinderException, duckdb.CatalogException)):
        return SqlError(first)
    return QueryFailed(f"The query failed: {first}")


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _view_column_map(tables: list[TableDef]) -> sqlmod.ViewColumns:
    """Every view's column types by schema and name, for the translation's integer division."""
    columns: sqlmod.ViewColumns = {}
    for table in tables:
        columns.setdefault(table.database, {})[table.name] = _view_columns(table)
    return columns


def _view_columns(table: TableDef) -> dict[str, str]:
    """A view's column types, as the SQL translation needs them to divide integers the way Athena does."""
    return {column.name.lower(): glue_type_to_duckdb(column.type) for column in table.all_columns}


def _columns_struct(columns: list[Column]) -> str:
    return "{" + ", ".join(f"{_literal(c.name)}: {_literal(glue_type_to_duckdb(c.type))}" for c in columns) + "}"


def _etag(stat: os.stat_result) -> str:
    return f'"{stat.st_size:x}-{stat.st_mtime_ns:x}"'


def _unescape(value: str) -> str:
    from urllib.parse import unquote

    return unquote(value)


def _last_name(folders: list[str], objects: list[ObjectInfo], prefix: str) -> str:
    names = [f[len(prefix) :] for f in folders] + [o.key[len(prefix) :] for o in objects]
    return max(names)
