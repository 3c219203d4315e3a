"""Authentication use cases: log in, issue and resolve API tokens and web sessions."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import bindparam, delete, func, select
from sqlalchemy.orm import Session

from critdesk.audit import service as audit
from critdesk.auth.models import ROLES, ApiToken, LoginFailure, User, WebSession
from critdesk.auth.passwords import hash_password, verify_password
from critdesk.errors import Invalid, RateLimited

TOKEN_PREFIX = "cdk_"


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def normalise_email(email: str) -> str:
    return email.strip().lower()


def check_throttle(
    *, db: Session, email: str, now: datetime, max_failures: int, window: timedelta
) -> None:
    """Refuses further attempts on an account with too many recent failures (429)."""
    recent = db.scalar(
        select(func.count())
        .select_from(LoginFailure)
        .where(LoginFailure.email == normalise_email(email), LoginFailure.at > now - window)
    )
    if recent is not None and recent >= max_failures:
        raise RateLimited(
            "too many failed logins for this account; try again later",
            retry_after=int(window.total_seconds()),
        )


def verify_credentials(*, db: Session, email: str, password: str) -> User | None:
    user = db.scalar(select(User).where(User.email == normalise_email(email)))
    if user is None or not user.active or not verify_password(user.password_hash, password):
        return None
    db.execute(delete(LoginFailure).where(LoginFailure.email == user.email))
    return user


def login(
    *,
    db: Session,
    email: str,
    password: str,
    now: datetime,
    remote_addr: str | None,
    max_failures: int,
    window: timedelta,
) -> User | None:
    """The user with these credentials, or None after recording the failed attempt.

    A refusal is returned rather than raised so that the caller's unit of work commits the
    failure record: throttling counts attempts that the request itself refused.
    """
    check_throttle(db=db, email=email, now=now, max_failures=max_failures, window=window)
    user = verify_credentials(db=db, email=email, password=password)
    if user is None:
        db.add(LoginFailure(email=normalise_email(email), remote_addr=remote_addr, at=now))
    return user


def issue_token(*, db: Session, user: User, name: str, now: datetime) -> str:
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    db.add(ApiToken(user_id=user.id, token_hash=_digest(token), name=name, created_at=now))
    audit.record(
        db=db,
        at=now,
        actor_id=user.id,
        action="token.created",
        object_type="user",
        object_id=user.id,
        organisation_id=user.organisation_id,
        data={"name": name},
    )
    return token


# Built once, as every request runs one of them: the compiled form is found without keying anew.
_TOKEN_USER = (
    select(User, ApiToken.expires_at)
    .join(ApiToken, ApiToken.user_id == User.id)
    .where(ApiToken.token_hash == bindparam("token_hash"), ApiToken.revoked_at.is_(None))
)


def user_for_token(*, db: Session, token: str, now: datetime) -> User | None:
    # The token's expiry as a plain column: every request runs this, and an ApiToken object
    # in the session is one more instance to build and track for nothing.
    row = db.execute(_TOKEN_USER, {"token_hash": _digest(token)}).first()
    if row is None:
        return None
    user, expires_at = row
    if not user.active or (expires_at is not None and expires_at <= now):
        return None
    return user


def open_session(*, db: Session, user: User, now: datetime, lifetime: timedelta) -> tuple[str, str]:
    """A new web session; returns (cookie value, CSRF token)."""
    token = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(32)
    db.add(
        WebSession(
            user_id=user.id,
            token_hash=_digest(token),
            csrf_token=csrf,
            created_at=now,
            expires_at=now + lifetime,
        )
    )
    return token, csrf


_COOKIE_USER = (
    select(User, WebSession)
    .join(WebSession, WebSession.user_id == User.id)
    .where(
        WebSession.token_hash == bindparam("token_hash"),
        WebSession.expires_at > bindparam("now", type_=WebSession.expires_at.type),
    )
)


def session_for_cookie(
    *, db: Session, cookie: str, now: datetime
) -> tuple[User, WebSession] | None:
    row = db.execute(_COOKIE_USER, {"token_hash": _digest(cookie), "now": now}).first()
    if row is None or not row[0].active:
        return None
    return row[0], row[1]


def close_session(*, db: Session, cookie: str) -> None:
    db.execute(delete(WebSession).where(WebSession.token_hash == _digest(cookie)))


def create_user(
    *,
    db: Session,
    email: str,
    name: str,
    role: str,
    password: str | None,
    organisation_id: int | None,
    now: datetime,
    actor_id: int | None = None,
    phone: str | None = None,
    demo: bool = False,
    password_hash: str | None = None,
) -> User:
    if role not in ROLES:
        raise Invalid("invalid_role", f"role must be one of: {', '.join(ROLES)}")
    customer = role in ("customer", "customer_admin")
    if customer and organisation_id is None:
        raise Invalid("organisation_required", "a customer belongs to an organisation")
    if not customer and organisation_id is not None:
        raise Invalid("organisation_not_allowed", "vendor staff belong to no organisation")
    email = normalise_email(email)
    if db.scalar(select(User.id).where(User.email == email)) is not None:
        raise Invalid("email_taken", f"a user with e-mail {email} already exists")
    user = User(
        email=email,
        name=name,
        role=role,
        organisation_id=organisation_id,
        phone=phone,
        password_hash=password_hash or (hash_password(password) if password else None),
        demo=demo,
        created_at=now,
    )
    db.add(user)
    db.flush()
    audit.record(
        db=db,
        at=now,
        actor_id=actor_id,
        action="user.created",
        object_type="user",
        object_id=user.id,
        organisation_id=organisation_id,
        data={"email": email, "role": role},
    )
    return user
