"""Receiving and recording uploads at the service layer, on every configured database."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator, Iterable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, update

from critdesk.adapters.storage import LocalStorage, MemoryStorage
from critdesk.attachment import schemas, service
from critdesk.attachment.archive import ArchiveLimits
from critdesk.attachment.models import Attachment
from critdesk.auth.models import User
from critdesk.case.models import Case
from critdesk.errors import Conflict, Forbidden, Invalid, TooLarge
from critdesk.request.models import InfoRequest
from tests.attachment.conftest import BOUNDARY, LOG, MULTIPART, multipart, noise
from tests.case.test_api import ALICE, ENG1, report

CONTENT_TYPE = MULTIPART["Content-Type"]


@pytest.fixture
def ref(client, login) -> str:
    return str(report(client, login(ALICE))["ref"])


class Counting:
    """A storage wrapper that counts the bytes written through it, committed or not."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.written = 0
        self.opened: list[str] = []

    def open_write(self, key: str) -> Any:
        self.opened.append(key)
        return CountingWriter(self.inner.open_write(key), self)

    def open_read(self, key: str) -> Any:
        return self.inner.open_read(key)

    def delete(self, key: str) -> None:
        self.inner.delete(key)

    def size(self, key: str) -> int:
        return int(self.inner.size(key))


class CountingWriter:
    def __init__(self, inner: Any, counter: Counting) -> None:
        self.inner = inner
        self.counter = counter

    def write(self, data: Any) -> None:
        self.counter.written += len(data)
        self.inner.write(data)

    def commit(self) -> None:
        self.inner.commit()

    def abort(self) -> None:
        self.inner.abort()


async def chunks_of(body: bytes, size: int, fail_at: int | None = None) -> AsyncIterator[bytes]:
    for at in range(0, len(body), size):
        if fail_at is not None and at >= fail_at:
            raise Invalid("client_disconnected", "the upload was interrupted")
        yield body[at : at + size]


def user(session: Any, email: str) -> User:
    return session.scalars(select(User).where(User.email == email)).one()


def receive(
    target: service.UploadTarget,
    body: bytes | Iterable[bytes],
    storage: Any,
    *,
    size: int = 64 * 1024,
    limit: int = 2 * 1024**3,
    fail_at: int | None = None,
) -> service.ReceivedFile:
    return asyncio.run(
        service.receive_upload(
            chunks_of(body, size, fail_at),
            content_type=CONTENT_TYPE,
            storage=storage,
            limit=limit,
            target=target,
        )
    )


def file_part(content: bytes, name: str = "server.log") -> tuple[bytes, bytes]:
    return (f'name="file"; filename="{name}"'.encode(), content)


def test_the_bytes_reach_storage_whatever_the_chunking(database, demo, ref) -> None:
    # Content that looks like the start of a boundary tests the parser's look-behind.
    content = (b"--" + BOUNDARY.encode()[:-1] + b"\r\n\r\n--" + noise(5000)) * 20
    body = multipart(file_part(content, "tricky.bin"))
    for size in (1, 7, 61, 4096, len(body)):
        storage = MemoryStorage()
        with database.session() as session:
            target = service.prepare_upload(db=session, viewer=user(session, ALICE), ref=ref)
            received = receive(target, body, storage, size=size)
        assert storage.files[received.key] == content
        assert received.sha256 == hashlib.sha256(content).hexdigest()
        assert received.size == len(content)
        assert received.name == "tricky.bin"


def test_an_upload_over_the_limit_stops_mid_stream_and_leaves_nothing(
    database, demo, ref, tmp_path: Path
) -> None:
    root = tmp_path / "attachments"
    body = multipart(file_part(noise(1024**2), "big.bin"))
    storage = Counting(LocalStorage(root))
    with database.session() as session:
        target = service.prepare_upload(db=session, viewer=user(session, ALICE), ref=ref)
        with pytest.raises(TooLarge) as refused:
            receive(target, body, storage, size=32 * 1024, limit=256 * 1024)
    assert refused.value.code == "file_too_large"
    assert 0 < storage.written <= 256 * 1024  # it was streaming to disk when it stopped
    assert [p for p in root.rglob("*") if p.is_file()] == []


def test_an_interrupted_upload_leaves_nothing(database, demo, ref) -> None:
    memory = MemoryStorage()
    storage = Counting(memory)
    body = multipart(file_part(noise(4 * 1024**2)))
    with database.session() as session:
        target = service.prepare_upload(db=session, viewer=user(session, ALICE), ref=ref)
        with pytest.raises(Invalid):
            receive(target, body, storage, fail_at=3 * 1024**2)
    assert storage.written > 1024**2
    assert memory.files == {} and memory.open_writers == set()


def test_fields_before_the_file_are_refused_before_a_byte_is_stored(database, demo, ref) -> None:
    storage = Counting(MemoryStorage())
    body = multipart((b'name="internal"', b"true"), file_part(LOG))
    with database.session() as session:
        target = service.prepare_upload(db=session, viewer=user(session, ALICE), ref=ref)
        with pytest.raises(Forbidden):
            receive(target, body, storage)
    assert storage.opened == []


def test_the_file_is_durable_before_its_row_and_goes_if_the_row_rolls_back(
    database, demo, ref
) -> None:
    storage = MemoryStorage()
    with pytest.raises(RuntimeError), database.session() as session:
        target = service.prepare_upload(db=session, viewer=user(session, ALICE), ref=ref)
        received = receive(target, multipart(file_part(LOG)), storage)
        assert received.key in storage.files  # committed to storage before any row exists
        service.add_attachment(
            db=session,
            target=target,
            received=received,
            storage=storage,
            limits=ArchiveLimits(),
            now=target.case.reported_at,
        )
        raise RuntimeError("the request fails after the row was written")
    assert storage.files == {}
    assert storage.deleted == [received.key]
    with database.session(read_only=True) as session:
        assert session.scalar(select(func.count()).select_from(Attachment)) == 0


def test_a_committed_upload_keeps_its_file(database, demo, ref) -> None:
    storage = MemoryStorage()
    with database.session() as session:
        target = service.prepare_upload(db=session, viewer=user(session, ALICE), ref=ref)
        received = receive(target, multipart(file_part(LOG)), storage)
        with session.begin_nested():  # a savepoint released on the way changes nothing
            attachment = service.add_attachment(
                db=session,
                target=target,
                received=received,
                storage=storage,
                limits=ArchiveLimits(),
                now=target.case.reported_at,
            )
    assert storage.files == {received.key: LOG}
    with database.session(read_only=True) as session:
        stored = session.get(Attachment, attachment.id)
        assert stored is not None and stored.storage_key == received.key


def test_a_case_changed_during_the_upload_still_gets_the_file(database, demo, ref) -> None:
    storage = MemoryStorage()
    with database.session() as session:
        target = service.prepare_upload(db=session, viewer=user(session, ENG1), ref=ref)
        session.commit()  # as the route does before streaming
        with database.session() as other:  # an engineer acts on the case meanwhile
            case = other.get(Case, target.case.id)
            assert case is not None
            case.title = "Checkout fails for everyone (confirmed)"
        received = receive(target, multipart(file_part(LOG)), storage)
        service.add_attachment(
            db=session,
            target=target,
            received=received,
            storage=storage,
            limits=ArchiveLimits(),
            now=target.case.reported_at + timedelta(minutes=5),
        )
    assert list(storage.files) == [received.key]


def test_a_request_answered_during_the_upload_refuses_the_file(
    client, login, database, ref
) -> None:
    eng = login(ENG1)
    client.post(f"/api/v1/cases/{ref}/actions/start_investigation", headers=eng)
    asked = client.post(
        f"/api/v1/cases/{ref}/requests",
        headers=eng,
        json={"kind": "logs", "message": "Logs, please.", "details": {"logs": ["app"]}},
    )
    request_id = asked.json()["id"]
    storage = MemoryStorage()
    body = multipart((b'name="request_id"', str(request_id).encode()), file_part(LOG))
    with pytest.raises(Conflict) as refused, database.session() as session:
        target = service.prepare_upload(db=session, viewer=user(session, ALICE), ref=ref)
        session.commit()  # as the route does before streaming
        received = receive(target, body, storage)
        with database.session() as other:
            other.execute(
                update(InfoRequest).where(InfoRequest.id == request_id).values(state="answered")
            )
        service.add_attachment(
            db=session,
            target=target,
            received=received,
            storage=storage,
            limits=ArchiveLimits(),
            now=target.case.reported_at,
        )
    assert refused.value.code == "request_not_open"
    assert storage.files == {}


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ({}, schemas.UploadFields()),
        ({"request_id": " 12 ", "internal": "TRUE"}, schemas.UploadFields(12, True)),
        ({"internal": "off", "csrf_token": "ignored"}, schemas.UploadFields()),
    ],
)
def test_form_fields_parse_strictly(raw: dict[str, str], expected: schemas.UploadFields) -> None:
    assert schemas.parse_fields(raw) == expected


@pytest.mark.parametrize(
    "raw", [{"request_id": "-1"}, {"request_id": "١٢"}, {"request_id": "9" * 30}, {"internal": "2"}]
)
def test_bad_form_fields_are_refused(raw: dict[str, str]) -> None:
    with pytest.raises(Invalid):
        schemas.parse_fields(raw)


def feed_all(body: bytes, storage: MemoryStorage) -> service.ReceivedFile:
    receiver = service.UploadReceiver(
        content_type=CONTENT_TYPE, storage=storage, limit=1024**2, check=lambda _fields: None
    )
    try:
        receiver.feed([body])
        return receiver.finish()
    except BaseException:
        receiver.abort()
        raise


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (multipart((b'name="note"', b"x" * 5000), file_part(LOG)), "field_too_large"),
        (multipart(*[(b'name="f%d"' % n, b"x") for n in range(25)]), "too_many_parts"),
        (multipart((b'filename="x.log"', LOG)), "invalid_multipart"),
        (b"--" + BOUNDARY.encode() + b"\r\nbroken header line\r\n\r\nx", "invalid_multipart"),
    ],
    ids=["long-field", "many-fields", "nameless-part", "bad-header"],
)
def test_the_parser_bounds_what_it_buffers(body: bytes, code: str) -> None:
    storage = MemoryStorage()
    with pytest.raises(Invalid) as refused:
        feed_all(body, storage)
    assert refused.value.code == code
    assert storage.files == {} and storage.open_writers == set()


def test_unknown_small_fields_are_ignored_and_the_name_may_be_absent() -> None:
    storage = MemoryStorage()
    received = feed_all(multipart((b'name="csrf_token"', b"t"), (b'name="file"', LOG)), storage)
    assert received.name == "attachment"
    assert storage.files[received.key] == LOG
