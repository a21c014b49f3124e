"""History and saved queries live in the lake: they survive a restart, are shared, searchable and atomic."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from lib.backends.base import QueryStats
from lib.backends.local import LocalBackend
from lib.errors import LakeLensError, NotFound
from lib.sql.history import History, HistoryEntry, SavedQueries
from tests.conftest import local_settings

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def backend(tmp_path: Path) -> LocalBackend:
    root = tmp_path / "lake"
    root.mkdir()
    return LocalBackend(local_settings(root))


def entry(n: int, sql: str | None = None, **fields: object) -> HistoryEntry:
    return HistoryEntry(sql=sql or f"SELECT {n}", status="succeeded", started_at=T0 + timedelta(minutes=n), **fields)  # type: ignore[arg-type]


def test_newest_first_and_survives_a_restart(backend: LocalBackend) -> None:
    history = History(backend)
    for n in (3, 1, 2):
        history.record(entry(n))
    restarted = History(LocalBackend(backend.settings))
    assert [e.sql for e in restarted.recent()] == ["SELECT 3", "SELECT 2", "SELECT 1"]


def test_entry_keeps_every_field(backend: LocalBackend) -> None:
    stats = QueryStats(
        engine="DuckDB",
        query_id="q-1",
        runtime_s=1.5,
        queue_s=0.25,
        bytes_scanned=123,
        rows=10,
        total_rows=99,
        truncated=True,
        bytes_estimated=True,
    )
    original = HistoryEntry.from_stats("SELECT * FROM demo.reviews", stats, started_at=T0, database="demo")
    History(backend).record(original)
    (read,) = History(LocalBackend(backend.settings)).recent()
    assert read == original
    assert (read.rows, read.total_rows, read.bytes_scanned, read.query_id) == (10, 99, 123, "q-1")


def test_failures_are_recorded_with_their_error(backend: LocalBackend) -> None:
    history = History(backend)
    history.record(
        HistoryEntry(
            sql="SELECT nope FROM demo.reviews", status="failed", started_at=T0, error="Column nope not found."
        )
    )
    history.record(
        HistoryEntry(
            sql="SELECT 1", status="cancelled", started_at=T0 + timedelta(seconds=1), error="The query was cancelled."
        )
    )
    statuses = [(e.status, e.error) for e in History(LocalBackend(backend.settings)).recent()]
    assert statuses == [("cancelled", "The query was cancelled."), ("failed", "Column nope not found.")]


def test_search_matches_every_word_in_sql_or_error(backend: LocalBackend) -> None:
    history = History(backend)
    history.record(entry(1, "SELECT product_category FROM demo.reviews"))
    history.record(entry(2, "SELECT star_rating FROM demo.reviews"))
    history.record(
        HistoryEntry(
            sql="SELECT x FROM demo.reviews",
            status="failed",
            started_at=T0 + timedelta(minutes=3),
            error="Column x not found",
        )
    )
    assert [e.sql for e in history.recent(search="PRODUCT_category")] == ["SELECT product_category FROM demo.reviews"]
    assert [e.sql for e in history.recent(search="reviews star")] == ["SELECT star_rating FROM demo.reviews"]
    assert [e.status for e in history.recent(search="not found")] == ["failed"]
    assert [e.status for e in history.recent(search="failed")] == ["failed"]
    assert history.recent(search="nothing-like-this") == []


def test_limit_and_paging(backend: LocalBackend) -> None:
    history = History(backend)
    for n in range(30):
        history.record(entry(n))
    fresh = History(LocalBackend(backend.settings))
    assert [e.sql for e in fresh.recent(limit=5)] == [f"SELECT {n}" for n in (29, 28, 27, 26, 25)]
    assert len(fresh.recent(limit=100)) == 30
    # Every word must occur: "SELECT 1" finds the runs whose number contains a 1.
    expected = [f"SELECT {n}" for n in reversed(range(30)) if "1" in str(n)]
    assert [e.sql for e in fresh.recent(limit=100, search="SELECT 1")] == expected
    assert len(fresh.recent(limit=100, scan_limit=7)) == 7


def test_entries_are_stored_under_the_meta_prefix(tmp_path: Path) -> None:
    root = tmp_path / "lake"
    root.mkdir()
    backend = LocalBackend(local_settings(root, LAKELENS_META_PREFIX="team/records"))
    key = History(backend).record(entry(1))
    assert key.startswith("team/records/history/") and (root / key).is_file()
    SavedQueries(backend).save("Mine", "SELECT 1")
    assert [p.parent.name for p in (root / "team" / "records").rglob("*.json")].count("saved") == 1


def test_unreadable_entry_is_skipped(backend: LocalBackend) -> None:
    history = History(backend)
    history.record(entry(1))
    key = history.key_for(entry(2))
    backend.write(key, b"{not json")
    assert [e.sql for e in History(LocalBackend(backend.settings)).recent()] == ["SELECT 1"]


def test_concurrent_writers_lose_nothing(backend: LocalBackend) -> None:
    """Two analysts (two History objects) recording at the same moment: every run is kept."""
    first, second = History(backend), History(LocalBackend(backend.settings))

    def write(history: History, offset: int) -> None:
        for n in range(20):
            history.record(HistoryEntry(sql=f"SELECT {offset + n}", status="succeeded", started_at=T0))

    threads = [threading.Thread(target=write, args=(h, o)) for h, o in ((first, 0), (second, 100))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    sqls = {e.sql for e in History(LocalBackend(backend.settings)).recent(limit=100)}
    assert sqls == {f"SELECT {n}" for n in [*range(20), *range(100, 120)]}
    leftovers = [p for p in backend.root.rglob("*") if ".lakelens-tmp-" in p.name]
    assert leftovers == []


def test_get_by_id(backend: LocalBackend) -> None:
    history = History(backend)
    wanted = entry(1)
    history.record(wanted)
    history.record(entry(2))
    assert History(LocalBackend(backend.settings)).get(wanted.id) == wanted
    with pytest.raises(NotFound):
        history.get("0" * 32)


def test_saved_queries_round_trip_and_replace(backend: LocalBackend) -> None:
    saved = SavedQueries(backend)
    saved.save(
        "Top categories", "SELECT product_category, count(*) FROM demo.reviews GROUP BY 1", "Volume per category"
    )
    saved.save("average sentiment", "SELECT 1")
    saved.save("Top categories", "SELECT 2", "Replaced")
    shared = SavedQueries(LocalBackend(backend.settings))
    listed = shared.list()
    assert [(q.name, q.sql, q.description) for q in listed] == [
        ("average sentiment", "SELECT 1", ""),
        ("Top categories", "SELECT 2", "Replaced"),
    ]
    assert shared.get("Top categories").sql == "SELECT 2"


def test_names_that_slug_alike_stay_apart(backend: LocalBackend) -> None:
    saved = SavedQueries(backend)
    saved.save("Top categories", "SELECT 1")
    saved.save("top-categories", "SELECT 2")
    assert {q.name: q.sql for q in saved.list()} == {"Top categories": "SELECT 1", "top-categories": "SELECT 2"}


def test_delete_and_missing(backend: LocalBackend) -> None:
    saved = SavedQueries(backend)
    saved.save("Gone soon", "SELECT 1")
    saved.delete("Gone soon")
    assert saved.list() == []
    with pytest.raises(NotFound, match="Gone soon"):
        saved.get("Gone soon")


@pytest.mark.parametrize(
    "name, sql, words",
    [("", "SELECT 1", "name"), ("   ", "SELECT 1", "name"), ("x" * 121, "SELECT 1", "120"), ("Empty", "  ", "no SQL")],
)
def test_saving_explains_what_is_missing(backend: LocalBackend, name: str, sql: str, words: str) -> None:
    with pytest.raises(LakeLensError, match=words):
        SavedQueries(backend).save(name, sql)
    assert SavedQueries(backend).list() == []


# -- the same records on S3 (moto): a team on one S3 lake shares them ------------------------------------------
from tests.aws_fixtures import aws_backend, aws_settings, moto_server  # noqa: E402, F401  (pytest fixtures)


def test_history_and_saved_queries_on_s3(aws_backend) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    from lib.backends.aws import AwsBackend

    history = History(aws_backend)
    for n in (1, 3, 2):
        history.record(entry(n))
    failed = HistoryEntry(sql="SELECT x", status="failed", started_at=T0 + timedelta(minutes=9), error="Column x")
    history.record(failed)
    SavedQueries(aws_backend).save("Per category", "SELECT product_category FROM demo.reviews", "Shared")
    colleague = AwsBackend(aws_backend.settings)  # another analyst, another process: only S3 in common
    assert [e.sql for e in History(colleague).recent()] == ["SELECT x", "SELECT 3", "SELECT 2", "SELECT 1"]
    assert [e.sql for e in History(colleague).recent(search="column x")] == ["SELECT x"]
    assert History(colleague).get(failed.id) == failed
    (saved,) = SavedQueries(colleague).list()
    assert (saved.name, saved.description) == ("Per category", "Shared")
    keys = [o.key for o in colleague.list_objects("_lakelens/history/").objects]
    assert len(keys) == 4 and all(k.endswith(".json") for k in keys)
    colleague.close()
