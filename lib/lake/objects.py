"""What is in the lake: names and locations, what kind of file a key holds, prefix sizes, listings.

Previews of a file are in :mod:`lib.lake.preview`. They read as little as they can. Text formats (CSV, TSV, JSON, JSON lines, plain text, and their gzip
variants) read the object's first megabyte; Parquet reads the footer and the first row group through
:class:`RangedFile`, a file object whose reads become ranged reads of the backend, so a 10 GB Parquet file
costs a few kilobytes plus one row group. Images are read whole up to a cap.

Names follow awswrangler's ``wr.catalog.sanitize_column_name``/``sanitize_table_name`` exactly (accents
stripped, anything but letters, digits and underscores becomes ``_``, lower case), so a table ingested by
LakeLens has the names the course's awswrangler code would give it.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Literal

from lib.backends.base import Backend, ObjectInfo
from lib.catalog import LAKE_SCHEME, Partition
from lib.errors import PathError
from lib.paths import clean_key

OBJECT_COUNT_CAP = 100_000

FileKind = Literal["csv", "tsv", "json", "jsonl", "parquet", "text", "image", "binary"]

_TEXT_EXTENSIONS = {
    "txt",
    "log",
    "md",
    "rst",
    "sql",
    "py",
    "yaml",
    "yml",
    "xml",
    "html",
    "htm",
    "ini",
    "toml",
    "cfg",
    "conf",
    "sh",
}
IMAGE_EXTENSIONS = {"png": "image/png", "jpg": "image/jpeg", "jpeg": "image/jpeg", "gif": "image/gif"}
IMAGE_EXTENSIONS |= {"webp": "image/webp", "bmp": "image/bmp"}
_KIND_BY_EXTENSION: dict[str, FileKind] = {
    "csv": "csv",
    "tsv": "tsv",
    "tab": "tsv",
    "json": "json",
    "jsonl": "jsonl",
    "ndjson": "jsonl",
    "parquet": "parquet",
    "parq": "parquet",
    "pq": "parquet",
}
GZIP_MAGIC = b"\x1f\x8b"
PARQUET_MAGIC = b"PAR1"


# -- names and locations --------------------------------------------------------------------------------------
def sanitize_name(name: str) -> str:
    """awswrangler's ``_sanitize_name``: strip accents, non-alphanumerics to ``_``, lower case."""
    stripped = "".join(c for c in unicodedata.normalize("NFD", name) if unicodedata.category(c) != "Mn")
    return re.sub("[^A-Za-z0-9_]+", "_", stripped).lower()


def key_of_location(backend: Backend, location: str) -> str | None:
    """The lake key of a table location, or ``None`` when the location is outside the lake."""
    try:
        key = backend.location_key(location)
    except NotImplementedError:
        key = None
    if key is not None:
        return key
    lake = backend.settings.s3_lake
    if lake and location.startswith(lake):
        return clean_key(location[len(lake) :], folder=True)
    if location.startswith(LAKE_SCHEME):
        return clean_key(location[len(LAKE_SCHEME) :], folder=True)
    return None


def split_compression(key: str) -> tuple[str, str | None]:
    """``a/b.csv.gz`` -> (``b.csv``, ``gzip``); ``a/b.csv`` -> (``b.csv``, None)."""
    name = key.rstrip("/").rsplit("/", 1)[-1]
    lower = name.lower()
    for suffix in (".gz", ".gzip"):
        if lower.endswith(suffix):
            return name[: -len(suffix)], "gzip"
    return name, None


def extension(name: str) -> str:
    return name.rsplit(".", 1)[-1].lower() if "." in name else ""


def kind_from_name(key: str) -> FileKind | None:
    """The file kind its name promises, or ``None`` when the name says nothing useful."""
    name, _ = split_compression(key)
    ext = extension(name)
    if ext in _KIND_BY_EXTENSION:
        return _KIND_BY_EXTENSION[ext]
    if ext in IMAGE_EXTENSIONS:
        return "image"
    if ext in _TEXT_EXTENSIONS:
        return "text"
    return None


def kind_from_bytes(head: bytes) -> FileKind:
    """A guess from the first bytes, for names without a telling extension."""
    if head.startswith(PARQUET_MAGIC):
        return "parquet"
    if head.startswith((b"\x89PNG", b"\xff\xd8\xff", b"GIF8")):
        return "image"
    if not head:
        return "text"
    sample = head[:4096]
    if b"\x00" in sample:
        return "binary"
    stripped = sample.lstrip()
    if stripped.startswith((b"{", b"[")):
        lines = [line for line in stripped.splitlines() if line.strip()]
        return "jsonl" if len(lines) > 1 and all(line.strip().startswith(b"{") for line in lines[:5]) else "json"
    return "text"


# -- sizes under a prefix -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class PrefixStats:
    objects: int
    bytes: int
    capped: bool

    @property
    def objects_text(self) -> str:
        return f"{self.objects:,}{'+' if self.capped else ''}"


def prefix_stats(backend: Backend, prefix: str, cap: int = OBJECT_COUNT_CAP) -> PrefixStats:
    """Objects and bytes under ``prefix``, every level; stops at ``cap`` objects and says so."""
    objects = 0
    size = 0
    pending = [clean_key(prefix, folder=True)]
    while pending:
        current = pending.pop()
        token: str | None = None
        while True:
            page = backend.list_objects(current, token=token)
            for obj in page.objects:
                if objects >= cap:
                    return PrefixStats(objects, size, True)
                objects += 1
                size += obj.size
            pending.extend(page.folders)
            token = page.next_token
            if not token:
                break
    return PrefixStats(objects, size, False)


def objects_under(backend: Backend, folder: str) -> tuple[list[str], list[str]]:
    """(object keys, sub-folders) directly under ``folder``, every page of the listing."""
    keys: list[str] = []
    folders: list[str] = []
    token: str | None = None
    while True:
        page = backend.list_objects(folder, token=token)
        keys += [obj.key for obj in page.objects]
        folders += page.folders
        token = page.next_token
        if not token:
            return keys, folders


def iter_keys(backend: Backend, prefix: str, cap: int) -> tuple[list[ObjectInfo], bool]:
    """Every object under ``prefix`` (depth first, sorted), at most ``cap``; the flag says it stopped early."""
    found: list[ObjectInfo] = []
    pending = [clean_key(prefix, folder=True)]
    while pending:
        current = pending.pop(0)
        token: str | None = None
        while True:
            page = backend.list_objects(current, token=token)
            for obj in page.objects:
                if len(found) >= cap:
                    return found, True
                found.append(obj)
            pending[0:0] = page.folders
            token = page.next_token
            if not token:
                break
    return found, False


def all_partitions(backend: Backend, database: str, name: str) -> list[Partition]:
    """Every partition of ``database.name``, every page of the catalog's listing."""
    found: list[Partition] = []
    token: str | None = None
    while True:
        page = backend.list_partitions(database, name, token=token, page_size=1000)
        found += page.partitions
        token = page.next_token
        if not token:
            return found


MAX_NAME_BYTES = 255  # one file or folder name on Linux, macOS and Windows file systems
_RESERVED_NAMES = {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(1, 10)), *(f"lpt{i}" for i in range(1, 10))}


def check_inside_lake(text: str, what: str) -> None:
    """Refuse names that are paths: a table called ``../../etc`` must not become a folder outside its zone.

    Names Windows keeps for devices (``CON``, ``nul.csv``...) are refused too: a colleague copying the lake to a
    Windows laptop (``aws s3 sync``) could not create them.
    """
    if any(sep in text for sep in ("/", "\\")) or ".." in text or text.startswith("~"):
        raise PathError(f"The {what} {text!r} looks like a path that leaves the lake; give a plain name instead.")
    try:
        clean_key(text)
    except PathError as exc:
        raise PathError(str(exc).replace("The key", f"The {what}", 1)) from None
    if len(text.encode("utf-8")) > MAX_NAME_BYTES:
        raise PathError(
            f"The {what} is {len(text.encode('utf-8')):,} bytes long; file systems allow {MAX_NAME_BYTES} per name, "
            "so shorten it."
        )
    if text.split(".", 1)[0].strip().lower() in _RESERVED_NAMES:
        raise PathError(
            f"The {what} {text!r} is a name Windows keeps for a device, so copies of the lake on Windows could not "
            "hold it; choose another name."
        )
