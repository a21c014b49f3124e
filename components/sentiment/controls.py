"""The Sentiment page's controls: the table, the column roles, the sentiment definition, the course's preparation,
the sidebar filters and the label of interest. Every choice is bound to the URL, so a link reopens the same page.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Final

import pandas as pd
import streamlit as st

from lib import data
from lib import sentiment as s
from lib.catalog import TableDef
from lib.errors import LakeLensError

NONE = "(none)"
URL: Final = "query-params"
# Shown on the radio and written to the link as they are (?def=binary), so short and plain.
DEFINITION_LABELS: dict[s.SentimentDefinition, str] = {
    "three_class": "3 classes",
    "binary": "binary",
    "label": "label column",
}


def allow_scan(sql: str) -> None:
    """On Athena a scan costs money: an opened link runs nothing until the analyst says so, unless cached."""
    if data.settings().backend != "aws" or st.session_state.get("sentiment.scans_allowed"):
        return
    if data.query_is_cached(sql, max_rows=s.MAX_GROUPS):
        return
    st.info(
        "These charts run a few aggregate queries on Athena, which bills by the data each one scans. Nothing has "
        "run yet.",
        icon=":material/paid:",
    )
    if st.button("Run the queries", icon=":material/play_arrow:", type="primary", key="sentiment.allow_scans"):
        st.session_state["sentiment.scans_allowed"] = True
        st.rerun()
    st.stop()


def run(sql: str, what: str) -> pd.DataFrame:
    """An aggregate's result; refuses (with a reason) one that would not fit in a small frame."""
    allow_scan(sql)
    result = data.query(sql, max_rows=s.MAX_GROUPS)
    if result.stats.truncated:
        raise LakeLensError(
            f"The {what} has more than {s.MAX_GROUPS:,} groups: the category column probably holds ids or free "
            "text. Choose another category column under Columns."
        )
    return result.frame


def runner(what: str) -> s.Runner:
    """:func:`run` as a plain SQL -> frame function, for lib.sentiment's flows (the page's cached, guarded path)."""
    return lambda sql: run(sql, what)


def choose_course(mapping: s.ColumnMapping) -> bool:
    """The course's preparation as one switch (``?course=true``)."""
    return st.toggle(
        "Prepare as the course does",
        key="course",
        bind=URL,
        help=(
            "The course's week-1 notebook: reviews without a rating, a text or a category are left out (its "
            f"dropna), then categories with {s.SMALL_CATEGORY_MAX} reviews or fewer are dropped. Each step's count is "
            "shown. Off: every review is counted and missing values are shown as such. A text of only spaces counts "
            "as missing."
        ),
    )


def choose_table() -> TableDef | None:
    names: list[str] = []
    for database in data.databases():
        names += [t.qualified_name for t in data.tables(database.name)]
    if not names:
        st.info("No tables are registered yet. Ingest a review file on the Lake page first.", icon=":material/info:")
        return None
    default = f"{data.settings().database}.reviews"
    st.selectbox(
        "Table",
        names,
        index=names.index(default) if default in names else 0,
        key="table",
        bind=URL,
        help="Any review table in the catalog.",
    )
    database_name, name = str(st.session_state["table"]).split(".", 1)
    return data.table(database_name, name)


def choose_mapping(table: TableDef) -> s.ColumnMapping:
    """One select per role, defaulting to what detection found; a new table resets them to its own detection."""
    detected = s.detect_columns(table)
    columns = [c.name for c in table.all_columns]
    previous = st.session_state.get("sentiment.mapping_for")
    if previous is not None and previous != table.qualified_name:  # another table: its own detection, not the URL's
        for role in s.ROLES:
            st.session_state[role] = detected.get(role) or NONE
    st.session_state["sentiment.mapping_for"] = table.qualified_name
    essentials_missing = not (detected.rating or detected.label) or not detected.category
    with st.expander("Columns", expanded=essentials_missing, icon=":material/view_column:"):
        st.caption("Detected from the names and types; change any of them. The choice is kept in the link.")
        slots = st.columns(3)
        chosen: dict[str, str | None] = {}
        for index, role in enumerate(s.ROLES):
            default = detected.get(role) or NONE
            options = [NONE, *columns]
            if role in st.session_state and st.session_state[role] not in options:
                st.session_state[role] = default
            with slots[index % 3]:
                value = st.selectbox(
                    role.capitalize(), options, index=options.index(default), key=role, bind=URL, help=s.ROLE_HELP[role]
                )
            chosen[role] = None if value == NONE else value
    if chosen["text"] != detected.text and chosen["words"] == detected.words and detected.words:
        # the precomputed word count belongs to the detected text column, not to the one chosen instead
        chosen["words"] = None
        st.caption(f"Counting words in {chosen['text'] or 'no column'}: {detected.words} counts another column.")
    return s.ColumnMapping(**chosen)


def choose_definition(mapping: s.ColumnMapping) -> s.SentimentDefinition | None:
    options = s.definitions_for(mapping)
    if not options:
        st.warning(s.NO_SOURCE_MESSAGE, icon=":material/warning:")
        return None
    labels = [DEFINITION_LABELS[o] for o in options]
    if "def" in st.session_state and st.session_state["def"] not in labels:
        st.session_state["def"] = labels[0]
    choice = st.radio(
        "Sentiment",
        labels,
        index=0,
        key="def",
        bind=URL,
        horizontal=True,
        help="\n\n".join(f"**{DEFINITION_LABELS[k]}**: {v}" for k, v in s.DEFINITIONS.items() if k in options),
    )
    return options[labels.index(choice)] if choice in labels else options[0]


def choose_filters(spec: s.Spec, everything: pd.DataFrame, course: bool = False) -> tuple[s.Filters, bool]:
    """The sidebar filters (all bound to the URL); their options come from the unfiltered counts."""
    bounds = s.ranges(everything)
    categories = sorted(str(c) for c in everything["category"].dropna().unique())
    chosen = s.Filters()
    with st.sidebar:
        st.subheader("Filters", anchor=False)
        if spec.mapping.category:
            picked = st.multiselect("Categories", categories, key="cat", bind=URL, placeholder="All categories")
            chosen = replace(chosen, categories=tuple(picked))
        if spec.mapping.date and bounds.first_date and bounds.last_date and bounds.first_date < bounds.last_date:
            period = st.date_input(
                "Review date between",
                value=[],  # a range with no dates picked yet (the stubs' range overload has no tuple[()])
                min_value=bounds.first_date,
                max_value=bounds.last_date,
                key="dates",
                bind=URL,
                help=f"Reviews run from {bounds.first_date} to {bounds.last_date}.",
            )
            picked_dates = list(period) if isinstance(period, (tuple, list)) else []
            if len(picked_dates) == 2:
                chosen = replace(chosen, date_from=picked_dates[0], date_to=picked_dates[1])
        if spec.mapping.rating and bounds.min_rating is not None and bounds.max_rating is not None:
            low, high = bounds.min_rating, bounds.max_rating
            if low < high:
                picked_range: tuple[float, float]
                if bounds.integer_ratings:
                    picked_range = st.slider(
                        "Rating", int(low), int(high), (int(low), int(high)), key="stars", bind=URL
                    )
                else:
                    picked_range = st.slider("Rating", low, high, (low, high), key="stars", bind=URL)
                if picked_range[0] > low:
                    chosen = replace(chosen, rating_min=float(picked_range[0]))
                if picked_range[1] < high:
                    chosen = replace(chosen, rating_max=float(picked_range[1]))
        if spec.mapping.text:
            text = st.text_input(
                "Text contains", key="q", bind=URL, placeholder="e.g. battery", help="Case-insensitive"
            )
            chosen = replace(chosen, text_contains=text.strip())
        exclude = False
        if spec.mapping.category and course:
            st.caption(f"Categories with ≤ {s.SMALL_CATEGORY_MAX} reviews are dropped: the course's preparation is on.")
        elif spec.mapping.category:
            exclude = st.toggle(
                f"Exclude categories with ≤ {s.SMALL_CATEGORY_MAX} reviews",
                key="small",
                bind=URL,
                help="The course drops them before training: too few reviews to learn from or to measure bias on.",
            )
    return chosen, exclude


def choose_positive(counts: pd.DataFrame, spec: s.Spec) -> Any:
    """The label value of interest: +1 / 1 for the rating definitions; the analyst's pick for a label column."""
    values = [v for v in counts["sentiment"].dropna().unique()]
    if spec.definition != "label":
        return 1
    default = s.default_positive(values, spec.definition)
    by_text = {str(v.item() if hasattr(v, "item") else v): v for v in values}
    options = sorted(by_text)
    if not options:
        return None
    if "pos" in st.session_state and st.session_state["pos"] not in options:
        st.session_state["pos"] = options[0]
    picked = st.selectbox(
        "Label value of interest (positive)",
        options,
        index=options.index(str(default)) if str(default) in options else 0,
        key="pos",
        bind=URL,
    )
    value = by_text[picked]
    return value.item() if hasattr(value, "item") else value
