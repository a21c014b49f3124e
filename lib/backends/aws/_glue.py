"""The Glue Data Catalog: databases, tables and partitions, registered and dropped.

moto ignores ``MaxResults`` for GetPartitions, so the page size is enforced here rather than trusted to the service.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote

from botocore.exceptions import ClientError

from lib.backends.aws._errors import sentence
from lib.backends.aws._s3 import AwsObjects
from lib.backends.base import DatabaseInfo, PartitionPage
from lib.catalog import Partition, TableDef, glue_type_to_duckdb, validate_identifier
from lib.errors import CatalogError, NotFound, TableNotFound

GLUE_CREATE_BATCH = 100  # BatchCreatePartition accepts at most 100 partitions per call
GLUE_DELETE_BATCH = 25  # BatchDeletePartition accepts at most 25
GLUE_MAX_RESULTS = 1000


class AwsCatalog(AwsObjects):
    """Glue databases, tables and partitions."""

    def list_databases(self) -> list[DatabaseInfo]:
        out: list[DatabaseInfo] = []
        with self._aws_errors("list the Glue databases"):
            for page in self._client("glue").get_paginator("get_databases").paginate():
                for item in page.get("DatabaseList", []):
                    out.append(
                        DatabaseInfo(
                            name=item["Name"],
                            description=item.get("Description", ""),
                            location=item.get("LocationUri", ""),
                        )
                    )
        return out

    def _create_database(self, name: str, description: str = "") -> None:
        validate_identifier(name, "database")
        database_input = {"Name": name, "Description": description}
        with self._aws_errors(f"create the Glue database {name}"):
            try:
                self._client("glue").create_database(DatabaseInput=database_input)
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") != "AlreadyExistsException":
                    raise

    def list_tables(self, database: str) -> list[TableDef]:
        tables: list[TableDef] = []
        with self._aws_errors(
            f"list the tables of {database}",
            missing=NotFound(f"Database {database!r} does not exist in the catalog."),
        ):
            for page in self._client("glue").get_paginator("get_tables").paginate(DatabaseName=database):
                tables.extend(TableDef.from_glue(item, database=database) for item in page.get("TableList", []))
        return tables

    def get_table(self, database: str, table: str) -> TableDef:
        with self._aws_errors(
            f"read the table {database}.{table}",
            missing=TableNotFound(f"Table {database}.{table} does not exist in the catalog."),
        ):
            response = self._client("glue").get_table(DatabaseName=database, Name=table)
        return TableDef.from_glue(response["Table"], database=database)

    def _find_table(self, database: str, table: str) -> TableDef | None:
        try:
            return self.get_table(database, table)
        except TableNotFound:
            return None

    def list_partitions(
        self, database: str, table: str, *, token: str | None = None, page_size: int = 100
    ) -> PartitionPage:
        """One page of partitions. The token carries Glue's token and an offset into Glue's page, so the page
        size holds even against a service that returns more than ``MaxResults`` (moto returns everything)."""
        offset, glue_token = _split_token(token)
        params: dict[str, Any] = {
            "DatabaseName": database,
            "TableName": table,
            "MaxResults": max(1, min(page_size, GLUE_MAX_RESULTS)),
        }
        if glue_token:
            params["NextToken"] = glue_token
        with self._aws_errors(
            f"list the partitions of {database}.{table}",
            missing=TableNotFound(f"Table {database}.{table} does not exist in the catalog."),
        ):
            response = self._client("glue").get_partitions(**params)
        items = response.get("Partitions", [])
        page = items[offset : offset + page_size]
        if offset + page_size < len(items):
            next_token: str | None = f"{offset + page_size}|{glue_token or ''}"
        elif response.get("NextToken"):
            next_token = f"0|{response['NextToken']}"
        else:
            next_token = None
        return PartitionPage([_partition(item) for item in page], next_token)

    def _register_table(
        self, table: TableDef, *, partitions: list[Partition] | None = None, replace: bool = False
    ) -> TableDef:
        validate_identifier(table.database, "database")
        validate_identifier(table.name, "table")
        for column in table.all_columns:
            glue_type_to_duckdb(column.type)
        if self.location_key(table.location) is None:
            raise CatalogError(
                f"Table location {table.location!r} must be inside the lake ({self.to_s3_location('')}<folder>/)."
            )
        self.create_database(table.database)
        existing = self._find_table(table.database, table.name)
        conflict = CatalogError(f"Table {table.qualified_name} already exists; replace it explicitly to overwrite it.")
        if existing and not replace:
            raise conflict
        glue = self._client("glue")
        with self._aws_errors(f"register {table.qualified_name} in Glue", exists=conflict):
            if existing:
                glue.update_table(DatabaseName=table.database, TableInput=table.to_glue_input())
            else:
                glue.create_table(DatabaseName=table.database, TableInput=table.to_glue_input())
        if partitions is None and table.partition_keys:
            partitions = self.discover_partitions(table)
        if existing and existing.partition_keys:
            self._delete_partitions(table.database, table.name)
        self._create_partitions(table, partitions or [])
        return self.get_table(table.database, table.name)

    def discover_partitions(self, table: TableDef) -> list[Partition]:
        """Hive-style ``key=value`` folders under the table's location, as MSCK REPAIR TABLE finds them."""
        base_key = self.location_key(table.location)
        if base_key is None:
            return []
        found: list[Partition] = []

        def walk(key: str, depth: int, values: tuple[str, ...]) -> None:
            if depth == len(table.partition_keys):
                found.append(Partition(values=values, location=self.to_s3_location(key)))
                return
            expected = table.partition_keys[depth].name + "="
            for folder in self._folders(key):
                name = folder[len(key) :].rstrip("/")
                if name.startswith(expected):
                    walk(folder, depth + 1, (*values, unquote(name[len(expected) :])))

        walk(base_key, 0, ())
        return found

    def _create_partitions(self, table: TableDef, partitions: list[Partition]) -> None:
        storage = table.to_glue_input()["StorageDescriptor"]
        inputs = [
            {
                "Values": list(partition.values),
                "StorageDescriptor": {**storage, "Location": partition.location},
                "Parameters": dict(partition.parameters),
            }
            for partition in partitions
        ]
        glue = self._client("glue")
        for start in range(0, len(inputs), GLUE_CREATE_BATCH):
            with self._aws_errors(f"add partitions to {table.qualified_name}"):
                response = glue.batch_create_partition(
                    DatabaseName=table.database,
                    TableName=table.name,
                    PartitionInputList=inputs[start : start + GLUE_CREATE_BATCH],
                )
            errors = [
                item
                for item in response.get("Errors", [])
                if item.get("ErrorDetail", {}).get("ErrorCode") != "AlreadyExistsException"
            ]
            if errors:
                detail = errors[0].get("ErrorDetail", {})
                raise CatalogError(
                    f"Glue refused {len(errors)} partition(s) of {table.qualified_name}, e.g. "
                    f"{errors[0].get('PartitionValues')}: {sentence(self._scrub(str(detail.get('ErrorMessage', ''))))}"
                )

    def _delete_partitions(self, database: str, table: str) -> None:
        """Replacing a table replaces its partitions too, as on the local backend; Glue's UpdateTable keeps them."""
        glue = self._client("glue")
        values: list[list[str]] = []
        with self._aws_errors(f"list the partitions of {database}.{table}"):
            for page in glue.get_paginator("get_partitions").paginate(DatabaseName=database, TableName=table):
                values.extend(list(item["Values"]) for item in page.get("Partitions", []))
        for start in range(0, len(values), GLUE_DELETE_BATCH):
            with self._aws_errors(f"remove the old partitions of {database}.{table}"):
                glue.batch_delete_partition(
                    DatabaseName=database,
                    TableName=table,
                    PartitionsToDelete=[{"Values": v} for v in values[start : start + GLUE_DELETE_BATCH]],
                )

    def _drop_table(self, database: str, table: str) -> None:
        with self._aws_errors(
            f"drop the table {database}.{table}",
            missing=TableNotFound(f"Table {database}.{table} does not exist in the catalog."),
        ):
            self._client("glue").delete_table(DatabaseName=database, Name=table)


def _split_token(token: str | None) -> tuple[int, str | None]:
    if not token:
        return 0, None
    head, sep, rest = token.partition("|")
    if sep and head.isdigit():
        return int(head), rest or None
    return 0, token


def _partition(item: dict[str, Any]) -> Partition:
    return Partition(
        values=tuple(item.get("Values", [])),
        location=item.get("StorageDescriptor", {}).get("Location", ""),
        parameters=dict(item.get("Parameters") or {}),
        create_time=item.get("CreationTime"),
    )
