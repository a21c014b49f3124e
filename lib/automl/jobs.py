"""Local AutoML jobs: status and records in the lake, one training process per job (the configuration, and
its checks, are :mod:`lib.automl.config`'s; re-exported here).

A job lives under ``automl/<job-name>/`` in the lake (layout: docs/AUTOML.md). Every record is written whole
with ``backend.write`` (atomic on both backends), so a page reading while the runner writes sees the old record or
the new one. The runner (:mod:`lib.automl.runner`) is the only writer of ``status.json`` while it is alive; the
page asks it to stop by writing ``stop-requested.json``, and only when the runner's process is gone without a
final status does the page (or the CLI) write one: ``Failed`` with the reason, or ``Stopped`` if a stop was asked.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, fields, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from lib.automl.config import ESTIMATOR_LABELS as ESTIMATOR_LABELS
from lib.automl.config import ESTIMATORS as ESTIMATORS
from lib.automl.config import MAX_BUDGET_S as MAX_BUDGET_S
from lib.automl.config import MIN_BUDGET_S as MIN_BUDGET_S
from lib.automl.config import NAME_PATTERN as NAME_PATTERN
from lib.automl.config import JobConfig as JobConfig
from lib.automl.config import LabelSource as LabelSource
from lib.automl.config import Objective as Objective
from lib.automl.config import default_name as default_name
from lib.automl.config import validate_name as validate_name
from lib.backends.base import Backend
from lib.errors import AutoMLError, NotFound
from lib.settings import SPECS, Settings

PREFIX = "automl/"
JobState = Literal["InProgress", "Completed", "Failed", "Stopped"]

# Autopilot's secondary statuses, in the order a local job goes through them.
STAGES = ("AnalyzingData", "FeatureEngineering", "ModelTuning", "GeneratingExplainabilityReport")
STAGE_TEXT = {
    "Starting": "Starting the training process",
    "AnalyzingData": "Reading and checking the data, splitting it",
    "FeatureEngineering": "Turning the texts into features: word and character n-grams, VADER lexicon scores",
    "ModelTuning": "Searching models and hyperparameters (FLAML)",
    "GeneratingExplainabilityReport": "Refitting every candidate, measuring it on the test set, explaining it",
    "Completed": "Completed",
    "Failed": "Failed",
    "Stopped": "Stopped",
    "Stopping": "Stopping",
}
TERMINAL: tuple[JobState, ...] = ("Completed", "Failed", "Stopped")
CANDIDATE_PATTERN = re.compile(r"^[a-z0-9_]{1,40}$")
START_GRACE_S = 120  # a runner that has not reported after this long never started


def utcnow() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


@dataclass(frozen=True)
class StageTime:
    stage: str
    started: str
    ended: str | None = None


@dataclass(frozen=True)
class JobStatus:
    """Where a job is. Stored as ``status.json``; rewritten whole after every stage and as the search goes."""

    name: str
    status: JobState = "InProgress"
    stage: str = "Starting"
    stages: tuple[StageTime, ...] = ()
    started: str = ""
    ended: str | None = None
    updated: str = ""
    failure_reason: str = ""
    pid: int | None = None
    pid_start: str | None = None
    host: str = ""
    trials: int = 0
    best_estimator: str | None = None
    best_objective: float | None = None
    best_candidate: str | None = None
    candidates_done: int = 0
    candidates_total: int = 0
    stop_requested: bool = False

    @property
    def terminal(self) -> bool:
        return self.status in TERMINAL

    @property
    def elapsed_s(self) -> float:
        start = parse_time(self.started)
        end = parse_time(self.ended) or datetime.now(UTC)
        return max(0.0, (end - start).total_seconds()) if start else 0.0

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["stages"] = [asdict(s) for s in self.stages]
        data.pop("stop_requested")
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> JobStatus:
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in known and k != "stop_requested"}
        values["stages"] = tuple(StageTime(**s) for s in values.get("stages", ()))
        return cls(**values)

    def enter(self, stage: str) -> JobStatus:
        now = utcnow()
        stages = tuple(replace(s, ended=s.ended or now) for s in self.stages)
        return replace(self, stage=stage, stages=(*stages, StageTime(stage, now)), updated=now)

    def finish(self, state: JobState, reason: str = "") -> JobStatus:
        now = utcnow()
        stages = tuple(replace(s, ended=s.ended or now) for s in self.stages)
        return replace(self, status=state, stage=state, stages=stages, ended=now, updated=now, failure_reason=reason)


def parse_time(stamp: str | None) -> datetime | None:
    if not stamp:
        return None
    try:
        return datetime.fromisoformat(stamp)
    except ValueError:
        return None


# -- records ------------------------------------------------------------------------------------------------------
def job_prefix(name: str) -> str:
    return f"{PREFIX}{validate_name(name)}/"


def record_key(name: str, record: str) -> str:
    """The lake key of one record of a job; ``record`` is a relative name such as ``candidates/lgbm/metrics.json``."""
    parts = record.split("/")
    if not record or any(not re.fullmatch(r"[A-Za-z0-9_.-]+", p) or p in (".", "..") for p in parts):
        raise AutoMLError(f"{record!r} is not a record of a job.")
    return job_prefix(name) + record


def write_json(backend: Backend, name: str, record: str, data: Any) -> None:
    body = json.dumps(data, indent=1, default=_json_default).encode()
    backend.write(record_key(name, record), body, content_type="application/json")


def read_json(backend: Backend, name: str, record: str) -> Any:
    try:
        raw = backend.read(record_key(name, record))
    except NotFound:
        raise NotFound(f"Job {name} has no {record} (yet).") from None
    try:
        return json.loads(raw)
    except ValueError:
        raise AutoMLError(f"The record {record} of job {name} is damaged; start the job again.") from None


def _json_default(value: Any) -> Any:
    if hasattr(value, "item"):
        return value.item()
    if hasattr(value, "tolist"):
        return value.tolist()
    return str(value)


def job_exists(backend: Backend, name: str) -> bool:
    try:
        backend.stat(record_key(name, "job.json"))
    except NotFound:
        return False
    return True


def read_config(backend: Backend, name: str) -> JobConfig:
    return JobConfig.from_dict(read_json(backend, name, "job.json"))


def write_status(backend: Backend, status: JobStatus) -> None:
    write_json(backend, status.name, "status.json", status.to_dict())


def stop_requested(backend: Backend, name: str) -> bool:
    try:
        backend.stat(record_key(name, "stop-requested.json"))
    except NotFound:
        return False
    return True


def read_status(backend: Backend, name: str) -> JobStatus:
    """The job's status as recorded, with a dead runner noticed: Failed with a reason (or Stopped if asked)."""
    status = JobStatus.from_dict(read_json(backend, name, "status.json"))
    asked = stop_requested(backend, name)
    if status.terminal:
        return status
    if not _runner_gone(status):
        return replace(status, stop_requested=asked)
    # Re-read: the runner may have written its final status just before it exited.
    status = JobStatus.from_dict(read_json(backend, name, "status.json"))
    if status.terminal:
        return status
    if asked:
        final = status.finish("Stopped", "Stopped at the analyst's request.")
    elif status.pid is None:
        final = status.finish(
            "Failed", "The training process never started; see the server log and start the job again."
        )
    else:
        final = status.finish(
            "Failed",
            f"The training process ended unexpectedly during {status.stage} (it crashed or was killed); "
            "start the job again.",
        )
    write_status(backend, final)
    return final


@dataclass(frozen=True)
class JobSummary:
    config: JobConfig
    status: JobStatus


def list_jobs(backend: Backend) -> list[JobSummary]:
    """Every local job in the lake, newest first. Folders without a readable job record are skipped."""
    out: list[JobSummary] = []
    token: str | None = None
    while True:
        page = backend.list_objects(PREFIX, token=token)
        for folder in page.folders:
            name = folder[len(PREFIX) :].strip("/")
            if not NAME_PATTERN.match(name):
                continue
            try:
                out.append(JobSummary(read_config(backend, name), read_status(backend, name)))
            except (NotFound, AutoMLError, TypeError):
                continue
        token = page.next_token
        if not token:
            break
    return sorted(out, key=lambda job: job.config.created, reverse=True)


def request_stop(backend: Backend, name: str) -> JobStatus:
    """Ask the runner to stop (it checks between trials); a runner that does not stop within a minute is ended."""
    status = read_status(backend, name)
    if status.terminal:
        return status
    write_json(backend, name, "stop-requested.json", {"requested": utcnow()})
    return replace(status, stop_requested=True)


def enforce_stop(backend: Backend, name: str, grace_s: float = 60.0) -> JobStatus:
    """The fallback: if a stop was asked more than ``grace_s`` ago and the runner is still there, terminate it."""
    status = read_status(backend, name)
    if status.terminal or not status.stop_requested:
        return status
    asked = parse_time(read_json(backend, name, "stop-requested.json").get("requested"))
    if asked and (datetime.now(UTC) - asked).total_seconds() > grace_s and status.pid and _same_host(status):
        with contextlib.suppress(OSError):
            os.kill(status.pid, 15)
    return read_status(backend, name)


# -- the runner process -------------------------------------------------------------------------------------------
# The runners this process started, by job name. Streamlit runs each session's script in its own thread, so two
# sessions can launch or check jobs at once: every read and write of _CHILDREN holds _CHILDREN_LOCK.
_CHILDREN: dict[str, subprocess.Popen[bytes]] = {}
_CHILDREN_LOCK = threading.Lock()


def process_start(pid: int) -> str | None:
    """The kernel's start time of a process, to tell it from a later process that reuses its pid (Linux only)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[1].split()[19]


def _same_host(status: JobStatus) -> bool:
    return status.host == socket.gethostname()


def _pid_alive(pid: int, start: str | None) -> bool:
    stat_path = Path(f"/proc/{pid}/stat")
    if stat_path.parent.parent.is_dir() and Path("/proc/self/stat").exists():
        try:
            fields_ = stat_path.read_text().rsplit(")", 1)[1].split()
        except OSError:
            return False
        if fields_[0] in ("Z", "X"):
            return False
        return start is None or fields_[19] == start
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    return True


def _runner_gone(status: JobStatus) -> bool:
    with _CHILDREN_LOCK:
        child = _CHILDREN.get(status.name)
        ended = child is not None and child.poll() is not None  # poll() does not block
        if ended:
            _CHILDREN.pop(status.name, None)
    if ended:
        return True
    if status.pid is None:
        started = parse_time(status.started)
        waited = (datetime.now(UTC) - started).total_seconds() if started else 0.0
        return child is None and waited > START_GRACE_S
    if not _same_host(status):
        return False  # another machine's runner: nothing here can tell whether it is alive
    return not _pid_alive(status.pid, status.pid_start)


def runner_env(settings: Settings) -> dict[str, str]:
    """The environment of a runner: every setting spelled out, so it sees the same lake as the page."""
    env = dict(os.environ)
    for spec in SPECS:
        value = getattr(settings, spec.name)
        for name in spec.fallback_env:
            env.pop(name, None)
        if value is None:
            env.pop(spec.env, None)
        elif spec.name == "lake_root":
            env[spec.env] = str(settings.lake_path)
        else:
            env[spec.env] = str(value)
    root = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env.setdefault("OMP_NUM_THREADS", "1")  # the machine is shared; the runner trains on one core
    return env


def log_path(settings: Settings, name: str) -> Path:
    folder = Path(tempfile.gettempdir()) / "lakelens-automl"
    folder.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256(settings.identity().encode()).hexdigest()[:8]
    return folder / f"{digest}-{name}.log"


def launch(settings: Settings, name: str) -> subprocess.Popen[bytes]:
    """Start ``python -m lib.automl.runner NAME`` in its own session: it outlives the page that started it."""
    log = log_path(settings, name).open("ab")
    workdir = tempfile.gettempdir()  # not the app's folder: the runner takes its settings from the environment only
    process = subprocess.Popen(
        [sys.executable, "-m", "lib.automl.runner", name],
        cwd=workdir,
        env=runner_env(settings),
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    log.close()
    with _CHILDREN_LOCK:
        _CHILDREN[name] = process
    return process


def create_job(backend: Backend, config: JobConfig) -> JobStatus:
    """Write the job's configuration and its first status; refuses a name that is taken."""
    config.check()
    if job_exists(backend, config.name):
        raise AutoMLError(f"A job named {config.name} already exists; choose another name.")
    config = replace(config, created=config.created or utcnow())
    write_json(backend, config.name, "job.json", config.to_dict())
    status = JobStatus(name=config.name, started=utcnow(), updated=utcnow(), host=socket.gethostname())
    status = status.enter("Starting")
    write_status(backend, status)
    return status


def start_job(backend: Backend, config: JobConfig, *, spawn: bool = True) -> JobStatus:
    """Check the configuration and the data (one aggregate query), record the job, start its process.

    Every problem the analyst can fix (bad budget, one class, tiny table, empty texts) is raised here, before a
    process is started or anything is written.
    """
    from lib.automl import engine

    config.check()
    if job_exists(backend, config.name):
        raise AutoMLError(f"A job named {config.name} already exists; choose another name.")
    engine.check_profile(engine.profile(backend, config), config)
    status = create_job(backend, config)
    if spawn:
        launch(backend.settings, config.name)
    return status


def wait(backend: Backend, name: str, timeout_s: float, poll_s: float = 0.5) -> JobStatus:
    """Block until the job ends (for the CLI and tests); returns its last status."""
    deadline = time.monotonic() + timeout_s
    while True:
        status = read_status(backend, name)
        if status.terminal or time.monotonic() > deadline:
            return status
        time.sleep(poll_s)


def candidate_key(name: str, candidate: str, record: str) -> str:
    if not CANDIDATE_PATTERN.match(candidate):
        raise AutoMLError(f"{candidate!r} is not a candidate name.")
    return record_key(name, f"candidates/{candidate}/{record}")


def load_model(backend: Backend, name: str, candidate: str, sha256: str | None) -> Any:
    """A candidate's stored model (TF-IDF + estimator), checked against the digest its record holds.

    The artifact is a joblib pickle: load models only from lakes you trust (as with any pickle). The digest
    catches a damaged or replaced file, not a record changed along with it.
    """
    import io

    import joblib

    raw = backend.read(candidate_key(name, candidate, "model.joblib"))
    if sha256 and hashlib.sha256(raw).hexdigest() != sha256:
        raise AutoMLError(
            f"The model file of candidate {candidate} in job {name} does not match its record; it was changed or "
            "damaged. Run the job again."
        )
    return joblib.load(io.BytesIO(raw))
