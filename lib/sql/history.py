"""Query history and saved queries, kept in the lake itself so a team on one lake shares them.

Both live under the ``meta_prefix`` setting and go through :class:`~lib.backends.base.Backend` ``write``/``read``/
``list_objects`` only, so they work the same on a lake folder and on S3:

* ``<meta>history/<inverted time>-<id>.json`` — one small JSON object per run. One object per entry because S3
  cannot append, and two analysts running queries at once must never overwrite each other's lines. The key
  starts with ``10**13 - 1 - epoch milliseconds`` so that the plain ascending listing is newest first and the
  most recent page is one request. Entries never change once written, so a reader may cache them by key.
* ``<meta>saved/<slug>-<hash>.json`` — one object per saved query, keyed by its name: saving under an existing
  name replaces it (the write is atomic on both backends).
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import threading
import uuid
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from lib.backends.base import Backend, QueryStats
from lib.errors import LakeLensError, NotFound
from lib.sql import ATHENA_MAX_QUERY_BYTES

log = logging.getLogger("lakelens")

Status = Literal["succeeded", "failed", "cancelled", "cached"]
_INVERT = 10**13 - 1
_KEY = re.compile(r"^(\d{13})-([0-9a-f]{32})\.json$")


@dataclass(frozen=True)
class HistoryEntry:
    """One run of one statement, whatever its outcome."""

    sql: str
    status: Status
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    engine: str = ""
    rows: int | None = None
    total_rows: int | None = None
    runtime_s: float | None = None
    queue_s: float | None = None
    bytes_scanned: int | None = None
    bytes_estimated: bool = False
    query_id: str = ""
    error: str = ""
    database: str = ""
    id: str = field(default_factory=lambda: uuid.uuid4().hex)
    params: dict[str, str] = field(default_factory=dict)  # values of the SQL's :name parameters

    @classmethod
    def from_stats(
        cls,
        sql: str,
        stats: QueryStats,
        *,
        started_at: datetime,
        database: str = "",
        cached: bool = False,
        params: dict[str, str] | None = None,
    ) -> HistoryEntry:
        return cls(
            sql=sql,
            params=dict(params or {}),
            status="cached" if cached else "succeeded",
            started_at=started_at,
            engine=stats.engine,
            rows=stats.rows,
            total_rows=stats.total_rows,
            runtime_s=stats.runtime_s,
            queue_s=stats.queue_s,
            bytes_scanned=stats.bytes_scanned,
            bytes_estimated=stats.bytes_estimated,
            query_id=stats.query_id,
            database=database,
        )

    def to_json(self) -> bytes:
        body = asdict(self)
        body["started_at"] = self.started_at.astimezone(UTC).isoformat()
        return json.dumps(body, sort_keys=True).encode("utf-8")

    @classmethod
    def from_json(cls, data: bytes) -> HistoryEntry:
        body: dict[str, Any] = json.loads(data)
        known = {name: body[name] for name in cls.__dataclass_fields__ if name in body}
        known["started_at"] = datetime.fromisoformat(str(known["started_at"]))
        return cls(**known)

    def matches(self, words: Iterable[str]) -> bool:
        """Every word occurs (case-insensitively) in the SQL, the error, the status, the engine or the query id."""
        values = " ".join(f"{name}={value}" for name, value in self.params.items())
        text = f"{self.sql}\n{self.error}\n{self.status}\n{self.engine}\n{self.query_id}\n{values}".lower()
        return all(word.lower() in text for word in words)


@dataclass(frozen=True)
class SavedQuery:
    name: str
    sql: str
    description: str = ""
    updated_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    params: dict[str, str] = field(default_factory=dict)  # the parameter values it was saved with

    def to_json(self) -> bytes:
        body = asdict(self)
        body["updated_at"] = self.updated_at.astimezone(UTC).isoformat()
        return json.dumps(body, sort_keys=True).encode("utf-8")

    @classmethod
    def from_json(cls, data: bytes) -> SavedQuery:
        body: dict[str, Any] = json.loads(data)
        return cls(
            name=str(body["name"]),
            sql=str(body["sql"]),
            description=str(body.get("description", "")),
            updated_at=datetime.fromisoformat(str(body["updated_at"])),
            params={str(k): str(v) for k, v in dict(body.get("params") or {}).items()},
        )


class History:
    """Every run, persisted in the lake; newest first; searchable."""

    def __init__(self, backend: Backend) -> None:
        self.backend = backend
        self.prefix = f"{backend.settings.meta_prefix}history/"
        self._cache: dict[str, HistoryEntry] = {}
        self._lock = threading.Lock()

    def key_for(self, entry: HistoryEntry) -> str:
        millis = int(entry.started_at.timestamp() * 1000)
        return f"{self.prefix}{_INVERT - millis:013d}-{entry.id}.json"

    def record(self, entry: HistoryEntry) -> str:
        """Write one entry; returns its key. A failure to record is logged, never raised at the analyst."""
        key = self.key_for(entry)
        try:
            self.backend.write(key, entry.to_json(), content_type="application/json")
        except LakeLensError:
            log.warning("Could not record query history at %s", key, exc_info=True)
            return ""
        with self._lock:
            self._cache[key] = entry
        return key

    def recent(self, limit: int = 50, search: str = "", scan_limit: int = 2_000) -> list[HistoryEntry]:
        """The newest ``limit`` entries whose text contains every word of ``search``.

        At most ``scan_limit`` entries are read per search, newest first, so a long history stays quick.
        """
        words = search.split()
        found: list[HistoryEntry] = []
        scanned = 0
        token: str | None = None
        while len(found) < limit and scanned < scan_limit:
            page = self.backend.list_objects(self.prefix, token=token, page_size=min(1000, scan_limit - scanned))
            keys = [obj.key for obj in page.objects if _KEY.match(obj.key[len(self.prefix) :])]
            scanned += len(page.objects)
            for entry in self._load(keys):
                if entry.matches(words):
                    found.append(entry)
                    if len(found) >= limit:
                        break
            token = page.next_token
            if not token:
                break
        return found

    def get(self, entry_id: str, scan_limit: int = 10_000) -> HistoryEntry:
        """One entry by its id (the id is the end of its key, so only the listing is searched)."""
        suffix = f"-{entry_id}.json"
        token: str | None = None
        scanned = 0
        while scanned < scan_limit:
            page = self.backend.list_objects(self.prefix, token=token)
            scanned += len(page.objects)
            for obj in page.objects:
                if obj.key.endswith(suffix):
                    found = self._load([obj.key])
                    if found:
                        return found[0]
            token = page.next_token
            if not token:
                break
        raise NotFound(f"There is no history entry {entry_id}.")

    def _load(self, keys: list[str]) -> list[HistoryEntry]:
        with self._lock:
            missing = [key for key in keys if key not in self._cache]
        if missing:
            with ThreadPoolExecutor(max_workers=8) as pool:
                loaded = list(pool.map(self._read, missing))
            with self._lock:
                for key, entry in zip(missing, loaded, strict=True):
                    if entry is not None:
                        self._cache[key] = entry
        with self._lock:
            return [self._cache[key] for key in keys if key in self._cache]

    def _read(self, key: str) -> HistoryEntry | None:
        try:
            return HistoryEntry.from_json(self.backend.read(key))
        except (LakeLensError, ValueError, KeyError, TypeError):
            log.warning("Skipping unreadable history entry %s", key, exc_info=True)
            return None


class SavedQueries:
    """Named queries with a description, shared by everyone on the lake."""

    def __init__(self, backend: Backend) -> None:
        self.backend = backend
        self.prefix = f"{backend.settings.meta_prefix}saved/"

    def key_for(self, name: str) -> str:
        slug = re.sub(r"[^a-z0-9]+", "-", name.strip().lower()).strip("-")[:60] or "query"
        digest = hashlib.sha256(name.strip().encode("utf-8")).hexdigest()[:10]
        return f"{self.prefix}{slug}-{digest}.json"

    def save(self, name: str, sql: str, description: str = "", params: dict[str, str] | None = None) -> SavedQuery:
        name = name.strip()
        if not name:
            raise LakeLensError("Give the query a name before saving it.")
        if len(name) > 120:
            raise LakeLensError("A saved query's name can be at most 120 characters; shorten it.")
        if not sql.strip():
            raise LakeLensError("There is no SQL to save: write a query first.")
        if len(sql.encode("utf-8")) > ATHENA_MAX_QUERY_BYTES:
            raise LakeLensError(
                f"The SQL is longer than Athena's {ATHENA_MAX_QUERY_BYTES:,} bytes and cannot be saved."
            )
        query = SavedQuery(name=name, sql=sql, description=description.strip(), params=dict(params or {}))
        self.backend.write(self.key_for(name), query.to_json(), content_type="application/json")
        return query

    def list(self) -> list[SavedQuery]:
        """Every saved query, by name."""
        keys: list[str] = []
        token: str | None = None
        while True:
            page = self.backend.list_objects(self.prefix, token=token)
            keys += [obj.key for obj in page.objects if obj.key.endswith(".json")]
            token = page.next_token
            if not token:
                break
        queries: list[SavedQuery] = []
        with ThreadPoolExecutor(max_workers=8) as pool:
            for query in pool.map(self._read, keys):
                if query is not None:
                    queries.append(query)
        return sorted(queries, key=lambda q: q.name.lower())

    def get(self, name: str) -> SavedQuery:
        query = self._read(self.key_for(name))
        if query is None:
            raise NotFound(f"There is no saved query named {name!r}.")
        return query

    def delete(self, name: str) -> None:
        self.backend.delete(self.key_for(name))

    def _read(self, key: str) -> SavedQuery | None:
        try:
            return SavedQuery.from_json(self.backend.read(key))
        except NotFound:
            return None
        except (LakeLensError, ValueError, KeyError, TypeError):
            log.warning("Skipping unreadable saved query %s", key, exc_info=True)
            return None
