"""Keys inside the lake: one normal form, and a refusal for anything that would leave it.

Both backends address objects by a key relative to the lake root (``curated/reviews/part-0.parquet``). A key
that is absolute, climbs with ``..``, hides a NUL or control character, is URL-encoded to do either, or is
absurdly long is refused with :class:`PathError` before any backend sees it.
"""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import unquote

from lib.errors import PathError

MAX_KEY_BYTES = 1024  # S3's limit for a key
# C0 and C1 control characters, and the invisible marks that reorder how a name is shown (a file that reads
# "reviews.csv" on screen but is "reviews\u202evsc.exe" underneath).
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_WINDOWS_DRIVE = re.compile(r"^[a-zA-Z]:")


def clean_key(key: str, *, folder: bool = False) -> str:
    """Return ``key`` in normal form (no leading slash; folders end in ``/``) or raise :class:`PathError`.

    The checks run on the key as given, once and twice URL-decoded, and on each of those after Unicode
    compatibility normalisation (NFKC), which turns look-alikes such as fullwidth ``．．／`` into ``../``.
    """
    if not isinstance(key, str):
        raise PathError("An object key must be text.")
    shown = key if len(key) <= 80 else key[:77] + "..."
    try:
        decoded = [unquote(key, errors="strict"), unquote(unquote(key, errors="strict"), errors="strict")]
    except UnicodeDecodeError:
        raise PathError(
            f"The key {shown!r} hides bytes that are not UTF-8 behind % signs (an old trick for smuggling '/'); "
            "LakeLens refuses it."
        ) from None
    candidates = {key, *decoded}
    candidates |= {unicodedata.normalize("NFKC", candidate) for candidate in candidates}
    for candidate in candidates:
        _check(candidate, original=key)
    if key in ("", "/"):
        return ""
    normal = re.sub(r"/{2,}", "/", key).lstrip("/") if not key.startswith("/") else key
    if folder and normal and not normal.endswith("/"):
        normal += "/"
    return normal


def _check(candidate: str, original: str) -> None:
    shown = original if len(original) <= 80 else original[:77] + "..."
    if _CONTROL.search(candidate):
        raise PathError(f"The key {shown!r} contains a control or text-direction character; LakeLens refuses it.")
    if len(candidate.encode("utf-8")) > MAX_KEY_BYTES:
        raise PathError(
            f"The key is {len(candidate.encode('utf-8')):,} bytes long; keys are limited to {MAX_KEY_BYTES:,}."
        )
    if candidate.startswith(("/", "\\", "~")) or _WINDOWS_DRIVE.match(candidate):
        raise PathError(f"The key {shown!r} is an absolute path; keys are relative to the lake root.")
    parts = re.split(r"[/\\]", candidate)
    if any(part in ("..", ".") for part in parts):
        raise PathError(f"The key {shown!r} leaves its folder with '..' or '.'; LakeLens keeps you inside the lake.")
    if "://" in candidate:
        raise PathError(f"The key {shown!r} is a URL; give a key inside the lake instead.")


def join_key(*parts: str) -> str:
    """Join key parts with single slashes and check the result."""
    joined = "/".join(part.strip("/") for part in parts if part and part.strip("/"))
    return clean_key(joined)


def parent_prefix(prefix: str) -> str:
    """``a/b/c/`` -> ``a/b/``; the root's parent is the root."""
    stripped = prefix.rstrip("/")
    if "/" not in stripped:
        return ""
    return stripped.rsplit("/", 1)[0] + "/"


def human_bytes(size: int | float | None) -> str:
    if size is None:
        return ""
    value = float(size)
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if abs(value) < 1000 or unit == "TB":
            return f"{int(value)} B" if unit == "B" else f"{value:,.1f} {unit}"
        value /= 1000
    return f"{value:,.1f} PB"  # pragma: no cover - unreachable, TB is the last unit
