"""The one module in ``lib`` that imports Streamlit: cached data access for the pages.

Backends (clients, DuckDB connections) are resources: one per distinct settings, shared by every session.
Listings and query results are data: cached with a TTL, keyed by the settings' identity and every argument, so
two lakes or two backends never share a cached answer. Pages call these functions, never the backend's
listing methods directly, so a rerun of a page costs nothing.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from typing import Any

import streamlit as st

from lib.backends import make_backend
from lib.backends.base import (
    Backend,
    BackendInfo,
    DatabaseInfo,
    LakeSummary,
    ObjectInfo,
    ObjectPage,
    PartitionPage,
    QueryResult,
)
from lib.catalog import TableDef
from lib.lake.objects import PrefixStats, prefix_stats
from lib.lake.preview import Preview, preview_object
from lib.settings import Settings, load_settings
from lib.sql.params import ParamValue


def settings() -> Settings:
    """Settings as they are now (cheap: environment plus one small TOML file)."""
    return load_settings()


def settings_key(current: Settings) -> str:
    """Every setting's value (never a credential: there are none in Settings) as a cache key."""
    return repr(current)


@st.cache_resource(show_spinner=False)
def _backend(key: str, _settings: Settings) -> Backend:
    return make_backend(_settings)


def backend(current: Settings | None = None) -> Backend:
    current = current or settings()
    return _backend(settings_key(current), current)


@st.cache_resource(show_spinner=False)
def demo_lock(key: str) -> threading.Lock:
    """One lock per lake, so two sessions starting at once build the demo lake once."""
    return threading.Lock()


@st.cache_data(ttl=60, show_spinner=False)
def _check(key: str) -> bool:
    backend().check()
    return True


def check() -> None:
    """Raise :class:`BackendUnavailable` if the lake cannot be reached; a success is remembered for a minute."""
    _check(settings_key(settings()))


@st.cache_data(ttl=600, show_spinner=False)
def _info(key: str) -> BackendInfo:
    return backend().info()


def info() -> BackendInfo:
    return _info(settings_key(settings()))


@st.cache_data(ttl=600, show_spinner="Counting the lake…")
def _summary(key: str) -> LakeSummary:
    return backend().summary()


def summary() -> LakeSummary:
    return _summary(settings_key(settings()))


@st.cache_data(ttl=600, show_spinner=False)
def _databases(key: str) -> list[DatabaseInfo]:
    return backend().list_databases()


def databases() -> list[DatabaseInfo]:
    return _databases(settings_key(settings()))


@st.cache_data(ttl=600, show_spinner=False)
def _tables(key: str, database: str) -> list[TableDef]:
    return backend().list_tables(database)


def tables(database: str) -> list[TableDef]:
    return _tables(settings_key(settings()), database)


@st.cache_data(ttl=600, show_spinner=False)
def _table(key: str, database: str, table: str) -> TableDef:
    return backend().get_table(database, table)


def table(database: str, name: str) -> TableDef:
    return _table(settings_key(settings()), database, name)


@st.cache_data(ttl=120, show_spinner=False)
def _objects(key: str, prefix: str, token: str | None, page_size: int) -> ObjectPage:
    return backend().list_objects(prefix, token=token, page_size=page_size)


def objects(prefix: str, token: str | None = None, page_size: int = 1000) -> ObjectPage:
    return _objects(settings_key(settings()), prefix, token, page_size)


@st.cache_data(ttl=120, show_spinner=False)
def _stat(key: str, object_key: str) -> ObjectInfo:
    return backend().stat(object_key)


def stat(object_key: str) -> ObjectInfo:
    return _stat(settings_key(settings()), object_key)


@st.cache_data(ttl=120, show_spinner="Reading the start of the file…", max_entries=50)
def _preview(key: str, object_key: str, etag: str | None, max_rows: int) -> Preview:
    return preview_object(backend(), object_key, max_rows=max_rows)


def preview(object_key: str, etag: str | None, max_rows: int = 100) -> Preview:
    """A preview of one object; the ETag is part of the key so a changed object is read again."""
    return _preview(settings_key(settings()), object_key, etag, max_rows)


@st.cache_data(ttl=600, show_spinner="Counting the objects under the location…")
def _prefix_stats(key: str, prefix: str) -> PrefixStats:
    return prefix_stats(backend(), prefix)


def location_stats(prefix: str) -> PrefixStats:
    """Objects and bytes under a table location, counted up to 100,000 objects."""
    return _prefix_stats(settings_key(settings()), prefix)


@st.cache_data(ttl=600, show_spinner=False)
def _partitions(key: str, database: str, table: str, token: str | None, page_size: int) -> PartitionPage:
    return backend().list_partitions(database, table, token=token, page_size=page_size)


def partitions(database: str, table: str, token: str | None = None, page_size: int = 100) -> PartitionPage:
    return _partitions(settings_key(settings()), database, table, token, page_size)


_QUERY_TTL_S = 600


@st.cache_data(ttl=_QUERY_TTL_S, show_spinner=False, max_entries=200)
def _query(
    key: str,
    sql: str,
    max_rows: int,
    database: str,
    params: tuple[tuple[str, str, str], ...] = (),
    _query_id: str | None = None,
    _timeout_s: int | None = None,
    _values: dict[str, ParamValue] | None = None,
) -> QueryResult:
    result = backend().run_query(
        sql,
        max_rows=max_rows,
        database=database,
        query_id=_query_id,
        timeout_s=_timeout_s,
        params=_values or None,
    )
    _cached_queries()[(key, sql, max_rows, database, params)] = time.monotonic()
    return result


def _params_key(params: Mapping[str, ParamValue] | None) -> tuple[tuple[str, str, str], ...]:
    """Each value with its type: ``4`` from EXECUTE ... USING 4 and ``'4'`` typed into an input bind differently."""
    return tuple(sorted((str(name), type(value).__name__, str(value)) for name, value in (params or {}).items()))


def query(
    sql: str,
    max_rows: int | None = None,
    database: str | None = None,
    *,
    query_id: str | None = None,
    timeout_s: int | None = None,
    params: Mapping[str, ParamValue] | None = None,
) -> QueryResult:
    """A query result, cached: the same SQL with the same parameter values on the same lake within the TTL costs
    no second scan.

    ``query_id`` (to cancel the run) and ``timeout_s`` are not part of the cache key. A cached answer keeps the
    query id of the run that computed it, so a caller can tell a cached result from a fresh one.
    """
    current = settings()
    return _query(
        settings_key(current),
        sql,
        max_rows or current.max_rows,
        database or current.database,
        _params_key(params),
        query_id,
        timeout_s,
        dict(params or {}),
    )


@st.cache_resource(show_spinner=False)
def _cached_queries() -> dict[tuple[str, str, int, str, tuple[tuple[str, str, str], ...]], float]:
    """When each cached query result was computed, so a page can ask "is it cached?" without running it."""
    return {}


def query_is_cached(
    sql: str,
    max_rows: int | None = None,
    database: str | None = None,
    params: Mapping[str, ParamValue] | None = None,
) -> bool:
    """True if :func:`query` with these arguments would answer from the cache (no scan, no cost)."""
    current = settings()
    key = (settings_key(current), sql, max_rows or current.max_rows, database or current.database, _params_key(params))
    stamp = _cached_queries().get(key)
    return stamp is not None and time.monotonic() - stamp < _QUERY_TTL_S


def clear() -> None:
    """Forget cached listings and results, e.g. after an ingest changed the lake."""
    for function in (_info, _summary, _databases, _tables, _table, _objects, _stat, _query):
        function.clear()
    for lake_function in (_preview, _prefix_stats, _partitions):
        lake_function.clear()
    _cached_queries().clear()


# -- AutoML (lib.automl): small JSON records, cached by the job's last status update --------------------------------
@st.cache_data(ttl=5, show_spinner=False)
def _automl_jobs(key: str) -> list[Any]:
    from lib.automl import jobs

    return jobs.list_jobs(backend())


def automl_jobs() -> list[Any]:
    """Local AutoML jobs (config and status), newest first; refreshed every few seconds."""
    return _automl_jobs(settings_key(settings()))


@st.cache_data(ttl=3600, show_spinner=False, max_entries=2000)
def _automl_record(key: str, job: str, record: str, stamp: str) -> Any:
    from lib.automl import jobs

    return jobs.read_json(backend(), job, record)


def automl_record(job: str, record: str, stamp: str) -> Any:
    """One JSON record of a job; ``stamp`` (the status's ``updated``) in the key makes a newer record be read."""
    return _automl_record(settings_key(settings()), job, record, stamp)


@st.cache_resource(show_spinner="Loading the model…", max_entries=8)
def _automl_model(key: str, job: str, candidate: str, sha256: str | None) -> Any:
    from lib.automl import jobs

    return jobs.load_model(backend(), job, candidate, sha256)


def automl_model(job: str, candidate: str, sha256: str | None) -> Any:
    return _automl_model(settings_key(settings()), job, candidate, sha256)


# -- the review queue (lib.automl.review): the queue's size scans every id, so it is kept until the scored table
# changes (its update time); progress and the latest answers are re-read after each of this session's answers
# (``stamp``) and every 20 s for colleagues' ------------------------------------------------------------------------
@st.cache_data(ttl=3600, show_spinner="Counting the reviews in the queue…", max_entries=100)
def _review_totals(key: str, table: str, id_column: str | None, mode: str, updated: str) -> dict[str, int]:
    from lib.automl import review

    return review.totals(backend(), review.open_queue(backend(), table, id_column=id_column), mode)  # type: ignore[arg-type]


@st.cache_data(ttl=20, show_spinner=False, max_entries=200)
def _review_state(key: str, table: str, id_column: str | None, mode: str, who: str, stamp: int) -> dict[str, Any]:
    from lib.automl import review

    queue = review.open_queue(backend(), table, id_column=id_column)
    counted = _review_totals(key, table, id_column, mode, str(queue.scored.update_time or ""))
    state = review.progress(backend(), queue, mode, who=who, counted=counted)  # type: ignore[arg-type]
    state["recent"] = review.recent(backend(), queue)
    return state


def review_state(table: str, id_column: str | None, mode: str, who: str, stamp: int) -> dict[str, Any]:
    """The queue's progress (``review.progress``) and its 20 latest answers with the start of their texts."""
    return _review_state(settings_key(settings()), table, id_column, mode, who, stamp)


@st.cache_resource(show_spinner=False)
def _sagemaker(key: str, _settings: Settings, service: str) -> Any:
    from lib.automl import autopilot

    return autopilot.client(_settings, service)


def sagemaker(service: str = "sagemaker") -> Any:
    current = settings()
    return _sagemaker(settings_key(current), current, service)


@st.cache_data(ttl=30, show_spinner=False)
def _autopilot_jobs(key: str) -> list[Any]:
    from lib.automl import autopilot

    return autopilot.list_jobs(sagemaker())


def autopilot_jobs() -> list[Any]:
    return _autopilot_jobs(settings_key(settings()))


@st.cache_data(ttl=15, show_spinner=False)
def _autopilot_job(key: str, name: str) -> Any:
    from lib.automl import autopilot

    return autopilot.describe_job(sagemaker(), name)


def autopilot_job(name: str) -> Any:
    return _autopilot_job(settings_key(settings()), name)


@st.cache_data(ttl=60, show_spinner=False)
def _autopilot_candidates(key: str, name: str, stamp: str) -> list[Any]:
    from lib.automl import autopilot

    return autopilot.list_candidates(sagemaker(), name)


def autopilot_candidates(name: str, stamp: str) -> list[Any]:
    return _autopilot_candidates(settings_key(settings()), name, stamp)


@st.cache_data(ttl=3600, show_spinner="Reading the candidate's reports from S3…", max_entries=200)
def _autopilot_reports(key: str, _candidate: Any, name: str) -> dict[str, Any]:
    from lib.automl import autopilot

    return autopilot.read_reports(sagemaker("s3"), _candidate)


def autopilot_reports(candidate: Any) -> dict[str, Any]:
    return _autopilot_reports(settings_key(settings()), candidate, f"{candidate.name}:{candidate.ended}")


def clear_automl() -> None:
    """Forget the job list after a job was started or stopped."""
    _automl_jobs.clear()
    _autopilot_jobs.clear()
    _autopilot_job.clear()
