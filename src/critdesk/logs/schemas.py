"""Wire shapes of log analyses (kept apart from the table)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel

State = Literal["pending", "running", "done", "failed"]


class Progress(BaseModel):
    bytes: int
    total: int
    percent: float


class Histogram(BaseModel):
    # The first minute; one count per minute from there (the reported start in the middle).
    start: datetime
    per_minute: list[int]


class Sample(BaseModel):
    source: str
    line: int
    at: datetime | None
    text: str


class SignatureOut(BaseModel):
    id: str
    fingerprint: str
    kind: Literal["exception", "log"]
    title: str
    exception: str | None
    frames: list[str]
    severity: str | None
    count: int
    first_at: datetime | None
    last_at: datetime | None
    first_line: int
    source: str
    burstiness: float
    peak_per_minute: int
    started_near_report: bool
    score: float
    reasons: list[str]
    template_ids: list[int]
    histogram: Histogram | None
    samples: list[Sample]
    signatures: list[str]


class SourceOut(BaseModel):
    name: str
    format: str
    lines: int
    events: int
    encoding: str
    truncated_lines: int
    error: str | None = None


class SummaryOut(BaseModel):
    format: str
    sources: list[SourceOut]
    lines: int
    events: int
    levels: dict[str, int]
    templates: int
    first_at: datetime | None
    last_at: datetime | None
    reported_at: datetime | None
    signature_count: int
    untracked_events: int
    signatures: list[SignatureOut]
    warnings: list[str]


class MatchOut(BaseModel):
    bug_id: int
    key: str
    title: str
    state: str
    fix_version: str | None
    workaround: str | None
    public: bool
    how: Literal["exact", "similar"]
    signature_id: str
    fingerprint: str


class AnalysisOut(BaseModel):
    attachment_id: int
    name: str
    state: State
    progress: Progress
    reason: str | None
    attempts: int
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    # Once done: what the file holds. While pending or running: null (see progress).
    summary: SummaryOut | None
    # Known bugs whose signatures match (customers see public bugs only).
    matches: list[MatchOut]
