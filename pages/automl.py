"""AutoML: train and compare sentiment classifiers locally; read, launch and stop SageMaker Autopilot jobs."""

from __future__ import annotations

import streamlit as st

from components.automl import autopilot as autopilot_views
from components.automl import views as views
from components.automl.job import local_job
from components.feedback import friendly_errors
from components.routing import require_app
from lib import data
from lib.errors import NotFound


def main() -> None:
    st.title("AutoML")
    st.caption(
        "Train sentiment classifiers on a lake table with FLAML, compare every candidate, and see why it answers "
        "what it answers."
    )
    settings = data.settings()
    if st.session_state.pop("automl.form.close", False):
        st.session_state["automl.form.open"] = False  # the job started: fold the form away, show the job
    if st.toggle("Start a local job", key="automl.form.open"):
        with st.container(border=True):
            views.start_form(settings)
    with friendly_errors(stop=True):
        summaries = data.automl_jobs()
    selected = views.url_get("job")
    source = views.url_get("source") or "local"
    st.markdown("#### Local jobs")
    if summaries:
        frame = views.jobs_frame(summaries)
        picked = views.job_picker(frame, selected if source == "local" else None, key="automl.jobs")
        if picked and picked != selected:
            views.url_set(job=picked, source="local", candidate=None, review=None, queue=None)
            selected, source = picked, "local"
    else:
        st.caption("No local jobs yet: start one above (a 60-second job on the demo reviews is a good first try).")
    if data.backend(settings).has_autopilot:
        clicked = autopilot_views.autopilot_section(selected if source == "autopilot" else None)
        if clicked and (clicked != selected or source != "autopilot"):
            views.url_set(job=clicked, source="autopilot", candidate=None, review=None, queue=None)
            selected, source = clicked, "autopilot"
        if source == "autopilot" and selected:
            with friendly_errors():
                autopilot_views.autopilot_job(selected)
    if source == "local" and selected:
        with friendly_errors():
            try:
                local_job(selected)
            except NotFound:
                st.warning(f"There is no job {selected} in this lake.", icon=":material/search_off:")
                views.url_set(job=None, candidate=None)
    elif source == "local" and summaries:
        st.caption("Select a job in the table to see its leaderboard and insights.")


require_app()
main()
