"""What an analyst asks of a local AutoML job: :class:`JobConfig` (stored as ``job.json``) and the rules it is
checked against, before anything is read or started.

Both :mod:`lib.automl.jobs` (the records and the runner process) and :mod:`lib.automl.engine` (the training)
read it; it imports neither. ``lib.automl.jobs`` re-exports every name here, as it held them first.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, fields
from datetime import UTC, datetime
from typing import Any, Literal

from lib.errors import AutoMLError

Objective = Literal["accuracy", "f1_macro"]
LabelSource = Literal["column", "rating"]
ESTIMATORS = ("lgbm", "xgboost", "rf", "extra_tree", "lrl1", "lrl2", "sgd")
ESTIMATOR_LABELS = {
    "lgbm": "LightGBM",
    "xgboost": "XGBoost",
    "xgb_limitdepth": "XGBoost (depth-limited)",
    "rf": "Random forest",
    "extra_tree": "Extra trees",
    "lrl1": "Logistic regression (L1)",
    "lrl2": "Logistic regression (L2)",
    "sgd": "Linear model (SGD)",
}
MIN_BUDGET_S = 10
MAX_BUDGET_S = 24 * 3600
NAME_PATTERN = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,31}$")  # Autopilot's AutoMLJobName rule


def validate_name(name: str) -> str:
    if not NAME_PATTERN.match(name or ""):
        raise AutoMLError(
            f"{name!r} is not a valid job name: use 1–32 letters, digits and hyphens, starting with a letter or digit."
        )
    return name


def default_name(table: str, when: datetime | None = None) -> str:
    """``reviews-1125-2120-05``: the table (made name-safe, at most 18 characters) and the time, unique enough."""
    stamp = (when or datetime.now(UTC)).strftime("%m%d-%H%M-%S")
    base = re.sub(r"[^a-zA-Z0-9]+", "-", table).strip("-")[:18].strip("-") or "job"
    return f"{base}-{stamp}"


@dataclass(frozen=True)
class JobConfig:
    """What the analyst asked for. Stored as ``job.json`` and never changed afterwards."""

    name: str
    database: str
    table: str
    text_column: str
    label_column: str
    label_source: LabelSource = "column"
    objective: Objective = "accuracy"
    budget_s: int = 60
    max_rows: int = 50_000
    seed: int = 42
    validation_fraction: float = 0.15
    test_fraction: float = 0.15
    estimators: tuple[str, ...] = ESTIMATORS
    feature_sets: tuple[str, ...] = ("words", "chars", "vader")
    created: str = ""
    # Retraining with people's labels (lib/automl/review.py): the labels table (database.table), the column of
    # ``table`` its review ids name, and the job whose scored table was labelled. Empty for an ordinary job.
    labels_table: str = ""
    id_column: str = ""
    parent_job: str = ""

    @property
    def qualified_table(self) -> str:
        return f"{self.database}.{self.table}"

    @property
    def label_text(self) -> str:
        if self.label_source == "rating":
            text = f"sentiment from {self.label_column} (1–2 → −1, 3 → 0, 4–5 → +1)"
        else:
            text = self.label_column
        if self.labels_table:
            text += f", people's labels from {self.labels_table} first"
        return text

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["estimators"] = list(self.estimators)
        data["feature_sets"] = list(self.feature_sets)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> JobConfig:
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        values["estimators"] = tuple(values.get("estimators", ESTIMATORS))
        # a job recorded before the other feature sets existed searched word n-grams only
        values["feature_sets"] = tuple(values.get("feature_sets", ("words",)))
        return cls(**values)

    def check(self) -> None:
        """Refuse what cannot work before anything is read or started."""
        validate_name(self.name)
        if self.objective not in ("accuracy", "f1_macro"):
            raise AutoMLError(f"The objective must be accuracy or f1_macro, not {self.objective!r}.")
        if self.label_source not in ("column", "rating"):
            raise AutoMLError("The label comes from a label column or from a rating column.")
        if self.budget_s < MIN_BUDGET_S:
            raise AutoMLError(
                f"A time budget of {self.budget_s} s is too short to train anything; give the job at least "
                f"{MIN_BUDGET_S} s."
            )
        if self.budget_s > MAX_BUDGET_S:
            raise AutoMLError(f"A time budget above {MAX_BUDGET_S // 3600} hours is not allowed; choose a shorter one.")
        if self.text_column == self.label_column:
            raise AutoMLError("The text and the label must be different columns.")
        unknown = sorted(set(self.estimators) - set(ESTIMATOR_LABELS))
        if unknown or not self.estimators:
            raise AutoMLError(
                f"Unknown estimator(s) {', '.join(unknown) or '(none chosen)'}; choose from {', '.join(ESTIMATORS)}."
            )
        unknown_sets = sorted(set(self.feature_sets) - {"words", "chars", "vader"})
        if unknown_sets or "words" not in self.feature_sets:
            raise AutoMLError(
                f"Feature sets come from words, chars and vader, and always include words; got "
                f"{', '.join(self.feature_sets) or 'none'}."
            )
        if self.max_rows < 50:
            raise AutoMLError("A job needs to read at least 50 rows; raise LAKELENS_AUTOML_MAX_ROWS.")
        if self.labels_table:
            from lib.catalog import validate_identifier

            database, _, table = self.labels_table.rpartition(".")
            if not database or not table:
                raise AutoMLError("Name the labels table as database.table.")
            validate_identifier(database, "database")
            validate_identifier(table, "table")
            if not self.id_column:
                raise AutoMLError("Training with a labels table needs the id column its review ids name.")
            validate_identifier(self.id_column, "column")
