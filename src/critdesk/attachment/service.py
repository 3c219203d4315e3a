"""Attachment use cases: receive a file as it streams in, list, read and download.

An upload never sits whole in memory or in a temporary copy: the multipart body is parsed as
it arrives and the file part's bytes go straight to the storage adapter while their size and
SHA-256 are counted. The stored file is durable (``commit()``: fsync, rename) before its row
is written; if that row's transaction then rolls back, the file is deleted (see
``_delete_unless_committed`` for the window that remains). Nothing here commits.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import threading
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, BinaryIO

from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header
from sqlalchemy import event, select
from sqlalchemy.orm import Session, SessionTransaction

from critdesk.adapters.storage import Storage, StorageWriter, new_key
from critdesk.attachment import archive, schemas, sniff
from critdesk.attachment.models import Attachment
from critdesk.audit import service as audit
from critdesk.auth.models import User
from critdesk.case import service as case_service
from critdesk.case.models import Case
from critdesk.errors import Conflict, DomainError, Forbidden, Invalid, NotFound, TooLarge
from critdesk.execution import offload
from critdesk.logs import service as log_service
from critdesk.privacy.encryption import SealedFileError
from critdesk.request.models import InfoRequest

log = logging.getLogger(__name__)

# The body is handed from the event loop to a worker thread in batches of about this size:
# few thread hops and large writes, at a bounded cost in memory per upload.
BATCH_BYTES = 1024**2
FILE_FIELD = "file"
MAX_FIELDS = 20
MAX_FIELD_BYTES = 4096


# --- who may upload where ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class UploadTarget:
    """A case the actor may add files to, with its info requests' states as they were."""

    case: Case
    actor: User
    request_states: dict[int, str]

    def check(self, fields: schemas.UploadFields) -> None:
        if fields.internal and self.actor.role not in case_service.HANDLER_ROLES:
            raise Forbidden("engineers_only", "only engineers may attach internal files")
        if fields.request_id is not None:
            _check_request(fields.request_id, self.request_states.get(fields.request_id))


def _check_request(request_id: int, state: str | None) -> None:
    if state is None:
        raise Invalid(
            "unknown_request", f"request_id {request_id} is not an info request of this case"
        )
    if state != "open":
        raise Conflict(
            "request_not_open",
            f"info request {request_id} is {state}; files attach to open requests only",
        )


def prepare_upload(*, db: Session, viewer: User, ref: str) -> UploadTarget:
    """Everything that can be refused before a byte is received."""
    case = case_service.get_case(db=db, viewer=viewer, ref=ref)
    if not viewer.is_customer and viewer.role not in case_service.HANDLER_ROLES:
        raise Forbidden("read_only", "account managers may read a case's files but not add them")
    rows = db.execute(
        select(InfoRequest.id, InfoRequest.state).where(InfoRequest.case_id == case.id)
    )
    return UploadTarget(case=case, actor=viewer, request_states={i: s for i, s in rows})


# --- receiving the body ---------------------------------------------------------------------


class UnsupportedMediaType(DomainError):
    status_code = 415


@dataclass(frozen=True, slots=True)
class ReceivedFile:
    """A file committed to storage under ``key``, not yet referenced by any row."""

    key: str
    name: str
    size: int
    sha256: str
    head: bytes
    fields: schemas.UploadFields


def _boundary(content_type: str | None) -> bytes:
    media_type, options = parse_options_header(content_type)
    if media_type != b"multipart/form-data":
        raise UnsupportedMediaType(
            "unsupported_media_type",
            "send the file as multipart/form-data, in a part named 'file'",
        )
    boundary = options.get(b"boundary", b"")
    if not 1 <= len(boundary) <= 200:
        raise Invalid("invalid_multipart", "the multipart content type has no valid boundary")
    return boundary


class UploadReceiver:
    """A streaming multipart/form-data parser that writes the ``file`` part to storage.

    ``feed`` and ``finish`` block (hashing, writing) and run on a worker thread; one upload's
    calls never overlap. ``abort`` removes whatever was written.
    """

    def __init__(
        self,
        *,
        content_type: str | None,
        storage: Storage,
        limit: int,
        check: Callable[[schemas.UploadFields], None],
    ) -> None:
        self.storage = storage
        self.limit = limit
        self.check = check
        self.parser = MultipartParser(
            _boundary(content_type),
            callbacks={
                "on_part_begin": self._part_begin,
                "on_header_field": self._header_field,
                "on_header_value": self._header_value,
                "on_header_end": self._header_end,
                "on_headers_finished": self._headers_finished,
                "on_part_data": self._part_data,
                "on_part_end": self._part_end,
                "on_end": self._end,
            },
        )
        self.fields: dict[str, str] = {}
        self.part_name = ""
        self.part_value = bytearray()
        self.header_name = bytearray()
        self.header_value = bytearray()
        self.disposition = b""
        self.parts = 0
        self.ended = False
        self.key: str | None = None
        self.name = sniff.FALLBACK_NAME
        self.writer: StorageWriter | None = None
        self.receiving = False
        self.size = 0
        self.hasher = hashlib.sha256()
        self.head = bytearray()
        self.lock = threading.Lock()
        self.aborted = False

    def feed(self, chunks: list[bytes]) -> None:
        with self.lock:
            if self.aborted:
                return
            try:
                for chunk in chunks:
                    self.parser.write(chunk)
            except MultipartParseError as error:
                raise Invalid("invalid_multipart", f"malformed multipart body: {error}") from error

    def feed_and_finish(self, chunks: list[bytes]) -> ReceivedFile:
        self.feed(chunks)
        return self.finish()

    def finish(self) -> ReceivedFile:
        with self.lock:
            if not self.ended:
                raise Invalid("invalid_multipart", "the body ended before its last boundary")
            if self.writer is None or self.key is None:
                raise Invalid("file_required", "the multipart body has no part named 'file'")
            if self.size == 0:
                raise Invalid("empty_file", "the file is empty")
            fields = schemas.parse_fields(self.fields)
            self.check(fields)  # again: fields may follow the file part
            self.writer.commit()
            return ReceivedFile(
                key=self.key,
                name=self.name,
                size=self.size,
                sha256=self.hasher.hexdigest(),
                head=bytes(self.head),
                fields=fields,
            )

    def abort(self) -> None:
        # Waits for a batch still being written on a worker thread (a few milliseconds): the
        # file must not be closed under it.
        with self.lock:
            self.aborted = True
            if self.writer is not None:
                self.writer.abort()

    # Parser callbacks: headers are small and bounded by the parser; data may be large.

    def _part_begin(self) -> None:
        self.parts += 1
        if self.parts > MAX_FIELDS + 1:
            raise Invalid("too_many_parts", f"send the file and at most {MAX_FIELDS} form fields")
        self.part_name = ""
        self.part_value.clear()
        self.disposition = b""

    def _header_field(self, data: bytes, start: int, end: int) -> None:
        self.header_name += data[start:end]

    def _header_value(self, data: bytes, start: int, end: int) -> None:
        self.header_value += data[start:end]

    def _header_end(self) -> None:
        if self.header_name.strip().lower() == b"content-disposition":
            self.disposition = bytes(self.header_value)
        self.header_name.clear()
        self.header_value.clear()

    def _headers_finished(self) -> None:
        kind, options = parse_options_header(self.disposition.decode("latin-1"))
        # The parser hands parameters back as latin-1; clients send names in UTF-8.
        name = options.get(b"name", b"").decode("utf-8", errors="replace")
        if kind != b"form-data" or not name:
            raise Invalid("invalid_multipart", "every part needs a form-data name")
        self.part_name = name
        if name != FILE_FIELD:
            return
        if self.writer is not None:
            raise Invalid("one_file_only", "send one file per upload")
        filename = options.get(b"filename", b"").decode("utf-8", errors="replace")
        self.check(schemas.parse_fields(self.fields))  # fields sent before the file: refuse early
        self.name = sniff.safe_name(filename)
        self.key = new_key()
        self.writer = self.storage.open_write(self.key)
        self.receiving = True

    def _part_data(self, data: bytes, start: int, end: int) -> None:
        if self.receiving:
            self.size += end - start
            if self.size > self.limit:
                raise TooLarge("file_too_large", f"the file is over the {self.limit}-byte limit")
            view = memoryview(data)[start:end]
            if len(self.head) < sniff.HEAD_BYTES:
                self.head += view[: sniff.HEAD_BYTES - len(self.head)]
            self.hasher.update(view)
            assert self.writer is not None
            self.writer.write(view)
            return
        self.part_value += data[start:end]
        if len(self.part_value) > MAX_FIELD_BYTES:
            raise Invalid("field_too_large", f"the form field {self.part_name!r} is too long")

    def _part_end(self) -> None:
        if self.receiving:
            self.receiving = False
        elif self.part_name:
            self.fields[self.part_name] = self.part_value.decode("utf-8", errors="replace")

    def _end(self) -> None:
        self.ended = True


async def receive_upload(
    chunks: AsyncIterator[bytes],
    *,
    content_type: str | None,
    storage: Storage,
    limit: int,
    target: UploadTarget,
) -> ReceivedFile:
    """Streams a multipart body into storage; on any failure nothing is left behind."""
    receiver = UploadReceiver(
        content_type=content_type, storage=storage, limit=limit, check=target.check
    )
    # Double buffering: one batch is parsed, hashed and written on a worker thread while the
    # next is received, so the network and the disk are busy at the same time.
    feeding: asyncio.Future[None] | None = None
    try:
        batch: list[bytes] = []
        pending = 0
        async for chunk in chunks:
            batch.append(chunk)
            pending += len(chunk)
            if pending >= BATCH_BYTES:
                if feeding is not None:
                    await feeding
                feeding = asyncio.ensure_future(offload(receiver.feed, batch))
                batch, pending = [], 0
        if feeding is not None:
            await feeding
        # The last batch and the durable commit in one hop: with handlers inline, every await
        # waits for the requests the loop runs meanwhile.
        return await offload(receiver.feed_and_finish, batch)
    except BaseException:
        if feeding is not None:
            # Its error, if any, is the one being raised or is moot now.
            feeding.add_done_callback(lambda done: done.cancelled() or done.exception())
        receiver.abort()
        raise


# --- recording it ---------------------------------------------------------------------------


def add_attachment(
    *,
    db: Session,
    target: UploadTarget,
    received: ReceivedFile,
    storage: Storage,
    limits: archive.ArchiveLimits,
    now: datetime,
) -> Attachment:
    """The row and timeline event for a stored file; a refused file is deleted."""
    try:
        attachment = _insert(db, target, received, storage, limits, now)
    except BaseException:
        storage.delete(received.key)
        raise
    _delete_unless_committed(db, storage, received.key)
    return attachment


def _insert(
    db: Session,
    target: UploadTarget,
    received: ReceivedFile,
    storage: Storage,
    limits: archive.ArchiveLimits,
    now: datetime,
) -> Attachment:
    case, actor, fields = target.case, target.actor, received.fields
    # The upload may have taken minutes: read the case and the request as they are now.
    db.refresh(case)
    if fields.request_id is not None:
        request = db.get(InfoRequest, fields.request_id)
        state = request.state if request is not None and request.case_id == case.id else None
        _check_request(fields.request_id, state)
    media_type, kind, listing = _describe(received, storage, limits)
    attachment = Attachment(
        case_id=case.id,
        request_id=fields.request_id,
        uploaded_by_id=actor.id,
        name=received.name,
        size=received.size,
        sha256=received.sha256,
        media_type=media_type,
        kind=kind,
        storage_key=received.key,
        listing=listing,
        internal=fields.internal,
        created_at=now,
    )
    attachment.uploaded_by = actor
    db.add(attachment)
    db.flush()
    # A log (or an archive of logs) is analysed by a background job (logs.jobs): queued here,
    # in the upload's own transaction, so that no stored log goes unanalysed.
    log_service.queue_for_attachment(db=db, attachment=attachment, now=now)
    data = {
        "attachment_id": attachment.id,
        "name": attachment.name,
        "size": attachment.size,
        "kind": attachment.kind,
    }
    if fields.request_id is not None:
        data["request_id"] = fields.request_id
    case_service.record_event(
        db=db,
        case=case,
        actor=actor,
        now=now,
        kind="attachment_added",
        data=data,
        internal=fields.internal,
    )
    db.flush()
    return attachment


def _describe(
    received: ReceivedFile, storage: Storage, limits: archive.ArchiveLimits
) -> tuple[str, str, list[dict[str, Any]] | None]:
    """(media type, kind, zip listing), from the content and never from the client's word."""
    media_type = sniff.media_type(received.head)
    listing = None
    if media_type == sniff.ZIP:
        with storage.open_read(received.key) as stream:
            listing = archive.list_zip(stream, received.size, limits)
    names = None if listing is None else [entry["name"] for entry in listing]
    kind = sniff.kind_of(
        name=received.name, media_type=media_type, head=received.head, entry_names=names
    )
    return media_type, kind, listing


_PENDING = "critdesk.attachment.uncommitted"


def _delete_unless_committed(db: Session, storage: Storage, key: str) -> None:
    """Deletes the stored file if the transaction that references it does not commit.

    The file is durable before its row commits, so an acknowledged upload is never lost; a
    failed commit or a later error in the request deletes it again. What remains is a crash
    between the file's fsync and the commit, which leaves an unreferenced file: a sweep that
    compares storage keys with ``attachments.storage_key`` reclaims those.
    """
    pending: list[tuple[Storage, str]] | None = db.info.get(_PENDING)
    if pending is None:
        pending = db.info[_PENDING] = []
        event.listen(db, "after_commit", _forget_pending)
        event.listen(db, "after_transaction_end", _delete_pending)
    pending.append((storage, key))


def _forget_pending(session: Session) -> None:
    if not session.in_nested_transaction():
        session.info[_PENDING].clear()


def _delete_pending(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is not None:
        return
    pending = session.info[_PENDING]
    while pending:
        storage, key = pending.pop()
        try:
            storage.delete(key)
        except OSError:
            log.exception("could not delete the uncommitted attachment %s", key)


# --- reading ----------------------------------------------------------------------------------


def _visible(query: Any, viewer: User) -> Any:
    query = query.where(Attachment.deleted_at.is_(None))
    if viewer.is_customer:
        query = query.where(Attachment.internal.is_(False))
    return query


def list_attachments(
    *, db: Session, viewer: User, ref: str, limit: int, before_id: int | None
) -> tuple[list[Attachment], int | None]:
    """A page of the case's files, newest first; returns (files, id to continue before)."""
    case = case_service.get_case(db=db, viewer=viewer, ref=ref)
    query = _visible(select(Attachment).where(Attachment.case_id == case.id), viewer)
    if before_id is not None:
        query = query.where(Attachment.id < before_id)
    found = list(db.scalars(query.order_by(Attachment.id.desc()).limit(limit + 1)))
    more = len(found) > limit
    found = found[:limit]
    return found, (found[-1].id if more and found else None)


def get_attachment(
    *, db: Session, viewer: User, ref: str, attachment_id: int
) -> tuple[Case, Attachment]:
    """The file, looked up within a case the viewer may see; otherwise as if absent."""
    case = case_service.get_case(db=db, viewer=viewer, ref=ref)
    query = _visible(
        select(Attachment).where(Attachment.id == attachment_id, Attachment.case_id == case.id),
        viewer,
    )
    attachment = db.scalar(query)
    if attachment is None:
        raise NotFound("attachment")
    return case, attachment


class AttachmentGone(DomainError):
    status_code = 410


class StoredFileDamaged(DomainError):
    """The stored bytes failed their integrity check (or their key is not configured): a fault
    on the desk's side, answered in the error shape rather than as garbage bytes."""

    status_code = 500


# Why a file was removed, in the words of its 410 (privacy.rules.REMOVAL_REASONS says more).
_REMOVED_BECAUSE = {
    "retention": "its case closed longer ago than the retention period",
    "erasure": "the personal data of the person who uploaded it was erased",
}


def get_download(
    *, db: Session, viewer: User, ref: str, attachment_id: int
) -> tuple[Case, Attachment]:
    """Like ``get_attachment``, except that a removed file the viewer could have seen answers
    410 with when and why it was removed."""
    case = case_service.get_case(db=db, viewer=viewer, ref=ref)
    query = select(Attachment).where(Attachment.id == attachment_id, Attachment.case_id == case.id)
    if viewer.is_customer:
        query = query.where(Attachment.internal.is_(False))
    attachment = db.scalar(query)
    if attachment is None:
        raise NotFound("attachment")
    if attachment.deleted_at is not None:
        because = _REMOVED_BECAUSE.get(attachment.deleted_reason or "", "it was deleted")
        raise AttachmentGone(
            "attachment_removed",
            f"the file {attachment.name!r} was removed on "
            f"{attachment.deleted_at:%Y-%m-%d}: {because}",
            reason=attachment.deleted_reason,
            removed_at=attachment.deleted_at.isoformat(),
        )
    return case, attachment


def open_content(*, storage: Storage, attachment: Attachment) -> BinaryIO:
    try:
        return storage.open_read(attachment.storage_key)
    except FileNotFoundError as error:
        log.error("attachment %s has a row but no stored bytes", attachment.id)
        raise NotFound("attachment content") from error
    except SealedFileError as error:
        log.error("attachment %s cannot be read: %s", attachment.id, error)
        raise StoredFileDamaged(
            "attachment_damaged",
            "the stored file failed its integrity check; this was logged for the administrators",
        ) from error


def record_download(
    *, db: Session, case: Case, attachment: Attachment, viewer: User, now: datetime
) -> None:
    audit.record(
        db=db,
        at=now,
        actor_id=viewer.id,
        action="attachment.downloaded",
        object_type="attachment",
        object_id=attachment.id,
        organisation_id=case.organisation_id,
        data={"case": case.ref, "name": attachment.name, "sha256": attachment.sha256},
    )
