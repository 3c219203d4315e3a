"""Configuration: the one place that reads the environment (prefix ``CRITDESK_``)."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CRITDESK_", env_file=".env", extra="ignore")

    data_dir: Path = Path("var")
    database_url: str | None = None
    secret_key: str = "dev-insecure-secret-change-me"
    base_url: str = "http://127.0.0.1:8000"
    smtp_url: str | None = None
    # Per organisation, per minute; 0 disables the limit (load tests).
    rate_limit_cases_per_minute: int = 30
    # Largest JSON body the API accepts; uploads have their own limit.
    max_json_body_bytes: int = 1_048_576
    max_upload_bytes: int = 2 * 1024**3
    session_hours: int = 12
    login_max_failures: int = 5
    login_failure_window_minutes: int = 15
    db_pool_size: int = Field(default=10, ge=1)
    log_sql: bool = False
    # Troubleshooting workspace
    info_request_due_hours: int = Field(default=24, ge=1)
    info_request_reminder_hours: int = Field(default=24, ge=1)
    reopen_window_days: int = Field(default=14, ge=0)
    cloud_access_max_minutes: int = Field(default=480, ge=5)
    # Jobs: the embedded runner inside `critdesk serve` (off for tests and external workers).
    embedded_jobs: bool = True
    sweep_interval_seconds: float = Field(default=30.0, gt=0)

    # Attachments: zip listings are refused over these (zip-bomb defence); never extracted.
    archive_max_total_bytes: int = Field(default=8 * 1024**3, ge=1)
    archive_max_ratio: int = Field(default=200, ge=1)
    archive_max_entries: int = Field(default=10_000, ge=1)

    @cached_property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'critdesk.sqlite3').resolve()}"

    @property
    def is_sqlite(self) -> bool:
        return self.effective_database_url.startswith("sqlite")

    @property
    def secure_cookies(self) -> bool:
        return self.base_url.startswith("https://")


def get_settings() -> Settings:
    return Settings()
