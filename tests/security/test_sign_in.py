"""The optional sign-in: with LAKELENS_LOGIN_PROVIDER set, a visitor who has not signed in sees only the prompt.

AppTest stands in for Streamlit's identity cookie with ``AppTest.user`` (``is_logged_in``) and for secrets.toml
with ``AppTest.secrets``; the OpenID Connect round trip itself is Streamlit's and is not run here.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.security.conftest import Ledger

ROOT = Path(__file__).resolve().parents[2]
AUTH = {
    "redirect_uri": "http://localhost:8501/oauth2callback",
    "cookie_secret": "a-long-random-string-only-for-this-test",
    "client_id": "lakelens",
    "client_secret": "not-a-real-client-secret",
    "server_metadata_url": "https://id.example.com/.well-known/openid-configuration",
}


@pytest.fixture
def signed_in_app(demo_lake_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("LAKELENS_BACKEND", "local")
    monkeypatch.setenv("LAKELENS_LAKE_ROOT", str(demo_lake_dir))
    monkeypatch.setenv("LAKELENS_LOGIN_PROVIDER", "default")
    yield


def app(user: dict[str, object], secrets: dict[str, object] | None = None) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.user = user
    at.secrets = {"auth": AUTH} if secrets is None else secrets
    return at.run()


def test_a_visitor_who_has_not_signed_in_sees_only_the_prompt(signed_in_app: None, ledger: Ledger) -> None:
    at = app({"is_logged_in": False})
    assert not at.exception and not at.error
    assert [t.value for t in at.title] == ["LakeLens"]
    assert [b.label for b in at.button] == ["Sign in"]
    assert "Sign in" in at.info[0].value
    assert not at.metric and not at.dataframe and not at.tabs and not at.markdown  # no lake, no tables, no backend
    ledger.note("secrets", "sign-in before any page with LAKELENS_LOGIN_PROVIDER", "checked")


def test_a_signed_in_colleague_sees_the_app_and_can_sign_out(signed_in_app: None) -> None:
    at = app({"is_logged_in": True, "email": "analyst@example.com"})
    assert not at.exception and not at.error
    assert {m.label: m.value for m in at.metric}["Tables"] == "2"
    assert "Sign out" in [b.label for b in at.sidebar.button]
    at.switch_page("pages/lake.py").run()
    assert not at.exception and at.title[0].value == "Lake"


def test_a_provider_without_its_secrets_is_one_message(signed_in_app: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LAKELENS_LOGIN_PROVIDER", "okta")
    at = app({"is_logged_in": False})
    assert not at.exception and not at.button and not at.metric
    assert [e.value for e in at.error] == [
        "LAKELENS_LOGIN_PROVIDER is 'okta', but .streamlit/secrets.toml has no [auth.okta] section; add it or name "
        "a provider that is there."
    ]


def test_without_the_setting_nobody_is_asked_to_sign_in(demo_lake_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("LAKELENS_LAKE_ROOT", str(demo_lake_dir))
    monkeypatch.delenv("LAKELENS_LOGIN_PROVIDER", raising=False)
    at = app({"is_logged_in": False})
    assert not at.exception and "Sign in" not in [b.label for b in at.button]
    assert {m.label: m.value for m in at.metric}["Tables"] == "2"
