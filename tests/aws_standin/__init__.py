"""An AWS stand-in for tests and for trying the aws backend without an account: moto plus an Athena that runs SQL.

moto emulates S3, Glue and (partly) SageMaker well, but its Athena executes nothing: every query succeeds with an
empty or seeded result. This package puts a small WSGI app in front of moto's own dispatcher. Requests whose
``X-Amz-Target`` is one of the Athena query calls below are answered here; everything else (S3, Glue, SageMaker,
STS, Athena workgroups, ``/moto-api/...``) goes to moto unchanged.

``StartQueryExecution`` really runs the query, on a thread of its own so that LakeLens sees the states Athena
goes through (QUEUED, RUNNING, then SUCCEEDED, FAILED or CANCELLED):

1. the SQL is parsed as Athena SQL with sqlglot, and every table it names is looked up in moto's Glue (over
   HTTP, through boto3, exactly as a client would);
2. the table's objects are read from moto's S3: Parquet, delimited text with the table's SerDe options
   (LazySimpleSerDe's ``field.delim``, ``skip.header.line.count`` and ``\\N`` for NULL; OpenCSVSerde's
   separator, quote and escape characters), and JSON lines; a partitioned table reads the partitions Glue holds,
   each with its partition values as columns;
3. the SQL is transpiled with sqlglot (``read="athena", write="duckdb"``) and run on DuckDB;
4. the result comes back the way Athena gives it: typed ``ResultSetMetadata``, every value a string (NULL has no
   ``VarCharValue``), ``GetQueryResults`` pages of at most 1,000 rows with a header row first for a SELECT, the
   CSV (and a ``.metadata`` file) in the output location, ``DataScannedInBytes``, Athena's error messages for a
   missing table, schema or column.

The SQL is deliberately *not* translated with LakeLens's ``lib/sql.py``: the stand-in is an independent
implementation, so a parity test comparing the local backend (LakeLens's translation) with the aws backend (this
one) can catch a translation bug in LakeLens. The price is that a bug shared by sqlglot's two translations goes
unnoticed by both; README's "AWS stand-in" section lists what is and is not reproduced.

In pytest, use the ``aws_standin`` fixture (``pytest_plugins = ("tests.aws_standin",)``). From a terminal::

    python -m tests.aws_standin --port 5055

serves on 127.0.0.1:5055 until stopped (Ctrl-C); point ``LAKELENS_ENDPOINT_URL`` at it.

The package, split the way awswrangler splits per service:

- ``app``: the server (``StandIn``, the WSGI app and Athena's query API calls);
- ``query``: Athena query execution (one query's ``Execution`` record, ``Query`` running one statement);
- ``reads``: Glue and S3 for a query (table definitions, partitions, objects into DuckDB, CTAS/INSERT writes);
- ``formats``: text objects read as Hive's SerDes read them;
- ``semantics``: Athena (Trino) semantics DuckDB does not share;
- ``values``: types and values formatted as Athena gives them (``java_double``);
- ``errors``: Athena's failures and DuckDB's errors translated into them;
- ``fixtures``: the pytest fixtures; ``cli``: ``python -m tests.aws_standin``.

It imports nothing from ``lib.sql``: it is the independent reference the parity tests compare LakeLens with.

PYTEST_DONT_REWRITE: used as a plugin and as a script; it holds no test asserts.
"""

from __future__ import annotations

import contextlib

from tests.aws_standin.app import ACCOUNT_ID, BODY_CACHE_BYTES, DEFAULT_REGION, MAX_RESULTS, StandIn
from tests.aws_standin.cli import main
from tests.aws_standin.errors import AthenaFailure, AthenaRequestError, Cancelled
from tests.aws_standin.query import Execution, Query
from tests.aws_standin.reads import HIVE_NULL_PARTITION
from tests.aws_standin.values import java_double

# the fixtures, for ``pytest_plugins = ("tests.aws_standin",)``; the server runs without pytest too
with contextlib.suppress(ImportError):
    from tests.aws_standin.fixtures import aws_fast_polls, aws_standin

__all__ = [
    "ACCOUNT_ID",
    "BODY_CACHE_BYTES",
    "DEFAULT_REGION",
    "HIVE_NULL_PARTITION",
    "MAX_RESULTS",
    "AthenaFailure",
    "AthenaRequestError",
    "Cancelled",
    "Execution",
    "Query",
    "StandIn",
    "aws_fast_polls",
    "aws_standin",
    "java_double",
    "main",
]
