"""Text from SQL, links and data shown inside Streamlit markdown (labels, captions, errors) made inert.

Labels, captions and alerts render Markdown: links, images (fetched from any site), colour directives and HTML.
A tab name or a top value from a shared link or a lake file must not draw any of those, so brackets, angle
brackets and backticks are escaped; the rest reads as written.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

import streamlit as st

from lib.errors import LakeLensError

_LINKS = re.compile(r"([\\`\[\]<>])")


def defanged(text: str) -> str:
    """A sentence (an error naming a value) with links, images, directives and HTML made inert."""
    return _LINKS.sub(r"\\\1", text)


_MARKDOWN = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~:$=])")


def literal(text: str) -> str:
    """A text from the lake (a review) shown as written: every Markdown character escaped, so a line that starts with
    ``#`` is no heading and ``**`` no bold; line breaks kept."""
    return "  \n".join(_MARKDOWN.sub(r"\\\1", line) for line in text.split("\n"))


def plain(text: str) -> str:
    """A one-line label: :func:`defanged`, line breaks as spaces."""
    return defanged(text.replace("\n", " "))


@contextmanager
def inert_errors() -> Iterator[None]:
    """:func:`components.feedback.friendly_errors` for panels whose messages can quote a value from a link."""
    from components.feedback import friendly_errors

    with friendly_errors():  # anything but a LakeLensError is a bug: logged, one line
        try:
            yield
        except LakeLensError as exc:
            st.error(defanged(str(exc)), icon=":material/error:")
