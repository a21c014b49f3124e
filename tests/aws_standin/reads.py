"""Glue and S3 for a query: a table's definition and partitions from Glue, its objects from S3 into DuckDB, and
CTAS/INSERT results written back as Parquet with their partitions registered."""

from __future__ import annotations

import io
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import duckdb
from botocore.exceptions import ClientError

from tests.aws_standin.errors import AthenaFailure
from tests.aws_standin.formats import (
    OPEN_CSV_SERDE,
    decompress,
    header_lines,
    json_rows,
    lazy_rows,
    open_csv_rows,
    text_cast,
)
from tests.aws_standin.values import duck_type, quote_identifier, sql_literal

if TYPE_CHECKING:
    from tests.aws_standin.app import StandIn
    from tests.aws_standin.query import Execution


HIVE_NULL_PARTITION = "__HIVE_DEFAULT_PARTITION__"  # the partition value Hive (and Athena) read as NULL


class TableStore:
    """What a query reads from Glue and S3 and writes back; mixed into :class:`~tests.aws_standin.query.Query`."""

    standin: StandIn
    execution: Execution
    glue: Any
    s3: Any

    def write_parquet(
        self, database: str, name: str, location: str, storage: dict[str, Any], keys: list[str], data: Any
    ) -> int:
        """One Parquet object per partition (``key=value/``, NULL as Hive's default folder), as Athena writes them;
        more than 100 partitions in one statement fail as on Athena."""
        from urllib.parse import quote

        import pyarrow as pa
        import pyarrow.compute as pc
        import pyarrow.parquet as pq

        groups: list[tuple[list[str], Any]] = [([], data)]
        if keys:
            values = data.select(keys).group_by(keys).aggregate([]).to_pylist()
            if len(values) > 100:
                raise AthenaFailure(
                    "HIVE_TOO_MANY_OPEN_PARTITIONS",
                    f"Exceeded limit of 100 open writers for partitions/buckets ({len(values)} partitions)",
                    category=2,
                    error_type=1002,
                )
            groups = []
            for row in values:
                mask = None
                for key in keys:
                    value = row[key]
                    test = (
                        pc.is_null(data[key])
                        if value is None
                        else pc.equal(data[key], pa.scalar(value, data[key].type))
                    )
                    test = pc.fill_null(test, False)
                    mask = test if mask is None else pc.and_(mask, test)
                # Hive writes NULL and '' alike to its default partition, which reads back as NULL
                texts = [HIVE_NULL_PARTITION if row[k] is None or row[k] == "" else str(row[k]) for k in keys]
                groups.append((texts, data.filter(mask).drop_columns(keys)))
        parts = urlsplit(location)
        bucket, prefix = parts.netloc, parts.path.lstrip("/")
        run = uuid.uuid4().hex[:8]
        for texts, rows in groups:
            folder = "".join(f"{k}={quote(v, safe='')}/" for k, v in zip(keys, texts, strict=True))
            body = io.BytesIO()
            pq.write_table(rows, body, compression="snappy")
            self.s3.put_object(Bucket=bucket, Key=f"{prefix}{folder}{run}_00000.parquet", Body=body.getvalue())
            if keys:
                partition_location = f"s3://{bucket}/{prefix}{folder}"
                try:
                    self.glue.create_partition(
                        DatabaseName=database,
                        TableName=name,
                        PartitionInput={
                            "Values": texts,
                            "StorageDescriptor": {**storage, "Location": partition_location},
                        },
                    )
                except ClientError as exc:
                    if exc.response.get("Error", {}).get("Code") != "AlreadyExistsException":
                        raise
        return int(data.num_rows)

    def objects(self, location: str) -> Iterator[str]:
        parts = urlsplit(location)
        paginator = self.s3.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=parts.netloc, Prefix=parts.path.lstrip("/")):
            for item in page.get("Contents", []):
                yield str(item["Key"])

    def glue_table(self, database: str, name: str, catalog: str, where: str) -> dict[str, Any]:
        if catalog and catalog.lower() != "awsdatacatalog":
            raise AthenaFailure("CATALOG_NOT_FOUND", f"{where}: Catalog '{catalog.lower()}' does not exist")
        try:
            return dict(self.glue.get_table(DatabaseName=database, Name=name)["Table"])
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "EntityNotFoundException":
                raise
        try:
            self.glue.get_database(Name=database)
        except ClientError:
            raise AthenaFailure("SCHEMA_NOT_FOUND", f"{where}: Schema '{database}' does not exist") from None
        raise AthenaFailure("TABLE_NOT_FOUND", f"{where}: Table 'awsdatacatalog.{database}.{name}' does not exist")

    # -- reading a table ------------------------------------------------------------------------------------
    def load(self, con: duckdb.DuckDBPyConnection, table: dict[str, Any], scratch: Path) -> None:
        storage = table.get("StorageDescriptor", {})
        columns = [(c["Name"].lower(), c.get("Type", "string")) for c in storage.get("Columns", [])]
        keys = [(c["Name"].lower(), c.get("Type", "string")) for c in table.get("PartitionKeys", [])]
        database = str(table.get("DatabaseName", self.execution.database or "default")).lower()
        name = str(table["Name"]).lower()
        sources: list[tuple[str, list[str]]] = []  # (location, partition values)
        if keys:
            paginator = self.glue.get_paginator("get_partitions")
            for page in paginator.paginate(DatabaseName=database, TableName=table["Name"]):
                for partition in page.get("Partitions", []):
                    location = partition.get("StorageDescriptor", {}).get("Location", "")
                    sources.append((location, list(partition.get("Values", []))))
        else:
            sources.append((storage.get("Location", ""), []))
        selects: list[str] = []
        for location, values in sources:
            for path, size in self.download(location, scratch):
                self.execution.scanned += size
                view = f"_src_{uuid.uuid4().hex[:12]}"
                self.read_file(con, table, storage, columns, path, view)
                parts = [quote_identifier(c) for c, _ in columns] + [
                    f"CAST({'NULL' if v == HIVE_NULL_PARTITION else sql_literal(v)} AS {duck_type(t)}) AS {quote_identifier(k)}"
                    for (k, t), v in zip(keys, values, strict=False)
                ]
                selects.append(f"SELECT {', '.join(parts)} FROM {view}")
        if not selects:
            empty = ", ".join(f"CAST(NULL AS {duck_type(t)}) AS {quote_identifier(c)}" for c, t in [*columns, *keys])
            selects.append(f"SELECT {empty} WHERE false")
        con.execute(f"CREATE SCHEMA IF NOT EXISTS {quote_identifier(database)}")
        con.execute(
            f"CREATE TABLE {quote_identifier(database)}.{quote_identifier(name)} AS " + " UNION ALL ".join(selects)
        )

    def download(self, location: str, scratch: Path) -> Iterator[tuple[Path, int]]:
        """Every object under ``location`` (recursively), but not names starting with ``_`` or ``.``, as Athena."""
        parts = urlsplit(location)
        if parts.scheme not in ("s3", "s3a", "s3n") or not parts.netloc:
            raise AthenaFailure("HIVE_METASTORE_ERROR", f"Table location {location!r} is not an S3 location")
        prefix = parts.path.lstrip("/")
        if prefix and not prefix.endswith("/"):
            prefix += "/"
        paginator = self.s3.get_paginator("list_objects_v2")
        try:
            for page in paginator.paginate(Bucket=parts.netloc, Prefix=prefix):
                for item in sorted(page.get("Contents", []), key=lambda i: i["Key"]):
                    key = item["Key"]
                    relative = key[len(prefix) :]
                    if not relative or key.endswith("/"):
                        continue
                    if any(part.startswith(("_", ".")) for part in relative.split("/")):
                        continue
                    target = scratch / uuid.uuid4().hex / Path(key).name
                    target.parent.mkdir(parents=True)
                    body = self.standin.cached_body(self.s3, parts.netloc, key, str(item.get("ETag", "")))
                    target.write_bytes(body)
                    yield target, len(body)
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code == "NoSuchBucket":
                raise AthenaFailure(
                    "HIVE_CANNOT_OPEN_SPLIT", f"The specified bucket does not exist (Bucket: {parts.netloc})"
                ) from None
            raise

    def read_file(
        self,
        con: duckdb.DuckDBPyConnection,
        table: dict[str, Any],
        storage: dict[str, Any],
        columns: list[tuple[str, str]],
        path: Path,
        view: str,
    ) -> None:
        serde = storage.get("SerdeInfo", {})
        library = str(serde.get("SerializationLibrary", ""))
        options = dict(serde.get("Parameters", {}))
        kind = library.lower()
        if "parquet" in kind or "parquet" in str(storage.get("InputFormat", "")).lower():
            import pyarrow.parquet as pq

            present = {f.name.lower(): f.name for f in pq.read_schema(path)}
            parts = [
                f"CAST({quote_identifier(present[c])} AS {duck_type(t)}) AS {quote_identifier(c)}"
                if c in present
                else f"CAST(NULL AS {duck_type(t)}) AS {quote_identifier(c)}"
                for c, t in columns
            ]
            source = f"read_parquet({sql_literal(str(path))})"
            try:
                con.execute(f"CREATE TEMP VIEW {view} AS SELECT {', '.join(parts) or '1 AS _none'} FROM {source}")
            except duckdb.Error as exc:
                raise AthenaFailure("HIVE_BAD_DATA", f"Error opening Hive split {path.name}: {exc}") from None
            return
        text = decompress(path)
        if "json" in kind:
            rows = json_rows(text, [c for c, _ in columns], options)
        elif library == OPEN_CSV_SERDE:
            rows = open_csv_rows(text, len(columns), options, header_lines(table))
        else:
            rows = lazy_rows(text, len(columns), options, header_lines(table))
        import pyarrow as pa

        raw = pa.table({f"c{i}": pa.array([row[i] for row in rows], pa.string()) for i in range(len(columns))})
        con.register(f"{view}_raw", raw)
        parts = [f"{text_cast(f'c{i}', t)} AS {quote_identifier(c)}" for i, (c, t) in enumerate(columns)]
        con.execute(f"CREATE TEMP VIEW {view} AS SELECT {', '.join(parts) or '1 AS _none'} FROM {view}_raw")
