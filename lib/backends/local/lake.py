"""What every part of the local backend stands on: the lake folder, keys turned into paths that never leave it,
table locations (``lake://<key>``), and the lock and file-list cache the object store and the engine share."""

from __future__ import annotations

import threading
from pathlib import Path

from lib.backends.base import Backend
from lib.catalog import LAKE_SCHEME
from lib.errors import PathError
from lib.paths import clean_key
from lib.settings import Settings


class LocalLake(Backend):
    """The lake folder ``settings.lake_path``; LakeLens's own files live under its ``meta_prefix``."""

    kind = "local"
    engine_name = "DuckDB"

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        self.root = settings.lake_path
        self.meta = settings.meta_prefix
        self._lock = threading.RLock()
        self._listings: dict[str, tuple[float, list[tuple[Path, int]]]] = {}  # a table folder's (file, size)

    # -- paths ----------------------------------------------------------------------------------------------
    def path_for(self, key: str, *, folder: bool = False) -> Path:
        """The file for ``key``; refuses keys that leave the lake, symlinks included."""
        normal = clean_key(key, folder=folder)
        path = self.root / normal if normal else self.root
        try:
            resolved = path.resolve()
        except (OSError, RuntimeError):  # Python 3.11 raises RuntimeError for a symlink loop
            raise PathError(f"The key {key!r} is a link that loops back on itself; LakeLens refuses it.") from None
        root = self.root.resolve()
        if resolved != root and root not in resolved.parents:
            raise PathError(f"The key {key!r} points outside the lake (through a link); LakeLens refuses it.")
        return path

    # -- capabilities ---------------------------------------------------------------------------------------
    def location(self, key: str) -> str:
        return LAKE_SCHEME + clean_key(key, folder=True)

    @property
    def lake_folder(self) -> Path:
        return self.root

    def location_key(self, location: str) -> str | None:
        if location.startswith(LAKE_SCHEME):
            return clean_key(location[len(LAKE_SCHEME) :], folder=True)
        return None

    def forget_listings(self) -> None:
        """The lake changed through this backend: table file lists are listed again on the next query."""
        with self._lock:
            self._listings.clear()
