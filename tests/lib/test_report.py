from __future__ import annotations

import re

import pandas as pd
import plotly.express as px

from lib.reports.export import chart_item, render_html, table_item


def test_report_is_self_contained_and_carries_the_context() -> None:
    figure = px.bar(
        pd.DataFrame({"sentiment": ["negative", "positive"], "reviews": [3, 9]}), x="sentiment", y="reviews"
    )
    chart = chart_item(
        "Reviews per sentiment", "Sentiment", "/lake", figure,
        sql="SELECT 1", engine="DuckDB 2.0.0", rows=2, bytes_scanned=12_000_000, bytes_estimated=True,
        context="Categories: Books",
    )  # fmt: skip
    table = table_item("Top categories", "SQL", "/lake", pd.DataFrame({"category": ["<b>Books</b>"], "n": [5]}))
    page = render_html([chart, table], title="Monday review")
    assert page.startswith("<!DOCTYPE html>")
    assert not re.search(r"<script[^>]+src=", page)  # nothing fetched from the network
    assert not re.search(r"<link[^>]+href=\"http", page)
    assert "Plotly.newPlot('chart-0'" in page and "plotly.js" in page.lower()
    assert "SELECT 1" in page and "DuckDB 2.0.0" in page and "about 12.0 MB scanned" in page
    assert "Categories: Books" in page and "/lake" in page
    assert "&lt;b&gt;Books&lt;/b&gt;" in page and "<b>Books</b>" not in page  # table text is escaped
    assert page.count("<section") == 2


def test_tables_are_capped_and_an_empty_report_says_so() -> None:
    big = table_item("All", "SQL", "/lake", pd.DataFrame({"n": range(5000)}))
    assert big.table is not None and len(big.table) == 1000
    empty = render_html([])
    assert "Nothing was pinned" in empty and "Plotly" not in empty
