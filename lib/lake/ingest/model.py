"""What an ingest decides and writes, before any file is read: the plan and result dataclasses, the formats,
zones and limits, the names a table, a column and a file may take, and the Arrow types the Glue types are
stored as (:func:`typed_table`, the plan's rows with its names and types)."""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import pyarrow as pa
import pyarrow.compute as pc

from lib.catalog import TableDef, glue_type_to_duckdb, validate_identifier
from lib.errors import CatalogError, IngestError, PathError
from lib.lake.objects import check_inside_lake, sanitize_name
from lib.paths import clean_key

IngestFormat = Literal["auto", "csv", "tsv", "json", "jsonl", "parquet"]
FileFormat = Literal["csv", "tsv", "json", "jsonl", "parquet"]
FORMATS: tuple[IngestFormat, ...] = ("auto", "csv", "tsv", "json", "jsonl", "parquet")
ENCODINGS = ("utf-8", "latin-1", "cp1252")
GLUE_TYPES = (
    "string",
    "bigint",
    "int",
    "smallint",
    "tinyint",
    "double",
    "float",
    "decimal(38,9)",
    "boolean",
    "date",
    "timestamp",
)
RAW_ZONE = "raw/"
CURATED_ZONE = "curated/"
RAW_SUFFIX = "_raw"
MAX_PARTITIONS = 1_000
MAX_OLD_OBJECTS = 10_000
SCHEMA_SAMPLE_BYTES = 1_000_000
MAX_ROW_BYTES = 32 * 10**6  # Athena: "a single row or its columns cannot exceed 32 MB", a hard limit
MAX_DECOMPRESSED_BYTES = 2 * 10**9  # a gzip upload's text, when no upload limit is given
HIVE_NULL = "__HIVE_DEFAULT_PARTITION__"
SCRATCH_MARK = ".lakelens-tmp-ingest-"  # a streaming ingest's scratch folder (its files are moved, not copied)
COLUMN_NAME = re.compile(r"^[a-z0-9_]{1,255}$")
OPEN_CSV_SERDE = "org.apache.hadoop.hive.serde2.OpenCSVSerde"


@dataclass(frozen=True)
class ColumnPlan:
    """One column: its name in the file, its name and Glue type in the table, and what was inferred."""

    source: str
    name: str
    type: str
    inferred: str
    comment: str = ""
    missing: int = 0  # empty fields (NULL in the table), counted in the parsed file


@dataclass(frozen=True)
class BadRow:
    line: int
    fields: int
    expected: int
    text: str


@dataclass(frozen=True)
class IngestPlan:
    """Everything :func:`commit` will do, decided before anything is written."""

    filename: str
    format: FileFormat
    database: str
    table: str
    columns: list[ColumnPlan]
    data: pa.Table
    raw_bytes: bytes
    raw_filename: str
    size: int
    delimiter: str | None = None
    quoted: bool = False
    encoding: str = "utf-8"
    compression: str | None = None
    bad_rows: list[BadRow] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    multiline: bool = False

    @property
    def rows(self) -> int:
        return int(self.data.num_rows)

    @property
    def renames(self) -> list[tuple[str, str]]:
        return [(c.source, c.name) for c in self.columns if c.source != c.name]

    @property
    def raw_registrable(self) -> bool:
        return self.raw_problem is None

    @property
    def raw_problem(self) -> str | None:
        """Why the raw file cannot be the table as planned, or ``None``. CSV columns are read by position, so
        names and types are free; JSON lines and Parquet are read by name, so a rename or a type change needs
        the curated copy. Skipped malformed rows stay in the raw file; line breaks inside fields cannot be read
        by Athena's CSV readers."""
        if self.bad_rows:
            return "it still holds the malformed rows that were skipped"
        if self.multiline:
            return "some fields hold line breaks, which Athena cannot read from a raw CSV"
        if self.format == "json":
            return "a JSON array cannot be read as a table where it lies"
        if self.format in ("csv", "tsv"):
            return None
        if all(c.source == c.name and c.type == c.inferred for c in self.columns):
            return None
        return "it is read by column name, and names or types differ from the file's"

    @property
    def raw_prefix(self) -> str:
        return f"{RAW_ZONE}{self.database}/{self.table}/"

    @property
    def curated_prefix(self) -> str:
        return f"{CURATED_ZONE}{self.database}/{self.table}/"

    def with_columns(self, columns: Sequence[ColumnPlan]) -> IngestPlan:
        """The plan with the analyst's names and types; refuses invalid, blank or duplicate names and unknown types."""
        if [c.source for c in columns] != [c.source for c in self.columns]:
            raise IngestError(
                "The edited schema must keep every column of the file, in order; only names and types change."
            )
        seen: dict[str, str] = {}
        out = []
        for column in columns:
            name = column.name.strip().lower()
            if not COLUMN_NAME.match(name):
                raise IngestError(
                    f"Column name {column.name!r} (for {column.source!r}) is not a valid Glue name: use lower-case "
                    "letters, digits and underscores."
                )
            if name in seen:
                raise IngestError(
                    f"Two columns would be called {name!r} ({seen[name]!r} and {column.source!r}); rename one."
                )
            seen[name] = column.source
            kind = column.type.strip().lower()
            try:
                glue_type_to_duckdb(kind)
            except CatalogError:
                raise IngestError(
                    f"Type {column.type!r} for column {name!r} is not a Glue type; use one of {', '.join(GLUE_TYPES)}."
                ) from None
            out.append(dataclasses.replace(column, name=name, type=kind))
        return dataclasses.replace(self, columns=out)


@dataclass(frozen=True)
class IngestResult:
    tables: list[TableDef]
    keys: list[str]
    rows: int
    notes: list[str] = field(default_factory=list)

    @property
    def table(self) -> TableDef:
        """The table to query: the curated copy when there is one."""
        return self.tables[0]


# -- names ----------------------------------------------------------------------------------------------------
def table_name(text: str, what: str = "table") -> tuple[str, str | None]:
    """A Glue database/table name from what the analyst typed, and a note when it had to be changed."""
    raw = text.strip()
    if not raw:
        raise IngestError(f"Give a {what} name.")
    check_inside_lake(raw, f"{what} name")
    name = sanitize_name(raw).strip("_") or ""
    if not name:
        raise IngestError(f"The {what} name {raw!r} has no letters or digits; give a name such as my_reviews.")
    if name[0].isdigit():
        name = f"t_{name}"
    try:
        validate_identifier(name, what)
    except CatalogError as exc:
        raise IngestError(str(exc)) from None
    note = (
        f"The {what} name {raw!r} becomes {name!r} (Glue names are lower-case letters, digits and _)."
        if name != raw
        else None
    )
    return name, note


def column_names(headers: Sequence[str]) -> tuple[list[str], list[str]]:
    """Glue names for a header row: sanitised like awswrangler, blanks named ``col_<n>``, duplicates numbered."""
    names: list[str] = []
    notes: list[str] = []
    taken: set[str] = set()
    blanks: list[int] = []
    duplicates: list[str] = []
    for index, header in enumerate(headers, start=1):
        base = sanitize_name(str(header).strip())
        if not base.strip("_"):
            base = f"col_{index}"
            blanks.append(index)
        name = base
        counter = 2
        while name in taken:
            name = f"{base}_{counter}"
            counter += 1
        if name != base:
            duplicates.append(f"{header!r} -> {name!r}")
        taken.add(name)
        names.append(name)
    if blanks:
        shown = ", ".join(str(i) for i in blanks[:10])
        notes.append(f"{len(blanks)} column(s) had no name (position {shown}); they are called col_<position>.")
    if duplicates:
        notes.append(f"Some column names repeat; the repeats are numbered: {'; '.join(duplicates[:10])}.")
    return names, notes


def safe_filename(filename: str) -> str:
    name = filename.strip()
    if not name:
        raise IngestError("The file has no name; give it one such as reviews.csv.")
    check_inside_lake(name, "file name")
    if name.startswith((".", "_")):
        raise PathError(
            f"The file name {name!r} starts with '{name[0]}', and Athena skips such files in a table's folder; "
            "rename it, e.g. reviews.csv."
        )
    clean_key(name)
    return name


def hive_escape(value: str) -> str:
    """Hive's escapePathName: the characters a partition folder name cannot hold, as %XX."""
    out = []
    for char in value:
        if char in "\"#%'*/:=?\\{[]^" or ord(char) < 32 or ord(char) == 127:
            out.append(f"%{ord(char):02X}")
        else:
            out.append(char)
    escaped = "".join(out)
    return escaped.replace(".", "%2E") if escaped in (".", "..") else escaped


def first_line(exc: BaseException) -> str:
    """An error's first line (or its type's name), to quote inside one of LakeLens's sentences."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


# -- types ----------------------------------------------------------------------------------------------------
def typed_table(plan: IngestPlan) -> pa.Table:
    """The parsed rows with the plan's names and types; a value that does not fit its type is reported."""
    arrays = []
    fields = []
    for index, column in enumerate(plan.columns):
        array = plan.data.column(index)
        target = array.type if column.type == column.inferred else glue_to_arrow(column.type)
        if not array.type.equals(target):
            try:
                array = _cast(array, target)
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError) as exc:
                raise IngestError(
                    f"Column {column.name!r} cannot be {column.type}: {first_line(exc)}. Keep the inferred type "
                    f"({column.inferred}) or fix the values."
                ) from None
        arrays.append(array)
        fields.append(pa.field(column.name, target))
    return pa.Table.from_arrays(arrays, schema=pa.schema(fields))


def _cast(array: pa.ChunkedArray, target: pa.DataType) -> pa.ChunkedArray:
    if pa.types.is_boolean(target) and pa.types.is_string(array.type):
        lowered = pc.utf8_lower(pc.utf8_trim_whitespace(array))
        truthy = pc.is_in(lowered, value_set=pa.array(["true", "t", "yes", "y", "1"]))
        falsy = pc.is_in(lowered, value_set=pa.array(["false", "f", "no", "n", "0"]))
        unknown = pc.and_(pc.invert(pc.or_(truthy, falsy)), pc.not_equal(lowered, ""))
        if pc.any(unknown).as_py():
            example = pc.filter(array, unknown)[0].as_py()
            raise pa.ArrowInvalid(f"the value {example!r} is not true/false")
        return pc.if_else(truthy, True, pc.if_else(falsy, False, None))
    if pa.types.is_string(target) and (pa.types.is_struct(array.type) or pa.types.is_list(array.type)):
        return pa.chunked_array(
            [pa.array([None if v is None else json.dumps(v, default=str) for v in array.to_pylist()])]
        )
    return array.cast(target)


def glue_to_arrow(glue_type: str) -> pa.DataType:
    """The Arrow type that stores a Glue type (complex types as Arrow's own)."""
    text = glue_type.strip().lower()
    simple = {
        "string": pa.string(),
        "varchar": pa.string(),
        "char": pa.string(),
        "bigint": pa.int64(),
        "int": pa.int32(),
        "integer": pa.int32(),
        "smallint": pa.int16(),
        "tinyint": pa.int8(),
        "double": pa.float64(),
        "float": pa.float32(),
        "boolean": pa.bool_(),
        "date": pa.date32(),
        "timestamp": pa.timestamp("ms"),
        "binary": pa.binary(),
    }
    if text in simple:
        return simple[text]
    match = re.fullmatch(r"decimal\((\d+)\s*,\s*(\d+)\)", text)
    if match:
        return pa.decimal128(int(match.group(1)), int(match.group(2)))
    if re.fullmatch(r"(varchar|char)\(\d+\)", text):
        return pa.string()
    if text.startswith("array<") and text.endswith(">"):
        return pa.list_(glue_to_arrow(text[6:-1]))
    if text.startswith("map<") and text.endswith(">"):
        key, value = _split_types(text[4:-1])
        return pa.map_(glue_to_arrow(key), glue_to_arrow(value))
    if text.startswith("struct<") and text.endswith(">"):
        members = [member.partition(":") for member in _split_types(text[7:-1])]
        return pa.struct([pa.field(name.strip(), glue_to_arrow(kind)) for name, _, kind in members])
    raise IngestError(f"Type {glue_type!r} is not a Glue type LakeLens can write.")


def _split_types(text: str) -> list[str]:
    """Split ``a:int,b:map<string,int>`` at the commas that are not inside brackets."""
    parts, depth, start = [], 0, 0
    for index, char in enumerate(text):
        depth += 1 if char in "<(" else -1 if char in ">)" else 0
        if char == "," and depth == 0:
            parts.append(text[start:index].strip())
            start = index + 1
    parts.append(text[start:].strip())
    return [part for part in parts if part]
