"""Wire shapes of attachments (kept apart from the table)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel

from critdesk.attachment.models import Attachment
from critdesk.case.schemas import PersonOut, person
from critdesk.errors import Invalid

Kind = Literal["log", "archive", "screenshot", "export", "other"]
TRUE_WORDS = frozenset({"true", "1", "yes", "on"})
FALSE_WORDS = frozenset({"false", "0", "no", "off", ""})


@dataclass(frozen=True, slots=True)
class UploadFields:
    """The upload's form fields besides ``file`` (parsed from the multipart body by hand, since
    the body is streamed rather than handed to FastAPI)."""

    request_id: int | None = None
    internal: bool = False


def parse_fields(raw: dict[str, str]) -> UploadFields:
    request_id = raw.get("request_id", "").strip()
    internal = raw.get("internal", "").strip().lower()
    if request_id and not (request_id.isascii() and request_id.isdigit() and len(request_id) < 19):
        raise Invalid("invalid_request_id", "request_id must be the id of an info request")
    if internal not in TRUE_WORDS | FALSE_WORDS:
        raise Invalid("invalid_internal", "internal must be true or false")
    return UploadFields(
        request_id=int(request_id) if request_id else None, internal=internal in TRUE_WORDS
    )


class ArchiveEntry(BaseModel):
    name: str
    size: int
    compressed_size: int


class AttachmentOut(BaseModel):
    id: int
    name: str
    size: int
    sha256: str
    media_type: str
    kind: Kind
    request_id: int | None
    internal: bool
    uploaded_by: PersonOut
    created_at: datetime
    # Archives only: how many entries the zip holds (its listing is at ``…/listing``).
    entries: int | None = None


class AttachmentCreated(AttachmentOut):
    listing: list[ArchiveEntry] | None = None


class AttachmentPage(BaseModel):
    items: list[AttachmentOut]
    next_cursor: str | None


class ListingOut(BaseModel):
    attachment_id: int
    entries: list[ArchiveEntry]
    total_size: int


def attachment_view(attachment: Attachment, *, with_listing: bool = False) -> dict[str, Any]:
    view: dict[str, Any] = {
        "id": attachment.id,
        "name": attachment.name,
        "size": attachment.size,
        "sha256": attachment.sha256,
        "media_type": attachment.media_type,
        "kind": attachment.kind,
        "request_id": attachment.request_id,
        "internal": attachment.internal,
        "uploaded_by": person(attachment.uploaded_by),
        "created_at": attachment.created_at,
        "entries": None if attachment.listing is None else len(attachment.listing),
    }
    if with_listing:
        view["listing"] = attachment.listing
    return view


def listing_view(attachment: Attachment) -> dict[str, Any]:
    entries = attachment.listing or []
    return {
        "attachment_id": attachment.id,
        "entries": entries,
        "total_size": sum(int(e["size"]) for e in entries),
    }
