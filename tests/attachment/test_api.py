"""Attachments over the API, end to end, on every configured database."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from sqlalchemy import func, select

from critdesk.attachment.models import Attachment
from critdesk.audit.models import AuditEvent
from tests.attachment.conftest import (
    LOG,
    MULTIPART,
    PNG,
    gz_bytes,
    multipart,
    noise,
    stored_files,
    tar_bytes,
    upload,
    zip_bytes,
)
from tests.case.test_actions import act
from tests.case.test_api import ALICE, AM, BOB, CAROL, ENG1, LEAD, report


@pytest.fixture
def ref(client, login) -> str:
    return str(report(client, login(ALICE))["ref"])


def files_of(client: Any, headers: dict[str, str], ref: str, **params: Any) -> Any:
    return client.get(f"/api/v1/cases/{ref}/attachments", headers=headers, params=params)


def download(client: Any, headers: dict[str, str], ref: str, attachment_id: int) -> Any:
    return client.get(f"/api/v1/cases/{ref}/attachments/{attachment_id}", headers=headers)


def rows(database: Any) -> int:
    with database.session(read_only=True) as session:
        return int(session.scalar(select(func.count()).select_from(Attachment)) or 0)


def timeline_kinds(client: Any, headers: dict[str, str], ref: str) -> list[str]:
    detail = client.get(f"/api/v1/cases/{ref}", headers=headers).json()
    return [event["kind"] for event in detail["timeline"]]


def error_code(response: Any) -> str:
    return str(response.json()["error"]["code"])


# --- the happy path -------------------------------------------------------------------------


def test_a_customer_uploads_lists_and_downloads_a_log(client, login, ref) -> None:
    alice = login(ALICE)
    response = upload(client, alice, ref, LOG, name="server.log")
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["name"] == "server.log"
    assert created["size"] == len(LOG)
    assert created["sha256"] == hashlib.sha256(LOG).hexdigest()
    assert (created["media_type"], created["kind"]) == ("text/plain", "log")
    assert created["request_id"] is None and created["internal"] is False
    assert created["uploaded_by"] == {"email": ALICE, "name": "Alice Northwind"}
    assert created["created_at"] == "2026-11-25T10:00:00Z"
    assert created["listing"] is None

    listed = files_of(client, alice, ref).json()
    assert [item["id"] for item in listed["items"]] == [created["id"]]
    assert listed["next_cursor"] is None

    got = download(client, alice, ref, created["id"])
    assert got.status_code == 200
    assert got.content == LOG
    assert got.headers["content-type"].startswith("text/plain")
    assert got.headers["content-length"] == str(len(LOG))
    assert got.headers["x-content-type-options"] == "nosniff"
    assert got.headers["content-disposition"] == (
        "attachment; filename=\"server.log\"; filename*=UTF-8''server.log"
    )
    assert "attachment_added" in timeline_kinds(client, alice, ref)


def test_the_engineer_sees_and_downloads_the_customers_file(client, login, ref) -> None:
    created = upload(client, login(BOB), ref, PNG, name="checkout.png").json()
    eng = login(ENG1)
    assert [a["id"] for a in files_of(client, eng, ref).json()["items"]] == [created["id"]]
    assert download(client, eng, ref, created["id"]).content == PNG


def test_a_name_outside_ascii_survives_in_the_download_header(client, login, ref) -> None:
    alice = login(ALICE)
    created = upload(client, alice, ref, LOG, name="Überweisung – fehler.log").json()
    assert created["name"] == "Überweisung – fehler.log"
    disposition = download(client, alice, ref, created["id"]).headers["content-disposition"]
    assert disposition == (
        'attachment; filename="_berweisung _ fehler.log"; '
        "filename*=UTF-8''%C3%9Cberweisung%20%E2%80%93%20fehler.log"
    )


def test_the_list_is_paged_newest_first(client, login, ref) -> None:
    alice = login(ALICE)
    ids = [upload(client, alice, ref, LOG, name=f"{n}.log").json()["id"] for n in range(3)]
    first = files_of(client, alice, ref, limit=2).json()
    assert [a["id"] for a in first["items"]] == ids[:0:-1]
    rest = files_of(client, alice, ref, limit=2, cursor=first["next_cursor"]).json()
    assert [a["id"] for a in rest["items"]] == ids[:1]
    assert rest["next_cursor"] is None


def test_every_download_is_written_to_the_audit_trail(client, login, ref, database) -> None:
    created = upload(client, login(ALICE), ref).json()
    assert download(client, login(ENG1), ref, created["id"]).status_code == 200
    assert download(client, login(BOB), ref, created["id"]).status_code == 200
    with database.session(read_only=True) as session:
        events = session.scalars(
            select(AuditEvent)
            .where(AuditEvent.action == "attachment.downloaded")
            .order_by(AuditEvent.id)
        ).all()
        assert [(e.object_type, e.object_id) for e in events] == [
            ("attachment", str(created["id"]))
        ] * 2
        assert events[0].data["case"] == ref
        assert events[0].data["sha256"] == created["sha256"]
        assert events[0].organisation_id is not None


def test_the_upload_is_documented_as_multipart_in_openapi(client) -> None:
    spec = client.get("/openapi.json").json()
    body = spec["paths"]["/api/v1/cases/{ref}/attachments"]["post"]["requestBody"]
    schema = body["content"]["multipart/form-data"]["schema"]
    assert schema["required"] == ["file"]
    assert set(schema["properties"]) == {"file", "request_id", "internal"}


# --- who may do what ------------------------------------------------------------------------


def test_another_organisations_customer_finds_nothing_on_any_route(
    client, login, ref, settings
) -> None:
    created = upload(client, login(ALICE), ref).json()
    stored = stored_files(settings)
    carol = login(CAROL)
    attachment = f"/api/v1/cases/{ref}/attachments/{created['id']}"
    for response in (
        upload(client, carol, ref, b"intruder\n", name="x.log"),
        files_of(client, carol, ref),
        client.get(attachment, headers=carol),
        client.get(f"{attachment}/listing", headers=carol),
    ):
        assert response.status_code == 404, response.text
        assert error_code(response) == "not_found"
    assert stored_files(settings) == stored


def test_another_cases_attachment_reads_as_absent(client, login, ref) -> None:
    alice = login(ALICE)
    created = upload(client, alice, ref, zip_bytes({"a.txt": b"a"}), name="a.zip").json()
    other = report(client, alice)["ref"]
    assert download(client, alice, other, created["id"]).status_code == 404
    listing = client.get(
        f"/api/v1/cases/{other}/attachments/{created['id']}/listing", headers=alice
    )
    assert listing.status_code == 404
    assert download(client, alice, ref, 999_999).status_code == 404


def test_customers_never_see_internal_files(client, login, ref) -> None:
    eng, alice = login(ENG1), login(ALICE)
    internal = upload(client, eng, ref, LOG, name="repro.log", internal=True)
    assert internal.status_code == 201, internal.text
    assert internal.json()["internal"] is True
    shared = upload(client, eng, ref, LOG, name="fix.log").json()
    assert [a["id"] for a in files_of(client, alice, ref).json()["items"]] == [shared["id"]]
    assert download(client, alice, ref, internal.json()["id"]).status_code == 404
    assert timeline_kinds(client, alice, ref).count("attachment_added") == 1
    assert len(files_of(client, login(LEAD), ref).json()["items"]) == 2
    assert timeline_kinds(client, eng, ref).count("attachment_added") == 2


def test_a_customer_may_not_upload_an_internal_file(client, login, ref, settings) -> None:
    response = upload(client, login(ALICE), ref, internal=True)
    assert response.status_code == 403
    assert error_code(response) == "engineers_only"
    assert stored_files(settings) == []


def test_internal_sent_after_the_file_is_checked_too(client, login, ref, settings) -> None:
    body = multipart(
        (b'name="file"; filename="late.log"', LOG),
        (b'name="internal"', b"true"),
    )
    response = client.post(
        f"/api/v1/cases/{ref}/attachments", headers=login(ALICE) | MULTIPART, content=body
    )
    assert response.status_code == 403
    assert stored_files(settings) == []


def test_the_account_manager_reads_files_but_cannot_add_them(
    client, login, ref, settings, database
) -> None:
    created = upload(client, login(ALICE), ref).json()
    am = login(AM)
    assert [a["id"] for a in files_of(client, am, ref).json()["items"]] == [created["id"]]
    assert download(client, am, ref, created["id"]).content == LOG
    refused = upload(client, am, ref, b"notes\n", name="notes.txt")
    assert refused.status_code == 403
    assert error_code(refused) == "read_only"
    assert len(stored_files(settings)) == 1
    assert rows(database) == 1


# --- what is refused, leaving nothing behind -------------------------------------------------


def test_an_oversized_upload_is_refused_while_streaming(
    client_with, login, ref, settings, database
) -> None:
    small = client_with(max_upload_bytes=64 * 1024)
    alice = login(ALICE)
    body = multipart((b'name="file"; filename="big.bin"', noise(256 * 1024)))
    response = small.post(
        f"/api/v1/cases/{ref}/attachments",
        headers=alice | MULTIPART,
        # A generator: no Content-Length, so the size is only learnt by reading.
        content=(body[i : i + 16 * 1024] for i in range(0, len(body), 16 * 1024)),
    )
    assert response.status_code == 413
    assert error_code(response) == "file_too_large"
    assert stored_files(settings) == []
    assert rows(database) == 0
    assert "attachment_added" not in timeline_kinds(small, alice, ref)


def test_a_declared_oversized_body_is_refused_before_it_is_read(
    client_with, login, ref, settings
) -> None:
    small = client_with(max_upload_bytes=64 * 1024)
    body = multipart((b'name="file"; filename="big.bin"', b"x" * 100_000))
    response = small.post(
        f"/api/v1/cases/{ref}/attachments",
        headers=login(ALICE) | MULTIPART | {"Content-Length": str(len(body))},
        content=body,
    )
    assert response.status_code == 413
    assert stored_files(settings) == []


def test_an_empty_file_is_refused(client, login, ref, settings, database) -> None:
    response = upload(client, login(ALICE), ref, b"", name="empty.log")
    assert response.status_code == 422
    assert error_code(response) == "empty_file"
    assert stored_files(settings) == []
    assert rows(database) == 0


@pytest.mark.parametrize(
    ("sent", "stored"),
    [
        ("../../etc/passwd", "passwd"),
        ("C:\\evil\\x.log", "x.log"),
        ("..\\..\\boot.ini", "boot.ini"),
        ("x" * 300 + ".log", "x" * 196 + ".log"),
    ],
)
def test_names_are_reduced_to_a_safe_base_name(client, login, ref, settings, sent, stored) -> None:
    created = upload(client, login(ALICE), ref, LOG, name=sent)
    assert created.status_code == 201, created.text
    assert created.json()["name"] == stored
    (path,) = stored_files(settings)
    assert stored not in path and "passwd" not in path  # the path comes from a random key


def test_control_characters_in_a_name_are_dropped(client, login, ref) -> None:
    body = multipart((b'name="file"; filename="ev\x00il\x07.log"', LOG))
    response = client.post(
        f"/api/v1/cases/{ref}/attachments", headers=login(ALICE) | MULTIPART, content=body
    )
    assert response.status_code == 201, response.text
    assert response.json()["name"] == "evil.log"


def test_a_body_that_is_not_multipart_is_refused_clearly(client, login, ref, settings) -> None:
    alice = login(ALICE)
    as_json = client.post(f"/api/v1/cases/{ref}/attachments", headers=alice, json={"file": "x"})
    assert as_json.status_code == 415
    assert error_code(as_json) == "unsupported_media_type"
    assert "multipart/form-data" in as_json.json()["error"]["message"]
    no_boundary = client.post(
        f"/api/v1/cases/{ref}/attachments",
        headers=alice | {"Content-Type": "multipart/form-data"},
        content=b"x",
    )
    assert no_boundary.status_code == 422
    assert stored_files(settings) == []


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (multipart((b'name="request_id"', b"")), "file_required"),
        (multipart((b'name="file"; filename="a.log"', LOG))[:-4], "invalid_multipart"),
        (
            multipart((b'name="file"; filename="a.log"', LOG), (b'name="file"', LOG)),
            "one_file_only",
        ),
        (multipart((b'name="file"', LOG), (b'name="internal"', b"maybe")), "invalid_internal"),
        (multipart((b'name="request_id"', b"abc"), (b'name="file"', LOG)), "invalid_request_id"),
    ],
)
def test_a_malformed_upload_is_refused_and_leaves_nothing(
    client, login, ref, settings, body, code
) -> None:
    response = client.post(
        f"/api/v1/cases/{ref}/attachments", headers=login(ALICE) | MULTIPART, content=body
    )
    assert response.status_code == 422, response.text
    assert error_code(response) == code
    assert stored_files(settings) == []


def test_files_attach_only_to_an_open_request_of_the_same_case(client, login, ref) -> None:
    eng, alice = login(ENG1), login(ALICE)
    act(client, eng, ref, "start_investigation")
    asked = client.post(
        f"/api/v1/cases/{ref}/requests",
        headers=eng,
        json={
            "kind": "logs",
            "message": "Please send the server logs.",
            "details": {"logs": ["application server log"]},
        },
    )
    assert asked.status_code == 201, asked.text
    request_id = asked.json()["id"]

    other = report(client, alice)["ref"]
    elsewhere = upload(client, alice, other, request_id=request_id)
    assert elsewhere.status_code == 422
    assert error_code(elsewhere) == "unknown_request"
    assert error_code(upload(client, alice, ref, request_id=987_654)) == "unknown_request"

    attached = upload(client, alice, ref, request_id=request_id)
    assert attached.status_code == 201, attached.text
    assert attached.json()["request_id"] == request_id

    answered = client.post(
        f"/api/v1/cases/{ref}/requests/{request_id}/answer",
        headers=alice,
        json={"message": "Here they are."},
    )
    assert answered.status_code == 200, answered.text
    late = upload(client, alice, ref, request_id=request_id)
    assert late.status_code == 409
    assert error_code(late) == "request_not_open"


# --- what the file is --------------------------------------------------------------------------


# The whole table of types and kinds is in test_sniff.py; these go through the API.
@pytest.mark.parametrize(
    ("content", "name", "declared", "media_type", "kind"),
    [
        (PNG, "checkout.png", "image/png", "image/png", "screenshot"),
        # The client's word and the name say PNG; the bytes are a zip.
        (zip_bytes({"a.txt": b"a"}), "shot.png", "image/png", "application/zip", "archive"),
        (gz_bytes(LOG), "server.log.gz", "application/gzip", "application/gzip", "log"),
        (tar_bytes({"a.log": LOG}), "logs.tar", "text/plain", "application/x-tar", "archive"),
        (LOG, "console", "application/octet-stream", "text/plain", "log"),
        (b"\x00\x01" + noise(2000), "dump.txt", "text/plain", "application/octet-stream", "other"),
        (zip_bytes({"Shop/project.json": b"{}"}), "shop.zip", "x-zip", "application/zip", "export"),
    ],
    ids=["png", "zip-named-png", "gzip-log", "tar", "text-log", "binary", "zipped-export"],
)
def test_the_type_comes_from_the_content_not_the_client(
    client, login, ref, content, name, declared, media_type, kind
) -> None:
    response = upload(client, login(ALICE), ref, content, name=name, media_type=declared)
    assert response.status_code == 201, response.text
    assert (response.json()["media_type"], response.json()["kind"]) == (media_type, kind)
    got = download(client, login(ALICE), ref, response.json()["id"])
    assert got.headers["content-type"].split(";")[0] == media_type
    assert got.content == content


# --- archives -------------------------------------------------------------------------------


def test_a_zip_is_listed_from_its_directory_and_stored_as_uploaded(client, login, ref) -> None:
    alice = login(ALICE)
    entries = {"logs/app.log": LOG * 100, "logs/": b"", "nested.zip": zip_bytes({"x": b"x"})}
    content = zip_bytes(entries)
    created = upload(client, alice, ref, content, name="bundle.zip").json()
    assert created["kind"] == "archive"
    assert created["entries"] == 3
    listing = {entry["name"]: entry for entry in created["listing"]}
    assert set(listing) == set(entries)
    assert listing["logs/app.log"]["size"] == len(LOG) * 100
    assert 0 < listing["logs/app.log"]["compressed_size"] < len(LOG) * 100
    via_route = client.get(
        f"/api/v1/cases/{ref}/attachments/{created['id']}/listing", headers=alice
    ).json()
    assert via_route["entries"] == created["listing"]
    assert via_route["total_size"] == sum(len(v) for v in entries.values())
    assert files_of(client, alice, ref).json()["items"][0]["entries"] == 3
    assert download(client, alice, ref, created["id"]).content == content


def test_a_file_that_is_no_archive_has_no_listing(client, login, ref) -> None:
    created = upload(client, login(ALICE), ref).json()
    response = client.get(
        f"/api/v1/cases/{ref}/attachments/{created['id']}/listing", headers=login(ALICE)
    )
    assert response.status_code == 404


def test_a_zip_bomb_is_refused_for_its_compression_ratio(
    client, login, ref, settings, database
) -> None:
    bomb = zip_bytes({"zeros.bin": bytes(16 * 1024**2)})
    assert len(bomb) < 64 * 1024
    response = upload(client, login(ALICE), ref, bomb, name="logs.zip")
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "archive_refused"
    assert error["details"]["reason"] == "compression_ratio"
    assert "zeros.bin" in error["message"]
    assert stored_files(settings) == []
    assert rows(database) == 0


def test_a_zip_with_too_many_entries_is_refused(client_with, login, ref, settings) -> None:
    limited = client_with(archive_max_entries=50)
    crowded = zip_bytes({f"f{n}.txt": b"x" for n in range(51)})
    response = upload(limited, login(ALICE), ref, crowded, name="many.zip")
    assert response.status_code == 422
    assert response.json()["error"]["details"]["reason"] == "too_many_entries"
    assert stored_files(settings) == []
    fits = upload(limited, login(ALICE), ref, zip_bytes({"a": b"a"}), name="few.zip")
    assert fits.status_code == 201


def test_a_zip_inflating_past_the_total_limit_is_refused(client_with, login, ref) -> None:
    limited = client_with(archive_max_total_bytes=100_000)
    stored = zip_bytes({"a.bin": noise(60_000), "b.bin": noise(60_000)})
    response = upload(limited, login(ALICE), ref, stored, name="two.zip")
    assert response.status_code == 422
    assert response.json()["error"]["details"]["reason"] == "too_large_uncompressed"


@pytest.mark.parametrize(
    "content",
    [
        b"PK\x03\x04" + b"\x00" * 200,
        zip_bytes({"app.log": LOG * 50})[:-30],
    ],
    ids=["garbage", "truncated"],
)
def test_a_corrupt_zip_is_refused_as_unreadable(
    client, login, ref, settings, database, content
) -> None:
    response = upload(client, login(ALICE), ref, content, name="logs.zip")
    assert response.status_code == 422
    assert error_code(response) == "archive_unreadable"
    assert stored_files(settings) == []
    assert rows(database) == 0
