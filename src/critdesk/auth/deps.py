"""Who is calling: a bearer token (API clients) or a session cookie (the web UI)."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, Request

from critdesk.auth import service
from critdesk.auth.models import User
from critdesk.errors import Forbidden, NotAuthenticated
from critdesk.web import DbSession, Now

SESSION_COOKIE = "critdesk_session"
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


def current_user(request: Request, db: DbSession, now: Now) -> User:
    token = _bearer(request)
    if token is not None:
        user = service.user_for_token(db=db, token=token, now=now)
        if user is None:
            raise NotAuthenticated("invalid_token", "the API token is unknown, revoked or expired")
        return user
    cookie = request.cookies.get(SESSION_COOKIE)
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
