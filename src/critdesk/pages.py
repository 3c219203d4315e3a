"""Server-rendered pages (filled in by the web UI)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(include_in_schema=False)
