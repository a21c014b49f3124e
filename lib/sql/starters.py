"""Ready-made SQL for the SQL page: a table's first rows and the course's week-1 questions."""

from __future__ import annotations

from dataclasses import dataclass

from sqlglot import exp

from lib.errors import SqlError
from lib.sql.guard import _TABLE_NAME


def starter_query(database: str, table: str, limit: int = 100) -> str:
    """``SELECT * FROM db.table LIMIT n`` built with sqlglot, names quoted where needed."""
    query = exp.select("*").from_(exp.table_(table, db=database)).limit(limit)
    return query.sql(dialect="athena")


@dataclass(frozen=True)
class StarterQuery:
    """A ready-made question for the SQL page's starter menu."""

    title: str
    sql: str


# The course's mapping from star ratings to sentiment: 1-2 stars negative (-1), 3 neutral (0), 4-5 positive (+1).
SENTIMENT_CASE = "CASE WHEN star_rating <= 2 THEN -1 WHEN star_rating = 3 THEN 0 WHEN star_rating >= 4 THEN 1 END"


def week1_queries(table: str = "demo.reviews") -> list[StarterQuery]:
    """The *Practical Data Science on AWS* week-1 questions, written in Athena SQL for ``table``.

    ``table`` must be a catalog name (``database.table``) with the demo lake's columns; it is checked, never
    pasted as free text.
    """
    database, _, name = table.partition(".")
    if not name or not _TABLE_NAME.fullmatch(database) or not _TABLE_NAME.fullmatch(name):
        raise SqlError(f"{table!r} is not a database.table name.")
    labelled = (
        f"WITH labelled AS (\n    SELECT product_category, review_body,\n           {SENTIMENT_CASE} AS sentiment\n"
        f"    FROM {table}\n)\n"
    )
    return [
        StarterQuery(
            "Sentiment counts",
            "-- How many reviews are negative (-1), neutral (0) and positive (+1)?\n"
            + labelled
            + "SELECT sentiment, COUNT(sentiment) AS count_sentiment\nFROM labelled\nGROUP BY sentiment\n"
            "ORDER BY sentiment",
        ),
        StarterQuery(
            "Reviews per category",
            "-- Which product categories have the most reviews?\n"
            f"SELECT product_category, COUNT(*) AS count_reviews\nFROM {table}\nGROUP BY product_category\n"
            "ORDER BY count_reviews DESC, product_category",
        ),
        StarterQuery(
            "Average sentiment per category",
            "-- Which product categories are rated highest by average sentiment?\n"
            + labelled
            + "SELECT product_category, AVG(sentiment) AS avg_sentiment\nFROM labelled\nGROUP BY product_category\n"
            "ORDER BY avg_sentiment DESC, product_category",
        ),
        StarterQuery(
            "Sentiment share per category",
            "-- What share of each category's reviews is negative, neutral and positive?\n"
            + labelled
            + ", counts AS (\n    SELECT product_category, sentiment, COUNT(*) AS count_reviews\n    FROM labelled\n"
            "    GROUP BY product_category, sentiment\n)\n"
            "SELECT product_category, sentiment, count_reviews,\n"
            "       ROUND(100.0 * count_reviews / SUM(count_reviews) OVER (PARTITION BY product_category), 2)"
            " AS percent_of_category\nFROM counts\nORDER BY product_category, sentiment",
        ),
        StarterQuery(
            "Words per review",
            "-- How long are the reviews? Number of words per review, and how many reviews have that many.\n"
            "SELECT num_words, COUNT(*) AS count_reviews\nFROM (\n"
            f"    SELECT CARDINALITY(SPLIT(review_body, ' ')) AS num_words\n    FROM {table}\n)\n"
            "GROUP BY num_words\nORDER BY num_words",
        ),
    ]
