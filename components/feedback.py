"""How errors reach the analyst: one clear message, never a traceback."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

import streamlit as st

from lib.errors import LakeLensError

log = logging.getLogger("lakelens")


@contextmanager
def friendly_errors(stop: bool = False) -> Iterator[None]:
    """Show a :class:`LakeLensError` as ``st.error``; anything else is a bug: logged, shown as one line."""
    try:
        yield
    except LakeLensError as exc:
        st.error(str(exc), icon=":material/error:")
        if stop:
            st.stop()
    except Exception as exc:
        if type(exc).__module__.startswith("streamlit"):
            raise
        log.exception("Unexpected error")
        st.error(
            f"Something went wrong inside LakeLens ({type(exc).__name__}). The details are in the server log; "
            "please report it.",
            icon=":material/bug_report:",
        )
        if stop:
            st.stop()
