"""botocore's and awswrangler's failures as LakeLens errors: one sentence per cause (no credentials, access refused,
no bucket, throttled, not found, Athena syntax), with anything that looks like the credentials in use taken out."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit, urlunsplit

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
    ParamValidationError,
    PartialCredentialsError,
    ProfileNotFound,
    ReadTimeoutError,
)

from lib import sql as sqlmod
from lib.backends.aws._clients import MAX_RETRIES, AwsClients
from lib.errors import (
    BackendUnavailable,
    CatalogError,
    LakeLensError,
    NotFound,
    QueryFailed,
    SqlError,
    TableNotFound,
)

_NOT_FOUND = {"404", "NoSuchKey", "NotFound", "EntityNotFoundException", "ResourceNotFoundException"}
_DENIED = {"403", "AccessDenied", "AccessDeniedException", "Forbidden", "UnauthorizedOperation", "AllAccessDisabled"}
_BAD_CREDENTIALS = {
    "InvalidAccessKeyId",
    "SignatureDoesNotMatch",
    "UnrecognizedClientException",
    "InvalidClientTokenId",
    "InvalidSignatureException",
    "InvalidToken",
}
_EXPIRED = {"ExpiredToken", "ExpiredTokenException", "RequestExpired", "TokenRefreshRequired"}
_THROTTLED = {
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "SlowDown",
    "TooManyRequestsException",
    "RequestLimitExceeded",
    "RequestThrottled",
    "RequestThrottledException",
    "ProvisionedThroughputExceededException",
}
_SERVER = {
    "500",
    "502",
    "503",
    "504",
    "InternalError",
    "InternalFailure",
    "InternalServerException",
    "ServiceUnavailable",
}
_GLUE_INPUT = {"InvalidInputException", "ResourceNumberLimitExceededException", "ConcurrentModificationException"}

_NO_CREDENTIALS = (
    "No AWS credentials were found: set LAKELENS_AWS_PROFILE (or AWS_PROFILE) to a profile in ~/.aws/config, "
    "export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or run where an IAM role provides them."
)


class AwsErrors(AwsClients):
    """The ``with self._aws_errors(action):`` every AWS call of the backend runs in."""

    @contextmanager
    def _aws_errors(
        self, action: str, *, missing: LakeLensError | None = None, exists: LakeLensError | None = None
    ) -> Iterator[None]:
        """Turn botocore's failures into one sentence an analyst can act on.

        ``action`` completes "when trying to ...". ``missing`` is raised when the thing asked for does not exist
        (a key, a table), ``exists`` when it already does; both default to a generic sentence.
        """
        try:
            yield
        except ClientError as exc:
            raise self._client_error(exc, action, missing, exists) from exc
        except (NoCredentialsError, PartialCredentialsError) as exc:
            raise BackendUnavailable(_NO_CREDENTIALS) from exc
        except ProfileNotFound as exc:
            raise BackendUnavailable(
                f"The AWS profile {self.settings.aws_profile!r} is not in ~/.aws/config: correct "
                "LAKELENS_AWS_PROFILE (or AWS_PROFILE)."
            ) from exc
        except (EndpointConnectionError, ConnectTimeoutError) as exc:
            endpoint = display_endpoint(
                self.settings.endpoint_url or str(exc.kwargs.get("endpoint_url") or self._endpoint_name())
            )
            hint = (
                "check LAKELENS_ENDPOINT_URL and that the service is running"
                if self.settings.endpoint_url
                else ("check the network connection and LAKELENS_AWS_REGION")
            )
            raise BackendUnavailable(f"Cannot reach {endpoint} when trying to {action}: {hint}.") from exc
        except ReadTimeoutError as exc:
            endpoint = display_endpoint(
                self.settings.endpoint_url or str(exc.kwargs.get("endpoint_url") or self._endpoint_name())
            )
            raise BackendUnavailable(
                f"{endpoint} did not answer within 60 s when trying to {action}: try again in a moment."
            ) from exc
        except ParamValidationError:
            raise  # a request LakeLens built wrongly is a bug, not something the analyst can fix
        except BotoCoreError as exc:
            raise BackendUnavailable(f"AWS could not {action}: {self._scrub(str(exc))}") from exc

    def _client_error(
        self, exc: ClientError, action: str, missing: LakeLensError | None, exists: LakeLensError | None
    ) -> LakeLensError:
        error = exc.response.get("Error", {})
        code = str(error.get("Code") or exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", ""))
        message = self._scrub(str(error.get("Message") or ""))
        if code == "NoSuchBucket":
            return BackendUnavailable(self._no_bucket())
        if code in ("301", "PermanentRedirect"):
            return BackendUnavailable(
                f"The bucket {self.bucket} is not in {self.settings.aws_region}: set LAKELENS_AWS_REGION to the "
                "bucket's region."
            )
        if code in _DENIED:
            return BackendUnavailable(
                f"AWS refused access when trying to {action}: check the IAM policy of the credentials in use."
            )
        if code in _BAD_CREDENTIALS:
            return BackendUnavailable(
                f"AWS did not accept the credentials when trying to {action}: check the access key or "
                "LAKELENS_AWS_PROFILE."
            )
        if code in _EXPIRED:
            return BackendUnavailable("The AWS session has expired: log in again (e.g. `aws sso login`) and retry.")
        if code in _THROTTLED:
            return BackendUnavailable(
                f"AWS kept throttling requests when trying to {action}, even after {MAX_RETRIES} retries: "
                "wait a minute and try again."
            )
        if code in _SERVER:
            return BackendUnavailable(f"AWS had an internal error when trying to {action}: try again in a moment.")
        if code == "InvalidRequestException":
            return self._athena_request_error(message, action, missing)
        if code in _NOT_FOUND:
            return missing or NotFound(f"Cannot {action}: {sentence(message or 'it does not exist')}")
        if code == "AlreadyExistsException":
            return exists or CatalogError(f"Cannot {action}: {sentence(message or 'it already exists')}")
        if code in _GLUE_INPUT:
            return CatalogError(f"Glue refused to {action}: {sentence(message or code)}")
        return LakeLensError(f"AWS could not {action}: {sentence(message or code)}")

    def _athena_request_error(self, message: str, action: str, missing: LakeLensError | None) -> LakeLensError:
        """Athena answers bad SQL, unknown query ids and unknown workgroups all with InvalidRequestException."""
        failure = athena_failure(message)
        if failure is not None:
            return failure
        lowered = message.lower()
        if "workgroup" in lowered and ("not found" in lowered or "does not exist" in lowered):
            return BackendUnavailable(
                f"The Athena workgroup {self.settings.athena_workgroup!r} does not exist: create it or set "
                "LAKELENS_ATHENA_WORKGROUP."
            )
        if missing is not None and ("not found" in lowered or "does not exist" in lowered):
            return missing
        positioned = sql_error_at(message)
        if positioned is not None:
            return positioned
        return QueryFailed(f"Athena refused to {action}: {sentence(message or 'no reason given')}")

    def _scrub(self, text: str) -> str:
        """One line of an AWS message, with the credentials in use blanked should a service ever echo them."""
        line = " ".join(text.split())
        if len(line) > 400:
            line = line[:397] + "..."
        for secret in self._known_secrets():
            line = line.replace(secret, "***")
        return line

    def _known_secrets(self) -> list[str]:
        session = self._boto_session
        if session is None:
            return []
        try:
            credentials = session.get_credentials()
            if credentials is None:
                return []
            frozen = credentials.get_frozen_credentials()
        except Exception:  # never let the scrubber hide the original failure
            return []
        return [value for value in (frozen.secret_key, frozen.token, frozen.access_key) if value and len(value) >= 8]

    def _endpoint_name(self) -> str:
        return self.settings.endpoint_url or f"AWS in {self.settings.aws_region}"

    def _no_bucket(self) -> str:
        return f"The bucket {self.bucket} does not exist: create it or correct LAKELENS_S3_LAKE ({self.lake})."


def sentence(text: str) -> str:
    text = text.strip()
    return text if text.endswith((".", "!", "?")) else text + "."


def display_endpoint(endpoint: str | None) -> str | None:
    """The endpoint without any user:password part, so it can be shown and logged."""
    if not endpoint:
        return endpoint
    parts = urlsplit(endpoint)
    if parts.username is None and parts.password is None:
        return endpoint
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


_MISSING_TABLE = (
    re.compile(r"Table\s+['\"`]?([\w\-.\"`]+?)['\"`]?\s+does not exist", re.I),
    re.compile(r"Table not found:?\s+['\"`]?([\w\-.\"`]+)", re.I),
)
_MISSING_SCHEMA = re.compile(r"(?:Schema|Database)\s+['\"`]?([\w\-.\"`]+?)['\"`]?\s+(?:does not exist|not found)", re.I)


def athena_failure(reason: str) -> LakeLensError | None:
    """A missing table or database named in Athena's reason, as the error the local engine would raise."""
    where = re.search(r"line (\d+:\d+)", reason)
    at = f" (Athena, line {where.group(1)})" if where else ""
    for pattern in _MISSING_TABLE:
        match = pattern.search(reason)
        if match:
            parts = [part.strip("\"`'") for part in match.group(1).split(".")]
            if len(parts) == 3 and parts[0].lower() == sqlmod.DEFAULT_CATALOG:
                parts = parts[1:]
            return TableNotFound(f"Table {'.'.join(parts)} does not exist in the catalog{at}.")
    match = _MISSING_SCHEMA.search(reason)
    if match:
        name = match.group(1).strip("\"`'").split(".")[-1]
        return NotFound(f"Database {name!r} does not exist in the catalog{at}.")
    return None


def sql_error_at(reason: str) -> SqlError | None:
    """A reason that points at a line and column of the SQL (a syntax error, an unknown column or function) is
    an error in the analyst's SQL, as the local engine reports it, with the place for the editor to show.

    Athena reports these as a FAILED query (COLUMN_NOT_FOUND, SYNTAX_ERROR...), or for some syntax errors as an
    InvalidRequestException from StartQueryExecution; both end here.
    """
    position = re.search(r"line (\d+):(\d+)", reason)
    if not position:
        return None
    return SqlError(
        f"Athena could not run the query: {sentence(reason)}",
        line=int(position.group(1)),
        column=int(position.group(2)),
    )
