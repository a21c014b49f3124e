"""Bring a file into the lake as a table: the course's raw -> registered -> curated step, on either backend.

An ingest has two halves. :func:`plan_ingest` reads the uploaded bytes and decides everything without writing:
format, delimiter, encoding, the rows (malformed ones reported by line), the column names (sanitised the way
awswrangler does it, the mapping kept) and their Glue types. The analyst may edit names and types
(:meth:`IngestPlan.with_columns`). :func:`commit` then writes through the :class:`Backend` interface only:

* the raw file under ``raw/<database>/<table>/<file name>`` (as uploaded; re-encoded as UTF-8 when it was not);
* optionally a curated Parquet copy under ``curated/<database>/<table>/[<column>=<value>/]part-0.parquet``;
* the table(s) in the catalog: with a curated copy, ``<table>`` is the Parquet copy and ``<table>_raw`` the raw
  file (as in ``demo.reviews`` / ``demo.reviews_raw``); without one, ``<table>`` is the raw file.

It is atomic: if anything fails after the first write, every object written is deleted, overwritten objects are
put back, tables are dropped or restored, and one :class:`IngestError` says what happened.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import re
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, Literal

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from lib.backends.base import Backend, ObjectInfo
from lib.catalog import (
    Column,
    Partition,
    TableDef,
    arrow_type_to_glue,
    delimited_table,
    glue_type_to_duckdb,
    json_table,
    parquet_table,
    validate_identifier,
)
from lib.errors import CatalogError, IngestCancelled, IngestError, LakeLensError, NotFound, PathError
from lib.lake.objects import (
    RangedFile,
    check_inside_lake,
    decode_text,
    gunzip_head,
    iter_keys,
    key_of_location,
    kind_from_bytes,
    kind_from_name,
    location_for,
    parquet_facts,
    sanitize_name,
    sniff_delimiter,
    split_compression,
    starts_quoted,
)
from lib.paths import clean_key, human_bytes, join_key

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
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
HIVE_NULL = "__HIVE_DEFAULT_PARTITION__"
_SCRATCH_MARK = ".lakelens-tmp-ingest-"  # a streaming ingest's scratch folder (its files are moved, not copied)
_COLUMN_NAME = re.compile(r"^[a-z0-9_]{1,255}$")
_OPEN_CSV_SERDE = "org.apache.hadoop.hive.serde2.OpenCSVSerde"


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
            if not _COLUMN_NAME.match(name):
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


# -- planning -------------------------------------------------------------------------------------------------
def plan_ingest(
    data: bytes,
    filename: str,
    *,
    database: str,
    table: str,
    fmt: IngestFormat = "auto",
    encoding: str = "utf-8",
    skip_bad_rows: bool = False,
    max_bytes: int | None = None,
    max_decompressed: int | None = None,
) -> IngestPlan:
    """Read ``data`` and decide names, types, rows and where everything goes; nothing is written. ``max_bytes``
    bounds the file, ``max_decompressed`` (default: ``max_bytes``) what a gzip file may expand to in memory."""
    filename = safe_filename(filename)
    if max_bytes is not None and len(data) > max_bytes:
        raise IngestError(
            f"{filename} is {human_bytes(len(data))}, over the {human_bytes(max_bytes)} ingest limit; "
            "raise LAKELENS_MAX_UPLOAD_BYTES or split the file."
        )
    if encoding not in ENCODINGS:
        raise IngestError(f"Encoding {encoding!r} is not offered; choose one of {', '.join(ENCODINGS)}.")
    notes: list[str] = []
    database, note = table_name(database, "database")
    notes += [note] if note else []
    table, note = table_name(table, "table")
    notes += [note] if note else []
    if not data or data.isspace():  # isspace() reads without copying a big upload
        raise IngestError(f"{filename} is empty; there is nothing to ingest.")
    base_name, compression = split_compression(filename)
    body = data
    if compression or data.startswith(b"\x1f\x8b"):
        body = _gunzip(data, filename, max_decompressed or max_bytes or MAX_DECOMPRESSED_BYTES)
        compression = "gzip"
        if not body or body.isspace():
            raise IngestError(f"{filename} is empty once decompressed; there is nothing to ingest.")
    file_format = _resolve_format(fmt, base_name, body)
    common: dict[str, Any] = {
        "filename": filename,
        "format": file_format,
        "database": database,
        "table": table,
        "size": len(data),
        "compression": compression,
    }
    if file_format == "parquet":
        if encoding != "utf-8":
            notes.append("The encoding option applies to text files only; Parquet stores its own.")
        try:
            parsed = pq.read_table(pa.BufferReader(body))
        except (pa.ArrowException, OSError) as exc:
            raise IngestError(f"{filename} is not a readable Parquet file ({_first_line(exc)}).") from None
        if parsed.num_rows == 0:
            raise IngestError(f"{filename} has columns but no rows; there is nothing to ingest.")
        plan = _plan_columns(parsed, [f.name for f in parsed.schema], notes)
        return IngestPlan(columns=plan, data=parsed, raw_bytes=data, raw_filename=filename, notes=notes, **common)
    text = _decode(body, filename, encoding)
    utf16 = body.startswith(_UTF16_BOMS)
    lone_cr = "\r" in text[:65_536] and "\n" not in text
    if lone_cr:
        text = text.replace("\r", "\n")
        notes.append("Lines ended in a carriage return alone (old Mac style); they end in a line feed in the lake.")
    if file_format != "json" and len(text) > MAX_ROW_BYTES:
        _check_line_lengths(text, filename)
    raw_bytes, raw_filename = data, filename
    if encoding != "utf-8" or body.startswith(b"\xef\xbb\xbf") or utf16 or lone_cr:
        raw_bytes, raw_filename = text.encode("utf-8"), base_name
        if encoding != "utf-8":
            notes.append(f"The file was read as {encoding} and lands in the raw zone re-encoded as UTF-8.")
        if utf16:
            notes.append("The file was UTF-16 text and lands in the raw zone re-encoded as UTF-8.")
    if file_format in ("json", "jsonl"):
        parsed, headers, bad = _parse_json(text, filename, file_format, skip_bad_rows)
        if file_format == "json":
            notes.append(
                "A JSON array cannot be read as a table where it lies; the table will be a curated Parquet copy."
            )
        if bad:
            notes.append(
                f"{len(bad):,} line(s) that are not JSON objects skipped (line {', '.join(str(b.line) for b in bad[:10])}); "
                "the table will be a curated Parquet copy without them."
            )
        plan = _plan_columns(parsed, headers, notes)
        return IngestPlan(
            columns=plan,
            data=parsed,
            raw_bytes=raw_bytes,
            raw_filename=raw_filename,
            encoding=encoding,
            bad_rows=bad,
            notes=notes,
            **common,
        )
    delimiter = "\t" if file_format == "tsv" else sniff_delimiter(text[:65_536], "csv")
    quoted = starts_quoted(text[:1_000_000], delimiter)
    parsed, headers, bad = _parse_delimited(text, filename, delimiter, quoted, skip_bad_rows)
    plan = _plan_columns(parsed, headers, notes)
    multiline = quoted and any(
        pc.any(pc.match_substring(col, "\n")).as_py() for col in parsed.columns if pa.types.is_string(col.type)
    )
    if multiline:
        notes.append(
            "Some fields hold line breaks, which Athena cannot read from a raw CSV; the table will be a curated Parquet copy."
        )
    if bad:
        notes.append(
            f"{len(bad):,} malformed row(s) skipped (line {', '.join(str(b.line) for b in bad[:10])}); the raw file "
            "keeps them, so the table will be a curated Parquet copy without them."
        )
    return IngestPlan(
        multiline=multiline,
        columns=plan,
        data=parsed,
        raw_bytes=raw_bytes,
        raw_filename=raw_filename,
        delimiter=delimiter,
        quoted=quoted,
        encoding=encoding,
        bad_rows=bad,
        notes=notes,
        **{**common, "format": "tsv" if delimiter == "\t" else "csv"},
    )


def _resolve_format(fmt: IngestFormat, base_name: str, body: bytes) -> FileFormat:
    if fmt not in FORMATS:
        raise IngestError(f"Format {fmt!r} is not one LakeLens ingests; use {', '.join(FORMATS)}.")
    if fmt != "auto":
        return fmt
    kind = kind_from_name(base_name)
    if kind in ("csv", "tsv", "json", "jsonl", "parquet"):
        return kind  # type: ignore[return-value]
    if kind == "image":
        raise IngestError(f"{base_name} is an image; ingest reads CSV, TSV, JSON, JSON lines or Parquet.")
    sniffed = kind_from_bytes(body[:65_536])
    if sniffed in ("parquet", "json", "jsonl"):
        return sniffed  # type: ignore[return-value]
    if sniffed == "binary":
        raise IngestError(f"{base_name} is not text or Parquet; ingest reads CSV, TSV, JSON, JSON lines or Parquet.")
    return "csv"


def _gunzip(data: bytes, filename: str, limit: int) -> bytes:
    """Decompress a (possibly multi-member) gzip file, refusing one that expands past ``limit`` bytes: a few
    megabytes of gzip can hold gigabytes of zeros, and the plan holds the whole text in memory."""
    out = bytearray()
    rest = data
    decompressor = zlib.decompressobj(wbits=31)
    try:
        while True:
            out += decompressor.decompress(rest, limit + 1 - len(out))
            if len(out) > limit:
                raise IngestError(
                    f"{filename} expands to more than {human_bytes(limit)} once decompressed, over the ingest limit; "
                    "raise LAKELENS_MAX_UPLOAD_BYTES or split the file."
                )
            if decompressor.unconsumed_tail:
                rest = decompressor.unconsumed_tail
                continue
            if not decompressor.eof:
                raise IngestError(
                    f"{filename} is gzip-compressed but ends before its compressed data does; the upload was "
                    "probably cut short: compress or upload it again."
                )
            rest = decompressor.unused_data
            if not rest.strip(b"\x00"):
                return bytes(out)
            decompressor = zlib.decompressobj(wbits=31)  # the next member of a multi-member file
    except zlib.error as exc:
        raise IngestError(f"{filename} looks gzip-compressed but cannot be decompressed ({exc}).") from None


def _check_line_lengths(text: str, filename: str) -> None:
    """Refuse a line longer than Athena's 32 MB row limit, naming it (only files over 32 MB can hold one)."""
    start = 0
    number = 1
    while start < len(text):
        end = text.find("\n", start)
        stop = len(text) if end < 0 else end
        if stop - start > MAX_ROW_BYTES:
            raise IngestError(
                f"Line {number:,} of {filename} is {human_bytes(stop - start)}; Athena cannot read a row over "
                f"{human_bytes(MAX_ROW_BYTES)}, so split that text or keep it outside the table."
            )
        if end < 0:
            return
        start = end + 1
        number += 1


def _decode(body: bytes, filename: str, encoding: str) -> str:
    if body.startswith(_UTF16_BOMS):
        try:
            return body.decode("utf-16")
        except UnicodeDecodeError:
            raise IngestError(f"{filename} starts like UTF-16 text but is not; save it as CSV (UTF-8).") from None
    sample = body[:65_536]
    nuls = sample.count(b"\x00")
    if nuls and (nuls > max(2, len(sample) // 100) or not _utf8_prefix(sample)):
        raise IngestError(
            f"{filename} holds binary data, not text: is it a spreadsheet, an archive or an image? Export it as CSV "
            "(UTF-8), JSON lines or Parquet first."
        )
    if encoding == "utf-8":
        text, used, _ = decode_text(body, partial=False)
        if used != "utf-8":
            try:
                body.removeprefix(b"\xef\xbb\xbf").decode("utf-8")
            except UnicodeDecodeError as exc:
                line = body[: exc.start].count(b"\n") + 1
                raise IngestError(
                    f"{filename} is not UTF-8 text: line {line} has the byte 0x{body[exc.start]:02X}, which UTF-8 "
                    "does not allow. If it came from Excel or an older system, choose the latin-1 encoding "
                    "(--encoding latin-1)."
                ) from None
        return text
    return body.decode(encoding, errors="strict" if encoding == "latin-1" else "replace")


def _utf8_prefix(sample: bytes) -> bool:
    """Whether ``sample`` is UTF-8, allowing a character cut at its end."""
    try:
        sample.decode("utf-8")
    except UnicodeDecodeError as exc:
        return exc.start >= len(sample) - 3
    return True


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _parse_delimited(
    text: str, filename: str, delimiter: str, quoted: bool, skip_bad_rows: bool
) -> tuple[pa.Table, list[str], list[BadRow]]:
    quoting: Literal[0, 1, 2, 3] = csv.QUOTE_MINIMAL if quoted else csv.QUOTE_NONE
    reader = csv.reader(io.StringIO(text), delimiter=delimiter, quoting=quoting)
    try:
        headers = next(reader)
        while not any(h.strip() for h in headers):
            headers = next(reader)
    except StopIteration:
        raise IngestError(f"{filename} is empty; there is nothing to ingest.") from None
    except csv.Error as exc:
        raise IngestError(f"The first line of {filename} cannot be read as column names ({exc}).") from None
    header_lines = reader.line_num
    expected = len(headers)
    invalid: list[int] = []

    def on_invalid(row: Any) -> str:
        invalid.append(row.actual_columns)
        return "skip"

    parts = text.split("\n", header_lines)
    body = parts[header_lines] if len(parts) > header_lines else ""
    if not body.strip():
        raise IngestError(f"{filename} has column names but no rows; there is nothing to ingest.")
    placeholder = [f"c{i}" for i in range(expected)]
    try:
        parsed = pacsv.read_csv(
            io.BytesIO(body.encode("utf-8")),
            read_options=pacsv.ReadOptions(column_names=placeholder, use_threads=False, block_size=2 * MAX_ROW_BYTES),
            parse_options=pacsv.ParseOptions(
                delimiter=delimiter,
                quote_char='"' if quoted else False,
                double_quote=True,
                newlines_in_values=quoted,
                invalid_row_handler=on_invalid,
            ),
            # An empty field is a missing value (NULL) for every type, as pandas' read_csv and awswrangler give it;
            # only the empty field and Hive's \N mark one, so a review that says "NA" or "null" stays text.
            convert_options=pacsv.ConvertOptions(
                strings_can_be_null=True, quoted_strings_can_be_null=True, null_values=["", "\\N"]
            ),
        )
    except pa.ArrowInvalid as exc:
        raise IngestError(
            f"{filename} cannot be read as {_delimiter_name(delimiter)}-separated text ({_first_line(exc)})."
        ) from None
    bad: list[BadRow] = []
    if invalid:
        bad = _bad_rows(text, delimiter, quoting, expected)
        if not skip_bad_rows:
            shown = "; ".join(f"line {b.line}: {b.fields} field(s)" for b in bad[:5])
            more = f" and {len(bad) - 5:,} more" if len(bad) > 5 else ""
            raise IngestError(
                f"{len(bad):,} row(s) of {filename} do not have the {expected} fields of the header ({shown}{more}). "
                "Fix them, or skip them with --skip-bad-rows ('Skip malformed rows' on the page)."
            )
    if parsed.num_rows == 0:
        raise IngestError(f"{filename} has column names but no rows; there is nothing to ingest.")
    columns = [col.cast(pa.string()) if pa.types.is_null(col.type) else col for col in parsed.columns]
    return pa.Table.from_arrays(columns, names=placeholder), headers, bad


def _bad_rows(text: str, delimiter: str, quoting: Literal[0, 1, 2, 3], expected: int) -> list[BadRow]:
    """Malformed rows with their line numbers, found by Python's csv reader (pyarrow counts rows, not lines)."""
    reader = csv.reader(io.StringIO(text), delimiter=delimiter, quoting=quoting)
    bad: list[BadRow] = []
    start = 1
    header_seen = False
    for record in reader:
        if not record or not any(field.strip() for field in record):
            start = reader.line_num + 1
            continue
        if not header_seen:
            header_seen = True
        elif len(record) != expected:
            bad.append(BadRow(start, len(record), expected, delimiter.join(record)[:200]))
        start = reader.line_num + 1
    return bad


def _delimiter_name(delimiter: str) -> str:
    return {",": "comma", "\t": "tab", ";": "semicolon", "|": "pipe"}.get(delimiter, repr(delimiter))


def _parse_json(
    text: str, filename: str, file_format: FileFormat, skip_bad_rows: bool
) -> tuple[pa.Table, list[str], list[BadRow]]:
    records: list[Any]
    bad: list[BadRow] = []
    if file_format == "json" and text.lstrip().startswith("["):
        try:
            records = json.loads(text)
        except json.JSONDecodeError as exc:
            raise IngestError(
                f"{filename} is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}."
            ) from None
        except RecursionError:
            raise IngestError(_too_deep(filename)) from None
    elif file_format == "json" and text.lstrip().startswith("{") and _single_document(text):
        records = [json.loads(text)]
    else:
        records = []
        first = ""
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                value = json.loads(line)
            except json.JSONDecodeError as exc:
                bad.append(BadRow(number, 0, 0, line[:200]))
                first = first or f"{exc.msg} at column {exc.colno}"
                continue
            except RecursionError:
                raise IngestError(_too_deep(filename, number)) from None
            if not isinstance(value, dict):
                bad.append(BadRow(number, 0, 0, line[:200]))
                first = first or "the line is not a JSON object"
                continue
            records.append(value)
        if bad and not skip_bad_rows:
            lines = ", ".join(str(b.line) for b in bad[:5])
            more = f" and {len(bad) - 5:,} more" if len(bad) > 5 else ""
            raise IngestError(
                f"{len(bad):,} line(s) of {filename} are not JSON objects (line {lines}{more}; first: {first}). "
                "Fix them, or skip them with --skip-bad-rows ('Skip malformed rows' on the page)."
            )
    if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
        raise IngestError(f"{filename} must hold JSON objects: a list of them, or one per line.")
    if not records:
        raise IngestError(f"{filename} holds no records; there is nothing to ingest.")
    try:
        array = pa.array(records)
    except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
        raise IngestError(
            f"The records of {filename} do not share one shape ({_first_line(exc)}); make each key hold one kind of value."
        ) from None
    if not pa.types.is_struct(array.type) or array.type.num_fields == 0:
        raise IngestError(f"The records of {filename} have no keys; there is nothing to ingest.")
    parsed = pa.Table.from_struct_array(array)
    columns = [col.cast(pa.string()) if pa.types.is_null(col.type) else col for col in parsed.columns]
    headers = list(parsed.column_names)
    return pa.Table.from_arrays(columns, names=[f"c{i}" for i in range(len(columns))]), headers, bad


def _single_document(text: str) -> bool:
    try:
        json.loads(text)
    except json.JSONDecodeError:
        return False
    except RecursionError:
        raise IngestError(_too_deep("The file")) from None
    return True


def _too_deep(filename: str, line: int | None = None) -> str:
    where = f" (line {line:,})" if line else ""
    return f"{filename} nests lists or objects too deeply to read{where}; a table needs flat records."


def _plan_columns(parsed: pa.Table, headers: list[str], notes: list[str]) -> list[ColumnPlan]:
    names, name_notes = column_names(headers)
    notes += name_notes
    plans = []
    for header, name, arrow_field in zip(headers, names, parsed.schema, strict=True):
        glue = arrow_type_to_glue(arrow_field.type)
        missing = parsed.column(arrow_field.name).null_count
        plans.append(ColumnPlan(source=str(header), name=name, type=glue, inferred=glue, missing=missing))
    gaps = [(p.name, p.missing) for p in plans if p.missing]
    if gaps:
        shown = ", ".join(f"{n}: {m:,}" for n, m in gaps[:8])
        more = f" and {len(gaps) - 8} more columns" if len(gaps) > 8 else ""
        notes.append(f"Missing values (empty fields, NULL in the table) of {parsed.num_rows:,} rows: {shown}{more}.")
    renamed = [(h, n) for h, n in zip(headers, names, strict=True) if h != n]
    if renamed:
        shown = ", ".join(f"{h!r} -> {n}" for h, n in renamed[:8])
        more = f" and {len(renamed) - 8} more" if len(renamed) > 8 else ""
        notes.append(f"Column names were made Glue-safe (as awswrangler does): {shown}{more}.")
    return plans


# -- committing -----------------------------------------------------------------------------------------------
@dataclass
class _Undo:
    """What to undo if the ingest fails: objects written, objects overwritten, tables created or replaced."""

    written: list[str] = field(default_factory=list)
    backups: dict[str, bytes] = field(default_factory=dict)
    created: list[tuple[str, str]] = field(default_factory=list)
    replaced: list[tuple[TableDef, list[Partition]]] = field(default_factory=list)
    dropped: list[tuple[TableDef, list[Partition]]] = field(default_factory=list)


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
                    f"Column {column.name!r} cannot be {column.type}: {_first_line(exc)}. Keep the inferred type "
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


def _partition_value(value: Any) -> str:
    if value is None or value == "":
        return HIVE_NULL
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return str(value)


def _hive_escape(value: str) -> str:
    """Hive's escapePathName: the characters a partition folder name cannot hold, as %XX."""
    out = []
    for char in value:
        if char in "\"#%'*/:=?\\{[]^" or ord(char) < 32 or ord(char) == 127:
            out.append(f"%{ord(char):02X}")
        else:
            out.append(char)
    escaped = "".join(out)
    return escaped.replace(".", "%2E") if escaped in (".", "..") else escaped


def _parquet_bytes(table: pa.Table) -> bytes:
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink, compression="snappy", row_group_size=128_000)
    return bytes(sink.getvalue().to_pybytes())


def _curated_files(
    plan: IngestPlan, typed: pa.Table, partition_by: str | None
) -> tuple[list[tuple[str, bytes, tuple[str, ...]]], list[Column]]:
    """(key, Parquet bytes, partition values) for the curated copy, and the partition key columns."""
    prefix = plan.curated_prefix
    if not partition_by:
        return [(prefix + "part-0.parquet", _parquet_bytes(typed), ())], []
    names = [c.name for c in plan.columns]
    wanted = partition_by.strip().lower()
    if wanted not in names:
        matches = [c.name for c in plan.columns if c.source == partition_by]
        if not matches:
            raise IngestError(f"There is no column {partition_by!r} to partition by; choose one of {', '.join(names)}.")
        wanted = matches[0]
    if len(names) == 1:
        raise IngestError("A table with one column cannot be partitioned by it: no columns would be left in the files.")
    column = typed.column(wanted)
    values = pc.unique(column)
    if len(values) > MAX_PARTITIONS:
        raise IngestError(
            f"Partitioning by {wanted} would create {len(values):,} folders (at most {MAX_PARTITIONS:,}); "
            "pick a column with fewer distinct values, such as a category."
        )
    key_type = next(c.type for c in plan.columns if c.name == wanted)
    rest = typed.drop_columns([wanted])
    files: list[tuple[str, bytes, tuple[str, ...]]] = []
    for value in sorted(values.to_pylist(), key=lambda v: (v is None, str(v))):
        mask = pc.is_null(column) if value is None else pc.equal(column, pa.scalar(value, column.type))
        mask = pc.fill_null(mask, False)
        text = _partition_value(value)
        folder = f"{wanted}={_hive_escape(text)}/"
        files.append((prefix + folder + "part-0.parquet", _parquet_bytes(rest.filter(mask)), (text,)))
    return files, [Column(wanted, key_type, "partition key")]


def _comment(column: ColumnPlan) -> str:
    if column.comment:
        return column.comment
    return f"file column {column.source!r}" if column.source != column.name else ""


def _raw_table_def(backend: Backend, plan: IngestPlan, name: str) -> TableDef:
    columns = [Column(c.name, c.type, _comment(c)) for c in plan.columns]
    location = location_for(backend, plan.raw_prefix)
    description = f"Raw zone: {plan.raw_filename} as ingested by LakeLens ({plan.rows:,} rows)"
    if plan.format == "parquet":
        table = parquet_table(plan.database, name, columns, location, description=description)
    elif plan.format == "jsonl":
        table = json_table(plan.database, name, columns, location, description=description)
    else:
        delimiter = plan.delimiter or ","
        table = delimited_table(plan.database, name, columns, location, delimiter=delimiter, description=description)
        if plan.quoted:
            table = dataclasses.replace(
                table,
                serde_library=_OPEN_CSV_SERDE,
                serde_parameters={"separatorChar": delimiter, "quoteChar": '"', "escapeChar": "\\"},
            )
    return dataclasses.replace(table, parameters={**table.parameters, **_source_parameters(plan)})


def _source_parameters(plan: IngestPlan) -> dict[str, str]:
    return {"lakelens.source_file": plan.filename, "lakelens.rows": str(plan.rows)}


def _existing(backend: Backend, database: str, name: str) -> tuple[TableDef, list[Partition]] | None:
    try:
        table = backend.get_table(database, name)
    except NotFound:
        return None
    partitions: list[Partition] = []
    token: str | None = None
    while True:
        page = backend.list_partitions(database, name, token=token, page_size=1000)
        partitions += page.partitions
        token = page.next_token
        if not token:
            break
    return table, partitions


def commit(
    backend: Backend,
    plan: IngestPlan,
    *,
    curated: bool = False,
    partition_by: str | None = None,
    replace: bool = False,
) -> IngestResult:
    """Write the raw file (and the curated copy), register the table(s); all or nothing."""
    notes: list[str] = []
    curated = curated or bool(partition_by)
    if not plan.raw_registrable and not curated:
        curated = True
        notes.append(
            f"The table is a curated Parquet copy; the raw file is kept but not registered ({plan.raw_problem})."
        )
    typed = typed_table(plan)
    raw_key = join_key(plan.raw_prefix, plan.raw_filename)
    files: list[tuple[str, Source, dict[str, str]]] = [
        (raw_key, plan.raw_bytes, {"lakelens-source-file": plan.filename})
    ]
    if plan.encoding != "utf-8":
        files[0][2]["lakelens-source-encoding"] = plan.encoding
    targets: list[tuple[TableDef, list[Partition] | None]] = []
    if curated:
        parts, keys = _curated_files(plan, typed, partition_by)
        files += [(key, data, {}) for key, data, _ in parts]
        columns = [Column(c.name, c.type, _comment(c)) for c in plan.columns if c.name not in {k.name for k in keys}]
        table = parquet_table(
            plan.database,
            plan.table,
            columns,
            location_for(backend, plan.curated_prefix),
            partition_keys=keys,
            description=f"Curated zone: {plan.filename} as Parquet ({plan.rows:,} rows)"
            + (f", partitioned by {keys[0].name}" if keys else ""),
            parameters=_source_parameters(plan),
        )
        found_partitions = [
            Partition(values, location_for(backend, key.rsplit("/", 1)[0] + "/")) for key, _, values in parts if values
        ]
        targets.append((table, found_partitions if keys else None))
        if plan.raw_registrable:
            targets.append((_raw_table_def(backend, plan, _raw_name(plan.table)), None))
    else:
        targets.append((_raw_table_def(backend, plan, plan.table), None))

    prefixes = [plan.raw_prefix] + ([plan.curated_prefix] if curated else [])
    return apply(
        backend,
        plan.database,
        f"Ingest of {plan.filename}",
        files,
        targets,
        prefixes,
        replace=replace,
        rows=plan.rows,
        notes=notes,
        stale=stale_raw(backend, plan, replace=replace, curated=curated),
    )


def stale_raw(
    backend: Backend, plan: IngestPlan, *, replace: bool, curated: bool
) -> list[tuple[TableDef, list[Partition]]]:
    """Replacing a curated table with a raw-only one: the old ``<table>_raw`` over the same files goes."""
    if not replace or curated:
        return []
    old_raw = _existing(backend, plan.database, _raw_name(plan.table))
    if old_raw and key_of_location(backend, old_raw[0].location) == plan.raw_prefix:
        return [old_raw]
    return []


Source = bytes | Path  # an object's content: bytes in memory, or a local file streamed (and, if moved, renamed)


def apply(
    backend: Backend,
    database: str,
    label: str,
    files: Sequence[tuple[str, Source, dict[str, str]]],
    targets: Sequence[tuple[TableDef, list[Partition] | None]],
    prefixes: Sequence[str],
    *,
    replace: bool,
    rows: int,
    notes: list[str],
    stale: Sequence[tuple[TableDef, list[Partition]]] = (),
    progress: Callable[[str, int], None] | None = None,
) -> IngestResult:
    """Write ``files`` and register ``targets``, all or nothing: the refusals first, then the writes, and on any
    failure (or an interrupt) every write undone. A :class:`~pathlib.Path` source is streamed (files under a
    LakeLens scratch folder are moved); ``progress`` hears (key, bytes done) as they go. ``label`` starts the
    failure's sentence ("Ingest of reviews.tsv"); ``stale`` tables are dropped once the new ones are in."""
    # Everything that can be refused is refused before the first write.
    previous = {t.name: _existing(backend, database, t.name) for t, _ in targets}
    clashing = [name for name, old in previous.items() if old is not None]
    if clashing and not replace:
        names = " and ".join(f"{database}.{n}" for n in clashing)
        raise IngestError(
            f"Table {names} already exists; pass --replace (on the page: tick 'Replace the existing table') "
            "to overwrite it."
        )
    old_objects: list[ObjectInfo] = []
    for prefix in prefixes:
        found, capped = iter_keys(backend, prefix, MAX_OLD_OBJECTS)
        if capped:
            raise IngestError(
                f"{prefix} holds over {MAX_OLD_OBJECTS:,} objects; LakeLens will not replace that much in one step."
            )
        old_objects += found
    if old_objects and not replace:
        occupied = " and ".join(p for p in prefixes if any(o.key.startswith(p) for o in old_objects))
        raise IngestError(
            f"{occupied} already holds {len(old_objects):,} file(s) that no table of this name owns; pick another "
            "table name, or replace to clear them."
        )
    new_keys = {key for key, _, _ in files}
    undo = _Undo()
    step = "writing the raw file"
    try:
        for key, source, metadata in files:
            if key in {o.key for o in old_objects}:
                undo.backups[key] = backend.read(key)
            if isinstance(source, Path):
                tell = (lambda done, key=key: progress(key, done)) if progress else None
                scratch = any(part.startswith(_SCRATCH_MARK) for part in source.parts)
                backend.write_file(
                    key, source, content_type=_content_type(key), metadata=metadata or None, progress=tell, move=scratch
                )
            else:
                backend.write(key, source, content_type=_content_type(key), metadata=metadata or None)
            undo.written.append(key)
            step = "writing the curated Parquet copy"
        step = "registering the table"
        if not any(db.name == database for db in backend.list_databases()):
            backend.create_database(database, "Created by a LakeLens ingest")
        registered = []
        for table, partitions in targets:
            old = previous[table.name]
            stored = backend.register_table(table, partitions=partitions, replace=old is not None)
            if old is None:
                undo.created.append((table.database, table.name))
            else:
                undo.replaced.append(old)
            registered.append(stored)
        step = "dropping the old raw table"
        for table, partitions in stale:
            backend.drop_table(table.database, table.name)
            undo.dropped.append((table, partitions))
        step = "removing the old files"
        for obj in old_objects:
            if obj.key not in new_keys:
                backend.delete(obj.key)
    except BaseException as exc:
        problems = _rollback(backend, undo)
        if not isinstance(exc, Exception) or isinstance(exc, IngestCancelled):  # undone, then passed on
            raise
        reason = str(exc) if isinstance(exc, LakeLensError) else f"{type(exc).__name__}: {_first_line(exc)}"
        message = f"{label} failed while {step} ({reason.rstrip('.')}); everything it wrote was removed."
        if problems:
            message = (
                f"{label} failed while {step} ({reason.rstrip('.')}), and undoing it failed too "
                f"({'; '.join(problems)}); check {', '.join(prefixes)} by hand."
            )
        raise IngestError(message) from exc
    return IngestResult(registered, [key for key, _, _ in files], rows, notes)


def _raw_name(table: str) -> str:
    return f"{table}{RAW_SUFFIX}"


def _content_type(key: str) -> str:
    kind = kind_from_name(key)
    return {
        "csv": "text/csv",
        "tsv": "text/tab-separated-values",
        "json": "application/json",
        "jsonl": "application/x-ndjson",
        "parquet": "application/vnd.apache.parquet",
    }.get(kind or "", "application/octet-stream")


def _rollback(backend: Backend, undo: _Undo) -> list[str]:
    problems: list[str] = []

    def attempt(what: str, action: Callable[..., object], *args: Any, **kwargs: Any) -> None:
        try:
            action(*args, **kwargs)
        except Exception as exc:  # keep undoing the rest; report every failure
            problems.append(f"{what}: {_first_line(exc)}")

    for table, partitions in undo.dropped:
        attempt(f"restore {table.qualified_name}", backend.register_table, table, partitions=partitions, replace=True)
    for database, name in reversed(undo.created):
        attempt(f"drop {database}.{name}", backend.drop_table, database, name)
    for table, partitions in undo.replaced:
        attempt(f"restore {table.qualified_name}", backend.register_table, table, partitions=partitions, replace=True)
    for key in reversed(undo.written):
        if key in undo.backups:
            attempt(f"restore {key}", backend.write, key, undo.backups[key])
        else:
            attempt(f"delete {key}", backend.delete, key)
    return problems


def ingest_file(
    backend: Backend,
    path: Path,
    *,
    database: str,
    table: str,
    fmt: IngestFormat = "auto",
    encoding: str = "utf-8",
    skip_bad_rows: bool = False,
    curated: bool = False,
    partition_by: str | None = None,
    replace: bool = False,
) -> tuple[IngestPlan, IngestResult]:
    """The CLI's ingest of a file read whole: plan, commit. (A UTF-8 CSV/TSV of 64 MB or more is streamed instead,
    by :mod:`lib.ingest_stream`, at any size; the upload limit bounds only what is read whole here and is not a
    small UTF-8 CSV/TSV, which is never over it in practice.)"""
    base, _ = split_compression(path.name.lower())
    streamable_text = encoding == "utf-8" and (fmt in ("csv", "tsv") or base.endswith((".csv", ".tsv", ".tab", ".txt")))
    limit = None if streamable_text else backend.settings.max_upload_bytes
    try:
        size = path.stat().st_size
        if limit is not None and size > limit:
            raise IngestError(
                f"{path.name} is {human_bytes(size)}; JSON, Parquet and text that is not UTF-8 are read whole, up to "
                f"{human_bytes(limit)}. Raise LAKELENS_MAX_UPLOAD_BYTES, or convert it to a UTF-8 CSV/TSV, which is "
                "streamed at any size."
            )
        data = path.read_bytes()
    except OSError as exc:
        raise IngestError(f"Cannot read {path}: {exc.strerror or exc}.") from None
    plan = plan_ingest(
        data,
        path.name,
        database=database,
        table=table,
        fmt=fmt,
        encoding=encoding,
        skip_bad_rows=skip_bad_rows,
        max_bytes=limit,
        max_decompressed=backend.settings.max_upload_bytes,  # read whole, so bounded (a big gzip TSV is streamed)
    )
    return plan, commit(backend, plan, curated=curated, partition_by=partition_by, replace=replace)


# -- registering an existing prefix ---------------------------------------------------------------------------
def register_prefix(
    backend: Backend,
    prefix: str,
    *,
    database: str,
    table: str,
    fmt: IngestFormat = "auto",
    replace: bool = False,
) -> TableDef:
    """Register the files under ``prefix`` as a table: format from the names, schema from the first file,
    Hive ``key=value`` folders as partition keys (as a Glue crawler or MSCK REPAIR TABLE would find them)."""
    prefix = clean_key(prefix, folder=True)
    if not prefix:
        raise IngestError("Give the folder to register, such as raw/reviews/; the whole lake cannot be one table.")
    database, _ = table_name(database, "database")
    table, _ = table_name(table, "table")
    objects, _capped = iter_keys(backend, prefix, 100_000)
    files = [o for o in objects if not _hidden_key(o.key[len(prefix) :])]
    if not files:
        raise IngestError(f"There are no data files under {prefix}; nothing to register.")
    kinds = {_registered_kind(backend, o.key, fmt) for o in files}
    if len(kinds) > 1:
        raise IngestError(f"{prefix} mixes file formats ({', '.join(sorted(kinds))}); a table reads one format.")
    kind = kinds.pop()
    partition_names, partition_values = _hive_layout(prefix, files)
    sample = files[0]
    columns, delimiter, quoted = _sample_schema(backend, sample, kind)
    location = location_for(backend, prefix)
    keys = [Column(name, "string", "partition key") for name in partition_names]
    overlap = {c.name for c in columns} & set(partition_names)
    if overlap:
        raise IngestError(f"Column(s) {', '.join(sorted(overlap))} appear both in the files and as partition folders.")
    description = f"Registered by LakeLens from {prefix} (schema from {sample.key.rsplit('/', 1)[-1]})"
    if kind == "parquet":
        definition = parquet_table(database, table, columns, location, partition_keys=keys, description=description)
    elif kind == "jsonl":
        definition = dataclasses.replace(
            json_table(database, table, columns, location, description), partition_keys=keys
        )
    else:
        definition = delimited_table(
            database, table, columns, location, delimiter=delimiter, description=description, partition_keys=keys
        )
        if quoted:
            definition = dataclasses.replace(
                definition,
                serde_library=_OPEN_CSV_SERDE,
                serde_parameters={"separatorChar": delimiter, "quoteChar": '"', "escapeChar": "\\"},
            )
    partitions = [
        Partition(
            values,
            location_for(
                backend,
                prefix + "/".join(f"{k}={_hive_escape(v)}" for k, v in zip(partition_names, values, strict=True)),
            ),
        )
        for values in partition_values
    ]
    exists = _existing(backend, database, table) is not None
    if exists and not replace:
        raise IngestError(
            f"Table {database}.{table} already exists; pass --replace (on the page: tick 'Replace the existing "
            "table') to overwrite it."
        )
    if not any(db.name == database for db in backend.list_databases()):
        backend.create_database(database, "Created by LakeLens")
    return backend.register_table(definition, partitions=partitions if keys else None, replace=exists)


def _hidden_key(relative: str) -> bool:
    return any(part.startswith(("_", ".")) for part in relative.split("/"))


def _registered_kind(backend: Backend, key: str, fmt: IngestFormat) -> str:
    if fmt == "json":
        return "jsonl"
    if fmt != "auto":
        return fmt
    kind = kind_from_name(key)
    if kind in ("csv", "tsv", "jsonl", "parquet"):
        return kind
    if kind == "json":
        return "jsonl"
    head = backend.read(key, 0, 4096)
    sniffed = kind_from_bytes(head)
    if sniffed in ("parquet", "jsonl", "json"):
        return "jsonl" if sniffed == "json" else sniffed
    if sniffed == "text":
        return "csv"
    raise IngestError(f"{key} is not CSV, TSV, JSON lines or Parquet; LakeLens cannot register it.")


def _hive_layout(prefix: str, files: list[ObjectInfo]) -> tuple[list[str], list[tuple[str, ...]]]:
    from urllib.parse import unquote

    layouts: set[tuple[str, ...]] = set()
    values: dict[tuple[str, ...], None] = {}
    for obj in files:
        folders = obj.key[len(prefix) :].split("/")[:-1]
        names: list[str] = []
        found: list[str] = []
        for folder in folders:
            name, sep, value = folder.partition("=")
            if not sep:
                raise IngestError(
                    f"{obj.key} sits in the folder {folder!r}, which is not a key=value partition folder; register "
                    "the folder that holds the files instead."
                )
            names.append(name)
            found.append(unquote(value))
        layouts.add(tuple(names))
        values[tuple(found)] = None
    if len(layouts) > 1:
        raise IngestError(f"The files under {prefix} sit at different partition depths; a table needs one layout.")
    names = list(layouts.pop())
    for name in names:
        if not _COLUMN_NAME.match(name):
            raise IngestError(f"Partition folder name {name!r} is not a valid Glue column name.")
    return names, sorted(values) if names else []


def _sample_schema(backend: Backend, sample: ObjectInfo, kind: str) -> tuple[list[Column], str, bool]:
    if kind == "parquet":
        try:
            facts = parquet_facts(pq.ParquetFile(RangedFile(backend, sample.key, sample.size), pre_buffer=False))
        except (pa.ArrowException, OSError) as exc:
            raise IngestError(f"{sample.key} is not a readable Parquet file ({_first_line(exc)}).") from None
        return [_by_name(c.name, c.type, sample.key) for c in facts.columns], "", False
    head = backend.read(sample.key, 0, min(sample.size, SCHEMA_SAMPLE_BYTES))
    partial = sample.size > len(head)
    if split_compression(sample.key)[1] or head.startswith(b"\x1f\x8b"):
        head, partial = gunzip_head(head, SCHEMA_SAMPLE_BYTES * 4, partial)
    text, _, _ = decode_text(head, partial)
    if partial and "\n" in text:
        text = text[: text.rindex("\n") + 1]
    if kind == "jsonl":
        parsed, headers, _ = _parse_json(text, sample.key, "jsonl", skip_bad_rows=True)
        return (
            [_by_name(h, arrow_type_to_glue(f.type), sample.key) for h, f in zip(headers, parsed.schema, strict=True)],
            "",
            False,
        )
    delimiter = "\t" if kind == "tsv" else sniff_delimiter(text[:65_536], "csv")
    quoted = starts_quoted(text, delimiter)
    parsed, headers, _ = _parse_delimited(text, sample.key, delimiter, quoted, skip_bad_rows=True)
    names, _ = column_names(headers)
    return [Column(n, arrow_type_to_glue(f.type)) for n, f in zip(names, parsed.schema, strict=True)], delimiter, quoted


def _by_name(name: str, glue_type: str, key: str) -> Column:
    """Parquet and JSON are read by column name: only names that are Glue names already (case aside) can be used."""
    lowered = name.lower()
    if not _COLUMN_NAME.match(lowered):
        raise IngestError(
            f"{key} has a column {name!r}, which is not a Glue column name, and files read by name cannot be renamed "
            "in place; ingest the file instead, which writes a copy with safe names."
        )
    return Column(lowered, glue_type)
