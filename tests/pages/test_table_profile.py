"""Column statistics in the Lake page's Catalog (AppTest): computed on click, stored with the table with their
time, top values as links to the SQL page filtered on them; on aws the scan estimate comes first.

Expected values are counted with pandas on the demo lake's Parquet files.
"""

from __future__ import annotations

import json

import pyarrow.dataset as ds

from lib.backends.aws import AwsBackend
from lib.backends.local import LocalBackend
from tests.aws_fixtures import column, seed_athena_results
from tests.pages.test_lake_page import (  # noqa: F401  (fixtures)
    aws_backend,
    aws_lake,
    aws_settings,
    grid,
    lake_page,
    moto_server,
    no_errors,
    page_links,
    writable_lake,
)


def test_catalog_statistics_are_computed_stored_and_link_to_filtered_sql(writable_lake: LocalBackend) -> None:  # noqa: F811
    frame = (
        ds.dataset(writable_lake.root / "curated/reviews", format="parquet", partitioning="hive").to_table().to_pandas()
    )
    at = lake_page(tab="Catalog", table="demo.reviews")
    no_errors(at)
    assert any("No statistics yet" in c.value for c in at.caption)
    at.button(key="lake.profile.demo.reviews").click().run()
    no_errors(at)
    stats = grid(at, "Histogram").set_index("Column")
    assert stats.loc["review_body", "Nulls"] == int(frame.review_body.isna().sum())
    assert stats.loc["verified_purchase", "Range / lengths / counts"] == (
        f"true {int(frame.verified_purchase.sum()):,} · false {int((~frame.verified_purchase).sum()):,}"
    )
    stored = json.loads((writable_lake.root / "_lakelens/catalog/demo/reviews.statistics.json").read_text())
    assert stored["rows"] == len(frame) and stored["computed_at"]
    assert any(f"{len(frame):,} rows · computed" in c.value for c in at.caption)
    counts = frame.product_category.value_counts()
    top = counts.index[0]
    links = page_links(at)
    label = f"{top} ({counts.iloc[0]:,})"
    assert links[label]["page"] == links["Query this table"]["page"]  # the SQL page
    assert f"product_category = '{top}'" in links[label]["sql"]
    # A new session sees the stored statistics without recomputing them.
    again = lake_page(tab="Catalog", table="demo.reviews")
    assert grid(again, "Histogram")["Column"].tolist()[-1] == "product_category"


def test_aws_catalog_statistics_show_the_scan_first(aws_lake: AwsBackend, moto_server: str) -> None:  # noqa: F811
    at = lake_page(tab="Catalog", table="shop.clothing")
    no_errors(at)
    assert any("Computing them scans about" in c.value and "on Athena" in c.value for c in at.caption)
    table = aws_lake.get_table("shop", "clothing")
    names = [c.name for c in table.all_columns]
    first = [column("rows", "bigint")]
    values = ["4"]
    for index, col in enumerate(table.all_columns):
        first.append(column(f"nn{index}", "bigint"))
        values.append("4")
        kind = "text" if col.type == "string" else "number"
        first.append(column(f"d{index}", "bigint"))
        values.append("3")
        if kind == "number":
            first += [
                column(f"min{index}", "bigint"),
                column(f"max{index}", "bigint"),
                column(f"mean{index}", "double"),
            ]
            values += ["1", "5", "3.0"]
        else:
            first += [
                column(f"minlen{index}", "bigint"),
                column(f"maxlen{index}", "bigint"),
                column(f"avglen{index}", "double"),
            ]
            values += ["2", "9", "5.5"]
    seed_athena_results(moto_server, [(first, [[c["Name"] for c in first], values])])
    at.button(key="lake.profile.shop.clothing").click().run()
    no_errors(at)
    stats = grid(at, "Histogram")
    assert stats["Column"].tolist() == names and set(stats["Distinct"]) == {3}
    assert aws_lake.column_statistics("shop", "clothing")["rows"] == 4  # type: ignore[index]
    assert any("kept in the lake" in c.value for c in at.caption)
