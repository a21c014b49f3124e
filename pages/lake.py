"""Lake: what is in the lake (objects), what is registered (catalog), and bringing a new file in (ingest)."""

from __future__ import annotations

import streamlit as st

from components.lake.ingest_form import ingest_form
from components.lake.object_table import TAB_CATALOG, TAB_INGEST, TAB_KEY, TAB_OBJECTS, object_browser
from components.lake.table_detail import catalog_browser
from components.routing import require_app

require_app()

st.title("Lake")
st.caption("Browse the files and the catalog, preview any file, and ingest a new one as a table.")

objects, catalog, ingest = st.tabs([TAB_OBJECTS, TAB_CATALOG, TAB_INGEST], key=TAB_KEY, bind="query-params")
if objects.open:
    with objects:
        object_browser()
if catalog.open:
    with catalog:
        catalog_browser()
if ingest.open:
    with ingest:
        ingest_form()
