from __future__ import annotations

import re
from pathlib import Path

import pytest

from lib.errors import SettingsError
from lib.settings import SPECS, load_settings

ROOT = Path(__file__).resolve().parents[2]


def test_defaults_when_nothing_is_set() -> None:
    settings = load_settings({}, secrets_path="/nonexistent")
    assert settings.backend == "local"
    assert settings.max_rows == 1000
    assert settings.allow_writes is False
    assert settings.sources["max_rows"] == "default"


def test_environment_beats_secrets_file_beats_default(tmp_path: Path) -> None:
    secrets = tmp_path / "secrets.toml"
    secrets.write_text('[lakelens]\nmax_rows = 50\nquery_timeout_s = 9\nscan_warn_bytes = "2GB"\n')
    settings = load_settings({"LAKELENS_MAX_ROWS": "7"}, secrets_path=secrets)
    assert settings.max_rows == 7 and settings.sources["max_rows"] == "LAKELENS_MAX_ROWS"
    assert settings.query_timeout_s == 9 and settings.sources["query_timeout_s"] == "secrets.toml"
    assert settings.scan_warn_bytes == 2 * 10**9
    assert settings.database == "demo" and settings.sources["database"] == "default"


def test_standard_aws_variables_are_honoured() -> None:
    settings = load_settings(
        {"AWS_DEFAULT_REGION": "eu-west-1", "AWS_ENDPOINT_URL": "http://127.0.0.1:5000"}, secrets_path="/nonexistent"
    )
    assert settings.aws_region == "eu-west-1"
    assert settings.endpoint_url == "http://127.0.0.1:5000"


@pytest.mark.parametrize(
    "env, fragment",
    [
        ({"LAKELENS_MAX_ROWS": "lots"}, "LAKELENS_MAX_ROWS"),
        ({"LAKELENS_MAX_ROWS": "0"}, "above 0"),
        ({"LAKELENS_BACKEND": "gcp"}, "local or aws"),
        ({"LAKELENS_ALLOW_WRITES": "maybe"}, "true or false"),
        ({"LAKELENS_BACKEND": "aws"}, "LAKELENS_S3_LAKE"),
        ({"LAKELENS_BACKEND": "aws", "LAKELENS_S3_LAKE": "/not/s3"}, "s3://"),
        ({"LAKELENS_SCAN_WARN_BYTES": "ten gigs"}, "10GB"),
    ],
)
def test_a_bad_setting_is_one_clear_message(env: dict[str, str], fragment: str) -> None:
    with pytest.raises(SettingsError) as info:
        load_settings(env, secrets_path="/nonexistent")
    assert fragment in str(info.value)
    assert "\n" not in str(info.value)


def test_broken_or_unknown_secrets_are_reported(tmp_path: Path) -> None:
    broken = tmp_path / "broken.toml"
    broken.write_text("[lakelens\nmax_rows = ")
    with pytest.raises(SettingsError, match="not valid TOML"):
        load_settings({}, secrets_path=broken)
    unknown = tmp_path / "unknown.toml"
    unknown.write_text("[lakelens]\nmax_rowz = 3\n")
    with pytest.raises(SettingsError, match="max_rowz"):
        load_settings({}, secrets_path=unknown)


def test_every_setting_has_a_readme_row() -> None:
    readme = (ROOT / "README.md").read_text()
    rows = {match.group(1) for match in re.finditer(r"^\| `(LAKELENS_[A-Z0-9_]+)` \|", readme, re.M)}
    assert {spec.env for spec in SPECS} <= rows
