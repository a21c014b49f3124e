from __future__ import annotations

from pathlib import Path

import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from lib.backends.local import LocalBackend
from lib.lake import demo
from tests.conftest import DEMO_ROWS


def test_demo_lake_has_both_zones_registered(demo_backend: LocalBackend) -> None:
    tables = {t.name: t for t in demo_backend.list_tables("demo")}
    assert set(tables) == {"reviews", "reviews_raw"}
    assert tables["reviews"].format == "parquet"
    assert [c.name for c in tables["reviews"].partition_keys] == ["product_category"]
    assert tables["reviews_raw"].format == "tsv"
    assert tables["reviews"].location == "lake://curated/reviews/"


def test_raw_zone_is_one_tsv_per_category_and_curated_is_hive_partitioned(demo_lake_dir: Path) -> None:
    raw_files = sorted((demo_lake_dir / "raw" / "reviews").glob("*.tsv"))
    partitions = sorted((demo_lake_dir / "curated" / "reviews").glob("product_category=*"))
    assert 15 <= len(raw_files) <= 23  # 18 categories and the three small ones (≤ 10 reviews)
    # one folder per category, and Hive's default folder for the reviews without one (they stay in their TSV)
    assert len(partitions) == len(raw_files) + 1
    assert (demo_lake_dir / "curated" / "reviews" / "product_category=__HIVE_DEFAULT_PARTITION__").is_dir()
    raw_rows = sum(pacsv.read_csv(f, parse_options=pacsv.ParseOptions(delimiter="\t")).num_rows for f in raw_files)
    curated_rows = sum(pq.read_metadata(next(p.glob("*.parquet"))).num_rows for p in partitions)
    assert raw_rows == curated_rows == DEMO_ROWS


def test_reviews_look_real() -> None:
    table = demo.generate(20_000).to_pandas()
    assert list(table.columns) == [
        "review_id", "product_id", "product_title", "product_category", "star_rating", "review_headline",
        "review_body", "review_date", "helpful_votes", "total_votes", "verified_purchase", demo.FILE_CATEGORY,
    ]  # fmt: skip
    # a review without a category still knows which category's raw file it is in (the last column, not a table's)
    assert 0 < table["product_category"].isna().mean() < 0.01 and table[demo.FILE_CATEGORY].notna().all()
    # as messy as real files: a few exact duplicates, missing and blank texts, empty headlines, HTML, emoji
    duplicated = table.duplicated(keep="first")
    assert 0 < duplicated.sum() < 0.01 * len(table)
    assert table[~duplicated]["review_id"].is_unique  # a repeated id is always the same review repeated
    missing_text = table["review_body"].isna() | (table["review_body"].fillna("").str.strip() == "")
    assert 0.02 < missing_text.mean() < 0.06
    assert (table["review_headline"] == "").any()
    assert table["review_body"].str.contains("<br />", regex=False).any()
    assert table["review_body"].str.contains("&#34;", regex=False).any()
    assert table["review_body"].str.contains("😍", regex=False).any()
    assert table["review_body"].str.contains("\n", regex=False).any()
    assert table["review_body"].str.contains("Not bad at all.", regex=False).any()  # negation
    shares = table["star_rating"].value_counts(normalize=True)
    assert shares[5] > 0.5 and shares[5] == shares.max()  # mostly 5s, as real reviews are
    assert set(table["star_rating"].unique()) == {1, 2, 3, 4, 5}
    counts = table[demo.FILE_CATEGORY].value_counts()
    assert 15 <= len(counts) <= 23
    assert counts.iloc[0] > 10 * counts.iloc[-1]  # a realistic skew between categories
    assert 2 <= (counts <= 10).sum() <= 3  # the course drops categories with ten reviews or fewer
    assert (table["helpful_votes"] <= table["total_votes"]).all()
    assert table["review_date"].min().year == 2012 and table["review_date"].max().year == 2015
    words = table["review_body"].dropna().str.split().str.len()
    assert words.median() > 10 and words.max() > 100  # long tail of long reviews


def test_wording_follows_the_rating_but_not_trivially() -> None:
    table = demo.generate(20_000).to_pandas()
    positive = table["review_body"].str.contains("recommend it|love it|Exceeded", regex=True)
    share_by_rating = positive.groupby(table["star_rating"]).mean()
    assert share_by_rating[5] > 3 * share_by_rating[1]
    assert share_by_rating[1] > 0  # some negative reviews still say something nice


def test_generation_is_deterministic() -> None:
    assert demo.generate(500).equals(demo.generate(500))
    assert not demo.generate(500).equals(demo.generate(500, seed=1))


def test_rebuild_replaces_the_demo_lake(fresh_backend: LocalBackend) -> None:
    demo.build(fresh_backend, 300)
    result = fresh_backend.run_query("SELECT count(*) AS n FROM demo.reviews")
    assert int(result.frame["n"][0]) == 300
    assert not list(fresh_backend.root.glob(".lakelens-tmp-*"))


def test_curated_word_count_matches_the_text(demo_backend: LocalBackend) -> None:
    """The derived review_words column is exactly the words a query would count in review_body."""
    frame = demo_backend.run_query("SELECT review_body, review_words FROM demo.reviews", max_rows=DEMO_ROWS).frame
    has_text = frame["review_body"].fillna("").str.strip() != ""
    # the course's cardinality(split(review_body, ' ')); a review without text has no count
    expected = frame.loc[has_text, "review_body"].str.split(" ").str.len()
    assert (frame.loc[has_text, "review_words"] == expected).all()
    assert frame.loc[~has_text, "review_words"].isna().all()
