"""Make a deep link (``/lake?prefix=...``) on a freshly started server run through ``app.py``.

Streamlit decides once per server whether the app uses the old ``pages/`` folder mechanism: until a script has
called ``st.navigation``, a folder named ``pages`` beside the entry point makes Streamlit run a deep-linked page
file *directly*, without ``app.py`` (no page config, no sidebar, no demo build). LakeLens's layout has that
folder, so each page calls :func:`require_app` first: if it was started the old way, it switches Streamlit to
``st.navigation`` routing and runs ``app.py`` in its place, which routes to this same page with the same URL.
"""

from __future__ import annotations

import runpy
from pathlib import Path

import streamlit as st
from streamlit.runtime.pages_manager import PagesManager

APP = Path(__file__).resolve().parents[1] / "app.py"


def require_app() -> None:
    if PagesManager.uses_pages_directory:
        PagesManager.uses_pages_directory = False
        runpy.run_path(str(APP), run_name="__main__")
        st.stop()
