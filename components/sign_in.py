"""The optional sign-in: with LAKELENS_LOGIN_PROVIDER set, no page renders until Streamlit's ``st.login`` has run.

Streamlit does the OpenID Connect flow and keeps the identity in a signed cookie; LakeLens only decides that
nothing else is shown before it. The provider is configured where Streamlit expects it, in the ``[auth]`` section
of ``.streamlit/secrets.toml`` (docs/SECURITY.md has an example); a setting that points at a missing section is
one clear message, not Streamlit's error on the first click.
"""

from __future__ import annotations

import importlib.util
from typing import Any

import streamlit as st


def require_sign_in(provider: str | None) -> None:
    """Stop the script at a sign-in prompt unless sign-in is off or the visitor has signed in."""
    if not provider:
        return
    if st.user.get("is_logged_in"):
        st.sidebar.button("Sign out", icon=":material/logout:", on_click=st.logout, key="sign_out")
        return
    st.title("LakeLens")
    problem = configuration_problem(provider)
    if problem:
        st.error(problem, icon=":material/lock:")
        st.stop()
    st.info("Sign in to explore the lake: LakeLens on this server is for signed-in colleagues.", icon=":material/lock:")
    st.button(
        "Sign in",
        icon=":material/login:",
        type="primary",
        on_click=st.login,
        args=(None if provider == "default" else provider,),
        key="sign_in",
    )
    st.stop()


def configuration_problem(provider: str) -> str | None:
    """What is missing for ``st.login`` to work with ``provider``, in one sentence; ``None`` if nothing is."""
    if importlib.util.find_spec("authlib") is None:
        return "Sign-in needs the Authlib package: run `make run` (or pip install -r requirements.txt) again."
    auth = _auth_section()
    if not auth:
        return (
            "LAKELENS_LOGIN_PROVIDER is set, but .streamlit/secrets.toml has no [auth] section; add one "
            "(redirect_uri, cookie_secret and the provider's client_id, client_secret, server_metadata_url) or "
            "unset the setting."
        )
    if provider != "default" and not isinstance(auth.get(provider), dict):
        return (
            f"LAKELENS_LOGIN_PROVIDER is {provider!r}, but .streamlit/secrets.toml has no [auth.{provider}] "
            "section; add it or name a provider that is there."
        )
    return None


def _auth_section() -> dict[str, Any]:
    try:
        section = st.secrets.get("auth")
    except Exception:  # no secrets.toml at all, or one Streamlit cannot parse
        return {}
    if section is not None and hasattr(section, "to_dict"):
        return section.to_dict()
    return dict(section or {})
