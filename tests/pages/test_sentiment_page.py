"""The Sentiment page through AppTest on the local backend.

Expected numbers come from reading the lake's files with pyarrow/pandas, not from the engine under test. Tests that
write (the balance action, an extra table) get their own copy of the demo lake.
"""

from __future__ import annotations

import base64
import io
import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from lib import sentiment as s
from lib.backends.local import LocalBackend
from lib.catalog import LAKE_SCHEME, Column, delimited_table
from tests import aws_fixtures
from tests.conftest import DEMO_ROWS, local_settings, read_curated
from tests.lib.test_sentiment import KAGGLE_COLUMNS, kaggle_frame

# the aws fixtures (moto server, fresh bucket per test, backend), used by name
moto_server = aws_fixtures.moto_server
aws_settings = aws_fixtures.aws_settings
aws_backend = aws_fixtures.aws_backend

ROOT = Path(__file__).resolve().parents[2]
CHART_TITLES = [
    "Reviews per sentiment",
    "Average sentiment per category",
    "Reviews per category, by sentiment",
    "Sentiment share per category",
    "Words per review, by sentiment",
    "Reviews per month, by sentiment",
    "Average sentiment per month",
    "Reviews per category, before and after",
]


@pytest.fixture
def demo_env(demo_lake_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The shared demo lake, read only."""
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("LAKELENS_LAKE_ROOT", str(demo_lake_dir))
    monkeypatch.setenv("LAKELENS_BACKEND", "local")
    yield demo_lake_dir


@pytest.fixture
def own_lake(demo_lake_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A private copy of the demo lake plus a Kaggle-style CSV table, shop.clothing_reviews."""
    root = tmp_path / "lake"
    shutil.copytree(demo_lake_dir, root)
    backend = LocalBackend(local_settings(root))
    buffer = io.StringIO()
    kaggle_frame().to_csv(buffer, index=False)
    backend.write("raw/clothing/reviews.csv", buffer.getvalue().encode())
    backend.register_table(
        delimited_table("shop", "clothing_reviews", KAGGLE_COLUMNS, LAKE_SCHEME + "raw/clothing/", header=True)
    )
    backend.register_table(
        delimited_table(
            "shop", "no_ratings", [Column("id", "bigint"), Column("body", "string")], "lake://raw/clothing/"
        )
    )
    backend.close()
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("LAKELENS_LAKE_ROOT", str(root))
    monkeypatch.setenv("LAKELENS_BACKEND", "local")
    yield root


def reviews(root: Path) -> pd.DataFrame:
    frame = read_curated(root)
    frame["sentiment"] = frame["star_rating"].map({1: -1, 2: -1, 3: 0, 4: 1, 5: 1})
    return frame


def sentiment_page(params: dict[str, Any] | None = None) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    for name, value in (params or {}).items():
        at.query_params[name] = value
    at.run()
    at.switch_page("pages/sentiment.py").run()
    assert not at.exception, at.exception
    return at


def charts(at: AppTest) -> dict[str, list[dict[str, Any]]]:
    """Chart title -> its traces (as plotly JSON)."""
    out = {}
    for element in at.get("plotly_chart"):
        spec = json.loads(element.proto.spec)
        out[spec["layout"]["title"]["text"]] = spec["data"]
    return out


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def values(data: Any) -> list[Any]:
    """A plotly JSON array: a list, or plotly's typed array ({"dtype", "bdata"} in base64)."""
    if isinstance(data, dict) and "bdata" in data:
        return np.frombuffer(base64.b64decode(data["bdata"]), dtype=np.dtype(data["dtype"])).tolist()
    return list(data)


def trace_values(traces: list[dict[str, Any]], axis: str = "y") -> dict[str, dict[str, float]]:
    """trace name -> {category on the other axis: value}."""
    other = "x" if axis == "y" else "y"
    return {t.get("name", ""): dict(zip(values(t[other]), values(t[axis]), strict=True)) for t in traces}


def test_demo_lake_shows_every_chart_with_the_numbers_in_the_files(demo_env: Path) -> None:
    at = sentiment_page()
    files = reviews(demo_env)
    assert at.title[0].value == "Sentiment"
    assert metrics(at)["Reviews"] == f"{DEMO_ROWS:,}"
    assert metrics(at)["Categories"] == str(files["product_category"].nunique())
    assert metrics(at)["Positive"] == f"{(files['sentiment'] == 1).mean():.1%}"
    found = charts(at)
    assert list(found) == CHART_TITLES
    per_sentiment = trace_values(found["Reviews per sentiment"])
    assert {name: values[name] for name, values in per_sentiment.items()} == {
        "negative": (files["sentiment"] == -1).sum(),
        "neutral": (files["sentiment"] == 0).sum(),
        "positive": (files["sentiment"] == 1).sum(),
    }
    stacked = trace_values(found["Reviews per category, by sentiment"], axis="x")
    books = files[files["product_category"] == "Books"]
    assert stacked["negative"]["Books"] == (books["sentiment"] == -1).sum()
    assert stacked["positive"]["Books"] == (books["sentiment"] == 1).sum()
    average = trace_values(found["Average sentiment per category"], axis="x")[""]
    expected = files.groupby("product_category")["sentiment"].mean()
    assert average["Books"] == pytest.approx(expected["Books"])
    assert list(average.values()) == sorted(average.values(), reverse=True)  # sorted, highest first
    # one colour per sentiment on every chart that shows sentiments
    colours: dict[str, set[str]] = {}
    for traces in found.values():
        for trace in traces:
            if trace.get("name") in ("negative", "neutral", "positive"):
                colours.setdefault(trace["name"], set()).add(trace["marker"]["color"])
    assert all(len(c) == 1 for c in colours.values()) and len({next(iter(c)) for c in colours.values()}) == 3
    # every chart has its SQL one click away, and the SQL aggregates
    expanders = [e for e in at.expander if e.label == "SQL behind this chart"]
    assert len(expanders) >= 7
    for code in at.code:
        if code.language == "sql" and "GROUP BY" not in code.value:
            assert "LIMIT" in code.value or "cell_rank" in code.value  # the drill-down pages, the balance ranks
    flagged = [w.value for w in at.warning]
    small = sorted(c for c, n in files.groupby("product_category").size().items() if n <= 10)
    assert small and any(all(c in text for c in small) for text in flagged)


def test_filters_from_the_link_narrow_every_number(demo_env: Path) -> None:
    at = sentiment_page({"def": "binary", "cat": ["Books", "Wireless"], "stars": ["2", "5"], "q": "battery"})
    files = reviews(demo_env)
    mask = (
        files["product_category"].isin(["Books", "Wireless"])
        & files["star_rating"].between(2, 5)
        & files["review_body"].str.lower().str.contains("battery")
    )
    assert metrics(at)["Reviews"] == f"{int(mask.sum()):,}"
    assert metrics(at)["Categories"] == "2"
    per_sentiment = trace_values(charts(at)["Reviews per sentiment"])
    assert set(per_sentiment) == {"negative", "positive"}  # binary: no neutral
    assert per_sentiment["positive"]["positive"] == int((files[mask]["star_rating"] > 3).sum())
    assert at.multiselect(key="cat").value == ["Books", "Wireless"]
    assert at.text_input(key="q").value == "battery"
    for code in at.code:
        if code.language == "sql" and "FROM" in code.value:
            assert "'battery'" in code.value and "'Wireless'" in code.value  # every filter is in the SQL


def test_excluding_small_categories(demo_env: Path) -> None:
    at = sentiment_page({"small": "true"})
    files = reviews(demo_env)
    sizes = files.groupby("product_category").size()
    kept = sizes[sizes > 10]
    # reviews without a category are not in a small category: they stay, counted and shown
    assert metrics(at)["Reviews"] == f"{int(kept.sum()) + int(files['product_category'].isna().sum()):,}"
    assert metrics(at)["Categories"] == str(len(kept))
    assert any("Excluded as too small" in c.value for c in at.caption)
    assert not at.warning


def test_kaggle_table_with_spaces_in_names(own_lake: Path) -> None:
    at = sentiment_page({"table": "shop.clothing_reviews"})
    frame = kaggle_frame()
    assert at.selectbox(key="rating").value == "Rating"
    assert at.selectbox(key="text").value == "Review Text"
    assert at.selectbox(key="category").value == "Class Name"
    assert metrics(at)["Reviews"] == f"{len(frame):,}"
    assert metrics(at)["No sentiment"] == "3"
    notes = " ".join(c.value for c in at.caption)
    assert "3 have no usable rating" in notes and "2 reviews have no text" in notes
    assert any("Casual bottoms" in w.value for w in at.warning)
    assert "Words per review, by sentiment" in charts(at)
    assert "Reviews per month, by sentiment" not in charts(at)  # no date column, no monthly charts

    label = sentiment_page({"table": "shop.clothing_reviews", "def": "label column"})
    assert label.selectbox(key="pos").value == "1"
    recommended = frame["Recommended IND"].mean()
    assert metrics(label)["Positive"] == f"{recommended:.1%}"


def test_a_table_without_rating_or_label_says_what_is_needed(own_lake: Path) -> None:
    at = sentiment_page({"table": "shop.no_ratings"})
    assert [w.value for w in at.warning] == [s.NO_SOURCE_MESSAGE]
    assert not at.error and not at.get("plotly_chart")


def test_column_mapping_from_the_link(demo_env: Path) -> None:
    at = sentiment_page({"text": "review_headline"})
    files = reviews(demo_env)
    assert at.selectbox(key="text").value == "review_headline"
    percentiles = at.table[0].value
    headline_words = files["review_headline"].str.count(" ") + 1
    assert percentiles.loc["max", "all reviews"] == f"{headline_words.max():,}"


def test_bias_table_matches_the_counts(demo_env: Path) -> None:
    at = sentiment_page()
    files = reviews(demo_env)
    files = files[files["product_category"].notna()]  # Clarify leaves out rows without a facet value
    table = next(df.value for df in at.dataframe if "CI" in getattr(df.value, "columns", []))
    table = table.set_index("category")
    n = len(files)
    for category, group in files.groupby("product_category"):
        n_d = len(group)
        assert table.loc[category, "CI"] == pytest.approx((n - n_d - n_d) / n)
        q_d = (group["sentiment"] == 1).mean()
        q_a = (files[files["product_category"] != category]["sentiment"] == 1).mean()
        assert table.loc[category, "DPL"] == pytest.approx(q_a - q_d)
    chosen = at.selectbox(key="facet").value
    worst = table["DPL"].abs().idxmax()
    assert chosen == worst
    reading_tables = [t.value for t in at.table if "what it says" in t.value.columns]
    assert len(reading_tables) == 1 and chosen in reading_tables[0].iloc[0]["what it says"]


def test_drill_down_pages_through_one_cell(demo_env: Path) -> None:
    at = sentiment_page({"dcat": "Wireless", "dsent": "negative"})
    files = reviews(demo_env)
    cell = files[(files["product_category"] == "Wireless") & (files["sentiment"] == -1)]
    sample = next(t.value for t in at.table if "text" in t.value.columns)
    assert len(sample) == min(20, len(cell))
    assert set(sample["text"]) - {"–"} <= set(cell["review_body"].dropna())  # "–": a review without text
    assert set(sample["rating"].astype(int)) <= {1, 2}
    assert any(f"of {len(cell):,}" in c.value for c in at.caption)


def test_balance_by_sentiment_is_the_default_and_the_course_s(own_lake: Path) -> None:
    """The course balances by sentiment: each class cut to the smallest class, the categories keep their mix."""
    at = sentiment_page({"course": "true"})
    files = reviews(own_lake)
    files = files[files["review_body"].fillna("").str.strip() != ""].dropna(subset=["star_rating", "product_category"])
    sizes = files.groupby("product_category").size()
    kept = files[files["product_category"].isin(sizes[sizes > 10].index)]
    smallest = int(kept.groupby("sentiment").size().min())
    assert any(f"= **{3 * smallest:,} reviews**" in c.value for c in at.caption)  # stated before anything is written
    next(t for t in at.text_input if t.label == "Table name").input("reviews_course_balanced")
    next(b for b in at.button if b.label == "Write balanced table").click().run()
    assert not at.exception
    backend = LocalBackend(local_settings(own_lake))
    per_class = backend.run_query(
        "SELECT sentiment, count(*) AS n FROM demo.reviews_course_balanced GROUP BY 1 ORDER BY 1"
    ).frame
    assert list(per_class["sentiment"]) == [-1, 0, 1] and set(per_class["n"]) == {smallest}
    backend.close()


def test_balance_action_writes_a_table_for_automl(own_lake: Path) -> None:
    at = sentiment_page({"small": "true", "balance": "by category × sentiment"})
    name_input = next(t for t in at.text_input if t.label == "Table name")
    name_input.input("reviews_for_automl")
    next(b for b in at.button if b.label == "Write balanced table").click().run()
    assert not at.exception
    assert any("reviews_for_automl" in m.value for m in at.success)
    backend = LocalBackend(local_settings(own_lake))
    table = backend.get_table("demo", "reviews_for_automl")
    assert table.format == "parquet"
    cells = backend.run_query(
        "SELECT product_category, sentiment, count(*) AS n FROM demo.reviews_for_automl GROUP BY 1, 2"
    ).frame
    assert cells["n"].nunique() == 1  # every category x sentiment cell has the same size
    files = reviews(own_lake)
    sizes = files.groupby("product_category").size()
    assert set(cells["product_category"]) == set(sizes[sizes > 10].index)
    assert int(cells["n"].iloc[0]) == int(
        files[files["product_category"].isin(sizes[sizes > 10].index)]
        .groupby(["product_category", "sentiment"])
        .size()
        .min()
    )
    backend.close()


# -- the aws backend: Glue holds the table, moto's Athena answers with seeded results ------------------------------
AWS_COLUMNS = [Column("star_rating", "int"), Column("review_body", "string"), Column("review_date", "date")]
# counts by category x sentiment (what Athena would return for counts_sql): 67 reviews, 2 without a rating.
AWS_COUNTS = [
    ["Books", "1", "30", "0", "4", "5", "2015-01-02", "2015-02-27"],
    ["Books", "0", "6", "0", "3", "3", "2015-01-05", "2015-02-20"],
    ["Books", "-1", "4", "0", "1", "2", "2015-01-07", "2015-02-11"],
    ["Toys", "1", "8", "0", "4", "5", "2015-01-03", "2015-02-25"],
    ["Toys", "-1", "12", "0", "1", "2", "2015-01-09", "2015-02-28"],
    ["Toys", None, "2", "2", None, None, "2015-02-01", "2015-02-02"],
    ["Gift_Card", "1", "5", "0", "5", "5", "2015-01-10", "2015-02-10"],
]
AWS_LENGTHS = [
    ["1", "10", "20", "200", "10"],
    ["1", "40", "23", "920", "40"],
    ["0", "20", "6", "120", "20"],
    ["-1", "80", "16", "1280", "80"],
    [None, "5", "2", "10", "5"],
]
AWS_MONTHLY = [
    ["2015-01-01", "1", "20"],
    ["2015-01-01", "-1", "10"],
    ["2015-02-01", "1", "23"],
    ["2015-02-01", "0", "6"],
    ["2015-02-01", "-1", "6"],
    ["2015-02-01", None, "2"],
]


def _seed_page(
    url: str,
    extra: list[tuple[list[dict[str, Any]], list[list[str | None]]]] | None = None,
    *,
    exclude_small: bool = False,
) -> None:
    """Queue the page's queries in the order it runs them: counts, missing values, (counts without the small
    categories), lengths, monthly, then ``extra``."""
    from tests.aws_fixtures import column, seed_athena_results

    counts_columns = [
        column("category", "varchar"),
        column("sentiment", "integer"),
        column("reviews", "bigint"),
        column("missing_rating", "bigint"),
        column("min_rating", "integer"),
        column("max_rating", "integer"),
        column("first_date", "date"),
        column("last_date", "date"),
    ]
    lengths_columns = [
        column("sentiment", "integer"),
        column("word_count", "integer"),
        column("reviews", "bigint"),
        column("total_words", "bigint"),
        column("longest", "integer"),
    ]
    monthly_columns = [column("month", "date"), column("sentiment", "integer"), column("reviews", "bigint")]
    missing_names = ("reviews", "missing_rating", "missing_text", "missing_category", "step_text", "step_category")
    missing_columns = [column(name, "bigint") for name in missing_names]
    # 67 reviews, 2 without a rating (AWS_COUNTS); 2 without text (the NULL group of AWS_LENGTHS), rated ones
    missing_row: list[str | None] = ["67", "2", "2", "0", "2", "0"]

    def with_header(columns: list[dict[str, Any]], rows: list[list[str | None]]) -> list[list[str | None]]:
        return [[c["Name"] for c in columns], *rows]

    without_small = [row for row in AWS_COUNTS if row[0] != "Gift_Card"]
    results = [
        (counts_columns, with_header(counts_columns, AWS_COUNTS)),
        (missing_columns, with_header(missing_columns, [missing_row])),
        *([(counts_columns, with_header(counts_columns, without_small))] if exclude_small else []),
        (lengths_columns, with_header(lengths_columns, AWS_LENGTHS)),
        (monthly_columns, with_header(monthly_columns, AWS_MONTHLY)),
        *[(columns, with_header(columns, rows)) for columns, rows in (extra or [])],
    ]
    seed_athena_results(url, results)


@pytest.fixture
def aws_reviews(
    aws_backend: Any, aws_settings: Any, moto_server: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Any]:
    """demo.reviews registered in moto's Glue (data in moto's S3 is not needed: Athena answers from the seeds)."""
    import streamlit as st

    from lib.catalog import parquet_table

    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("LAKELENS_BACKEND", "aws")
    monkeypatch.setenv("LAKELENS_S3_LAKE", aws_settings.s3_lake or "")
    monkeypatch.setenv("LAKELENS_ENDPOINT_URL", aws_settings.endpoint_url or "")
    monkeypatch.setenv("LAKELENS_AWS_REGION", aws_settings.aws_region)
    st.cache_data.clear()  # moto was reset, but the settings (and so the cache keys) are those of the last test
    aws_backend.register_table(
        parquet_table(
            "demo",
            "reviews",
            AWS_COLUMNS,
            aws_backend.to_s3_location("curated/demo/reviews/"),
            partition_keys=[Column("product_category", "string")],
        )
    )
    yield aws_backend


def _athena_queries(backend: Any) -> list[str]:
    athena = backend._client("athena")
    ids = athena.list_query_executions()["QueryExecutionIds"]
    return [athena.get_query_execution(QueryExecutionId=i)["QueryExecution"]["Query"] for i in ids]


def test_aws_page_from_athena_aggregates(aws_reviews: Any, moto_server: str) -> None:
    _seed_page(moto_server)
    at = sentiment_page()
    # an opened link starts no Athena scan by itself: the analyst runs the queries
    assert _athena_queries(aws_reviews) == []
    assert any("Nothing has run yet" in i.value for i in at.info)
    at.button(key="sentiment.allow_scans").click().run()
    assert not at.error, [e.value for e in at.error]
    # worked out from AWS_COUNTS: 67 reviews; 65 rated, 30 + 8 + 5 = 43 of them positive
    assert metrics(at)["Reviews"] == "67"
    assert metrics(at)["Positive"] == f"{43 / 65:.1%}"
    assert metrics(at)["No sentiment"] == "2"
    per_sentiment = trace_values(charts(at)["Reviews per sentiment"])
    assert {name: values[name] for name, values in per_sentiment.items()} == {
        "negative": 16,
        "neutral": 6,
        "positive": 43,
        "no sentiment": 2,
    }
    assert any("Gift_Card" in w.value for w in at.warning)  # 5 reviews: flagged as small
    # Books as facet d: n_d = 40, n_a = 25 (rated Toys and Gift_Card); CI = (25 - 40)/65;
    # q_d = 30/40, q_a = (8 + 5)/25, DPL = 0.52 - 0.75
    table = next(df.value for df in at.dataframe if "CI" in getattr(df.value, "columns", [])).set_index("category")
    assert table.loc["Books", "CI"] == pytest.approx(-15 / 65)
    assert table.loc["Books", "DPL"] == pytest.approx(0.52 - 0.75)
    # positive reviews: 20 with 10 words, 23 with 40 -> the median (22nd of 43) is 40, the mean 1120/43
    lengths = at.table[0].value
    assert lengths.loc["median", "positive"] == "40"
    assert lengths.loc["mean", "positive"] == f"{1120 / 43:,.1f}"
    # monthly average: January (20 - 10)/30, February (23 - 6)/35 (the unrated reviews left out)
    average = trace_values(charts(at)["Average sentiment per month"])[""]
    assert list(average.values()) == pytest.approx([10 / 30, 17 / 35])
    # what Athena was sent: the page's four aggregates in Athena SQL, nothing else
    table_def = aws_reviews.get_table("demo", "reviews")
    spec = s.Spec(table_def, s.detect_columns(table_def))
    assert sorted(_athena_queries(aws_reviews)) == sorted(
        [s.counts_sql(spec), s.missing_sql(spec), s.lengths_sql(spec), s.monthly_sql(spec)]
    )


def test_aws_balance_action_writes_parquet_to_s3_and_registers_it_in_glue(aws_reviews: Any, moto_server: str) -> None:
    import boto3
    import pyarrow.parquet as pq

    from tests.aws_fixtures import BUCKET, REGION, column

    balanced_columns = [
        column("star_rating", "integer"),
        column("review_body", "varchar"),
        column("review_date", "date"),
        column("product_category", "varchar"),
        column("sentiment", "integer"),
    ]
    balanced_rows: list[list[str | None]] = [
        ["5", "Love it", "2015-01-02", "Books", "1"],
        ["1", "Broke", "2015-01-03", "Books", "-1"],
        ["4", "Fine toy", "2015-01-04", "Toys", "1"],
        ["2", "Meh toy", "2015-01-05", "Toys", "-1"],
    ]
    cells_columns = [column("category", "varchar"), column("sentiment", "integer"), column("reviews", "bigint")]
    cells_rows: list[list[str | None]] = [
        ["Books", "1", "30"],
        ["Books", "-1", "1"],
        ["Toys", "1", "8"],
        ["Toys", "-1", "1"],
    ]
    _seed_page(moto_server, [(cells_columns, cells_rows), (balanced_columns, balanced_rows)], exclude_small=True)
    at = sentiment_page({"small": "true"})
    at.button(key="sentiment.allow_scans").click().run()  # on Athena, nothing runs until the analyst asks
    next(t for t in at.text_input if t.label == "Table name").input("reviews_balanced")
    next(b for b in at.button if b.label == "Write balanced table").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert any("demo.reviews_balanced" in m.value for m in at.success)
    stored = aws_reviews.get_table("demo", "reviews_balanced")
    assert stored.location == f"s3://{BUCKET}/lake/curated/demo/reviews_balanced/"
    assert [c.name for c in stored.columns] == [
        "star_rating",
        "review_body",
        "review_date",
        "product_category",
        "sentiment",
    ]
    s3 = boto3.client("s3", region_name=REGION, endpoint_url=moto_server)
    keys = [
        o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET, Prefix="lake/curated/demo/reviews_balanced/")["Contents"]
    ]
    assert len(keys) == 1 and keys[0].endswith(".parquet")
    body = s3.get_object(Bucket=BUCKET, Key=keys[0])["Body"].read()
    written = pq.read_table(io.BytesIO(body)).to_pandas()
    assert list(written["review_body"]) == [row[1] for row in balanced_rows]
    assert list(written["sentiment"]) == [1, -1, 1, -1]
    balanced_sql = [q for q in _athena_queries(aws_reviews) if "cell_rank" in q]
    assert len(balanced_sql) == 1 and "ROW_NUMBER() OVER" in balanced_sql[0]
    assert "'Gift_Card'" in balanced_sql[0]  # the small category is excluded in the SQL
    assert "cell_rank <= 1" in balanced_sql[0]  # the smallest cell among rows with text (cells_rows)
    assert stored.parameters["lakelens.balanced_cell_size"] == "1"


def test_charts_and_the_bias_table_pin_to_the_report(demo_env: Path) -> None:
    at = sentiment_page({"cat": ["Books", "Toys"]})
    at.button(key="pin_sentiment.chart_per_sentiment").click().run()
    at.button(key="pin_sentiment.bias").click().run()
    pinned = at.session_state["report_items"]
    assert [item.title for item in pinned] == ["Reviews per sentiment", "Pre-training bias metrics per category"]
    chart = pinned[0]
    assert chart.page == "Sentiment" and "GROUP BY" in (chart.sql or "")
    assert chart.context == "demo.reviews · 3 sentiment classes · categories Books, Toys"
    assert {row["category"] for row in pinned[1].table or []} == {"Books", "Toys"}


@pytest.fixture
def course_lake(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Path, pd.DataFrame]]:
    """A new lake holding only the course's clothing file (its Kaggle layout, missing fields and all)."""
    from lib.lake import ingest
    from tests.real_files import write_kaggle_clothing

    path = write_kaggle_clothing(tmp_path / "womens_clothing_ecommerce_reviews.csv")
    backend = LocalBackend(local_settings(tmp_path / "lake"))
    ingest.ingest_file(backend, path, database="demo", table="clothing", curated=True)
    backend.close()
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("LAKELENS_LAKE_ROOT", str(tmp_path / "lake"))
    monkeypatch.setenv("LAKELENS_BACKEND", "local")
    yield tmp_path / "lake", pd.read_csv(path)


def test_the_course_switch_shows_the_notebook_s_numbers(course_lake: tuple[Path, pd.DataFrame]) -> None:
    """The page with ?course=true on the course's file: every number the notebook's pandas steps give."""
    from tests import course_notebook as course

    _, raw = course_lake
    expected = course.summary(course.prepare(raw, "Rating", "Review Text", "Class Name"))
    at = sentiment_page({"table": "demo.clothing", "course": "true"})
    assert not at.error, [e.value for e in at.error]
    assert metrics(at)["Reviews"] == f"{expected['reviews']:,}"
    assert metrics(at)["Categories"] == str(len(expected["categories"]))
    found = charts(at)
    per_sentiment = trace_values(found["Reviews per sentiment"])
    shown = {name: int(values[name]) for name, values in per_sentiment.items()}
    names = {"-1": "negative", "0": "neutral", "1": "positive"}
    assert shown == {names[k]: v for k, v in expected["by_sentiment"].items()}
    average = trace_values(found["Average sentiment per category"], axis="x")[""]
    for category, numbers in expected["categories"].items():
        assert average[category] == pytest.approx(numbers["average_sentiment"])
    lengths = at.table[0].value
    words = expected["words"]
    assert lengths.loc["mean", "all reviews"] == f"{words['mean']:,.1f}"
    median = words["median"]
    assert lengths.loc["median", "all reviews"] == (f"{median:,.1f}" if not median.is_integer() else f"{int(median):,}")
    assert lengths.loc["max", "all reviews"] == f"{int(words['max']):,}"
    preparation = next(m.value for m in at.markdown if "The course's preparation" in m.value)
    assert preparation.endswith(f"→ {expected['reviews']:,}")
    assert not at.warning or not any("fewer reviews" in w.value for w in at.warning)  # small ones dropped, not flagged
