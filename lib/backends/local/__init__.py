"""The embedded backend: a lake folder, a Glue-compatible catalog stored in it, DuckDB running Athena SQL.

:class:`LocalBackend` is composed of its parts, each a layer over :class:`~lib.backends.local.lake.LocalLake`
(the lake folder, paths that never leave it, table locations):

- ``objects``: the object store (listing, stat, ranged read, atomic write/copy/move, delete, object metadata);
- ``catalog``: the catalog store (Glue-shaped JSON records under the lake's meta prefix, written atomically);
- ``engine``: DuckDB (the locked-down connection, views over a table's files, queries run, cancelled, explained
  and exported), with ``views`` (a view's files and SQL) and ``answers`` (SHOW, DESCRIBE and information_schema
  answered from the catalog);
- ``files``: :func:`atomic_write` and :func:`atomic_copy`, the only way a file is written into the lake.

Layout of the lake folder::

    <lake>/...                                  the data: any files, any folders
    <lake>/<meta_prefix>catalog/<db>/_database.json
    <lake>/<meta_prefix>catalog/<db>/<table>.json             Glue ``Table`` shape, location ``lake://<key>``
    <lake>/<meta_prefix>catalog/<db>/<table>.partitions.json  Glue ``Partition`` shapes
    <lake>/<meta_prefix>object-metadata/<sha256 of key>.json  an object's metadata
"""

from __future__ import annotations

import os

import duckdb

from lib.backends.base import BackendInfo
from lib.backends.local.engine import LocalEngine
from lib.backends.local.files import COPY_CHUNK, TMP_MARK, atomic_copy, atomic_write
from lib.backends.local.objects import LocalObjects
from lib.backends.local.views import MAX_LINE_BYTES
from lib.catalog import glue_type_to_duckdb
from lib.errors import BackendUnavailable


class LocalBackend(LocalObjects, LocalEngine):
    """The lake folder ``LAKELENS_LAKE_ROOT`` as objects (:class:`LocalObjects`), its catalog and DuckDB over it
    (:class:`LocalEngine`, on :class:`~lib.backends.local.catalog.LocalCatalog`)."""

    def info(self) -> BackendInfo:
        return BackendInfo(kind="local", lake=str(self.root), engine=f"DuckDB {duckdb.__version__}")

    def check(self) -> None:
        if not self.root.exists():
            raise BackendUnavailable(
                f"The lake folder {self.root} does not exist. Run `python -m lib demo` to build the demo lake."
            )
        if not self.root.is_dir():
            raise BackendUnavailable(f"LAKELENS_LAKE_ROOT points at {self.root}, which is not a folder.")
        if not os.access(self.root, os.R_OK | os.X_OK):
            raise BackendUnavailable(f"The lake folder {self.root} cannot be read by this user.")


__all__ = [
    "COPY_CHUNK",
    "MAX_LINE_BYTES",
    "TMP_MARK",
    "LocalBackend",
    "atomic_copy",
    "atomic_write",
    "glue_type_to_duckdb",
]
