"""Who is calling: a bearer token (API clients) or a session cookie (the web UI)."""

from __future__ import annotations

import hmac
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from critdesk.auth import service
from critdesk.auth.models import User
from critdesk.config import Settings
from critdesk.db import reads_before_writes
from critdesk.errors import Forbidden, NotAuthenticated
from critdesk.web import DbSession, Now

SESSION_COOKIE = "critdesk_session"
# Over HTTPS the cookie is "__Host-" prefixed: a browser then keeps it only when it is Secure,
# for path "/" and for this host alone (no Domain), so a sibling subdomain can neither plant
# nor overwrite a session.
SECURE_SESSION_COOKIE = "__Host-critdesk_session"
CSRF_HEADER = "x-csrf-token"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization")
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise NotAuthenticated("invalid_authorization", "use 'Authorization: Bearer <token>'")
    return token.strip()


def session_cookie_name(settings: Settings) -> str:
    return SECURE_SESSION_COOKIE if settings.secure_cookies else SESSION_COOKIE


def session_cookie(request: Request) -> str | None:
    """The session cookie's value, under the name this deployment uses."""
    return request.cookies.get(session_cookie_name(request.app.state.settings))


def current_user(request: Request, db: DbSession, now: Now) -> User:
    if request.method not in UNSAFE_METHODS:
        return _authenticate(request, db, now)
    # On SQLite a write request looks its caller up in a transaction of its own, a read: the
    # database-wide write lock is then taken by the route's first write, not held from here on
    # while the other dependencies and the route's own reads and rules run (nor, with handlers
    # on threads, across the hop to the route's thread). PostgreSQL locks rows, not the
    # database: there a second transaction would only cost a round trip, and the block just runs.
    with reads_before_writes(db):
        return _authenticate(request, db, now)


def _authenticate(request: Request, db: Session, now: datetime) -> User:
    token = _bearer(request)
    if token is not None:
        user = service.user_for_token(db=db, token=token, now=now)
        if user is None:
            raise NotAuthenticated("invalid_token", "the API token is unknown, revoked or expired")
        return user
    cookie = session_cookie(request)
    if cookie:
        found = service.session_for_cookie(db=db, cookie=cookie, now=now)
        if found is not None:
            user, web_session = found
            if request.method in UNSAFE_METHODS:
                sent = request.headers.get(CSRF_HEADER, "")
                if not hmac.compare_digest(sent, web_session.csrf_token):
                    raise Forbidden("csrf_failed", "missing or wrong CSRF token")
            request.state.csrf_token = web_session.csrf_token
            return user
    raise NotAuthenticated("not_authenticated", "authenticate with a bearer token")


CurrentUser = Annotated[User, Depends(current_user)]
