"""What a file in the lake looks like, read as little as can be: text formats (CSV, TSV, JSON, JSON lines, plain
text, and their gzip variants) from the object's first megabyte; Parquet from the footer and the first row group
through :class:`RangedFile`, a file object whose reads become ranged reads of the backend, so a 10 GB Parquet file
costs a few kilobytes plus one row group; images whole up to a cap; anything else as a hex dump."""

from __future__ import annotations

import csv
import io
import json
import re
import zlib
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from lib.backends.base import Backend, ObjectInfo
from lib.catalog import Column, arrow_type_to_glue
from lib.errors import LakeLensError
from lib.lake.objects import (
    GZIP_MAGIC,
    IMAGE_EXTENSIONS,
    PARQUET_MAGIC,
    FileKind,
    extension,
    kind_from_bytes,
    kind_from_name,
    split_compression,
)
from lib.paths import human_bytes

PREVIEW_BYTES = 1_000_000
PREVIEW_ROWS = 100
IMAGE_BYTES = 10_000_000
TEXT_CHARS = 20_000


# -- ranged reads ---------------------------------------------------------------------------------------------
class RangedFile(io.RawIOBase):
    """A read-only file whose reads are ranged reads of one lake object (S3 GET with Range, locally a seek).

    pyarrow reads a Parquet footer and the column chunks it needs through it; nothing else is fetched.
    ``bytes_read`` and ``reads`` say what it cost, so a test can prove a preview did not fetch the whole file.
    """

    def __init__(self, backend: Backend, key: str, size: int | None = None) -> None:
        super().__init__()
        self.backend = backend
        self.key = key
        self.size = backend.stat(key).size if size is None else size
        self.position = 0
        self.bytes_read = 0
        self.reads = 0
        self._block_start = 0
        self._block = b""

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self.position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if whence == io.SEEK_SET:
            target = offset
        elif whence == io.SEEK_CUR:
            target = self.position + offset
        elif whence == io.SEEK_END:
            target = self.size + offset
        else:
            raise ValueError(f"invalid whence {whence}")
        self.position = max(0, target)
        return self.position

    def read(self, size: int = -1) -> bytes:
        if self.position >= self.size or size == 0:
            return b""
        end = self.size if size is None or size < 0 else min(self.size, self.position + size)
        block_end = self._block_start + len(self._block)
        if self._block_start <= self.position and end <= block_end:
            # Parquet readers fetch the file's tail for the footer, then ask again for parts of it.
            data = self._block[self.position - self._block_start : end - self._block_start]
        else:
            data = self.backend.read(self.key, self.position, end)
            self.bytes_read += len(data)
            self.reads += 1
            self._block_start, self._block = self.position, data
        self.position += len(data)
        return data

    def readall(self) -> bytes:
        return self.read(-1)

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


# -- previews -------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class RowGroupInfo:
    index: int
    rows: int
    bytes: int
    compressed_bytes: int


@dataclass(frozen=True)
class ParquetFacts:
    """What a Parquet footer says, read without the data."""

    rows: int
    row_groups: list[RowGroupInfo]
    columns: list[Column]
    created_by: str
    format_version: str
    compression: list[str]
    footer_bytes: int


@dataclass(frozen=True)
class Preview:
    """What the Lake page shows for one object."""

    key: str
    kind: FileKind
    size: int
    frame: pd.DataFrame | None = None
    text: str | None = None
    image: bytes | None = None
    image_type: str | None = None
    columns: list[Column] = field(default_factory=list)
    delimiter: str | None = None
    header: bool | None = None
    compression: str | None = None
    encoding: str | None = None
    parquet: ParquetFacts | None = None
    rows_estimate: int | None = None
    rows_exact: bool = False
    bytes_read: int = 0
    partial: bool = False
    notes: list[str] = field(default_factory=list)


def preview_object(
    backend: Backend,
    key: str,
    *,
    max_rows: int = PREVIEW_ROWS,
    max_bytes: int = PREVIEW_BYTES,
    info: ObjectInfo | None = None,
) -> Preview:
    """A preview of ``key``: rows for tabular files, text, an image, or a note saying why there is none."""
    info = info or backend.stat(key)
    _name, compression = split_compression(key)
    kind = kind_from_name(key)
    if kind == "parquet" or (kind is None and compression is None and _starts_with(backend, key, PARQUET_MAGIC)):
        return _preview_parquet(backend, key, info, max_rows)
    if kind == "image" and compression is None:
        return _preview_image(backend, key, info)
    raw = backend.read(key, 0, min(info.size, max_bytes)) if info.size else b""
    partial = info.size > len(raw)
    if compression is None and raw.startswith(GZIP_MAGIC):
        compression = "gzip"
    if compression == "gzip":
        raw, partial = gunzip_head(raw, max_bytes, partial)
    if kind is None:
        kind = kind_from_bytes(raw)
    if kind in ("parquet", "image"):
        return Preview(
            key, "binary", info.size, bytes_read=len(raw), notes=["Compressed files of this kind cannot be previewed."]
        )
    if kind == "binary":
        return Preview(key, "binary", info.size, text=hexdump(raw[:512]), bytes_read=len(raw), compression=compression)
    text, encoding, notes = decode_text(raw, partial)
    base: dict[str, Any] = {
        "key": key,
        "size": info.size,
        "compression": compression,
        "encoding": encoding,
        "partial": partial,
    }
    bytes_read = min(info.size, max_bytes)
    if kind in ("csv", "tsv"):
        return _preview_delimited(text, kind, max_rows, bytes_read=bytes_read, notes=notes, **base)
    if kind in ("json", "jsonl"):
        return _preview_json(text, kind, max_rows, bytes_read=bytes_read, notes=notes, **base)
    shown = text[:TEXT_CHARS]
    if len(text) > TEXT_CHARS or partial:
        notes.append(f"Showing the first {len(shown):,} characters of {human_bytes(info.size)}.")
    return Preview(kind="text", text=shown, bytes_read=bytes_read, notes=notes, **base)


def _starts_with(backend: Backend, key: str, magic: bytes) -> bool:
    try:
        return backend.read(key, 0, len(magic)) == magic
    except LakeLensError:
        return False


def gunzip_head(raw: bytes, max_bytes: int, partial: bool) -> tuple[bytes, bool]:
    """Decompress the start of a gzip stream, at most ``max_bytes`` of output, multi-member files included."""
    out = bytearray()
    data = raw
    try:
        while data and len(out) < max_bytes:
            decompressor = zlib.decompressobj(wbits=31)
            out += decompressor.decompress(data, max_bytes - len(out))
            if decompressor.unconsumed_tail:
                return bytes(out), True
            if not decompressor.eof:
                return bytes(out), True
            data = decompressor.unused_data
    except zlib.error as exc:
        raise LakeLensError(f"The file looks gzip-compressed but cannot be decompressed ({exc}).") from None
    return bytes(out), partial or bool(data)


def decode_text(raw: bytes, partial: bool) -> tuple[str, str, list[str]]:
    """UTF-8 (BOM dropped) when it is; otherwise latin-1, with a note. A cut multi-byte character is ignored."""
    notes: list[str] = []
    body = raw[3:] if raw.startswith(b"\xef\xbb\xbf") else raw
    try:
        return body.decode("utf-8"), "utf-8", notes
    except UnicodeDecodeError as exc:
        if partial and exc.start >= len(body) - 3:
            return body[: exc.start].decode("utf-8"), "utf-8", notes
        line = body[: exc.start].count(b"\n") + 1
        notes.append(
            f"This file is not UTF-8 (line {line} has the byte 0x{body[exc.start]:02X}); it is shown as latin-1."
        )
        return body.decode("latin-1"), "latin-1", notes


def _complete_lines(text: str, partial: bool) -> str:
    """Drop a last line that the read cut in the middle."""
    if partial and "\n" in text:
        return text[: text.rindex("\n") + 1]
    return text


def sniff_delimiter(sample: str, hint: FileKind | None = None) -> str:
    """The delimiter: tab for TSV names; otherwise what csv.Sniffer finds among , tab ; | (comma if unsure)."""
    if hint == "tsv":
        return "\t"
    lines = sample.splitlines()[:50]
    if not lines:
        return ","
    try:
        return csv.Sniffer().sniff("\n".join(lines), delimiters=",\t;|").delimiter
    except csv.Error:
        counts = {d: lines[0].count(d) for d in ",\t;|"}
        best = max(counts, key=lambda d: counts[d])
        return best if counts[best] else ","


def starts_quoted(sample: str, delimiter: str) -> bool:
    """Does any field open with a double quote? Then quotes are CSV quoting, not part of the text."""
    return re.search(f'(^|{re.escape(delimiter)})"', sample, flags=re.MULTILINE) is not None


def sniff_header(sample: str, delimiter: str) -> bool:
    """Is the first line a header? Sniffer's guess, unless the first line is all names and the rest is not."""
    lines = sample.splitlines()[:50]
    if len(lines) < 2:
        return True
    try:
        if csv.Sniffer().has_header("\n".join(lines)):
            return True
    except csv.Error:
        return True
    # The Sniffer says no when every column is text; a first line without numbers is still most likely names.
    first = next(csv.reader([lines[0]], delimiter=delimiter), [])
    return not any(re.fullmatch(r"\s*-?\d+(\.\d+)?\s*", value) for value in first)


def _preview_delimited(
    text: str,
    kind: FileKind,
    max_rows: int,
    *,
    key: str,
    size: int,
    compression: str | None,
    encoding: str,
    partial: bool,
    bytes_read: int,
    notes: list[str],
) -> Preview:
    body = _complete_lines(text, partial)
    delimiter = sniff_delimiter(body[:65_536], kind)
    header = sniff_header(body[:65_536], delimiter)
    quoted = starts_quoted(body[:65_536], delimiter)
    bad: list[int] = []

    def on_bad(fields: list[str]) -> None:
        bad.append(len(fields))
        return None

    try:
        frame = pd.read_csv(
            io.StringIO(body),
            sep=delimiter,
            header=0 if header else None,
            nrows=max_rows,
            quoting=csv.QUOTE_MINIMAL if quoted else csv.QUOTE_NONE,
            engine="python",
            on_bad_lines=on_bad,
            dtype_backend="pyarrow",
        )
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError) as exc:
        notes.append(f"The rows could not be split into columns ({str(exc).splitlines()[0]}); showing the text.")
        return Preview(key, "text", size, text=body[:TEXT_CHARS], bytes_read=bytes_read, partial=partial, notes=notes)
    if not header:
        frame.columns = [f"col_{i}" for i in range(len(frame.columns))]
    if bad:
        notes.append(
            f"{len(bad):,} row(s) among the first {max_rows:,} have the wrong number of fields and are hidden."
        )
    lines = body.count("\n") + (0 if body.endswith("\n") or not body else 1)
    data_lines = max(0, lines - (1 if header else 0))
    if partial and body:
        estimate = int(data_lines * size / max(1, len(body.encode("utf-8"))))
        rows_exact = False
    else:
        estimate = data_lines
        rows_exact = not starts_quoted(body.split("\n", 1)[-1], delimiter)
    names = {",": "comma", "\t": "tab", ";": "semicolon", "|": "pipe"}
    return Preview(
        key,
        kind if kind in ("csv", "tsv") else "csv",
        size,
        frame=display_frame(frame),
        columns=frame_columns(frame),
        delimiter=names.get(delimiter, repr(delimiter)),
        header=header,
        compression=compression,
        encoding=encoding,
        rows_estimate=estimate,
        rows_exact=rows_exact,
        bytes_read=bytes_read,
        partial=partial,
        notes=notes,
    )


def _preview_json(
    text: str,
    kind: FileKind,
    max_rows: int,
    *,
    key: str,
    size: int,
    compression: str | None,
    encoding: str,
    partial: bool,
    bytes_read: int,
    notes: list[str],
) -> Preview:
    stripped = text.lstrip()
    if kind == "json" and not partial:
        try:
            document = json.loads(text)
        except json.JSONDecodeError:
            lines = [line for line in stripped.splitlines() if line.strip()]
            if len(lines) > 1 and lines[0].lstrip().startswith("{"):
                kind = "jsonl"
            else:
                notes.append("This is not valid JSON; showing the text.")
                return Preview(key, "text", size, text=text[:TEXT_CHARS], bytes_read=bytes_read, notes=notes)
        else:
            if isinstance(document, list) and document and all(isinstance(item, dict) for item in document):
                frame = pd.DataFrame.from_records(document[:max_rows])
                return Preview(
                    key,
                    "json",
                    size,
                    frame=display_frame(frame),
                    columns=frame_columns(frame),
                    text=None,
                    compression=compression,
                    encoding=encoding,
                    rows_estimate=len(document),
                    rows_exact=True,
                    bytes_read=bytes_read,
                    notes=notes,
                )
            pretty = json.dumps(document, indent=2, ensure_ascii=False)
            return Preview(
                key,
                "json",
                size,
                text=pretty[:TEXT_CHARS],
                compression=compression,
                encoding=encoding,
                bytes_read=bytes_read,
                notes=notes,
            )
    if kind == "json" and partial and not stripped.startswith("{"):
        notes.append(f"Only the first {human_bytes(bytes_read)} were read; a JSON document cannot be parsed in part.")
        return Preview(key, "json", size, text=text[:TEXT_CHARS], bytes_read=bytes_read, partial=True, notes=notes)
    body = _complete_lines(text, partial)
    records: list[dict[str, Any]] = []
    bad_lines: list[int] = []
    line_count = 0
    for number, line in enumerate(body.splitlines(), start=1):
        if not line.strip():
            continue
        line_count += 1
        if len(records) >= max_rows:
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError:
            bad_lines.append(number)
            continue
        records.append(value if isinstance(value, dict) else {"value": value})
    if bad_lines:
        shown = ", ".join(str(n) for n in bad_lines[:5])
        notes.append(f"{len(bad_lines):,} line(s) are not valid JSON and are hidden (line {shown}).")
    frame = pd.DataFrame.from_records(records)
    estimate = int(line_count * size / max(1, len(body.encode("utf-8")))) if partial else line_count
    return Preview(
        key,
        "jsonl",
        size,
        frame=display_frame(frame),
        columns=frame_columns(frame),
        compression=compression,
        encoding=encoding,
        rows_estimate=estimate,
        rows_exact=not partial,
        bytes_read=bytes_read,
        partial=partial,
        notes=notes,
    )


def parquet_facts(parquet: pq.ParquetFile, footer_bytes: int = 0) -> ParquetFacts:
    meta = parquet.metadata
    groups = []
    codecs: set[str] = set()
    for index in range(meta.num_row_groups):
        group = meta.row_group(index)
        compressed = 0
        for column in range(group.num_columns):
            chunk = group.column(column)
            compressed += chunk.total_compressed_size
            codecs.add(str(chunk.compression).lower())
        groups.append(RowGroupInfo(index, group.num_rows, group.total_byte_size, compressed))
    schema = parquet.schema_arrow
    columns = [Column(f.name, arrow_type_to_glue(f.type)) for f in schema]
    return ParquetFacts(
        rows=meta.num_rows,
        row_groups=groups,
        columns=columns,
        created_by=meta.created_by or "",
        format_version=str(meta.format_version),
        compression=sorted(codecs),
        footer_bytes=footer_bytes or meta.serialized_size,
    )


def _preview_parquet(backend: Backend, key: str, info: ObjectInfo, max_rows: int) -> Preview:
    handle = RangedFile(backend, key, info.size)
    try:
        parquet = pq.ParquetFile(handle, pre_buffer=False)
        facts = parquet_facts(parquet)
        frame = pd.DataFrame()
        if facts.rows:
            batch = next(parquet.iter_batches(batch_size=max_rows, row_groups=[0], use_threads=False), None)
            if batch is not None:
                frame = batch.to_pandas(types_mapper=pd.ArrowDtype)
    except (pa.ArrowException, OSError) as exc:
        raise LakeLensError(f"{key} is not a readable Parquet file ({str(exc).splitlines()[0]}).") from None
    notes = []
    if handle.bytes_read < info.size:
        notes.append(
            f"Read {human_bytes(handle.bytes_read)} of {human_bytes(info.size)}: the footer and the first row group."
        )
    return Preview(
        key,
        "parquet",
        info.size,
        frame=display_frame(frame),
        columns=facts.columns,
        parquet=facts,
        rows_estimate=facts.rows,
        rows_exact=True,
        bytes_read=handle.bytes_read,
        notes=notes,
    )


def _preview_image(backend: Backend, key: str, info: ObjectInfo) -> Preview:
    ext = extension(split_compression(key)[0])
    if info.size > IMAGE_BYTES:
        note = f"The image is {human_bytes(info.size)}; previews show images up to {human_bytes(IMAGE_BYTES)}."
        return Preview(key, "image", info.size, notes=[note])
    data = backend.read(key)
    return Preview(key, "image", info.size, image=data, image_type=IMAGE_EXTENSIONS.get(ext), bytes_read=len(data))


def hexdump(data: bytes, width: int = 16) -> str:
    lines = []
    for offset in range(0, len(data), width):
        chunk = data[offset : offset + width]
        hexes = " ".join(f"{byte:02x}" for byte in chunk)
        text = "".join(chr(byte) if 32 <= byte < 127 else "." for byte in chunk)
        lines.append(f"{offset:08x}  {hexes:<{width * 3}} {text}")
    return "\n".join(lines)


def frame_columns(frame: pd.DataFrame) -> list[Column]:
    """Glue types for a preview frame, as awswrangler would infer them through Arrow."""
    try:
        schema = pa.Table.from_pandas(frame, preserve_index=False).schema
    except (pa.ArrowException, TypeError, ValueError):
        return [Column(str(name), "string") for name in frame.columns]
    return [Column(f.name, arrow_type_to_glue(f.type)) for f in schema]


def display_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """Nested values (lists, dicts) as JSON text, so every grid can show them."""
    out = frame.copy()
    out.columns = [str(c) for c in out.columns]
    for name in out.columns:
        series = out[name]
        if series.dtype == object and series.map(lambda v: isinstance(v, (dict, list))).any():
            out[name] = series.map(lambda v: json.dumps(v, ensure_ascii=False, default=str) if v is not None else None)
    return out
