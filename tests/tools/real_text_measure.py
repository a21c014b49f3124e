"""Measure the AutoML candidates on real review text LakeLens has never seen (docs/AUTOML.md, "On real reviews").

The text: the 3,708 Amazon product-review sentences that VADER's authors had rated by 20 people each (Hutto and
Gilbert, ICWSM 2014), shipped in the source distribution of ``vaderSentiment`` 3.3.2 on PyPI (the wheel LakeLens
installs leaves them out). The people's mean rating (-4 to +4) gives the class: negative below -0.75, positive
above 0.75, neutral between.

The sentences come from 300 reviews. A fifth of the reviews (review number divisible by 5) are held out whole:
the job never sees a sentence of theirs. The rest are balanced as the course balances (every class cut to the
smallest one's size), ingested as a table, and trained on with the job's own train / validation / test split;
then ``automl predict`` scores the held-out table and this script compares its answers with the people's classes
(scikit-learn's metrics on the Parquet it wrote).

    .venv/bin/python -m tests.tools.real_text_measure [--budget 120] [--sdist PATH]

Fetches the source distribution with pip (PyPI only) unless ``--sdist`` names it. Not part of ``make test``.
"""

from __future__ import annotations

import argparse
import csv
import io
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

import pandas as pd

SNIPPETS = "hutto_ICWSM_2014/amazonReviewSnippets_GroundTruth.txt"
THRESHOLD = 0.75


def fetch_sdist(folder: Path) -> Path:
    found = sorted(folder.glob("vaderSentiment-3.3.2.tar.gz"))
    if found:
        return found[0]
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:", "vaderSentiment==3.3.2",
         "-d", str(folder), "-q"],
        check=True,
    )  # fmt: skip
    return next(folder.glob("vaderSentiment-3.3.2.tar.gz"))


def snippets(sdist: Path) -> pd.DataFrame:
    with tarfile.open(sdist) as outer:
        inner_member = next(m for m in outer.getmembers() if m.name.endswith("hutto_ICWSM_2014.tar.gz"))
        inner_bytes = outer.extractfile(inner_member).read()  # type: ignore[union-attr]
    with tarfile.open(fileobj=io.BytesIO(inner_bytes)) as inner:
        raw = inner.extractfile(SNIPPETS).read()  # type: ignore[union-attr]
    frame = pd.read_csv(
        io.BytesIO(raw), sep="\t", header=None, names=["id", "score", "text"], quoting=csv.QUOTE_NONE,
        encoding="latin-1",
    )  # fmt: skip
    frame["review"] = frame["id"].str.split("_").str[0].astype(int)
    frame["sentiment"] = pd.cut(
        frame["score"], [-10, -THRESHOLD, THRESHOLD, 10], labels=["negative", "neutral", "positive"], right=True
    ).astype(str)
    frame.loc[frame["score"] == -THRESHOLD, "sentiment"] = "neutral"
    return frame


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--budget", type=int, default=120)
    parser.add_argument("--sdist", type=Path, help="vaderSentiment-3.3.2.tar.gz, if already downloaded")
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args(argv)

    from sklearn.metrics import accuracy_score, f1_score

    from lib.automl import jobs, predict
    from lib.backends.local import LocalBackend
    from lib.lake import ingest
    from lib.settings import load_settings

    work = Path(tempfile.mkdtemp(prefix="lakelens-real-text-"))
    sdist = args.sdist or fetch_sdist(work)
    frame = snippets(sdist)
    held = frame[frame["review"] % 5 == 0]
    train = frame[frame["review"] % 5 != 0]
    smallest = int(train["sentiment"].value_counts().min())
    balanced = train.groupby("sentiment", group_keys=False).sample(n=smallest, random_state=args.seed)
    print(
        f"{len(frame):,} sentences from {frame['review'].nunique()} reviews; classes "
        f"{frame['sentiment'].value_counts().to_dict()}; training on {len(balanced):,} (balanced, {smallest:,} per "
        f"class) from {train['review'].nunique()} reviews; {len(held):,} sentences of {held['review'].nunique()} "
        "reviews held out",
        file=sys.stderr,
    )
    lake = work / "lake"
    lake.mkdir()
    backend = LocalBackend(load_settings({"LAKELENS_LAKE_ROOT": str(lake)}, secrets_path="/nonexistent"))
    for name, part in (("snippets_train", balanced), ("snippets_holdout", held)):
        path = work / f"{name}.csv"
        part[["id", "review", "score", "text", "sentiment"]].to_csv(path, index=False)
        ingest.ingest_file(backend, path, database="real", table=name, curated=True)
    config = jobs.JobConfig(
        name="real-text",
        database="real",
        table="snippets_train",
        text_column="text",
        label_column="sentiment",
        budget_s=args.budget,
        created="",
    )
    started = time.monotonic()
    jobs.start_job(backend, config)
    status = jobs.wait(backend, config.name, args.budget * 3 + 300)
    took = time.monotonic() - started
    if status.status != "Completed":
        print(f"job ended {status.status}: {status.failure_reason}", file=sys.stderr)
        return 1
    candidates = jobs.read_json(backend, config.name, "candidates.json")
    print(f"\njob {config.name}: {status.status} after {took:.1f} s (budget {args.budget} s)\n")
    print("| candidate | validation accuracy | test accuracy | test macro F1 | held-out accuracy | held-out macro F1 |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for candidate in candidates:
        mark = " (best)" if candidate["name"] == status.best_candidate else ""
        if candidate.get("status") != "Completed":
            print(f"| {candidate['label']}{mark} | not measured: {candidate.get('failure_reason', '')} | | | | |")
            continue
        plan = predict.plan(
            backend,
            config.name,
            "real.snippets_holdout",
            f"real.scored_{candidate['name']}",
            candidate=candidate["name"],
        )
        predict.run(backend, plan)
        scored = pd.read_parquet(lake / "curated" / "real" / f"scored_{candidate['name']}")
        truth, answer = scored["sentiment"], scored["predicted_sentiment"]
        print(
            f"| {candidate['label']}{mark} | {candidate['validation_objective']:.3f} | {candidate['test_accuracy']:.3f} | "
            f"{candidate['test_f1_macro']:.3f} | {accuracy_score(truth, answer):.3f} | "
            f"{f1_score(truth, answer, average='macro'):.3f} |"
        )
    held_counts = held["sentiment"].value_counts()
    print(
        f"\nheld-out classes: {held_counts.to_dict()}; always answering {held_counts.idxmax()} scores "
        f"{held_counts.max() / len(held):.3f} there"
    )
    backend.close()
    print(f"lake kept at {lake}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
