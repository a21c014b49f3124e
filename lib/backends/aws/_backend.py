"""The one public class: :class:`AwsBackend`, the layers of the package in one backend."""

from __future__ import annotations

from lib.backends.aws._athena import AwsQueries
from lib.backends.aws._errors import display_endpoint
from lib.backends.base import BackendInfo
from lib.errors import BackendUnavailable


class AwsBackend(AwsQueries):
    """Objects in S3, tables in the Glue Data Catalog, SQL on Amazon Athena.

    Each part builds on the one below it: clients (``_clients``), error translation (``_errors``), objects
    (``_s3``), the catalog (``_glue``, which walks folders to find partitions) and queries (``_athena``, which
    types parameters from the catalog's columns).
    """

    kind = "aws"
    engine_name = "Athena"
    bills_scans = True
    has_autopilot = True
    statistics_note = "kept in the lake: moto offers no Glue column-statistics API to store them in"

    def info(self) -> BackendInfo:
        return BackendInfo(
            kind="aws",
            lake=self.lake,
            engine="Amazon Athena",
            region=self.settings.aws_region,
            endpoint=display_endpoint(self.settings.endpoint_url),
            workgroup=self.settings.athena_workgroup,
        )

    def check(self) -> None:
        with self._aws_errors(f"open the lake {self.lake}", missing=BackendUnavailable(self._no_bucket())):
            self._client("s3").head_bucket(Bucket=self.bucket)
