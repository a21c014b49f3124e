"""The one client factory: a boto3 session per backend, one cached client per service with the same retries,
timeouts and endpoint override, and awswrangler's process-wide endpoints set for one call at a time."""

from __future__ import annotations

import threading
from abc import abstractmethod
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any, Literal

import awswrangler as wr
import boto3
from botocore.config import Config

from lib.backends.base import Backend
from lib.errors import LakeLensError, PathError, SettingsError
from lib.paths import clean_key
from lib.settings import Settings

Service = Literal["s3", "glue", "athena", "sts"]

# Standard retry mode backs off on throttling and 5xx; five attempts keep a page responsive when AWS is unwell.
MAX_RETRIES = 5  # botocore's "max_attempts" counts retries after the first request
CLIENT_CONFIG = Config(retries={"mode": "standard", "max_attempts": MAX_RETRIES}, connect_timeout=5, read_timeout=60)

# awswrangler's clients take their endpoints from its process-wide config, never from an argument.
WRANGLER_ENDPOINTS = ("s3_endpoint_url", "athena_endpoint_url", "glue_endpoint_url", "sts_endpoint_url")
_WRANGLER_LOCK = threading.Lock()


@contextmanager
def wrangler_endpoints(endpoint: str | None) -> Iterator[None]:
    """awswrangler's endpoints pointed at ``endpoint`` (if there is one) for the ``with`` block only, then put back
    as they were: two backends with different endpoints in one process never see each other's. The lock holds
    every other awswrangler call of LakeLens off while they are changed."""
    with _WRANGLER_LOCK:
        saved = {name: getattr(wr.config, name) for name in WRANGLER_ENDPOINTS}
        try:
            if endpoint:
                for name in WRANGLER_ENDPOINTS:
                    setattr(wr.config, name, endpoint)
            yield
        finally:
            for name, value in saved.items():
                setattr(wr.config, name, value)


class AwsClients(Backend):
    """The lake's S3 location, parsed once, and the session and clients every other part calls AWS through."""

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        if not settings.s3_lake:
            raise SettingsError(
                "The aws backend needs LAKELENS_S3_LAKE, the lake's S3 location (e.g. s3://my-bucket/lake/)."
            )
        self.lake = settings.s3_lake
        bucket, _, base = settings.s3_lake[len("s3://") :].partition("/")
        if not bucket:
            raise SettingsError(f"LAKELENS_S3_LAKE is {settings.s3_lake!r}, which names no bucket.")
        try:
            self.base = clean_key(base, folder=True)
        except PathError as exc:
            raise SettingsError(f"LAKELENS_S3_LAKE is {settings.s3_lake!r}: {exc}") from exc
        self.bucket = bucket
        self._lock = threading.RLock()
        self._boto_session: boto3.Session | None = None
        self._clients: dict[str, Any] = {}

    @abstractmethod
    def _aws_errors(
        self, action: str, *, missing: LakeLensError | None = None, exists: LakeLensError | None = None
    ) -> AbstractContextManager[None]:
        """botocore's failures as LakeLens errors (``_errors.AwsErrors``); creating a session or client can fail."""

    def close(self) -> None:
        """Close the HTTP connection pools; the next call opens new clients."""
        with self._lock:
            for client in self._clients.values():
                client.close()
            self._clients.clear()

    def _session(self) -> boto3.Session:
        with self._lock:
            if self._boto_session is None:
                with self._aws_errors("start an AWS session"):
                    self._boto_session = boto3.Session(
                        profile_name=self.settings.aws_profile, region_name=self.settings.aws_region
                    )
            return self._boto_session

    def _client(self, service: Service) -> Any:
        """One cached client per service, all with the same retries, timeouts and endpoint override."""
        with self._lock:
            client = self._clients.get(service)
            if client is None:
                with self._aws_errors(f"connect to {service.upper()}"):
                    client = self._session().client(
                        service, config=CLIENT_CONFIG, endpoint_url=self.settings.endpoint_url
                    )
                self._clients[service] = client
            return client

    def _wrangler(self) -> AbstractContextManager[None]:
        """awswrangler makes its own clients from the session; only its config carries the endpoint, for one call."""
        return wrangler_endpoints(self.settings.endpoint_url)
