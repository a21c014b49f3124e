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

The package's modules:

* ``model``: the plan and result dataclasses, formats, zones and limits, table/column/file names, Glue -> Arrow
  types and :func:`typed_table`;
* ``parse``: :func:`plan_ingest`, reading a file's bytes into a plan (format, gzip, encoding, CSV/TSV and JSON
  parsing, malformed rows, column planning);
* ``commit``: :func:`commit`, :func:`apply` (all-or-nothing writes and their rollback), the raw and curated files
  and their table definitions, and :func:`ingest_file`;
* ``register``: :func:`register_prefix`, registering files already in the lake (Hive layout, schema sampling).

The names below are what callers use (``from lib.lake import ingest; ingest.plan_ingest(...)``), as when this was
one module; :mod:`lib.lake.stream` and :mod:`lib.lake.curate` build on ``apply``, ``raw_table_def`` and the rest.
"""

from __future__ import annotations

from lib.lake.ingest.commit import (
    Source,
    apply,
    column_comment,
    commit,
    existing_table,
    ingest_file,
    raw_name,
    raw_table_def,
    stale_raw,
)
from lib.lake.ingest.model import (
    CURATED_ZONE,
    ENCODINGS,
    FORMATS,
    GLUE_TYPES,
    HIVE_NULL,
    MAX_DECOMPRESSED_BYTES,
    MAX_OLD_OBJECTS,
    MAX_PARTITIONS,
    MAX_ROW_BYTES,
    RAW_SUFFIX,
    RAW_ZONE,
    SCHEMA_SAMPLE_BYTES,
    SCRATCH_MARK,
    BadRow,
    ColumnPlan,
    FileFormat,
    IngestFormat,
    IngestPlan,
    IngestResult,
    column_names,
    glue_to_arrow,
    hive_escape,
    safe_filename,
    table_name,
    typed_table,
)
from lib.lake.ingest.parse import plan_ingest
from lib.lake.ingest.register import register_prefix

__all__ = [
    "CURATED_ZONE",
    "ENCODINGS",
    "FORMATS",
    "GLUE_TYPES",
    "HIVE_NULL",
    "MAX_DECOMPRESSED_BYTES",
    "MAX_OLD_OBJECTS",
    "MAX_PARTITIONS",
    "MAX_ROW_BYTES",
    "RAW_SUFFIX",
    "RAW_ZONE",
    "SCHEMA_SAMPLE_BYTES",
    "SCRATCH_MARK",
    "BadRow",
    "ColumnPlan",
    "FileFormat",
    "IngestFormat",
    "IngestPlan",
    "IngestResult",
    "Source",
    "apply",
    "column_comment",
    "column_names",
    "commit",
    "existing_table",
    "glue_to_arrow",
    "hive_escape",
    "ingest_file",
    "plan_ingest",
    "raw_name",
    "raw_table_def",
    "register_prefix",
    "safe_filename",
    "stale_raw",
    "table_name",
    "typed_table",
]
