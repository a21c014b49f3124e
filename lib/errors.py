"""The one exceptions module of LakeLens.

Every error a user can cause or meet is a :class:`LakeLensError` whose message is written for the analyst:
what went wrong and what to do about it. Pages show ``str(error)`` with ``st.error``; the CLI prints it on one
line and exits non-zero. Anything that is not a ``LakeLensError`` is a bug.
"""

from __future__ import annotations


class LakeLensError(Exception):
    """Base class: the message is shown to the analyst as it is."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class SettingsError(LakeLensError):
    """A setting has a value LakeLens cannot use."""


class BackendUnavailable(LakeLensError):
    """The configured backend (lake folder, S3, Glue, Athena) cannot be reached or refused access."""


class NotFound(LakeLensError):
    """An object, database, table or query that was asked for does not exist."""


class TableNotFound(NotFound):
    """A table named in a request or in SQL is not in the catalog."""


class PathError(LakeLensError):
    """A key or name would leave the lake or is not a valid name for an object."""


class SqlError(LakeLensError):
    """SQL could not be parsed or translated; carries the line and column where known."""

    def __init__(self, message: str, line: int | None = None, column: int | None = None) -> None:
        super().__init__(message)
        self.line = line
        self.column = column


class SqlRefused(SqlError):
    """SQL was understood but is not allowed (writes, file access, several statements)."""


class QueryFailed(LakeLensError):
    """The engine ran the query and it failed, was cancelled or timed out."""


class QueryCancelled(QueryFailed):
    """The query was cancelled by the analyst."""


class QueryTimeout(QueryFailed):
    """The query ran longer than the ``query_timeout_s`` setting allows."""


class CatalogError(LakeLensError):
    """A table definition is invalid or conflicts with one that exists."""


class IngestError(LakeLensError):
    """A file could not be ingested; nothing was written."""


class IngestCancelled(IngestError):
    """The analyst cancelled an ingest or a curate; everything it wrote was removed."""


class AutoMLError(LakeLensError):
    """An AutoML job cannot start or run with what it was given (label, table, budget, job name)."""


class ReportError(LakeLensError):
    """A report file cannot be read (front matter, an unclosed block) or a report action cannot be done."""


class ParameterError(SqlError):
    """A query parameter is missing, unknown, or has a value that is not of its type."""
