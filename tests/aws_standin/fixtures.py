"""The pytest fixtures: the stand-in served for the session."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator

import pytest

from tests.aws_standin.app import StandIn


@pytest.fixture(scope="session")
def aws_standin() -> Iterator[StandIn]:
    """The stand-in on a free port for the whole session, with the fake credentials of ``tests.aws_fixtures``.

    moto's state is one per process: a test that resets moto (``aws_settings`` does) empties this too, so
    build what a module needs in a module-scoped fixture of its own.
    """
    from tests.aws_fixtures import _ENV, _UNSET

    patch = pytest.MonkeyPatch()
    for name, value in _ENV.items():
        patch.setenv(name, value)
    for name in _UNSET:
        patch.delenv(name, raising=False)
    standin = StandIn().start()
    try:
        yield standin
    finally:
        standin.stop()
        patch.undo()


# LakeLens's aws backend waits POLL_FIRST_S (0.25 s) before its second look at a query, backing off to POLL_MAX_S:
# right for Athena, where a query takes seconds, but most of a test's time against the stand-in, where it takes
# milliseconds. Tests poll sooner; LAKELENS_TEST_AWS_POLL_S=0.25 (and LAKELENS_TEST_AWS_POLL_MAX_S=1) polls as
# LakeLens does against Athena.
TEST_POLL_FIRST_S = float(os.environ.get("LAKELENS_TEST_AWS_POLL_S", "0.02"))
TEST_POLL_MAX_S = float(os.environ.get("LAKELENS_TEST_AWS_POLL_MAX_S", "0.25"))


def shorten_aws_polls(patch: pytest.MonkeyPatch) -> None:
    """Set the aws backend's poll interval to the tests' one, in whichever ``lib.backends.aws`` module holds it."""
    import lib.backends.aws

    for name, module in list(sys.modules.items()):
        if module is None or not (name == lib.backends.aws.__name__ or name.startswith("lib.backends.aws.")):
            continue
        if hasattr(module, "POLL_FIRST_S"):
            patch.setattr(module, "POLL_FIRST_S", TEST_POLL_FIRST_S)
        if hasattr(module, "POLL_MAX_S"):
            patch.setattr(module, "POLL_MAX_S", max(TEST_POLL_MAX_S, TEST_POLL_FIRST_S))


@pytest.fixture(scope="session", autouse=True)
def aws_fast_polls() -> Iterator[None]:
    """The aws backend polls queries every few hundredths of a second for the whole session (see above)."""
    patch = pytest.MonkeyPatch()
    shorten_aws_polls(patch)
    try:
        yield
    finally:
        patch.undo()
