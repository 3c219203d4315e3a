"""Cookie flags: the session is HttpOnly and SameSite=Lax always; over HTTPS it is Secure
and ``__Host-`` prefixed (this host only, path /), and so is the login form's cookie."""

from __future__ import annotations

from http.cookies import SimpleCookie
from typing import Any

from fastapi.testclient import TestClient

from critdesk.app import create_app
from critdesk.auth.deps import SECURE_SESSION_COOKIE, SESSION_COOKIE
from tests.auth.test_pages import BROWSER, csrf_of, submit_login
from tests.case.test_api import ALICE


def set_cookies(response: Any) -> dict[str, Any]:
    """Each Set-Cookie of a response, by name, with its attributes."""
    found = {}
    for header in response.headers.get_list("set-cookie"):
        parsed = SimpleCookie()
        parsed.load(header)
        for name, morsel in parsed.items():
            found[name] = (morsel, header.lower())
    return found


def test_over_http_the_session_is_httponly_and_lax_but_not_secure(client, demo) -> None:
    response = submit_login(client, ALICE)
    assert response.status_code == 303
    morsel, raw = set_cookies(response)[SESSION_COOKIE]
    assert morsel["httponly"] and morsel["samesite"].lower() == "lax"
    assert morsel["path"] == "/" and not morsel["domain"]
    assert "secure" not in [part.strip() for part in raw.split(";")[1:]]


def test_over_https_the_session_is_secure_and_host_prefixed(settings, clock, database, demo):
    secure = settings.model_copy(update={"base_url": "https://desk.example"})
    app = create_app(secure, clock=clock, database=database)
    with TestClient(app, base_url="https://testserver") as client:
        client.headers.update(BROWSER)
        form = client.get("/login")
        login_cookie, raw_login = set_cookies(form)["__Host-critdesk_login"]
        assert login_cookie["secure"] and login_cookie["httponly"]
        assert login_cookie["path"] == "/" and not login_cookie["domain"]
        assert "samesite=strict" in raw_login

        data = {"email": ALICE, "password": "demo-password-123", "csrf_token": csrf_of(form.text)}
        response = client.post("/login", data=data, follow_redirects=False)
        assert response.status_code == 303, response.text
        cookies = set_cookies(response)
        assert SESSION_COOKIE not in cookies
        morsel, _raw = cookies[SECURE_SESSION_COOKIE]
        assert morsel["secure"] and morsel["httponly"]
        assert morsel["samesite"].lower() == "lax"
        assert morsel["path"] == "/" and not morsel["domain"]
        # The login cookie is dropped with the same flags (a browser ignores a __Host- cookie
        # set or deleted without them).
        dropped, raw_dropped = cookies["__Host-critdesk_login"]
        assert dropped["secure"] and dropped["path"] == "/" and "max-age=0" in raw_dropped

        # The prefixed session works, and the plain name is not accepted in its place.
        assert client.get("/cases").status_code == 200
        value = client.cookies.get(SECURE_SESSION_COOKIE)
        client.cookies.clear()
        client.cookies.set(SESSION_COOKIE, value)
        assert client.get("/cases", follow_redirects=False).status_code == 303


def test_logging_out_deletes_the_session_everywhere(client, database, demo) -> None:
    response = submit_login(client, ALICE)
    token = csrf_of(client.get(response.headers["location"]).text)
    cookie = client.cookies.get(SESSION_COOKIE)
    out = client.post("/logout", data={"csrf_token": token}, follow_redirects=False)
    assert out.status_code == 303
    morsel, raw = set_cookies(out)[SESSION_COOKIE]
    assert "max-age=0" in raw and morsel["httponly"]
    client.cookies.clear()
    client.cookies.set(SESSION_COOKIE, cookie)
    assert client.get("/cases", follow_redirects=False).status_code == 303
