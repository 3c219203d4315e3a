"""A message's attachments become case attachments through the upload API's own functions.

The upload API streams a multipart body into storage (``receive_upload``) and then records
it (``add_attachment``); here the bytes are already in hand, so they are written to storage
the same way (durable before the row, deleted again if the row's transaction does not
commit) and recorded by the same ``add_attachment``, with the same checks (who may add files
to the case, open requests only, safe names, empty files refused, archives listed and never
expanded). One refused attachment does not refuse the message: it is skipped and named.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.orm import Session

from critdesk.adapters.storage import Storage, new_key
from critdesk.attachment import schemas as attachment_schemas
from critdesk.attachment import service as attachments
from critdesk.attachment import sniff
from critdesk.attachment.archive import ArchiveLimits
from critdesk.auth.models import User
from critdesk.case.models import Case
from critdesk.config import Settings
from critdesk.errors import DomainError
from critdesk.mail.parse import MailAttachment


@dataclass
class Stored:
    ids: list[int] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


def _limits(settings: Settings) -> ArchiveLimits:
    return ArchiveLimits(
        max_total_bytes=settings.archive_max_total_bytes,
        max_ratio=settings.archive_max_ratio,
        max_entries=settings.archive_max_entries,
    )


def _write(
    storage: Storage, item: MailAttachment, request_id: int | None
) -> attachments.ReceivedFile:
    key = new_key()
    writer = storage.open_write(key)
    try:
        writer.write(item.data)
        writer.commit()
    except BaseException:
        writer.abort()
        raise
    return attachments.ReceivedFile(
        key=key,
        name=sniff.safe_name(item.name),
        size=len(item.data),
        sha256=hashlib.sha256(item.data).hexdigest(),
        head=item.data[: sniff.HEAD_BYTES],
        fields=attachment_schemas.UploadFields(request_id=request_id),
    )


def store(
    *,
    db: Session,
    storage: Storage,
    settings: Settings,
    sender: User,
    case: Case,
    items: tuple[MailAttachment, ...],
    request_id: int | None,
    now: datetime,
) -> Stored:
    """Adds each attachment to the case as the sender; returns the ids and what was skipped."""
    stored = Stored()
    if not items:
        return stored
    target = attachments.prepare_upload(db=db, viewer=sender, ref=case.ref)
    for item in items:
        name = sniff.safe_name(item.name)
        if not item.data:
            stored.skipped.append(f"{name}: the file is empty")
            continue
        if len(item.data) > settings.max_upload_bytes:
            stored.skipped.append(f"{name}: over the {settings.max_upload_bytes}-byte limit")
            continue
        received = _write(storage, item, request_id)
        try:
            with db.begin_nested():
                attachment = attachments.add_attachment(
                    db=db,
                    target=target,
                    received=received,
                    storage=storage,
                    limits=_limits(settings),
                    now=now,
                )
        except DomainError as refusal:
            stored.skipped.append(f"{name}: {refusal.message}")
            continue
        stored.ids.append(attachment.id)
    return stored
