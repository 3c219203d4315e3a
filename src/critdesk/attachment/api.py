"""Attachment routes: thin — parse, call the service, shape the answer."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Annotated, Any, BinaryIO
from urllib.parse import quote

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import StreamingResponse
from starlette.requests import ClientDisconnect

from critdesk.adapters.storage import Storage
from critdesk.attachment import schemas, service
from critdesk.attachment.archive import ArchiveLimits
from critdesk.aup import service as aup
from critdesk.aup.api import UploadRateChecked
from critdesk.auth.deps import CurrentUser
from critdesk.errors import ErrorResponse, Invalid, NotFound, TooLarge
from critdesk.execution import run_sync
from critdesk.web import (
    MAX_ID,
    AppSettings,
    BodyTooLarge,
    DbSession,
    Now,
    Page,
    encode_cursor,
    get_now,
)

router = APIRouter(prefix="/api/v1/cases", tags=["attachments"])

DOWNLOAD_CHUNK = 1024**2
AttachmentId = Annotated[int, Path(ge=1, le=MAX_ID)]


def get_storage(request: Request) -> Storage:
    return request.app.state.storage  # type: ignore[no-any-return]


AppStorage = Annotated[Storage, Depends(get_storage)]

UPLOAD_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {
                        "file": {"type": "string", "format": "binary"},
                        "request_id": {
                            "type": "integer",
                            "description": "an open info request of this case",
                        },
                        "internal": {
                            "type": "boolean",
                            "description": "engineers only: never shown to customers",
                        },
                    },
                }
            }
        },
    }
}


async def _body(request: Request, limit: int) -> AsyncIterator[bytes]:
    try:
        async for chunk in request.stream():
            yield chunk
    except BodyTooLarge as error:
        raise TooLarge("file_too_large", f"the file is over the {limit}-byte limit") from error
    except ClientDisconnect as error:
        raise Invalid("client_disconnected", "the upload was interrupted") from error


@router.post(
    "/{ref}/attachments",
    response_model=schemas.AttachmentCreated,
    status_code=201,
    openapi_extra=UPLOAD_BODY,
)
async def upload(
    ref: str,
    request: Request,
    db: DbSession,
    user: CurrentUser,
    settings: AppSettings,
    storage: AppStorage,
    _rate: UploadRateChecked,
) -> dict[str, Any]:
    target = await run_sync(service.prepare_upload, db=db, viewer=user, ref=ref)
    # Receiving may take minutes: end the transaction that has only read so far, so that it holds
    # neither SQLite's writer lock nor a pooled connection meanwhile. The row is then written and
    # committed once, by the request's unit of work, after the file is durably stored.
    await run_sync(db.commit)
    received = await service.receive_upload(
        _body(request, settings.max_upload_bytes),
        content_type=request.headers.get("content-type"),
        storage=storage,
        limit=settings.max_upload_bytes,
        target=target,
    )
    attachment = await run_sync(
        service.add_attachment,
        db=db,
        target=target,
        received=received,
        storage=storage,
        limits=ArchiveLimits(
            max_total_bytes=settings.archive_max_total_bytes,
            max_ratio=settings.archive_max_ratio,
            max_entries=settings.archive_max_entries,
        ),
        now=get_now(request),
    )
    # Counted with the row, atomically (the check above only spared receiving a refused body):
    # over the limit now, the request rolls back and the stored file goes with it.
    await run_sync(
        aup.admit, db=db, limits=aup.upload_limits(settings), user=user, now=get_now(request)
    )
    return schemas.attachment_view(attachment, with_listing=True)


@router.get("/{ref}/attachments", response_model=schemas.AttachmentPage)
def list_attachments(ref: str, db: DbSession, user: CurrentUser, page: Page) -> dict[str, Any]:
    found, next_id = service.list_attachments(
        db=db, viewer=user, ref=ref, limit=page.limit, before_id=page.cursor_int()
    )
    return {
        "items": [schemas.attachment_view(a) for a in found],
        "next_cursor": encode_cursor(next_id),
    }


@router.get("/{ref}/attachments/{attachment_id}/listing", response_model=schemas.ListingOut)
def archive_listing(
    ref: str, attachment_id: AttachmentId, db: DbSession, user: CurrentUser
) -> dict[str, Any]:
    _case, attachment = service.get_attachment(
        db=db, viewer=user, ref=ref, attachment_id=attachment_id
    )
    if attachment.listing is None:
        raise NotFound("listing")
    return schemas.listing_view(attachment)


def content_disposition(name: str) -> str:
    """RFC 6266 with an ASCII fallback and the exact name in RFC 5987 ``filename*``."""
    fallback = "".join(c if " " <= c <= "~" and c not in '"\\' else "_" for c in name)
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"


def _chunks(stream: BinaryIO) -> Iterator[bytes]:
    with stream:
        while chunk := stream.read(DOWNLOAD_CHUNK):
            yield chunk


@router.get(
    "/{ref}/attachments/{attachment_id}",
    response_class=StreamingResponse,
    responses={
        200: {
            # Served with the media type sniffed at upload, whatever it is.
            "content": {"*/*": {"schema": {"type": "string", "format": "binary"}}},
            "description": "the bytes",
        },
        410: {"model": ErrorResponse, "description": "The file was removed (retention, erasure)"},
    },
)
def download(
    ref: str,
    attachment_id: AttachmentId,
    request: Request,
    db: DbSession,
    user: CurrentUser,
    now: Now,
    storage: AppStorage,
) -> StreamingResponse:
    case, attachment = service.get_download(
        db=db, viewer=user, ref=ref, attachment_id=attachment_id
    )
    content = service.open_content(storage=storage, attachment=attachment)
    try:
        # A GET runs in a read-only unit of work; the audit record is a write, so it has a short
        # unit of work of its own, committed before the first byte is sent.
        with request.app.state.db.session() as audit_db:
            service.record_download(
                db=audit_db, case=case, attachment=attachment, viewer=user, now=now
            )
    except BaseException:
        content.close()
        raise
    return StreamingResponse(
        _chunks(content),
        media_type=attachment.media_type,
        headers={
            "Content-Disposition": content_disposition(attachment.name),
            "Content-Length": str(attachment.size),
            "Cache-Control": "private, no-store",
        },
    )
