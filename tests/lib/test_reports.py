"""Reports: the file format, the lake store (snapshots, versions), the guard on every block, pins, the export.

Expected numbers are worked out independently of LakeLens's engine: pyarrow reads the demo lake's Parquet files
and pandas counts them.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import plotly.express as px
import pytest

from lib.backends.aws import AwsBackend
from lib.backends.local import LocalBackend
from lib.errors import NotFound, ReportError
from lib.paths import human_bytes
from lib.reports import render, run
from lib.reports.document import (
    Block,
    append_block,
    block_markdown,
    check_slug,
    parse,
    parse_attributes,
    replace_block_sql,
)
from lib.reports.export import chart_item, table_item
from lib.reports.markdown import to_html
from lib.reports.pins import add_items
from lib.reports.store import ReportStore
from tests.aws_fixtures import column, moto_server, seed_athena_results  # noqa: F401  (fixtures)
from tests.conftest import lake_checksums, read_curated

pytest_plugins = ("tests.aws_fixtures",)

PER_CATEGORY = "SELECT product_category, count(*) AS reviews FROM demo.reviews GROUP BY product_category"

HOSTILE = """---
title: "Quarterly <script>alert('title')</script> review"
author: mallory
---

Hello <script>alert('text')</script> and <img src=x onerror=alert(1)> [click](javascript:alert(2)).

```sql title="Reviews per category" chart=bar x=product_category y=reviews
SELECT product_category, count(*) AS reviews FROM demo.reviews GROUP BY product_category
```

```sql title="Drop the table"
DROP TABLE demo.reviews
```

```sql title="Host file" chart=table
SELECT * FROM read_csv('/etc/passwd')
```

```sql title="<script>alert('block')</script>" chart=metric value=n
SELECT count(*) AS n FROM demo.reviews
```

The end <script>alert('tail')</script>.
"""


def reviews(root: Path) -> pd.DataFrame:
    return read_curated(root)


# -- the file format ---------------------------------------------------------------------------------------------
def test_attributes_quoted_bare_and_escaped() -> None:
    found, problem = parse_attributes(r'title="Share of \"positive\" reviews" chart=pie x=sentiment' + " y='n'")
    assert problem == ""
    assert found == {"title": 'Share of "positive" reviews', "chart": "pie", "x": "sentiment", "y": "n"}
    found, problem = parse_attributes("title='It is' colour=red chart=bar chart=line")
    assert found == {"title": "It is", "chart": "bar"}
    assert "unknown attribute 'colour'" in problem and "'chart' is given twice" in problem


def test_front_matter_body_blocks_and_text_between() -> None:
    report = parse(
        "\n---\ntitle: 'Weekly: health'\ndescription: What changed\nauthor: ana\nextra: ignored\n---\n"
        '# Heading\n\nFirst words.\n\n```sql title="One" chart=line x=month y=n\nSELECT 1 AS n\n```\n'
        "Between.\n```python\n```sql not a block\n```\n~~~sql title=Two\nSELECT 2\n~~~\nAfter all.\n"
    )
    assert (report.title, report.description, report.author) == ("Weekly: health", "What changed", "ana")
    assert [b.title for b in report.blocks] == ["One", "Two"]
    one, two = report.blocks
    assert (one.chart, one.x, one.y, one.sql) == ("line", "month", "n", "SELECT 1 AS n")
    assert one.intro == "# Heading\n\nFirst words."
    assert two.intro.startswith("Between.\n```python") and two.sql == "SELECT 2"  # a python fence is text
    assert report.tail == "After all."
    assert not one.problem and not two.problem


@pytest.mark.parametrize(
    "text, message",
    [
        ("no front matter\n", "starts with front matter"),
        ("---\nauthor: x\n---\n", "has no title"),
        ("---\ntitle: x\n", "front matter is not closed"),
        ("---\ntitle: x\nnot a pair\n---\n", "Line 3 of the front matter"),
        ("---\ntitle: x\n---\ntext\n```sql title=A\nSELECT 1\n", "SQL block opened at line 5 is not closed"),
    ],
)
def test_a_file_that_cannot_be_read_is_one_error(text: str, message: str) -> None:
    with pytest.raises(ReportError, match=message):
        parse(text)


def test_a_bad_block_is_that_blocks_problem_and_the_rest_parses() -> None:
    report = parse(
        "---\ntitle: t\n---\n```sql chart=scatter3d\nSELECT 1\n```\n```sql title=Empty\n-- nothing\n```\n"
        '```sql title="Unclosed quote\nSELECT 1\n```\n```sql title=Good chart=table\nSELECT 1 AS n\n```\n'
    )
    problems = [b.problem for b in report.blocks]
    assert "chart=scatter3d is not a chart" in problems[0]
    assert problems[1] == "the block has no SQL"
    assert "cannot read the attributes" in problems[2]
    assert problems[3] == "" and report.blocks[3].chart == "table"


def test_blocks_written_by_lakelens_read_back_the_same() -> None:
    block = Block(sql="SELECT '```' AS fence", title='A "quoted" title', chart="metric", value="fence", id="pin-1")
    again = parse(append_block("---\ntitle: t\n---\n", block, intro="Above it.")).blocks[0]
    assert (again.sql, again.title, again.chart, again.value, again.id) == (
        block.sql,
        block.title,
        "metric",
        "fence",
        "pin-1",
    )
    assert again.intro == "Above it." and block_markdown(block).startswith("````sql")


def test_replacing_a_blocks_sql_keeps_everything_else() -> None:
    text = "---\ntitle: t\n---\nIntro.\n```sql title=A chart=bar\nSELECT 1\n```\nMiddle.\n```sql title=B\nSELECT 2\n```\nEnd.\n"
    changed = replace_block_sql(text, 1, "SELECT 3\nFROM x")
    assert changed == text.replace("SELECT 2", "SELECT 3\nFROM x")
    with pytest.raises(ReportError, match="no block 3"):
        replace_block_sql(text, 2, "SELECT 1")


@pytest.mark.parametrize("slug", ["../etc", "A", "", "x" * 61, "with space", "-lead"])
def test_report_names_cannot_leave_the_reports_folder(slug: str) -> None:
    with pytest.raises(ReportError):
        check_slug(slug)


# -- Markdown without raw HTML -----------------------------------------------------------------------------------
def test_markdown_shows_html_as_text_and_keeps_its_own_formatting() -> None:
    page = to_html(
        "## Notes <script>x()</script>\n\n**Bold** and *it* `<b>` [ok](https://e.com/?a=1&b=2) [no](javascript:x())"
        "\n\n- one\n- two\n\n> quoted <i>\n\n```\n<script>\n```"
    )
    assert "<script>" not in page and "<i>" not in page and "<b>" not in page
    assert "<h2>Notes &lt;script&gt;x()&lt;/script&gt;</h2>" in page
    assert "<strong>Bold</strong>" in page and "<em>it</em>" in page and "<code>&lt;b&gt;</code>" in page
    assert '<a href="https://e.com/?a=1&amp;b=2"' in page and 'href="javascript' not in page
    assert "<ul><li>one</li><li>two</li></ul>" in page and "<blockquote>" in page
    assert "<pre><code>&lt;script&gt;</code></pre>" in page


# -- the store: reports, snapshots, versions --------------------------------------------------------------------
def test_save_keeps_every_previous_version_and_restore_brings_one_back(fresh_backend: LocalBackend) -> None:
    store = ReportStore(fresh_backend)
    first = "---\ntitle: Health\n---\nv1\n"
    slug = store.create(first)
    assert slug == "health" and store.create(first) == "health-2"  # a second report of the same title
    store.save(slug, first.replace("v1", "v2"))
    store.save(slug, first.replace("v1", "v2"))  # unchanged: no new version
    store.save(slug, first.replace("v1", "v3"))
    versions = store.versions(slug)
    assert [store.version_text(slug, v.id) for v in versions] == [first.replace("v1", "v2"), first]
    assert versions[0].saved_at >= versions[1].saved_at
    store.restore(slug, versions[1].id)
    assert store.text(slug) == first
    assert len(store.versions(slug)) == 3  # the restored-over text is a version too
    root = Path(fresh_backend.root)
    assert (root / "_lakelens" / "reports" / "health.md").read_text() == first
    assert sorted(store.slugs()) == ["health", "health-2"]  # versions and snapshots are not reports
    with pytest.raises(ReportError, match="exists already"):
        store.create(first, slug="health")
    with pytest.raises(ReportError):
        store.save(slug, "no front matter")
    assert store.text(slug) == first  # a refused save changes nothing
    with pytest.raises(NotFound):
        store.load("missing")


def test_refresh_stores_snapshots_that_reopen_without_running(
    fresh_backend: LocalBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = ReportStore(fresh_backend)
    slug = store.create(
        f"---\ntitle: Counts\n---\n```sql title=Per chart=bar x=product_category y=reviews\n{PER_CATEGORY}\n```\n"
    )
    stored = store.load(slug)
    assert stored.snapshot(0) is None and stored.refreshed_at is None
    assert render.view(stored.report.blocks[0], None, "demo").kind == "empty"
    outcome = run.refresh(fresh_backend, store, stored)
    assert (outcome.ran, outcome.failed, outcome.refused) == (1, [], 0)

    def no_queries(*args: object, **kwargs: object) -> None:
        raise AssertionError("opening a report must not run its SQL")

    monkeypatch.setattr(LocalBackend, "run_query", no_queries)
    reopened = store.load(slug)
    snapshot = reopened.snapshot(0)
    assert snapshot is not None and snapshot.engine.startswith("DuckDB") and reopened.refreshed_at is not None
    expected = reviews(Path(fresh_backend.root)).fillna({"product_category": "<none>"})
    expected = expected.groupby("product_category").size()
    got = render.frame_of(snapshot).fillna({"product_category": "<none>"}).set_index("product_category")["reviews"]
    assert got.sort_index().to_dict() == {str(k): int(v) for k, v in expected.sort_index().items()}
    assert snapshot.rows == len(expected) and snapshot.bytes_scanned and snapshot.bytes_scanned > 0
    shown = render.view(reopened.report.blocks[0], snapshot, "demo")
    bars = shown.figure.data  # type: ignore[union-attr]
    assert shown.kind == "chart" and sum(sum(t.y) for t in bars) == len(reviews(Path(fresh_backend.root)))
    slide = render.view(reopened.report.blocks[0], snapshot, "demo", slide=True).figure
    assert slide is not None and slide.layout.height == render.SLIDE_HEIGHT and slide.layout.font.size == 20

    # Editing the block's SQL forgets its snapshot: the old rows are not shown under new SQL.
    store.save(slug, reopened.text.replace("GROUP BY product_category", "GROUP BY 1"))
    assert store.load(slug).snapshot(0) is None


def test_a_hostile_report_renders_safely_and_changes_nothing(fresh_backend: LocalBackend, tmp_path: Path) -> None:
    root = Path(fresh_backend.root)
    store = ReportStore(fresh_backend)
    slug = store.create(HOSTILE)
    before = {k: v for k, v in lake_checksums(root).items() if "reports" not in k}
    stored = store.load(slug)
    outcome = run.refresh(fresh_backend, store, stored)
    assert (outcome.ran, outcome.refused) == (2, 2)
    assert {k: v for k, v in lake_checksums(root).items() if "reports" not in k} == before
    stored = store.load(slug)
    views = [render.view(b, stored.snapshot(i), "demo") for i, b in enumerate(stored.report.blocks)]
    assert [v.kind for v in views] == ["chart", "error", "error", "metric"]
    assert views[1].message.startswith("refused: read-only") and "DROP" in views[1].message
    assert views[2].message.startswith("refused: read-only") and "read_csv" in views[2].message
    assert views[3].value == f"{len(reviews(root)):,}"
    assert stored.snapshot(1) is None and stored.snapshot(2) is None  # refused blocks never ran

    page = render.export_html(stored, str(root), "demo")
    scripts = re.findall(r"<script>(.*?)</script>", page, flags=re.S)
    assert len(scripts) == 2  # plotly.js and the chart: nothing from the report
    assert all("alert(" not in script for script in scripts)
    for where in ("title", "text", "block", "tail"):
        assert f"&lt;script&gt;alert(&#x27;{where}&#x27;)&lt;/script&gt;" in page or (
            f"&lt;script&gt;alert('{where}')&lt;/script&gt;" in page
        ), where
    assert "<img" not in page and 'href="javascript' not in page and "root:x:0" not in page
    assert page.count("refused: read-only") == 2
    assert "break-after: page" in page  # printing gives one block per page


def test_a_block_that_fails_keeps_its_previous_result_and_says_so(fresh_backend: LocalBackend) -> None:
    store = ReportStore(fresh_backend)
    slug = store.create(
        "---\ntitle: t\n---\n```sql title=Total chart=metric\nSELECT count(*) AS n FROM demo.reviews\n```\n"
    )
    run.refresh(fresh_backend, store, store.load(slug))
    fresh_backend.drop_table("demo", "reviews")  # the table goes away between two refreshes
    outcome = run.refresh(fresh_backend, store, store.load(slug))
    assert outcome.ran == 0 and len(outcome.failed) == 1 and outcome.failed[0].startswith("Total:")
    snapshot = store.load(slug).snapshot(0)
    assert snapshot is not None and snapshot.error and snapshot.records == [{"n": 2000}]


# -- pins ---------------------------------------------------------------------------------------------------------
def test_pinned_items_become_blocks_with_their_sql_and_first_snapshot(fresh_backend: LocalBackend) -> None:
    root = Path(fresh_backend.root)
    counts = reviews(root).groupby("product_category").size().rename("reviews").reset_index()
    figure = px.bar(counts, x="product_category", y="reviews", title="Reviews per category")
    chart = chart_item("Reviews per category", "SQL", str(root), figure, sql=PER_CATEGORY, engine="DuckDB", rows=3)
    table = table_item("Leaderboard", "AutoML", str(root), pd.DataFrame({"model": ["lgbm"], "f1": [0.8]}))
    store = ReportStore(fresh_backend)
    slug = add_items(store, [chart], title="Monday")
    assert add_items(store, [table], slug=slug) == slug
    stored = store.load(slug)
    first, second = stored.report.blocks
    assert (first.chart, first.x, first.y, first.sql) == ("bar", "product_category", "reviews", PER_CATEGORY)
    assert first.intro == "*From the SQL page*" and second.chart == "table" and not second.has_sql
    assert json.loads(stored.snapshot(0).figure_json or "{}")["data"][0]["type"] == "bar"  # type: ignore[union-attr]
    assert len(store.versions(slug)) == 1  # adding the second pin kept the first text

    outcome = run.refresh(fresh_backend, store, stored)
    assert (outcome.ran, outcome.kept) == (1, 1)
    stored = store.load(slug)
    assert stored.snapshot(1).records == [{"model": "lgbm", "f1": 0.8}]  # type: ignore[union-attr]
    redrawn = render.view(first, stored.snapshot(0), "demo")  # drawn from the refreshed rows now
    assert redrawn.kind == "chart" and sum(redrawn.figure.data[0].y) == len(reviews(root))  # type: ignore[union-attr]


# -- aws: S3 + Glue + Athena (moto) -------------------------------------------------------------------------------
def test_reports_on_s3_refresh_through_athena(aws_backend: AwsBackend, moto_server: str) -> None:  # noqa: F811
    from tests.aws_fixtures import seed_small_reviews

    seed_small_reviews(aws_backend)
    store = ReportStore(aws_backend)
    text = f"---\ntitle: S3 report\n---\n```sql title=Per chart=bar x=product_category y=reviews\n{PER_CATEGORY}\n```\n"
    slug = store.create(text)
    store.save(slug, text + "\nA note.\n")
    assert [o.key for o in aws_backend.list_objects("_lakelens/reports/").objects] == ["_lakelens/reports/s3-report.md"]
    assert store.version_text(slug, store.versions(slug)[0].id) == text
    stored = store.load(slug)
    sizes = sum(
        o.size
        for p in ("Books", "Toys")
        for o in aws_backend.list_objects(f"curated/reviews/product_category={p}/").objects
    )
    estimate = run.estimate(aws_backend, stored)
    assert (estimate.queries, estimate.bytes, estimate.complete) == (1, sizes, True)
    # 973 B is billed as Athena's 10 MB minimum: $5 per TB * 10 MB = $0.00005.
    assert estimate.describe().startswith(
        f"Refreshing runs 1 query that scans about {human_bytes(sizes)}: about $0.00005"
    )
    seed_athena_results(
        moto_server,
        [
            (
                [column("product_category", "varchar"), column("reviews", "bigint")],
                [["product_category", "reviews"], ["Books", "3"], ["Toys", "2"]],
            )
        ],
    )
    assert run.refresh(aws_backend, store, stored).ran == 1
    snapshot = store.load(slug).snapshot(0)
    assert snapshot is not None and snapshot.engine.startswith("Athena") and snapshot.query_id
    assert render.frame_of(snapshot).to_dict("records") == [
        {"product_category": "Books", "reviews": 3},
        {"product_category": "Toys", "reviews": 2},
    ]
    assert [s.slug for s in store.list()] == [slug] and store.list()[0].refreshed_at is not None


def test_a_snapshot_keeps_max_rows_and_says_how_many_there_were(fresh_backend: LocalBackend) -> None:
    from tests.conftest import local_settings

    backend = LocalBackend(local_settings(Path(fresh_backend.root), LAKELENS_MAX_ROWS="5"))
    store = ReportStore(backend)
    slug = store.create("---\ntitle: t\n---\n```sql title=All chart=table\nSELECT review_id FROM demo.reviews\n```\n")
    run.refresh(backend, store, store.load(slug))
    snapshot = store.load(slug).snapshot(0)
    total = len(reviews(Path(fresh_backend.root)))
    assert snapshot is not None and len(snapshot.records or []) == 5 and snapshot.truncated
    assert snapshot.rows == total
    assert f"{total:,} rows (first 5 kept: raise LAKELENS_MAX_ROWS to keep more)" in render.stats_line(snapshot)
    backend.close()


def test_a_pinned_chart_drawn_from_its_rows_after_arithmetic_refreshes_as_a_table() -> None:
    from lib.reports.pins import block_from_item

    counts = pd.DataFrame({"sentiment": ["negative", "positive"], "reviews": [3, 9]})
    plain = px.bar(counts, x="sentiment", y="reviews", color="sentiment", labels={"reviews": "reviews (count)"})
    shares = px.bar(counts.assign(share=[25.0, 75.0]), x="share", y="sentiment", orientation="h")
    shares.update_xaxes(title_text="share of the reviews (%)")
    sql = "SELECT sentiment, count(*) AS reviews FROM demo.reviews GROUP BY 1"
    first, _, _ = block_from_item(chart_item("Reviews", "Sentiment", "/lake", plain, sql=sql))
    second, snapshot, _ = block_from_item(chart_item("Shares", "Sentiment", "/lake", shares, sql=sql))
    assert (first.chart, first.x, first.y, first.color) == ("bar", "sentiment", "reviews", "sentiment")
    assert (second.chart, second.x, second.y) == ("table", None, None)
    assert render.view(second, snapshot, "demo").kind == "chart"  # the pinned figure, until a refresh
