"""Athena SQL through the guard, sqlglot and DuckDB, checked against pandas over the same data.

The fixture lake is small on purpose (24 orders, 5 customers, 8 events) so every expected value is computed
here in plain pandas/Python from the frames that were written, never from DuckDB. Three formats are covered:
Parquet partitioned Hive-style by ``region``, CSV with a header and JSON lines.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from lib.backends.local import LocalBackend
from lib.catalog import LAKE_SCHEME, Column, delimited_table, json_table, parquet_table
from lib.errors import LakeLensError, SqlError, TableNotFound
from tests.conftest import local_settings

CUSTOMERS = ["alice_smith", "bob_jones", "carol_white", "dave_brown", "erin_black"]
REGIONS = ["eu", "us", "apac"]
NOTES = [None, "fast delivery 3 boxes", "left at door", "signed by neighbour 12", "fast and careful"]


def make_orders() -> pd.DataFrame:
    rows = []
    start = datetime(2024, 1, 5, 10, 30)
    for i in range(24):
        ordered = start + timedelta(hours=37 * i)
        rows.append(
            {
                "order_id": i + 1,
                "customer": CUSTOMERS[(i * 3) % 5],
                "region": REGIONS[i % 3],
                "amount": round(10 + (i * 17 % 23) * 7.25 + i * 0.01, 2) + (500.0 if i == 13 else 0.0),  # no ties
                "qty": 1 + i % 5,
                "ordered_at": ordered,
                "ship_date": (ordered + timedelta(days=2)).date(),
                "note": NOTES[i % 5],
                "epoch": int(ordered.replace(tzinfo=UTC).timestamp()),
            }
        )
    return pd.DataFrame(rows)


def make_customers() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer": CUSTOMERS,
            "country": ["FR", "US", "US", "DE", "FR"],
            "signup": ["2023-03-01", "2023-07-15", "2022-11-30", "2024-01-02", "2023-12-24"],
        }
    )


def make_events() -> pd.DataFrame:
    kinds = ["view", "click", "view", "buy", "view", "click", "view", "buy"]
    users = ["u1", "u2", "u1", "u3", "u2", "u2", "u4", "u1"]
    return pd.DataFrame(
        {
            "id": list(range(1, 9)),
            "kind": kinds,
            "payload": [json.dumps({"user": u, "n": i}) for i, u in enumerate(users)],
            "ts": [f"2024-02-0{1 + i % 7}T0{i}:15:00Z" for i in range(8)],
        }
    )


@dataclass(frozen=True)
class Data:
    orders: pd.DataFrame
    customers: pd.DataFrame
    events: pd.DataFrame


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory) -> tuple[LocalBackend, Data]:
    root = tmp_path_factory.mktemp("transpile") / "lake"
    backend = LocalBackend(local_settings(root, LAKELENS_DATABASE="shop"))
    orders, customers, events = make_orders(), make_customers(), make_events()
    for region in REGIONS:
        part = orders[orders.region == region].drop(columns=["region"])
        folder = root / "data" / "orders" / f"region={region}"
        folder.mkdir(parents=True)
        schema = pa.schema(
            [
                ("order_id", pa.int64()),
                ("customer", pa.string()),
                ("amount", pa.float64()),
                ("qty", pa.int32()),
                ("ordered_at", pa.timestamp("us")),
                ("ship_date", pa.date32()),
                ("note", pa.string()),
                ("epoch", pa.int64()),
            ]
        )
        pq.write_table(pa.Table.from_pandas(part, schema=schema, preserve_index=False), folder / "part-0.parquet")
    (root / "data" / "customers").mkdir(parents=True)
    customers.to_csv(root / "data" / "customers" / "customers.csv", index=False)
    (root / "data" / "events").mkdir(parents=True)
    events.to_json(root / "data" / "events" / "events.json", orient="records", lines=True)
    backend.register_table(
        parquet_table(
            "shop",
            "orders",
            [
                Column("order_id", "bigint"),
                Column("customer", "string"),
                Column("amount", "double"),
                Column("qty", "int"),
                Column("ordered_at", "timestamp"),
                Column("ship_date", "date"),
                Column("note", "string"),
                Column("epoch", "bigint"),
            ],
            LAKE_SCHEME + "data/orders/",
            partition_keys=[Column("region", "string")],
        )
    )
    backend.register_table(
        delimited_table(
            "shop",
            "customers",
            [Column("customer", "string"), Column("country", "string"), Column("signup", "string")],
            LAKE_SCHEME + "data/customers/",
            delimiter=",",
            header=True,
        )
    )
    backend.register_table(
        json_table(
            "shop",
            "events",
            [Column("id", "int"), Column("kind", "string"), Column("payload", "string"), Column("ts", "string")],
            LAKE_SCHEME + "data/events/",
        )
    )
    yield backend, Data(orders, customers, events)
    backend.close()


Rows = list[tuple[Any, ...]]


@dataclass(frozen=True)
class Case:
    id: str
    sql: str
    expected: Callable[[Data], Rows]
    ordered: bool = True


def rows(frame: pd.DataFrame) -> Rows:
    return [tuple(row) for row in frame.itertuples(index=False, name=None)]


def _o(d: Data) -> pd.DataFrame:
    return d.orders


def _word_counts(d: Data) -> Rows:
    counts: dict[str, int] = {}
    for note in d.orders.note.dropna():
        for word in note.split(" "):
            counts[word] = counts.get(word, 0) + 1
    return sorted(counts.items())


def _top_per_region(d: Data) -> Rows:
    out = []
    for region in sorted(REGIONS):
        part = d.orders[d.orders.region == region].sort_values("amount", ascending=False)
        out.append((region, int(part.iloc[0].order_id)))
    return out


def _running_total(d: Data) -> Rows:
    part = d.orders[d.orders.region == "eu"].sort_values("order_id")
    return list(zip(part.order_id, part.amount.cumsum(), strict=True))


def _by_country(d: Data) -> Rows:
    merged = d.orders.merge(d.customers, on="customer")
    return rows(merged.groupby("country").amount.sum().round(2).reset_index().sort_values("country"))


CASES = [
    Case("count", "SELECT count(*) FROM shop.orders", lambda d: [(len(d.orders),)]),
    Case(
        "group by partition key",
        "SELECT region, count(*) AS n FROM shop.orders GROUP BY region ORDER BY region",
        lambda d: rows(d.orders.groupby("region").size().reset_index().sort_values("region")),
    ),
    Case("three-part name", "SELECT count(*) FROM awsdatacatalog.shop.orders", lambda d: [(len(d.orders),)]),
    Case(
        "quoted three-part name",
        'SELECT count(*) FROM "awsdatacatalog"."shop"."orders"',
        lambda d: [(len(d.orders),)],
    ),
    Case("default database", "SELECT count(*) FROM orders", lambda d: [(len(d.orders),)]),
    Case(
        "sum per customer",
        "SELECT customer, round(sum(amount), 2) AS total FROM shop.orders GROUP BY customer ORDER BY customer",
        lambda d: rows(d.orders.groupby("customer").amount.sum().round(2).reset_index().sort_values("customer")),
    ),
    Case(
        "where equality and comparison",
        "SELECT order_id FROM shop.orders WHERE region = 'eu' AND amount > 50 ORDER BY order_id",
        lambda d: [(i,) for i in _o(d)[(_o(d).region == "eu") & (_o(d).amount > 50)].order_id],
    ),
    Case(
        "where in",
        "SELECT count(*) FROM shop.orders WHERE region IN ('eu', 'us')",
        lambda d: [(int(d.orders.region.isin(["eu", "us"]).sum()),)],
    ),
    Case(
        "approx_distinct",
        "SELECT approx_distinct(customer) FROM shop.orders",
        lambda d: [(d.orders.customer.nunique(),)],
    ),
    Case(
        "count_if", "SELECT count_if(amount > 100) FROM shop.orders", lambda d: [(int((d.orders.amount > 100).sum()),)]
    ),
    Case(
        "date_trunc month",
        "SELECT date_trunc('month', ordered_at) AS m, count(*) FROM shop.orders GROUP BY 1 ORDER BY 1",
        lambda d: rows(
            d.orders.groupby(d.orders.ordered_at.dt.to_period("M").dt.to_timestamp())
            .size()
            .reset_index()
            .sort_values("ordered_at")
        ),
    ),
    Case(
        "date_format",
        "SELECT date_format(ordered_at, '%Y-%m') AS m, count(*) FROM shop.orders GROUP BY 1 ORDER BY 1",
        lambda d: sorted(d.orders.ordered_at.dt.strftime("%Y-%m").value_counts().items()),
    ),
    Case(
        "format_datetime (Joda pattern)",
        "SELECT format_datetime(ordered_at, 'yyyy-MM-dd HH:mm') FROM shop.orders ORDER BY order_id",
        lambda d: [(t.strftime("%Y-%m-%d %H:%M"),) for t in d.orders.ordered_at],
    ),
    Case(
        "format_datetime with quoted text",
        "SELECT format_datetime(ordered_at, 'dd MMM yyyy ''at'' h a') FROM shop.orders WHERE order_id = 2",
        lambda d: [
            (d.orders.ordered_at[1].strftime("%d %b %Y at ") + d.orders.ordered_at[1].strftime("%I %p").lstrip("0"),)
        ],
    ),
    Case(
        "date_diff",
        "SELECT order_id, date_diff('day', DATE '2024-01-01', ship_date) FROM shop.orders ORDER BY order_id",
        lambda d: [
            (i, (s - date(2024, 1, 1)).days) for i, s in zip(d.orders.order_id, d.orders.ship_date, strict=True)
        ],
    ),
    Case(
        # Locally date_add on a DATE gives a TIMESTAMP at midnight (DuckDB's date + interval); Athena gives a
        # DATE. The CAST makes the query portable, and the values are the same.
        "date_add",
        "SELECT CAST(date_add('day', 7, ship_date) AS date) FROM shop.orders ORDER BY order_id LIMIT 3",
        lambda d: [(s + timedelta(days=7),) for s in d.orders.ship_date[:3]],
    ),
    Case(
        "year and month",
        "SELECT year(ordered_at) AS y, month(ordered_at) AS m, count(*) FROM shop.orders GROUP BY 1, 2 ORDER BY 1, 2",
        lambda d: sorted(
            ((y, m), n)
            for (y, m), n in d.orders.groupby([d.orders.ordered_at.dt.year, d.orders.ordered_at.dt.month])
            .size()
            .items()
        ),
    ),
    Case(
        "day_of_week",
        "SELECT order_id, day_of_week(ship_date) FROM shop.orders ORDER BY order_id",
        lambda d: [(i, s.isoweekday()) for i, s in zip(d.orders.order_id, d.orders.ship_date, strict=True)],
    ),
    Case(
        "cast to varchar",
        "SELECT CAST(qty AS varchar) || 'x' FROM shop.orders ORDER BY order_id LIMIT 5",
        lambda d: [(f"{q}x",) for q in d.orders.qty[:5]],
    ),
    Case("try_cast", "SELECT TRY_CAST('abc' AS integer), TRY_CAST('42' AS integer)", lambda d: [(None, 42)]),
    Case(
        "regexp_like",
        "SELECT count(*) FROM shop.orders WHERE regexp_like(customer, '^[ab]')",
        lambda d: [(int(d.orders.customer.str.match(r"^[ab]").sum()),)],
    ),
    Case(
        "regexp_replace",
        "SELECT DISTINCT regexp_replace(customer, '[aeiou]', '') AS c FROM shop.orders ORDER BY c",
        lambda d: [(c,) for c in sorted({re.sub("[aeiou]", "", c) for c in d.orders.customer})],
    ),
    Case(
        "regexp_extract",
        "SELECT order_id, regexp_extract(note, '(\\d+)', 1) FROM shop.orders ORDER BY order_id",
        lambda d: [
            (i, (m.group(1) if (m := re.search(r"(\d+)", n)) else None) if isinstance(n, str) else None)
            for i, n in zip(d.orders.order_id, d.orders.note, strict=True)
        ],
    ),
    Case(
        "cardinality of split",
        "SELECT order_id, cardinality(split(note, ' ')) FROM shop.orders ORDER BY order_id",
        lambda d: [
            (i, len(n.split(" ")) if isinstance(n, str) else None)
            for i, n in zip(d.orders.order_id, d.orders.note, strict=True)
        ],
    ),
    Case(
        "cross join unnest",
        "SELECT word, count(*) FROM shop.orders CROSS JOIN UNNEST(split(note, ' ')) AS t(word) "
        "GROUP BY word ORDER BY word",
        _word_counts,
    ),
    Case(
        "element_at",
        "SELECT DISTINCT element_at(split(customer, '_'), 2) AS last FROM shop.orders ORDER BY last",
        lambda d: [(c,) for c in sorted({c.split("_")[1] for c in d.orders.customer})],
    ),
    Case(
        "string functions",
        "SELECT upper(substr(customer, 1, 3)), length(customer), strpos(customer, 'o') FROM shop.customers "
        "ORDER BY customer",
        lambda d: [(c[:3].upper(), len(c), c.find("o") + 1) for c in sorted(d.customers.customer)],
    ),
    Case(
        "concat and coalesce",
        "SELECT concat(customer, ':', coalesce(note, 'none')) FROM shop.orders ORDER BY order_id LIMIT 6",
        lambda d: [
            (f"{c}:{n if isinstance(n, str) else 'none'}",)
            for c, n in zip(d.orders.customer[:6], d.orders.note[:6], strict=True)
        ],
    ),
    Case(
        "if()",
        "SELECT if(amount > 100, 'big', 'small') AS size, count(*) FROM shop.orders GROUP BY 1 ORDER BY 1",
        lambda d: sorted(d.orders.amount.gt(100).map({True: "big", False: "small"}).value_counts().items()),
    ),
    Case(
        "case when",
        "SELECT CASE WHEN qty >= 4 THEN 'many' WHEN qty >= 2 THEN 'some' ELSE 'one' END AS k, count(*) "
        "FROM shop.orders GROUP BY 1 ORDER BY 1",
        lambda d: sorted(
            d.orders.qty.map(lambda q: "many" if q >= 4 else "some" if q >= 2 else "one").value_counts().items()
        ),
    ),
    Case(
        "row_number per partition",
        "SELECT region, order_id FROM (SELECT region, order_id, row_number() OVER (PARTITION BY region ORDER BY amount DESC) AS rn "
        "FROM shop.orders) WHERE rn = 1 ORDER BY region",
        _top_per_region,
    ),
    Case(
        "running total",
        "SELECT order_id, sum(amount) OVER (ORDER BY order_id ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) "
        "FROM shop.orders WHERE region = 'eu' ORDER BY order_id",
        _running_total,
    ),
    Case(
        "join with csv table",
        "SELECT c.country, round(sum(o.amount), 2) FROM shop.orders o JOIN shop.customers c ON o.customer = c.customer "
        "GROUP BY c.country ORDER BY c.country",
        _by_country,
    ),
    Case(
        "cte",
        "WITH big AS (SELECT * FROM shop.orders WHERE amount > 100) SELECT count(*), min(amount) FROM big",
        lambda d: [(int((d.orders.amount > 100).sum()), d.orders.amount[d.orders.amount > 100].min())],
    ),
    Case(
        "left join keeps unmatched",
        "SELECT c.customer, count(o.order_id) FROM shop.customers c LEFT JOIN shop.orders o "
        "ON o.customer = c.customer AND o.region = 'apac' GROUP BY c.customer ORDER BY c.customer",
        lambda d: [(c, int(((d.orders.customer == c) & (d.orders.region == "apac")).sum())) for c in sorted(CUSTOMERS)],
    ),
    Case(
        "union all",
        "SELECT customer FROM shop.customers WHERE country = 'FR' UNION ALL SELECT customer FROM shop.customers "
        "WHERE country = 'DE'",
        lambda d: [(c,) for c in d.customers[d.customers.country.isin(["FR", "DE"])].customer],
        ordered=False,
    ),
    Case("values", "SELECT * FROM (VALUES (1, 'a'), (2, 'b')) AS t(n, s) ORDER BY n", lambda d: [(1, "a"), (2, "b")]),
    Case(
        "json_extract_scalar on json table",
        "SELECT json_extract_scalar(payload, '$.user') AS u, count(*) FROM shop.events GROUP BY 1 ORDER BY 1",
        lambda d: sorted(d.events.payload.map(lambda p: json.loads(p)["user"]).value_counts().items()),
    ),
    Case(
        "from_unixtime round trip",
        "SELECT count(*) FROM shop.orders WHERE to_unixtime(from_unixtime(epoch)) = epoch",
        lambda d: [(len(d.orders),)],
    ),
    Case(
        "from_iso8601_timestamp",
        "SELECT id, to_unixtime(from_iso8601_timestamp(ts)) FROM shop.events ORDER BY id",
        lambda d: [
            (i, datetime.fromisoformat(t.replace("Z", "+00:00")).timestamp())
            for i, t in zip(d.events.id, d.events.ts, strict=True)
        ],
    ),
    Case(
        "date_parse on csv text",
        "SELECT customer FROM shop.customers WHERE date_parse(signup, '%Y-%m-%d') >= TIMESTAMP '2023-07-01' "
        "ORDER BY customer",
        lambda d: [(c,) for c in sorted(d.customers[d.customers.signup >= "2023-07-01"].customer)],
    ),
    Case(
        "array_join",
        "SELECT array_join(split(customer, '_'), '-') FROM shop.customers ORDER BY customer",
        lambda d: [(c.replace("_", "-"),) for c in sorted(d.customers.customer)],
    ),
    Case(
        "max_by and min_by",
        "SELECT max_by(order_id, amount), min_by(order_id, amount) FROM shop.orders",
        lambda d: [
            (int(d.orders.loc[d.orders.amount.idxmax()].order_id), int(d.orders.loc[d.orders.amount.idxmin()].order_id))
        ],
    ),
    Case(
        "having",
        "SELECT customer FROM shop.orders GROUP BY customer HAVING sum(qty) > 15 ORDER BY customer",
        lambda d: [(c,) for c, q in sorted(d.orders.groupby("customer").qty.sum().items()) if q > 15],
    ),
    Case(
        "avg of integers is a double",
        "SELECT round(avg(qty), 4) FROM shop.orders",
        lambda d: [(round(d.orders.qty.mean(), 4),)],
    ),
    Case(
        "greatest and least",
        "SELECT greatest(qty, 3), least(qty, 3) FROM shop.orders ORDER BY order_id LIMIT 5",
        lambda d: [(max(q, 3), min(q, 3)) for q in d.orders.qty[:5]],
    ),
    Case(
        "bool_or",
        "SELECT region, bool_or(amount > 200) FROM shop.orders GROUP BY region ORDER BY region",
        lambda d: [(r, bool((d.orders[d.orders.region == r].amount > 200).any())) for r in sorted(REGIONS)],
    ),
    Case(
        "contains on array",
        "SELECT count(*) FROM shop.orders WHERE contains(split(note, ' '), 'fast')",
        lambda d: [(int(d.orders.note.map(lambda n: isinstance(n, str) and "fast" in n.split(" ")).sum()),)],
    ),
    Case(
        "in subquery",
        "SELECT count(*) FROM shop.orders WHERE customer IN (SELECT customer FROM shop.customers WHERE country = 'US')",
        lambda d: [(int(d.orders.customer.isin(d.customers[d.customers.country == "US"].customer).sum()),)],
    ),
    Case(
        "exists subquery",
        "SELECT c.customer FROM shop.customers c WHERE EXISTS (SELECT 1 FROM shop.orders o "
        "WHERE o.customer = c.customer AND o.amount > 200) ORDER BY 1",
        lambda d: [(c,) for c in sorted(set(d.orders[d.orders.amount > 200].customer))],
    ),
    Case(
        "date literal comparison",
        "SELECT count(*) FROM shop.orders WHERE ship_date >= DATE '2024-02-01'",
        lambda d: [(int((d.orders.ship_date >= date(2024, 2, 1)).sum()),)],
    ),
    Case(
        "interval arithmetic",
        "SELECT ordered_at + INTERVAL '1' DAY FROM shop.orders ORDER BY order_id LIMIT 2",
        lambda d: [(t + timedelta(days=1),) for t in d.orders.ordered_at[:2]],
    ),
    Case(
        "quoted aliases",
        'SELECT "region" AS "Region Name", count(*) AS "Orders" FROM shop.orders GROUP BY 1 ORDER BY 1',
        lambda d: rows(d.orders.groupby("region").size().reset_index().sort_values("region")),
    ),
    Case(
        "lpad and nullif",
        "SELECT lpad(CAST(order_id AS varchar), 3, '0'), nullif(qty, 1) FROM shop.orders ORDER BY order_id LIMIT 3",
        lambda d: [
            (f"{i:03d}", None if q == 1 else q) for i, q in zip(d.orders.order_id[:3], d.orders.qty[:3], strict=True)
        ],
    ),
    Case(
        "approx_percentile of a median",
        "SELECT approx_percentile(qty, 0.5) FROM shop.orders",
        lambda d: [(d.orders.qty.median(),)],
    ),
    Case(
        "order by with limit and nulls",
        "SELECT order_id, note FROM shop.orders ORDER BY note NULLS FIRST, order_id LIMIT 6",
        lambda d: rows(d.orders.sort_values(["note", "order_id"], na_position="first")[["order_id", "note"]].head(6)),
    ),
]


def _normal(value: Any) -> Any:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA or value is pd.NaT:
        return None
    if hasattr(value, "item") and not isinstance(value, (pd.Timestamp, datetime, date)):
        value = value.item()
    if isinstance(value, pd.Timestamp):
        value = value.to_pydatetime()
    if isinstance(value, float):
        return round(value, 6)
    if isinstance(value, tuple):
        return tuple(_normal(v) for v in value)
    return value


def _flatten(row: tuple[Any, ...]) -> tuple[Any, ...]:
    out: list[Any] = []
    for value in row:
        if isinstance(value, tuple):
            out.extend(value)
        else:
            out.append(value)
    return tuple(out)


def test_the_corpus_has_at_least_forty_queries() -> None:
    assert len(CASES) >= 40
    assert len({case.id for case in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_athena_query_gives_the_pandas_answer(lake: tuple[LocalBackend, Data], case: Case) -> None:
    backend, data = lake
    result = backend.run_query(case.sql)
    got = [tuple(_normal(v) for v in row) for row in result.frame.itertuples(index=False, name=None)]
    expected = [tuple(_normal(v) for v in _flatten(tuple(row))) for row in case.expected(data)]
    if not case.ordered:
        got, expected = sorted(got, key=repr), sorted(expected, key=repr)
    assert got == expected, f"{case.sql}\n-> {result.stats.sql_executed}"


def test_unknown_function_is_named(lake: tuple[LocalBackend, Data]) -> None:
    backend, _ = lake
    with pytest.raises(SqlError, match=r"word_stem\(\)"):
        backend.run_query("SELECT word_stem(customer) FROM shop.customers")


def test_untranslatable_construct_is_named(lake: tuple[LocalBackend, Data]) -> None:
    backend, _ = lake
    with pytest.raises(SqlError, match=r"(?i)reduce|finish"):
        backend.run_query("SELECT reduce(ARRAY[1, 2], 0, (s, x) -> s + x, s -> s * 10)")


def test_unknown_format_datetime_letter_is_named(lake: tuple[LocalBackend, Data]) -> None:
    backend, _ = lake
    with pytest.raises(SqlError, match="'Q'"):
        backend.run_query("SELECT format_datetime(ordered_at, 'yyyy-QQ') FROM shop.orders")


def test_unknown_table_is_named(lake: tuple[LocalBackend, Data]) -> None:
    backend, _ = lake
    with pytest.raises(TableNotFound, match=r"shop\.nope"):
        backend.run_query("SELECT * FROM shop.nope")


def test_unknown_column_is_named(lake: tuple[LocalBackend, Data]) -> None:
    backend, _ = lake
    with pytest.raises(SqlError, match="colour"):
        backend.run_query("SELECT colour FROM shop.orders")


def test_three_part_name_with_another_catalog_is_refused(lake: tuple[LocalBackend, Data]) -> None:
    backend, _ = lake
    with pytest.raises(SqlError, match="Catalog 'hive'"):
        backend.run_query("SELECT * FROM hive.shop.orders")


def test_data_files_are_what_the_fixture_wrote(lake: tuple[LocalBackend, Data]) -> None:
    """The expectations above read the frames; make sure the files hold the same data (no fixture drift)."""
    backend, data = lake
    root = Path(backend.root)
    files = pq.ParquetDataset(root / "data" / "orders", partitioning="hive").read().to_pandas()
    assert sorted(files.order_id.tolist()) == sorted(data.orders.order_id.tolist())
    assert pd.read_csv(root / "data" / "customers" / "customers.csv").equals(data.customers)


def test_integers_divide_as_integers_as_on_athena(lake: tuple[LocalBackend, Data]) -> None:
    """Trino truncates an integer division toward zero and fails on a zero divisor; a double divides as usual."""
    backend, data = lake
    orders = data.orders.sort_values("order_id")
    frame = backend.run_query(
        "SELECT order_id, order_id / qty AS per, -order_id / 2 AS neg, CAST(order_id AS double) / 4 AS quarter "
        "FROM shop.orders ORDER BY order_id"
    ).frame
    assert frame["per"].tolist() == [int(o / q) for o, q in zip(orders["order_id"], orders["qty"], strict=True)]
    assert frame["neg"].tolist() == [-(o // 2) for o in orders["order_id"]]
    assert frame["quarter"].tolist() == [o / 4 for o in orders["order_id"]]
    with pytest.raises(LakeLensError, match="Division by zero"):
        backend.run_query("SELECT order_id / (qty - qty) FROM shop.orders")


def test_unnamed_result_columns_are_named_as_athena_names_them(lake: tuple[LocalBackend, Data]) -> None:
    backend, _ = lake
    frame = backend.run_query("SELECT region, count(*), max(amount) AS top, 1 + 1 FROM shop.orders GROUP BY 1").frame
    assert list(frame.columns) == ["region", "_col1", "top", "_col3"]
