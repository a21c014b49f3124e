"""Counting what the reliability and security suites refused, rejected and survived.

Each test takes the ``ledger`` fixture and records every hostile input it saw refused (``ledger.add("sql", text)``).
The records of a test are kept only if the test passed, so the totals printed at the end of the run are what the
tests that actually ran proved, never constants. The AWS faults that tests/lib/test_aws_backend.py and
tests/pages/test_sql_page.py already cover are counted from their passing reports rather than tested twice.

At the end of the run ``pytest_terminal_summary`` (in tests/conftest.py, which xdist's controller loads too) prints one line with the five totals, then one line per suite
with what it checked; docs/SECURITY.md quotes those lines.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Generator, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

# suite -> (phrase on the totals line, title of its own line, phrase on its own line)
SUITES: dict[str, tuple[str, str, str]] = {
    "sql": ("hostile SQL statements refused", "hostile SQL", "statements refused"),
    "params": (
        "hostile parameter values bound as literals or refused",
        "hostile parameters",
        "values bound or refused",
    ),
    "paths": ("hostile paths refused", "hostile paths", "keys and names refused"),
    "files": ("bad files rejected or read correctly", "bad files", "files rejected or read correctly"),
    "aws": ("AWS faults survived", "AWS faults", "faults survived"),
    "sessions": ("concurrent sessions held", "load", "concurrent sessions held"),
    "kills": ("kill -9 rounds survived", "durability", "kill -9 during writes survived"),
    "secrets": ("fake credentials kept out of every output", "secrets", "fake credentials found in no output"),
}

# Fault tests that live with the code they test; counted when they pass in the same run (nodeid -> the fault).
EXISTING_AWS_FAULTS: dict[str, str] = {
    "tests/lib/test_aws_backend.py::test_missing_bucket": "S3 NoSuchBucket",
    "tests/lib/test_aws_backend.py::test_access_denied": "S3 AccessDenied on HeadBucket and ListObjectsV2",
    "tests/lib/test_aws_backend.py::test_missing_database_and_table_say_which": "Glue EntityNotFoundException",
    "tests/lib/test_aws_backend.py::test_secrets_are_scrubbed_from_echoed_messages": "Glue error echoing credentials",
    "tests/lib/test_aws_backend.py::test_throttling_is_retried_then_succeeds": "Glue throttling, retried",
    "tests/lib/test_aws_backend.py::test_throttling_that_outlasts_the_retries_says_so": "Glue throttling past retries",
    "tests/lib/test_aws_backend.py::test_unreachable_endpoint_is_named": "endpoint unreachable",
    "tests/lib/test_aws_backend.py::test_no_credentials": "no credentials",
    "tests/lib/test_aws_backend.py::test_unknown_profile": "unknown profile",
    "tests/lib/test_aws_backend.py::test_failed_query_on_a_missing_table_names_it": "Athena FAILED, missing table",
    "tests/lib/test_aws_backend.py::test_failed_query_keeps_athenas_reason": "Athena FAILED with its reason",
    "tests/lib/test_aws_backend.py::test_cancelled_query": "Athena CANCELLED",
    "tests/lib/test_aws_backend.py::test_timeout_stops_the_query": "Athena query timeout",
    "tests/lib/test_aws_backend.py::test_athena_syntax_errors_keep_line_and_column": "Athena InvalidRequest (syntax)",
    "tests/lib/test_aws_backend.py::test_missing_workgroup_names_the_setting": "Athena unknown workgroup",
    "tests/pages/test_sql_page.py::test_aws_cancelled_query_is_one_message": "Athena CANCELLED on the SQL page",
}


@dataclass
class _Totals:
    items: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    notes: dict[str, dict[str, Any]] = field(default_factory=lambda: defaultdict(dict))


TOTALS = _Totals()
_REPORT_KEY = pytest.StashKey[dict[str, pytest.TestReport]]()


class Ledger:
    """What one test refused or survived; committed to the run's totals only if the test passes."""

    def __init__(self) -> None:
        self.items: list[tuple[str, str]] = []
        self.notes: list[tuple[str, str, Any]] = []

    def add(self, suite: str, item: str) -> None:
        """One hostile input refused (or fault survived); the same item twice counts once."""
        assert suite in SUITES, suite
        self.items.append((suite, item))

    def note(self, suite: str, name: str, value: Any) -> None:
        """A figure for the suite's own line (e.g. how many kills landed in the middle of a write)."""
        assert suite in SUITES, suite
        self.notes.append((suite, name, value))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, Any, Any]:
    report = yield
    item.stash.setdefault(_REPORT_KEY, {})[report.when] = report
    return report


LEDGER_PROPERTY = "lakelens_ledger"  # the user property a passing test's records travel in (to xdist's controller too)


def _plain(value: Any) -> Any:
    return value if isinstance(value, str | int | float | bool) else str(value)


@pytest.fixture
def ledger(request: pytest.FixtureRequest) -> Iterator[Ledger]:
    book = Ledger()
    yield book
    reports = request.node.stash.get(_REPORT_KEY, {})
    if "call" in reports and reports["call"].passed:
        records = {
            "items": [[suite, item] for suite, item in book.items],
            "notes": [[suite, name, _plain(value)] for suite, name, value in book.notes],
        }
        request.node.user_properties.append((LEDGER_PROPERTY, records))


def add_to_totals(report: pytest.TestReport) -> None:
    """Commit the records a passing test's teardown report carries (called by tests/conftest.py for every report,
    in the process that prints the summary: pytest's own, or xdist's controller)."""
    if report.when != "teardown":
        return
    for name, records in report.user_properties:
        if name != LEDGER_PROPERTY:
            continue
        for suite, item in records["items"]:
            TOTALS.items[suite].add(item)
        for suite, note, value in records["notes"]:
            TOTALS.notes[suite][note] = value


def existing_faults(terminalreporter: Any) -> list[str]:
    passed = terminalreporter.stats.get("passed", [])
    ids = [r.nodeid.split("@")[0] for r in passed if r.when == "call"]  # xdist's loadgroup appends "@<group>"
    return sorted({EXISTING_AWS_FAULTS[i] for i in ids if i in EXISTING_AWS_FAULTS})


def summary_lines(totals: _Totals, existing_faults: list[str]) -> list[str]:
    counts = {suite: len(items) for suite, items in totals.items.items()}
    counts["aws"] = counts.get("aws", 0) + len(existing_faults)
    if not any(counts.values()):
        return []
    totals_line = ", ".join(
        f"{counts.get(s, 0):,} {SUITES[s][0]}" for s in ("sql", "paths", "files", "aws", "sessions")
    )
    lines = [f"security: {totals_line}"]
    for suite, (_, title, phrase) in SUITES.items():
        count = counts.get(suite, 0)
        notes = dict(totals.notes.get(suite, {}))
        if suite == "files" and count:
            rejected = sum(1 for item in totals.items[suite] if item.startswith("rejected"))
            notes = {"rejected": rejected, "read correctly": count - rejected, **notes}
        if not count and not notes:
            lines.append(f"security: {title}: not run")
            continue
        extra = "; ".join(f"{name} {value}" for name, value in notes.items())
        if suite == "aws" and existing_faults:
            own = count - len(existing_faults)
            extra = "; ".join(
                part for part in (extra, f"{own} here, {len(existing_faults)} in tests/lib and tests/pages") if part
            )
        lines.append(f"security: {title}: {count:,} {phrase}" + (f" ({extra})" if extra else ""))
    return lines


def print_summary(terminalreporter: Any) -> None:
    """The totals line and one line per suite (tests/conftest.py's ``pytest_terminal_summary`` calls it)."""
    lines = summary_lines(TOTALS, existing_faults(terminalreporter))
    if not lines:
        return
    terminalreporter.write_sep("-", "reliability and security")
    for line in lines:
        terminalreporter.write_line(line)
