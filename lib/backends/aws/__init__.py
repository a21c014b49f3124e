"""The AWS backend: objects in S3, tables in the Glue Data Catalog, SQL on Amazon Athena.

One module per service, as awswrangler splits its own: ``_clients`` (the boto3 session and client factory, and
awswrangler's endpoints scoped to one call), ``_errors`` (botocore's failures as LakeLens errors), ``_s3`` (objects),
``_glue`` (the catalog), ``_athena`` (queries), ``_results`` (Athena's result pages and types as frames and files)
and ``_backend`` (:class:`AwsBackend`, the one public class, composed of them).

The lake is one S3 prefix (``LAKELENS_S3_LAKE``). Every key the backend receives is relative to that prefix and
passes :func:`lib.paths.clean_key` first, so a caller can never address an object outside the lake; keys handed
back are lake-relative again, exactly as on the local backend.

Failures from botocore never reach a page as they are: ``AwsBackend._aws_errors`` turns them into one sentence per
cause (no credentials, access refused, no bucket, throttled, not found, Athena syntax) and takes out anything that
looks like the credentials in use.

moto, which the tests and a laptop demo use, ignores ``MaxResults`` for Glue's GetPartitions and Athena's
GetQueryResults; page sizes are therefore also enforced here rather than trusted to the service.
"""

from __future__ import annotations

from lib.backends.aws._athena import ATHENA_MAX_RESULTS, KNOWN_QUERIES, POLL_FIRST_S, POLL_MAX_S
from lib.backends.aws._backend import AwsBackend
from lib.backends.aws._clients import CLIENT_CONFIG, MAX_RETRIES, Service
from lib.backends.aws._glue import GLUE_CREATE_BATCH, GLUE_DELETE_BATCH, GLUE_MAX_RESULTS

__all__ = [
    "ATHENA_MAX_RESULTS",
    "CLIENT_CONFIG",
    "GLUE_CREATE_BATCH",
    "GLUE_DELETE_BATCH",
    "GLUE_MAX_RESULTS",
    "KNOWN_QUERIES",
    "MAX_RETRIES",
    "POLL_FIRST_S",
    "POLL_MAX_S",
    "AwsBackend",
    "Service",
]
