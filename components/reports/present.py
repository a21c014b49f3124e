"""Present mode: the page as a meeting sees it — no editors, sidebars or controls; bigger charts and numbers.

It is a toggle in the sidebar and a URL flag (``?present=true``), so a link can open straight into it. The
filters stay visible as a caption (pages call :func:`filters_caption`). An "Exit present mode" button stays.
"""

from __future__ import annotations

import streamlit as st

KEY = "present"

_CSS = """
<style>
[data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"], [data-testid="stHeader"],
[data-testid="stExpandSidebarButton"],
[data-testid="stTextInput"], [data-testid="stTextArea"], [data-testid="stSelectbox"], [data-testid="stMultiSelect"],
[data-testid="stSlider"], [data-testid="stDateInput"], [data-testid="stRadio"], [data-testid="stCheckbox"],
[data-testid="stToggle"], [data-testid="stNumberInput"], [data-testid="stFileUploader"], [data-testid="stButton"],
[data-testid="stDownloadButton"], [data-testid="stPageLink"], [data-testid="stFormSubmitButton"],
[data-testid="stExpander"], [data-testid="stCustomComponentV1"], iframe[title^="code_editor"],
[data-testid="stElementToolbar"], .modebar-container { display: none !important; }
.st-key-exit_present, .st-key-exit_present [data-testid="stButton"] { display: block !important; }
[data-testid="stMainBlockContainer"] { max-width: 100% !important; padding-left: 3rem; padding-right: 3rem; }
h1 { font-size: 3rem !important; }
[data-testid="stMetricValue"] { font-size: 3.2rem !important; }
[data-testid="stMetricLabel"] p { font-size: 1.2rem !important; }
[data-testid="stCaptionContainer"] p { font-size: 1.1rem !important; }
</style>
"""


def is_on() -> bool:
    value = st.query_params.get(KEY, "")
    return str(value).lower() in {"1", "true", "yes", "on"}


def toggle() -> bool:
    """The sidebar switch (bound to the URL) plus, when on, the CSS and an exit button. Call once per run."""
    with st.sidebar:
        st.toggle(
            "Present mode",
            key=KEY,
            bind="query-params",
            help="Hide controls and enlarge charts for a meeting. Also `?present=true` in a link.",
        )
    if not is_on():
        return False
    st.html(_CSS)
    st.button(
        "Exit present mode", key="exit_present", icon=":material/close_fullscreen:", type="tertiary", on_click=_exit
    )
    return True


def _exit() -> None:
    """A callback, so the bound toggle (and with it the URL) can still be changed before it is drawn again."""
    st.session_state[KEY] = False


def filters_caption(text: str) -> None:
    """In present mode the controls are hidden; this keeps what they were set to on screen."""
    if is_on() and text:
        st.caption(f":material/filter_alt: {text}")
