"""Hostile SQL: every statement that would write, or read outside the lake, is refused with one clear sentence.

The corpus is the guard corpus of tests/lib/test_sql_guard.py (imported, not copied) plus the statements below
that it lacks. Each one goes through the whole path an analyst's SQL takes on both backends: ``run_query`` and
``export`` on the local backend (DuckDB) with the lake checksummed before and after, and the same on the aws
backend against moto, where it must be refused before Athena is asked anything. Tables whose catalog location
points outside the lake are refused too, and DuckDB is shown never to open the outside file: that file is a
named pipe, and a watcher notices the moment anything opens it for reading.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import boto3
import duckdb
import pytest

from lib.backends.aws import AwsBackend
from lib.backends.local import LocalBackend
from lib.errors import LakeLensError
from tests.aws_fixtures import BUCKET, REGION, make_aws_settings, moto_post
from tests.conftest import lake_checksums, local_settings
from tests.lib.test_sql_guard import ESCAPES, WRITES
from tests.security.conftest import Ledger

pytest_plugins = ("tests.aws_fixtures",)

# What the guard corpus lacks: more kinds of DDL/DML, statement splitting hidden by comments, quoting tricks,
# DuckDB-only syntax, file functions in every position a table or value can take, and secrets via getenv.
MORE = [
    # DDL and DML the corpus does not have yet
    "CREATE SCHEMA evil",
    "DROP SCHEMA demo CASCADE",
    "ALTER TABLE demo.reviews RENAME TO gone",
    "ALTER VIEW demo.v AS SELECT 1",
    "CREATE TEMP TABLE t AS SELECT 1 AS a",
    "CREATE MACRO m(a) AS a + 1",
    "CREATE SEQUENCE s",
    "CREATE TYPE mood AS ENUM ('a')",
    "CREATE INDEX i ON demo.reviews (review_id)",
    "COMMENT ON TABLE demo.reviews IS 'x'",
    "INSERT OVERWRITE TABLE demo.reviews SELECT * FROM demo.reviews",
    "INSERT OR REPLACE INTO demo.reviews SELECT * FROM demo.reviews",
    "REFRESH MATERIALIZED VIEW demo.v",
    "PREPARE p FROM DROP TABLE demo.reviews",
    "EXECUTE p",
    "DEALLOCATE PREPARE p",
    "BEGIN TRANSACTION",
    "WITH x AS (DELETE FROM demo.reviews RETURNING *) SELECT * FROM x",
    "EXPLAIN DROP TABLE demo.reviews",
    # several statements, split where a reader would not look
    "SELECT 1;SELECT 2",
    ";;DROP TABLE demo.reviews",
    "SELECT 1 --\n; DROP TABLE demo.reviews",
    "SELECT 1 /* ; */ ; DELETE FROM demo.reviews",
    "SHOW TABLES; DROP TABLE demo.reviews",
    # comments and quoting
    "/* SELECT */ DROP TABLE demo.reviews",
    "-- SELECT\nDROP TABLE demo.reviews",
    "/* x */ COPY demo.reviews TO '/tmp/out.csv'",
    "SELECT * FROM read_csv('/etc/passwd') -- SELECT * FROM demo.reviews",
    "SELECT * FROM \"read_csv\"('/etc/passwd')",
    "SELECT * FROM `read_csv`('/etc/passwd')",
    "SELECT \"getenv\"('HOME')",
    'SELECT * FROM demo."reviews""; DROP TABLE x"',
    "SELECT * FROM read_csv(U&'/etc/passwd')",
    "SELECT * FROM read_csv(chr(47) || 'etc/passwd')",
    # COPY, ATTACH, INSTALL/LOAD, PRAGMA, SET in other spellings
    "copy (select * from demo.reviews) to 'curated/evil.csv'",
    "ATTACH DATABASE '/tmp/x.db' AS x (READ_ONLY)",
    "LOAD '/tmp/evil.duckdb_extension'",
    "INSTALL httpfs FROM community",
    "UPDATE EXTENSIONS",
    "PRAGMA database_list",
    "pragma threads=1",
    "SET memory_limit = '100GB'",
    "SET GLOBAL enable_external_access = true",
    "SET SESSION query_max_run_time = '1h'",
    "RESET ALL",
    "CALL load_aws_credentials()",
    # table functions that read host files, in every position
    "FROM read_csv('/etc/passwd')",
    "SELECT * FROM read_csv(['/etc/passwd', '/etc/hosts'])",
    "SELECT * FROM read_ndjson('/etc/hosts')",
    "SELECT * FROM read_json_objects('/etc/hosts')",
    "SELECT file FROM glob('/root/.aws/*')",
    "SELECT * FROM read_csv('http://169.254.169.254/latest/meta-data/')",
    "SELECT * FROM TABLE(read_text('/etc/passwd'))",
    "DESCRIBE SELECT * FROM read_csv('/etc/passwd')",
    "EXPLAIN SELECT * FROM read_text('/etc/passwd')",
    "EXPLAIN ANALYZE SELECT * FROM read_text('/etc/passwd')",
    "SUMMARIZE SELECT * FROM read_csv('/etc/passwd')",
    "SELECT * FROM demo.reviews, LATERAL (SELECT * FROM read_text('/etc/passwd'))",
    "SELECT * FROM demo.reviews WHERE review_body IN (SELECT content FROM read_text('/etc/passwd'))",
    "SELECT content FROM read_text('/root/.aws/credentials')",
    "SELECT 1 UNION SELECT content FROM read_text('/proc/self/environ')",
    "SELECT * FROM demo.reviews AS r(a), read_blob('/etc/shadow')",
    "SELECT * FROM parquet_metadata('/tmp/x.parquet')",
    "SELECT * FROM duckdb_extensions()",
    "SELECT * FROM 'curated/reviews/*/*.parquet'",
    "SELECT * FROM read_parquet('curated/reviews/*/*.parquet')",
    "SELECT * FROM system.main.duckdb_settings",
    # the environment, where credentials live
    "SELECT getenv('AWS_SECRET_ACCESS_KEY')",
    "SELECT * FROM demo.reviews WHERE getenv('HOME') IS NOT NULL",
    "VALUES (getenv('HOME'))",
    "SELECT current_setting('secret_directory')",
]

# Names that parse as tables but are DuckDB's own catalog or a file function in disguise: the local engine refuses
# them because they are not in the lake's catalog. On aws Athena answers them from Glue, which is its own business.
LOCAL_ONLY = [
    "SELECT * FROM sqlite_master",
    "SELECT * FROM pragma_database_list",
    "SELECT * FROM main.duckdb_tables",
    "DESCRIBE read_csv('/etc/passwd')",
]

CORPUS = WRITES + ESCAPES + MORE

# The kinds the issue names, each found in the corpus by a pattern over the statement text.
KINDS = {
    "INSERT": r"^\s*INSERT\b",
    "UPDATE": r"^UPDATE\b",
    "DELETE": r"\bDELETE FROM\b",
    "MERGE": r"^MERGE\b",
    "CREATE TABLE": r"^CREATE (TEMP |EXTERNAL )?TABLE\b",
    "CREATE VIEW": r"^CREATE (OR REPLACE )?VIEW\b",
    "CREATE DATABASE/SCHEMA": r"^CREATE (DATABASE|SCHEMA)\b",
    "DROP": r"^DROP\b",
    "ALTER": r"^ALTER\b",
    "TRUNCATE": r"^TRUNCATE\b",
    "GRANT/REVOKE": r"^(GRANT|REVOKE)\b",
    "several statements": r";\s*\S",
    "comment tricks": r"/\*|--",
    "quoting tricks": r'"|`|U&',
    "COPY": r"\bCOPY\b",
    "ATTACH": r"^\s*ATTACH\b",
    "INSTALL": r"\bINSTALL\b",
    "LOAD": r"^LOAD\b",
    "PRAGMA": r"^PRAGMA\b",
    "SET": r"^SET\b",
    "read_csv": r"\bREAD_CSV",
    "read_text": r"\bREAD_TEXT\(",
    "read_json": r"\bREAD_JSON",
    "glob": r"\bGLOB\(",
    "getenv": r"\bGETENV\b",
}


def one_clear_sentence(error: BaseException) -> str:
    message = str(error)
    assert message and "\n" not in message, message
    assert "Traceback" not in message and len(message) < 400, message
    assert message.rstrip().endswith((".", ")")), message
    return message


def outside_paths(sql: str) -> list[Path]:
    """Files outside the lake a statement names (``'/tmp/out.csv'``), to check none was created."""
    return [Path(p) for p in re.findall(r"'(/tmp/[^']+)'", sql)]


def test_the_corpus_holds_every_kind_the_issue_names() -> None:
    assert len(CORPUS) == len(set(CORPUS)), "a statement is listed twice"
    assert len(CORPUS) >= 60
    upper = [s.upper() for s in CORPUS]
    missing = [kind for kind, pattern in KINDS.items() if not any(re.search(pattern, s, re.M) for s in upper)]
    assert missing == []


# -- local: DuckDB --------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def local_lake(demo_lake_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LocalBackend, Path]]:
    """One private copy of the demo lake for the module: statements are refused, so nothing should change it."""
    root = tmp_path_factory.mktemp("hostile-sql") / "lake"
    shutil.copytree(demo_lake_dir, root)
    backend = LocalBackend(local_settings(root))
    yield backend, root
    backend.close()


@pytest.fixture(scope="module")
def local_checksums(local_lake: tuple[LocalBackend, Path]) -> dict[str, str]:
    return lake_checksums(local_lake[1])


@pytest.mark.parametrize("sql", CORPUS + LOCAL_ONLY)
def test_local_refuses_and_the_lake_is_unchanged(
    sql: str,
    local_lake: tuple[LocalBackend, Path],
    local_checksums: dict[str, str],
    tmp_path: Path,
    ledger: Ledger,
) -> None:
    backend, root = local_lake
    existed = {path: path.exists() for path in outside_paths(sql)}
    with pytest.raises(LakeLensError) as refused:
        backend.run_query(sql)
    one_clear_sentence(refused.value)
    target = tmp_path / "export.csv"
    with pytest.raises(LakeLensError) as exported:
        backend.export(sql, target, "csv")
    one_clear_sentence(exported.value)
    assert not target.exists() and list(tmp_path.iterdir()) == []
    assert lake_checksums(root) == local_checksums
    assert {path: path.exists() for path in existed} == existed
    ledger.add("sql", sql)


def test_writes_stay_refused_when_an_administrator_allows_them(
    local_lake: tuple[LocalBackend, Path], local_checksums: dict[str, str], ledger: Ledger
) -> None:
    """LAKELENS_ALLOW_WRITES lets DDL/DML past the guard; the local engine still runs queries only."""
    root = local_lake[1]
    backend = LocalBackend(local_settings(root, LAKELENS_ALLOW_WRITES="true"))
    try:
        for sql in WRITES + [s for s in MORE if re.match(r"\s*(INSERT|CREATE|DROP|ALTER)", s, re.I)]:
            with pytest.raises(LakeLensError) as refused:
                backend.run_query(sql)
            one_clear_sentence(refused.value)
    finally:
        backend.close()
    assert lake_checksums(root) == local_checksums


# -- tables whose location leaves the lake ------------------------------------------------------------------
@contextmanager
def watch_for_readers(fifo: Path) -> Iterator[list[str]]:
    """Yield a list that gets an entry if anything opens ``fifo`` (a named pipe) for reading.

    Opening a pipe for writing without blocking succeeds only while a reader has it open (otherwise ENXIO), so
    polling that open notices any reader; the reader is then fed one line and the pipe closed, so it never hangs.
    """
    opened: list[str] = []
    stop = threading.Event()

    def watch() -> None:
        while not stop.is_set():
            try:
                fd = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
            except OSError:
                time.sleep(0.001)
                continue
            opened.append("opened for reading")
            try:
                os.write(fd, b"SENTINEL-OUTSIDE\tx\n")
            finally:
                os.close(fd)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        yield opened
    finally:
        stop.set()
        watcher.join(5)


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A folder beside the lake (not in it) whose only file is a named pipe posing as a TSV file."""
    folder = tmp_path / "outside"
    folder.mkdir()
    os.mkfifo(folder / "secrets.tsv")
    return folder


def register_raw(backend: LocalBackend, name: str, location: str) -> None:
    """Write a table definition straight into the catalog JSON, as someone editing the lake by hand could."""
    catalog = backend.root / "_lakelens" / "catalog" / "demo"
    body = json.loads((catalog / "reviews_raw.json").read_text())
    body["Name"] = name
    body["StorageDescriptor"]["Location"] = location
    (catalog / f"{name}.json").write_text(json.dumps(body))
    (catalog / f"{name}.partitions.json").write_text("[]")


OUTSIDE_LOCATIONS = {
    "climbs with ..": lambda lake, out: "lake://../outside/",
    "climbs with encoded ..": lambda lake, out: "lake://%2e%2e/outside/",
    "file:// URL": lambda lake, out: f"file://{out}/",
    "absolute path": lambda lake, out: f"{out}/",
    "another bucket": lambda lake, out: "s3://someone-elses-bucket/reviews/",
    "folder linked out of the lake": lambda lake, out: "lake://linked/",
    "file linked out of the lake": lambda lake, out: "lake://curated/leak/",
}


@pytest.mark.parametrize("how", list(OUTSIDE_LOCATIONS))
def test_a_table_located_outside_the_lake_is_refused_and_never_read(
    how: str, fresh_backend: LocalBackend, outside: Path, tmp_path: Path, ledger: Ledger
) -> None:
    lake = fresh_backend.root
    (lake / "linked").symlink_to(outside, target_is_directory=True)
    (lake / "curated" / "leak").mkdir()
    (lake / "curated" / "leak" / "part-0.tsv").symlink_to(outside / "secrets.tsv")
    register_raw(fresh_backend, "elsewhere", OUTSIDE_LOCATIONS[how](lake, outside))
    before = lake_checksums(lake)
    with watch_for_readers(outside / "secrets.tsv") as opened:
        for attempt in (
            lambda: fresh_backend.run_query("SELECT * FROM demo.elsewhere"),
            lambda: fresh_backend.run_query(
                "SELECT count(*) FROM demo.reviews r JOIN demo.elsewhere e USING (review_id)"
            ),
            lambda: fresh_backend.export("SELECT * FROM demo.elsewhere", tmp_path / "out.tsv", "csv"),
        ):
            with pytest.raises(LakeLensError) as refused:
                attempt()
            message = one_clear_sentence(refused.value)
            assert "SENTINEL" not in message
            assert "outside the lake" in message or "leaves its folder" in message, message
    assert opened == []
    assert not (tmp_path / "out.tsv").exists()
    assert lake_checksums(lake) == before
    ledger.add("sql", f"SELECT from a table located outside the lake ({how})")


def test_duckdb_alone_will_not_open_the_outside_file(demo_backend: LocalBackend, outside: Path, ledger: Ledger) -> None:
    """The second wall, without the guard or the catalog: the engine's own access settings refuse the path."""
    con = demo_backend._connection().cursor()
    with watch_for_readers(outside / "secrets.tsv") as opened:
        for sql in (
            f"SELECT * FROM read_csv('{outside}/secrets.tsv')",
            f"SELECT * FROM '{outside}/secrets.tsv'",
            f"SELECT * FROM glob('{outside}/*')",
        ):
            with pytest.raises(duckdb.Error, match=r"(?i)permission|not allowed|disabled"):
                con.execute(sql).fetchall()
    assert opened == []
    ledger.add("sql", "DuckDB read of a file outside the lake, past the guard")


# -- aws: refused before Athena -----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def aws_lake(moto_server: str) -> Iterator[AwsBackend]:
    """A bucket with one object and one Glue table for the module (the per-test reset would cost 100 resets)."""
    moto_post(moto_server, "/moto-api/reset")
    boto3.client("s3", region_name=REGION, endpoint_url=moto_server).create_bucket(Bucket=BUCKET)
    backend = AwsBackend(make_aws_settings(moto_server))
    backend.write("curated/reviews/part-0.csv", b"review_id,star_rating\nr1,5\n")
    backend.create_database("demo")
    yield backend
    backend.close()


def aws_state(backend: AwsBackend) -> tuple[list[str], list[str], list[str]]:
    """Objects in the bucket, tables in Glue, and every query Athena was ever asked to run."""
    s3 = backend._client("s3")
    objects = sorted(o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET).get("Contents", []))
    tables = sorted(t.name for t in backend.list_tables("demo"))
    executions = backend._client("athena").list_query_executions().get("QueryExecutionIds", [])
    return objects, tables, list(executions)


@pytest.mark.parametrize("sql", CORPUS)
def test_aws_refuses_before_athena_is_asked(sql: str, aws_lake: AwsBackend, tmp_path: Path, ledger: Ledger) -> None:
    before = aws_state(aws_lake)
    assert before[2] == []
    with pytest.raises(LakeLensError) as refused:
        aws_lake.run_query(sql)
    one_clear_sentence(refused.value)
    with pytest.raises(LakeLensError) as exported:
        aws_lake.export(sql, tmp_path / "export.csv", "csv")
    one_clear_sentence(exported.value)
    assert list(tmp_path.iterdir()) == []
    assert aws_state(aws_lake) == before
    ledger.add("sql", sql)
