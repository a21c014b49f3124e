"""The Sentiment page's sections, top to bottom: the headline numbers, the distributions, the lengths, over time,
the bias metrics, the balance action and the reviews themselves. Each takes the prepared counts and the spec;
every number comes from an aggregate query on the engine.
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd
import streamlit as st

from components.feedback import friendly_errors
from components.metrics import metric_row
from components.sentiment import charts as charts
from components.sentiment.controls import URL, run
from lib import data
from lib import sentiment as s
from lib.sentiment import bias

PAGE_SIZE = 20


def preparation(prepared: s.Prepared) -> None:
    """With the course's preparation on: what each step removed, as the notebook's cells would show it."""
    if not prepared.steps:
        return
    start = prepared.steps[0].left + prepared.steps[0].removed
    parts = [f"{start:,} reviews"]
    for step in prepared.steps:
        parts.append(f"{step.what}: −{step.removed:,} → {step.left:,}")
    st.markdown("**The course's preparation** · " + " · ".join(parts))
    rows = [{"step": "reviews in the table (under the filters)", "removed": None, "left": start}]
    rows += [
        {"step": f"left out: reviews {step.what}", "removed": step.removed, "left": step.left}
        for step in prepared.steps
    ]
    with st.expander("What the course's preparation did", icon=":material/checklist:"):
        st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")
        st.caption(
            "As the course's notebook: keep the rating, text and category, dropna(), map ratings 1–2 → −1, 3 → 0, "
            f"4–5 → +1, then keep categories with more than {s.SMALL_CATEGORY_MAX} reviews. A text of only spaces "
            "counts as missing, and an empty category as none."
        )
        if prepared.small:
            st.caption("Dropped as too small: " + ", ".join(prepared.small) + ".")


def headline(prepared: s.Prepared, positive: Any) -> None:
    counts, spec, missing = prepared.counts, prepared.spec, prepared.missing
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
    if spec.filters.complete:
        return
    gaps = []
    if nulls.missing_sentiment:
        what = "label" if spec.definition == "label" else "usable rating"
        gaps.append(f"{nulls.missing_sentiment:,} have no {what} (shown as “{s.MISSING_SENTIMENT}”)")
    if missing.text:
        gaps.append(f"{missing.text:,} have no text")
    if nulls.missing_category:
        gaps.append(f"{nulls.missing_category:,} have no category")
    if gaps:
        st.caption(
            ":material/info: Of these reviews, " + "; ".join(gaps) + ". They are counted, not dropped; "
            "“Prepare as the course does” leaves them out."
        )


def small_categories(small: list[str], *, excluded: bool, course: bool) -> None:
    if not small:
        return
    listed = ", ".join(small[:8]) + (f" and {len(small) - 8} more" if len(small) > 8 else "")
    if excluded:
        st.caption(f":material/filter_alt: Excluded as too small (≤ {s.SMALL_CATEGORY_MAX} reviews): {listed}.")
    elif not course:
        st.warning(
            f"{len(small)} {'category has' if len(small) == 1 else 'categories have'} {s.SMALL_CATEGORY_MAX} or "
            f"fewer reviews: {listed}. The course drops them; switch on the exclusion in the sidebar.",
            icon=":material/flag:",
        )


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
        how = "the word-count column" if spec.mapping.words else "the course does: split on one space"
        st.markdown("**Words per review**")
        charts.percentile_table(result.percentiles)
        st.caption(f"Words counted as {how}. Percentiles as pandas computes them (the notebook’s describe()), exactly.")
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
    worst = metrics.at[metrics["DPL"].abs().fillna(-1).idxmax(), "facet"] if len(metrics) else None
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


BALANCE_LABELS: dict[s.BalanceBy, str] = {"sentiment": "by sentiment", "category_sentiment": "by category × sentiment"}


def balance_section(counts: pd.DataFrame, spec: s.Spec, positive: Any) -> None:
    st.subheader("Balance for training", anchor=False)
    options: list[s.BalanceBy] = list(BALANCE_LABELS) if spec.mapping.category else ["sentiment"]
    labels = [BALANCE_LABELS[o] for o in options]
    if "balance" in st.session_state and st.session_state["balance"] not in labels:
        st.session_state["balance"] = labels[0]
    picked = st.radio(
        "Balance",
        labels,
        index=0,
        key="balance",
        bind=URL,
        horizontal=True,
        help="\n\n".join(f"**{BALANCE_LABELS[k]}**: {v}" for k, v in s.BALANCE_BY.items() if k in options),
    )
    by: s.BalanceBy = options[labels.index(picked)] if picked in labels else "sentiment"
    plan = bias.balance_plan(counts, by=by)
    if plan.cell_size == 0:
        st.caption("No review has a sentiment under these filters.")
        return
    per = "sentiment class" if by == "sentiment" else "category × sentiment cell"
    st.caption(
        f"{s.BALANCE_BY[by]}: {plan.groups:,} {per}s × {plan.cell_size:,} = **{plan.rows_after:,} reviews** of "
        f"{plan.rows_before:,}. The rows are picked by a hash, so the same data gives the same table; reviews "
        "without text are left out of it."
    )
    if by == "sentiment":
        classes = counts[counts["sentiment"].notna()].groupby("name")["reviews"].sum()
        smallest_name = str(classes.idxmin())
        st.caption(f"The smallest class is {smallest_name} with {plan.cell_size:,} reviews.")
    else:
        smallest = plan.before.sort_values(["reviews", "category"]).iloc[0]
        st.caption(
            f"The smallest cell is {smallest['category']} × "
            f"{s.sentiment_name(smallest['sentiment'], spec.definition)} with {plan.cell_size:,} "
            f"review{'s' if plan.cell_size != 1 else ''}; excluding small categories (sidebar) or narrowing the "
            "filters changes it."
        )
    metric_row(
        [
            ("Reviews now", f"{plan.rows_before:,}", "Reviews with a sentiment"),
            ("After balancing", f"{plan.rows_after:,}", "Reviews the balanced table will keep"),
            (f"Per {'class' if by == 'sentiment' else 'cell'}", f"{plan.cell_size:,}", f"Size of the smallest {per}"),
            ("Classes" if by == "sentiment" else "Cells", f"{plan.groups:,}", f"{per.capitalize()}s with reviews"),
        ]
    )
    if spec.mapping.category and len(plan.before):
        left, right = st.columns(2, gap="large")
        with left:
            expected = " (expected: each class keeps its categories' mix)" if by == "sentiment" else ""
            st.markdown(f"**Largest |value| over the categories, before and after{expected}**")
            charts.before_after_table(bias.before_after(plan, positive))
            k = plan.before["category"].nunique()
            st.caption(
                f"CI compares one category with all the others: with {k} categories of equal size each one's CI is "
                f"(k − 2)/k = {(k - 2) / k:.3f}, so that is what balanced by cell looks like here."
            )
        with right:
            names = {str(v): s.sentiment_name(v, spec.definition) for v in plan.before["sentiment"]}
            st.plotly_chart(
                charts.balance_cells(plan.before, plan.after, names), theme="streamlit", key="chart_balance"
            )
    sql = s.balanced_sql(spec, plan.cell_size, by)
    with st.form("balance_form"):
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
                by=by,
            )
            data.clear()
            # kept in the session so the confirmation survives the reruns that follow (e.g. the URL updating)
            st.session_state["sentiment.written"] = {
                "source": spec.table.qualified_name,
                "table": written.table.qualified_name,
                "rows": written.rows,
                "cell_size": written.cell_size,
                "location": written.table.location,
                "per": per,
            }
    done = st.session_state.get("sentiment.written")
    if done and done["source"] == spec.table.qualified_name:
        st.success(
            f"Wrote {done['rows']:,} reviews ({done['cell_size']:,} per {done.get('per', 'cell')}) to "
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
    shown.index = pd.RangeIndex(first, first + len(shown))
    st.table(shown)  # a static table wraps long review text; the page holds at most PAGE_SIZE rows
    with st.expander("SQL behind this sample", icon=":material/code:"):
        st.code(sql, language="sql")
