"""Hostile paths: keys and names that would leave the lake are refused everywhere an analyst can type or link one.

Every key goes through what the Lake page does with it (list it as a folder, stat it, preview it, download it)
and what a writer does (write, delete), on the local backend and on the aws backend against moto, where it must
be refused before any request leaves the process. Ingest gets the same treatment for file, database and table
names. A folder ``outside`` sits next to the lake holding ``secret.txt``: nothing may read, change, delete or add
to it, and the lake's checksums are the same afterwards.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from streamlit.testing.v1 import AppTest

from lib.backends.aws import AwsBackend
from lib.backends.base import Backend
from lib.backends.local import LocalBackend
from lib.errors import IngestError, PathError
from lib.lake import ingest
from lib.lake.preview import preview_object
from tests.aws_fixtures import BUCKET, REGION, make_aws_settings, moto_post
from tests.conftest import lake_checksums
from tests.security.conftest import Ledger

pytest_plugins = ("tests.aws_fixtures",)

ROOT = Path(__file__).resolve().parents[2]
SECRET = "SECRET-OUTSIDE-THE-LAKE"

# key -> what it tries. "outside" is the folder beside the lake root, so "../outside/secret.txt" is a real escape.
KEYS: dict[str, str] = {
    "..": "../outside/secret.txt",
    ".. deeper": "curated/../../outside/secret.txt",
    ".. as a folder": "../",
    "absolute": "/etc/passwd",
    "absolute, two slashes": "//etc/passwd",
    "URL-encoded ..": "%2e%2e/outside/secret.txt",
    "URL-encoded slashes": "..%2Foutside%2Fsecret.txt",
    "double-encoded": "%252e%252e%252foutside%252fsecret.txt",
    "backslashes": "..\\outside\\secret.txt",
    "backslash absolute": "\\etc\\passwd",
    "Windows drive": "C:\\Windows\\win.ini",
    "NUL": "curated/reviews\x00.csv",
    "URL-encoded NUL": "curated/reviews%00.csv",
    "escape character": "curated/\x1b[31mred.csv",
    "line break": "curated/a\nb.csv",
    "C1 control (NEL)": "curated/a\x85b.csv",
    "right-to-left override": "curated/review\u202evsc.exe",
    "very long": "curated/" + "x" * 2000,
    ".": ".",
    ". segment": "curated/./reviews/",
    "home": "~/.aws/credentials",
    "~": "~",
    "s3:// URL": "s3://someone-elses-bucket/secret.txt",
    "file:// URL": "file:///etc/passwd",
    "fullwidth dots": "curated/．．/．．/outside/secret.txt",
    "fullwidth dots and slash": "．．／outside／secret.txt",
    "one-dot leaders": "\u2024\u2024/outside/secret.txt",
    "overlong UTF-8 slash": "..%c0%af..%c0%afoutside%c0%afsecret.txt",
    "overlong UTF-8 dots": "%c0%ae%c0%ae/outside/secret.txt",
}

# Links planted in the local lake (see ``lake``): names that are fine as text but lead outside, nowhere or in a loop.
LINKS: dict[str, str] = {
    "link to a file outside": "link-to-file",
    "link to a folder outside": "link-to-folder/",
    "file through a linked folder": "link-to-folder/secret.txt",
    "link that leads nowhere": "dangling",
    "link in a loop": "loop",
}

Operation = Callable[[Backend, str], Any]
OPERATIONS: dict[str, Operation] = {
    "browse": lambda backend, key: backend.list_objects(key),
    "stat": lambda backend, key: backend.stat(key),
    "preview": lambda backend, key: preview_object(backend, key),
    "download": lambda backend, key: backend.read(key),
    "ranged read": lambda backend, key: backend.read(key, 0, 16),
    "write": lambda backend, key: backend.write(key, b"overwritten"),
    "delete": lambda backend, key: backend.delete(key),
}


def one_clear_sentence(error: BaseException) -> str:
    message = str(error)
    assert message and "\n" not in message and len(message) < 400, message
    assert message.rstrip().endswith("."), message
    return message


def outside_state(outside: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(outside.iterdir())}


@pytest.fixture
def lake(fresh_backend: LocalBackend) -> Iterator[tuple[LocalBackend, Path]]:
    """The demo lake copy, a folder ``outside`` beside it with a secret, and links from the lake to it."""
    root = fresh_backend.root
    outside = root.parent / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text(SECRET)
    (root / "link-to-file").symlink_to(outside / "secret.txt")
    (root / "link-to-folder").symlink_to(outside, target_is_directory=True)
    (root / "dangling").symlink_to(root.parent / "nothing-here")
    (root / "loop").symlink_to(root / "loop")
    yield fresh_backend, outside


@pytest.mark.parametrize("label", list(KEYS) + list(LINKS))
def test_local_refuses_the_key_everywhere(label: str, lake: tuple[LocalBackend, Path], ledger: Ledger) -> None:
    backend, outside = lake
    key = KEYS.get(label) or LINKS[label]
    before, secret_before = lake_checksums(backend.root), outside_state(outside)
    for name, operation in OPERATIONS.items():
        with pytest.raises(PathError) as refused:
            operation(backend, key)
        message = one_clear_sentence(refused.value)
        assert SECRET not in message, name
    assert lake_checksums(backend.root) == before
    assert outside_state(outside) == secret_before
    ledger.add("paths", f"key: {label}")


def test_links_out_of_the_lake_are_not_listed_and_the_lake_still_counts(
    lake: tuple[LocalBackend, Path], ledger: Ledger
) -> None:
    """One bad link must not take the folder, the home page's summary or the scan of a prefix down with it."""
    backend, _ = lake
    page = backend.list_objects("")
    shown = set(page.folders) | {o.key for o in page.objects}
    assert {"curated/", "raw/", "_lakelens/"} <= shown
    assert shown.isdisjoint({"link-to-file", "link-to-folder/", "dangling", "loop"})
    summary = backend.summary()
    files = [p for p in backend.root.rglob("*") if p.is_file() and not p.is_symlink()]
    assert summary.objects == len(files) and summary.bytes == sum(p.stat().st_size for p in files)
    for name in LINKS:
        ledger.add("paths", f"listing: {name}")


def test_a_folder_linked_inside_the_lake_still_works(lake: tuple[LocalBackend, Path]) -> None:
    """The refusals are about leaving the lake, not about links: one that stays inside is a folder like any other."""
    backend, _ = lake
    (backend.root / "books").symlink_to(backend.root / "curated" / "reviews" / "product_category=Books")
    assert "books/" in backend.list_objects("").folders
    assert [o.key for o in backend.list_objects("books/").objects] == ["books/part-0.parquet"]
    assert preview_object(backend, "books/part-0.parquet").frame is not None


# -- aws ------------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def aws_lake(moto_server: str) -> Iterator[AwsBackend]:
    moto_post(moto_server, "/moto-api/reset")
    boto3.client("s3", region_name=REGION, endpoint_url=moto_server).create_bucket(Bucket=BUCKET)
    backend = AwsBackend(make_aws_settings(moto_server))
    backend.write("curated/reviews/part-0.csv", b"review_id,star_rating\nr1,5\n")
    yield backend
    backend.close()


def bucket_state(backend: AwsBackend) -> dict[str, str]:
    s3 = backend._client("s3")
    return {o["Key"]: o["ETag"] for o in s3.list_objects_v2(Bucket=BUCKET).get("Contents", [])}


@pytest.mark.parametrize("label", list(KEYS))
def test_aws_refuses_the_key_before_any_request(label: str, aws_lake: AwsBackend, ledger: Ledger) -> None:
    before = bucket_state(aws_lake)
    sent: list[str] = []
    s3 = aws_lake._client("s3")
    s3.meta.events.register("before-send.s3", lambda request, **_: sent.append(request.url))
    try:
        for name, operation in OPERATIONS.items():
            with pytest.raises(PathError) as refused:
                operation(aws_lake, KEYS[label])
            one_clear_sentence(refused.value)
            assert sent == [], name
    finally:
        s3.meta.events.unregister("before-send.s3")
    assert bucket_state(aws_lake) == before
    ledger.add("paths", f"key: {label}")


# -- ingest ---------------------------------------------------------------------------------------------------
CSV = b"review_id,star_rating\nr1,5\nr2,1\n"
# (label, file name, database, table)
INGEST_NAMES: list[tuple[str, str, str, str]] = [
    ("file name ..", "../../outside/evil.csv", "shop", "evil"),
    ("file name absolute", "/etc/cron.d/evil.csv", "shop", "evil"),
    ("file name backslashes", "..\\..\\evil.csv", "shop", "evil"),
    ("file name URL-encoded", "%2e%2e%2fevil.csv", "shop", "evil"),
    ("file name NUL", "evil\x00.csv", "shop", "evil"),
    ("file name line break", "evil\n.csv", "shop", "evil"),
    ("file name right-to-left override", "evil\u202evsc.csv", "shop", "evil"),
    ("file name CON", "CON.csv", "shop", "evil"),
    ("file name nul", "nul", "shop", "evil"),
    ("file name ~", "~evil.csv", "shop", "evil"),
    ("file name hidden by Athena", "_evil.csv", "shop", "evil"),
    ("file name s3:// URL", "s3://bucket/evil.csv", "shop", "evil"),
    ("file name fullwidth", "．．／evil.csv", "shop", "evil"),
    ("file name over 255 bytes", "x" * 300 + ".csv", "shop", "evil"),
    ("database ..", "reviews.csv", "../raw", "evil"),
    ("database URL-encoded ..", "reviews.csv", "%2e%2e", "evil"),
    ("database CON", "reviews.csv", "con", "evil"),
    ("database file:// URL", "reviews.csv", "file:///etc", "evil"),
    ("database fullwidth dots", "reviews.csv", "．．", "evil"),
    ("table ..", "reviews.csv", "shop", "../../etc"),
    ("table path", "reviews.csv", "shop", "t/../../x"),
    ("table LPT1", "reviews.csv", "shop", "LPT1"),
    ("table ~", "reviews.csv", "shop", "~"),
    ("table .", "reviews.csv", "shop", "."),
    ("table NUL", "reviews.csv", "shop", "x\x00"),
    ("table over 255 bytes", "reviews.csv", "shop", "t" * 300),
]


@pytest.mark.parametrize("label, filename, database, table", INGEST_NAMES, ids=[n[0] for n in INGEST_NAMES])
def test_ingest_refuses_names_that_leave_the_lake(
    label: str, filename: str, database: str, table: str, lake: tuple[LocalBackend, Path], ledger: Ledger
) -> None:
    backend, outside = lake
    before, secret_before = lake_checksums(backend.root), outside_state(outside)
    with pytest.raises((PathError, IngestError)) as refused:
        plan = ingest.plan_ingest(CSV, filename, database=database, table=table)
        ingest.commit(backend, plan, curated=True)  # only reached if the plan let the name through
    one_clear_sentence(refused.value)
    assert lake_checksums(backend.root) == before
    assert outside_state(outside) == secret_before
    assert not any(db.name == "shop" for db in backend.list_databases())
    ledger.add("paths", f"ingest {label}")


# File names a Linux file system can hold, ingested from disk as the CLI does.
ON_DISK = ["..\\evil.csv", "evil\x01.csv", "CON.csv", "nul.csv", "evil\u202evsc.csv", ".evil.csv"]


@pytest.mark.parametrize("filename", ON_DISK)
def test_ingest_file_refuses_a_hostile_name_on_both_backends(
    filename: str, lake: tuple[LocalBackend, Path], aws_lake: AwsBackend, tmp_path: Path, ledger: Ledger
) -> None:
    source = tmp_path / "upload" / filename
    source.parent.mkdir()
    source.write_bytes(CSV)
    backend, _ = lake
    before_local, before_s3 = lake_checksums(backend.root), bucket_state(aws_lake)
    for target in (backend, aws_lake):
        with pytest.raises((PathError, IngestError)) as refused:
            ingest.ingest_file(target, source, database="shop", table="upload")
        one_clear_sentence(refused.value)
    assert lake_checksums(backend.root) == before_local
    assert bucket_state(aws_lake) == before_s3
    ledger.add("paths", f"ingest_file {filename!r}")


# -- the Lake page: a shared link is a path an analyst did not type -----------------------------------------
PAGE_LINKS = {
    "prefix": ["../../", "%2e%2e/outside/", "curated/．．/．．/", "link-to-folder/"],
    "object": ["../outside/secret.txt", "..%2Foutside%2Fsecret.txt", "link-to-file", "loop"],
}


def test_lake_page_links_that_leave_the_lake_show_one_message(
    lake: tuple[LocalBackend, Path], monkeypatch: pytest.MonkeyPatch, ledger: Ledger
) -> None:
    backend, outside = lake
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("LAKELENS_BACKEND", "local")
    monkeypatch.setenv("LAKELENS_LAKE_ROOT", str(backend.root))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.run()
    at.switch_page("pages/lake.py")
    for param, values in PAGE_LINKS.items():
        for value in values:
            at.query_params.clear()
            at.query_params[param] = value
            at.run()
            assert not at.exception, value
            errors = [e.value for e in at.error]
            assert len(errors) == 1, (value, errors)
            one_clear_sentence(errors[0])
            page_text = " ".join(str(el.value) for el in at.markdown) + " ".join(str(c.value) for c in at.caption)
            assert SECRET not in page_text
            ledger.add("paths", f"Lake page ?{param}={value}")
    assert (outside / "secret.txt").read_text() == SECRET
