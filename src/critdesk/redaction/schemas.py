"""Wire shapes of ``POST /api/v1/redact``: the originals never go back over the wire."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr


class RedactIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: StrictStr = Field(max_length=1_000_000)
    organisation_id: StrictInt | None = None


class ReplacementOut(BaseModel):
    category: str
    placeholder: str
    start: int  # span in the text sent
    end: int
    reason: str


class RedactOut(BaseModel):
    text: str
    replacements: list[ReplacementOut]
