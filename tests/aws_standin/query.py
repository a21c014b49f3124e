"""Athena query execution: one query's record (its states and results) and the run of one statement."""

from __future__ import annotations

import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
import sqlglot
from botocore.exceptions import ClientError
from sqlglot import exp

from tests.aws_standin.errors import AthenaFailure, duckdb_failure, position
from tests.aws_standin.reads import TableStore
from tests.aws_standin.semantics import date_trunc_of_dates, integer_division, name_outputs, null_when_no_match
from tests.aws_standin.values import athena_type, column_info, decimal_digits, formatter

if TYPE_CHECKING:
    from tests.aws_standin.app import StandIn


# -- one query ------------------------------------------------------------------------------------------------
@dataclass
class Execution:
    id: str
    sql: str
    database: str | None
    catalog: str
    workgroup: str
    output: str  # the result file's S3 URI
    region: str
    state: str = "QUEUED"
    reason: str = ""
    failure: AthenaFailure | None = None
    statement_type: str = "DML"
    submitted: float = field(default_factory=time.time)
    started: float | None = None
    completed: float | None = None
    scanned: int = 0
    columns: list[dict[str, Any]] = field(default_factory=list)
    rows: list[list[str | None]] = field(default_factory=list)  # as GetQueryResults returns them, header included
    cancel: threading.Event = field(default_factory=threading.Event)
    connection: duckdb.DuckDBPyConnection | None = None

    def describe(self) -> dict[str, Any]:
        status: dict[str, Any] = {"State": self.state, "SubmissionDateTime": self.submitted}
        if self.completed is not None:
            status["CompletionDateTime"] = self.completed
        if self.reason:
            status["StateChangeReason"] = self.reason
        if self.failure is not None:
            status["AthenaError"] = {
                "ErrorCategory": self.failure.category,
                "ErrorType": self.failure.error_type,
                "Retryable": False,
                "ErrorMessage": self.reason,
            }
        queue_ms = int(((self.started or time.time()) - self.submitted) * 1000)
        engine_ms = int(((self.completed or time.time()) - (self.started or time.time())) * 1000)
        return {
            "QueryExecutionId": self.id,
            "Query": self.sql,
            "StatementType": self.statement_type,
            "ResultConfiguration": {"OutputLocation": self.output},
            "ResultReuseConfiguration": {"ResultReuseByAgeConfiguration": {"Enabled": False}},
            "QueryExecutionContext": {
                **({"Database": self.database} if self.database else {}),
                "Catalog": self.catalog,
            },
            "Status": status,
            "Statistics": {
                "EngineExecutionTimeInMillis": engine_ms,
                "DataScannedInBytes": self.scanned,
                "TotalExecutionTimeInMillis": queue_ms + engine_ms,
                "QueryQueueTimeInMillis": queue_ms,
                "ServicePreProcessingTimeInMillis": 0,
                "QueryPlanningTimeInMillis": 0,
                "ServiceProcessingTimeInMillis": 0,
                "ResultReuseInformation": {"ReusedPreviousResult": False},
            },
            "WorkGroup": self.workgroup,
            "EngineVersion": {"SelectedEngineVersion": "AUTO", "EffectiveEngineVersion": "Athena engine version 3"},
        }


# -- the SQL ------------------------------------------------------------------------------------------------
class Query(TableStore):
    """One statement: find its tables in Glue, load their objects from S3 into DuckDB, run it, format it."""

    def __init__(self, standin: StandIn, execution: Execution) -> None:
        self.standin = standin
        self.execution = execution
        self.sql = execution.sql.strip().rstrip(";").strip()
        self.glue = standin.client("glue", execution.region)
        self.s3 = standin.client("s3", execution.region)

    def run(self) -> None:
        try:
            tree = sqlglot.parse_one(self.sql, read="athena")
        except sqlglot.errors.ParseError as exc:
            error = exc.errors[0] if exc.errors else {}
            description = str(error.get("description") or exc).split(". Line")[0]
            raise AthenaFailure(
                "SYNTAX_ERROR", f"line {error.get('line', 1)}:{error.get('col', 1)}: {description}", error_type=1001
            ) from None
        if isinstance(tree, exp.Command):
            self._command(str(tree.this).upper(), str(tree.expression.this) if tree.expression else "")
        elif isinstance(tree, exp.Describe):
            self._describe(tree.this)
        elif isinstance(tree, exp.Query):
            self._select(tree)
        elif (
            isinstance(tree, exp.Create) and tree.args.get("kind") == "TABLE" and isinstance(tree.expression, exp.Query)
        ):
            self._ctas(tree)
        elif isinstance(tree, exp.Insert) and isinstance(tree.expression, exp.Query):
            self._insert(tree)
        else:
            raise AthenaFailure(
                "NOT_SUPPORTED",
                "the AWS stand-in runs SELECT, SHOW, DESCRIBE, EXPLAIN, CTAS and INSERT INTO ... SELECT only, not "
                f"{type(tree).__name__.upper()}",
            )

    # -- SELECT -------------------------------------------------------------------------------------------
    def _select(self, tree: exp.Expression, explain: bool = False) -> None:
        con = duckdb.connect(":memory:")
        con.execute("SET ieee_floating_point_ops = true")  # Trino: 1e0 / 0 is Infinity, not NULL
        self.execution.connection = con
        with tempfile.TemporaryDirectory(prefix="aws-standin-") as scratch:
            duck_sql = self._bind(con, tree, Path(scratch))
            if explain:
                duck_sql = "EXPLAIN " + duck_sql
            try:
                cursor = con.execute(duck_sql)
                described = cursor.description or []
                records = cursor.fetchall()
            except duckdb.InterruptException:
                raise
            except duckdb.Error as exc:
                raise duckdb_failure(exc, self.sql) from None
        if explain:
            self._utility(["Query Plan"], [[line] for _, plan in records for line in str(plan).splitlines()], "DML")
            return
        names = [str(d[0]) for d in described]
        types = [athena_type(d[1]) for d in described]
        self.execution.statement_type = "DML"
        self.execution.columns = [
            column_info(n, t, decimal_digits(d[1])) for n, t, d in zip(names, types, described, strict=True)
        ]
        formatters = [formatter(d[1]) for d in described]
        self.execution.rows = [list(names)] + [
            [None if v is None else fmt(v) for v, fmt in zip(record, formatters, strict=True)] for record in records
        ]

    def _bind(self, con: duckdb.DuckDBPyConnection, tree: exp.Expression, scratch: Path) -> str:
        """Load every table the query names from Glue and S3 into ``con``; the query in DuckDB's dialect."""
        ctes = {cte.alias_or_name.lower() for cte in tree.find_all(exp.CTE)}
        loaded: dict[tuple[str, str], dict[str, Any]] = {}
        for table in list(tree.find_all(exp.Table)):
            if not table.name or (not table.db and table.name.lower() in ctes):
                continue
            database = (table.db or self.execution.database or "default").lower()
            name = table.name.lower()
            where = position(self.sql, table)
            if (database, name) not in loaded:
                definition = self.glue_table(database, name, table.catalog, where)
                self.load(con, definition, scratch)
                loaded[(database, name)] = definition
            table.set("catalog", None)
            table.set("db", exp.to_identifier(database, quoted=True))
            table.set("this", exp.to_identifier(name, quoted=True))
        integer_division(tree, loaded)
        name_outputs(tree)
        tree = tree.transform(null_when_no_match)
        tree = tree.transform(date_trunc_of_dates(loaded))
        return tree.sql(dialect="duckdb")

    # -- CTAS and INSERT INTO: Parquet written to S3, the table and its partitions registered in Glue -------------
    def _ctas(self, tree: exp.Create) -> None:
        target = tree.this if isinstance(tree.this, exp.Table) else tree.this.this
        database = (target.db or self.execution.database or "default").lower()
        name = target.name.lower()
        properties = {"format": "PARQUET", "external_location": "", "partitioned_by": []}
        for prop in (tree.args.get("properties") or exp.Properties(expressions=[])).expressions:
            if isinstance(prop, exp.FileFormatProperty):
                properties["format"] = prop.this.name.upper()
            elif isinstance(prop, exp.PartitionedByProperty):
                properties["partitioned_by"] = [e.name.lower() for e in prop.this.expressions]
            elif isinstance(prop, exp.Property):
                properties[prop.name.lower()] = prop.args["value"].name
        if properties["format"] != "PARQUET":
            raise AthenaFailure("NOT_SUPPORTED", "the AWS stand-in writes CTAS tables as PARQUET only")
        location = str(properties["external_location"])
        if not location:
            raise AthenaFailure("NOT_SUPPORTED", "the AWS stand-in needs external_location in a CTAS")
        location = location if location.endswith("/") else location + "/"
        try:
            self.glue.get_table(DatabaseName=database, Name=name)
            raise AthenaFailure("ALREADY_EXISTS", f"line 1:1: Table 'awsdatacatalog.{database}.{name}' already exists")
        except ClientError:
            pass
        if any(True for _ in self.objects(location)):
            raise AthenaFailure(
                "HIVE_PATH_ALREADY_EXISTS",
                f"Target directory for table '{database}.{name}' already exists: {location}. You may need to "
                "manually clean the data at location before creating the table.",
                category=2,
                error_type=1002,
            )
        keys = list(properties["partitioned_by"])
        data = self._arrow(tree.expression)
        missing = [k for k in keys if k not in data.column_names]
        if missing or data.column_names[len(data.column_names) - len(keys) :] != keys:
            raise AthenaFailure(
                "INVALID_TABLE_PROPERTY", "line 1:1: Partition columns must be the last columns in the table"
            )
        from lib.catalog import arrow_type_to_glue

        columns = [{"Name": f.name, "Type": arrow_type_to_glue(f.type)} for f in data.schema if f.name not in keys]
        partition_keys = [{"Name": k, "Type": arrow_type_to_glue(data.schema.field(k).type)} for k in keys]
        storage = {
            "Columns": columns,
            "Location": location,
            "InputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat",
            "OutputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat",
            "SerdeInfo": {"SerializationLibrary": "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"},
        }
        self.glue.create_table(
            DatabaseName=database,
            TableInput={
                "Name": name,
                "TableType": "EXTERNAL_TABLE",
                "Parameters": {"classification": "parquet", "EXTERNAL": "TRUE"},
                "StorageDescriptor": storage,
                "PartitionKeys": partition_keys,
            },
        )
        written = self.write_parquet(database, name, location, storage, keys, data)
        self._utility(["rows"], [[str(written)]], "DDL")

    def _insert(self, tree: exp.Insert) -> None:
        target = tree.this if isinstance(tree.this, exp.Table) else tree.this.this
        database = (target.db or self.execution.database or "default").lower()
        name = target.name.lower()
        table = self.glue_table(database, name, target.catalog, position(self.sql, target))
        storage = table.get("StorageDescriptor", {})
        keys = [k["Name"].lower() for k in table.get("PartitionKeys", [])]
        data = self._arrow(tree.expression)
        wanted = [c["Name"].lower() for c in storage.get("Columns", [])] + keys
        if len(data.column_names) != len(wanted):
            raise AthenaFailure(
                "SYNTAX_ERROR", f"line 1:1: Insert query has {len(data.column_names)} columns, table has {len(wanted)}"
            )
        data = data.rename_columns(wanted)
        written = self.write_parquet(database, name, str(storage.get("Location", "")), storage, keys, data)
        self._utility(["rows"], [[str(written)]], "DML")

    def _arrow(self, query: exp.Expression) -> Any:
        con = duckdb.connect(":memory:")
        self.execution.connection = con
        with tempfile.TemporaryDirectory(prefix="aws-standin-") as scratch:
            duck_sql = self._bind(con, query, Path(scratch))
            try:
                return con.execute(duck_sql).to_arrow_table()
            except duckdb.InterruptException:
                raise
            except duckdb.Error as exc:
                raise duckdb_failure(exc, self.sql) from None

    # -- SHOW, DESCRIBE, EXPLAIN ----------------------------------------------------------------------------
    def _command(self, keyword: str, rest: str) -> None:
        words = rest.split()
        upper = [w.upper() for w in words]
        if keyword == "EXPLAIN":
            self._select(sqlglot.parse_one(rest, read="athena"), explain=True)
            return
        if keyword != "SHOW" or not words:
            raise AthenaFailure("NOT_SUPPORTED", f"the AWS stand-in does not run {keyword} statements")
        if upper[0] in ("DATABASES", "SCHEMAS"):
            names = []
            for page in self.glue.get_paginator("get_databases").paginate():
                names += [d["Name"] for d in page.get("DatabaseList", [])]
            self._utility(["database_name"], [[n] for n in sorted(names)], "UTILITY")
        elif upper[0] == "TABLES":
            database = self.execution.database or "default"
            if len(words) >= 3 and upper[1] in ("IN", "FROM"):
                database = words[2].strip('`"').lower()
            names = []
            try:
                for page in self.glue.get_paginator("get_tables").paginate(DatabaseName=database):
                    names += [t["Name"] for t in page.get("TableList", [])]
            except ClientError:
                raise AthenaFailure("SCHEMA_NOT_FOUND", f"Schema '{database}' does not exist") from None
            self._utility(["tab_name"], [[n] for n in sorted(names)], "UTILITY")
        elif upper[0] == "COLUMNS" and len(words) >= 3 and upper[1] in ("IN", "FROM"):
            table = self._named_table(words[2])
            names = [c["Name"] for c in table.get("StorageDescriptor", {}).get("Columns", [])]
            names += [c["Name"] for c in table.get("PartitionKeys", [])]
            self._utility(["field"], [[n] for n in names], "UTILITY")
        elif upper[0] == "PARTITIONS" and len(words) >= 2:
            table = self._named_table(words[1])
            keys = [c["Name"] for c in table.get("PartitionKeys", [])]
            rows = []
            paginator = self.glue.get_paginator("get_partitions")
            for page in paginator.paginate(DatabaseName=table["DatabaseName"], TableName=table["Name"]):
                for partition in page.get("Partitions", []):
                    rows.append(["/".join(f"{k}={v}" for k, v in zip(keys, partition["Values"], strict=False))])
            self._utility(["partition"], sorted(rows), "UTILITY")
        else:
            raise AthenaFailure("NOT_SUPPORTED", f"the AWS stand-in does not run SHOW {words[0]}")

    def _named_table(self, text: str) -> dict[str, Any]:
        parts = [p.strip('`"').lower() for p in text.split(".")]
        if len(parts) == 3:
            parts = parts[1:]
        database, name = parts if len(parts) == 2 else [self.execution.database or "default", parts[0]]
        return self.glue_table(database, name, "", "line 1:1")

    def _describe(self, target: exp.Expression) -> None:
        if not isinstance(target, exp.Table):
            raise AthenaFailure("NOT_SUPPORTED", "the AWS stand-in describes tables only")
        database = (target.db or self.execution.database or "default").lower()
        table = self.glue_table(database, target.name.lower(), target.catalog, position(self.sql, target))

        def line(column: dict[str, Any]) -> list[str | None]:
            cells = [column["Name"].ljust(20), str(column.get("Type", "")).ljust(20), column.get("Comment", "")]
            return ["\t".join(cells)]

        columns = table.get("StorageDescriptor", {}).get("Columns", [])
        keys = table.get("PartitionKeys", [])
        rows = [line(c) for c in [*columns, *keys]]
        if keys:
            rows += [[""], ["# Partition Information"], ["# col_name            \tdata_type           \tcomment"]]
            rows += [[""]] + [line(k) for k in keys]
        self._utility(["col_name", "data_type", "comment"], rows, "DDL")

    def _utility(self, names: list[str], rows: list[list[str | None]], statement_type: str) -> None:
        """SHOW and DESCRIBE: no header row, one text cell per row (DESCRIBE's cells tab-separated in it)."""
        self.execution.statement_type = statement_type
        self.execution.columns = [column_info(n, "string") for n in names]
        if statement_type == "DML":  # EXPLAIN
            self.execution.rows = [list(names), *rows]
        else:
            self.execution.rows = rows
