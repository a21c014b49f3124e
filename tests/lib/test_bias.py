"""Clarify's pre-training metrics against values worked out by hand on a ten-review table.

The table (category, sentiment):

    Books: +1, +1, +1, 0, -1      (5 reviews, 3 positive)
    Toys:  +1, -1, -1             (3 reviews, 1 positive)
    Music: +1, 0                  (2 reviews, 1 positive)

Each category in turn is the sensitive facet d; the other seven or five reviews are facet a. With positive
sentiment (+1) as the label of interest, Clarify's report compares P(positive) / P(not positive).
"""

from __future__ import annotations

import math

import pandas as pd
import pytest

from lib.sentiment import bias

CELLS = pd.DataFrame(
    {
        "category": ["Books", "Books", "Books", "Toys", "Toys", "Music", "Music"],
        "sentiment": [1, 0, -1, 1, -1, 1, 0],
        "reviews": [3, 1, 1, 1, 2, 1, 1],
    }
)

# Books as d: n_d = 5, n_a = 5 (Toys + Music).
#   CI  = (5 - 5) / 10 = 0
#   q_d = 3/5 = 0.6, q_a = (1 + 1)/5 = 0.4, DPL = 0.4 - 0.6 = -0.2
#   P_a = (0.4, 0.6), P_d = (0.6, 0.4)  [positive, not positive]
#   KL  = 0.4 ln(0.4/0.6) + 0.6 ln(0.6/0.4) = 0.2 ln 1.5 = 0.2 * 0.4054651 = 0.0810930
#   JS: P = (0.5, 0.5); KL(P_a‖P) = 0.4 ln 0.8 + 0.6 ln 1.2 = -0.0892574 + 0.1093929 = 0.0201355,
#       KL(P_d‖P) is the same by symmetry, so JS = 0.0201355
#   LP  = sqrt(0.2² + 0.2²) = 0.2828427;  TVD = (0.2 + 0.2)/2 = 0.2;  KS = 0.2
BOOKS = {"CI": 0.0, "DPL": -0.2, "KL": 0.0810930, "JS": 0.0201355, "LP": 0.2828427, "TVD": 0.2, "KS": 0.2}

# Toys as d: n_d = 3, n_a = 7.
#   CI  = (7 - 3) / 10 = 0.4
#   q_d = 1/3, q_a = (3 + 1)/7 = 4/7, DPL = 4/7 - 1/3 = 5/21 = 0.2380952
#   P_a = (4/7, 3/7), P_d = (1/3, 2/3)
#   KL  = 4/7 ln(12/7) + 3/7 ln(9/14) = 4/7 * 0.5389965 + 3/7 * (-0.4418328) = 0.3079980 - 0.1893569 = 0.1186411
#   JS: P = (19/42, 23/42)
#       KL(P_a‖P) = 4/7 ln(24/19) + 3/7 ln(18/23) = 4/7 * 0.2336149 + 3/7 * (-0.2451225) = 0.0284417
#       KL(P_d‖P) = 1/3 ln(14/19) + 2/3 ln(28/23) = 1/3 * (-0.3053816) + 2/3 * 0.1967103 = 0.0293463
#       JS = (0.0284417 + 0.0293463)/2 = 0.0288940
#   LP  = sqrt(2) * 5/21 = 0.3367175;  TVD = 5/21 = 0.2380952;  KS = 5/21 = 0.2380952
TOYS = {
    "CI": 0.4,
    "DPL": 0.2380952,
    "KL": 0.1186411,
    "JS": 0.0288940,
    "LP": 0.3367175,
    "TVD": 0.2380952,
    "KS": 0.2380952,
}

# Music as d: n_d = 2, n_a = 8. CI = 6/10 = 0.6; q_d = 1/2 = q_a = 4/8, so DPL and every distance are 0.
MUSIC = {"CI": 0.6, "DPL": 0.0, "KL": 0.0, "JS": 0.0, "LP": 0.0, "TVD": 0.0, "KS": 0.0}


def _row(frame: pd.DataFrame, facet: str) -> pd.Series:
    return frame.set_index("facet").loc[facet]


@pytest.mark.parametrize("facet, expected", [("Books", BOOKS), ("Toys", TOYS), ("Music", MUSIC)])
def test_every_metric_matches_the_hand_computation(facet: str, expected: dict[str, float]) -> None:
    row = _row(bias.facet_metrics(CELLS, 1), facet)
    for metric in bias.METRICS:
        assert row[metric] == pytest.approx(expected[metric], abs=1e-6), metric


def test_reviews_shares_and_positive_share_per_facet() -> None:
    frame = bias.facet_metrics(CELLS, 1)
    assert list(frame["facet"]) == ["Books", "Music", "Toys"]
    assert list(frame["reviews"]) == [5, 2, 3]
    assert list(frame["share"]) == pytest.approx([0.5, 0.2, 0.3])
    assert list(frame["positive_share"]) == pytest.approx([0.6, 0.5, 1 / 3])


def test_full_label_distribution_for_three_classes() -> None:
    # Books as d, all three sentiment values: P_d = (-1: 0.2, 0: 0.2, +1: 0.6), P_a = (0.4, 0.2, 0.4)
    #   KL  = 0.4 ln 2 + 0.2 ln 1 + 0.4 ln(2/3) = 0.2772589 - 0.1621860 = 0.1150728
    #   JS: P = (0.3, 0.2, 0.5); KL(P_a‖P) = 0.4 ln(4/3) + 0.4 ln 0.8 = 0.1150728 - 0.0892574 = 0.0258154
    #       KL(P_d‖P) = 0.2 ln(2/3) + 0.6 ln 1.2 = -0.0810930 + 0.1093929 = 0.0282999; JS = 0.0270577
    #   LP  = sqrt(0.2² + 0 + 0.2²) = 0.2828427;  TVD = 0.2;  KS = 0.2
    row = _row(bias.facet_metrics(CELLS, 1, label_space="all"), "Books")
    expected = {"CI": 0.0, "DPL": -0.2, "KL": 0.1150728, "JS": 0.0270577, "LP": 0.2828427, "TVD": 0.2, "KS": 0.2}
    for metric in bias.METRICS:
        assert row[metric] == pytest.approx(expected[metric], abs=1e-6), metric


def test_a_label_missing_from_the_facet_makes_kl_infinite_and_the_rest_finite() -> None:
    # Music has no -1; the rest (Books + Toys, 8 reviews) has -1: 3, 0: 1, +1: 4 -> P_a = (0.375, 0.125, 0.5),
    # P_d = (0, 0.5, 0.5). KL = +inf (P_a(-1) > 0 = P_d(-1)); TVD = (0.375 + 0.375 + 0)/2 = 0.375;
    # KS = 0.375; LP = sqrt(2 * 0.375²) = 0.5303301;
    # JS: P = (0.1875, 0.3125, 0.5); KL(P_a‖P) = 0.375 ln 2 + 0.125 ln 0.4 = 0.2599302 - 0.1145363 = 0.1453939,
    #     KL(P_d‖P) = 0.5 ln 1.6 = 0.2350018; JS = 0.1901979
    row = _row(bias.facet_metrics(CELLS, 1, label_space="all"), "Music")
    assert math.isinf(row["KL"]) and row["KL"] > 0
    assert row["TVD"] == pytest.approx(0.375)
    assert row["KS"] == pytest.approx(0.375)
    assert row["LP"] == pytest.approx(0.5303301, abs=1e-6)
    assert row["JS"] == pytest.approx(0.1901979, abs=1e-6)
    assert "never in Music" in bias.reading("KL", row.to_dict() | {"facet": "Music"})


def test_rows_without_facet_or_label_are_left_out() -> None:
    noisy = pd.concat(
        [CELLS, pd.DataFrame({"category": [None, "Books"], "sentiment": [1, None], "reviews": [50, 7]})],
        ignore_index=True,
    )
    pd.testing.assert_frame_equal(bias.facet_metrics(noisy, 1), bias.facet_metrics(CELLS, 1))


def test_a_single_category_has_no_facet_a() -> None:
    only = CELLS[CELLS["category"] == "Books"]
    row = bias.facet_metrics(only, 1).iloc[0]
    assert row["CI"] == pytest.approx(-1.0)  # (0 - 5) / 5
    assert all(math.isnan(row[m]) for m in ("DPL", "KL", "JS", "LP", "TVD", "KS"))
    assert "Not defined" in bias.reading("DPL", row.to_dict())


def test_string_and_boolean_labels() -> None:
    as_text = CELLS.assign(sentiment=CELLS["sentiment"].map({1: "positive", 0: "neutral", -1: "negative"}))
    pd.testing.assert_series_equal(bias.facet_metrics(as_text, "positive")["DPL"], bias.facet_metrics(CELLS, 1)["DPL"])
    as_bool = CELLS.assign(sentiment=CELLS["sentiment"] == 1)
    assert _row(bias.facet_metrics(as_bool, True), "Toys")["DPL"] == pytest.approx(5 / 21)
    # 1 is not True: a boolean label only matches a boolean value of interest
    assert _row(bias.facet_metrics(as_bool, 1), "Toys")["positive_share"] == 0


def test_readings_say_what_the_numbers_mean() -> None:
    frame = bias.facet_metrics(CELLS, 1)
    toys = _row(frame, "Toys").to_dict() | {"facet": "Toys"}
    assert bias.reading("CI", toys) == "Toys holds 30.0% of the reviews: fewer reviews than the rest."
    assert bias.reading("DPL", toys) == (
        "33.3% of Toys reviews are positive against 57.1% in the rest: fewer positive reviews than elsewhere."
    )
    books = _row(frame, "Books").to_dict() | {"facet": "Books"}
    assert "about as many reviews" in bias.reading("CI", books)
    assert "more positive reviews" in bias.reading("DPL", books)
    for metric in bias.METRICS:
        assert bias.reading(metric, toys)


def test_balance_plan_downsamples_every_cell_to_the_smallest() -> None:
    plan = bias.balance_plan(CELLS)
    # non-empty cells: Books(+1: 3, 0: 1, -1: 1), Toys(+1: 1, -1: 2), Music(+1: 1, 0: 1) -> smallest 1, 7 cells
    assert plan.cell_size == 1
    assert plan.rows_before == 10 and plan.rows_after == 7
    assert set(plan.after["reviews"]) == {1}
    comparison = bias.before_after(plan, 1).set_index("metric")
    # after: Books (1, 1, 1) -> q_d = 1/3; Toys (1, 1) -> 1/2; Music (1, 1) -> 1/2.
    # CI after for Books = (4 - 3)/7 = 1/7, for Toys and Music = (5 - 2)/7 = 3/7: largest |CI| = 3/7
    assert comparison.loc["CI", "largest after"] == pytest.approx(3 / 7)
    assert comparison.loc["CI", "largest before"] == pytest.approx(0.6)
    # DPL after, Books as d: q_a = 2/4 = 0.5, q_d = 1/3 -> 1/6; Toys as d: q_a = (1 + 1)/5 = 0.4, q_d = 0.5 -> -0.1
    assert comparison.loc["DPL", "largest after"] == pytest.approx(1 / 6)


def test_shade_grows_with_magnitude_and_caps() -> None:
    assert bias.shade("CI", 0.0) == 0.0
    assert bias.shade("CI", -0.5) == pytest.approx(0.5)
    assert bias.shade("DPL", 0.9) == 1.0
    assert bias.shade("KL", float("nan")) == 0.0
