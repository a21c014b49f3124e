"""Sentiment: how the reviews feel, per category, how long they are, and whether the data is biased before training.

Reads top to bottom like the page: pick a table, check the columns and the sentiment definition, switch on the
course's preparation or narrow with the filters (sidebar), then the charts, the bias metrics, the balance action and the reviews themselves. Every
choice is bound to the URL, so a colleague opening the link sees the same page. Every number comes from an
aggregate query on the engine (cached per lake and SQL text, which holds the table, mapping and filters).
"""

from __future__ import annotations

import streamlit as st

from components.feedback import friendly_errors
from components.reports import present
from components.routing import require_app
from components.sentiment import controls as controls
from components.sentiment import sections as sections
from lib import sentiment as s


def main() -> None:
    st.title("Sentiment")
    st.caption(
        "How sentiment is distributed, per category, how long reviews are, and whether the data is biased before "
        "a model is trained."
    )
    with friendly_errors(stop=True):
        table = controls.choose_table()
    if table is None:
        return
    mapping = controls.choose_mapping(table)
    definition = controls.choose_definition(mapping)
    if definition is None:
        return
    course = controls.choose_course(mapping)
    with friendly_errors(stop=True):
        base = s.Spec(table, mapping, definition)
        everything = s.tidy_counts(controls.run(s.counts_sql(base), "count by category"), base)
        filters, exclude_small = controls.choose_filters(base, everything, course)
        prepared = s.prepare(
            base.with_filters(filters), controls.runner("count by category"), course=course, exclude_small=exclude_small
        )
    spec, counts, small = prepared.spec, prepared.counts, prepared.small
    present.filters_caption(spec.describe())
    sections.preparation(prepared)
    if prepared.reviews == 0:
        st.info("No reviews match these filters. Widen them in the sidebar.", icon=":material/filter_alt_off:")
        return
    positive = controls.choose_positive(counts, spec) if definition == "label" else 1
    sections.headline(prepared, positive)
    sections.small_categories(small, excluded=bool(spec.filters.exclude_categories), course=course)
    counts_sql = s.counts_sql(spec)
    with friendly_errors():
        sections.distribution(counts, spec, counts_sql, small)
    with friendly_errors():
        sections.lengths(spec)
    with friendly_errors():
        sections.over_time(spec, prepared.reviews)
    with friendly_errors():
        sections.bias_section(counts, spec, counts_sql, positive)
    with friendly_errors():
        sections.balance_section(counts, spec, positive)
    with friendly_errors():
        sections.drill_down(counts, spec)


require_app()
main()
