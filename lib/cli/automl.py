"""``python -m lib automl ...``: local AutoML jobs, predictions back to the lake, and the review queue."""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import TYPE_CHECKING

from lib.cli.common import settings_for
from lib.errors import LakeLensError

if TYPE_CHECKING:
    from lib.automl.review import Queue
    from lib.backends.base import Backend
    from lib.cli.common import SubParsers


def add_parser(sub: SubParsers) -> None:
    automl = sub.add_parser(
        "automl",
        help="train and list local AutoML sentiment classifiers",
        description="Local AutoML jobs (FLAML over TF-IDF), stored in the lake under automl/<job-name>/.",
    )
    verbs = automl.add_subparsers(dest="automl_command", required=True, metavar="ACTION")
    run = verbs.add_parser(
        "run",
        help="start a job and wait for it",
        description="Check the data, start a training process for TABLE and follow its stages until it ends.",
    )
    run.add_argument("--table", required=True, metavar="DB.T", help="the table to train on (database.table)")
    run.add_argument("--text-col", required=True, metavar="C", help="column with the review text")
    run.add_argument("--label-col", metavar="L", help="column with the label, taken as it is")
    run.add_argument(
        "--sentiment-from-rating",
        metavar="COL",
        help="derive the label from a rating column instead: 1-2 -> -1, 3 -> 0, 4-5 -> +1",
    )
    run.add_argument("--budget", type=int, required=True, metavar="SECONDS", help="time budget of the job (10 or more)")
    run.add_argument("--objective", choices=["accuracy", "f1_macro"], default="accuracy")
    run.add_argument("--name", help="job name (default: the table and the time)")
    run.add_argument("--max-rows", type=int, help="rows to read (default: the LAKELENS_AUTOML_MAX_ROWS setting)")
    run.add_argument("--detach", action="store_true", help="start the job and return without waiting")
    run.add_argument("--root", help="use this local lake folder instead of the configured backend")
    run.set_defaults(func=cmd_automl_run)
    listing = verbs.add_parser("list", help="list the jobs in the lake", description="List local AutoML jobs.")
    listing.add_argument("--root", help="use this local lake folder instead of the configured backend")
    listing.set_defaults(func=cmd_automl_list)
    stop = verbs.add_parser("stop", help="ask a running job to stop", description="Ask a running job to stop.")
    stop.add_argument("job", metavar="JOB")
    stop.add_argument("--root", help="use this local lake folder instead of the configured backend")
    stop.set_defaults(func=cmd_automl_stop)
    predict = verbs.add_parser(
        "predict",
        help="score a table with a finished job's model, into a new table",
        description="Score every row of TABLE with the job's best (or chosen) candidate and register the rows with "
        "predicted_sentiment, confidence and one p_<class> column per class as OUT_TABLE (Parquet, curated zone).",
    )
    predict.add_argument("--job", required=True, metavar="JOB", help="a completed local AutoML job")
    predict.add_argument("--table", required=True, metavar="DB.T", help="the table to score (database.table)")
    predict.add_argument("--out-table", required=True, metavar="DB.T2", help="the new table with the scores")
    predict.add_argument("--candidate", metavar="NAME", help="candidate to score with (default: the job's best)")
    predict.add_argument("--replace", action="store_true", help="overwrite OUT_TABLE if it exists")
    predict.add_argument("--root", help="use this local lake folder instead of the configured backend")
    predict.set_defaults(func=cmd_automl_predict)
    _add_review(verbs)


def _queue_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--table", required=True, metavar="DB.T", help="a table written by `automl predict`")
    parser.add_argument(
        "--id-col",
        metavar="C",
        help="column naming each review (default: review_id, or the one its labels table already uses)",
    )
    parser.add_argument("--rating-col", metavar="C", help="star rating column (default: the job's, or star_rating)")
    parser.add_argument("--labels-table", metavar="DB.T", help="where the labels are (default: DB.T_labels)")
    parser.add_argument("--root", help="use this local lake folder instead of the configured backend")


def _add_review(verbs: SubParsers) -> None:
    queue = verbs.add_parser(
        "queue",
        help="the next reviews a scored table's model is least sure of, as JSON",
        description="Print the next reviews to label (JSON lines): not yet labelled by anyone nor skipped by you, "
        "lowest confidence first; with --mode disagree only those whose prediction is not their stars' sentiment.",
    )
    _queue_arguments(queue)
    queue.add_argument("--mode", choices=["doubt", "disagree"], default="doubt")
    queue.add_argument("--limit", type=int, default=10, help="reviews to print (default 10)")
    queue.add_argument("--who", help="who is labelling (default: your user name)")
    queue.set_defaults(func=cmd_automl_queue)
    label = verbs.add_parser(
        "label",
        help="label one review of a scored table (append-only)",
        description="Append one answer to the scored table's labels table (registered on the first answer): "
        "a class of the job, or skip. A later answer for the same review replaces it as its label.",
    )
    _queue_arguments(label)
    label.add_argument("--id", required=True, dest="review_id", metavar="ID", help="the review's id")
    label.add_argument(
        "--label", required=True, metavar="LABEL", help="negative, neutral, positive (the job's classes) or skip"
    )
    label.add_argument("--who", help="who is labelling (default: your user name)")
    label.set_defaults(func=cmd_automl_label)
    labels = verbs.add_parser(
        "labels",
        help="labelling progress of a scored table, as JSON",
        description="Reviews in the queue, labelled so far, agreement with the model, answers per label and per "
        "analyst, and the jobs retrained with the labels with their accuracy change.",
    )
    _queue_arguments(labels)
    labels.add_argument("--mode", choices=["doubt", "disagree"], default="doubt")
    labels.add_argument("--who", help="count what is left in this analyst's queue (default: your user name)")
    labels.set_defaults(func=cmd_automl_labels)
    retrain = verbs.add_parser(
        "retrain",
        help="start a job like the scored table's, with people's labels first",
        description="Start a new job with the configuration of the job that scored TABLE, training on the same table "
        "with each review's human label (its latest answer) in place of the one from its stars.",
    )
    _queue_arguments(retrain)
    retrain.add_argument("--name", help="job name (default: the table, -relabel, and the time)")
    retrain.add_argument("--budget", type=int, metavar="SECONDS", help="time budget (default: the first job's)")
    retrain.add_argument("--detach", action="store_true", help="start the job and return without waiting")
    retrain.set_defaults(func=cmd_automl_retrain)


def _open_queue(args: argparse.Namespace) -> tuple[Backend, Queue]:
    from lib.automl import review
    from lib.backends import make_backend

    backend = make_backend(settings_for(args))
    backend.check()
    queue = review.open_queue(
        backend, args.table, id_column=args.id_col, rating_column=args.rating_col, labels_table=args.labels_table
    )
    return backend, queue


def cmd_automl_queue(args: argparse.Namespace) -> int:
    from lib.automl import review

    backend, queue = _open_queue(args)
    who = review.clean_who(args.who or review.who_default())
    for row in review.next_reviews(backend, queue, args.mode, who=who, limit=max(1, args.limit)):
        print(json.dumps(row, default=str, ensure_ascii=False))
    return 0


def cmd_automl_label(args: argparse.Namespace) -> int:
    from lib.automl import review

    backend, queue = _open_queue(args)
    review.check_answer(queue, args.label)
    review.clean_who(args.who or review.who_default())
    if not review.review_exists(backend, queue, args.review_id):
        raise LakeLensError(
            f"Table {queue.scored.qualified_name} has no review with {queue.id_column} = {args.review_id!r}."
        )
    row = review.prediction_of(backend, queue, args.review_id)
    _, answer = review.label(
        backend,
        queue,
        args.review_id,
        args.label,
        who=args.who or review.who_default(),
        predicted=row.get("predicted_sentiment"),
        confidence=row.get("confidence"),
    )
    print(json.dumps(answer.to_dict(), ensure_ascii=False))
    return 0


def cmd_automl_labels(args: argparse.Namespace) -> int:
    from lib.automl import review

    backend, queue = _open_queue(args)
    who = review.clean_who(args.who or review.who_default())
    print(json.dumps(review.progress(backend, queue, args.mode, who=who), default=str, indent=2))
    return 0


def cmd_automl_retrain(args: argparse.Namespace) -> int:
    from lib.automl import jobs, review

    backend, queue = _open_queue(args)
    config = review.retrain_config(backend, queue, name=args.name, budget_s=args.budget)
    jobs.start_job(backend, config)
    print(f"started {config.name}", file=sys.stderr)
    if args.detach:
        print(config.name)
        return 0
    status = jobs.wait(backend, config.name, config.budget_s * 3 + 300)
    if status.status != "Completed":
        raise LakeLensError(f"Job {config.name} ended {status.status}: {status.failure_reason}")
    entry = next(e for e in review.retrained(backend, queue) if e["job"] == config.name)
    print(json.dumps(entry, default=str, indent=2))
    return 0


def cmd_automl_run(args: argparse.Namespace) -> int:
    from lib.automl import jobs
    from lib.backends import make_backend

    if bool(args.label_col) == bool(args.sentiment_from_rating):
        raise LakeLensError("Give either --label-col or --sentiment-from-rating (one of them).")
    database, _, table = args.table.rpartition(".")
    settings = settings_for(args)
    backend = make_backend(settings)
    backend.check()
    config = jobs.JobConfig(
        name=args.name or jobs.default_name(table),
        database=database or settings.database,
        table=table,
        text_column=args.text_col,
        label_column=args.sentiment_from_rating or args.label_col,
        label_source="rating" if args.sentiment_from_rating else "column",
        objective=args.objective,
        budget_s=args.budget,
        max_rows=args.max_rows or settings.automl_max_rows,
    )
    jobs.start_job(backend, config)
    print(f"started {config.name}", file=sys.stderr)
    if args.detach:
        print(config.name)
        return 0
    stage = ""
    status = jobs.read_status(backend, config.name)
    try:
        while not status.terminal:
            if status.stage != stage:
                stage = status.stage
                print(f"{status.elapsed_s:6.1f} s  {stage}", file=sys.stderr)
            time.sleep(0.5)
            status = jobs.read_status(backend, config.name)
    except KeyboardInterrupt:
        jobs.request_stop(backend, config.name)
        print("stop requested", file=sys.stderr)
        status = jobs.wait(backend, config.name, 120)
    print(f"{status.elapsed_s:6.1f} s  {status.status}", file=sys.stderr)
    if status.status != "Completed":
        raise LakeLensError(f"Job {config.name} ended {status.status}: {status.failure_reason}")
    data = jobs.read_json(backend, config.name, "data.json")
    baseline = data["baseline"]
    print(f"job {config.name}: {data['rows_read']:,} rows, classes {', '.join(data['classes'])}")
    print(
        f"majority-class baseline ({baseline['class']}): accuracy {baseline['accuracy']:.3f}, macro F1 {baseline['f1_macro']:.3f}"
    )
    print(f"{'candidate':<40}{'validation ' + config.objective:>22}{'test accuracy':>15}{'test macro F1':>15}")
    for candidate in jobs.read_json(backend, config.name, "candidates.json"):
        mark = " *" if candidate["name"] == status.best_candidate else ""
        if candidate["status"] != "Completed":
            print(f"{candidate['label'] + mark:<40}{'failed: ' + candidate.get('failure_reason', '')}")
            continue
        print(
            f"{candidate['label'] + mark:<40}{candidate['validation_objective']:>22.3f}"
            f"{candidate['test_accuracy']:>15.3f}{candidate['test_f1_macro']:>15.3f}"
        )
    return 0


def cmd_automl_list(args: argparse.Namespace) -> int:
    from lib.automl import jobs
    from lib.backends import make_backend

    backend = make_backend(settings_for(args))
    backend.check()
    found = jobs.list_jobs(backend)
    if not found:
        print("no AutoML jobs in the lake", file=sys.stderr)
        return 0
    print("job\tstatus\tstage\ttable\tlabel\tobjective\tbudget_s\tbest\tcreated\treason")
    for job in found:
        config, status = job.config, job.status
        print(
            "\t".join(
                [
                    config.name,
                    status.status,
                    status.stage,
                    config.qualified_table,
                    config.label_text,
                    config.objective,
                    str(config.budget_s),
                    status.best_candidate or "",
                    config.created,
                    status.failure_reason,
                ]
            )
        )
    return 0


def cmd_automl_stop(args: argparse.Namespace) -> int:
    from lib.automl import jobs
    from lib.backends import make_backend

    backend = make_backend(settings_for(args))
    status = jobs.request_stop(backend, args.job)
    print(f"{args.job}: {'stop requested' if not status.terminal else status.status}")
    return 0


def cmd_automl_predict(args: argparse.Namespace) -> int:
    from lib.automl import predict
    from lib.backends import make_backend

    backend = make_backend(settings_for(args))
    backend.check()
    plan = predict.plan(backend, args.job, args.table, args.out_table, candidate=args.candidate, replace=args.replace)
    last = [-1]

    def progress(fraction: float, message: str) -> None:
        if int(fraction * 10) != last[0]:
            last[0] = int(fraction * 10)
            print(f"{fraction:4.0%}  {message}", file=sys.stderr)

    result = predict.run(backend, plan, progress=progress)
    print(
        f"{result.table.qualified_name}\t{result.table.location}\t{result.rows:,} rows "
        f"({result.without_text:,} without text, no prediction)\t{plan.candidate_label}\t"
        f"{result.rows_per_s:,.0f} rows/s"
    )
    return 0
