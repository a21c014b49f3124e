"""The data each page needs, measured through the page's own cached path (lib.data), and the baselines it is
compared with on the same files: hand-written DuckDB SQL, the notebook's pandas, SQLite as a Datasette user has
it. :data:`MEASUREMENTS` names them all."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

from lib.bench.measurement import current_rss_mb, local_settings, peak_rss_mb, use_lake


def sentiment_page(lake: Path, table: str = "reviews") -> Callable[[], dict[str, Any]]:
    """Every chart and the bias table of the Sentiment page, through lib.data (the page's cached path)."""
    use_lake(lake)
    import importlib

    # The app server has these imported already (the home page ran before): importing Python modules is not part
    # of the page's data time. Still cold: no DuckDB connection, no views, no Parquet footers, no cached result.
    importlib.import_module("lib.data")
    importlib.import_module("lib.sentiment.bias")
    importlib.import_module("lib.backends.local")
    from sqlglot.dialects.dialect import Dialect

    Dialect.get_or_raise("athena")
    Dialect.get_or_raise("duckdb")
    data = importlib.import_module("lib.data")
    sentiment = importlib.import_module("lib.sentiment")

    def run() -> dict[str, Any]:
        # the page's own cached path, passed in: lib.sentiment never imports the Streamlit layer
        result: dict[str, Any] = sentiment.page_data(
            data.table("demo", table), lambda sql: data.query(sql, max_rows=sentiment.MAX_GROUPS).frame
        )
        return result

    return run


def sentiment_page_text(lake: Path) -> Callable[[], dict[str, Any]]:
    """The Sentiment page on a table without a word-count column (an ingested table): words come from the text."""
    return sentiment_page(lake, TEXT_TABLE)


TEXT_TABLE = "reviews_text"  # demo.reviews registered again without review_words, as an ingested table would be


# Hand-written equivalents of the Sentiment page's three aggregates, for the baselines: reviews by category x
# sentiment (with rating and date ranges), reviews per (sentiment, word count), reviews by month x sentiment.
_SENTIMENT = (
    "CASE WHEN star_rating IS NULL THEN NULL WHEN star_rating < 3 THEN -1 WHEN star_rating = 3 THEN 0 ELSE 1 END"
)
_TEXT_MISSING = "NOT coalesce(regexp_matches(review_body, '\\S'), false)"
HAND_SQL = {
    "missing": f"""SELECT count(*), count(*) FILTER (WHERE star_rating IS NULL), count(*) FILTER (WHERE {_TEXT_MISSING}),
        count(*) FILTER (WHERE product_category IS NULL) FROM reviews""",
    "counts": f"""SELECT product_category, {_SENTIMENT} AS sentiment, count(*), count(*) FILTER (WHERE star_rating IS NULL),
        min(star_rating), max(star_rating), min(review_date), max(review_date) FROM reviews GROUP BY 1, 2""",
    "lengths": f"""SELECT {_SENTIMENT} AS sentiment, least(review_words, 1024), count(*), sum(review_words),
        max(review_words) FROM reviews GROUP BY 1, 2""",
    "monthly": f"""SELECT date_trunc('month', review_date), {_SENTIMENT} AS sentiment, count(*) FROM reviews
        WHERE review_date IS NOT NULL GROUP BY 1, 2""",
}
SQLITE_SQL = {
    "counts": f"""SELECT product_category, {_SENTIMENT} AS sentiment, count(*), sum(star_rating IS NULL),
        min(star_rating), max(star_rating), min(review_date), max(review_date) FROM reviews GROUP BY 1, 2""",
    "lengths": f"""SELECT {_SENTIMENT} AS sentiment, min(review_words, 1024), count(*), sum(review_words),
        max(review_words) FROM reviews GROUP BY 1, 2""",
    "monthly": f"""SELECT substr(review_date, 1, 7), {_SENTIMENT} AS sentiment, count(*) FROM reviews
        WHERE review_date IS NOT NULL GROUP BY 1, 2""",
}


# Words from the text, as Athena's cardinality(split(review_body, ' ')) counts them (spaces + 1), for a table
# without a word-count column.
_TEXT_WORDS = (
    f"CASE WHEN NOT ({_TEXT_MISSING}) THEN length(review_body) - length(replace(review_body, ' ', '')) + 1 END"
)
HAND_SQL_TEXT = dict(HAND_SQL) | {
    "lengths": f"""SELECT sentiment, least(words, 1024), count(*), sum(words), max(words) FROM (SELECT {_SENTIMENT} AS
        sentiment, {_TEXT_WORDS} AS words FROM reviews) GROUP BY 1, 2""",
}


def duckdb_baseline(lake: Path, queries: dict[str, str] | None = None) -> Callable[[], dict[str, Any]]:
    import duckdb

    files = str(lake / "curated" / "reviews" / "*" / "*.parquet")
    chosen = queries or HAND_SQL

    def run() -> dict[str, Any]:
        con = duckdb.connect()
        con.execute(f"CREATE VIEW reviews AS SELECT * FROM read_parquet('{files}', hive_partitioning = true)")
        out = {name: con.execute(sql).fetchall() for name, sql in chosen.items()}
        con.close()
        return {"groups": sum(len(v) for v in out.values())}

    return run


def pandas_baseline(lake: Path) -> Callable[[], dict[str, Any]]:
    import pandas as pd

    folder = lake / "curated" / "reviews"

    def to_sentiment(rating: int) -> int:
        return -1 if rating < 3 else 0 if rating == 3 else 1

    def run() -> dict[str, Any]:
        # The course's notebook: every row into a DataFrame (wr.athena.read_sql_query("SELECT * ...") does this),
        # the sentiment with .apply, the words per review by splitting the text, then pandas group-bys.
        import pyarrow as pa
        import pyarrow.dataset as ds

        # the category as plain strings: pyarrow cannot yet merge the folders' dictionaries once one value is NULL
        hive = ds.partitioning(pa.schema([("product_category", pa.string())]), flavor="hive")
        frame = pd.read_parquet(folder, partitioning=hive)
        frame["sentiment"] = frame["star_rating"].apply(to_sentiment)
        frame["num_words"] = frame["review_body"].str.split().str.len()  # type: ignore[misc]
        counts = frame.groupby(["product_category", "sentiment"], observed=True).agg(
            reviews=("star_rating", "size"), min_rating=("star_rating", "min"), max_rating=("star_rating", "max"),
            first=("review_date", "min"), last=("review_date", "max"),
        )  # fmt: skip
        lengths = frame.groupby(["sentiment", frame["num_words"].clip(upper=1024)]).agg(
            reviews=("num_words", "size"), total=("num_words", "sum"), longest=("num_words", "max")
        )
        months = pd.to_datetime(frame["review_date"]).dt.to_period("M")
        monthly = frame.groupby([months, "sentiment"]).size()
        return {"groups": len(counts) + len(lengths) + len(monthly)}

    return run


def sqlite_path(lake: Path) -> Path:
    return lake.parent / "reviews.sqlite"


def build_sqlite(lake: Path) -> Path:
    """Load the curated table into SQLite once (not timed), as `sqlite-utils insert` would for Datasette."""
    import pyarrow.dataset as ds

    path = sqlite_path(lake)
    if path.exists():
        return path
    tmp = path.with_suffix(".tmp")
    tmp.unlink(missing_ok=True)
    con = sqlite3.connect(tmp)
    con.execute(
        "CREATE TABLE reviews (product_category TEXT, star_rating INTEGER, review_body TEXT, review_date TEXT, "
        "review_words INTEGER)"
    )
    dataset = ds.dataset(lake / "curated" / "reviews", format="parquet", partitioning="hive")
    columns = ["product_category", "star_rating", "review_body", "review_date", "review_words"]
    for batch in dataset.to_batches(columns=columns, batch_size=200_000):
        rows = zip(*(batch.column(c).to_pylist() for c in columns), strict=True)
        con.executemany("INSERT INTO reviews VALUES (?, ?, ?, ?, ?)", ((a, b, c, str(d), e) for a, b, c, d, e in rows))
    con.commit()
    con.close()
    tmp.rename(path)
    return path


def sqlite_baseline(lake: Path) -> Callable[[], dict[str, Any]]:
    path = sqlite_path(lake)

    def run() -> dict[str, Any]:
        con = sqlite3.connect(path)
        out = {name: con.execute(sql).fetchall() for name, sql in SQLITE_SQL.items()}
        con.close()
        return {"groups": sum(len(v) for v in out.values())}

    return run


def sql_typical(lake: Path) -> Callable[[], dict[str, Any]]:
    use_lake(lake)
    from lib import data

    sql = (
        "SELECT product_category, count(*) AS reviews, avg(star_rating) AS avg_rating "
        "FROM demo.reviews WHERE review_date >= DATE '2014-01-01' GROUP BY 1 ORDER BY 2 DESC"
    )

    def run() -> dict[str, Any]:
        result = data.query(sql)
        return {"rows_to_page": len(result.frame)}

    return run


def sql_million(lake: Path) -> Callable[[], dict[str, Any]]:
    use_lake(lake)
    from lib import data

    sql = "SELECT review_id, product_category, star_rating, review_headline FROM demo.reviews LIMIT 1000000"
    baseline = current_rss_mb()

    def run() -> dict[str, Any]:
        result = data.query(sql)
        return {
            "rows_to_page": len(result.frame),
            "rows_in_result": result.stats.total_rows,
            "rss_growth_mb": round(peak_rss_mb() - baseline, 1),
        }

    return run


def sql_million_download(lake: Path) -> Callable[[], dict[str, Any]]:
    from lib.backends.local import LocalBackend

    backend = LocalBackend(local_settings(lake))
    sql = "SELECT review_id, product_category, star_rating, review_headline FROM demo.reviews LIMIT 1000000"
    out = lake.parent / "download.csv"
    baseline = current_rss_mb()

    def run() -> dict[str, Any]:
        rows = backend.export(sql, out, "csv")
        size = out.stat().st_size
        out.unlink()
        return {"rows_written": rows, "bytes_written": size, "rss_growth_mb": round(peak_rss_mb() - baseline, 1)}

    return run


def listing(lake: Path) -> Callable[[], dict[str, Any]]:
    use_lake(lake)
    from lib import data

    def run() -> dict[str, Any]:
        page = data.objects("bench/many/")
        return {"entries": len(page.objects) + len(page.folders), "has_next_page": page.next_token is not None}

    return run


def describe_partitions(lake: Path) -> Callable[[], dict[str, Any]]:
    use_lake(lake)
    from lib import data

    def run() -> dict[str, Any]:
        table = data.table("bench", "partitioned")
        page = data.backend().list_partitions("bench", "partitioned", page_size=100)
        return {"columns": len(table.all_columns), "partitions_first_page": len(page.partitions)}

    return run


def automl_hook(function: str) -> Callable[[Path], Callable[[], dict[str, Any]]]:
    """A measurement made by a function of lib/bench/automl_hook.py (the AutoML page's reads), through lib.data."""

    def measurement(lake: Path) -> Callable[[], dict[str, Any]]:
        use_lake(lake)
        import importlib

        read = getattr(importlib.import_module("lib.bench.automl_hook"), function)

        def run() -> dict[str, Any]:
            result: dict[str, Any] = read(lake)
            return result

        return run

    return measurement


MEASUREMENTS: dict[str, Callable[[Path], Callable[[], dict[str, Any]]]] = {
    "sentiment_page": sentiment_page,
    "sentiment_duckdb_hand": duckdb_baseline,
    "sentiment_page_text": sentiment_page_text,
    "sentiment_duckdb_hand_text": lambda lake: duckdb_baseline(lake, HAND_SQL_TEXT),
    "sentiment_pandas_notebook": pandas_baseline,
    "sentiment_sqlite": sqlite_baseline,
    "sql_typical": sql_typical,
    "sql_1m_rows": sql_million,
    "sql_1m_download": sql_million_download,
    "list_50k_first_page": listing,
    "describe_1000_partitions": describe_partitions,
    "automl_finished_job": automl_hook("render_finished_job_data"),
    "automl_review_queue": automl_hook("review_queue_data"),
}
