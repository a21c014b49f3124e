"""The review queue on the AutoML page: one review at a time, labelled with buttons or the keys 1–4, then retrain.

State a colleague would open lives in the URL: ``review`` (the scored table) and ``queue`` (doubt | disagree).
The reviews to come are fetched 20 at a time (``review.next_reviews``, never cached: a colleague's answers take a
review out of the next batch); progress and the latest answers are cached and re-read after each answer.
"""

from __future__ import annotations

from typing import Any, get_args

import pandas as pd
import streamlit as st

from components.automl.views import url_get, url_set
from components.feedback import friendly_errors
from components.plain import literal, plain
from lib import data
from lib.automl import explain, jobs, review

_BACK = "__back__"
_ICONS = {
    "negative": ":material/sentiment_dissatisfied:",
    "neutral": ":material/sentiment_neutral:",
    "positive": ":material/sentiment_satisfied:",
    review.SKIP: ":material/skip_next:",
}


def _who() -> str:
    user = getattr(st, "user", None)
    if user is not None and user.get("is_logged_in"):
        return str(user.get("email") or user.get("name") or "signed-in user")
    st.session_state.setdefault("review.who", review.who_default())
    return str(st.session_state["review.who"])


def section(job: str, config: jobs.JobConfig) -> None:
    """The queue of one job's scored tables, or a line saying how to make one."""
    with friendly_errors():
        tables = [t for db in data.databases() for t in data.tables(db.name)]
    scored = [t.qualified_name for t in review.scored_tables(tables, job)]
    if not scored:
        st.caption(
            "Score a table with this job (above): its least confident predictions then queue here, one review at a "
            "time, for people to label; a new job trains with their labels first."
        )
        return
    chosen = url_get("review")
    top = st.columns([2, 3, 2])
    table = top[0].selectbox(
        "Scored table",
        scored,
        index=scored.index(chosen) if chosen in scored else 0,
        key=f"review.table.{job}",
        help="A table written by Score a table; its labels go to <table>_labels beside it.",
    )
    mode_now = url_get("queue") if url_get("queue") in review.MODES else "doubt"
    mode = (
        top[1].segmented_control(
            "Queue", list(review.MODES), format_func=review.MODES.__getitem__, default=mode_now, key="review.mode"
        )
        or mode_now
    )
    signed_in = getattr(st, "user", None) is not None and bool(st.user.get("is_logged_in"))
    if signed_in:
        top[2].text_input("Labelling as", value=_who(), disabled=True)
    else:
        _who()
        top[2].text_input("Labelling as", key="review.who", help="Stored with each answer (labelled_by)")
    url_set(review=str(table), queue=str(mode) if mode != "doubt" else None)
    with friendly_errors():
        who = review.clean_who(_who())
        queue = review.open_queue(data.backend(), str(table))
        _queue(queue, _mode(str(mode)), who)


def _mode(name: str) -> review.Mode:
    """The queue a name (from the link or the control, so one of ``review.MODES``) stands for."""
    for mode in get_args(review.Mode):
        if name == mode:
            return mode
    return "doubt"


def _stamp() -> int:
    return int(st.session_state.get("review.stamp", 0))


def _queue(queue: review.Queue, mode: review.Mode, who: str) -> None:
    state = data.review_state(queue.scored.qualified_name, queue.id_column, mode, who, _stamp())
    _progress(state, queue)
    batch_key = f"review.batch.{queue.scored.qualified_name}.{mode}.{who}"
    batch: list[dict[str, Any]] = st.session_state.get(batch_key) or []
    if not batch:
        batch = review.next_reviews(data.backend(), queue, mode, who=who)
        st.session_state[batch_key] = batch
    if not batch:
        st.success(
            "Nothing left to label in this queue"
            + (": every review where the model and the stars disagree has an answer." if mode == "disagree" else ".")
        )
    history_key = f"review.history.{queue.scored.qualified_name}.{mode}.{who}"
    history: list[dict[str, Any]] = st.session_state.setdefault(history_key, [])
    if batch:
        answered = _card(queue, batch[0], back=bool(history))
        if answered == _BACK:  # the last review answered comes back; a new answer replaces that one
            st.session_state[batch_key] = [history.pop(), *batch]
            st.rerun()
        elif answered:
            _answer(queue, batch, batch_key, answered, who, history)
    elif history and st.button("Back to the last review answered", icon=":material/undo:", shortcut="Backspace"):
        st.session_state[batch_key] = [history.pop()]
        st.rerun()
    _recent(state)
    _retrain(queue, state)


def _progress(state: dict[str, Any], queue: review.Queue) -> None:
    cells = st.columns(4)
    cells[0].metric(
        "Labelled",
        f"{state['labelled']:,}",
        help=f"Reviews with a label other than skip, of {state['reviews_with_prediction']:,} with a prediction",
        border=True,
    )
    agreement = state["agreement"]
    cells[1].metric(
        "Agree with the model",
        "–" if agreement is None else f"{agreement:.0%}",
        help="Share of labelled reviews whose label is what the model predicted",
        border=True,
    )
    cells[2].metric("Left in your queue", f"{state['left_in_queue']:,}", border=True)
    done = [r for r in state["retrained"] if r["test_accuracy"] is not None]
    if done:
        last = done[0]
        cells[3].metric(
            "After retraining",
            f"{last['test_accuracy']:.1%}",
            delta=None if last["change_pts"] is None else f"{last['change_pts']:+.1f} pts vs {last['parent_job']}",
            help=f"Test accuracy of job {last['job']}, trained with {last['human_labels'] or 0:,} people's labels first",
            border=True,
        )
    else:
        running = [r for r in state["retrained"] if r["status"] == "InProgress"]
        cells[3].metric(
            "After retraining",
            "running" if running else "–",
            help="The retrained job's test accuracy, against the first job's; retrain below once reviews are labelled",
            border=True,
        )
    if state["disputed"]:
        st.caption(
            f"{state['disputed']:,} reviews have more than one answer (a correction, or colleagues who differ); the "
            "latest one counts."
        )


def _card(queue: review.Queue, row: dict[str, Any], *, back: bool) -> str | None:
    """One review with what the model said and why; returns the answer clicked or keyed (or :data:`_BACK`)."""
    predicted = row.get("predicted_sentiment")
    confidence = row.get("confidence")
    with st.container(border=True, key="review.card"):
        facts = [f"Review **{plain(str(row['review_id']))}**"]
        if queue.rating_column and row.get("rating") is not None:
            facts.append(f"{plain(str(row['rating']))} stars ({row.get('stars_sentiment') or 'no sentiment'})")
        facts.append(f"the model says **{predicted}** with {float(confidence or 0):.0%} confidence")
        st.markdown(" · ".join(facts))
        if row.get("_answered"):
            st.caption(
                f"You answered **{row['_answered']}**: a new label replaces it (the latest label counts; a skip "
                "leaves it as it is)."
            )
        st.markdown(literal(str(row.get("text") or "")))
        tokens = _tokens(queue, str(row.get("text") or ""), str(predicted))
        if tokens:
            st.caption(
                f"Words that carry **{predicted}** here (how much its probability drops without each): "
                + ", ".join(f"{plain(t['token'])} {t['weight']:+.2f}" for t in tokens)
            )
        keys = st.columns(len(queue.answers) + 1)
        clicked = None
        if keys[-1].button(
            "Back",
            icon=":material/undo:",
            key="review.back",
            shortcut="Backspace",
            disabled=not back,
            width="stretch",
            help="The last review you answered, to answer it again",
        ):
            clicked = _BACK
        for cell, answer in zip(keys, queue.answers, strict=False):
            key = review.key_for(answer, queue.classes)
            if cell.button(
                f"{answer.capitalize()}",
                icon=_ICONS.get(answer),
                key=f"review.answer.{answer}",
                shortcut=key,
                type="primary" if answer == predicted else "secondary",
                width="stretch",
                help=f"Key {key}",
            ):
                clicked = answer
    return clicked


def _tokens(queue: review.Queue, text: str, predicted: str) -> list[dict[str, Any]]:
    """The words of the review on screen, scored once per review (not again on every rerun of the page)."""
    if not text.strip() or not queue.candidate:
        return []
    seen: dict[tuple[str, str, str], list[dict[str, Any]]] = st.session_state.setdefault("review.tokens", {})
    key = (queue.job, queue.candidate, text)
    if key not in seen:
        try:
            model = data.automl_model(queue.job, queue.candidate, queue.model_sha256)
        except Exception:  # the words are a help, not the answer: the review can be labelled without them
            return []
        if len(seen) >= 100:
            seen.clear()
        seen[key] = explain.token_influence(model, text, predicted)
    return seen[key]


def _answer(
    queue: review.Queue,
    batch: list[dict[str, Any]],
    batch_key: str,
    answer: str,
    who: str,
    history: list[dict[str, Any]],
) -> None:
    row = batch[0]
    _, stored = review.label(
        data.backend(),
        queue,
        str(row["review_id"]),
        answer,
        who=who,
        predicted=row.get("predicted_sentiment"),
        confidence=row.get("confidence"),
    )
    st.session_state[batch_key] = [r for r in batch[1:] if r["review_id"] != row["review_id"]]
    history.append({**row, "_answered": stored.label})
    del history[:-50]  # Back reaches the last 50 answers of this session
    st.session_state["review.stamp"] = _stamp() + 1
    if queue.labels is None:
        data.clear()  # the labels table was just registered: listings show it
    st.toast(f"{plain(stored.review_id)}: {stored.label}", icon=_ICONS.get(stored.label))
    st.rerun()


def _recent(state: dict[str, Any]) -> None:
    if not state["recent"]:
        return
    st.markdown(f"##### Latest answers · {plain(state['labels_table'])}")
    frame = pd.DataFrame(state["recent"])
    st.dataframe(
        frame,
        hide_index=True,
        width="stretch",
        key="review.recent",
        column_config={
            "labelled_at": st.column_config.DatetimeColumn("labelled at (UTC)", format="YYYY-MM-DD HH:mm:ss"),
            "text": st.column_config.TextColumn("text", width="large"),
        },
    )
    people = state["labellers"]
    if len(people) > 1:
        st.caption(
            "By analyst: "
            + ", ".join(f"{plain(p['labelled_by'])} {p['answers']:,} ({p['skips']:,} skips)" for p in people)
        )


def _retrain(queue: review.Queue, state: dict[str, Any]) -> None:
    if not state["labelled"]:
        return
    base = jobs.read_config(data.backend(), queue.job)
    with st.form(f"review.retrain.{queue.scored.qualified_name}", border=True):
        st.markdown(
            f"**Retrain with these labels**: a new job like {queue.job} on {base.qualified_table}, each review's "
            f"latest label (of {state['labelled']:,}) taken first, its stars for the rest."
        )
        left, right = st.columns(2)
        name = left.text_input("Job name", value=jobs.default_name(f"{base.table}-relabel"), key="review.retrain.name")
        budget = right.number_input(
            "Time budget (seconds)", min_value=jobs.MIN_BUDGET_S, value=int(base.budget_s), step=10,
            key="review.retrain.budget",
        )  # fmt: skip
        go = st.form_submit_button("Start the job", icon=":material/model_training:", type="primary")
    if go:
        with friendly_errors():
            config = review.retrain_config(data.backend(), queue, name=str(name), budget_s=int(budget))
            jobs.start_job(data.backend(), config)
            url_set(job=config.name, source="local", candidate=None, review=None, queue=None)
            st.rerun()
    for run in state["retrained"]:
        change = "" if run["change_pts"] is None else f", {run['change_pts']:+.1f} pts against {run['parent_job']}"
        accuracy = "" if run["test_accuracy"] is None else f": test accuracy {run['test_accuracy']:.1%}{change}"
        st.caption(f"Retrained as {plain(run['job'])} ({run['status']}){accuracy}")
