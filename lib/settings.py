"""Settings: environment variables first, then ``.streamlit/secrets.toml``, then defaults.

Every setting is declared once in :data:`SPECS` with its environment variable, its key in the ``[lakelens]``
table of ``secrets.toml``, its default and a one-line description; the README's settings table is checked
against this list by a test, so a setting cannot be added without its documentation.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Literal

from lib.errors import SettingsError

BackendKind = Literal["local", "aws"]


@dataclass(frozen=True)
class SettingSpec:
    name: str
    env: str
    default: Any
    parse: Callable[[str], Any]
    doc: str
    fallback_env: tuple[str, ...] = ()


def _bool(raw: str) -> bool:
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off", ""}:
        return False
    raise ValueError("expected true or false")


def _positive_int(raw: str) -> int:
    try:
        value = int(str(raw).replace("_", "").replace(",", "").strip())
    except ValueError:
        raise ValueError("expected a whole number above 0") from None
    if value <= 0:
        raise ValueError("expected a whole number above 0")
    return value


_SIZE_UNITS = {"": 1, "b": 1, "kb": 10**3, "mb": 10**6, "gb": 10**9, "tb": 10**12}


def parse_size(raw: str) -> int:
    """Bytes, as a plain number or with a unit: ``200MB``, ``10 GB``."""
    text = str(raw).strip().lower().replace(" ", "").replace("_", "")
    digits = text.rstrip("kmgtb")
    unit = text[len(digits) :]
    try:
        if unit not in _SIZE_UNITS or not digits:
            raise ValueError
        value = int(float(digits) * _SIZE_UNITS[unit])
    except ValueError:
        raise ValueError("expected a size such as 200MB or 10GB") from None
    if value <= 0:
        raise ValueError("expected a size above 0")
    return value


def _backend(raw: str) -> str:
    value = raw.strip().lower()
    if value not in ("local", "aws"):
        raise ValueError("expected local or aws")
    return value


def _text(raw: str) -> str:
    return str(raw).strip()


def _optional(raw: str) -> str | None:
    value = str(raw).strip()
    return value or None


def _s3_uri(raw: str) -> str | None:
    value = str(raw).strip()
    if not value:
        return None
    if not value.startswith("s3://") or len(value) <= len("s3://"):
        raise ValueError("expected an S3 URI such as s3://my-bucket/lake/")
    return value if value.endswith("/") else value + "/"


def _prefix(raw: str) -> str:
    value = str(raw).strip().strip("/")
    if not value or ".." in value.split("/"):
        raise ValueError("expected a folder name inside the lake, such as _lakelens")
    return value + "/"


SPECS: tuple[SettingSpec, ...] = (
    SettingSpec(
        "backend",
        "LAKELENS_BACKEND",
        "local",
        _backend,
        "Where the lake lives: `local` (a folder, DuckDB) or `aws` (S3, Glue, Athena).",
    ),
    SettingSpec(
        "lake_root",
        "LAKELENS_LAKE_ROOT",
        "lake",
        _text,
        "Local backend: the lake folder. Relative paths are relative to the working directory.",
    ),
    SettingSpec(
        "s3_lake",
        "LAKELENS_S3_LAKE",
        None,
        _s3_uri,
        "AWS backend: the lake's S3 location, e.g. `s3://my-bucket/lake/`. The object browser and ingest stay inside it.",
    ),
    SettingSpec(
        "aws_region",
        "LAKELENS_AWS_REGION",
        "us-east-1",
        _text,
        "AWS backend: region of S3, Glue and Athena.",
        ("AWS_REGION", "AWS_DEFAULT_REGION"),
    ),
    SettingSpec(
        "aws_profile",
        "LAKELENS_AWS_PROFILE",
        None,
        _optional,
        "AWS backend: named profile from `~/.aws/config`; unset uses the standard credential chain.",
        ("AWS_PROFILE",),
    ),
    SettingSpec(
        "endpoint_url",
        "LAKELENS_ENDPOINT_URL",
        None,
        _optional,
        "AWS backend: endpoint override for S3-compatible stores and moto.",
        ("AWS_ENDPOINT_URL",),
    ),
    SettingSpec(
        "athena_workgroup",
        "LAKELENS_ATHENA_WORKGROUP",
        "primary",
        _text,
        "AWS backend: Athena workgroup queries run in.",
    ),
    SettingSpec(
        "athena_output",
        "LAKELENS_ATHENA_OUTPUT",
        None,
        _s3_uri,
        "AWS backend: S3 location for Athena results; unset uses `<s3_lake>/_lakelens/athena-results/`.",
    ),
    SettingSpec("database", "LAKELENS_DATABASE", "demo", _text, "Database used for table names written without one."),
    SettingSpec(
        "max_rows",
        "LAKELENS_MAX_ROWS",
        1000,
        _positive_int,
        "Most rows a query hands to the page; the rest are counted, not sent.",
    ),
    SettingSpec(
        "query_timeout_s",
        "LAKELENS_QUERY_TIMEOUT_S",
        300,
        _positive_int,
        "Seconds a query may run before it is stopped.",
    ),
    SettingSpec(
        "scan_warn_bytes",
        "LAKELENS_SCAN_WARN_BYTES",
        10 * 10**9,
        parse_size,
        "Estimated scan size above which the SQL page asks before running (e.g. `10GB`).",
    ),
    SettingSpec(
        "allow_writes", "LAKELENS_ALLOW_WRITES", False, _bool, "Allow DDL and DML in SQL. Off: SQL is read-only."
    ),
    SettingSpec(
        "demo_rows", "LAKELENS_DEMO_ROWS", 100_000, _positive_int, "Reviews in the demo lake built on first start."
    ),
    SettingSpec(
        "max_upload_bytes",
        "LAKELENS_MAX_UPLOAD_BYTES",
        200 * 10**6,
        parse_size,
        "Largest file the Lake page accepts for ingest (the browser upload only: the command line ingests any size).",
    ),
    SettingSpec(
        "ingest_memory_bytes",
        "LAKELENS_INGEST_MEMORY_BYTES",
        10**9,
        parse_size,
        "Working memory of a streaming ingest or curate (DuckDB spills to disk beyond it), whatever the file's size.",
    ),
    SettingSpec(
        "max_download_bytes",
        "LAKELENS_MAX_DOWNLOAD_BYTES",
        100 * 10**6,
        parse_size,
        "Largest object the Lake page offers for download.",
    ),
    SettingSpec(
        "meta_prefix",
        "LAKELENS_META_PREFIX",
        "_lakelens/",
        _prefix,
        "Folder in the lake for LakeLens's own records (local catalog, history, saved queries).",
    ),
    SettingSpec(
        "cache_ttl_s",
        "LAKELENS_CACHE_TTL_S",
        600,
        _positive_int,
        "Seconds the pages keep listings and query results before asking the backend again.",
    ),
    SettingSpec(
        "automl_max_rows",
        "LAKELENS_AUTOML_MAX_ROWS",
        50_000,
        _positive_int,
        "Most reviews a local AutoML job reads from its table (a deterministic sample when the table is larger).",
    ),
    SettingSpec(
        "sagemaker_role_arn",
        "LAKELENS_SAGEMAKER_ROLE_ARN",
        None,
        _optional,
        "AWS backend: IAM role SageMaker Autopilot jobs run as; needed to launch one from the AutoML page.",
    ),
    SettingSpec(
        "login_provider",
        "LAKELENS_LOGIN_PROVIDER",
        None,
        _optional,
        "Require an OpenID Connect sign-in (`st.login`) before any page: `default` uses the `[auth]` section of "
        "`.streamlit/secrets.toml`, another name its `[auth.<name>]`; unset: no sign-in (see docs/SECURITY.md).",
    ),
)


@dataclass(frozen=True)
class Settings:
    """Resolved settings. ``sources`` says where each value came from (env, secrets or default)."""

    backend: BackendKind = "local"
    lake_root: str = "lake"
    s3_lake: str | None = None
    aws_region: str = "us-east-1"
    aws_profile: str | None = None
    endpoint_url: str | None = None
    athena_workgroup: str = "primary"
    athena_output: str | None = None
    database: str = "demo"
    max_rows: int = 1000
    query_timeout_s: int = 300
    scan_warn_bytes: int = 10 * 10**9
    allow_writes: bool = False
    demo_rows: int = 100_000
    max_upload_bytes: int = 200 * 10**6
    ingest_memory_bytes: int = 10**9
    max_download_bytes: int = 100 * 10**6
    meta_prefix: str = "_lakelens/"
    cache_ttl_s: int = 600
    automl_max_rows: int = 50_000
    sagemaker_role_arn: str | None = None
    login_provider: str | None = None
    sources: Mapping[str, str] = field(default_factory=dict, compare=False, repr=False)

    @property
    def lake_path(self) -> Path:
        return Path(self.lake_root).expanduser().resolve()

    @property
    def athena_output_uri(self) -> str:
        if self.athena_output:
            return self.athena_output
        if not self.s3_lake:
            raise SettingsError("Set LAKELENS_S3_LAKE (the lake's S3 location) to use the aws backend.")
        return f"{self.s3_lake}{self.meta_prefix}athena-results/"

    def identity(self) -> str:
        """A short string that names the backend and lake; part of every cache key."""
        if self.backend == "local":
            return f"local:{self.lake_path}"
        return f"aws:{self.s3_lake}:{self.aws_region}:{self.endpoint_url or ''}:{self.athena_workgroup}"

    def replace(self, **changes: Any) -> Settings:
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        values.update(changes)
        return Settings(**values)


def _read_secrets(path: Path) -> dict[str, Any]:
    if not path.is_file():
        return {}
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise SettingsError(f"{path} is not valid TOML ({exc}). Fix or remove it.") from exc
    section = data.get("lakelens", {})
    if not isinstance(section, dict):
        raise SettingsError(f"{path}: [lakelens] must be a table of settings.")
    return section


def load_settings(
    environ: Mapping[str, str] | None = None,
    secrets_path: Path | str | None = None,
) -> Settings:
    """Resolve every setting: environment, then the ``[lakelens]`` table of secrets.toml, then the default."""
    env = os.environ if environ is None else environ
    path = Path(secrets_path) if secrets_path is not None else Path(".streamlit") / "secrets.toml"
    secrets = _read_secrets(path)
    unknown = sorted(set(secrets) - {spec.name for spec in SPECS})
    if unknown:
        raise SettingsError(
            f"{path}: unknown setting(s) {', '.join(unknown)} in [lakelens]; see the README's settings table."
        )
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for spec in SPECS:
        raw: Any = None
        source = "default"
        for name in (spec.env, *spec.fallback_env):
            if env.get(name, "") != "":
                raw, source = env[name], name
                break
        if raw is None and spec.name in secrets:
            raw, source = secrets[spec.name], "secrets.toml"
        if raw is None:
            values[spec.name] = spec.default
        else:
            try:
                values[spec.name] = raw if isinstance(raw, bool) and spec.parse is _bool else spec.parse(str(raw))
            except ValueError as exc:
                raise SettingsError(f"Setting {spec.env} (from {source}) has the value {raw!r}: {exc}.") from exc
        sources[spec.name] = source
    settings = Settings(**values, sources=sources)
    if settings.backend == "aws" and not settings.s3_lake:
        raise SettingsError(
            "The aws backend needs LAKELENS_S3_LAKE, the lake's S3 location (e.g. s3://my-bucket/lake/)."
        )
    return settings
