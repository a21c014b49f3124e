"""``python -m lib report ...``: import a file, list, refresh, export; every error one line and exit 1."""

from __future__ import annotations

from pathlib import Path

import pyarrow.dataset as ds
import pytest

from lib.backends.local import LocalBackend
from lib.cli.commands import main
from lib.reports.store import ReportStore
from tests.lib.test_reports import HOSTILE


def test_import_list_refresh_export(
    fresh_backend: LocalBackend, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = str(fresh_backend.root)
    source = tmp_path / "weekly.md"
    source.write_text(HOSTILE.replace("Quarterly <script>alert('title')</script> review", "Quarterly review"))
    assert main(["report", "import", str(source), "--root", root]) == 0
    assert "Imported quarterly-review: Quarterly review (4 blocks)" in capsys.readouterr().out
    assert main(["report", "import", str(source), "--slug", "q4", "--root", root]) == 0
    capsys.readouterr()

    assert main(["report", "list", "--root", root]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines == [
        "q4\tQuarterly review\t4 blocks\tlast refreshed never",
        "quarterly-review\tQuarterly review\t4 blocks\tlast refreshed never",
    ]

    # Two blocks run; the DROP and the host-file block are refused, so the command says so and exits 1.
    assert main(["report", "refresh", "q4", "--root", root]) == 1
    err = capsys.readouterr().err
    assert "Refreshed 2 block(s) of q4" in err
    assert err.count("\n") == 2 and "error: 2 block(s) did not refresh" in err and "refused: read-only" in err
    snapshot = ReportStore(fresh_backend).load("q4").snapshot(3)
    total = ds.dataset(Path(root) / "curated" / "reviews", format="parquet", partitioning="hive").count_rows()
    assert snapshot is not None and snapshot.records == [{"n": total}]

    out = tmp_path / "q4.html"
    assert main(["report", "export", "q4", "--out", str(out), "--root", root]) == 0
    page = out.read_text()
    assert page.startswith("<!DOCTYPE html>") and "Quarterly review" in page and f"{total:,}" in page
    assert "<script>alert" not in page
    assert main(["report", "list", "--root", root]) == 0
    assert "q4\tQuarterly review\t4 blocks\tlast refreshed 20" in capsys.readouterr().out


@pytest.mark.parametrize(
    "args, message",
    [
        (["report", "export", "missing", "--out", "/tmp/x.html"], "There is no report named 'missing'"),
        (["report", "refresh", "../../etc"], "is not a report name"),
        (["report", "import", "/nonexistent/file.md"], "Cannot read /nonexistent/file.md"),
    ],
)
def test_errors_are_one_line_and_exit_1(
    fresh_backend: LocalBackend, args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([*args, "--root", str(fresh_backend.root)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err and err.count("\n") == 1


def test_a_file_without_front_matter_is_refused(
    fresh_backend: LocalBackend, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "bad.md"
    source.write_text("# Just a heading\n")
    assert main(["report", "import", str(source), "--root", str(fresh_backend.root)]) == 1
    assert "starts with front matter" in capsys.readouterr().err
    assert ReportStore(fresh_backend).slugs() == []
