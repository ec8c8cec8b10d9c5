"""The one place where settings are read.

Every field is documented in docs/settings.md; a test fails when one is not.
Values come from environment variables prefixed ``VORONKA_`` (or a ``.env`` file).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATA_DIR = Path("var")


class Settings(BaseSettings):
    """Voronka settings, read once per process."""

    model_config = SettingsConfigDict(env_prefix="VORONKA_", env_file=".env", extra="ignore")

    profile: Literal["development", "test", "production"] = Field(
        "development",
        description="Deployment profile; `production` refuses unsafe defaults at start-up.",
    )
    database_url: str = Field(
        f"sqlite:///{DEFAULT_DATA_DIR / 'voronka.sqlite3'}",
        description="SQLAlchemy URL of the operational store (SQLite file or PostgreSQL).",
    )
    timezone: str = Field(
        "Europe/Moscow",
        description="Company time zone used for day/week/month boundaries in reports.",
    )
    default_currency: str = Field(
        "RUB", min_length=3, max_length=3, description="ISO 4217 currency for new money values."
    )
    default_phone_region: str = Field(
        "RU",
        min_length=2,
        max_length=2,
        description="Region assumed when a phone number has no country code (e.g. `8 999 ...`).",
    )
    session_ttl_hours: int = Field(
        12, ge=1, le=24 * 30, description="Lifetime of a sign-in session, in hours."
    )
    password_hash_cost: Literal["standard", "light"] = Field(
        "standard",
        description="Argon2 parameters; `light` is for the test suite only and refused in production.",
    )
    page_size_default: int = Field(50, ge=1, le=500, description="Rows per page when not asked.")
    page_size_max: int = Field(200, ge=1, le=1000, description="Largest page a list returns.")
    max_request_bytes: int = Field(
        2_000_000, ge=1024, description="Largest JSON request body accepted by the API, in bytes."
    )
    max_upload_bytes: int = Field(
        50 * 1024 * 1024, ge=1024,
        description="Largest file accepted by import uploads (`/api/v1/imports/…`), in bytes.",
    )
    import_dir: Path = Field(
        DEFAULT_DATA_DIR / "imports",
        description="Folder where uploaded bulk-import files wait for their job (removed when "
        "the run finishes).",
    )
    sqlite_busy_timeout_ms: int = Field(
        10_000, ge=0, description="How long a SQLite writer waits for the lock before failing."
    )
    analytics_engine: Literal["duckdb", "postgres", "spark"] = Field(
        "duckdb",
        description="Engine reports run on: `duckdb` (embedded, over a Parquet snapshot of the "
        "store), `postgres` (in place; needs a PostgreSQL store) or `spark`.",
    )
    analytics_dir: Path = Field(
        DEFAULT_DATA_DIR / "analytics",
        description="Folder of the Parquet snapshot read by DuckDB and Spark (for a Spark "
        "cluster: a path every executor can read, e.g. a shared mount).",
    )
    analytics_refresh_seconds: int = Field(
        60, ge=0,
        description="How old the snapshot may be before a report refreshes it (0 = always).",
    )
    spark_master: str = Field(
        "local[2]", description="Spark master URL, e.g. `local[2]` or `spark://host:7077`."
    )
    embedded_worker: bool = Field(
        True, description="Run queued jobs in a thread of `voronka serve`; turn off when "
        "separate `voronka worker` processes run them.",
    )
    job_poll_seconds: float = Field(
        1.0, gt=0, le=60, description="How long a job worker waits when the queue is empty."
    )
    job_lease_seconds: int = Field(
        600, ge=10, description="A running job whose worker has not reported for this long "
        "is taken to be dead and queued again.",
    )
    # -- site tracker, number pool, lead forms, inbound mail (docs/site-tracker.md) ----------
    tracking_visit_idle_minutes: int = Field(
        30, ge=1, le=24 * 60, description="A visit ends after this many minutes without activity."
    )
    tracking_number_hold_minutes: int = Field(
        15, ge=1, le=24 * 60,
        description="A pool number stays with a visit this long after its last activity.",
    )
    tracking_rate_per_minute: int = Field(
        120, ge=1,
        description="Tracker requests per minute allowed per visitor (an IP gets ten times "
        "as many: offices share one address).",
    )
    tracking_rate_burst: int = Field(
        60, ge=1, description="Tracker requests a visitor may send at once (an IP: ten times)."
    )
    form_rate_per_hour: int = Field(
        30, ge=1, description="Lead-form submissions per hour allowed per IP."
    )
    form_rate_burst: int = Field(
        10, ge=1, description="Lead-form submissions an IP may send at once."
    )
    form_signature_tolerance_seconds: int = Field(
        300, ge=1, description="How far a signed form's timestamp may be from the server clock."
    )
    rate_limit_backend: Literal["memory", "redis"] = Field(
        "memory",
        description="Where rate-limit buckets live: `memory` (one process) or `redis` "
        "(shared by every process).",
    )
    rate_limit_redis_url: str = Field(
        "redis://127.0.0.1:6379/0", description="Redis URL used when the backend is `redis`."
    )
    mail_imap_host: str | None = Field(
        None, description="IMAP server of the inbound lead mailbox (empty: mail polling off)."
    )
    mail_imap_port: int = Field(993, ge=1, le=65535, description="IMAP server port.")
    mail_imap_user: str = Field("", description="IMAP user name.")
    mail_imap_password: SecretStr = Field(SecretStr(""), description="IMAP password.")
    mail_imap_folder: str = Field("INBOX", description="Mailbox folder read for new messages.")
    mail_imap_tls: Literal["ssl", "starttls", "none"] = Field(
        "ssl", description="`ssl` (IMAPS), `starttls`, or `none` (only for a local test server)."
    )
    mail_poll_minutes: int = Field(
        5, ge=1, le=24 * 60, description="How often the `mail.poll` job reads the mailbox."
    )
    mail_batch_size: int = Field(
        50, ge=1, le=1000, description="Most messages one poll takes from the mailbox."
    )
    mail_max_message_bytes: int = Field(
        10 * 1024 * 1024, ge=1024,
        description="Larger messages are recorded as failed, not parsed (attachments included).",
    )
    mail_workspace_id: int = Field(1, ge=1, description="Workspace that receives mail leads.")
    hooks_workspace_id: int = Field(
        1, ge=1, description="Workspace that telephony webhooks write into."
    )
    hooks_generic_secret: SecretStr | None = Field(
        None,
        description="Shared secret of the generic telephony webhook (`X-Voronka-Signature`); "
        "unset refuses its requests.",
    )
    hooks_asterisk_secret: SecretStr | None = Field(
        None,
        description="Shared secret of Asterisk AMI events posted to the webhook; unset "
        "refuses them.",
    )
    hooks_zadarma_secret: SecretStr | None = Field(
        None, description="Zadarma API secret that signs its notifications; unset refuses them."
    )
    hooks_mango_api_key: SecretStr | None = Field(
        None, description="Mango Office VPBX API key (`vpbx_api_key`); unset refuses its events."
    )
    hooks_mango_api_salt: SecretStr | None = Field(
        None, description="Mango Office VPBX API salt used in the `sign` of its events."
    )
    hooks_signature_tolerance_seconds: int = Field(
        300, ge=10, le=3600,
        description="How far a signed webhook's timestamp may be from server time, in seconds.",
    )
    hooks_group_commit: bool = Field(
        True,
        description="On PostgreSQL, store the events of concurrent webhook requests in one "
        "transaction (group commit); each request is still answered only after its event is "
        "committed.",
    )
    inbound_retention_days: int = Field(
        90, ge=0, le=36500,
        description="Processed and ignored raw inbound events (webhooks, tracker hits, mail) "
        "older than this many days are deleted by the hourly `inbound.purge` job; failed and "
        "unprocessed ones are never deleted. 0 keeps everything.",
    )
    call_unique_days: int = Field(
        30, ge=1, le=3650,
        description="A call is unique when the same number has not called in this many days.",
    )
    events_redis_url: str | None = Field(
        None,
        description="Redis URL (e.g. `redis://127.0.0.1:6379/0`) that carries screen-pop "
        "events between web processes; unset keeps them in the process.",
    )
    host: str = Field("127.0.0.1", description="Address `voronka serve` listens on.")
    port: int = Field(8000, ge=1, le=65535, description="Port `voronka serve` listens on.")

    @model_validator(mode="after")
    def _refuse_unsafe_production(self) -> Settings:
        if self.profile == "production" and self.password_hash_cost != "standard":
            raise ValueError("VORONKA_PASSWORD_HASH_COST=light is for tests only")
        return self

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Return the process-wide settings (read once)."""
    return Settings()
