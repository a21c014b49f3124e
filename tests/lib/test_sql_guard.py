"""The guard corpus: every write or escape attempt is refused with a clear message and the lake is unchanged.

Each statement goes through the whole local path (``run_query`` and ``export``), not only ``lib.sql.check``,
so a refusal that the guard missed would have to get past DuckDB's own access settings too; the second wall is
tested on its own at the end.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from lib import sql as sqlmod
from lib.backends.local import LocalBackend
from lib.errors import LakeLensError, SqlError, SqlRefused
from tests.conftest import lake_checksums, local_settings

WRITES = [
    "INSERT INTO demo.reviews SELECT * FROM demo.reviews",
    "INSERT INTO demo.reviews (review_id) VALUES ('x')",
    "UPDATE demo.reviews SET star_rating = 5",
    "DELETE FROM demo.reviews WHERE star_rating = 1",
    "MERGE INTO demo.reviews t USING demo.reviews_raw s ON t.review_id = s.review_id WHEN MATCHED THEN DELETE",
    "CREATE TABLE demo.copy AS SELECT * FROM demo.reviews",
    "CREATE TABLE demo.t (a int)",
    "CREATE EXTERNAL TABLE demo.t (a int) LOCATION 's3://bucket/t/'",
    "CREATE VIEW demo.v AS SELECT 1 AS a",
    "CREATE OR REPLACE VIEW demo.v AS SELECT 1 AS a",
    "CREATE DATABASE other",
    "DROP TABLE demo.reviews",
    "DROP TABLE IF EXISTS demo.reviews",
    "DROP DATABASE demo CASCADE",
    "DROP VIEW demo.v",
    "ALTER TABLE demo.reviews ADD COLUMNS (x int)",
    "ALTER TABLE demo.reviews DROP PARTITION (product_category = 'Books')",
    "ALTER TABLE demo.reviews ADD PARTITION (product_category = 'X') LOCATION 's3://b/x/'",
    "TRUNCATE TABLE demo.reviews",
    "MSCK REPAIR TABLE demo.reviews",
    "UNLOAD (SELECT * FROM demo.reviews) TO 's3://bucket/out/' WITH (format = 'PARQUET')",
    "OPTIMIZE demo.reviews REWRITE DATA USING BIN_PACK",
    "GRANT SELECT ON demo.reviews TO analyst",
    "REVOKE SELECT ON demo.reviews FROM analyst",
    "CREATE SECRET s3secret (TYPE s3, KEY_ID 'x', SECRET 'y')",
]

ESCAPES = [
    "SELECT * FROM read_csv('/etc/passwd')",
    "SELECT * FROM READ_CSV_AUTO('/etc/passwd')",
    "SELECT * FROM read_parquet('/tmp/x.parquet')",
    "SELECT * FROM read_json('/etc/hosts')",
    "SELECT * FROM read_json_auto('/etc/hosts')",
    "SELECT * FROM read_text('/etc/passwd')",
    "SELECT * FROM read_blob('/etc/passwd')",
    "SELECT * FROM parquet_scan('/tmp/x.parquet')",
    "SELECT * FROM sqlite_scan('/tmp/x.db', 't')",
    "SELECT * FROM iceberg_scan('/tmp/t')",
    "SELECT * FROM delta_scan('/tmp/t')",
    "SELECT * FROM glob('/etc/*')",
    "SELECT * FROM '/etc/passwd'",
    'SELECT * FROM "/etc/passwd"',
    "SELECT * FROM 'lake/../../etc/passwd.csv'",
    "SELECT * FROM 's3://bucket/data.parquet'",
    'SELECT * FROM demo."../../etc/passwd"',
    "SELECT * FROM demo.reviews, read_csv('/etc/passwd')",
    "SELECT * FROM demo.reviews r JOIN read_csv('/etc/passwd') p ON true",
    "SELECT * FROM (SELECT * FROM read_csv('/etc/passwd'))",
    "WITH p AS (SELECT * FROM read_text('/etc/passwd')) SELECT * FROM p",
    "SELECT (SELECT count(*) FROM read_text('/etc/passwd'))",
    "SELECT * FROM demo.reviews WHERE EXISTS (SELECT 1 FROM read_csv('/etc/passwd'))",
    "SELECT * FROM demo.reviews UNION ALL SELECT * FROM read_csv('/etc/passwd')",
    "SELECT getenv('HOME')",
    "SELECT current_setting('allowed_directories')",
    "SELECT * FROM duckdb_settings()",
    "SELECT * FROM duckdb_secrets()",
    "SELECT * FROM pragma_table_info('x')",
    "SELECT * FROM query('SELECT * FROM read_csv(''/etc/passwd'')')",
    "SELECT * FROM query_table('x')",
    "SELECT * FROM which_secret('s3://x', 's3')",
    "SELECT * FROM hive.demo.reviews",
    "ATTACH '/tmp/other.db' AS other",
    "ATTACH 'md:' AS cloud",
    "DETACH other",
    "COPY demo.reviews TO '/tmp/out.csv'",
    "COPY (SELECT 1) TO '/tmp/out.parquet' (FORMAT parquet)",
    "COPY demo.reviews FROM '/etc/passwd'",
    "INSTALL httpfs",
    "LOAD httpfs",
    "FORCE INSTALL httpfs",
    "SET enable_external_access = true",
    "SET allowed_directories = ['/']",
    "RESET lock_configuration",
    "PRAGMA enable_profiling",
    "CALL pragma_version()",
    "EXPORT DATABASE '/tmp/dump'",
    "IMPORT DATABASE '/tmp/dump'",
    "USE demo",
    "CHECKPOINT",
    "VACUUM",
    "SELECT 1; COPY demo.reviews TO '/tmp/out.csv'",
    "SELECT 1 /* harmless */; ATTACH '/tmp/x.db'",
    "SELECT 1;\nDROP TABLE demo.reviews",
    "select * from Read_Csv('/etc/passwd')",
]


@pytest.mark.parametrize("sql", WRITES)
def test_writes_are_refused_by_the_guard(sql: str) -> None:
    with pytest.raises(SqlRefused) as info:
        sqlmod.check(sql)
    message = str(info.value)
    assert message.endswith(".") and "\n" not in message


@pytest.mark.parametrize("sql", ESCAPES)
def test_escapes_are_refused_even_with_writes_allowed(sql: str) -> None:
    with pytest.raises(SqlError) as info:
        sqlmod.check(sql, allow_writes=True)
    message = str(info.value)
    assert message.endswith(".") and "\n" not in message and len(message) < 300


def test_the_whole_corpus_leaves_the_lake_unchanged(fresh_backend: LocalBackend, tmp_path: Path) -> None:
    outside = [Path(p) for p in ("/tmp/out.csv", "/tmp/out.parquet", "/tmp/other.db", "/tmp/dump", "/tmp/x.db")]
    existed = {path: path.exists() and path.stat().st_mtime_ns for path in outside}
    before = lake_checksums(fresh_backend.root)
    for sql in WRITES + ESCAPES:
        with pytest.raises(LakeLensError):
            fresh_backend.run_query(sql)
        with pytest.raises(LakeLensError):
            fresh_backend.export(sql, tmp_path / "out.csv", "csv")
    assert lake_checksums(fresh_backend.root) == before
    assert not (tmp_path / "out.csv").exists()
    assert {path: path.exists() and path.stat().st_mtime_ns for path in outside} == existed


def test_writes_stay_refused_locally_when_allowed(fresh_backend: LocalBackend) -> None:
    backend = LocalBackend(local_settings(fresh_backend.root, LAKELENS_ALLOW_WRITES="true"))
    before = lake_checksums(backend.root)
    for sql in ("DROP TABLE demo.reviews", "INSERT INTO demo.reviews SELECT * FROM demo.reviews"):
        with pytest.raises(SqlError, match="queries only"):
            backend.run_query(sql)
    assert lake_checksums(backend.root) == before
    backend.close()


@pytest.mark.parametrize(
    "sql, kind",
    [
        ("SELECT * FROM demo.reviews LIMIT 1", "query"),
        ("WITH a AS (SELECT 1 AS x) SELECT x FROM a", "query"),
        ("VALUES (1, 'a')", "query"),
        ("SELECT 1 UNION ALL SELECT 2", "query"),
        ("SHOW TABLES IN demo", "show"),
        ("SHOW DATABASES", "show"),
        ("DESCRIBE demo.reviews", "describe"),
        ("EXPLAIN SELECT count(*) FROM demo.reviews", "explain"),
        ("-- a comment first\nSELECT 1", "query"),
        ("SELECT 'DROP TABLE demo.reviews' AS text_not_a_statement", "query"),
        ("SELECT read_count FROM (SELECT 1 AS read_count)", "query"),
    ],
)
def test_reads_are_allowed(sql: str, kind: str) -> None:
    assert sqlmod.check(sql).kind == kind


def test_reads_run_on_the_demo_lake(demo_backend: LocalBackend) -> None:
    result = demo_backend.run_query("SELECT 'DROP TABLE demo.reviews' AS t, count(*) AS n FROM demo.reviews")
    assert result.frame["t"][0] == "DROP TABLE demo.reviews" and result.frame["n"][0] > 0


@pytest.mark.parametrize("sql", ["", "   ", "\n\t", "-- only a comment", "/* nothing */", ";"])
def test_empty_sql_says_so(sql: str) -> None:
    with pytest.raises(SqlError, match="empty"):
        sqlmod.check(sql)


def test_sql_over_athena_limit_is_refused() -> None:
    padding = "-- " + "x" * 262_144 + "\n"
    with pytest.raises(SqlError, match="262,144"):
        sqlmod.check(padding + "SELECT 1")


@pytest.mark.parametrize(
    "sql, line, column, words",
    [
        ("SELECT * FROM", 1, 13, "ends too early"),
        ("SELECT a\nFROM demo.reviews\nWHERE a = = 2", 3, 11, "comparison '='"),  # the second '=' is column 11
        ("SELECT (1 + 2\nFROM demo.reviews", 2, 4, "parenthesis"),
        ("SELECT a FROM demo.reviews WHERE a = 'x", 1, 38, "quote ' is not closed"),
        ("SELECT 1 /* open", 1, 10, "comment"),
    ],
)
def test_syntax_errors_say_where(sql: str, line: int, column: int, words: str) -> None:
    with pytest.raises(SqlError) as info:
        sqlmod.check(sql)
    assert (info.value.line, info.value.column) == (line, column)
    assert f"line {line}, column {column}" in str(info.value)
    assert words in str(info.value)


def test_duckdb_itself_refuses_files_outside_the_lake(demo_backend: LocalBackend) -> None:
    """The second wall: even SQL that never met the guard cannot read outside the lake or unlock settings."""
    con = demo_backend._connection().cursor()
    with pytest.raises(duckdb.Error, match=r"(?i)permission|disabled|not allowed"):
        con.execute("SELECT * FROM read_csv('/etc/passwd')").fetchall()
    with pytest.raises(duckdb.Error, match=r"(?i)lock|configuration"):
        con.execute("SET enable_external_access = true")
    with pytest.raises(duckdb.Error):
        con.execute("INSTALL httpfs")
