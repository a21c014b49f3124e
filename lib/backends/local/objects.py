"""The local object store: the lake folder's files as objects (listing, stat, ranged read, atomic write, copy or
move, delete), with each object's metadata in a sidecar under ``<meta_prefix>object-metadata/``."""

from __future__ import annotations

import hashlib
import json
import mimetypes
import os
import shutil
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from lib.backends.base import ObjectInfo, ObjectPage
from lib.backends.local.files import TMP_MARK, atomic_copy, atomic_write
from lib.backends.local.lake import LocalLake
from lib.errors import BackendUnavailable, NotFound, PathError
from lib.paths import clean_key


class LocalObjects(LocalLake):
    """Objects are the files under the lake folder; a key never leads outside it (:meth:`path_for`)."""

    def list_objects(self, prefix: str = "", *, token: str | None = None, page_size: int = 1000) -> ObjectPage:
        prefix = clean_key(prefix, folder=True)
        directory = self.path_for(prefix, folder=True)
        if not directory.is_dir():
            return ObjectPage(prefix, [], [], None)
        root = self.root.resolve()
        try:
            scanned = [entry for entry in os.scandir(directory) if TMP_MARK not in entry.name]
        except OSError as exc:
            raise BackendUnavailable(f"Cannot list {prefix or 'the lake root'}: {exc.strerror}.") from exc
        kinds = {entry.name: _entry_kind(entry, root) for entry in scanned}
        entries = sorted(
            (entry for entry in scanned if kinds[entry.name] is not None),
            key=lambda entry: entry.name + ("/" if kinds[entry.name] == "dir" else ""),
        )
        folders: list[str] = []
        objects: list[ObjectInfo] = []
        next_token = None
        for entry in entries:
            is_dir = kinds[entry.name] == "dir"
            name = entry.name + ("/" if is_dir else "")
            if token is not None and name <= token:
                continue
            if len(folders) + len(objects) >= page_size:
                next_token = _last_name(folders, objects, prefix)
                break
            if is_dir:
                folders.append(prefix + name)
            else:
                try:
                    stat = entry.stat()
                except OSError:  # removed since the folder was read
                    continue
                objects.append(
                    ObjectInfo(
                        key=prefix + entry.name,
                        size=stat.st_size,
                        last_modified=datetime.fromtimestamp(stat.st_mtime, UTC),
                        etag=_etag(stat),
                    )
                )
        return ObjectPage(prefix, folders, objects, next_token)

    def stat(self, key: str) -> ObjectInfo:
        path = self.path_for(key)
        if not path.is_file():
            raise NotFound(f"There is no object {key!r} in the lake.")
        stat = path.stat()
        content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        metadata: dict[str, str] = {}
        sidecar = self._metadata_path(key)
        if sidecar.is_file():
            metadata = json.loads(sidecar.read_text("utf-8"))
        return ObjectInfo(
            key=clean_key(key),
            size=stat.st_size,
            last_modified=datetime.fromtimestamp(stat.st_mtime, UTC),
            etag=_etag(stat),
            storage_class="LOCAL",
            content_type=content_type,
            metadata=metadata,
        )

    def _metadata_path(self, key: str) -> Path:
        digest = hashlib.sha256(clean_key(key).encode()).hexdigest()
        return self.root / self.meta / "object-metadata" / f"{digest}.json"

    def read(self, key: str, start: int | None = None, end: int | None = None) -> bytes:
        path = self.path_for(key)
        if not path.is_file():
            raise NotFound(f"There is no object {key!r} in the lake.")
        with path.open("rb") as handle:
            if start:
                handle.seek(start)
            if end is None:
                return handle.read()
            return handle.read(max(0, end - (start or 0)))

    # -- the write path's halves (lib/backends/base.py) -------------------------------------------------------
    def _write(
        self, key: str, data: bytes, *, content_type: str | None = None, metadata: dict[str, str] | None = None
    ) -> ObjectInfo:
        normal = clean_key(key)
        if not normal or normal.endswith("/"):
            raise PathError("An object needs a key that names a file, not a folder.")
        path = self.path_for(normal)
        atomic_write(path, data)
        self.forget_listings()
        if metadata:
            atomic_write(self._metadata_path(normal), json.dumps(metadata).encode())
        return self.stat(normal)

    def _write_file(
        self,
        key: str,
        path: Path,
        *,
        content_type: str | None = None,
        metadata: dict[str, str] | None = None,
        progress: Callable[[int], None] | None = None,
        move: bool = False,
    ) -> ObjectInfo:
        normal = clean_key(key)
        if not normal or normal.endswith("/"):
            raise PathError("An object needs a key that names a file, not a folder.")
        atomic_copy(path, self.path_for(normal), progress, move)
        self.forget_listings()
        if metadata:
            atomic_write(self._metadata_path(normal), json.dumps(metadata).encode())
        return self.stat(normal)

    def _replace_folder(self, prefix: str, folder: Path) -> None:
        """A rename: ``folder`` (made by :meth:`scratch_dir`, on the lake's disk) becomes the lake folder."""
        target = self.path_for(prefix, folder=True)
        if target.exists():
            shutil.rmtree(target)
        target.parent.mkdir(parents=True, exist_ok=True)
        folder.rename(target)
        self.forget_listings()

    def _delete(self, key: str) -> None:
        path = self.path_for(key)
        if path.is_file():
            path.unlink()
            self.forget_listings()
            self._metadata_path(key).unlink(missing_ok=True)
            parent = path.parent
            while parent != self.root and parent.is_dir() and not any(parent.iterdir()):
                parent.rmdir()
                parent = parent.parent


def _entry_kind(entry: os.DirEntry[str], root: Path) -> Literal["dir", "file"] | None:
    """``dir`` or ``file``; ``None`` for what is not part of the lake and is left out of listings: a link that leads
    outside the lake, nowhere or round in a loop, and special files (pipes, sockets, devices) a read would hang on."""
    try:
        if entry.is_symlink():
            target = Path(entry.path).resolve(strict=True)
            if target != root and root not in target.parents:
                return None
        if entry.is_dir():
            return "dir"
        return "file" if entry.is_file() else None
    except (OSError, RuntimeError):
        return None


def _etag(stat: os.stat_result) -> str:
    return f'"{stat.st_size:x}-{stat.st_mtime_ns:x}"'


def _last_name(folders: list[str], objects: list[ObjectInfo], prefix: str) -> str:
    names = [f[len(prefix) :] for f in folders] + [o.key[len(prefix) :] for o in objects]
    return max(names)
