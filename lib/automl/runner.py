"""The training process of a local AutoML job: ``python -m lib.automl.runner JOB``.

It runs apart from the page (started by :func:`lib.automl.jobs.launch`), reads its settings from the
environment, and goes through Autopilot's stages, writing ``status.json`` whole after each one (and as the search
finds better models). It stops at the analyst's request between trials and between candidates, and on SIGTERM.
Whatever goes wrong ends as ``Failed`` with a one-line reason; the lake is only ever written under the job's own
folder.
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
import signal
import socket
import sys
import tempfile
import time
import traceback
from dataclasses import replace
from pathlib import Path
from typing import Any

import joblib
import numpy as np

from lib.automl import engine, explain, jobs, metrics
from lib.backends import make_backend
from lib.backends.base import Backend
from lib.errors import LakeLensError
from lib.settings import load_settings

log = logging.getLogger("lakelens.automl")
STATUS_EVERY_S = 1.0


class Terminated(BaseException):
    """SIGTERM arrived: the page's fallback after a stop request, or the machine shutting down.

    A ``BaseException`` (like ``KeyboardInterrupt``) so that no ``except Exception`` inside FLAML or a model
    library swallows it and carries on training.
    """


def _on_sigterm(signum: int, frame: Any) -> None:
    raise Terminated


def evaluation_reserve(budget_s: int) -> float:
    """Seconds kept from the budget for refitting, measuring and explaining every candidate."""
    return min(max(0.25 * budget_s, 3.0), 120.0)


class Run:
    def __init__(self, backend: Backend, name: str) -> None:
        self.backend = backend
        self.name = name
        self.config = jobs.read_config(backend, name)
        self.status = jobs.JobStatus.from_dict(jobs.read_json(backend, name, "status.json"))
        self.started = time.monotonic()
        self.last_write = 0.0

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
            "class_values": [engine._plain(v) for v in dataset.values],
            "split": sizes,
            "baseline": baseline,
        }
        jobs.write_json(self.backend, self.name, "data.json", data_record)

        # -- FeatureEngineering: TF-IDF fitted on the training split only
        self.enter("FeatureEngineering")
        vectorizer = engine.vectorizer(len(y_train))
        x_train = vectorizer.fit_transform(parts.train[0])
        x_val = vectorizer.transform(parts.validation[0])
        x_test = vectorizer.transform(parts.test[0])
        vocabulary = vectorizer.get_feature_names_out()
        data_record["features"] = {"kind": "TF-IDF (word 1–2-grams, sublinear tf)", "vocabulary": len(vocabulary)}
        jobs.write_json(self.backend, self.name, "data.json", data_record)

        # -- ModelTuning: FLAML within what is left of the budget
        self.enter("ModelTuning")
        budget = config.budget_s - self.elapsed() - evaluation_reserve(config.budget_s)

        def on_trial(trial: engine.Trial, best: engine.Trial | None) -> None:
            if time.monotonic() - self.last_write >= STATUS_EVERY_S:
                self.save(
                    trials=trial.trial,
                    best_estimator=best.estimator if best else None,
                    best_objective=best.objective if best else None,
                )

        with tempfile.TemporaryDirectory(prefix="lakelens-flaml-") as scratch:
            result = engine.search(
                x_train,
                y_train,
                x_val,
                y_val,
                config,
                max(budget, 3.0),
                on_trial=on_trial,
                should_stop=lambda: jobs.stop_requested(self.backend, self.name),
                log_file=str(Path(scratch) / "flaml.log"),
            )
        best_trial = max(result.trials, key=lambda t: t.objective, default=None)
        self.save(
            trials=len(result.trials),
            best_estimator=best_trial.estimator if best_trial else None,
            best_objective=best_trial.objective if best_trial else None,
        )
        jobs.write_json(self.backend, self.name, "trials.json", [t.__dict__ for t in result.trials])
        if not result.best_config:
            raise LakeLensError(
                "The search finished no model within the time budget; give the job a longer budget or fewer rows."
            )

        # -- GeneratingExplainabilityReport: every candidate refit, measured on the test split, explained
        self.enter("GeneratingExplainabilityReport")
        order = sorted(result.best_config, key=lambda n: -result.best_objective[n])
        candidates: list[dict[str, Any]] = [
            {
                "name": name,
                "estimator": name,
                "label": engine.candidate_label(name),
                "hyperparameters": result.best_config[name],
                "objective": config.objective,
                "validation_objective": result.best_objective[name],
                "search_train_time_s": result.best_train_time[name],
                "search_time_s": result.search_time[name],
                "trials": sum(1 for t in result.trials if t.estimator == name),
                "status": "Pending",
            }
            for name in order
        ]
        best_name = order[0]
        jobs.write_json(self.backend, self.name, "candidates.json", candidates)
        self.save(candidates_total=len(candidates), best_candidate=best_name)
        for number, candidate in enumerate(candidates, start=1):
            self.checkpoint()
            self._candidate(candidate, vocabulary, classes, dataset.values, vectorizer, parts, x_train, x_test)
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
        vocabulary: np.ndarray,
        classes: list[str],
        values: list[Any],
        vectorizer: Any,
        parts: engine.Split,
        x_train: Any,
        x_test: Any,
    ) -> None:
        name = candidate["name"]
        y_train = parts.train[1]
        y_test = parts.test[1]
        try:
            estimator, seconds = engine.refit(name, candidate["hyperparameters"], x_train, y_train)
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
        except Exception as exc:
            traceback.print_exc()
            candidate.update(status="Failed", failure_reason=f"{type(exc).__name__}: {str(exc)[:200]}")
            return
        candidate.update(
            status="Completed",
            refit_time_s=seconds,
            test_accuracy=report["accuracy"],
            test_f1_macro=report["f1_macro"],
            test_roc_auc_macro=report["roc_auc_macro"],
            test_objective=report[self.config.objective],
            model_sha256=hashlib.sha256(buffer).hexdigest(),
            model_bytes=len(buffer),
        )


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
