"""Files on the case page: the upload form, the list with downloads and archive listings.

A page's upload form is multipart, and ``request.form()`` would spool the whole file before
the page saw it. Instead the body streams through the API's own receiver
(``service.receive_upload``: straight to storage, size and SHA-256 counted on the way), and the
page's few small fields — the CSRF token, an answer's message — are read by ``FormFields`` as
the body passes. The token is checked when the file part begins, before a byte is stored.
Downloads use the API's route, which takes the session cookie for a GET.
"""

from __future__ import annotations

import hmac
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse
from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError
from starlette.requests import ClientDisconnect

from critdesk.adapters.storage import Storage
from critdesk.attachment import service
from critdesk.attachment.api import AppStorage
from critdesk.attachment.archive import ArchiveLimits
from critdesk.attachment.models import Attachment
from critdesk.aup import service as aup
from critdesk.auth import service as auth
from critdesk.auth.deps import session_cookie
from critdesk.auth.models import User
from critdesk.auth.pages import viewer_of
from critdesk.case.models import Case
from critdesk.case.pages import case_path, human_size
from critdesk.case.service import HANDLER_ROLES
from critdesk.config import Settings
from critdesk.errors import DomainError, Forbidden, Invalid, NotAuthenticated, TooLarge
from critdesk.execution import run_sync
from critdesk.templating import sentence, set_flash
from critdesk.web import AppSettings, BodyTooLarge, DbSession, Now, get_now

router = APIRouter(include_in_schema=False)

CSRF_FAILED = "csrf_failed"
MAX_FIELDS_BYTES = 64 * 1024
MAX_LISTED_ENTRIES = 200
MAX_FILES_SHOWN = 200


# --- who is uploading: the session, without reading the body ----------------------------------


@dataclass(frozen=True, slots=True)
class Uploader:
    user: User
    csrf_token: str


def uploader(request: Request, db: DbSession, now: Now) -> Uploader:
    """The page's viewer for a multipart form; its CSRF token is checked in the body later."""
    cookie = session_cookie(request)
    found = auth.session_for_cookie(db=db, cookie=cookie, now=now) if cookie else None
    if found is None:
        raise NotAuthenticated("not_authenticated", "please log in")
    user, web_session = found
    request.state.csrf_token = web_session.csrf_token
    request.state.viewer = viewer_of(user)
    return Uploader(user, web_session.csrf_token)


PageUploader = Annotated[Uploader, Depends(uploader)]


# --- the page's own fields, read as the body streams past ---------------------------------------


class FormFields:
    """The fields a page's multipart form sends before its file part.

    A browser sends fields in the form's order and the pages put the file input last, so
    everything the page needs arrives first; parsing stops where the file begins (its bytes are
    the upload service's business).
    """

    def __init__(
        self,
        content_type: str | None,
        csrf_token: str,
        check: Callable[[FormFields], None] | None = None,
    ) -> None:
        media_type, options = parse_options_header(content_type)
        boundary = options.get(b"boundary", b"")
        if media_type != b"multipart/form-data" or not 1 <= len(boundary) <= 200:
            raise Invalid("invalid_multipart", "send the form as multipart/form-data")
        self.csrf_token = csrf_token
        # The page's own check of its fields, run before the file is stored.
        self.check = check
        self.values: dict[str, str] = {}
        # None until the file part begins; then the name the browser sent ("" if none chosen).
        self.filename: str | None = None
        self.checked = False
        self._name = ""
        self._value = bytearray()
        self._header = bytearray()
        self._header_value = bytearray()
        self._disposition = b""
        self._read = 0
        self._parser = MultipartParser(
            boundary,
            callbacks={
                "on_part_begin": self._part_begin,
                "on_header_field": self._header_field,
                "on_header_value": self._header_value_part,
                "on_header_end": self._header_end,
                "on_headers_finished": self._headers_finished,
                "on_part_data": self._part_data,
                "on_part_end": self._part_end,
            },
        )

    def get(self, name: str, max_chars: int = 5000) -> str:
        return self.values.get(name, "")[:max_chars]

    def feed(self, chunk: bytes) -> None:
        if self.filename is not None:
            return
        try:
            self._parser.write(chunk)
        except MultipartParseError as error:
            raise Invalid("invalid_multipart", f"malformed multipart body: {error}") from error

    def check_fields(self) -> None:
        sent = self.values.get("csrf_token", "")
        if not hmac.compare_digest(sent.encode(), self.csrf_token.encode()):
            raise Forbidden(
                CSRF_FAILED, "this form is out of date or came from elsewhere; please retry"
            )
        self.checked = True
        if self.check is not None:
            self.check(self)

    async def stream(self, request: Request, limit: int) -> AsyncIterator[bytes]:
        """The request body for the upload service, read by this parser on its way."""
        try:
            async for chunk in request.stream():
                self.feed(chunk)
                yield chunk
        except BodyTooLarge as error:
            raise TooLarge("file_too_large", f"the file is over the {limit}-byte limit") from error
        except ClientDisconnect as error:
            raise Invalid("client_disconnected", "the upload was interrupted") from error
        if not self.checked:
            self.check_fields()

    def _part_begin(self) -> None:
        self._name = ""
        self._value.clear()
        self._disposition = b""

    def _header_field(self, data: bytes, start: int, end: int) -> None:
        self._header += data[start:end]

    def _header_value_part(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]

    def _header_end(self) -> None:
        if self._header.strip().lower() == b"content-disposition":
            self._disposition = bytes(self._header_value)
        self._header.clear()
        self._header_value.clear()

    def _headers_finished(self) -> None:
        _kind, options = parse_options_header(self._disposition.decode("latin-1"))
        self._name = options.get(b"name", b"").decode("utf-8", errors="replace")
        if self._name == service.FILE_FIELD:
            self.filename = options.get(b"filename", b"").decode("utf-8", errors="replace")
            self.check_fields()

    def _part_data(self, data: bytes, start: int, end: int) -> None:
        if self.filename is not None:
            return
        self._read += end - start
        if self._read > MAX_FIELDS_BYTES:
            raise Invalid("form_too_large", "the form's text fields are too long")
        self._value += data[start:end]

    def _part_end(self) -> None:
        if self._name and self.filename is None:
            self.values[self._name] = self._value.decode("utf-8", errors="replace")


# --- receiving a page's upload ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PageUpload:
    case: Case
    user: User
    fields: FormFields
    attachment: Attachment | None


def archive_limits(settings: Settings) -> ArchiveLimits:
    return ArchiveLimits(
        max_total_bytes=settings.archive_max_total_bytes,
        max_ratio=settings.archive_max_ratio,
        max_entries=settings.archive_max_entries,
    )


async def _receive(
    request: Request,
    *,
    db: Session,
    target: service.UploadTarget,
    csrf_token: str,
    settings: Settings,
    storage: Storage,
    file_optional: bool,
    check: Callable[[FormFields], None] | None,
) -> PageUpload:
    limits = aup.upload_limits(settings)
    # As the API does: over a rate limit, refused before a byte is received ...
    await run_sync(aup.check, db=db, limits=limits, user=target.actor, now=get_now(request))
    # ... and no transaction stays open while the file arrives.
    await run_sync(db.commit)
    fields = FormFields(request.headers.get("content-type"), csrf_token, check)
    try:
        received = await service.receive_upload(
            fields.stream(request, settings.max_upload_bytes),
            content_type=request.headers.get("content-type"),
            storage=storage,
            limit=settings.max_upload_bytes,
            target=target,
        )
    except Invalid as refusal:
        # A browser sends an empty, nameless file part when no file was chosen.
        if refusal.code not in ("empty_file", "file_required") or fields.filename:
            raise
        if not file_optional:
            raise Invalid("file_required", "choose a file to upload") from refusal
        return PageUpload(target.case, target.actor, fields, None)
    attachment = await run_sync(
        service.add_attachment,
        db=db,
        target=target,
        received=received,
        storage=storage,
        limits=archive_limits(settings),
        now=get_now(request),
    )
    # Counted with the row: over the limit now, the form rolls back and the file goes with it.
    await run_sync(aup.admit, db=db, limits=limits, user=target.actor, now=get_now(request))
    return PageUpload(target.case, target.actor, fields, attachment)


async def upload_form(
    request: Request,
    *,
    db: Session,
    caller: Uploader,
    ref: str,
    settings: Settings,
    storage: Storage,
    section: str,
    file_optional: bool,
    then: Callable[[PageUpload], tuple[str, str]],
    check: Callable[[FormFields], None] | None = None,
) -> RedirectResponse:
    """Streams a page's multipart form, then ``then(upload)`` → (message, section to show);
    back to the case with that message, or with the refusal's (nothing stored then).
    ``check`` refuses the page's fields before the file is stored."""
    target = await run_sync(service.prepare_upload, db=db, viewer=caller.user, ref=ref)
    response = RedirectResponse(case_path(target.case, section), status_code=303)
    secure = settings.secure_cookies
    try:
        upload = await _receive(
            request,
            db=db,
            target=target,
            csrf_token=caller.csrf_token,
            settings=settings,
            storage=storage,
            file_optional=file_optional,
            check=check,
        )
        message, shown = await run_sync(then, upload)
        await run_sync(db.flush)
    except DomainError as refusal:
        await run_sync(db.rollback)
        if refusal.code == CSRF_FAILED:
            raise
        set_flash(response, "error", sentence(refusal.message), secure=secure)
        return response
    except StaleDataError:
        await run_sync(db.rollback)
        message = "The case changed meanwhile; look at it again and retry."
        set_flash(response, "error", message, secure=secure)
        return response
    response.headers["location"] = case_path(target.case, shown)
    set_flash(response, "success", message, secure=secure)
    return response


# --- the files panel of the case page -------------------------------------------------------------


def file_view(attachment: Attachment, case: Case) -> dict[str, Any]:
    listing = attachment.listing
    return {
        "id": attachment.id,
        "name": attachment.name,
        "size": attachment.size,
        "size_text": human_size(attachment.size),
        "sha256": attachment.sha256,
        "media_type": attachment.media_type,
        "kind": attachment.kind,
        "internal": attachment.internal,
        "request_id": attachment.request_id,
        "uploaded_by": attachment.uploaded_by.name,
        "created_at": attachment.created_at,
        "download_url": f"/api/v1/cases/{case.ref}/attachments/{attachment.id}",
        "entries": None
        if listing is None
        else [
            {"name": e["name"], "size_text": human_size(int(e["size"]))}
            for e in listing[:MAX_LISTED_ENTRIES]
        ],
        "entry_count": None if listing is None else len(listing),
        "unpacked_text": None
        if listing is None
        else human_size(sum(int(e["size"]) for e in listing)),
    }


def case_files(*, db: Session, viewer: User, case: Case) -> list[Attachment]:
    """The case's files the viewer may see (never internal ones for a customer), newest first."""
    found, _more = service.list_attachments(
        db=db, viewer=viewer, ref=case.ref, limit=MAX_FILES_SHOWN, before_id=None
    )
    return found


def files_panel(
    *,
    files: list[dict[str, Any]],
    viewer: User,
    open_requests: list[dict[str, Any]],
    settings: Settings,
) -> dict[str, Any]:
    return {
        "items": files,
        "can_upload": viewer.is_customer or viewer.role in HANDLER_ROLES,
        "can_internal": viewer.role in HANDLER_ROLES,
        "open_requests": open_requests,
        "max_bytes": settings.max_upload_bytes,
        "max_text": human_size(settings.max_upload_bytes),
    }


def uploaded_message(attachment: Attachment) -> str:
    where = " (internal: engineers only)" if attachment.internal else ""
    return (
        f"Uploaded {attachment.name}{where}: {human_size(attachment.size)}, "
        f"{attachment.kind} ({attachment.media_type}), sha256 {attachment.sha256[:16]}…"
    )


@router.post("/cases/{ref}/attachments")
async def upload_file(
    ref: str,
    request: Request,
    db: DbSession,
    caller: PageUploader,
    settings: AppSettings,
    storage: AppStorage,
) -> RedirectResponse:
    def done(upload: PageUpload) -> tuple[str, str]:
        assert upload.attachment is not None
        return uploaded_message(upload.attachment), f"file-{upload.attachment.id}"

    return await upload_form(
        request,
        db=db,
        caller=caller,
        ref=ref,
        settings=settings,
        storage=storage,
        section="files",
        file_optional=False,
        then=done,
    )
