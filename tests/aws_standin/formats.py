"""Text objects read as Hive's SerDes read them: LazySimpleSerDe, OpenCSVSerde and the JSON SerDe."""

from __future__ import annotations

import bz2
import csv
import gzip
import io
import json
from pathlib import Path
from typing import Any

from tests.aws_standin.errors import AthenaFailure
from tests.aws_standin.values import duck_type, quote_identifier

LAZY_SERDE = "org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe"
OPEN_CSV_SERDE = "org.apache.hadoop.hive.serde2.OpenCSVSerde"


def header_lines(table: dict[str, Any]) -> int:
    try:
        return int(table.get("Parameters", {}).get("skip.header.line.count", "0"))
    except ValueError:
        return 0


def decompress(path: Path) -> str:
    data = path.read_bytes()
    if path.suffix == ".gz":
        data = gzip.decompress(data)
    elif path.suffix == ".bz2":
        data = bz2.decompress(data)
    return data.decode("utf-8", errors="replace")


def _lines(text: str) -> list[str]:
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return lines


def _fit(row: list[str | None], width: int) -> list[str | None]:
    """Hive: fields past the table's columns are dropped, missing ones are NULL."""
    return (row + [None] * width)[:width]


def lazy_rows(text: str, width: int, options: dict[str, str], skip: int) -> list[list[str | None]]:
    """LazySimpleSerDe: split on ``field.delim`` (no quoting); ``\\N`` is NULL; ``escape.delim`` escapes."""
    delimiter = options.get("field.delim") or options.get("serialization.format") or "\x01"
    escape = options.get("escape.delim")
    null = options.get("serialization.null.format", "\\N")
    out: list[list[str | None]] = []
    for line in _lines(text)[skip:]:
        if escape:
            fields, current, index = [], "", 0
            while index < len(line):
                char = line[index]
                if char == escape and index + 1 < len(line):
                    current += line[index + 1]
                    index += 2
                    continue
                if line.startswith(delimiter, index):
                    fields.append(current)
                    current = ""
                    index += len(delimiter)
                    continue
                current += char
                index += 1
            fields.append(current)
        else:
            fields = line.split(delimiter)
        out.append(_fit([None if f == null else f for f in fields], width))
    return out


def open_csv_rows(text: str, width: int, options: dict[str, str], skip: int) -> list[list[str | None]]:
    """OpenCSVSerde: quoted fields, every value a string; an empty field is an empty string."""
    reader = csv.reader(
        io.StringIO(text),
        delimiter=options.get("separatorChar", ","),
        quotechar=options.get("quoteChar", '"'),
        escapechar=options.get("escapeChar", "\\"),
    )
    rows = list(reader)[skip:]
    return [_fit(list[str | None](row), width) for row in rows]


def json_rows(text: str, names: list[str], options: dict[str, str]) -> list[list[str | None]]:
    """OpenX JsonSerDe: one object per line, keys matched case-insensitively, missing keys NULL."""
    ignore_bad = options.get("ignore.malformed.json", "false").lower() == "true"
    out: list[list[str | None]] = []
    for number, line in enumerate(_lines(text), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            if not isinstance(record, dict):
                raise ValueError("not an object")
        except ValueError:
            if ignore_bad:
                out.append([None] * len(names))
                continue
            raise AthenaFailure(
                "HIVE_CURSOR_ERROR", f"Row is not a valid JSON Object - JSONException: line {number}", category=2
            ) from None
        lowered = {str(k).lower(): v for k, v in record.items()}
        row: list[str | None] = []
        for name in names:
            value = lowered.get(name)
            if value is None:
                row.append(None)
            elif isinstance(value, bool):
                row.append("true" if value else "false")
            elif isinstance(value, dict | list):
                row.append(json.dumps(value))
            else:
                row.append(str(value))
        out.append(row)
    return out


def text_cast(column: str, glue_type: str) -> str:
    """A text field as its column type: strings as they are, anything unparseable NULL, as Hive reads it."""
    duck = duck_type(glue_type)
    quoted = quote_identifier(column)
    if duck == "VARCHAR":
        return quoted
    if duck == "BOOLEAN":
        return f"CASE lower(trim({quoted})) WHEN 'true' THEN true WHEN 'false' THEN false END"
    return f"TRY_CAST(trim({quoted}) AS {duck})"
