"""Reading an uploaded file's bytes into an :class:`~lib.lake.ingest.model.IngestPlan`, writing nothing: the
format (from the name, else the bytes), gzip, the text's encoding, delimited and JSON parsing with the malformed
rows found by line, and each column's Glue name and type."""

from __future__ import annotations

import csv
import io
import json
import zlib
from typing import Any, Literal

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from lib.catalog import arrow_type_to_glue
from lib.errors import IngestError
from lib.lake.ingest.model import (
    ENCODINGS,
    FORMATS,
    MAX_DECOMPRESSED_BYTES,
    MAX_ROW_BYTES,
    BadRow,
    ColumnPlan,
    FileFormat,
    IngestFormat,
    IngestPlan,
    column_names,
    first_line,
    safe_filename,
    table_name,
)
from lib.lake.objects import kind_from_bytes, kind_from_name, split_compression
from lib.lake.preview import decode_text, sniff_delimiter, starts_quoted
from lib.paths import human_bytes

_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")


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
            raise IngestError(f"{filename} is not a readable Parquet file ({first_line(exc)}).") from None
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
        parsed, headers, bad = parse_json(text, filename, file_format, skip_bad_rows)
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
    parsed, headers, bad = parse_delimited(text, filename, delimiter, quoted, skip_bad_rows)
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


def parse_delimited(
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
            f"{filename} cannot be read as {_delimiter_name(delimiter)}-separated text ({first_line(exc)})."
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


def parse_json(
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
            f"The records of {filename} do not share one shape ({first_line(exc)}); make each key hold one kind of value."
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
