"""Ingest at the dataset's scale: a multi-GB CSV/TSV streamed into (partitioned) Parquet with bounded memory.

The Amazon Customer Reviews files are hundreds of megabytes to several gigabytes each. Reading one whole into
Arrow (what :func:`lib.lake.ingest.plan_ingest` does for a browser upload) costs about ten times the file in memory,
so a file from disk takes this path instead:

1. **Plan from a sample**: the first :data:`SAMPLE_BYTES` go through the same planner as an upload, so names
   (awswrangler's), types, missing values and malformed rows are decided, and reported, the same way.
2. **Check the disk**: the lake's disk must hold the raw copy and the Parquet (estimated), or one sentence says so.
3. **Convert in one streaming pass**: DuckDB's CSV reader, given the plan's columns and types, writes Parquet (Hive
   folders with ``PARTITION_BY``) into a scratch folder with a memory limit, so a few row groups are in memory at a
   time whatever the file's size. The connection can read the file and write the scratch folder, nothing else.
4. **Apply**: the raw file is copied into the raw zone in chunks (an S3 multipart upload on aws), the Parquet files
   are moved into the curated zone, and the tables are registered, through :func:`lib.lake.ingest.apply`: all or
   nothing, so a malformed row at line 9,000,000, a full disk, Ctrl+C or Cancel leaves nothing behind.

Progress (bytes and rows done, rate, time left) goes to a callback, and a :class:`threading.Event` cancels.
"""

from __future__ import annotations

import dataclasses
import gzip
import math
import os
import re
import shutil
import threading
import time
import urllib.parse
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow.parquet as pq

from lib.backends.base import Backend
from lib.catalog import Column, Partition, TableDef, glue_type_to_duckdb, parquet_table
from lib.errors import IngestCancelled, IngestError
from lib.lake import ingest
from lib.lake.objects import split_compression
from lib.paths import human_bytes, join_key
from lib.sql import quote_identifier, quote_literal

SAMPLE_BYTES = 8 * 2**20  # the plan's sample: names, types, missing values and bad rows found so far
STREAM_FROM_BYTES = 64 * 2**20  # a file from disk this size or larger is streamed (smaller: planned whole)
PARQUET_SHARE = 0.6  # Parquet (snappy) of review text is well under this share of the TSV; the disk check's estimate
GZIP_RATIO = 4.0  # a gzip TSV of reviews is about a quarter of its text
ROW_GROUP_ROWS = 128_000
# Measured on the 1 GB Amazon TSV (docs/benchmarks-scale.md): flushing the partitions' buffers every 10,000 rows
# instead of DuckDB's 524,288 keeps a partitioned write far under the memory limit and, under a 1 GB limit, makes it
# as fast as DuckDB's own COPY with all the memory it wants (3.6 s against 5.4 s at 100,000 rows).
PARTITION_FLUSH_ROWS = 10_000
ROW_GROUP_BYTES = "16MB"
STREAMABLE = ("csv", "tsv")

ProgressFn = Callable[[float, str], None]


@dataclass(frozen=True)
class StreamResult:
    plan: ingest.IngestPlan
    result: ingest.IngestResult
    rows: int
    seconds: float
    bad_rows: int


def should_stream(path: Path, fmt: ingest.IngestFormat = "auto", encoding: str = "utf-8") -> bool:
    """Is this file from disk streamed? CSV/TSV (gzip too) in UTF-8, from :data:`STREAM_FROM_BYTES` up."""
    base, _ = split_compression(path.name.lower())
    by_name = "tsv" if base.endswith((".tsv", ".tab")) else "csv" if base.endswith((".csv", ".txt")) else None
    if (fmt if fmt != "auto" else by_name) not in STREAMABLE:
        return False
    gzipped = path.name.lower().endswith(".gz")
    threshold = STREAM_FROM_BYTES / GZIP_RATIO if gzipped else STREAM_FROM_BYTES  # a gzip TSV expands ~4 times
    try:
        return encoding == "utf-8" and path.stat().st_size >= threshold
    except OSError:
        return False


def read_sample(path: Path, limit: int = SAMPLE_BYTES) -> tuple[bytes, bool]:
    """The file's first ``limit`` bytes (decompressed for gzip), cut after the last line break; and whether that
    is the whole file."""
    try:
        with path.open("rb") as raw:
            magic = raw.read(2)
        opener = gzip.open if magic == b"\x1f\x8b" else open
        with opener(path, "rb") as handle:  # type: ignore[operator]
            data: bytes = handle.read(limit + 1)
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        raise IngestError(f"Cannot read {path.name}: {getattr(exc, 'strerror', None) or exc}.") from None
    if len(data) <= limit:
        return data, True
    data = data[:limit]
    cut = data.rfind(b"\n")
    if cut <= 0:
        raise IngestError(
            f"The first {human_bytes(limit)} of {path.name} hold no line break: it is not a line-oriented CSV/TSV."
        )
    return data[: cut + 1], False


def check_disk(backend: Backend, path: Path, scratch: Path) -> None:
    """One sentence if the disk cannot hold the raw copy plus the Parquet (estimated from the file's size)."""
    size = path.stat().st_size
    text = size * (GZIP_RATIO if path.name.lower().endswith(".gz") else 1.0)
    parquet = int(text * PARQUET_SHARE)
    lake = backend.lake_folder
    needed = parquet + (size if lake is not None else 0)  # a lake elsewhere (S3) does not hold the raw copy here
    free = shutil.disk_usage(scratch).free
    if free < needed * 1.1:
        where = f"the lake's disk ({lake})" if lake is not None else str(scratch)
        raise IngestError(
            f"Ingesting {path.name} needs about {human_bytes(needed)} on {where} (the raw copy and about "
            f"{human_bytes(parquet)} of Parquet), but only {human_bytes(free)} is free; free some space or ingest "
            "into a lake on a bigger disk."
        )


def reader_sql(plan: ingest.IngestPlan, source: Path, skip_bad: bool) -> str:
    """DuckDB's CSV reader over the file with the plan's columns and types (every path a literal). Empty fields and
    ``\\N`` are NULL for every type, as in the planned (sampled) copy."""
    columns = (
        "{"
        + ", ".join(f"{quote_literal(c.name)}: {quote_literal(glue_type_to_duckdb(c.type))}" for c in plan.columns)
        + "}"
    )
    quote = "'\"'" if plan.quoted else "''"
    options = [
        f"delim = {quote_literal(plan.delimiter or ',')}",
        "header = true",
        f"columns = {columns}",
        f"quote = {quote}",
        f"escape = {quote}",
        "auto_detect = false",
        "nullstr = ['', '\\N']",
        f"max_line_size = {ingest.MAX_ROW_BYTES}",
        # the reader's buffer defaults to 16 lines of the longest allowed (half a gigabyte at Athena's 32 MB)
        f"buffer_size = {2 * ingest.MAX_ROW_BYTES}",
        "skip = 0",
    ]
    if skip_bad:
        options += ["ignore_errors = true", "store_rejects = true"]
    return f"read_csv({quote_literal(str(source))}, {', '.join(options)})"


def copy_sql(select: str, out: Path, partition_by: str | None) -> str:
    """``COPY (select) TO out``: Parquet, Hive folders when partitioned (DuckDB's dialect, names quoted)."""
    # every open partition file buffers its row group: cap the group's bytes so many partitions fit in memory
    copy = [
        f"FORMAT parquet, COMPRESSION snappy, ROW_GROUP_SIZE {ROW_GROUP_ROWS}",
        f"ROW_GROUP_SIZE_BYTES {quote_literal(str(ROW_GROUP_BYTES))}",
    ]
    if partition_by:
        copy += [f"PARTITION_BY ({quote_identifier(partition_by)})", "FILENAME_PATTERN 'part-{i}'"]
    return f"COPY ({select}) TO {quote_literal(str(out))} ({', '.join(copy)})"


def conversion_sql(plan: ingest.IngestPlan, source: Path, out: Path, partition_by: str | None, skip_bad: bool) -> str:
    """The one statement that streams the file into Parquet."""
    names = ", ".join(quote_identifier(c.name) for c in plan.columns)
    return copy_sql(f"SELECT {names} FROM {reader_sql(plan, source, skip_bad)}", out, partition_by)


def _partition_column(plan: ingest.IngestPlan, partition_by: str | None) -> str | None:
    if not partition_by:
        return None
    names = [c.name for c in plan.columns]
    wanted = partition_by.strip().lower()
    if wanted in names:
        return wanted
    matches = [c.name for c in plan.columns if c.source == partition_by]
    if not matches:
        raise IngestError(f"There is no column {partition_by!r} to partition by; choose one of {', '.join(names)}.")
    if len(names) == 1:
        raise IngestError("A table with one column cannot be partitioned by it: no columns would be left in the files.")
    return matches[0]


_LINE = re.compile(r"CSV Error on Line: (\d+)")
_CAST = re.compile(r"Could not convert string \"(.*?)\" to '(\w+)'", re.S)
_COLUMN = re.compile(r"Column at position: (\d+) Set type: (\w+)")


def _conversion_error(exc: Exception, plan: ingest.IngestPlan) -> IngestError:
    """DuckDB's reader error as one sentence with the line, the field and what to do."""
    text = str(exc)
    line = _LINE.search(text)
    where = f" at line {int(line.group(1)):,}" if line else ""
    if "Expected Number of Columns" in text:
        found = re.search(r"Expected Number of Columns: (\d+) Found: (\d+)", text)
        detail = f" has {found.group(2)} fields, not the header's {found.group(1)}" if found else " is malformed"
        return IngestError(
            f"A row of {plan.filename}{where}{detail}. Fix it, or skip malformed rows with --skip-bad-rows; nothing "
            "was written."
        )
    cast = _CAST.search(text)
    column = _COLUMN.search(text)
    if cast:
        name = plan.columns[int(column.group(1))].name if column else "a column"
        return IngestError(
            f"The value {cast.group(1)[:60]!r} of {name} in {plan.filename}{where} is not {cast.group(2).lower()}, the "
            f"type the first {human_bytes(SAMPLE_BYTES)} suggested; ingest it as string (edit the schema) or fix the "
            "value. Nothing was written."
        )
    first = text.strip().splitlines()[0] if text.strip() else type(exc).__name__
    return IngestError(f"{plan.filename} could not be converted to Parquet{where} ({first}); nothing was written.")


def _rate(done: float, started: float) -> float:
    return done / max(time.perf_counter() - started, 1e-6)


def _eta(done: float, total: float, started: float) -> str:
    rate = _rate(done, started)
    if done <= 0 or rate <= 0 or total <= done:
        return "–"
    seconds = (total - done) / rate
    return f"{seconds:.0f} s" if seconds < 120 else f"{seconds / 60:.0f} min"


def ingest_large(
    backend: Backend,
    path: Path,
    *,
    database: str,
    table: str,
    fmt: ingest.IngestFormat = "auto",
    skip_bad_rows: bool = False,
    curated: bool = True,
    partition_by: str | None = None,
    replace: bool = False,
    progress: ProgressFn | None = None,
    cancel: threading.Event | None = None,
) -> StreamResult:
    """Stream a CSV/TSV file from disk into the lake: the raw file, a curated Parquet copy, the tables."""
    report = progress or (lambda fraction, message: None)
    stop = cancel or threading.Event()
    started = time.perf_counter()
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise IngestError(f"Cannot read {path}: {exc.strerror or exc}.") from None
    sample, whole = read_sample(path)
    report(0.0, f"Planning from the first {human_bytes(len(sample))} of {path.name}")
    plan = ingest.plan_ingest(
        sample, path.name, database=database, table=table, fmt=fmt, skip_bad_rows=skip_bad_rows, max_bytes=None
    )
    # the sample's missing counts would mislead: the whole file's are counted after the conversion
    plan = dataclasses.replace(plan, notes=[n for n in plan.notes if not n.startswith("Missing values (empty fields")])
    if plan.format not in STREAMABLE:
        raise IngestError(f"{path.name} is {plan.format}; only CSV and TSV files are streamed. Ingest it as a file.")
    curated = curated or bool(partition_by) or not plan.raw_registrable
    key_column = _partition_column(plan, partition_by)
    scratch = backend.scratch_dir(f"{ingest.SCRATCH_MARK}{uuid.uuid4().hex[:6]}-")
    try:
        check_disk(backend, path, scratch)
        out = scratch / "parquet"
        memory = backend.settings.ingest_memory_bytes
        # Locally the raw copy (disk-bound) runs beside the conversion (CPU-bound), into the scratch folder on the
        # lake's disk, and is renamed into the raw zone with the rest; on aws it is uploaded with the rest.
        on_disk = backend.lake_folder is not None
        early = _RawCopy(path, scratch / "raw" / plan.raw_filename, stop) if on_disk else None
        try:
            rows, bad = _convert(
                plan, path, out, key_column, skip_bad_rows, size, started, report, stop, memory, curated
            )
        except BaseException:
            if early:
                early.abort()  # the conversion failed: the copy stops, the scratch folder goes
            raise
        raw_source = early.finish() if early else path
        if rows == 0:
            raise IngestError(f"{path.name} has column names but no rows; there is nothing to ingest.")
        files, targets, notes = _layout(backend, plan, raw_source, out, key_column, rows, curated, bad, whole)
        prefixes = [plan.raw_prefix] + ([plan.curated_prefix] if curated else [])
        copied = [0]

        def tell(key: str, done: int) -> None:
            if stop.is_set():
                raise IngestCancelled(f"Ingest of {path.name} cancelled; everything it wrote was removed.")
            if key.startswith(plan.raw_prefix):
                copied[0] = done
                report(
                    0.9 + 0.09 * done / max(size, 1),
                    f"Copying the raw file: {human_bytes(done)} of {human_bytes(size)} · "
                    f"{human_bytes(_rate(done, copy_started))}/s",
                )

        copy_started = time.perf_counter()
        result = ingest.apply(
            backend,
            plan.database,
            f"Ingest of {plan.filename}",
            files,
            targets,
            prefixes,
            replace=replace,
            rows=rows,
            notes=notes,
            stale=ingest.stale_raw(backend, plan, replace=replace, curated=curated),
            progress=tell,
        )
    except IngestCancelled:
        raise
    except (KeyboardInterrupt, duckdb.InterruptException):
        raise IngestCancelled(f"Ingest of {path.name} cancelled; nothing was written.") from None
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    seconds = time.perf_counter() - started
    report(1.0, f"{rows:,} rows in {seconds:.1f} s ({human_bytes(_rate(size, started))}/s)")
    return StreamResult(plan, result, rows, seconds, bad)


@dataclass(frozen=True)
class Streaming:
    """What a streaming statement may touch and how it reports: the files it reads, the folder it writes (its
    spill folder inside), its working memory, and the progress line's words."""

    read_paths: list[Path]
    read_dirs: list[Path]
    write_dir: Path
    memory: int
    size: int  # bytes the statement reads, for the rate and the time left
    rows_estimate: float
    what: str  # "Ingest of reviews.tsv"


def run_streaming(
    sql: str,
    how: Streaming,
    *,
    started: float,
    report: ProgressFn,
    stop: threading.Event,
    on_error: Callable[[duckdb.Error], IngestError],
    count_rejects: bool = False,
) -> tuple[int, int]:
    """(the statement's count, malformed rows skipped): one statement on a connection of its own that can read
    ``read_*`` and write ``write_dir``, nothing else, with a memory limit; progress from DuckDB's own
    ``query_progress()``; ``stop`` interrupts it."""
    spill = how.write_dir / "spill"
    spill.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(
        config={
            "threads": min(2, os.cpu_count() or 1),
            "memory_limit": f"{max(how.memory, 64 * 2**20) // 2**20}MB",
            "preserve_insertion_order": False,
            # a partitioned write buffers rows per thread before it flushes them to the partitions' files; the
            # default (524,288 rows of review text) asks for blocks of half a gigabyte
            "partitioned_write_flush_threshold": PARTITION_FLUSH_ROWS,
            "temp_directory": str(spill),
            "autoload_known_extensions": False,
            "autoinstall_known_extensions": False,
        }
    )
    try:
        con.execute("SET enable_progress_bar = true")  # query_progress() needs it; nothing is printed
        con.execute("SET enable_progress_bar_print = false")
        if how.read_paths:
            con.execute("SET allowed_paths = $paths", {"paths": [str(p.resolve()) for p in how.read_paths]})
        dirs = [str(d.resolve()) + os.sep for d in [*how.read_dirs, how.write_dir]]
        con.execute("SET allowed_directories = $dirs", {"dirs": dirs})
        con.execute("SET enable_external_access = false")
        con.execute("SET lock_configuration = true")
        done = threading.Event()

        def watch() -> None:
            while not done.wait(0.2):
                if stop.is_set():
                    con.interrupt()
                    return
                try:
                    percent = con.query_progress()
                except duckdb.Error:
                    continue
                if percent is None or percent < 0:
                    continue
                fraction = min(percent / 100, 1.0)
                done_bytes = fraction * how.size
                report(
                    0.9 * fraction,
                    f"Converting to Parquet: {percent:.0f}% · {human_bytes(done_bytes)} of {human_bytes(how.size)} · "
                    f"about {fraction * how.rows_estimate:,.0f} rows · {human_bytes(_rate(done_bytes, started))}/s · "
                    f"{_eta(done_bytes, how.size, started)} left",
                )

        watcher = threading.Thread(target=watch, name="lakelens-stream-progress", daemon=True)
        watcher.start()
        try:
            written = con.execute(sql).fetchone()
        except duckdb.InterruptException:
            raise IngestCancelled(f"{how.what} cancelled; nothing was written.") from None
        except duckdb.Error as exc:
            if stop.is_set():
                raise IngestCancelled(f"{how.what} cancelled; nothing was written.") from None
            raise on_error(exc) from None
        finally:
            done.set()
            watcher.join()
        rows = int(written[0]) if written else 0
        bad = 0
        if count_rejects:
            found = con.execute("SELECT count(*) FROM reject_errors").fetchone()
            bad = int(found[0]) if found else 0
        return rows, bad
    finally:
        con.close()


class _RawCopy:
    """The raw file copied in a thread with the kernel's copy (``os.copy_file_range``), while DuckDB converts."""

    def __init__(self, source: Path, target: Path, stop: threading.Event) -> None:
        self.source, self.target, self.stop = source, target, stop
        self.error: BaseException | None = None
        self.aborted = threading.Event()
        target.parent.mkdir(parents=True, exist_ok=True)
        self.thread = threading.Thread(target=self._run, name="lakelens-raw-copy", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        try:
            with self.source.open("rb") as reader, self.target.open("wb") as writer:
                size = os.fstat(reader.fileno()).st_size
                done = 0
                while done < size and not (self.stop.is_set() or self.aborted.is_set()):
                    try:
                        sent = os.copy_file_range(reader.fileno(), writer.fileno(), 64 * 2**20)
                    except OSError:  # another kind of disk: an ordinary copy
                        shutil.copyfileobj(reader, writer, 8 * 2**20)
                        break
                    if sent == 0:
                        break
                    done += sent
                writer.flush()
                os.fsync(writer.fileno())
        except BaseException as exc:  # reported by finish(), in the ingest's own thread
            self.error = exc

    def abort(self) -> None:
        self.aborted.set()
        self.thread.join()

    def finish(self) -> Path:
        """The copy (once done), to be moved into the raw zone; any copying error, as an IngestError."""
        self.thread.join()
        if self.error is not None:
            reason = getattr(self.error, "strerror", None) or self.error
            raise IngestError(f"Copying {self.source.name} into the lake failed ({reason}); nothing was written.")
        if self.stop.is_set():
            raise IngestCancelled(f"Ingest of {self.source.name} cancelled; nothing was written.")
        return self.target


def _convert(
    plan: ingest.IngestPlan,
    path: Path,
    out: Path,
    key_column: str | None,
    skip_bad: bool,
    size: int,
    started: float,
    report: ProgressFn,
    stop: threading.Event,
    memory: int,
    curated: bool = True,
) -> tuple[int, int]:
    """(rows written, malformed rows skipped): the file converted into ``out`` (or, raw only, checked and counted)."""
    out.mkdir(parents=True)
    target = out.resolve() if key_column else out.resolve() / "part-0.parquet"  # Hive folders, or one file
    sql = conversion_sql(plan, path.resolve(), target, key_column, skip_bad)
    if not curated:  # the raw file alone: one pass that checks every row against the plan, and counts them
        sql = f"SELECT count(*) FROM {reader_sql(plan, path.resolve(), skip_bad)}"
    how = Streaming(
        read_paths=[path],
        read_dirs=[],
        write_dir=out.parent,
        memory=memory,
        size=size,
        rows_estimate=max(plan.rows, 1) * size / max(plan.size, 1),
        what=f"Ingest of {plan.filename}",
    )
    return run_streaming(
        sql,
        how,
        started=started,
        report=report,
        stop=stop,
        on_error=lambda exc: _conversion_error(exc, plan),
        count_rejects=skip_bad,
    )


def _layout(
    backend: Backend,
    plan: ingest.IngestPlan,
    path: Path,
    out: Path,
    key_column: str | None,
    rows: int,
    curated: bool,
    bad: int,
    whole: bool,
) -> tuple[list[tuple[str, ingest.Source, dict[str, str]]], list[tuple[TableDef, list[Partition] | None]], list[str]]:
    """The objects to write and the tables to register, from the converted folder."""
    notes: list[str] = []
    files: list[tuple[str, ingest.Source, dict[str, str]]] = [
        (join_key(plan.raw_prefix, plan.raw_filename), path, {"lakelens-source-file": plan.filename})
    ]
    targets: list[tuple[TableDef, list[Partition] | None]] = []
    missing = _missing_counts(out, plan)
    gaps = [(name, n) for name, n in missing.items() if n]
    if gaps:
        shown = ", ".join(f"{name}: {n:,}" for name, n in gaps[:8])
        notes.append(f"Missing values in all {rows:,} rows (NULL in the table): {shown}.")
    if bad:
        notes.append(f"Skipped {bad:,} malformed row(s) of the whole file.")
    described = dict(lakelens_rows=str(rows))
    if curated:
        parts, partitions = converted_files(backend, out, plan.curated_prefix, key_column)
        files += parts
        keys: list[Column] = []
        if key_column:
            key_type = next(c.type for c in plan.columns if c.name == key_column)
            keys = [Column(key_column, key_type, "partition key")]
        columns = [Column(c.name, c.type, ingest.column_comment(c)) for c in plan.columns if c.name != key_column]
        table = parquet_table(
            plan.database,
            plan.table,
            columns,
            backend.location(plan.curated_prefix),
            partition_keys=keys,
            description=f"Curated zone: {plan.filename} as Parquet ({rows:,} rows)"
            + (f", partitioned by {key_column}" if key_column else ""),
            parameters={"lakelens.source_file": plan.filename, "lakelens.rows": described["lakelens_rows"]},
        )
        targets.append((table, partitions if keys else None))
        if plan.raw_registrable and not bad:
            raw = ingest.raw_table_def(backend, plan, ingest.raw_name(plan.table))
            targets.append((_with_rows(raw, rows), None))
        elif not plan.raw_registrable:
            notes.append(f"The raw file is kept but not registered ({plan.raw_problem}).")
    else:
        targets.append((_with_rows(ingest.raw_table_def(backend, plan, plan.table), rows), None))
    if not whole:
        notes.append(
            f"Names and types were planned from the first {human_bytes(SAMPLE_BYTES)}; all {rows:,} rows were then "
            "converted in one streaming pass."
        )
    return files, targets, notes


def converted_files(
    backend: Backend, out: Path, prefix: str, key_column: str | None
) -> tuple[list[tuple[str, ingest.Source, dict[str, str]]], list[Partition]]:
    """The Parquet files DuckDB wrote under ``out`` as (lake key, file) pairs under ``prefix``, with their Hive
    partitions (DuckDB's %-encoded folder names decoded, then escaped as Hive does, as the upload path writes them)."""
    files: list[tuple[str, ingest.Source, dict[str, str]]] = []
    partitions: list[Partition] = []
    for file in sorted(out.rglob("*.parquet")):
        relative = file.relative_to(out)
        folder = ""
        if key_column:
            name, _, encoded = relative.parts[0].partition("=")
            value = urllib.parse.unquote(encoded)
            folder = f"{name}={ingest.hive_escape(value)}/"
            if not any(p.values == (value,) for p in partitions):
                partitions.append(Partition((value,), backend.location(f"{prefix}{folder}")))
        files.append((f"{prefix}{folder}{relative.name}", file, {}))
    if len(partitions) > ingest.MAX_PARTITIONS:
        raise IngestError(
            f"Partitioning by {key_column} would create {len(partitions):,} folders (at most "
            f"{ingest.MAX_PARTITIONS:,}); pick a column with fewer distinct values, such as a category."
        )
    return files, partitions


def _with_rows(table: TableDef, rows: int) -> TableDef:
    """The raw table's description and parameters with the whole file's rows, not the sample's."""
    description = re.sub(r"\([\d,]+ rows\)", f"({rows:,} rows)", table.description)
    return dataclasses.replace(
        table, description=description, parameters={**table.parameters, "lakelens.rows": str(rows)}
    )


def _missing_counts(out: Path, plan: ingest.IngestPlan) -> dict[str, int]:
    """NULLs per column over the whole file, from the Parquet footers' statistics (no data is read)."""
    totals = {c.name: 0 for c in plan.columns}
    for file in out.rglob("*.parquet"):
        meta = pq.read_metadata(file)
        names = meta.schema.names
        for group in range(meta.num_row_groups):
            row_group = meta.row_group(group)
            for index, name in enumerate(names):
                stats = row_group.column(index).statistics
                if name in totals and stats is not None and stats.has_null_count:
                    totals[name] += int(stats.null_count)
        if len(names) < len(totals):  # the partition column lives in the folder name
            for name in set(totals) - set(names):
                if "__HIVE_DEFAULT_PARTITION__" in str(file):
                    totals[name] += meta.num_rows
    return totals


def eta_line(fraction: float, message: str) -> str:
    """A progress line for a terminal."""
    return f"{math.floor(fraction * 100):3d}%  {message}"
