"""The training process of a local AutoML job: ``python -m lib.automl.runner JOB``.

It runs apart from the page (started by :func:`lib.automl.jobs.launch`), reads its settings from the
environment, and goes through Autopilot's stages, writing ``status.json`` whole after each one (and as the search
finds better models). It stops at the analyst's request between trials and between candidates, and on SIGTERM.
Whatever goes wrong ends as ``Failed`` with a one-line reason; the lake is only ever written under the job's own
folder.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import io
import logging
import os
import signal
import socket
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import joblib
import numpy as np

from lib.automl import engine, explain, jobs, metrics
from lib.backends import make_backend
from lib.backends.base import Backend
from lib.errors import LakeLensError
from lib.settings import load_settings
from lib.values import plain

log = logging.getLogger("lakelens.automl")
STATUS_EVERY_S = 1.0
# Kept from the budget for what follows the last candidate: candidates.json and the final status.json.
FINISH_S = 0.5
# What a candidate's evaluation costs beyond its refit (scoring the training and test splits, the explanation — a
# linear surrogate for non-linear models —, pickling, the records) per 10,000 training rows, until the job has
# measured its own.
EXTRA_GUESS_S = {"linear": 0.2, "other": 1.0}
LINEAR = frozenset({"lrl1", "lrl2", "sgd"})


class Terminated(BaseException):
    """SIGTERM arrived: the page's fallback after a stop request, or the machine shutting down.

    A ``BaseException`` (like ``KeyboardInterrupt``) so that no ``except Exception`` inside FLAML or a model
    library swallows it and carries on training.
    """


def _on_sigterm(signum: int, frame: Any) -> None:
    raise Terminated


class OutOfTime(BaseException):
    """The budget ran out while a candidate was being refit or measured (raised by a SIGALRM timer).

    A ``BaseException`` for the same reason as :class:`Terminated`: no ``except Exception`` in a model library
    should catch it and go on fitting.
    """


@contextlib.contextmanager
def time_limit(seconds: float | None) -> Iterator[None]:
    """Raise :class:`OutOfTime` in the block once ``seconds`` have passed (``None``: no limit).

    The timer interrupts Python code between calls into a model library (boosting rounds, trees of a forest, a
    sleep); one long call into C (liblinear) ends before it is raised. Only the main thread gets signals, so
    elsewhere (and where there is no SIGALRM) the block runs unlimited.
    """
    if seconds is None or not hasattr(signal, "setitimer") or threading.current_thread() is not threading.main_thread():
        yield
        return

    def on_alarm(signum: int, frame: Any) -> None:
        raise OutOfTime

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, max(seconds, 0.001))
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def evaluation_reserve(budget_s: int) -> float:
    """Seconds kept from the budget for refitting, measuring and explaining every candidate, before the search
    has said what its candidates cost (see :meth:`Run.predicted_s`)."""
    return min(max(0.25 * budget_s, 3.0), 120.0)


def _kind(estimator: str) -> str:
    return "linear" if estimator in LINEAR else "other"


class Run:
    def __init__(self, backend: Backend, name: str) -> None:
        self.backend = backend
        self.name = name
        self.config = jobs.read_config(backend, name)
        self.status = jobs.JobStatus.from_dict(jobs.read_json(backend, name, "status.json"))
        # The budget counts from the job's creation (what the page shows as its time), not from this process's
        # start: launching Python and importing the libraries is part of the job.
        self.started = time.monotonic() - self.status.elapsed_s
        self.deadline = self.started + self.config.budget_s
        self.last_write = 0.0
        self.extra_s: dict[str, list[float]] = {"linear": [], "other": []}

    def save(self, **changes: Any) -> None:
        self.status = replace(self.status, updated=jobs.utcnow(), **changes)
        jobs.write_status(self.backend, self.status)
        self.last_write = time.monotonic()

    def enter(self, stage: str) -> None:
        self.checkpoint()
        self.status = self.status.enter(stage)
        self.save()

    def checkpoint(self) -> None:
        if jobs.stop_requested(self.backend, self.name):
            raise engine.StopSearch

    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def left(self) -> float:
        """Seconds of the budget left for candidates (what the final writes need is kept back)."""
        return self.deadline - FINISH_S - time.monotonic()

    def predicted_s(self, candidate: dict[str, Any], train_rows: int) -> float:
        """What refitting, measuring, explaining and storing a candidate should take.

        The refit is the best configuration's trial time in the search scaled to the whole training split (FLAML
        tries large data on a sample first); the rest is what the job's earlier candidates of the same kind
        (linear, or explained by a surrogate) took beyond their refit, or a guess before there is one.
        """
        sample = candidate.get("search_sample_size") or train_rows
        refit = float(candidate.get("search_train_time_s") or 0.0) * train_rows / max(sample, 1)
        seen = self.extra_s[_kind(candidate["estimator"])]
        guess = max(EXTRA_GUESS_S[_kind(candidate["estimator"])] * train_rows / 10_000, 0.05)
        extra = sum(seen) / len(seen) if seen else guess
        return refit + extra

    def run(self) -> jobs.JobStatus:
        pid = os.getpid()
        self.save(pid=pid, pid_start=jobs.process_start(pid), host=socket.gethostname())
        try:
            self._stages()
        except (engine.StopSearch, Terminated):
            if jobs.stop_requested(self.backend, self.name):
                self.status = self.status.finish("Stopped", "Stopped at the analyst's request.")
            else:
                self.status = self.status.finish(
                    "Failed", f"The training process was terminated during {self.status.stage}."
                )
        except LakeLensError as exc:
            self.status = self.status.finish("Failed", str(exc))
        except MemoryError:
            self.status = self.status.finish(
                "Failed", "The job ran out of memory; lower LAKELENS_AUTOML_MAX_ROWS and start it again."
            )
        except Exception as exc:
            traceback.print_exc()
            first = (str(exc).strip().splitlines() or [""])[0][:300]
            self.status = self.status.finish(
                "Failed", f"Training failed during {self.status.stage}: {type(exc).__name__}: {first}"
            )
        jobs.write_status(self.backend, self.status)
        return self.status

    def _stages(self) -> None:
        config = self.config
        # -- AnalyzingData: count, check, sample, split
        self.enter("AnalyzingData")
        profile = engine.profile(self.backend, config)
        engine.check_profile(profile, config)
        dataset = engine.load(self.backend, config, profile)
        parts = engine.split(dataset, config)
        classes = dataset.classes
        y_train, y_val, y_test = parts.train[1], parts.validation[1], parts.test[1]
        baseline = metrics.majority_baseline(y_train, y_test, classes)
        sizes = {
            name: {
                "train": int((y_train == i).sum()),
                "validation": int((y_val == i).sum()),
                "test": int((y_test == i).sum()),
            }
            for i, name in enumerate(classes)
        }
        data_record: dict[str, Any] = {
            "profile": profile.to_dict(),
            "rows_read": len(dataset.y),
            "sampled": profile.usable_rows > len(dataset.y),
            "classes": classes,
            "class_values": [plain(v) for v in dataset.values],
            "split": sizes,
            "baseline": baseline,
        }
        if config.labels_table:  # people's labels, taken first (lib/automl/review.py)
            data_record["human_labels"] = profile.human_labels
            data_record["changed_labels"] = profile.changed_labels
            data_record["labels_table"] = config.labels_table
        jobs.write_json(self.backend, self.name, "data.json", data_record)

        # -- FeatureEngineering: TF-IDF (and the other feature sets) fitted on the training split only
        self.enter("FeatureEngineering")
        vectorizer = engine.vectorizer(len(y_train))
        vectorizer.fit(parts.train[0])
        wanted = [f for f in config.feature_sets if engine.estimators_for(f, config.estimators)]
        sets = engine.feature_sets(vectorizer, parts.train[0], len(y_train), wanted)
        features: dict[str, Features] = {}
        data_record["features"] = {
            "kind": "TF-IDF (word 1–2-grams, sublinear tf)",
            "vocabulary": len(vectorizer.get_feature_names_out()),
            "sets": [],
        }
        for set_name, transformer in sets.items():
            self.checkpoint()
            features[set_name] = Features(
                transformer,
                transformer.transform(parts.train[0]),
                transformer.transform(parts.validation[0]),
                transformer.transform(parts.test[0]),
                transformer.get_feature_names_out(),
            )
            data_record["features"]["sets"].append(
                {
                    "name": set_name,
                    "kind": engine.FEATURE_LABELS[set_name],
                    "features": len(features[set_name].names),
                }
            )
        jobs.write_json(self.backend, self.name, "data.json", data_record)

        # -- ModelTuning: FLAML within what is left of the budget, shared between the feature sets
        self.enter("ModelTuning")
        reserve = evaluation_reserve(config.budget_s)
        shares = {f: engine.FEATURE_SHARES.get(f, 1.0) for f in features}
        total_share = sum(shares.values())
        trials: list[engine.Trial] = []
        searched: dict[str, dict[str, Any]] = {}  # candidate name -> what the search found

        def on_trial(trial: engine.Trial, best: engine.Trial | None) -> None:
            if time.monotonic() - self.last_write >= STATUS_EVERY_S:
                overall = max([*trials, *([best] if best else [])], key=lambda t: t.objective, default=None)
                self.save(
                    trials=trial.trial,
                    best_estimator=overall.estimator if overall else None,
                    best_objective=overall.objective if overall else None,
                )

        train_rows = len(y_train)
        for index, (set_name, feature) in enumerate(features.items()):
            # What the candidates found so far will cost to evaluate is known from their trials; the sets still to
            # search keep their share of the first guess. The search gets the rest, this set its share of it.
            due = sum(shares[f] for f in list(features)[index:])
            known = sum(self.predicted_s({"name": n, **c}, train_rows) for n, c in searched.items())
            keep = max(reserve, known + reserve * due / total_share)
            left = self.deadline - time.monotonic() - keep
            seconds = max(left * shares[set_name] / due, 1.0)
            with tempfile.TemporaryDirectory(prefix="lakelens-flaml-") as scratch:
                result = engine.search(
                    feature.train,
                    y_train,
                    feature.validation,
                    y_val,
                    config,
                    seconds,
                    on_trial=on_trial,
                    should_stop=lambda: jobs.stop_requested(self.backend, self.name),
                    log_file=str(Path(scratch) / "flaml.log"),
                    estimators=engine.estimators_for(set_name, config.estimators),
                    trial_offset=len(trials),
                    name_of=functools.partial(_named, features=set_name),
                )
            trials += result.trials
            for estimator, hyperparameters in result.best_config.items():
                name = engine.candidate_name(estimator, set_name)
                searched[name] = {
                    "estimator": estimator,
                    "features": set_name,
                    "hyperparameters": hyperparameters,
                    "validation_objective": result.best_objective[estimator],
                    "search_train_time_s": result.best_train_time[estimator],
                    "search_time_s": result.search_time[estimator],
                    "search_sample_size": result.best_sample_size.get(estimator, train_rows),
                }
        best_trial = max(trials, key=lambda t: t.objective, default=None)
        self.save(
            trials=len(trials),
            best_estimator=best_trial.estimator if best_trial else None,
            best_objective=best_trial.objective if best_trial else None,
        )
        jobs.write_json(self.backend, self.name, "trials.json", [t.__dict__ for t in trials])
        if not searched:
            raise LakeLensError(
                "The search finished no model within the time budget; give the job a longer budget or fewer rows."
            )

        # -- GeneratingExplainabilityReport: every candidate refit, measured on the test split, explained
        self.enter("GeneratingExplainabilityReport")
        order = sorted(searched, key=lambda n: -searched[n]["validation_objective"])
        candidates: list[dict[str, Any]] = [
            {
                "name": name,
                "estimator": searched[name]["estimator"],
                "features": searched[name]["features"],
                "features_label": engine.FEATURE_LABELS[searched[name]["features"]],
                "label": engine.candidate_label(name),
                "hyperparameters": searched[name]["hyperparameters"],
                "objective": config.objective,
                "validation_objective": searched[name]["validation_objective"],
                "search_train_time_s": searched[name]["search_train_time_s"],
                "search_time_s": searched[name]["search_time_s"],
                "search_sample_size": searched[name]["search_sample_size"],
                "trials": sum(1 for t in trials if t.estimator == name),
                "status": "Pending",
            }
            for name in order
        ]
        best_name = order[0]
        jobs.write_json(self.backend, self.name, "candidates.json", candidates)
        self.save(candidates_total=len(candidates), best_candidate=best_name)
        # Best first, within the budget: a candidate whose predicted time does not fit in what is left is not
        # refit, and one that is still being refit when the budget ends is given up. The first candidate that can
        # be measured (the best, unless its refit fails) is always finished, however long it takes.
        for number, candidate in enumerate(candidates, start=1):
            self.checkpoint()
            measured = any(c["status"] == "Completed" for c in candidates)
            needed, left = self.predicted_s(candidate, train_rows), self.left()
            if measured and needed > left:
                candidate.update(
                    status="Failed",
                    failure_reason=(
                        f"Not refit: the time budget ran out (about {needed:.1f} s needed, {max(left, 0):.1f} s "
                        f"left); give the job a longer budget to measure it."
                    ),
                )
            else:
                self._candidate(
                    candidate,
                    classes,
                    dataset.values,
                    features[candidate["features"]],
                    parts,
                    limit=left if measured else None,
                )
            jobs.write_json(self.backend, self.name, "candidates.json", candidates)
            self.save(candidates_done=number)
        done = [c for c in candidates if c["status"] == "Completed"]
        if not done:
            reasons = "; ".join(f"{c['label']}: {c.get('failure_reason', '')}" for c in candidates)
            raise LakeLensError(f"No candidate could be refit and measured ({reasons}).")
        if best_name not in {c["name"] for c in done}:
            best_name = done[0]["name"]
        self.status = replace(self.status, best_candidate=best_name).finish("Completed")

    def _candidate(
        self,
        candidate: dict[str, Any],
        classes: list[str],
        values: list[Any],
        feature: Features,
        parts: engine.Split,
        *,
        limit: float | None = None,
    ) -> None:
        """Refit, measure, explain and store one candidate; ``limit`` bounds the seconds its computing may take."""
        name = candidate["name"]
        y_train = parts.train[1]
        y_test = parts.test[1]
        x_train, x_test, vocabulary, vectorizer = feature.train, feature.test, feature.names, feature.transformer
        started = time.monotonic()
        try:
            with time_limit(limit):
                estimator, seconds = engine.refit(
                    candidate["estimator"], candidate["hyperparameters"], x_train, y_train
                )
                proba = engine.class_scores(estimator, x_test, len(classes))
                report = metrics.evaluate(y_test, proba, classes)
                train_pred = engine.class_scores(estimator, x_train, len(classes)).argmax(axis=1)
                insight = explain.explain(
                    getattr(estimator, "model", estimator),
                    list(vocabulary),
                    classes,
                    x_train,
                    train_pred,
                    x_test,
                    proba.argmax(axis=1),
                    seed=self.config.seed,
                )
                model = engine.TextModel(vectorizer, estimator, classes, values)
                buffer = _dump(model)
            prefix = f"candidates/{name}/"
            jobs.write_json(self.backend, self.name, prefix + "metrics.json", report)
            jobs.write_json(self.backend, self.name, prefix + "explainability.json", insight)
            self.backend.write(jobs.record_key(self.name, prefix + "model.joblib"), buffer)
            self.backend.write(
                jobs.record_key(self.name, prefix + "predictions.parquet"),
                engine.predictions_parquet(parts.test[0], y_test, proba, classes),
            )
        except (engine.StopSearch, Terminated, MemoryError):
            raise
        except OutOfTime:
            candidate.update(
                status="Failed",
                failure_reason=(
                    f"Not measured: the time budget ran out while it was refit ({time.monotonic() - started:.1f} s); "
                    "give the job a longer budget to measure it."
                ),
                evaluation_time_s=time.monotonic() - started,
            )
            return
        except Exception as exc:
            traceback.print_exc()
            candidate.update(status="Failed", failure_reason=f"{type(exc).__name__}: {str(exc)[:200]}")
            return
        took = time.monotonic() - started
        self.extra_s[_kind(candidate["estimator"])].append(max(took - seconds, 0.0))
        candidate.update(
            status="Completed",
            refit_time_s=seconds,
            evaluation_time_s=took,
            test_accuracy=report["accuracy"],
            test_f1_macro=report["f1_macro"],
            test_roc_auc_macro=report["roc_auc_macro"],
            test_objective=report[self.config.objective],
            model_sha256=hashlib.sha256(buffer).hexdigest(),
            model_bytes=len(buffer),
        )


def _named(estimator: str, features: str) -> str:
    return engine.candidate_name(estimator, features)


@dataclass
class Features:
    """One feature set of a job: its fitted transformer and the three splits' matrices."""

    transformer: Any
    train: Any
    validation: Any
    test: Any
    names: np.ndarray


def _dump(model: engine.TextModel) -> bytes:
    buffer = io.BytesIO()
    joblib.dump(model, buffer, compress=3)
    return buffer.getvalue()


def main(argv: list[str] | None = None) -> int:
    arguments = sys.argv[1:] if argv is None else argv
    if len(arguments) != 1:
        print("usage: python -m lib.automl.runner JOB", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    signal.signal(signal.SIGTERM, _on_sigterm)
    name = arguments[0]
    try:
        backend = make_backend(load_settings())
        status = Run(backend, name).run()
    except LakeLensError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"{name}: {status.status} {status.failure_reason}".strip(), file=sys.stderr)
    return 0 if status.status == "Completed" else 1


if __name__ == "__main__":
    sys.exit(main())
