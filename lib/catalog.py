"""Glue-compatible table definitions.

A :class:`TableDef` holds what the Glue Data Catalog holds for a table (columns with types and comments,
partition keys, location, input/output format, SerDe and parameters) and converts to and from Glue's
``TableInput``/``Table`` shapes, so a table defined on the local backend could be registered in Glue unchanged.
Locations on the local backend use the ``lake://`` scheme: a key relative to the lake root.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from lib.errors import CatalogError

TableFormat = Literal["parquet", "csv", "tsv", "json"]

LAKE_SCHEME = "lake://"

_IDENT = re.compile(r"^[a-z_][a-z0-9_]{0,254}$")

# Glue/Hive type -> DuckDB type, for the simple types; complex types are mapped recursively.
_SIMPLE_TYPES = {
    "string": "VARCHAR",
    "varchar": "VARCHAR",
    "char": "VARCHAR",
    "int": "INTEGER",
    "integer": "INTEGER",
    "bigint": "BIGINT",
    "smallint": "SMALLINT",
    "tinyint": "TINYINT",
    "double": "DOUBLE",
    "float": "FLOAT",
    "boolean": "BOOLEAN",
    "date": "DATE",
    "timestamp": "TIMESTAMP",
    "binary": "BLOB",
}

_PARQUET = {
    "input_format": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat",
    "output_format": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat",
    "serde_library": "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe",
}
_TEXT = {
    "input_format": "org.apache.hadoop.mapred.TextInputFormat",
    "output_format": "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat",
    "serde_library": "org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe",
}
_JSON_SERDE = "org.openx.data.jsonserde.JsonSerDe"


def validate_identifier(name: str, what: str = "name") -> str:
    """Glue database/table/column names: lower case letters, digits and underscores."""
    if not _IDENT.match(name):
        raise CatalogError(
            f"{what.capitalize()} {name!r} is not a valid Glue name: use lower-case letters, digits and underscores, "
            "starting with a letter or underscore."
        )
    return name


def glue_type_to_duckdb(glue_type: str) -> str:
    """Translate a Glue/Hive column type (``array<string>``, ``decimal(10,2)``...) to DuckDB's."""
    text = glue_type.strip().lower()
    if text in _SIMPLE_TYPES:
        return _SIMPLE_TYPES[text]
    if re.fullmatch(r"(varchar|char)\(\d+\)", text):
        return "VARCHAR"
    match = re.fullmatch(r"decimal\((\d+)\s*,\s*(\d+)\)", text)
    if match:
        return f"DECIMAL({match.group(1)},{match.group(2)})"
    if text == "decimal":
        return "DECIMAL(10,0)"
    if text.startswith("array<") and text.endswith(">"):
        return glue_type_to_duckdb(text[6:-1]) + "[]"
    if text.startswith("map<") and text.endswith(">"):
        key, value = _split_top_level(text[4:-1])
        return f"MAP({glue_type_to_duckdb(key)}, {glue_type_to_duckdb(value)})"
    if text.startswith("struct<") and text.endswith(">"):
        from lib.sql.translate import quote_identifier

        parts = []
        for member in _split_top(text[7:-1]):
            name, _, member_type = member.partition(":")
            parts.append(f"{quote_identifier(name.strip())} {glue_type_to_duckdb(member_type)}")
        return f"STRUCT({', '.join(parts)})"
    raise CatalogError(f"Column type {glue_type!r} is not a Glue type LakeLens understands.")


def _split_top(text: str) -> list[str]:
    parts, depth, start = [], 0, 0
    for index, char in enumerate(text):
        if char in "<(":
            depth += 1
        elif char in ">)":
            depth -= 1
        elif char == "," and depth == 0:
            parts.append(text[start:index])
            start = index + 1
    parts.append(text[start:])
    return [part.strip() for part in parts if part.strip()]


def _split_top_level(text: str) -> tuple[str, str]:
    parts = _split_top(text)
    if len(parts) != 2:
        raise CatalogError(f"Map type map<{text}> needs a key and a value type.")
    return parts[0], parts[1]


def arrow_type_to_glue(arrow_type: Any) -> str:
    """Glue type for a pyarrow type, as awswrangler's ``athena_types_from_pyarrow`` chooses."""
    import pyarrow as pa

    t = arrow_type
    if pa.types.is_boolean(t):
        return "boolean"
    if pa.types.is_int8(t) or pa.types.is_uint8(t):
        return "tinyint"
    if pa.types.is_int16(t) or pa.types.is_uint16(t):
        return "smallint"
    if pa.types.is_int32(t) or pa.types.is_uint32(t):
        return "int"
    if pa.types.is_integer(t):
        return "bigint"
    if pa.types.is_float32(t):
        return "float"
    if pa.types.is_floating(t):
        return "double"
    if pa.types.is_decimal(t):
        return f"decimal({t.precision},{t.scale})"
    if pa.types.is_date(t):
        return "date"
    if pa.types.is_timestamp(t):
        return "timestamp"
    if pa.types.is_binary(t) or pa.types.is_large_binary(t):
        return "binary"
    if pa.types.is_list(t) or pa.types.is_large_list(t):
        return f"array<{arrow_type_to_glue(t.value_type)}>"
    if pa.types.is_struct(t):
        members = ",".join(f"{t.field(i).name}:{arrow_type_to_glue(t.field(i).type)}" for i in range(t.num_fields))
        return f"struct<{members}>"
    if pa.types.is_map(t):
        return f"map<{arrow_type_to_glue(t.key_type)},{arrow_type_to_glue(t.item_type)}>"
    if pa.types.is_dictionary(t):
        return arrow_type_to_glue(t.value_type)
    return "string"


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    comment: str = ""

    def to_glue(self) -> dict[str, str]:
        out = {"Name": self.name, "Type": self.type}
        if self.comment:
            out["Comment"] = self.comment
        return out

    @classmethod
    def from_glue(cls, data: dict[str, Any]) -> Column:
        return cls(name=data["Name"], type=data.get("Type", "string"), comment=data.get("Comment", ""))


@dataclass(frozen=True)
class Partition:
    values: tuple[str, ...]
    location: str
    parameters: dict[str, str] = field(default_factory=dict)
    create_time: datetime | None = None

    def spec(self, keys: list[Column]) -> str:
        """``product_category=Books/year=2020`` style description."""
        return "/".join(f"{key.name}={value}" for key, value in zip(keys, self.values, strict=False))


@dataclass(frozen=True)
class TableDef:
    database: str
    name: str
    columns: list[Column]
    location: str
    input_format: str = _PARQUET["input_format"]
    output_format: str = _PARQUET["output_format"]
    serde_library: str = _PARQUET["serde_library"]
    serde_parameters: dict[str, str] = field(default_factory=dict)
    partition_keys: list[Column] = field(default_factory=list)
    parameters: dict[str, str] = field(default_factory=dict)
    description: str = ""
    table_type: str = "EXTERNAL_TABLE"
    create_time: datetime | None = None
    update_time: datetime | None = None

    @property
    def qualified_name(self) -> str:
        return f"{self.database}.{self.name}"

    @property
    def all_columns(self) -> list[Column]:
        return [*self.columns, *self.partition_keys]

    @property
    def format(self) -> TableFormat:
        classification = self.parameters.get("classification", "").lower()
        if "parquet" in self.serde_library.lower() or classification == "parquet":
            return "parquet"
        if self.serde_library == _JSON_SERDE or "json" in self.serde_library.lower() or classification == "json":
            return "json"
        delimiter = self.serde_parameters.get("field.delim", self.serde_parameters.get("separatorChar", ","))
        return "tsv" if delimiter == "\t" else "csv"

    @property
    def delimiter(self) -> str:
        return self.serde_parameters.get("field.delim", self.serde_parameters.get("separatorChar", ","))

    @property
    def has_header(self) -> bool:
        return self.parameters.get("skip.header.line.count", "0") != "0"

    def to_glue_input(self) -> dict[str, Any]:
        """Glue ``TableInput`` for CreateTable/UpdateTable."""
        table_input: dict[str, Any] = {
            "Name": self.name,
            "TableType": self.table_type,
            "Parameters": dict(self.parameters),
            "PartitionKeys": [column.to_glue() for column in self.partition_keys],
            "StorageDescriptor": {
                "Columns": [column.to_glue() for column in self.columns],
                "Location": self.location,
                "InputFormat": self.input_format,
                "OutputFormat": self.output_format,
                "SerdeInfo": {"SerializationLibrary": self.serde_library, "Parameters": dict(self.serde_parameters)},
                "Compressed": False,
                "StoredAsSubDirectories": False,
            },
        }
        if self.description:
            table_input["Description"] = self.description
        return table_input

    def to_glue(self) -> dict[str, Any]:
        """Glue ``Table`` (what GetTable returns): the input plus database name and times."""
        table = self.to_glue_input()
        table["DatabaseName"] = self.database
        if self.create_time:
            table["CreateTime"] = self.create_time.isoformat()
        if self.update_time:
            table["UpdateTime"] = self.update_time.isoformat()
        return table

    @classmethod
    def from_glue(cls, data: dict[str, Any], database: str | None = None) -> TableDef:
        storage = data.get("StorageDescriptor", {})
        serde = storage.get("SerdeInfo", {})
        return cls(
            database=database or data["DatabaseName"],
            name=data["Name"],
            columns=[Column.from_glue(c) for c in storage.get("Columns", [])],
            location=storage.get("Location", ""),
            input_format=storage.get("InputFormat", ""),
            output_format=storage.get("OutputFormat", ""),
            serde_library=serde.get("SerializationLibrary", ""),
            serde_parameters=dict(serde.get("Parameters", {})),
            partition_keys=[Column.from_glue(c) for c in data.get("PartitionKeys", [])],
            parameters=dict(data.get("Parameters", {})),
            description=data.get("Description", ""),
            table_type=data.get("TableType", "EXTERNAL_TABLE"),
            create_time=_parse_time(data.get("CreateTime")),
            update_time=_parse_time(data.get("UpdateTime")),
        )


def _parse_time(value: Any) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value))


def now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def parquet_table(
    database: str,
    name: str,
    columns: list[Column],
    location: str,
    partition_keys: list[Column] | None = None,
    description: str = "",
    parameters: dict[str, str] | None = None,
) -> TableDef:
    return TableDef(
        database=validate_identifier(database, "database"),
        name=validate_identifier(name, "table"),
        columns=columns,
        location=location,
        partition_keys=partition_keys or [],
        parameters={"classification": "parquet", **(parameters or {})},
        description=description,
        input_format=_PARQUET["input_format"],
        output_format=_PARQUET["output_format"],
        serde_library=_PARQUET["serde_library"],
    )


def delimited_table(
    database: str,
    name: str,
    columns: list[Column],
    location: str,
    delimiter: str = ",",
    header: bool = True,
    description: str = "",
    partition_keys: list[Column] | None = None,
) -> TableDef:
    parameters = {"classification": "csv", "skip.header.line.count": "1" if header else "0"}
    return TableDef(
        database=validate_identifier(database, "database"),
        name=validate_identifier(name, "table"),
        columns=columns,
        location=location,
        serde_parameters={"field.delim": delimiter, "serialization.format": delimiter},
        partition_keys=partition_keys or [],
        parameters=parameters,
        description=description,
        input_format=_TEXT["input_format"],
        output_format=_TEXT["output_format"],
        serde_library=_TEXT["serde_library"],
    )


def json_table(database: str, name: str, columns: list[Column], location: str, description: str = "") -> TableDef:
    return TableDef(
        database=validate_identifier(database, "database"),
        name=validate_identifier(name, "table"),
        columns=columns,
        location=location,
        input_format=_TEXT["input_format"],
        output_format=_TEXT["output_format"],
        serde_library=_JSON_SERDE,
        parameters={"classification": "json"},
        description=description,
    )


def _hive_string(text: str) -> str:
    """A quoted string in Hive DDL, which escapes with backslashes."""
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def athena_ddl(table: TableDef) -> str:
    """``CREATE EXTERNAL TABLE`` for ``table`` as Athena's SHOW CREATE TABLE writes it, so the definition can be
    run in Athena (after pointing LOCATION at the S3 copy of a local table's files)."""

    def column(c: Column) -> str:
        comment = f" COMMENT {_hive_string(c.comment)}" if c.comment else ""
        return f"  `{c.name}` {c.type}{comment}"

    lines = [f"CREATE EXTERNAL TABLE `{table.database}`.`{table.name}`("]
    lines.append(",\n".join(column(c) for c in table.columns) + ")")
    if table.description:
        lines.append(f"COMMENT {_hive_string(table.description)}")
    if table.partition_keys:
        lines.append("PARTITIONED BY ( ")
        lines.append(",\n".join(column(c) for c in table.partition_keys) + ")")
    lines += ["ROW FORMAT SERDE ", f"  {_hive_string(table.serde_library)} "]
    if table.serde_parameters:
        lines.append("WITH SERDEPROPERTIES ( ")
        pairs = sorted(table.serde_parameters.items())
        lines.append(",\n".join(f"  {_hive_string(k)}={_hive_string(v)}" for k, v in pairs) + ") ")
    lines += [
        "STORED AS INPUTFORMAT ",
        f"  {_hive_string(table.input_format)} ",
        "OUTPUTFORMAT ",
        f"  {_hive_string(table.output_format)}",
        "LOCATION",
        f"  {_hive_string(table.location)}",
    ]
    if table.parameters:
        lines.append("TBLPROPERTIES (")
        pairs = sorted(table.parameters.items())
        lines.append(",\n".join(f"  {_hive_string(k)}={_hive_string(v)}" for k, v in pairs) + ")")
    return "\n".join(lines)
