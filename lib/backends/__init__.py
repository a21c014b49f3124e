"""The two backends behind one interface; :func:`make_backend` picks one from the settings."""

from __future__ import annotations

from lib.backends.base import Backend
from lib.settings import Settings


def make_backend(settings: Settings) -> Backend:
    if settings.backend == "aws":
        from lib.backends.aws import AwsBackend

        return AwsBackend(settings)
    from lib.backends.local import LocalBackend

    return LocalBackend(settings)
