"""Bad files through ingest: each one is refused with one clear sentence, or read correctly; nothing is left behind.

Files go in the way the CLI and the Lake page bring them in (``ingest_file``: read, plan, commit). For a refusal the
lake's checksums and the catalog are compared before and after; for a file that is unusual but valid (a BOM, UTF-16,
one column, repeated or blank headers, 10,000 columns) the table is queried and compared with pandas reading the
same bytes. The two files big enough to matter for memory (a 50 MB line, a gzip bomb) run in their own process,
whose peak memory is read from the kernel.

Decisions written down here:

* 10,000 columns are ingested, not refused. Neither Glue nor Athena documents a column limit below that, the local
  engine reads it, and a wide export (one column per survey answer or per day) is a real thing analysts bring.
* A line over 32 MB is refused with its line number: Athena cannot read a row over 32 MB (a hard limit), so the
  table would register and then fail every query. Lines up to that limit are read (the local engine is told so).
* A gzip file may not expand past the upload limit: the plan holds the text in memory.
"""

from __future__ import annotations

import gzip
import io
import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from lib.backends.aws import AwsBackend
from lib.backends.base import Backend
from lib.backends.local import LocalBackend
from lib.errors import IngestError
from lib.lake import ingest
from tests.aws_fixtures import BUCKET
from tests.conftest import lake_checksums
from tests.security.conftest import Ledger

pytest_plugins = ("tests.aws_fixtures",)

ROOT = Path(__file__).resolve().parents[2]
MEMORY_LIMIT_MB = 500  # peak RSS of a process ingesting a 50 MB file: about 220 MB of libraries, twice the file, margin


def parquet(rows: int = 1_000) -> bytes:
    buffer = io.BytesIO()
    pq.write_table(
        pa.table({"review_id": [f"r{i}" for i in range(rows)], "star_rating": [i % 5 + 1 for i in range(rows)]}), buffer
    )
    return buffer.getvalue()


def corrupt_footer() -> bytes:
    """A Parquet file whose footer (the schema and row-group index before the closing magic) is scrambled."""
    data = bytearray(parquet())
    footer = int.from_bytes(data[-8:-4], "little")
    for index in range(len(data) - 8 - footer, len(data) - 8, 5):
        data[index] ^= 0xFF
    return bytes(data)


def incompressible_csv() -> bytes:
    lines = [b"review_id,text"] + [f"r{i},{os.urandom(24).hex()}".encode() for i in range(20_000)]
    return b"\n".join(lines) + b"\n"


# label -> (file name, bytes, words the message must contain)
REFUSED: dict[str, tuple[str, Callable[[], bytes], str]] = {
    "truncated Parquet": ("reviews.parquet", lambda: parquet()[: len(parquet()) // 2], "not a readable Parquet"),
    "wrong magic bytes": ("reviews.parquet", lambda: b"PAR0" + parquet()[4:-4] + b"PAR0", "not a readable Parquet"),
    "Parquet with a corrupt footer": ("reviews.parquet", corrupt_footer, "not a readable Parquet"),
    "Parquet with no rows": (
        "reviews.parquet",
        lambda: (lambda b: (pq.write_table(pa.table({"a": pa.array([], pa.int64())}), b), b.getvalue())[1])(
            io.BytesIO()
        ),
        "no rows",
    ),
    "ragged CSV": ("reviews.csv", lambda: b"a,b,c\n1,2,3\n4,5\n6,7,8,9\n", "line 3: 2 field(s); line 4: 4 field(s)"),
    "mixed encodings": (
        "reviews.csv",
        lambda: "id,text\n1,café\n".encode() + "2,naïve\n".encode("latin-1"),
        "line 3 has the byte 0xEF",
    ),
    "0 bytes": ("reviews.csv", lambda: b"", "empty"),
    "only blank lines": ("reviews.csv", lambda: b"\n \n\t\n", "empty"),
    "header only": ("reviews.csv", lambda: b"review_id,star_rating\n", "no rows"),
    "binary garbage named .csv": ("reviews.csv", lambda: bytes(range(256)) * 64, "binary data"),
    "a zip archive named .csv": ("reviews.csv", lambda: b"PK\x03\x04" + bytes(512), "binary data"),
    "JSON that is not JSON": ("reviews.json", lambda: b"{not json", "line 1"),
    "JSON array of numbers": ("reviews.json", lambda: b"[1, 2, 3]", "JSON objects"),
    "JSON lines with one bad line": (
        "reviews.jsonl",
        lambda: b'{"id": 1}\n{"id": 2}\n{"id": 3\n{"id": 4}\n',
        "1 line(s) of reviews.jsonl are not JSON objects (line 3",
    ),
    "JSON nested 100,000 deep": ("reviews.json", lambda: b"[" * 100_000 + b"]" * 100_000, "too deeply"),
    "truncated gzip": ("reviews.csv.gz", lambda: gzip.compress(incompressible_csv())[:200_000], "cut short"),
    "gzip that is not gzip": ("reviews.csv.gz", lambda: b"\x1f\x8b" + os.urandom(300), "cannot be decompressed"),
    "CSV bomb: one row 100,000 fields wide": (
        "reviews.csv",
        lambda: b"a,b,c\n1,2,3\n" + b",".join([b"x"] * 100_000) + b"\n",
        "line 3: 100000 field(s)",
    ),
    "image named .csv": ("reviews.csv", lambda: b"\x89PNG\r\n\x1a\n" + bytes(64) + os.urandom(256), "binary data"),
}


def catalog(backend: Backend) -> list[str]:
    return sorted(t.qualified_name for db in backend.list_databases() for t in backend.list_tables(db.name))


def one_clear_sentence(error: BaseException) -> str:
    message = str(error)
    assert message and "\n" not in message and len(message) < 500 and "Traceback" not in message, message
    return message


def upload(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / "upload" / name
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(data)
    return path


@pytest.mark.parametrize("label", list(REFUSED))
def test_a_bad_file_is_refused_and_leaves_nothing(
    label: str, fresh_backend: LocalBackend, tmp_path: Path, ledger: Ledger
) -> None:
    name, make, words = REFUSED[label]
    source = upload(tmp_path, name, make())
    before, tables = lake_checksums(fresh_backend.root), catalog(fresh_backend)
    with pytest.raises(IngestError) as refused:
        ingest.ingest_file(fresh_backend, source, database="shop", table="upload", curated=True)
    assert words in one_clear_sentence(refused.value)
    assert lake_checksums(fresh_backend.root) == before
    assert catalog(fresh_backend) == tables
    ledger.add("files", f"rejected: {label}")


# -- unusual but valid: read correctly ----------------------------------------------------------------------
def ingest_and_read(backend: LocalBackend, source: Path, **options: object) -> tuple[ingest.IngestPlan, pd.DataFrame]:
    plan, result = ingest.ingest_file(backend, source, database="shop", table="upload", **options)  # type: ignore[arg-type]
    frame = backend.run_query(f"SELECT * FROM {result.table.qualified_name}", max_rows=100_000).frame
    return plan, frame


def test_a_utf8_bom_is_dropped_from_the_first_column_name(
    fresh_backend: LocalBackend, tmp_path: Path, ledger: Ledger
) -> None:
    data = "\ufeffreview_id,star_rating\nr1,5\nr2,1\n".encode()
    plan, frame = ingest_and_read(fresh_backend, upload(tmp_path, "bom.csv", data))
    assert [c.name for c in plan.columns] == ["review_id", "star_rating"]
    expected = pd.read_csv(io.BytesIO(data), encoding="utf-8-sig")
    assert list(expected.columns) == ["review_id", "star_rating"]  # pandas, told about the BOM, agrees
    assert frame.to_dict("list") == expected.to_dict("list")
    raw = fresh_backend.read(next(k for k in fresh_backend.list_objects("raw/shop/upload/").objects).key)
    assert not raw.startswith(b"\xef\xbb\xbf")  # the raw zone's file has no BOM for Athena to read as a name
    ledger.add("files", "read: UTF-8 BOM")


def test_utf16_text_is_read(fresh_backend: LocalBackend, tmp_path: Path, ledger: Ledger) -> None:
    data = "review_id\ttext\nr1\tnaïve ☃\nr2\tcafé\n".encode("utf-16")
    plan, frame = ingest_and_read(fresh_backend, upload(tmp_path, "excel.tsv", data))
    expected = pd.read_csv(io.BytesIO(data), encoding="utf-16", sep="\t")
    assert frame.to_dict("list") == expected.to_dict("list")
    assert any("UTF-16" in note for note in plan.notes)
    ledger.add("files", "read: UTF-16")


def test_one_column_is_a_table(fresh_backend: LocalBackend, tmp_path: Path, ledger: Ledger) -> None:
    data = b"review_id\nr1\nr2\nr3\n"
    _, frame = ingest_and_read(fresh_backend, upload(tmp_path, "ids.csv", data))
    assert frame["review_id"].tolist() == pd.read_csv(io.BytesIO(data))["review_id"].tolist()
    ledger.add("files", "read: one column")


def test_repeated_and_blank_headers_get_names_and_keep_their_values(
    fresh_backend: LocalBackend, tmp_path: Path, ledger: Ledger
) -> None:
    data = b"rating,rating,,text\n5,4,x,good\n1,2,y,bad\n"
    plan, frame = ingest_and_read(fresh_backend, upload(tmp_path, "dupes.csv", data))
    assert list(frame.columns) == ["rating", "rating_2", "col_3", "text"]
    expected = pd.read_csv(io.BytesIO(data), header=None, skiprows=1)
    assert frame.to_numpy().tolist() == expected.to_numpy().tolist()
    assert any("repeat" in note for note in plan.notes) and any("no name" in note for note in plan.notes)
    ledger.add("files", "read: duplicate headers")
    ledger.add("files", "read: blank headers")


def test_old_mac_line_ends_are_read(fresh_backend: LocalBackend, tmp_path: Path, ledger: Ledger) -> None:
    data = b"review_id,star_rating\rr1,5\rr2,1\r"
    _, frame = ingest_and_read(fresh_backend, upload(tmp_path, "mac.csv", data))
    assert frame.to_dict("list") == {"review_id": ["r1", "r2"], "star_rating": [5, 1]}  # the file, by eye
    ledger.add("files", "read: carriage returns alone")


def test_ten_thousand_columns_are_ingested_and_queried(
    fresh_backend: LocalBackend, tmp_path: Path, ledger: Ledger
) -> None:
    width = 10_000
    header = ",".join(f"q{i}" for i in range(width))
    rows = [",".join(str((r * 7 + i) % 11) for i in range(width)) for r in range(3)]
    data = ("\n".join([header, *rows]) + "\n").encode()
    plan, _ = ingest.ingest_file(fresh_backend, upload(tmp_path, "wide.csv", data), database="shop", table="wide")
    assert len(plan.columns) == width
    frame = fresh_backend.run_query("SELECT q0, q4999, q9999 FROM shop.wide ORDER BY q0").frame
    expected = pd.read_csv(io.BytesIO(data), usecols=["q0", "q4999", "q9999"]).sort_values("q0")
    assert frame.to_numpy().tolist() == expected.to_numpy().tolist()
    ledger.add("files", "read: 10,000 columns")


def test_a_long_line_under_athenas_limit_is_read(fresh_backend: LocalBackend, tmp_path: Path, ledger: Ledger) -> None:
    """3 MB in one field: over DuckDB's default 2 MB line, under Athena's 32 MB row."""
    data = b"review_id,review_body\nr1," + b"w" * 3_000_000 + b"\nr2,short\n"
    _, frame = ingest_and_read(fresh_backend, upload(tmp_path, "long.csv", data))
    assert frame["review_body"].str.len().tolist() == [3_000_000, 5]
    ledger.add("files", "read: one 3 MB line")


# -- the big ones, in their own process to read their peak memory ------------------------------------------
PROBE = textwrap.dedent(
    """
    import json, sys
    from pathlib import Path
    from lib.lake import ingest
    from lib.backends.local import LocalBackend
    from lib.errors import LakeLensError
    from lib.settings import load_settings

    lake, source = Path(sys.argv[1]), Path(sys.argv[2])
    backend = LocalBackend(load_settings({"LAKELENS_LAKE_ROOT": str(lake)}, secrets_path="/nonexistent"))
    outcome = {}
    try:
        ingest.ingest_file(backend, source, database="shop", table="upload")
        outcome["error"] = None
    except LakeLensError as exc:
        outcome["error"] = str(exc)
    # VmHWM, not ru_maxrss: Linux carries ru_maxrss over from the forking parent (here pytest) across exec.
    status = Path("/proc/self/status").read_text()
    outcome["peak_mb"] = int(status.split("VmHWM:")[1].split()[0]) / 1024
    print(json.dumps(outcome))
    """
)


def probe(tmp_path: Path, source: Path) -> dict[str, object]:
    lake = tmp_path / "lake"
    lake.mkdir()
    done = subprocess.run(
        [sys.executable, "-c", PROBE, str(lake), str(source)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert list(lake.rglob("*")) == [], "a refused ingest left something in the lake"
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def test_one_50_mb_line_is_refused_by_line_number_in_bounded_memory(tmp_path: Path, ledger: Ledger) -> None:
    source = tmp_path / "fifty.csv"
    with source.open("wb") as handle:
        handle.write(b"review_id,review_body\nr1,")
        handle.write(b"z" * 50_000_000)
        handle.write(b"\nr2,short\n")
    outcome = probe(tmp_path, source)
    assert outcome["error"] == (
        "Line 2 of fifty.csv is 50.0 MB; Athena cannot read a row over 32.0 MB, so split that text or keep it "
        "outside the table."
    )
    assert float(outcome["peak_mb"]) < MEMORY_LIMIT_MB  # type: ignore[arg-type]
    ledger.add("files", "rejected: one 50 MB line")
    ledger.note("files", "peak memory for the 50 MB line", f"{float(outcome['peak_mb']):.0f} MB")  # type: ignore[arg-type]


def test_a_gzip_bomb_is_refused_in_bounded_memory(tmp_path: Path, ledger: Ledger) -> None:
    """1 GB of zeros as 100 gzip members of 10 MB each: about 1 MB on disk."""
    member = gzip.compress(b"0" * 10_000_000, compresslevel=9)
    source = tmp_path / "bomb.csv.gz"
    source.write_bytes(member * 100)
    assert source.stat().st_size < 2_000_000
    outcome = probe(tmp_path, source)
    assert outcome["error"] == (
        "bomb.csv.gz expands to more than 200.0 MB once decompressed, over the ingest limit; raise "
        "LAKELENS_MAX_UPLOAD_BYTES or split the file."
    )
    assert float(outcome["peak_mb"]) < MEMORY_LIMIT_MB  # type: ignore[arg-type]
    ledger.add("files", "rejected: gzip bomb (1 GB in 1 MB)")


# -- the aws backend: S3 and Glue untouched -----------------------------------------------------------------
AWS_REFUSED = ["truncated Parquet", "ragged CSV", "0 bytes", "truncated gzip", "binary garbage named .csv"]


def bucket_keys(backend: AwsBackend) -> list[str]:
    listed = backend._client("s3").list_objects_v2(Bucket=BUCKET).get("Contents", [])
    return sorted(o["Key"] for o in listed)


def test_aws_bad_files_leave_no_object_and_no_table(aws_backend: AwsBackend, tmp_path: Path, ledger: Ledger) -> None:
    aws_backend.create_database("shop")
    for label in AWS_REFUSED:
        name, make, words = REFUSED[label]
        before = (bucket_keys(aws_backend), catalog(aws_backend))
        with pytest.raises(IngestError) as refused:
            ingest.ingest_file(aws_backend, upload(tmp_path, name, make()), database="shop", table="upload")
        assert words in one_clear_sentence(refused.value)
        assert (bucket_keys(aws_backend), catalog(aws_backend)) == before
        ledger.add("files", f"rejected on aws: {label}")
    data = "\ufeffreview_id,star_rating\nr1,5\n".encode()
    _, result = ingest.ingest_file(aws_backend, upload(tmp_path, "bom.csv", data), database="shop", table="bom")
    assert [c.name for c in aws_backend.get_table("shop", "bom").columns] == ["review_id", "star_rating"]
    raw_key = next(k for k in result.keys if k.startswith("raw/"))
    assert aws_backend.read(raw_key) == data[3:]
    ledger.add("files", "read on aws: UTF-8 BOM")
