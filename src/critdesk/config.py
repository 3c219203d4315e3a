"""Configuration: the one place that reads the environment (prefix ``CRITDESK_``)."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

TrackerState = Literal[
    "new", "confirmed", "in_progress", "fixed", "released", "wont_fix", "duplicate"
]


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
    # Operating (critdesk.observability, critdesk serve): log lines as JSON objects or text
    # ("auto": text on a terminal, JSON otherwise), their level, the bearer token /metrics
    # wants from anything but a direct local connection, and the proxies whose
    # X-Forwarded-For/-Proto the servers believe (comma-separated addresses, "*" for any).
    log_format: Literal["auto", "json", "text"] = "auto"
    log_level: str = Field(default="INFO", pattern="(?i)^(debug|info|warning|error)$")
    metrics_token: SecretStr | None = None
    forwarded_allow_ips: str = "127.0.0.1,::1"
    # Synchronous routes on each worker's event loop thread, one request at a time ("inline"),
    # or on a pool of threads ("threads"): see critdesk/execution.py.
    request_handlers: Literal["inline", "threads"] = "inline"
    # Troubleshooting workspace
    info_request_due_hours: int = Field(default=24, ge=1)
    info_request_reminder_hours: int = Field(default=24, ge=1)
    reopen_window_days: int = Field(default=14, ge=0)
    cloud_access_max_minutes: int = Field(default=480, ge=5)
    # Jobs: the embedded runner inside `critdesk serve` (off for tests and external workers).
    embedded_jobs: bool = True
    # `serve --workers N` runs the jobs in a process of its own at this lower CPU priority:
    # under a burst the requests get the processors first and the outbox drains after.
    job_runner_nice: int = Field(default=10, ge=0, le=19)
    # Similar-bug search: semantic embeddings need the optional "semantic" extra (torch);
    # None turns them on when the model package is installed.
    semantic_search: bool | None = None
    search_warmup: bool = True
    # How often a process polls the database for bugs and articles changed by other processes
    # (its own changes are searchable at once); 0 polls before every search.
    search_refresh_seconds: float = Field(default=0.25, ge=0, le=1)
    sweep_interval_seconds: float = Field(default=30.0, gt=0)

    # Attachments: zip listings are refused over these (zip-bomb defence); never extracted.
    archive_max_total_bytes: int = Field(default=8 * 1024**3, ge=1)
    archive_max_ratio: int = Field(default=200, ge=1)
    archive_max_entries: int = Field(default=10_000, ge=1)
    # Files at rest (privacy/): attachments are sealed with AES-256-GCM. Keys are
    # comma-separated "id:base64" entries of 32 bytes, the first sealing new files; unset, a
    # key file (storage_key_file, default <data_dir>/keys/storage.keys) is made on first use.
    storage_keys: SecretStr | None = None
    storage_key_file: Path | None = None
    # Attachments' files are deleted this many days after their case closed (the rows stay,
    # marked removed); 0 keeps them forever.
    attachment_retention_days: int = Field(default=365, ge=0)

    # Notifications (the outbox) and their delivery; see notification/ and jobs/.
    # The sender of every notification e-mail; its domain also names Message-IDs and threads.
    mail_from: str = "critdesk <desk@critdesk.localhost>"
    smtp_timeout_seconds: float = Field(default=30.0, gt=0)
    webhook_timeout_seconds: float = Field(default=10.0, gt=0)
    # How often runners look for due outbox rows and due SLA timers (a breach is notified at
    # most sla_sweep_seconds + outbox work after it falls due).
    outbox_poll_seconds: float = Field(default=2.0, gt=0)
    sla_sweep_seconds: float = Field(default=10.0, gt=0)
    outbox_batch_size: int = Field(default=50, ge=1, le=1000)
    # Messages sent at once by one runner (threads, each with its own SMTP connection): each
    # waits on a database commit per message, so several keep a server busy.
    outbox_send_threads: int = Field(default=8, ge=1, le=32)
    # A row claimed for sending and not marked sent within the lease is claimed again (a
    # crashed worker): longer than the slowest single send (the SMTP/webhook timeouts).
    outbox_lease_seconds: float = Field(default=120.0, gt=0)
    notification_max_attempts: int = Field(default=8, ge=1)
    notification_retry_base_seconds: float = Field(default=30.0, gt=0)
    notification_retry_max_seconds: float = Field(default=3600.0, gt=0)
    # The embedded runner holds routine notifications (e-mail, in-app, webhooks; not SLA
    # warnings and breaches) and the non-SLA sweeps while other processes keep at least
    # host_busy_threshold of this host's processor time busy (jobs/pressure.py), for at most
    # this long: under a burst the requests get the processors first. 0: never held.
    outbox_routine_hold_seconds: float = Field(default=30.0, ge=0)
    host_busy_threshold: float = Field(default=0.75, gt=0, le=1)
    # `critdesk worker`: jobs run at once per worker process (threads).
    worker_concurrency: int = Field(default=2, ge=1, le=64)

    # Acceptable Use: further limits on reporting cases and uploading files, per organisation
    # and per user, in a sliding minute and hour (critdesk.aup). 0 disables one; left unset,
    # each takes the default in critdesk.aup.service.DEFAULT_LIMITS, except that
    # rate_limit_cases_per_minute = 0 keeps its meaning of "no rate limits" (load tests).
    rate_limit_cases_per_hour: int | None = Field(default=None, ge=0)
    rate_limit_user_cases_per_minute: int | None = Field(default=None, ge=0)
    rate_limit_user_cases_per_hour: int | None = Field(default=None, ge=0)
    rate_limit_uploads_per_minute: int | None = Field(default=None, ge=0)
    rate_limit_uploads_per_hour: int | None = Field(default=None, ge=0)
    rate_limit_user_uploads_per_minute: int | None = Field(default=None, ge=0)
    rate_limit_user_uploads_per_hour: int | None = Field(default=None, ge=0)
    # Inbound e-mail (critdesk mail serve): larger messages are refused with 552.
    mail_max_message_bytes: int = Field(default=25 * 1024**2, ge=1024)
    # Telephone intake: the region whose national numbers callers give (0161 … in GB).
    phone_default_region: str = "GB"

    # External bug trackers (adapters/tracker/, bug/export.py). With neither configured,
    # `critdesk tracker` prints what it would send (the console tracker).
    jira_url: str | None = None  # https://example.atlassian.net
    jira_email: str | None = None
    jira_token: SecretStr | None = None
    jira_project: str | None = None
    jira_issue_type: str = "Bug"
    # Severity → Jira priority name; an empty map sends no priority.
    jira_priorities: dict[str, str] = {"S1": "Highest", "S2": "High", "S3": "Medium", "S4": "Low"}
    # Added to the built-in maps (names are case-insensitive): {"Ready for QA": "fixed"}.
    jira_status_map: dict[str, TrackerState] = {}
    jira_resolution_map: dict[str, TrackerState] = {}
    github_api_url: str = "https://api.github.com"
    github_token: SecretStr | None = None
    github_repo: str | None = None  # owner/name
    github_label_map: dict[str, TrackerState] = {}
    tracker_timeout_seconds: float = Field(default=10.0, gt=0)
    tracker_retries: int = Field(default=3, ge=0, le=10)
    tracker_backoff_seconds: float = Field(default=0.5, ge=0)
    # How often the job runners pull bug states from every configured tracker; 0 = never.
    tracker_sync_minutes: float = Field(default=15.0, ge=0)
    tracker_max_retry_after_seconds: float = Field(default=60.0, ge=0)

    # The community forum (Discourse; adapters/forum.py): published articles may be posted
    # there. Unset URL or key: posting is refused as not configured.
    forum_url: str | None = None  # https://forum.example.com
    forum_api_key: SecretStr | None = None
    forum_username: str = "system"
    forum_category: int | None = None  # Discourse category id
    forum_timeout_seconds: float = Field(default=10.0, gt=0)

    # The access log (audit/access.py): a staff member's views of one case are recorded once
    # per this many minutes (0 records every view); downloads and cloud access always.
    access_log_dedup_minutes: int = Field(default=15, ge=0, le=24 * 60)
    # `critdesk audit verify` warns about events left unsealed longer than this.
    audit_unsealed_warn_minutes: int = Field(default=10, ge=1)

    @cached_property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'critdesk.sqlite3').resolve()}"

    @property
    def is_sqlite(self) -> bool:
        return self.effective_database_url.startswith("sqlite")

    @property
    def mail_domain(self) -> str:
        """The domain of Message-IDs and thread roots: the sender address's."""
        address = self.mail_from.rsplit("<", 1)[-1].rstrip(">").strip()
        return address.rpartition("@")[2] or "critdesk.localhost"

    @property
    def secure_cookies(self) -> bool:
        return self.base_url.startswith("https://")


def get_settings() -> Settings:
    return Settings()
