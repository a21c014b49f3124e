"""Sentiment: how the reviews feel, per category, how long they are, and whether the data is biased before training.

Reads top to bottom like the page: pick a table, check the columns and the sentiment definition, narrow with the
filters (sidebar), then the charts, the bias metrics, the balance action and the reviews themselves. Every
choice is bound to the URL, so a colleague opening the link sees the same page. Every number comes from an
aggregate query on the engine (cached per lake and SQL text, which holds the table, mapping and filters).
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

import pandas as pd
import streamlit as st

from components import present
from components import sentiment_charts as charts
from components.feedback import friendly_errors
from components.metrics import metric_row
from components.routing import require_app
from lib import bias, data
from lib import sentiment as s
from lib.catalog import TableDef
from lib.errors import LakeLensError

NONE = "(none)"
PAGE_SIZE = 20
URL = "query-params"
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
    database, name = str(st.session_state["table"]).split(".", 1)
    return data.table(database, name)


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


def choose_filters(spec: s.Spec, everything: pd.DataFrame) -> tuple[s.Filters, bool]:
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
                value=(),
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
        if spec.mapping.category:
            exclude = st.toggle(
                f"Exclude categories with ≤ {s.SMALL_CATEGORY_MAX} reviews",
                key="small",
                bind=URL,
                help="The course drops them before training: too few reviews to learn from or to measure bias on.",
            )
    return chosen, exclude


def headline(counts: pd.DataFrame, spec: s.Spec, positive: Any) -> None:
    nulls = s.null_summary(counts, spec)
    rated = counts[counts["sentiment"].notna()]
    positives = int(rated.loc[[bias.matches(v, positive) for v in rated["sentiment"]], "reviews"].sum())
    share = positives / int(rated["reviews"].sum()) if len(rated) else float("nan")
    categories = counts["category"].dropna().nunique()
    metric_row(
        [
            ("Reviews", f"{nulls.rows:,}", "Reviews matching the filters"),
            ("Categories", f"{categories:,}" if spec.mapping.category else "–", "Distinct values of the category"),
            ("Positive", f"{share:.1%}" if not math.isnan(share) else "–", "Share of rated reviews that are positive"),
            ("No sentiment", f"{nulls.missing_sentiment:,}", "Rating (or label) missing or not a number"),
        ]
    )
    missing = []
    if nulls.missing_sentiment:
        what = "label" if spec.definition == "label" else "usable rating"
        missing.append(f"{nulls.missing_sentiment:,} have no {what} (shown as “{s.MISSING_SENTIMENT}”)")
    if nulls.missing_category:
        missing.append(f"{nulls.missing_category:,} have no category")
    if missing:
        st.caption(":material/info: Of these reviews, " + "; ".join(missing) + ". They are counted, not dropped.")


def distribution(counts: pd.DataFrame, spec: s.Spec, sql: str, small: list[str]) -> None:
    st.subheader("How sentiment is distributed", anchor=False)
    left, right = st.columns(2, gap="large")
    with left:
        charts.show(
            charts.per_sentiment(s.per_sentiment(counts)), sql, key="chart_per_sentiment", context=spec.describe()
        )
    if not spec.mapping.category:
        right.caption("Pick a category column under Columns to see sentiment per category.")
        return
    low, high = (-1.0, 1.0) if spec.definition == "three_class" else (0.0, 1.0)
    with right:
        if spec.numeric_sentiment:
            average = s.average_per_category(counts)
            if spec.definition == "label":
                values = pd.to_numeric(counts["sentiment"].dropna().map(float))
                low, high = float(values.min()), float(values.max())
            charts.show(
                charts.average_per_category(average, low, high), sql, key="chart_average", context=spec.describe()
            )
        else:
            st.caption("The label is not a number, so it has no average; see the shares below.")
    cells = s.per_category(counts)
    left, right = st.columns(2, gap="large")
    with left:
        charts.show(charts.per_category(cells, small), sql, key="chart_per_category", context=spec.describe())
    with right:
        charts.show(charts.share_per_category(cells), sql, key="chart_share", context=spec.describe())


def lengths(spec: s.Spec) -> None:
    st.subheader("How long the reviews are", anchor=False)
    if not (spec.mapping.text or spec.mapping.words):
        st.caption("Pick a text column under Columns to see words per review.")
        return
    sql = s.lengths_sql(spec)
    result = s.tidy_lengths(run(sql, "words-per-review summary"), spec)
    left, right = st.columns([2, 3], gap="large")
    with left:
        how = "the word-count column" if spec.mapping.words else "spaces + 1 in the text"
        st.markdown("**Words per review**")
        charts.percentile_table(result.percentiles)
        st.caption(f"Words counted as {how}. Percentiles are exact: the smallest count with that share at or below it.")
        if result.missing:
            st.caption(f":material/info: {result.missing:,} reviews have no text: counted, but not in these lengths.")
        charts.sql_expander(sql)
    with right:
        if result.histogram.empty:
            st.caption("No review has text under these filters.")
        else:
            charts.show(charts.words_histogram(result.histogram), sql, key="chart_words", context=spec.describe())


def over_time(spec: s.Spec, total: int) -> None:
    if not spec.mapping.date:
        return
    st.subheader("Over time", anchor=False)
    sql = s.monthly_sql(spec)
    by_name, monthly = s.tidy_monthly(run(sql, "monthly summary"), spec)
    if monthly.empty:
        st.caption("No review has a usable date under these filters.")
        return
    dated = int(monthly["reviews"].sum())
    if dated < total:
        st.caption(f"{total - dated:,} reviews have no usable date and are left out of these two charts.")
    left, right = st.columns(2, gap="large")
    with left:
        charts.show(charts.monthly_counts(by_name), sql, key="chart_monthly_counts", context=spec.describe())
    with right:
        if spec.numeric_sentiment and monthly["average"].notna().any():
            values = monthly["average"].dropna()
            low, high = (-1.0, 1.0) if spec.definition == "three_class" else (0.0, 1.0)
            low, high = min(low, float(values.min())), max(high, float(values.max()))
            charts.show(
                charts.monthly_average(monthly, low, high), sql, key="chart_monthly_average", context=spec.describe()
            )


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


def bias_section(counts: pd.DataFrame, spec: s.Spec, sql: str, positive: Any) -> None:
    st.subheader("Bias before training", anchor=False)
    if not spec.mapping.category:
        st.caption("The bias metrics compare categories: pick a category column under Columns.")
        return
    if counts["category"].dropna().nunique() < 2:
        st.caption("The bias metrics need at least two categories with rated reviews.")
        return
    space = st.toggle(
        "Compare every sentiment value, not just positive against the rest",
        key="space",
        bind=URL,
        help="Off: Clarify's report (label of interest against everything else). On: the full label distributions.",
    )
    metrics = bias.facet_metrics(counts, positive, label_space="all" if space else "binary")
    label = s.sentiment_name(positive, spec.definition)
    st.caption(
        "SageMaker Clarify's pre-training metrics, as Clarify computes them with the category as the facet: each "
        f"category in turn is the sensitive facet *d*, all other reviews are facet *a*; label of interest: "
        f"**{label}**. Shading grows with the size of the value; hover a column name for its meaning."
    )
    charts.bias_table(metrics, sql=sql, context=f"{spec.describe()} · label of interest: {label}")
    worst = metrics.loc[metrics["DPL"].abs().fillna(-1).idxmax(), "facet"] if len(metrics) else None
    facets = list(metrics["facet"])
    if "facet" in st.session_state and st.session_state["facet"] not in facets:
        st.session_state["facet"] = worst
    chosen = st.selectbox(
        "Read the metrics for", facets, index=facets.index(worst) if worst in facets else 0, key="facet", bind=URL
    )
    row = metrics.set_index("facet").loc[chosen].to_dict() | {"facet": chosen}
    charts.readings_table(row)
    with st.expander("SQL behind these metrics", icon=":material/code:"):
        st.code(sql, language="sql")
        st.caption("The metrics are computed from these counts by category × sentiment, so they scale to any size.")


def balance_section(counts: pd.DataFrame, spec: s.Spec, positive: Any) -> None:
    st.subheader("Balance for training", anchor=False)
    if not spec.mapping.category:
        st.caption("Balancing works on category × sentiment cells: pick a category column under Columns.")
        return
    plan = bias.balance_plan(counts)
    if plan.cell_size == 0:
        st.caption("No category has rated reviews under these filters.")
        return
    st.caption(
        "The course's balancing: every category × sentiment cell is downsampled to the size of the smallest cell, "
        "so each category and each sentiment weighs the same. The rows are picked by a hash, so the same data "
        "gives the same table; reviews without text are left out of it."
    )
    smallest = plan.before.sort_values(["reviews", "category"]).iloc[0]
    st.caption(
        f"The smallest cell is {smallest['category']} × {s.sentiment_name(smallest['sentiment'], spec.definition)} "
        f"with {plan.cell_size:,} review{'s' if plan.cell_size != 1 else ''}; excluding small categories "
        "(sidebar) or narrowing the filters changes it."
    )
    metric_row(
        [
            ("Reviews now", f"{plan.rows_before:,}", "Reviews with a category and a sentiment"),
            ("After balancing", f"{plan.rows_after:,}", "Reviews the balanced table would keep"),
            ("Per cell", f"{plan.cell_size:,}", "Size of the smallest category × sentiment cell"),
            ("Cells", f"{len(plan.before):,}", "Category × sentiment cells with reviews"),
        ]
    )
    left, right = st.columns(2, gap="large")
    with left:
        st.markdown("**Largest |value| over the categories, before and after**")
        charts.before_after_table(bias.before_after(plan, positive))
        k = plan.before["category"].nunique()
        st.caption(
            f"CI compares one category with all the others: with {k} categories of equal size each one's CI is "
            f"(k − 2)/k = {(k - 2) / k:.3f}, so that is what balanced looks like here."
        )
    with right:
        names = {str(v): s.sentiment_name(v, spec.definition) for v in plan.before["sentiment"]}
        st.plotly_chart(charts.balance_cells(plan.before, plan.after, names), theme="streamlit", key="chart_balance")
    sql = s.balanced_sql(spec, plan.cell_size)
    with st.form("balance"):
        st.markdown("**Write the balanced reviews as a new table** (Parquet, registered in the catalog)")
        name_col, replace_col = st.columns([3, 1], vertical_alignment="bottom")
        name = name_col.text_input(
            "Table name", value=f"{spec.table.name}_balanced", help="Lower-case letters, digits, _"
        )
        replace_existing = replace_col.checkbox("Replace it if it exists")
        submitted = st.form_submit_button("Write balanced table", icon=":material/balance:", type="primary")
    with st.expander("SQL that selects the balanced rows", icon=":material/code:"):
        st.code(sql, language="sql")
    if submitted:
        with friendly_errors(), st.spinner("Selecting and writing the balanced reviews…"):
            written = s.write_balanced(
                data.backend(),
                spec,
                spec.table.database,
                name.strip(),
                replace_existing=replace_existing,
            )
            data.clear()
            # kept in the session so the confirmation survives the reruns that follow (e.g. the URL updating)
            st.session_state["sentiment.written"] = {
                "source": spec.table.qualified_name,
                "table": written.table.qualified_name,
                "rows": written.rows,
                "cell_size": written.cell_size,
                "location": written.table.location,
            }
    done = st.session_state.get("sentiment.written")
    if done and done["source"] == spec.table.qualified_name:
        st.success(
            f"Wrote {done['rows']:,} reviews ({done['cell_size']:,} per category × sentiment) to "
            f"**{done['table']}** ({done['location']}).",
            icon=":material/check_circle:",
        )
        st.page_link(
            "pages/automl.py",
            label=f"Train a classifier on {done['table']}",
            icon=":material/model_training:",
            query_params={"table": done["table"]},
        )


def drill_down(counts: pd.DataFrame, spec: s.Spec) -> None:
    st.subheader("Read the reviews", anchor=False)
    categories = sorted(str(c) for c in counts["category"].dropna().unique())
    names = s.sentiment_order(list(counts["name"].unique()))
    value_of = {name: value for name, value in zip(counts["name"], counts["sentiment"], strict=True)}
    columns = st.columns([2, 2, 1])
    category: str | None = None
    if spec.mapping.category:
        category = columns[0].selectbox(
            "Category", categories, index=None, key="dcat", bind=URL, placeholder="Choose a category"
        )
    name = columns[1].selectbox("Sentiment", names, index=None, key="dsent", bind=URL, placeholder="Choose a sentiment")
    if name is None or (spec.mapping.category and category is None):
        st.caption("Choose a category and a sentiment to read a sample of those reviews.")
        return
    cell = counts[(counts["name"] == name) & ((counts["category"] == category) if category else True)]
    total = int(cell["reviews"].sum())
    pages = max(1, math.ceil(total / PAGE_SIZE))
    page = columns[2].number_input("Page", min_value=1, max_value=pages, value=1, step=1, key="dpage", bind=URL)
    if total == 0:
        st.caption("No reviews in this cell under these filters.")
        return
    sql = s.sample_sql(spec, category, value_of[name], int(page) - 1, PAGE_SIZE)
    sample = data.query(sql, max_rows=PAGE_SIZE).frame
    first = (int(page) - 1) * PAGE_SIZE + 1
    st.caption(f"Reviews {first:,}–{first + len(sample) - 1:,} of {total:,}, in a fixed pseudo-random order.")
    shown = sample.astype(object).where(sample.notna(), "–")
    shown.index = range(first, first + len(shown))
    st.table(shown)  # a static table wraps long review text; the page holds at most PAGE_SIZE rows
    with st.expander("SQL behind this sample", icon=":material/code:"):
        st.code(sql, language="sql")


def main() -> None:
    st.title("Sentiment")
    st.caption(
        "How sentiment is distributed, per category, how long reviews are, and whether the data is biased before "
        "a model is trained."
    )
    with friendly_errors(stop=True):
        table = choose_table()
    if table is None:
        return
    mapping = choose_mapping(table)
    definition = choose_definition(mapping)
    if definition is None:
        return
    with friendly_errors(stop=True):
        base = s.Spec(table, mapping, definition)
        everything = s.tidy_counts(run(s.counts_sql(base), "count by category"), base)
        filters, exclude_small = choose_filters(base, everything)
        spec = base.with_filters(filters)
        counts_sql = s.counts_sql(spec)
        counts = s.tidy_counts(run(counts_sql, "count by category"), spec)
        small = s.small_categories(counts)
        if exclude_small and small:
            spec = spec.with_filters(replace(filters, exclude_categories=tuple(small)))
            counts_sql = s.counts_sql(spec)
            counts = s.tidy_counts(run(counts_sql, "count by category"), spec)
    present.filters_caption(spec.describe())
    if int(counts["reviews"].sum()) == 0:
        st.info("No reviews match these filters. Widen them in the sidebar.", icon=":material/filter_alt_off:")
        return
    positive = choose_positive(counts, spec) if definition == "label" else 1
    headline(counts, spec, positive)
    if small:
        listed = ", ".join(small[:8]) + (f" and {len(small) - 8} more" if len(small) > 8 else "")
        if exclude_small:
            st.caption(f":material/filter_alt: Excluded as too small (≤ {s.SMALL_CATEGORY_MAX} reviews): {listed}.")
        else:
            st.warning(
                f"{len(small)} {'category has' if len(small) == 1 else 'categories have'} {s.SMALL_CATEGORY_MAX} or "
                f"fewer reviews: {listed}. The course drops them; switch on the exclusion in the sidebar.",
                icon=":material/flag:",
            )
    with friendly_errors():
        distribution(counts, spec, counts_sql, small)
    with friendly_errors():
        lengths(spec)
    with friendly_errors():
        over_time(spec, int(counts["reviews"].sum()))
    with friendly_errors():
        bias_section(counts, spec, counts_sql, positive)
    with friendly_errors():
        balance_section(counts, spec, positive)
    with friendly_errors():
        drill_down(counts, spec)


require_app()
main()
