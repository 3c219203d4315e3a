"""Files on the case page: the upload form streams through the API's receiver, says what it
stored, lists archives, keeps internal files from customers, and refuses clearly."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from critdesk.attachment.pages import FormFields
from critdesk.errors import Forbidden
from tests.attachment.conftest import (
    BOUNDARY,
    LOG,
    MULTIPART,
    multipart,
    noise,
    stored_files,
    zip_bytes,
)
from tests.auth.test_pages import open_web_session
from tests.case.test_api import ALICE, AM, CAROL, ENG1
from tests.case.test_pages import NORTHWIND_OUTAGE, flash

REF = NORTHWIND_OUTAGE


@pytest.fixture
def browse(client: Any, database: Any, clock: Any, demo: None) -> Callable[[str], str]:
    return lambda email: open_web_session(client, database, clock, email)


def upload(
    client: Any, token: str | None, name: str, content: bytes, ref: str = REF, **fields: str
) -> Any:
    data = ({"csrf_token": token} if token is not None else {}) | fields
    return client.post(
        f"/cases/{ref}/attachments",
        data=data,
        files={"file": (name, content, "application/octet-stream")},
        follow_redirects=False,
    )


def files(client: Any, login: Any, email: str = ENG1) -> list[dict[str, Any]]:
    return client.get(f"/api/v1/cases/{REF}/attachments", headers=login(email)).json()["items"]


def test_an_upload_says_what_was_stored_and_lists_the_file_with_its_download(
    client, login, browse, settings
) -> None:
    token = browse(ALICE)
    response = upload(client, token, "server.log", LOG)
    assert response.status_code == 303
    (stored,) = files(client, login)
    assert response.headers["location"] == f"/cases/{REF}#file-{stored['id']}"
    page = client.get(response.headers["location"]).text
    assert flash(page) == (
        "success",
        f"Uploaded server.log: {len(LOG)} bytes, log (text/plain), sha256 {stored['sha256'][:16]}…",
    )
    download = f"/api/v1/cases/{REF}/attachments/{stored['id']}"
    assert f'<a class="file-name" href="{download}" download>server.log</a>' in page
    assert f"<code>{stored['sha256']}</code>" in page
    assert client.get(download).content == LOG  # the API's route takes the session cookie
    assert len(stored_files(settings)) == 1


def test_an_archive_is_listed_in_an_expandable_listing(client, login, browse) -> None:
    archive = zip_bytes({"logs/runtime.log": LOG, "logs/nginx.log": noise(300)})
    upload(client, browse(ENG1), "logs.zip", archive)
    page = client.get(f"/cases/{REF}").text
    assert '<details class="listing">' in page
    assert "2 entries" in page
    assert "<td><code>logs/runtime.log</code></td>" in page


def test_an_engineers_internal_file_is_marked_and_never_shown_to_the_customer(
    client, login, browse
) -> None:
    response = upload(client, browse(ENG1), "repro.txt", b"internal repro\n", internal="true")
    assert "(internal: engineers only)" in flash(client.get(response.headers["location"]).text)[1]  # type: ignore[index]
    (stored,) = files(client, login)
    assert stored["internal"] is True
    browse(ALICE)
    customer = client.get(f"/cases/{REF}").text
    assert "repro.txt" not in customer and "Internal" not in customer
    assert client.get(f"/api/v1/cases/{REF}/attachments/{stored['id']}").status_code == 404


def test_a_customer_cannot_upload_an_internal_file(client, login, browse, settings) -> None:
    token = browse(ALICE)
    page = client.get(f"/cases/{REF}").text
    assert 'name="internal"' not in page
    response = upload(client, token, "x.log", LOG, internal="true")
    assert flash(client.get(response.headers["location"]).text) == (
        "error",
        "Only engineers may attach internal files.",
    )
    assert files(client, login) == [] and stored_files(settings) == []


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("empty.log", b"", "The file is empty."),
        ("", b"", "Choose a file to upload."),
        ("bomb.zip", zip_bytes({"zeros.bin": bytes(16 * 1024**2)}), "the limit is 200:1"),
    ],
    ids=["empty", "none-chosen", "zip-bomb"],
)
def test_a_refused_upload_is_a_message_and_leaves_nothing(
    client, login, browse, settings, name, content, message
) -> None:
    response = upload(client, browse(ALICE), name, content)
    assert response.headers["location"] == f"/cases/{REF}#files"
    kind, text = flash(client.get(response.headers["location"]).text)  # type: ignore[misc]
    assert kind == "error" and message in text, text
    assert files(client, login) == [] and stored_files(settings) == []


@pytest.fixture
def small_limit(client_with: Any, database: Any, clock: Any, demo: None) -> Iterator[Any]:
    client = client_with(max_upload_bytes=64 * 1024)
    yield client


def test_a_file_over_the_limit_is_refused_while_it_streams(
    small_limit, login, database, clock, settings
) -> None:
    client = small_limit
    token = open_web_session(client, database, clock, ALICE)
    body = multipart(
        (b'name="csrf_token"', token.encode()),
        (b'name="file"; filename="huge.log"', noise(200 * 1024)),
    )

    def chunks() -> Iterator[bytes]:
        # Without a Content-Length: only the streaming count can stop it.
        for start in range(0, len(body), 16 * 1024):
            yield body[start : start + 16 * 1024]

    response = client.post(
        f"/cases/{REF}/attachments", content=chunks(), headers=MULTIPART, follow_redirects=False
    )
    assert response.status_code == 303
    kind, text = flash(client.get(response.headers["location"]).text)  # type: ignore[misc]
    assert kind == "error" and "over the 65536-byte limit" in text
    assert stored_files(settings) == []
    assert client.get(f"/api/v1/cases/{REF}/attachments", headers=login(ENG1)).json() == {
        "items": [],
        "next_cursor": None,
    }


def test_the_form_is_checked_before_a_byte_of_the_file_is_stored(
    client, login, browse, settings
) -> None:
    browse(ALICE)
    for token in (None, "forged"):
        response = upload(client, token, "x.log", LOG)
        assert response.status_code == 403
        assert "out of date or came from elsewhere" in response.text
    # A token sent after the file is too late: the page's fields come first.
    real = browse(ALICE)
    late = multipart((b'name="file"; filename="x.log"', LOG), (b'name="csrf_token"', real.encode()))
    response = client.post(f"/cases/{REF}/attachments", content=late, headers=MULTIPART)
    assert response.status_code == 403
    assert files(client, login) == [] and stored_files(settings) == []


def test_another_organisations_case_is_not_found_and_account_managers_only_read(
    client, browse, settings
) -> None:
    assert upload(client, browse(CAROL), "x.log", LOG).status_code == 404
    response = upload(client, browse(AM), "x.log", LOG)
    assert response.status_code == 403
    assert "may read a case&#39;s files but not add them" in response.text
    assert 'action="/cases/PCH-000001/attachments"' not in client.get(f"/cases/{REF}").text
    assert stored_files(settings) == []


def test_the_form_reader_stops_where_the_file_begins() -> None:
    checked: list[dict[str, str]] = []
    reader = FormFields(
        MULTIPART["Content-Type"], "tok", check=lambda f: checked.append(dict(f.values))
    )
    body = multipart(
        (b'name="csrf_token"', b"tok"),
        (b'name="message"', "Voilà".encode()),
        (b'name="file"; filename="a.log"', LOG * 100),
        (b'name="after"', b"ignored"),
    )
    for start in range(0, len(body), 7):
        reader.feed(body[start : start + 7])
    assert reader.values == {"csrf_token": "tok", "message": "Voilà"}
    assert (reader.filename, reader.get("message"), checked) == (
        "a.log",
        "Voilà",
        [{"csrf_token": "tok", "message": "Voilà"}],
    )
    wrong = FormFields(f"multipart/form-data; boundary={BOUNDARY}", "other")
    with pytest.raises(Forbidden):
        wrong.feed(body)
