"""Hostile parameter values: a value is always one literal of its type, never SQL.

Every value below goes where an analyst's value goes: ``run_query(params=...)`` and ``export`` on the local
backend (DuckDB parameters) with the lake checksummed before and after; the aws backend against moto, where
Athena must receive the SQL with ``?`` and the value as one quoted literal in ExecutionParameters; the CLI's
``--param``; ``EXECUTE ... USING``; and a link's ``?p_name=`` on the SQL page. A text value matches only a row
holding exactly that text (the demo lake has none), so every count is 0; a value of the wrong type is one
sentence naming the parameter, and nothing runs.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest

from lib.backends.aws import AwsBackend
from lib.backends.local import LocalBackend
from lib.errors import LakeLensError, ParameterError
from lib.sql import params as paramsmod
from lib.sql import script
from tests.aws_fixtures import BUCKET, REGION, column, make_aws_settings, moto_post, seed_athena_results
from tests.conftest import lake_checksums, local_settings
from tests.lib.test_cli import run_cli
from tests.security.conftest import Ledger

pytest_plugins = ("tests.aws_fixtures",)

TEXT_SQL = "SELECT count(*) AS n FROM demo.reviews WHERE product_category = :cat"
NUMBER_SQL = "SELECT count(*) AS n FROM demo.reviews WHERE star_rating >= :stars"
DATE_SQL = "SELECT count(*) AS n FROM demo.reviews WHERE review_date > :since"

HOSTILE_TEXT = [
    "x' OR '1'='1",
    "Books' OR 'a'='a",
    "'; DROP TABLE demo.reviews; --",
    "Books'; DELETE FROM demo.reviews WHERE '1'='1",
    "Books' --",
    "Books'/*",
    "*/ OR 1=1 /*",
    "-- a comment",
    "/* block */ Books",
    "Books\\' OR 1=1 --",
    "''''",
    "'",
    '"; DROP TABLE demo.reviews; --',
    "Books\nOR 1=1",
    "Books;",
    ";",
    "$cat",
    ":cat",
    "?",
    "%s%s%s",
    "{{ cat }}",
    "${jndi:ldap://x}",
    "Books' UNION SELECT count(*) FROM demo.reviews_raw --",
    "read_csv('/etc/passwd')",
    "' || (SELECT getenv('HOME')) || '",
    "Bücher 📚 ñandú",
    "‮skooB",  # right-to-left override
    "Boo\u200bks",  # zero-width space inside a real category name
    "Ｂｏｏｋｓ",  # full-width letters
    "B" * 1000,
    "'" * 500,  # doubles to 1,000 quotes, 1,002 characters as a literal: still within Athena's 1,024
]

WRONG_NUMBERS = ["4 OR 1=1", "1; DROP TABLE demo.reviews", "4'", "0x10", "1e999", "NaN", "inf", "--1", "four", "", " "]
WRONG_DATES = ["2020-01-01' OR '1'='1", "2020-13-01", "yesterday", "2020-01-01; DROP TABLE demo.reviews", "01/02/2020"]
TOO_LONG = ["x" * 1023, "B" * 5000, "'" * 600]


@pytest.fixture(scope="module")
def local_lake(demo_lake_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LocalBackend, Path]]:
    root = tmp_path_factory.mktemp("hostile-params") / "lake"
    shutil.copytree(demo_lake_dir, root)
    backend = LocalBackend(local_settings(root))
    yield backend, root
    backend.close()


@pytest.fixture(scope="module")
def checksums(local_lake: tuple[LocalBackend, Path]) -> dict[str, str]:
    return lake_checksums(local_lake[1])


def one_sentence(error: LakeLensError) -> str:
    message = str(error)
    assert "\n" not in message and "Traceback" not in message and message.endswith(".")
    return message


def test_a_real_value_still_matches(local_lake: tuple[LocalBackend, Path]) -> None:
    """The control: binding works, so the zeros below mean "matched nothing", not "did not run"."""
    backend, _ = local_lake
    assert backend.run_query(TEXT_SQL, params={"cat": "Books"}).frame["n"][0] > 0


@pytest.mark.parametrize("value", HOSTILE_TEXT, ids=range(len(HOSTILE_TEXT)))
def test_local_hostile_text_is_one_string_that_matches_nothing(
    value: str, local_lake: tuple[LocalBackend, Path], checksums: dict[str, str], tmp_path: Path, ledger: Ledger
) -> None:
    backend, root = local_lake
    result = backend.run_query(TEXT_SQL, params={"cat": value})
    assert result.frame["n"].tolist() == [0]
    assert result.stats.sql_executed.endswith("product_category = $cat")  # bound, not pasted
    echoed = backend.run_query("SELECT :v AS v", params={"v": value}).frame["v"].tolist()
    assert echoed == [value]  # the value comes back byte for byte: it was never parsed as SQL
    target = tmp_path / "out.csv"
    assert backend.export(TEXT_SQL, target, "csv", params={"cat": value}) == 1
    assert lake_checksums(root) == checksums
    ledger.add("params", value[:80])


@pytest.mark.parametrize(
    "sql, value",
    [(NUMBER_SQL, v) for v in WRONG_NUMBERS] + [(DATE_SQL, v) for v in WRONG_DATES] + [(TEXT_SQL, v) for v in TOO_LONG],
)
def test_local_wrong_types_and_long_values_are_one_sentence(
    sql: str, value: str, local_lake: tuple[LocalBackend, Path], checksums: dict[str, str], ledger: Ledger
) -> None:
    backend, root = local_lake
    name = paramsmod.occurrences(sql)[0].name
    if sql == TEXT_SQL and len(paramsmod.athena_literal(value)) <= paramsmod.MAX_LITERAL_CHARS:
        pytest.skip("within the limit")  # 1,023 x's make a 1,025-character literal: refused below
    with pytest.raises(ParameterError) as refused:
        backend.run_query(sql, params={name: value})
    assert f":{name}" in one_sentence(refused.value)
    assert lake_checksums(root) == checksums
    ledger.add("params", f"{name}={value[:60]}")


def test_a_nul_character_is_refused(local_lake: tuple[LocalBackend, Path]) -> None:
    with pytest.raises(ParameterError, match="NUL"):
        local_lake[0].run_query(TEXT_SQL, params={"cat": "Books\x00' OR '1'='1"})


@pytest.mark.parametrize(
    "using",
    [
        "'x'' OR ''1''=''1'",
        "(SELECT 1)",
        "review_body",
        "getenv('HOME')",
        "'a' || 'b'",
        "1 + 1",
    ],
)
def test_execute_using_takes_literals_only(
    using: str, local_lake: tuple[LocalBackend, Path], checksums: dict[str, str], ledger: Ledger
) -> None:
    backend, root = local_lake
    sql = f"PREPARE s FROM {TEXT_SQL.replace(':cat', '?')}; EXECUTE s USING {using}"
    outcomes = script.run(sql, lambda text, bound: backend.run_query(text, params=bound))
    last = outcomes[-1]
    if last.result is not None:
        assert last.result.frame["n"].tolist() == [0] and using.startswith("'x")
    else:
        assert "literal values only" in last.error
    assert lake_checksums(root) == checksums
    ledger.add("params", f"EXECUTE USING {using}")


def test_execute_cannot_smuggle_a_write(local_lake: tuple[LocalBackend, Path], checksums: dict[str, str]) -> None:
    backend, root = local_lake
    outcomes = script.run(
        "PREPARE s FROM DROP TABLE demo.reviews; EXECUTE s; EXECUTE s USING 'a'); DROP TABLE demo.reviews; --",
        lambda text, bound: backend.run_query(text, params=bound),
    )
    assert outcomes[-1].result is None and "read-only" in outcomes[-1].error
    assert lake_checksums(root) == checksums


@pytest.mark.parametrize("pair", ["cat", "x;DROP=1", "=Books", "ca t=Books", "cat'=1", "1cat=Books"])
def test_cli_bad_param_names_are_one_line(pair: str, demo_lake_dir: Path, ledger: Ledger) -> None:
    done = run_cli("query", "--sql", TEXT_SQL, "--param", pair, lake=demo_lake_dir)
    assert done.returncode == 1 and done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    ledger.add("params", f"--param {pair}")


@pytest.mark.parametrize("value", ["x' OR '1'='1", "'; DROP TABLE demo.reviews; --", "Bücher 📚"])
def test_cli_hostile_values_match_nothing(value: str, demo_lake_dir: Path) -> None:
    before = lake_checksums(demo_lake_dir)
    done = run_cli("query", "--sql", TEXT_SQL, "--param", f"cat={value}", lake=demo_lake_dir)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["n", "0"]
    assert {k: v for k, v in lake_checksums(demo_lake_dir).items() if "history" not in k} == {
        k: v for k, v in before.items() if "history" not in k
    }


# -- aws ---------------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def aws_lake(moto_server: str) -> Iterator[AwsBackend]:
    moto_post(moto_server, "/moto-api/reset")
    boto3.client("s3", region_name=REGION, endpoint_url=moto_server).create_bucket(Bucket=BUCKET)
    backend = AwsBackend(make_aws_settings(moto_server))
    from tests.aws_fixtures import seed_small_reviews

    seed_small_reviews(backend)
    yield backend
    backend.close()


def aws_objects(backend: AwsBackend) -> list[str]:
    contents = backend._client("s3").list_objects_v2(Bucket=BUCKET).get("Contents", [])
    return sorted(o["Key"] for o in contents if "athena-results" not in o["Key"])


@pytest.mark.parametrize("value", HOSTILE_TEXT, ids=range(len(HOSTILE_TEXT)))
def test_aws_hostile_text_is_one_execution_parameter(
    value: str, aws_lake: AwsBackend, moto_server: str, ledger: Ledger
) -> None:
    before = (aws_objects(aws_lake), [t.name for t in aws_lake.list_tables("demo")])
    seed_athena_results(moto_server, [([column("n", "bigint")], [["n"], ["0"]])])
    query_id = f"hostile-{abs(hash(value))}"
    assert aws_lake.run_query(TEXT_SQL, params={"cat": value}, query_id=query_id).frame["n"].tolist() == [0]
    sent = aws_lake._client("athena").get_query_execution(QueryExecutionId=aws_lake.athena_execution_id(query_id))
    execution = sent["QueryExecution"]
    assert execution["Query"] == TEXT_SQL.replace(":cat", "?")
    assert execution["ExecutionParameters"] == ["'" + value.replace("'", "''") + "'"]
    assert (aws_objects(aws_lake), [t.name for t in aws_lake.list_tables("demo")]) == before
    ledger.add("params", value[:80])


@pytest.mark.parametrize("value", WRONG_NUMBERS)
def test_aws_wrong_numbers_never_reach_athena(value: str, aws_lake: AwsBackend) -> None:
    before = aws_lake._client("athena").list_query_executions().get("QueryExecutionIds", [])
    with pytest.raises(ParameterError) as refused:
        aws_lake.run_query(NUMBER_SQL, params={"stars": value})
    assert ":stars" in one_sentence(refused.value)
    assert aws_lake._client("athena").list_query_executions().get("QueryExecutionIds", []) == before


# -- the page, from a link -----------------------------------------------------------------------------------
def test_a_hostile_link_value_runs_as_a_string(
    demo_lake_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.pages.test_sql_page import ROOT, sql_page, wait_done

    root = tmp_path / "lake"
    shutil.copytree(demo_lake_dir, root)
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("LAKELENS_LAKE_ROOT", str(root))
    monkeypatch.setenv("LAKELENS_BACKEND", "local")
    before = {k: v for k, v in lake_checksums(root).items() if "history" not in k}
    at = sql_page({"sql": TEXT_SQL, "p_cat": "'; DROP TABLE demo.reviews; --", "p_evil; DROP": "x"})
    wait_done(at)
    assert not at.error and at.dataframe[0].value["n"].tolist() == [0]
    assert {k: v for k, v in lake_checksums(root).items() if "history" not in k} == before


def test_markdown_in_a_link_draws_nothing(demo_lake_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A link's tab name or parameter value with an image or a link in Markdown is shown as text: the page's
    labels and messages render Markdown, and an image would be fetched from the other site."""
    import re

    from components.sql import tabs as sql_tabs
    from tests.pages.test_sql_page import ROOT, sql_page, wait_done

    root = tmp_path / "lake"
    shutil.copytree(demo_lake_dir, root)
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("LAKELENS_LAKE_ROOT", str(root))
    monkeypatch.setenv("LAKELENS_BACKEND", "local")
    evil = "![x](http://evil.example/p.png) [click](http://evil.example/)"
    tabs = sql_tabs.encode([sql_tabs.QueryTab(NUMBER_SQL, evil, {"stars": evil})])
    at = sql_page({"tabs": tabs, "tab": "0"})
    wait_done(at)
    shown = [at.button_group(key="sql.tab_choice").options[0]]
    shown += [c.value for c in at.caption] + [e.value for e in at.error] + [m.value for m in at.markdown]
    live = [text for text in shown if re.search(r"(?<!\\)\]\(http://evil", text)]
    assert live == [] and any("evil.example" in text for text in shown)
    assert any(":stars must be a number" in e.value for e in at.error)
