"""Plain Python values from what engines and frames hand back (numpy scalars, pandas timestamps)."""

from __future__ import annotations

from typing import Any

import pandas as pd


def plain(value: Any) -> Any:
    """``value`` as a plain Python object: a pandas Timestamp as a datetime, a numpy scalar as its Python value;
    anything else as it is. JSON, SQL literals and comparisons need these."""
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    if hasattr(value, "item"):
        return value.item()
    return value
