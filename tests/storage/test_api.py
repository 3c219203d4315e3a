"""End to end: uploads are sealed on disk, and every way the desk reads them back still works."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from critdesk.attachment.models import Attachment
from critdesk.logs import jobs
from critdesk.privacy.encryption import MAGIC
from tests.attachment.conftest import noise, upload, zip_bytes
from tests.case.test_api import ALICE, ENG1, report

SECRET = "password=Hunter2 for svc_claims@db.northwind.internal"
LOG = (
    f"2026-11-25 09:12:03,114 ERROR [exec-4] c.v.runtime.Db - login failed: {SECRET}\n"
    "2026-11-25 09:12:04,001 WARN  [exec-4] c.v.runtime.Pool - pool exhausted after 30 ms\n"
).encode()


def uploaded(client: Any, headers: dict[str, str], ref: str, content: bytes, name: str) -> dict:
    response = upload(client, headers, ref, content, name=name)
    assert response.status_code == 201, response.text
    return dict(response.json())


def on_disk(database: Any, settings: Any, attachment_id: int) -> Any:
    with database.session(read_only=True) as db:
        key = db.scalar(select(Attachment.storage_key).where(Attachment.id == attachment_id))
    return settings.data_dir / "attachments" / str(key)


def download(client: Any, headers: dict[str, str], ref: str, attachment_id: int) -> Any:
    return client.get(f"/api/v1/cases/{ref}/attachments/{attachment_id}", headers=headers)


def test_an_upload_is_sealed_on_disk_and_downloads_intact(client, login, database, settings):
    alice = login(ALICE)
    ref = report(client, alice)["ref"]
    content = LOG * 20_000 + noise(123_457)  # ~3 MB: many chunks, an odd tail
    created = uploaded(client, alice, ref, content, "runtime.log")
    stored = on_disk(database, settings, created["id"]).read_bytes()
    assert stored.startswith(MAGIC)
    for needle in (b"Hunter2", b"northwind.internal", b"pool exhausted", content[:100]):
        assert needle not in stored
    response = download(client, alice, ref, created["id"])
    assert response.status_code == 200
    assert response.content == content
    assert response.headers["content-length"] == str(len(content))


def test_an_uploaded_zip_is_listed_from_the_sealed_file(client, login, database, settings):
    alice = login(ALICE)
    ref = report(client, alice)["ref"]
    entries = {"logs/app.log": LOG * 300, "project.mpk": noise(200_000), "notes.txt": b"nw-prod"}
    created = uploaded(client, alice, ref, zip_bytes(entries), "bundle.zip")
    assert created["kind"] == "archive"
    assert {e["name"]: e["size"] for e in created["listing"]} == {
        k: len(v) for k, v in entries.items()
    }
    assert on_disk(database, settings, created["id"]).read_bytes().startswith(MAGIC)


def test_a_sealed_log_is_analysed_in_the_background(app, client, login, database, clock):
    alice = login(ALICE)
    ref = report(client, alice)["ref"]
    created = uploaded(client, alice, ref, LOG * 1000, "runtime.log")
    assert jobs.analyse_pending(database, clock.now, app.state.storage, clock=clock) == 1
    analysis = client.get(
        f"/api/v1/cases/{ref}/attachments/{created['id']}/analysis", headers=login(ENG1)
    ).json()
    assert analysis["state"] == "done", analysis
    assert analysis["summary"]["lines"] == 2000


def test_a_file_stored_before_encryption_still_downloads(client, login, database, settings):
    alice = login(ALICE)
    ref = report(client, alice)["ref"]
    created = uploaded(client, alice, ref, LOG, "old.log")
    on_disk(database, settings, created["id"]).write_bytes(LOG)  # as stored before sealing
    response = download(client, alice, ref, created["id"])
    assert response.status_code == 200 and response.content == LOG


def test_a_tampered_file_answers_an_error_never_garbage(client, login, database, settings):
    alice = login(ALICE)
    ref = report(client, alice)["ref"]
    created = uploaded(client, alice, ref, LOG * 100, "runtime.log")
    path = on_disk(database, settings, created["id"])
    damaged = bytearray(path.read_bytes())
    damaged[-5] ^= 0x01  # the last chunk: checked before the first byte is sent
    path.write_bytes(bytes(damaged))
    response = download(client, alice, ref, created["id"])
    assert response.status_code == 500
    assert response.json()["error"]["code"] == "attachment_damaged"
    truncated = bytes(damaged[:-100])
    path.write_bytes(truncated)
    assert download(client, alice, ref, created["id"]).json()["error"]["code"] == (
        "attachment_damaged"
    )
