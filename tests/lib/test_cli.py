from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.lib.test_local_backend import counts_from_files

ROOT = Path(__file__).resolve().parents[2]


def run_cli(*args: str, lake: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "LAKELENS_LAKE_ROOT": str(lake), "LAKELENS_BACKEND": "local"}
    return subprocess.run(
        [sys.executable, "-m", "lib", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def test_query_prints_counts_that_match_the_files(demo_lake_dir: Path) -> None:
    sql = "SELECT product_category, count(*) AS n FROM demo.reviews GROUP BY 1 ORDER BY 1"
    done = run_cli("query", "--sql", sql, lake=demo_lake_dir)
    assert done.returncode == 0, done.stderr
    printed = {}
    for line in done.stdout.splitlines()[1:]:
        category, count = line.split()
        printed[None if category == "NaN" else category] = int(count)  # pandas prints a NULL as NaN
    assert printed == counts_from_files(demo_lake_dir)


def test_missing_table_is_one_line_and_non_zero(demo_lake_dir: Path) -> None:
    done = run_cli("query", "--sql", "SELECT * FROM demo.does_not_exist", lake=demo_lake_dir)
    assert done.returncode == 1
    assert done.stderr.strip().count("\n") == 0
    assert "demo.does_not_exist" in done.stderr and "Traceback" not in done.stderr


def test_writes_are_refused_from_the_cli_too(demo_lake_dir: Path) -> None:
    done = run_cli("query", "--sql", "DROP TABLE demo.reviews", lake=demo_lake_dir)
    assert done.returncode == 1 and "read-only" in done.stderr


def test_query_writes_a_file_and_reads_sql_from_a_file(demo_lake_dir: Path, tmp_path: Path) -> None:
    sql_file = tmp_path / "q.sql"
    sql_file.write_text("SELECT review_id, star_rating FROM demo.reviews WHERE star_rating = 1")
    out = tmp_path / "ones.csv"
    done = run_cli("query", "--sql-file", str(sql_file), "--out", str(out), "--format", "csv", lake=demo_lake_dir)
    assert done.returncode == 0, done.stderr
    lines = out.read_text().splitlines()
    assert lines[0] == '"review_id","star_rating"'
    assert all(line.endswith(",1") for line in lines[1:]) and len(lines) > 10


def test_missing_sql_file_and_usage_errors(demo_lake_dir: Path) -> None:
    missing = run_cli("query", "--sql-file", "/nonexistent/q.sql", lake=demo_lake_dir)
    assert missing.returncode == 1 and "Cannot read the SQL file" in missing.stderr
    usage = run_cli("query", lake=demo_lake_dir)
    assert usage.returncode == 2


def test_help_for_each_command(demo_lake_dir: Path) -> None:
    for command in ("demo", "query"):
        done = run_cli(command, "--help", lake=demo_lake_dir)
        assert done.returncode == 0 and "usage:" in done.stdout


def test_demo_command_builds_a_lake(tmp_path: Path) -> None:
    lake = tmp_path / "new-lake"
    done = run_cli("demo", "--rows", "500", "--root", str(lake), lake=lake)
    assert done.returncode == 0, done.stderr
    again = run_cli("demo", "--if-missing", "--root", str(lake), lake=lake)
    assert "already present" in again.stdout
    count = run_cli("query", "--sql", "SELECT count(*) AS n FROM demo.reviews_raw", lake=lake)
    assert count.stdout.split()[-1] == "500"
