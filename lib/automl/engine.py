"""The local AutoML engine: data from the lake, a stratified split, TF-IDF features, FLAML, one candidate per estimator.

Only two columns of the table ever leave the engine, and at most ``max_rows`` rows of them, sampled
deterministically (ordered by a hash of the text) when the table is larger. Before that, one aggregate query
counts rows per class and empty texts, so a label with one class, a tiny table or an empty text column is refused
with a clear message before any row is read or any process started.

The search itself is FLAML's (cost-frugal hyperparameter search across estimators within a time budget); nothing
here searches by hand. FLAML keeps the best configuration found for each estimator: each becomes a candidate,
refit on the training split and measured on the test split it never saw.
"""

from __future__ import annotations

import io
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd
from sqlglot import exp

from lib import sentiment
from lib.automl import metrics
from lib.automl.config import ESTIMATOR_LABELS, JobConfig
from lib.backends.base import Backend
from lib.catalog import TableDef
from lib.errors import AutoMLError
from lib.sql.build import column, has_text
from lib.sql.build import table as table_ref
from lib.values import plain

MIN_ROWS = 50
MIN_PER_CLASS = 10
MAX_CLASSES = 20


# -- the data -----------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ClassCount:
    value: Any
    name: str
    rows: int  # rows with this label and a non-empty text


@dataclass(frozen=True)
class DataProfile:
    """One aggregate over the whole table: what a job would train on."""

    table: str
    total_rows: int
    empty_texts: int
    missing_labels: int
    classes: tuple[ClassCount, ...]
    human_labels: int = 0  # rows with a text whose label a person gave (a job with a labels table)
    changed_labels: int = 0  # of those, rows whose label differs from the one the table gives (or it has none)

    @property
    def usable_rows(self) -> int:
        return sum(c.rows for c in self.classes)

    def to_dict(self) -> dict[str, Any]:
        return {
            "table": self.table,
            "total_rows": self.total_rows,
            "empty_texts": self.empty_texts,
            "missing_labels": self.missing_labels,
            "usable_rows": self.usable_rows,
            "classes": [{"value": plain(c.value), "name": c.name, "rows": c.rows} for c in self.classes],
            "human_labels": self.human_labels,
            "changed_labels": self.changed_labels,
        }


def _value_key(value: Any) -> str:
    return json.dumps(plain(value), default=str)


def _definition(config: JobConfig) -> sentiment.SentimentDefinition:
    return "three_class" if config.label_source == "rating" else "label"


HUMAN_LABEL = "lakelens_human_label"
HUMAN_ID = "lakelens_review_id"


def human_values(backend: Backend, table: TableDef, config: JobConfig) -> dict[str, Any]:
    """Class name -> the label value the table's own label gives it, to put a person's answer in the same terms:
    -1 / 0 / 1 for sentiment from a rating; for a label column, the values its classes were found with."""
    if config.label_source == "rating":
        return {"negative": -1, "neutral": 0, "positive": 1}
    base = profile(backend, replace(config, labels_table="", id_column=""))
    return {c.name: c.value for c in base.classes}


def _human_subquery(config: JobConfig) -> exp.Expr:
    """The latest answer that is not skip for each review id of the labels table (lib/automl/review.py)."""
    database, _, name = config.labels_table.rpartition(".")
    sql = (
        f'SELECT "review_id" AS "{HUMAN_ID}", max_by("label", "label_id") AS "{HUMAN_LABEL}" '
        f'FROM "{database}"."{name}" WHERE "label" <> \'skip\' GROUP BY "review_id"'
    )
    return exp.maybe_parse(sql, dialect="athena").subquery("lakelens_human")


def _from(query: exp.Select, table: TableDef, config: JobConfig) -> exp.Select:
    query = query.from_(table_ref(table))
    if not config.labels_table:
        return query
    sentiment.column_type(table, config.id_column)
    on = exp.EQ(
        this=exp.Cast(
            this=exp.column(config.id_column, table=table.name, quoted=True), to=exp.DataType.build("varchar")
        ),
        expression=exp.column(HUMAN_ID, table="lakelens_human", quoted=True),
    )
    return query.join(_human_subquery(config), on=on, join_type="left")


def _with_human(base: exp.Expr, human: dict[str, Any] | None) -> exp.Expr:
    if not human:
        return base
    mapped = exp.Case(
        this=exp.column(HUMAN_LABEL, quoted=True),
        ifs=[exp.If(this=exp.Literal.string(name), true=exp.convert(value)) for name, value in human.items()],
    )
    return exp.func("coalesce", mapped, base)


def label_expression(table: TableDef, config: JobConfig, human: dict[str, Any] | None = None) -> exp.Expr:
    """The label of a row as SQL: the column as it is, or the course's sentiment from a rating column; with
    ``human`` (class name -> value), a person's answer first wherever the labels table has one."""
    return _with_human(_base_label(table, config), human)


def _base_label(table: TableDef, config: JobConfig) -> exp.Expr:
    if config.label_source == "rating":
        spec = sentiment.Spec(table, sentiment.ColumnMapping(rating=config.label_column), "three_class")
        if not (
            sentiment.is_numeric(sentiment.column_type(table, config.label_column))
            or sentiment.is_string(sentiment.column_type(table, config.label_column))
        ):
            raise AutoMLError(f"Column {config.label_column} is not a rating (a number from 1 to 5); choose another.")
        return sentiment.sentiment_expr(spec)
    sentiment.column_type(table, config.label_column)
    return column(config.label_column)


def _text_expression(table: TableDef, config: JobConfig) -> exp.Expr:
    kind = sentiment.column_type(table, config.text_column)
    if not sentiment.is_string(kind):
        raise AutoMLError(
            f"Column {config.text_column} holds {kind} values, not text; choose the column with the review text."
        )
    return column(config.text_column)


def profile_sql(table: TableDef, config: JobConfig, human: dict[str, Any] | None = None) -> str:
    text = _text_expression(table, config)
    label = label_expression(table, config, human)
    empty = exp.not_(has_text(text, never_null=True))
    columns = [
        exp.alias_(label, "label", quoted=True),
        exp.alias_(exp.Count(this=exp.Star()), "rows", quoted=True),
        exp.alias_(exp.CountIf(this=empty), "empty", quoted=True),
    ]
    if human:
        given = exp.and_(
            exp.Not(this=exp.Is(this=exp.column(HUMAN_LABEL, quoted=True), expression=exp.Null())),
            has_text(text, never_null=True),
        )
        base = _base_label(table, config)
        same = exp.func("coalesce", exp.EQ(this=base, expression=label.copy()), exp.false())
        columns += [
            exp.alias_(exp.CountIf(this=given.copy()), "human", quoted=True),
            exp.alias_(exp.CountIf(this=exp.and_(given.copy(), exp.not_(same))), "changed", quoted=True),
        ]
    query = _from(exp.select(*columns), table, config).group_by(exp.Literal.number(1))
    return query.sql(dialect="athena")


def sample_sql(table: TableDef, config: JobConfig, human: dict[str, Any] | None = None) -> str:
    """The two columns, non-empty rows only, ordered by a hash of the text (a fixed, well-mixed sample), capped."""
    text = _text_expression(table, config)
    label = label_expression(table, config, human)
    digest = exp.func("to_hex", exp.func("md5", exp.func("to_utf8", text.copy())))
    query = (
        _from(
            exp.select(exp.alias_(text.copy(), "text", quoted=True), exp.alias_(label.copy(), "label", quoted=True)),
            table,
            config,
        )
        .where(
            exp.and_(
                exp.Not(this=exp.Is(this=label.copy(), expression=exp.Null())),
                has_text(text, never_null=True),
            )
        )
        .order_by(digest, exp.Literal.number(2))
        .limit(config.max_rows)
    )
    return query.sql(dialect="athena")


def profile(backend: Backend, config: JobConfig) -> DataProfile:
    """Count rows per class and empty texts in the whole table (one aggregate query)."""
    table = backend.get_table(config.database, config.table)
    human = human_values(backend, table, config) if config.labels_table else None
    result = backend.run_query(profile_sql(table, config, human), max_rows=MAX_CLASSES * 5, database=config.database)
    frame = result.frame
    if result.stats.truncated:
        raise AutoMLError(
            f"Column {config.label_column} has more than {MAX_CLASSES * 5} distinct values, so it is not a label; "
            "choose a column with a few classes (such as sentiment) or derive the sentiment from a rating."
        )
    definition = _definition(config)
    classes: list[ClassCount] = []
    missing = 0
    empty_total = int(frame["empty"].sum()) if len(frame) else 0
    total = int(frame["rows"].sum()) if len(frame) else 0
    for value, rows, empty in zip(frame["label"], frame["rows"], frame["empty"], strict=True):
        if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
            missing += int(rows) - int(empty)
            continue
        classes.append(ClassCount(plain(value), sentiment.sentiment_name(value, definition), int(rows) - int(empty)))
    values = {_value_key(c.value) for c in classes}
    if definition == "label" and values and values <= {"0", "1", "false", "true"}:
        # A 0/1 (or boolean) label is binary sentiment: 0 is negative, not the three-class "neutral".
        classes = [
            ClassCount(c.value, "positive" if _value_key(c.value) in ("1", "true") else "negative", c.rows)
            for c in classes
        ]
    order = sentiment.sentiment_order([c.name for c in classes])
    classes.sort(key=lambda c: (order.index(c.name) if c.name in order else len(order), str(c.value)))
    human_rows = int(frame["human"].sum()) if human and len(frame) else 0
    changed = int(frame["changed"].sum()) if human and len(frame) else 0
    kept = tuple(c for c in classes if c.rows > 0)
    return DataProfile(config.qualified_table, total, empty_total, missing, kept, human_rows, changed)


def check_profile(data: DataProfile, config: JobConfig) -> None:
    """Refuse data no classifier can learn from, with the reason and what to do."""
    where = f"table {data.table}"
    if data.total_rows == 0:
        raise AutoMLError(f"The {where} is empty; choose a table with reviews in it.")
    if data.empty_texts >= data.total_rows:
        raise AutoMLError(
            f"The text column {config.text_column} is empty in all {data.total_rows:,} rows of the {where}; "
            "choose the column that holds the review text."
        )
    if not data.classes:
        raise AutoMLError(
            f"The label ({config.label_text}) has no value in any row with a text in the {where}; choose another label."
        )
    if len(data.classes) > MAX_CLASSES:
        raise AutoMLError(
            f"The label ({config.label_text}) has {len(data.classes)} classes; at most {MAX_CLASSES} are supported. "
            "Choose a label with a few classes, or derive the sentiment from a rating."
        )
    if len(data.classes) < 2:
        only = data.classes[0]
        raise AutoMLError(
            f"Every usable row of the {where} has the same label ({only.name}), so there is nothing to learn; "
            "a classifier needs at least two classes. Choose another label or table."
        )
    if data.usable_rows < MIN_ROWS:
        raise AutoMLError(
            f"The {where} has only {data.usable_rows:,} rows with both a text and a label; a job needs at least "
            f"{MIN_ROWS}. Use a larger table."
        )
    rare = [c for c in data.classes if c.rows < MIN_PER_CLASS]
    if rare:
        listed = ", ".join(f"{c.name} ({c.rows})" for c in rare)
        raise AutoMLError(
            f"Some classes have fewer than {MIN_PER_CLASS} reviews: {listed}. Each class needs at least "
            f"{MIN_PER_CLASS} to be split into training, validation and test sets; choose another label or table."
        )


@dataclass
class Dataset:
    texts: list[str]
    y: np.ndarray  # class indices into ``classes``
    classes: list[str]
    values: list[Any]


def load(backend: Backend, config: JobConfig, data: DataProfile) -> Dataset:
    """At most ``max_rows`` (text, label) rows, as class indices in the profile's class order."""
    table = backend.get_table(config.database, config.table)
    human = human_values(backend, table, config) if config.labels_table else None
    result = backend.run_query(sample_sql(table, config, human), max_rows=config.max_rows, database=config.database)
    frame = result.frame
    index = {_value_key(c.value): i for i, c in enumerate(data.classes)}
    keys = [index.get(_value_key(v), -1) for v in frame["label"]]
    y = np.asarray(keys, dtype=int)
    keep = y >= 0
    texts = [str(t) for t, k in zip(frame["text"], keep, strict=True) if k]
    return Dataset(texts, y[keep], [c.name for c in data.classes], [c.value for c in data.classes])


@dataclass
class Split:
    train: tuple[list[str], np.ndarray]
    validation: tuple[list[str], np.ndarray]
    test: tuple[list[str], np.ndarray]


def split(dataset: Dataset, config: JobConfig) -> Split:
    """Stratified train / validation / test split, seeded; every class appears in each part."""
    from sklearn.model_selection import train_test_split

    counts = np.bincount(dataset.y, minlength=len(dataset.classes))
    thin = [dataset.classes[i] for i, n in enumerate(counts) if n < 3]
    if thin:
        raise AutoMLError(
            f"After sampling, class {', '.join(thin)} has fewer than 3 reviews, too few to split; raise "
            "LAKELENS_AUTOML_MAX_ROWS or choose another label."
        )
    held = config.validation_fraction + config.test_fraction
    n = len(dataset.y)
    k = len(dataset.classes)
    held_rows = max(round(n * held), 2 * k)
    x_train, x_rest, y_train, y_rest = train_test_split(
        dataset.texts, dataset.y, test_size=held_rows, stratify=dataset.y, random_state=config.seed
    )
    test_rows = max(round(held_rows * config.test_fraction / held), k)
    x_val, x_test, y_val, y_test = train_test_split(
        x_rest, y_rest, test_size=min(test_rows, len(y_rest) - k), stratify=y_rest, random_state=config.seed
    )
    return Split((list(x_train), y_train), (list(x_val), y_val), (list(x_test), y_test))


# -- features -----------------------------------------------------------------------------------------------------
def vectorizer(train_rows: int) -> Any:
    """Word unigrams and bigrams, sublinear TF-IDF; rare tokens dropped once there is enough text to afford it."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    return TfidfVectorizer(
        ngram_range=(1, 2),
        min_df=2 if train_rows >= 500 else 1,
        max_df=0.95,
        max_features=50_000,
        sublinear_tf=True,
        strip_accents="unicode",
        dtype=np.float32,
    )


# Feature sets beside the word n-grams: each is searched by FLAML with the estimators that suit it, and every
# (estimator, feature set) it tunes becomes a candidate. Character n-grams within word boundaries catch spelling
# variants, elongations and word pieces ("disappoint" in "disappointing", "dissapointed"); VADER's lexicon and rules
# (negation, intensifiers, "but") add four scores learnt from human ratings, not from this table.
FEATURE_SETS = ("words", "chars", "vader")
FEATURE_LABELS = {
    "words": "word 1–2-grams",
    "chars": "word 1–2-grams + character 2–5-grams",
    "vader": "word 1–2-grams + VADER lexicon scores",
}
FEATURE_SUFFIX = {"words": "", "chars": " · char n-grams", "vader": " · VADER"}
# The estimators a feature set is searched with: linear models for the wide character n-grams (trees on 100,000
# sparse columns would spend the budget on a handful of trials); LightGBM too for VADER, whose four dense scores
# trees split on well.
FEATURE_ESTIMATORS: dict[str, tuple[str, ...] | None] = {
    "words": None,  # every estimator of the job
    "chars": ("lrl2", "sgd"),
    "vader": ("lgbm", "lrl2", "sgd"),
}
# Shares of the search budget when all three sets are searched.
FEATURE_SHARES = {"words": 0.5, "chars": 0.25, "vader": 0.25}


class VaderScores:
    """VADER's negative, neutral, positive and compound scores of each text, as a sparse 4-column matrix.

    The lexicon ships inside the vaderSentiment package (no download). Nothing is fitted: ``fit`` is there so the
    object composes like a scikit-learn transformer."""

    names = ("vader:negative", "vader:neutral", "vader:positive", "vader:compound")

    def __init__(self) -> None:
        self._analyzer: Any = None

    def __getstate__(self) -> dict[str, Any]:
        return {}  # the analyzer (and its lexicon) is rebuilt on load, not pickled into every model

    def __setstate__(self, state: dict[str, Any]) -> None:
        self._analyzer = None

    def fit(self, texts: Sequence[str]) -> VaderScores:
        return self

    def transform(self, texts: Sequence[str]) -> Any:
        from scipy import sparse

        if self._analyzer is None:
            from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

            self._analyzer = SentimentIntensityAnalyzer()
        scores = [self._analyzer.polarity_scores(str(t)) for t in texts]
        rows = np.asarray([[s["neg"], s["neu"], s["pos"], s["compound"]] for s in scores], dtype=np.float32)
        return sparse.csr_matrix(rows.reshape(len(scores), 4))

    def get_feature_names_out(self) -> np.ndarray:
        return np.asarray(self.names, dtype=object)


class FeatureSet:
    """Several fitted transformers side by side (their columns stacked): texts in, one sparse matrix out."""

    def __init__(self, name: str, parts: Sequence[tuple[str, Any]]) -> None:
        self.name = name
        self.parts = list(parts)

    def transform(self, texts: Sequence[str]) -> Any:
        from scipy import sparse

        items = list(texts)
        return sparse.hstack([part.transform(items) for _, part in self.parts], format="csr", dtype=np.float32)

    def get_feature_names_out(self) -> np.ndarray:
        names: list[str] = []
        for prefix, part in self.parts:
            own = [str(n) for n in part.get_feature_names_out()]
            names += [f"{prefix}{n}" for n in own]
        return np.asarray(names, dtype=object)


def char_vectorizer(train_rows: int) -> Any:
    """Character 2–5-grams inside word boundaries, sublinear TF-IDF, the 100,000 most frequent."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    return TfidfVectorizer(
        analyzer="char_wb",
        ngram_range=(2, 5),
        min_df=2 if train_rows >= 500 else 1,
        max_df=0.95,
        max_features=100_000,
        sublinear_tf=True,
        strip_accents="unicode",
        lowercase=True,
        dtype=np.float32,
    )


def feature_sets(words: Any, train_texts: Sequence[str], train_rows: int, wanted: Sequence[str]) -> dict[str, Any]:
    """The feature sets of a job, fitted on the training texts; ``words`` is the fitted word vectorizer."""
    out: dict[str, Any] = {}
    for name in wanted:
        if name == "words":
            out[name] = words
        elif name == "chars":
            chars = char_vectorizer(train_rows).fit(list(train_texts))
            out[name] = FeatureSet(name, [("", words), ("chars:", chars)])
        elif name == "vader":
            out[name] = FeatureSet(name, [("", words), ("", VaderScores())])
        else:
            raise AutoMLError(f"Unknown feature set {name!r}; choose from {', '.join(FEATURE_SETS)}.")
    return out


def candidate_name(estimator: str, features: str) -> str:
    return estimator if features == "words" else f"{estimator}_{features}"


def estimators_for(features: str, chosen: Sequence[str]) -> list[str]:
    allowed = FEATURE_ESTIMATORS.get(features)
    return [e for e in chosen if allowed is None or e in allowed]


# -- the search ---------------------------------------------------------------------------------------------------
class StopSearch(BaseException):
    """Raised inside FLAML's evaluation when the analyst asked the job to stop.

    A ``BaseException`` so that FLAML's own ``except Exception`` handlers let it through.
    """


@dataclass
class Trial:
    trial: int
    estimator: str
    objective: float
    seconds: float


@dataclass
class SearchResult:
    best_config: dict[str, dict[str, Any]]
    best_objective: dict[str, float]
    best_train_time: dict[str, float]
    search_time: dict[str, float]
    trials: list[Trial] = field(default_factory=list)
    best_estimator: str | None = None
    # training rows the best configuration was tried on: FLAML tries big data on a sample first, so a refit on the
    # whole training split costs about best_train_time * train rows / this
    best_sample_size: dict[str, int] = field(default_factory=dict)


def _estimator_classes() -> dict[str, type]:
    from flaml.automl.task.generic_task import GenericTask

    return dict(GenericTask("classification").estimators)


def _clean_config(config: dict[str, Any]) -> dict[str, Any]:
    return {k: plain(v) for k, v in config.items() if not k.startswith("FLAML_")}


def search(
    x_train: Any,
    y_train: np.ndarray,
    x_val: Any,
    y_val: np.ndarray,
    config: JobConfig,
    time_budget_s: float,
    *,
    on_trial: Callable[[Trial, Trial | None], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    log_file: str = "",
    estimators: Sequence[str] | None = None,
    trial_offset: int = 0,
    name_of: Callable[[str], str] = lambda estimator: estimator,
) -> SearchResult:
    """FLAML's search over ``estimators`` (default: ``config.estimators``) within ``time_budget_s``, scored on the
    validation split. ``name_of`` turns FLAML's estimator name into the candidate's; trials are numbered from
    ``trial_offset + 1`` so several searches of one job share one numbering."""
    from flaml.automl import AutoML

    names = {cls: name for name, cls in _estimator_classes().items()}
    trials: list[Trial] = []
    best: list[Trial] = []
    started = time.monotonic()

    def objective_metric(
        x_val_: Any, y_val_: Any, estimator: Any, labels: Any, x_train_: Any, y_train_: Any, *args: Any, **kwargs: Any
    ) -> tuple[float, dict[str, float]]:
        if should_stop is not None and should_stop():
            raise StopSearch
        value = metrics.objective_value(config.objective, np.asarray(y_val_), np.asarray(estimator.predict(x_val_)))
        trial = Trial(
            trial_offset + len(trials) + 1,
            name_of(names.get(type(estimator), type(estimator).__name__)),
            value,
            time.monotonic() - started,
        )
        trials.append(trial)
        if not best or value > best[0].objective:
            best[:] = [trial]
        if on_trial is not None:
            on_trial(trial, best[0])
        return 1.0 - value, {"objective": value}

    automl = AutoML()
    automl.fit(
        X_train=x_train,
        y_train=y_train,
        X_val=x_val,
        y_val=y_val,
        task="classification",
        metric=objective_metric,
        time_budget=max(1.0, time_budget_s),
        estimator_list=list(estimators if estimators is not None else config.estimators),
        n_jobs=1,
        seed=config.seed,
        retrain_full=False,
        verbose=0,
        log_file_name=log_file,
        log_type="all",
    )
    states = getattr(automl, "_search_states", {})
    result = SearchResult({}, {}, {}, {}, trials, automl.best_estimator)
    for name, cfg in (automl.best_config_per_estimator or {}).items():
        if cfg is None:
            continue
        result.best_config[name] = _clean_config(cfg)
        result.best_objective[name] = 1.0 - float(automl.best_loss_per_estimator[name])
        state = states.get(name)
        result.best_train_time[name] = float(getattr(state, "best_config_train_time", 0.0) or 0.0)
        result.search_time[name] = float(getattr(state, "total_time_used", 0.0) or 0.0)
        sample = getattr(state, "best_config_sample_size", None)
        result.best_sample_size[name] = int(sample) if sample else int(x_train.shape[0])
    return result


# -- candidates ---------------------------------------------------------------------------------------------------
class TextModel:
    """A candidate as one object: the TF-IDF vectorizer and the fitted model, texts in, class probabilities out."""

    def __init__(self, vectorizer: Any, estimator: Any, classes: Sequence[str], values: Sequence[Any]) -> None:
        self.vectorizer = vectorizer
        self.estimator = estimator
        self.classes = list(classes)
        self.values = list(values)

    def scores(self, features: Any) -> np.ndarray:
        return class_scores(self.estimator, features, len(self.classes))

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        return self.scores(self.vectorizer.transform(list(texts)))

    def predict(self, texts: Sequence[str]) -> list[str]:
        return [self.classes[i] for i in self.predict_proba(texts).argmax(axis=1)]


def class_scores(estimator: Any, features: Any, n_classes: int) -> np.ndarray:
    """Class probabilities; a model without them (hinge-loss SGD) gets a softmax of its decision function."""
    try:
        proba = np.asarray(estimator.predict_proba(features), dtype=float)
        if proba.ndim == 2 and proba.shape[1] == n_classes:
            return proba
    except (AttributeError, NotImplementedError):
        pass
    model = getattr(estimator, "model", estimator)
    decision = np.asarray(model.decision_function(features), dtype=float)
    if decision.ndim == 1:
        decision = np.column_stack([-decision, decision])
    shifted = np.exp(decision - decision.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)


def refit(name: str, hyperparameters: dict[str, Any], x_train: Any, y_train: np.ndarray) -> tuple[Any, float]:
    """A candidate's estimator with its best hyperparameters, fitted on the training split; returns it and the seconds."""
    cls = _estimator_classes()[name]
    estimator = cls(task="classification", n_jobs=1, **hyperparameters)
    started = time.perf_counter()
    estimator.fit(x_train, y_train)
    return estimator, time.perf_counter() - started


def predictions_parquet(texts: Sequence[str], y_true: np.ndarray, proba: np.ndarray, classes: Sequence[str]) -> bytes:
    """The test set with the candidate's answer and its probability for every class, as Parquet bytes."""
    frame = pd.DataFrame(
        {
            "text": list(texts),
            "label": [classes[i] for i in y_true],
            "predicted": [classes[i] for i in proba.argmax(axis=1)],
            "confidence": proba.max(axis=1).round(4),
        }
    )
    for i, name in enumerate(classes):
        frame[f"p_{name}"] = proba[:, i].round(4)
    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False)
    return buffer.getvalue()


def candidate_label(name: str) -> str:
    """``Logistic regression (L2) · char n-grams`` for ``lrl2_chars``; a word-n-gram candidate keeps its estimator's
    label (``lrl2``), as jobs before the other feature sets named theirs."""
    for features, suffix in FEATURE_SUFFIX.items():
        if features != "words" and name.endswith(f"_{features}"):
            estimator = name[: -len(features) - 1]
            return ESTIMATOR_LABELS.get(estimator, estimator) + suffix
    return ESTIMATOR_LABELS.get(name, name)
