from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from critdesk.db import Base
from critdesk.observability.context import current_request_id

ANALYSIS_STATES = ("pending", "running", "done", "failed")


class LogAnalysis(Base):
    """The analysis of one log (or archive of logs) attachment, done by a background job.

    Created ``pending`` in the upload's own transaction; a runner claims it (``running``, with
    a lease renewed as it reports progress), and leaves it ``done`` with its ``summary`` or
    ``failed`` with a ``reason``. A runner that dies leaves its lease to expire: the next one
    claims the row again (at most ``jobs.MAX_ATTEMPTS`` times).
    """

    __tablename__ = "log_analyses"
    __table_args__ = (Index("ix_log_analyses_state_lease", "state", "lease_until"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    attachment_id: Mapped[int] = mapped_column(ForeignKey("attachments.id"), unique=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    state: Mapped[str] = mapped_column(String(10))
    # Bytes of the stored (possibly compressed) file read so far, of ``total_bytes``.
    progress_bytes: Mapped[int] = mapped_column(BigInteger, default=0)
    total_bytes: Mapped[int] = mapped_column(BigInteger)
    reason: Mapped[str | None] = mapped_column(Text)
    # Format, lines, events, ranked signatures (counts, times, histogram, samples, template
    # ids) and the known bugs they match; see logs.analysis.Analyzer.summary.
    summary: Mapped[dict[str, Any] | None]
    attempts: Mapped[int] = mapped_column(default=0)
    claimed_by: Mapped[str | None] = mapped_column(String(100))
    lease_until: Mapped[datetime | None]
    created_at: Mapped[datetime]
    # The upload's request (X-Request-ID): the analysis job logs under the same id.
    request_id: Mapped[str | None] = mapped_column(String(64), default=current_request_id)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
