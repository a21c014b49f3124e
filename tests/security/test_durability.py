"""Nothing lost: records survive ``kill -9`` at random moments while they are being written.

A writer process loops through the real code paths that write LakeLens's records: ``History.record`` (a new
history entry), ``SavedQueries.save`` (one saved query overwritten), ``LocalBackend.register_table`` with
``replace=True`` (one table definition and its partitions) and ``lib.automl.jobs.write_status`` (one AutoML job's
status). After each write returns it appends an acknowledgement to a log. The test kills it with SIGKILL after a
seeded random delay, then checks that every record file parses and holds either the last acknowledged value or the
one that was being written, that every acknowledged history entry is there, and that the temporary files a kill
leaves behind are never read as records (listings, table lists and history searches skip them).

Starting Python and importing pandas, pyarrow and sqlglot takes over a second, so one "zygote" process imports
everything once and forks a fresh writer for each round; the test kills the writer and the zygote reports how it
died, which proves the kill landed while the writer was still writing.

The number of kills is a parameter: 12 rounds by default, so that ``make test`` stays short; 40 with
``LAKELENS_LONG_TESTS=1`` (the long run), or any number with ``LAKELENS_DURABILITY_ROUNDS=N``.
"""

from __future__ import annotations

import json
import os
import random
import re
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from lib.automl import jobs
from lib.backends.local import LocalBackend
from lib.sql.history import History, HistoryEntry, SavedQueries
from tests.conftest import local_settings
from tests.security.conftest import Ledger

pytestmark = pytest.mark.slow  # left out of `make unit`

ROOT = Path(__file__).resolve().parents[2]
LONG = os.environ.get("LAKELENS_LONG_TESTS") == "1"
ROUNDS = int(os.environ.get("LAKELENS_DURABILITY_ROUNDS") or (40 if LONG else 12))
SEED = 8
KINDS = ("history", "saved", "table", "status")

ZYGOTE = textwrap.dedent(
    """
    import os, sys
    from lib.automl import jobs
    from lib.backends.local import LocalBackend
    from lib.catalog import Column, parquet_table
    from lib.sql.history import History, HistoryEntry, SavedQueries
    from lib.settings import load_settings

    lake, acks = sys.argv[1], sys.argv[2]
    backend = LocalBackend(load_settings({"LAKELENS_LAKE_ROOT": lake}, secrets_path="/nonexistent"))
    history, saved = History(backend), SavedQueries(backend)

    def write_forever(first):
        log = os.open(acks, os.O_WRONLY | os.O_APPEND | os.O_CREAT)
        i = first
        while True:
            history.record(HistoryEntry(sql=f"SELECT {i}", status="succeeded"))
            os.write(log, f"history {i}\\n".encode())
            saved.save("durable", f"SELECT {i}", description=f"version {i}")
            os.write(log, f"saved {i}\\n".encode())
            table = parquet_table("dur", "t", [Column("a", "int")], "lake://curated/dur/t/", description=f"v{i}")
            backend.register_table(table, replace=True)
            os.write(log, f"table {i}\\n".encode())
            jobs.write_status(backend, jobs.JobStatus(name="durjob", trials=i, updated=str(i)))
            os.write(log, f"status {i}\\n".encode())
            i += 1

    print("ready", flush=True)
    for line in sys.stdin:
        first = int(line)
        pid = os.fork()
        if pid == 0:
            try:
                write_forever(first)
            finally:
                os._exit(1)
        print(f"pid {pid}", flush=True)
        _, status = os.waitpid(pid, 0)
        print(f"reaped {status}", flush=True)
    """
)


@pytest.fixture
def zygote(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], Path, Path]]:
    lake = tmp_path / "lake"
    lake.mkdir()
    acks = tmp_path / "acks.log"
    process = subprocess.Popen(
        [sys.executable, "-c", ZYGOTE, str(lake), str(acks)],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None and process.stdout.readline().strip() == "ready"
    yield process, lake, acks
    process.kill()
    process.wait(10)


def acknowledged(acks: Path) -> dict[str, list[int]]:
    done: dict[str, list[int]] = {kind: [] for kind in KINDS}
    if acks.exists():
        for kind, value in re.findall(r"^(\w+) (\d+)$", acks.read_text(), re.M):
            done[kind].append(int(value))
    return done


def temporary_files(lake: Path) -> list[Path]:
    return [p for p in lake.rglob("*") if ".lakelens-tmp-" in p.name]


def test_records_survive_kill_9_during_writes(zygote: tuple[subprocess.Popen[str], Path, Path], ledger: Ledger) -> None:
    process, lake, acks = zygote
    assert process.stdin is not None and process.stdout is not None
    rng = random.Random(SEED)
    current: dict[str, int | None] = dict.fromkeys(KINDS)  # the value each record held after the last round
    history_allowed: set[int] = set()  # entries that may exist: acknowledged, or in flight when a writer died
    mid_write = 0
    seen_leftovers: set[Path] = set()
    writes = 0
    for round_number in range(ROUNDS):
        first = round_number * 1_000_000
        before = acknowledged(acks)
        process.stdin.write(f"{first}\n")
        process.stdin.flush()
        pid = int(process.stdout.readline().split()[1])
        time.sleep(rng.uniform(0.01, 0.15))
        os.kill(pid, signal.SIGKILL)
        status = int(process.stdout.readline().split()[1])
        assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL, "the writer ended before the kill"

        done = {kind: values[len(before[kind]) :] for kind, values in acknowledged(acks).items()}
        writes += sum(len(v) for v in done.values())
        leftovers = set(temporary_files(lake))
        mid_write += bool(leftovers - seen_leftovers)  # this kill interrupted a write between create and rename
        seen_leftovers |= leftovers

        backend = LocalBackend(local_settings(lake))
        allowed = {
            kind: ({done[kind][-1], done[kind][-1] + 1} if done[kind] else {current[kind], first}) for kind in KINDS
        }

        # history: every entry file parses; every acknowledged entry is there; nothing else but the one in flight
        history_allowed |= set(done["history"]) | {(done["history"][-1] + 1) if done["history"] else first}
        keys = [o.key for o in backend.list_objects("_lakelens/history/").objects]
        assert all(".lakelens-tmp-" not in key for key in keys)
        parsed = {int(HistoryEntry.from_json(backend.read(key)).sql.split()[1]) for key in keys}
        acked_so_far = set(acknowledged(acks)["history"])
        assert acked_so_far <= parsed <= history_allowed
        assert len(History(backend).recent(limit=10**6, scan_limit=10**6)) == len(keys)

        # saved query: one record, old or new
        saved = SavedQueries(backend).list()
        values = {int(q.sql.split()[1]) for q in saved}
        assert len(saved) <= 1 and values <= allowed["saved"] - {None}
        current["saved"] = values.pop() if values else None

        # table definition and partitions: old or new, and the only table of its database
        if (lake / "_lakelens/catalog/dur/t.json").exists():
            assert [t.name for t in backend.list_tables("dur")] == ["t"]
            table = backend.get_table("dur", "t")
            assert int(table.description[1:]) in allowed["table"]
            assert json.loads((lake / "_lakelens/catalog/dur/t.partitions.json").read_text()) == []
            current["table"] = int(table.description[1:])
        else:
            assert None in allowed["table"]

        # AutoML job status: old or new
        if (lake / "automl/durjob/status.json").exists():
            job = jobs.JobStatus.from_dict(jobs.read_json(backend, "durjob", "status.json"))
            assert job.trials in allowed["status"]
            current["status"] = job.trials
        else:
            assert None in allowed["status"]
        current["history"] = max(parsed) if parsed else None
        backend.close()

    assert writes > ROUNDS  # the writer got going every round, so kills landed between and inside writes
    for round_number in range(ROUNDS):
        ledger.add("kills", f"round {round_number}")
    ledger.note("kills", "records written and acknowledged", f"{writes:,}")
    ledger.note("kills", "kills that left a half-written temporary file", mid_write)
    ledger.note("kills", "records torn or lost", 0)
