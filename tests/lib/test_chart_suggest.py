"""Chart suggestions from column types, aggregation, titles and the URL form of a chart."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from lib.charts import ChartSpec, build_figure, decode, encode, prepare, suggest, title_for, validate
from lib.errors import LakeLensError


def test_category_and_number_is_a_bar() -> None:
    frame = pd.DataFrame({"product_category": ["Books", "PC"], "n": [3, 5]})
    assert suggest(frame) == ChartSpec("bar", "product_category", "n", None, "none")


def test_time_and_number_is_a_line() -> None:
    frame = pd.DataFrame({"day": pd.to_datetime(["2024-01-01", "2024-01-02"]), "n": [1, 2]})
    assert suggest(frame) == ChartSpec("line", "day", "n", None, "none")
    dates = pd.DataFrame({"review_date": [date(2024, 1, 1), date(2024, 1, 2)], "n": [1, 2]})
    assert suggest(dates).kind == "line"  # type: ignore[union-attr]


def test_one_number_is_a_histogram() -> None:
    assert suggest(pd.DataFrame({"star_rating": [1, 5, 4]})) == ChartSpec(
        "histogram", "star_rating", None, None, "count"
    )


def test_repeated_categories_are_summed_and_second_category_is_the_colour() -> None:
    frame = pd.DataFrame({"cat": ["a", "a", "b"], "kind": ["x", "y", "x"], "n": [1, 2, 3]})
    assert suggest(frame) == ChartSpec("bar", "cat", "n", "kind", "none")
    repeated = pd.DataFrame({"cat": ["a", "a", "b"], "n": [1, 2, 3]})
    spec = suggest(repeated)
    assert spec == ChartSpec("bar", "cat", "n", None, "sum")
    assert prepare(repeated, spec).set_index("cat")["n"].to_dict() == {"a": 3, "b": 3}  # 1 + 2 by hand


def test_sentiment_column_becomes_named_colours() -> None:
    frame = pd.DataFrame({"sentiment": [-1, 0, 1], "count_sentiment": [5, 2, 9]})
    spec = suggest(frame)
    assert spec == ChartSpec("bar", "sentiment", "count_sentiment", "sentiment", "none")
    figure = build_figure(frame, spec)
    assert [trace.name for trace in figure.data] == ["negative", "neutral", "positive"]


def test_mean_and_count_aggregations() -> None:
    frame = pd.DataFrame({"cat": ["a", "a", "b"], "v": [1.0, 3.0, 5.0]})
    assert prepare(frame, ChartSpec("bar", "cat", "v", None, "mean")).set_index("cat")["v"].to_dict() == {
        "a": 2.0,
        "b": 5.0,
    }
    counts = prepare(frame, ChartSpec("bar", "cat", None, None, "count"))
    assert counts.set_index("cat")["count"].to_dict() == {"a": 2, "b": 1}
    with pytest.raises(LakeLensError, match="not a number"):
        prepare(frame, ChartSpec("bar", "v", "cat", None, "sum"))


def test_titles_state_the_subject() -> None:
    assert title_for(ChartSpec("bar", "product_category", "count_reviews")) == "Count reviews by product category"
    assert title_for(ChartSpec("line", "month", "n", "sentiment", "mean")) == "Average n by month and sentiment"
    assert title_for(ChartSpec("histogram", "num_words")) == "Distribution of num words"


def test_nothing_to_chart() -> None:
    assert suggest(pd.DataFrame()) is None
    assert suggest(pd.DataFrame({"blob": [b"x"]})) is None


def test_url_round_trip_and_damaged_links() -> None:
    spec = ChartSpec("line", "review_date", "n", "product_category", "sum")
    assert decode(encode(spec)) == spec
    assert "=" not in encode(spec) and "+" not in encode(spec) and "/" not in encode(spec)
    for damaged in ("", "not-base64!", encode(spec)[:-4], "eyJraW5kIjoicGllIiwieCI6ImEifQ"):
        assert decode(damaged) is None


def test_a_linked_chart_must_fit_the_result() -> None:
    frame = pd.DataFrame({"a": ["x"], "n": [1]})
    assert validate(ChartSpec("bar", "a", "n"), frame) == ChartSpec("bar", "a", "n")
    assert validate(ChartSpec("bar", "missing", "n"), frame) is None
