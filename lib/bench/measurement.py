"""What every benchmark measurement shares: its record (:class:`Measurement`) and what it asks of its process (the
peak and current RSS, the settings of a local lake, lib.data pointed at a lake)."""

from __future__ import annotations

import os
import resource
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class Measurement:
    name: str
    rows: int
    cold_s: float | None = None
    warm_s: float | None = None
    peak_rss_mb: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    error: str | None = None


def peak_rss_mb() -> float:
    """This process's peak RSS (VmHWM). Not ru_maxrss: that one is inherited from the parent across fork+exec."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def current_rss_mb() -> float:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def local_settings(lake: Path) -> Any:
    from lib.settings import load_settings

    return load_settings({"LAKELENS_LAKE_ROOT": str(lake), "LAKELENS_BACKEND": "local"}, secrets_path="/nonexistent")


def use_lake(lake: Path) -> None:
    """Point lib.data (the pages' cached access) at this lake."""
    os.environ["LAKELENS_LAKE_ROOT"] = str(lake)
    os.environ["LAKELENS_BACKEND"] = "local"
    import logging

    logging.getLogger("streamlit").setLevel(logging.ERROR)
