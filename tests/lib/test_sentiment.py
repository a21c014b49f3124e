"""Sentiment domain: column detection on both naming styles, the aggregate SQL (checked against pandas reading
the same files directly), filters in the WHERE clause, null counts, small categories and the balance action."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import sqlglot
from sqlglot import exp

from lib import sentiment as s
from lib.backends.local import LocalBackend
from lib.catalog import LAKE_SCHEME, Column, TableDef, delimited_table, parquet_table
from lib.errors import CatalogError, LakeLensError
from lib.sentiment import bias
from tests.conftest import local_settings, read_curated

KAGGLE_COLUMNS = [
    Column("Clothing ID", "int"),
    Column("Age", "int"),
    Column("Title", "string"),
    Column("Review Text", "string"),
    Column("Rating", "int"),
    Column("Recommended IND", "int"),
    Column("Positive Feedback Count", "int"),
    Column("Division Name", "string"),
    Column("Department Name", "string"),
    Column("Class Name", "string"),
]


def demo_frame(lake: Path) -> pd.DataFrame:
    """demo.reviews read with pyarrow directly from its Parquet files (not through LakeLens)."""
    return read_curated(lake)


def three_class(rating: pd.Series) -> pd.Series:
    return rating.map({1: -1, 2: -1, 3: 0, 4: 1, 5: 1})


def words(text: pd.Series) -> pd.Series:
    """The course's len(text.split(' ')); no count for a missing, empty or blank text."""
    return text.map(lambda t: None if t is None or pd.isna(t) or not str(t).strip() else len(t.split(" ")))


def kaggle_frame(rows: int = 400, seed: int = 7) -> pd.DataFrame:
    """A Kaggle-style clothing review table: spaces and capitals in names, some missing text and ratings, and one
    class (Casual bottoms) with only four reviews."""
    rng = np.random.default_rng(seed)
    classes = np.array(["Dresses", "Knits", "Blouses", "Pants", "Jackets"])
    frame = pd.DataFrame(
        {
            "Clothing ID": rng.integers(1, 1200, rows),
            "Age": rng.integers(18, 90, rows),
            "Title": rng.choice(["Love it", "Meh", "Not for me", "Great"], rows),
            "Review Text": [
                " ".join(rng.choice(["soft", "fits", "small", "lovely", "returned", "fabric"], int(n)))
                for n in rng.integers(1, 60, rows)
            ],
            "Rating": rng.choice([1, 2, 3, 4, 5], rows, p=[0.05, 0.07, 0.13, 0.22, 0.53]),
            "Recommended IND": rng.integers(0, 2, rows),
            "Positive Feedback Count": rng.integers(0, 20, rows),
            "Division Name": rng.choice(["General", "General Petite", "Initmates"], rows),
            "Department Name": rng.choice(["Tops", "Dresses", "Bottoms"], rows),
            "Class Name": rng.choice(classes, rows),
        }
    )
    frame.loc[:3, "Class Name"] = "Casual bottoms"
    frame["Rating"] = frame["Rating"].astype("Int64")
    frame.loc[[10, 11, 12], "Rating"] = pd.NA
    frame["Review Text"] = frame["Review Text"].astype(object)
    frame.loc[[20, 21], "Review Text"] = None
    return frame


@pytest.fixture
def kaggle(tmp_path: Path) -> Iterator[tuple[LocalBackend, TableDef, pd.DataFrame]]:
    """A lake holding one CSV with Kaggle's column names, registered as shop.clothing_reviews."""
    backend = LocalBackend(local_settings(tmp_path / "lake"))
    frame = kaggle_frame()
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False)
    backend.write("raw/clothing/reviews.csv", buffer.getvalue().encode())
    table = backend.register_table(
        delimited_table("shop", "clothing_reviews", KAGGLE_COLUMNS, LAKE_SCHEME + "raw/clothing/", header=True)
    )
    yield backend, table, frame
    backend.close()


def run(backend: LocalBackend, sql: str) -> pd.DataFrame:
    result = backend.run_query(sql, max_rows=s.MAX_GROUPS)
    assert not result.stats.truncated
    return result.frame


# -- detection -------------------------------------------------------------------------------------------------
def test_detects_amazon_style_columns(demo_backend: LocalBackend) -> None:
    mapping = s.detect_columns(demo_backend.get_table("demo", "reviews"))
    assert mapping == s.ColumnMapping(
        rating="star_rating",
        text="review_body",
        category="product_category",
        date="review_date",
        words="review_words",  # the curated demo table carries the word count derived at curation time
    )
    raw = s.detect_columns(demo_backend.get_table("demo", "reviews_raw"))
    assert (raw.rating, raw.text, raw.category, raw.date) == (
        "star_rating",
        "review_body",
        "product_category",
        "review_date",
    )


def test_detects_kaggle_style_columns() -> None:
    table = TableDef("shop", "clothing", KAGGLE_COLUMNS, "lake://x/")
    mapping = s.detect_columns(table)
    assert mapping.rating == "Rating"
    assert mapping.text == "Review Text"  # not the Title
    assert mapping.category == "Class Name"  # the course renames Class Name to product_category
    assert mapping.label == "Recommended IND"
    assert mapping.date is None and mapping.words is None
    assert s.definitions_for(mapping) == ["three_class", "binary", "label"]


def test_detects_other_names_and_prefers_typed_columns() -> None:
    table = TableDef(
        "x",
        "t",
        [
            Column("id", "bigint"),
            Column("stars", "string"),
            Column("comment", "string"),
            Column("genre", "string"),
            Column("created_at", "timestamp"),
            Column("sentiment", "tinyint"),
            Column("word_count", "int"),
        ],
        "lake://t/",
    )
    mapping = s.detect_columns(table)
    assert mapping == s.ColumnMapping(
        rating="stars", text="comment", category="genre", date="created_at", label="sentiment", words="word_count"
    )


def test_a_table_without_rating_or_label_gets_one_message() -> None:
    table = TableDef("x", "t", [Column("id", "bigint"), Column("body", "string")], "lake://t/")
    mapping = s.detect_columns(table)
    assert mapping.text == "body" and mapping.rating is None and mapping.label is None
    assert s.definitions_for(mapping) == []
    assert "rating" in s.NO_SOURCE_MESSAGE and "label" in s.NO_SOURCE_MESSAGE
    with pytest.raises(LakeLensError, match="rating column"):
        s.Spec(table, mapping, "three_class")


def test_a_mapping_to_a_missing_column_is_refused(demo_backend: LocalBackend) -> None:
    table = demo_backend.get_table("demo", "reviews")
    with pytest.raises(LakeLensError, match="no column 'stars'"):
        s.Spec(table, s.ColumnMapping(rating="stars"))


# -- the aggregates aggregate ------------------------------------------------------------------------------------
def _aggregates(tree: exp.Expr) -> bool:
    return tree.find(exp.Group) is not None or tree.find(exp.AggFunc) is not None


def test_every_chart_query_aggregates_and_returns_few_rows(demo_backend: LocalBackend) -> None:
    table = demo_backend.get_table("demo", "reviews")
    spec = s.Spec(table, s.detect_columns(table))
    for sql in (s.counts_sql(spec), s.lengths_sql(spec), s.monthly_sql(spec)):
        tree = sqlglot.parse_one(sql, read="athena")
        assert isinstance(tree, exp.Select) and _aggregates(tree), sql
        assert tree.find(exp.Group) is not None, "the outer query groups"
        result = demo_backend.run_query(sql, max_rows=s.MAX_GROUPS)
        # at most categories x (3 sentiments + missing), (3 sentiments + missing) x (word counts up to the cap),
        # months x sentiments: never one row per review
        assert result.stats.total_rows is not None and result.stats.total_rows <= 4 * (s.WORD_CAP + 1)
        assert result.stats.total_rows < len(demo_frame(demo_backend.root)) / 2
        assert not result.stats.truncated
    sample = sqlglot.parse_one(s.sample_sql(spec, "Books", 1, page=3, page_size=20), read="athena")
    assert sample.args["limit"].expression.this == "20"  # the drill-down pages, never a full pull


def test_counts_match_pandas_on_the_files(demo_backend: LocalBackend, demo_lake_dir: Path) -> None:
    table = demo_backend.get_table("demo", "reviews")
    spec = s.Spec(table, s.detect_columns(table))
    counts = s.tidy_counts(run(demo_backend, s.counts_sql(spec)), spec)
    files = demo_frame(demo_lake_dir)
    files["sentiment"] = three_class(files["star_rating"])
    expected = files.fillna({"product_category": "<none>"}).groupby(["product_category", "sentiment"]).size()
    got = counts.fillna({"category": "<none>"}).set_index(["category", "sentiment"])["reviews"]
    assert got.to_dict() == expected.to_dict()
    assert ("<none>", 1) in got.index  # reviews without a category are a group of their own, not dropped
    per_sentiment = s.per_sentiment(counts).set_index("name")["reviews"]
    assert per_sentiment.to_dict() == {
        "negative": int((files["sentiment"] == -1).sum()),
        "neutral": int((files["sentiment"] == 0).sum()),
        "positive": int((files["sentiment"] == 1).sum()),
    }
    averages = s.average_per_category(counts).set_index("category")["average"]
    pandas_avg = files.groupby("product_category")["sentiment"].mean()
    for category, value in pandas_avg.items():
        assert averages[category] == pytest.approx(value)
    assert list(averages) == sorted(averages, reverse=True)
    shares = s.per_category(counts)
    assert shares.groupby("category")["share"].sum().round(9).eq(1).all()


def test_binary_definition(demo_backend: LocalBackend, demo_lake_dir: Path) -> None:
    table = demo_backend.get_table("demo", "reviews")
    spec = s.Spec(table, s.detect_columns(table), "binary")
    counts = s.tidy_counts(run(demo_backend, s.counts_sql(spec)), spec)
    files = demo_frame(demo_lake_dir)
    totals = counts.groupby("name")["reviews"].sum().to_dict()
    assert totals == {
        "positive": int((files["star_rating"] > 3).sum()),
        "negative": int((files["star_rating"] <= 3).sum()),
    }


def test_lengths_match_pandas(demo_backend: LocalBackend, demo_lake_dir: Path) -> None:
    table = demo_backend.get_table("demo", "reviews")
    spec = s.Spec(table, s.detect_columns(table))
    lengths = s.tidy_lengths(run(demo_backend, s.lengths_sql(spec)), spec)
    files = demo_frame(demo_lake_dir)
    files["sentiment"] = three_class(files["star_rating"]).map({-1: "negative", 0: "neutral", 1: "positive"})
    files["words"] = words(files["review_body"]).astype(float)
    assert lengths.missing == int(files["words"].isna().sum()) > 0  # the demo lake has reviews without text
    files = files[files["words"].notna()]
    table_ = lengths.percentiles.set_index("sentiment")
    assert list(table_.index) == ["negative", "neutral", "positive", "all reviews"]
    for name, group in [*files.groupby("sentiment"), ("all reviews", files)]:
        row = table_.loc[name]
        assert row["reviews"] == len(group)
        assert row["mean"] == pytest.approx(group["words"].mean())
        assert row["max"] == group["words"].max()
        for p in s.PERCENTILES:
            # exact, as the notebook's describe() computes it: pandas' quantile (linear interpolation)
            assert row[f"p{round(p * 100)}"] == pytest.approx(group["words"].quantile(p), abs=1e-9), (name, p)
    histogram = lengths.histogram.set_index(["name", "bin"])["reviews"]
    edges = [*s.WORD_BINS, np.inf]
    for name, group in files.groupby("sentiment"):
        counted = pd.cut(group["words"], bins=edges, right=False, labels=list(s.WORD_BINS)).value_counts()
        for low in lengths.histogram["bin"].unique():
            assert histogram[(name, low)] == counted[low], (name, low)
    assert lengths.histogram.groupby("name")["share"].sum().round(9).le(1).all()


def test_monthly_counts_match_pandas(demo_backend: LocalBackend, demo_lake_dir: Path) -> None:
    table = demo_backend.get_table("demo", "reviews")
    spec = s.Spec(table, s.detect_columns(table))
    by_name, monthly = s.tidy_monthly(run(demo_backend, s.monthly_sql(spec)), spec)
    files = demo_frame(demo_lake_dir)
    files["month"] = pd.to_datetime(files["review_date"]).dt.to_period("M").dt.to_timestamp()
    files["sentiment"] = three_class(files["star_rating"])
    expected = files.groupby("month").agg(reviews=("sentiment", "size"), average=("sentiment", "mean"))
    got = monthly.set_index("month")
    assert got["reviews"].to_dict() == expected["reviews"].to_dict()
    assert np.allclose(got["average"], expected["average"].loc[got.index])
    assert int(by_name["reviews"].sum()) == len(files)


# -- filters go into the SQL ---------------------------------------------------------------------------------------
def test_every_filter_is_in_the_where_clause_and_matches_pandas(
    demo_backend: LocalBackend, demo_lake_dir: Path
) -> None:
    table = demo_backend.get_table("demo", "reviews")
    filters = s.Filters(
        categories=("Books", "Wireless", "PC"),
        date_from=date(2013, 6, 1),
        date_to=date(2015, 1, 31),
        rating_min=2,
        rating_max=5,
        text_contains="WORKS",
        exclude_categories=("PC",),
    )
    spec = s.Spec(table, s.detect_columns(table), filters=filters)
    sql = s.counts_sql(spec)
    where = sqlglot.parse_one(sql, read="athena").args["where"].sql("athena")
    for fragment in ("'Books'", "'PC'", "'2013-06-01'", "'2015-01-31'", ">= 2", "<= 5", "'works'"):
        assert fragment in where, fragment
    counts = s.tidy_counts(run(demo_backend, sql), spec)
    files = demo_frame(demo_lake_dir)
    day = pd.to_datetime(files["review_date"])
    mask = (
        files["product_category"].isin(["Books", "Wireless"])
        & (day >= "2013-06-01")
        & (day <= "2015-01-31")
        & files["star_rating"].between(2, 5)
        & files["review_body"].str.lower().str.contains("works", regex=False)
    )
    expected = files[mask].assign(sentiment=lambda f: three_class(f["star_rating"]))
    assert counts.set_index(["category", "sentiment"])["reviews"].to_dict() == (
        expected.groupby(["product_category", "sentiment"]).size().to_dict()
    )
    lengths = s.tidy_lengths(run(demo_backend, s.lengths_sql(spec)), spec)
    assert lengths.percentiles.set_index("sentiment").loc["all reviews", "reviews"] == mask.sum()


def test_text_search_is_a_literal_not_sql(demo_backend: LocalBackend) -> None:
    table = demo_backend.get_table("demo", "reviews")
    spec = s.Spec(table, s.detect_columns(table), filters=s.Filters(text_contains="x') OR 1=1 --"))
    counts = run(demo_backend, s.counts_sql(spec))
    assert counts.empty  # no review contains that text; the quote did not end the literal


# -- a Kaggle-style table with other names, nulls and a small category -------------------------------------------
def test_kaggle_table_counts_nulls_and_small_categories(kaggle: tuple[LocalBackend, TableDef, pd.DataFrame]) -> None:
    backend, table, frame = kaggle
    spec = s.Spec(table, s.detect_columns(table))
    counts = s.tidy_counts(run(backend, s.counts_sql(spec)), spec)
    nulls = s.null_summary(counts, spec)
    assert nulls.rows == len(frame)
    assert nulls.missing_rating == int(frame["Rating"].isna().sum()) == 3
    assert nulls.missing_sentiment == 3
    lengths = s.tidy_lengths(run(backend, s.lengths_sql(spec)), spec)
    assert lengths.missing == int(frame["Review Text"].isna().sum()) == 2
    assert "Review Text" not in s.counts_sql(spec)  # the cheap query never reads the text
    assert s.small_categories(counts) == ["Casual bottoms"]
    totals = s.category_totals(counts).set_index("category")["reviews"]
    assert totals.to_dict() == frame.groupby("Class Name").size().to_dict()

    excluded = spec.with_filters(s.Filters(exclude_categories=("Casual bottoms",)))
    lengths = s.tidy_lengths(run(backend, s.lengths_sql(excluded)), excluded)
    kept = frame[frame["Class Name"] != "Casual bottoms"]
    assert lengths.percentiles.set_index("sentiment").loc["all reviews", "reviews"] == kept["Review Text"].notna().sum()
    assert "Casual bottoms" not in set(s.drop_categories(counts, ["Casual bottoms"])["category"])


def test_kaggle_table_with_its_label_column(kaggle: tuple[LocalBackend, TableDef, pd.DataFrame]) -> None:
    backend, table, frame = kaggle
    spec = s.Spec(table, s.detect_columns(table), "label")
    counts = s.tidy_counts(run(backend, s.counts_sql(spec)), spec)
    assert counts.groupby("sentiment")["reviews"].sum().to_dict() == frame.groupby("Recommended IND").size().to_dict()
    assert s.default_positive(list(counts["sentiment"]), "label") == 1
    metrics = bias.facet_metrics(counts, 1).set_index("facet")
    share = frame.groupby("Class Name")["Recommended IND"].mean()
    assert metrics["positive_share"].to_dict() == pytest.approx(share.to_dict())


def test_sample_pages_through_one_cell(kaggle: tuple[LocalBackend, TableDef, pd.DataFrame]) -> None:
    backend, table, frame = kaggle
    spec = s.Spec(table, s.detect_columns(table))
    cell = frame[(frame["Class Name"] == "Knits") & (frame["Rating"] >= 4)]
    pages = [run(backend, s.sample_sql(spec, "Knits", 1, page, 25)) for page in range(0, len(cell) // 25 + 2)]
    seen = pd.concat(pages, ignore_index=True)
    assert len(seen) == len(cell)
    assert all(len(page) <= 25 for page in pages)
    assert sorted(seen["text"].fillna("")) == sorted(cell["Review Text"].fillna(""))
    assert set(seen["rating"]) <= {4, 5}
    again = run(backend, s.sample_sql(spec, "Knits", 1, 0, 25))
    assert list(again["text"]) == list(pages[0]["text"])  # the same order every time

    missing = run(backend, s.sample_sql(spec, "Dresses", None, 0, 25))
    assert len(missing) == int(((frame["Class Name"] == "Dresses") & frame["Rating"].isna()).sum())


# -- the balance action ------------------------------------------------------------------------------------------
def test_balanced_table_is_written_registered_and_balanced(
    kaggle: tuple[LocalBackend, TableDef, pd.DataFrame],
) -> None:
    backend, table, frame = kaggle
    spec = s.Spec(table, s.detect_columns(table))
    counts = s.tidy_counts(run(backend, s.counts_sql(spec)), spec)
    plan = bias.balance_plan(counts, by="category_sentiment")
    rated = frame.dropna(subset=["Rating"]).assign(sentiment=lambda f: three_class(f["Rating"].astype(int)))
    assert plan.cell_size == int(rated.groupby(["Class Name", "sentiment"]).size().min())

    written = s.write_balanced(backend, spec, "shop", "clothing_balanced", by="category_sentiment")
    # the written cells count only reviews with text (two of the 400 have none)
    with_text = rated[rated["Review Text"].fillna("").str.len() > 0]
    sizes = with_text.groupby(["Class Name", "sentiment"]).size()
    assert written.cell_size == int(sizes.min())
    assert written.rows == written.cell_size * len(sizes)
    stored = backend.get_table("shop", "clothing_balanced")
    assert stored.format == "parquet" and stored.location == "lake://curated/shop/clothing_balanced/"
    names = [c.name for c in stored.columns]
    assert names[-1] == "sentiment" and "review_text" in names and "class_name" in names
    assert stored.parameters["lakelens.text_column"] == "review_text"
    cells = run(backend, "SELECT class_name, sentiment, count(*) AS n FROM shop.clothing_balanced GROUP BY 1, 2")
    assert set(cells["n"]) == {written.cell_size}
    assert len(cells) == len(sizes)
    body = run(backend, "SELECT review_text, rating, sentiment FROM shop.clothing_balanced")
    assert set(body["review_text"].dropna()) <= set(frame["Review Text"].dropna())
    assert (body["sentiment"] == three_class(body["rating"])).all()

    # the AutoML page can train on it: its profile sees the text and the three balanced sentiment classes
    from lib.automl import engine
    from lib.automl.jobs import JobConfig

    config = JobConfig(
        name="balanced",
        database="shop",
        table="clothing_balanced",
        text_column=stored.parameters["lakelens.text_column"],
        label_column=stored.parameters["lakelens.label_column"],
    )
    automl = engine.profile(backend, config)
    engine.check_profile(automl, config)
    per_sentiment = sizes.groupby(level="sentiment").size() * written.cell_size
    assert {c.name: c.rows for c in automl.classes} == {
        "negative": int(per_sentiment[-1]),
        "neutral": int(per_sentiment[0]),
        "positive": int(per_sentiment[1]),
    }

    with pytest.raises(CatalogError, match="already exists"):
        s.write_balanced(backend, spec, "shop", "clothing_balanced")
    again = s.write_balanced(backend, spec, "shop", "clothing_balanced", replace_existing=True, by="category_sentiment")
    assert again.rows == written.rows
    files = [o.key for o in backend.list_objects("curated/shop/clothing_balanced/").objects]
    assert files == [again.key]  # the old file is gone
    rerun = run(backend, "SELECT review_text, rating FROM shop.clothing_balanced")
    assert sorted(map(str, rerun.itertuples(index=False))) == sorted(
        map(str, body[["review_text", "rating"]].itertuples(index=False))
    )


def test_balanced_table_refuses_to_overwrite_its_source_or_other_files(
    kaggle: tuple[LocalBackend, TableDef, pd.DataFrame],
) -> None:
    backend, table, _ = kaggle
    spec = s.Spec(table, s.detect_columns(table))
    with pytest.raises(CatalogError, match="name of its own"):
        s.write_balanced(backend, spec, "shop", "clothing_reviews")
    backend.write("curated/shop/taken/other.parquet", b"not ours")
    with pytest.raises(CatalogError, match="already holds other files"):
        s.write_balanced(backend, spec, "shop", "taken")
    assert backend.read("curated/shop/taken/other.parquet") == b"not ours"


def test_parquet_table_with_unfamiliar_names(tmp_path: Path) -> None:
    backend = LocalBackend(local_settings(tmp_path / "lake"))
    frame = kaggle_frame(120, seed=3).rename(columns={"Rating": "Stars Given", "Review Text": "Customer Comment"})
    frame["Stars Given"] = frame["Stars Given"].astype("float64")
    import pyarrow as pa
    import pyarrow.parquet as pq

    buffer = io.BytesIO()
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), buffer)
    backend.write("curated/odd/part-0.parquet", buffer.getvalue())
    columns = [
        Column(name, "double" if name == "Stars Given" else c.type)
        for name, c in zip(frame.columns, [*KAGGLE_COLUMNS], strict=True)
    ]
    table = backend.register_table(parquet_table("odd", "feedback", columns, LAKE_SCHEME + "curated/odd/"))
    mapping = s.detect_columns(table)
    assert (mapping.rating, mapping.text, mapping.category) == ("Stars Given", "Customer Comment", "Class Name")
    spec = s.Spec(table, mapping)
    counts = s.tidy_counts(run(backend, s.counts_sql(spec)), spec)
    assert int(counts["reviews"].sum()) == len(frame)
    backend.close()


def test_lengths_edge_cases_empty_missing_and_very_long_text(tmp_path: Path) -> None:
    """Empty, blank and missing text are all left out of the lengths (no text), and reviews past WORD_CAP keep
    their exact mean and maximum (they share one group in the SQL)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    backend = LocalBackend(local_settings(tmp_path / "lake"))
    texts = ["", "one", "two words", None, " ".join(["w"] * 1500), " ".join(["w"] * 3000), " \t\n "]
    ratings = [5, 5, 1, 3, 1, 5, 4]
    buffer = io.BytesIO()
    pq.write_table(pa.table({"stars": pa.array(ratings, pa.int32()), "text": pa.array(texts, pa.string())}), buffer)
    backend.write("curated/edge/part-0.parquet", buffer.getvalue())
    table = backend.register_table(
        parquet_table("x", "edge", [Column("stars", "int"), Column("text", "string")], LAKE_SCHEME + "curated/edge/")
    )
    spec = s.Spec(table, s.detect_columns(table))
    lengths = s.tidy_lengths(run(backend, s.lengths_sql(spec)), spec)
    stats = lengths.percentiles.set_index("sentiment")
    # words per review: positive 1, 3000; negative 2, 1500; the empty, blank and missing texts have none
    assert list(stats.index) == ["negative", "positive", "all reviews"]
    assert lengths.missing == 3
    assert stats.loc["positive", "reviews"] == 2 and stats.loc["positive", "max"] == 3000
    assert stats.loc["positive", "mean"] == pytest.approx((1 + 3000) / 2)
    assert stats.loc["all reviews", "mean"] == pytest.approx((1 + 2 + 1500 + 3000) / 4)
    # percentiles as pandas computes them, on word counts capped at WORD_CAP (one group in the SQL)
    capped = pd.Series([1, 2, min(1500, s.WORD_CAP), min(3000, s.WORD_CAP)])
    assert stats.loc["all reviews", "p50"] == pytest.approx(capped.quantile(0.5))
    negative = pd.Series([2, s.WORD_CAP])
    assert stats.loc["negative", "p10"] == pytest.approx(negative.quantile(0.1))
    assert stats.loc["negative", "p90"] == pytest.approx(negative.quantile(0.9))
    bins = lengths.histogram.set_index(["name", "bin"])["reviews"]
    assert bins[("positive", 1)] == 1 and bins[("positive", 1024)] == 1
    assert bins[("negative", 2)] == 1 and bins[("negative", 1024)] == 1
    backend.close()


def test_page_data_runs_every_query_of_the_page(demo_backend: LocalBackend) -> None:
    table = demo_backend.get_table("demo", "reviews")
    summary = s.page_data(table, lambda sql: demo_backend.run_query(sql, max_rows=s.MAX_GROUPS).frame)
    files = demo_frame(demo_backend.root)
    assert summary["reviews"] == len(files)
    assert summary["queries"] == 4  # missing values, counts, lengths, monthly: the whole page
    assert summary["facets"] == files["product_category"].nunique()
    assert summary["rows_to_page"] < len(files) / 2
