"""Files written whole: a temporary file beside the target, flushed to disk, then renamed over it, so a reader
sees the old file or the new one and a crash leaves no half-written file in the lake."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path

TMP_MARK = ".lakelens-tmp-"
"""In the name of every temporary file LakeLens makes in the lake; listings and table scans skip them."""
COPY_CHUNK = 8 * 2**20


def atomic_write(path: Path, data: bytes) -> None:
    """Write to a temporary file beside ``path``, flush it to disk, then rename over ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=TMP_MARK, dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp_name, path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise


def atomic_copy(source: Path, path: Path, progress: Callable[[int], None] | None = None, move: bool = False) -> None:
    """:func:`atomic_write` for a file: copied in chunks (or renamed, if ``move`` and on the same disk), flushed,
    then renamed over ``path``; a failure (or ``progress`` raising) leaves ``path`` as it was."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if move:
        try:
            os.replace(source, path)
            if progress:
                progress(path.stat().st_size)
            return
        except OSError:
            pass  # another disk: copy
    fd, tmp_name = tempfile.mkstemp(prefix=TMP_MARK, dir=path.parent)
    try:
        done = 0
        with os.fdopen(fd, "wb") as handle, source.open("rb") as reader:
            while chunk := reader.read(COPY_CHUNK):
                handle.write(chunk)
                done += len(chunk)
                if progress:
                    progress(done)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp_name, path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise


def hidden(name: str) -> bool:
    """Files Hive/Athena skip inside a table location, and our own temporary files."""
    return name.startswith((".", "_")) or TMP_MARK in name
