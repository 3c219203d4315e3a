"""Logging in and out of the web pages: sessions, throttling, CSRF, and where people land."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from critdesk.app import create_app
from critdesk.auth import service as auth
from critdesk.auth.deps import SESSION_COOKIE
from critdesk.auth.models import User
from critdesk.auth.pages import safe_next
from critdesk.demo.service import DEMO_PASSWORD

PASSWORD = DEMO_PASSWORD
ALICE = "alice@northwind.example"
ENG1 = "eng1@vendor.example"
AM = "am@vendor.example"
# What a browser sends when it navigates: errors come back as pages in the layout.
BROWSER = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(html: str) -> str:
    found = _CSRF.search(html)
    assert found, "no CSRF token on the page"
    return found.group(1)


def submit_login(client: Any, email: str, password: str = PASSWORD, **extra: str) -> Any:
    client.headers.update(BROWSER)
    token = csrf_of(client.get("/login").text)
    data = {"email": email, "password": password, "csrf_token": token} | extra
    return client.post("/login", data=data, follow_redirects=False)


def browse_as(client: Any, email: str) -> str:
    """Logs the client in through the form, as a browser would; returns the session's token."""
    client.cookies.clear()
    response = submit_login(client, email)
    assert response.status_code == 303, response.text
    return csrf_of(client.get(response.headers["location"]).text)


def open_web_session(client: Any, database: Any, clock: Any, email: str) -> str:
    """Logs the client in as the login page would, without verifying the password again
    (the login tests here do that); returns the session's CSRF token."""
    with database.session() as db:
        user = db.scalar(select(User).where(User.email == email))
        cookie, csrf = auth.open_session(
            db=db, user=user, now=clock.now, lifetime=timedelta(hours=12)
        )
    client.cookies.clear()
    client.cookies.set(SESSION_COOKIE, cookie)
    client.headers.update(BROWSER)
    return csrf


@pytest.fixture
def browse(client: Any, database: Any, clock: Any, demo: None) -> Callable[[str], str]:
    return lambda email: open_web_session(client, database, clock, email)


def test_a_visitor_is_sent_to_log_in_and_then_to_the_page_asked_for(client, demo) -> None:
    client.headers.update(BROWSER)
    response = client.get("/cases?state=new", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/cases%3Fstate%3Dnew"
    form = client.get(response.headers["location"])
    assert 'name="next" value="/cases?state=new"' in form.text
    logged_in = submit_login(client, ALICE, next="/cases?state=new")
    assert logged_in.status_code == 303
    assert logged_in.headers["location"] == "/cases?state=new"


def test_every_page_needs_a_session(client, demo) -> None:
    for path in ("/", "/queue", "/queue/rows", "/cases", "/cases/new", "/cases/PCH-000001"):
        response = client.get(path, headers=BROWSER, follow_redirects=False)
        assert response.status_code == 303, path
        assert response.headers["location"].startswith("/login"), path


def test_the_session_cookie_is_http_only_same_site_and_scoped_to_the_site(client, demo) -> None:
    response = submit_login(client, ALICE)
    cookie = next(
        value
        for name, value in response.headers.multi_items()
        if name == "set-cookie" and value.startswith("critdesk_session=")
    )
    attributes = {part.strip().split("=")[0].lower() for part in cookie.split(";")}
    assert {"httponly", "path", "samesite"} <= attributes
    assert "samesite=lax" in cookie.lower() and "path=/" in cookie.lower()
    assert "secure" not in attributes  # plain http in the tests


def test_the_session_cookie_is_secure_behind_https(settings, clock, database, demo) -> None:
    https = settings.model_copy(update={"base_url": "https://desk.example"})
    with TestClient(create_app(https, clock=clock, database=database)) as client:
        response = submit_login(client, ALICE)
    assert "secure" in response.headers["set-cookie"].lower()


def test_a_wrong_password_shows_the_form_again_with_the_email_kept(client, demo) -> None:
    response = submit_login(client, ALICE, password="not-it")
    assert response.status_code == 200
    assert "That e-mail address or password is wrong." in response.text
    assert f'value="{ALICE}"' in response.text
    assert "critdesk_session" not in response.headers.get("set-cookie", "")


def test_the_sixth_wrong_password_is_throttled_with_a_clear_message(client, demo) -> None:
    for _ in range(5):
        assert submit_login(client, ALICE, password="guess").status_code == 200
    throttled = submit_login(client, ALICE, password="guess")
    assert throttled.status_code == 429
    assert "Too many failed attempts for this account" in throttled.text
    assert int(throttled.headers["retry-after"]) > 0
    # Even the right password waits: the throttle is per account.
    assert submit_login(client, ALICE).status_code == 429


def test_a_login_post_without_the_form_token_is_refused(client, demo) -> None:
    client.headers.update(BROWSER)
    response = client.post(
        "/login", data={"email": ALICE, "password": PASSWORD}, follow_redirects=False
    )
    assert response.status_code == 403
    assert "critdesk_session" not in response.headers.get("set-cookie", "")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("/cases/PCH-000001", "/cases/PCH-000001"),
        ("/cases?state=new", "/cases?state=new"),
        ("//evil.example/", None),
        ("https://evil.example/", None),
        ("/\\evil.example", None),
        ("javascript:alert(1)", None),
        ("/cases\r\nSet-Cookie: x=1", None),
        ("", None),
    ],
)
def test_only_a_local_path_may_be_returned_to(value, expected) -> None:
    assert safe_next(value) == expected


def test_logging_in_with_a_foreign_next_lands_on_the_home_page(client, demo) -> None:
    response = submit_login(client, ALICE, next="https://evil.example/")
    assert response.headers["location"] == "/cases"


def test_logging_out_needs_the_token_and_ends_the_session(client, demo) -> None:
    token = browse_as(client, ALICE)
    refused = client.post("/logout", follow_redirects=False)
    assert refused.status_code == 403
    assert client.get("/cases", follow_redirects=False).status_code == 200
    cookie = client.cookies.get("critdesk_session")
    response = client.post("/logout", data={"csrf_token": token}, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login"
    # The session is gone from the database, not only from this browser.
    client.cookies.set("critdesk_session", cookie)
    assert client.get("/cases", follow_redirects=False).status_code == 303


def test_the_home_page_sends_each_role_to_its_start(client, browse) -> None:
    client.headers.update(BROWSER)
    assert client.get("/", follow_redirects=False).headers["location"] == "/login"
    for email, home in ((ALICE, "/cases"), (ENG1, "/queue"), (AM, "/cases")):
        browse(email)
        response = client.get("/", follow_redirects=False)
        assert (response.status_code, response.headers["location"]) == (303, home), email


def test_the_layout_shows_who_is_logged_in_and_their_time_zone(client, browse) -> None:
    browse(ENG1)
    page = client.get("/queue").text
    assert "Eli Engineer" in page and "Engineer" in page
    assert "Times in Europe/London" in page
    browse(ALICE)
    page = client.get("/cases").text
    assert "Alice Northwind" in page and "Northwind Insurance" in page
    assert "Times in UTC" in page  # the Enterprise package's calendar


def test_errors_are_pages_for_browsers_and_json_for_the_api(client, demo) -> None:
    page = client.get("/no-such-page", headers=BROWSER)
    assert page.status_code == 404
    assert page.headers["content-type"].startswith("text/html")
    assert "Not found" in page.text
    api = client.get("/api/v1/cases/PCH-000001", headers=BROWSER)
    assert api.status_code == 401
    assert api.json()["error"]["code"] == "not_authenticated"
    plain = client.get("/no-such-page")
    assert plain.json()["error"]["code"] == "not_found"
