"""Which column of a review table means what: the roles, their guesses from names and types, and the sentiment
definitions a mapping supports.

:func:`detect_columns` guesses the rating, text, category, date, label and word-count columns from names and types,
for Amazon-style names (``star_rating``, ``review_body``) and raw Kaggle-style ones (``Rating``, ``Review Text``,
``Class Name``) alike. The analyst can change every guess.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields, replace
from typing import Literal

from lib.catalog import Column, TableDef
from lib.errors import LakeLensError

SentimentDefinition = Literal["three_class", "binary", "label"]
Role = Literal["rating", "text", "category", "date", "label", "words"]
ROLES: tuple[Role, ...] = ("rating", "text", "category", "date", "label", "words")

DEFINITIONS: dict[SentimentDefinition, str] = {
    "three_class": "Three classes from the rating: 1–2 → −1, 3 → 0, 4–5 → +1 (the course)",
    "binary": "Binary from the rating: above 3 → 1, otherwise 0",
    "label": "An existing label column, as it is",
}
ROLE_HELP: dict[Role, str] = {
    "rating": "Star rating (a number, usually 1–5); the sentiment is derived from it.",
    "text": "Review text; used for words per review, text search and the drill-down.",
    "category": "Category of the reviewed product; the facet of the bias metrics.",
    "date": "When the review was written; enables the monthly charts and the date filter.",
    "label": "An existing sentiment label (e.g. -1/0/1, 0/1, positive/negative).",
    "words": "A precomputed word count; used instead of counting words in the text (much faster).",
}

_NUMERIC_TYPES = re.compile(r"^(tinyint|smallint|int|integer|bigint|float|double|real|decimal(\(.*\))?)$")
_STRING_TYPES = re.compile(r"^(string|varchar(\(\d+\))?|char(\(\d+\))?)$")


@dataclass(frozen=True)
class ColumnMapping:
    """Which column of the table plays which role; ``None`` when the table has none."""

    rating: str | None = None
    text: str | None = None
    category: str | None = None
    date: str | None = None
    label: str | None = None
    words: str | None = None

    def get(self, role: Role) -> str | None:
        value: str | None = getattr(self, role)
        return value

    def with_role(self, role: Role, column: str | None) -> ColumnMapping:
        return replace(self, **{role: column})

    def as_dict(self) -> dict[str, str | None]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


def normalize_name(name: str) -> str:
    """``Review Text`` -> ``review_text``: lower case, runs of other characters become one underscore."""
    return re.sub(r"[^a-z0-9]+", "_", name.strip().lower()).strip("_")


def is_numeric(glue_type: str) -> bool:
    return bool(_NUMERIC_TYPES.match(glue_type.strip().lower()))


def is_string(glue_type: str) -> bool:
    return bool(_STRING_TYPES.match(glue_type.strip().lower()))


def is_temporal(glue_type: str) -> bool:
    return glue_type.strip().lower() in ("date", "timestamp")


# (role, exact normalized names in order of preference, name fragments, type check)
_EXACT: dict[Role, tuple[str, ...]] = {
    "rating": ("star_rating", "rating", "stars", "overall", "score", "review_rating", "review_score", "rating_value"),
    "text": ("review_body", "review_text", "reviewtext", "body", "text", "review", "content", "comment", "comments"),
    "category": (
        "product_category",
        "category",
        "class_name",
        "department_name",
        "division_name",
        "main_category",
        "categories",
        "department",
        "division",
        "genre",
    ),
    "date": ("review_date", "date", "reviewed_at", "created_at", "review_time", "timestamp", "time", "created"),
    "label": ("sentiment", "label", "polarity", "sentiment_label", "target", "recommended_ind", "recommended"),
    "words": ("review_words", "word_count", "words", "num_words", "n_words", "body_words", "review_word_count"),
}
_FRAGMENTS: dict[Role, tuple[str, ...]] = {
    "rating": ("rating", "stars", "score"),
    "text": ("body", "text", "review", "comment", "content"),
    "category": ("category", "class", "department", "division", "genre"),
    "date": ("date", "time", "created"),
    "label": ("sentiment", "label", "polarity"),
    "words": ("word",),
}
# Text-like names that are not the review body: titles and headlines are short and would skew the lengths.
_NOT_TEXT = ("headline", "title", "summary", "id", "name", "url")


def _type_fits(role: Role, glue_type: str) -> bool:
    if role in ("rating", "words"):
        return is_numeric(glue_type) or (role == "rating" and is_string(glue_type))
    if role == "text":
        return is_string(glue_type)
    if role == "category":
        return is_string(glue_type) or glue_type.lower() in ("int", "integer", "bigint", "smallint", "tinyint")
    if role == "date":
        return is_temporal(glue_type) or is_string(glue_type)
    return is_numeric(glue_type) or is_string(glue_type) or glue_type.lower() == "boolean"


def _score(role: Role, column: Column) -> int:
    """How well a column fits a role: 0 = not at all; higher is better."""
    if not _type_fits(role, column.type):
        return 0
    name = normalize_name(column.name)
    exact = _EXACT[role]
    if name in exact:
        score = 1000 - exact.index(name)
    elif any(fragment in name for fragment in _FRAGMENTS[role]):
        score = 100
    else:
        return 0
    if role == "text" and any(part in name.split("_") for part in _NOT_TEXT):
        return 0
    if role == "category" and ("id" in name.split("_") or name.endswith("_id")):
        return 0
    if role == "rating" and is_numeric(column.type):
        score += 10  # a numeric rating beats one stored as text
    if role == "date" and is_temporal(column.type):
        score += 10
    return score


def detect_columns(table: TableDef) -> ColumnMapping:
    """The best guess for every role from the table's column names and types; each column used at most once."""
    taken: set[str] = set()
    found: dict[str, str | None] = {}
    order: tuple[Role, ...] = ("rating", "text", "words", "label", "category", "date")
    for role in order:
        scored = [(_score(role, c), index, c.name) for index, c in enumerate(table.all_columns) if c.name not in taken]
        scored = [item for item in scored if item[0] > 0]
        if scored:
            best = max(scored, key=lambda item: (item[0], -item[1]))[2]
            found[role] = best
            taken.add(best)
        else:
            found[role] = None
    return ColumnMapping(**found)


def column_type(table: TableDef, name: str) -> str:
    for column in table.all_columns:
        if column.name == name:
            return column.type
    raise LakeLensError(f"Table {table.qualified_name} has no column {name!r}; choose one of its columns.")


def definitions_for(mapping: ColumnMapping) -> list[SentimentDefinition]:
    """The sentiment definitions this mapping supports."""
    out: list[SentimentDefinition] = []
    if mapping.rating:
        out += ["three_class", "binary"]
    if mapping.label:
        out.append("label")
    return out


NO_SOURCE_MESSAGE = (
    "This table has no column LakeLens can turn into a sentiment: it needs a numeric rating (such as star_rating or "
    "Rating, 1–5) or an existing sentiment label column. Pick one under Columns, or choose another table."
)
