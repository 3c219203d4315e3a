"""Tokens, the caller's profile, and login throttling."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update

from critdesk.auth.models import ApiToken, User
from critdesk.demo.service import DEMO_PASSWORD

ALICE = "alice@northwind.example"


def token_for(client, email: str, password: str = DEMO_PASSWORD):  # type: ignore[no-untyped-def]
    return client.post("/api/v1/auth/token", json={"email": email, "password": password})


def test_a_contact_exchanges_credentials_for_a_working_token(client, demo) -> None:
    response = token_for(client, "  Alice@Northwind.example ")
    assert response.status_code == 201
    token = response.json()["token"]
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).json()
    assert me["email"] == ALICE
    assert me["role"] == "customer_admin"
    org = me["organisation"]
    assert org["name"] == "Northwind Insurance"
    assert org["package"]["code"] == "enterprise"
    assert {(e["name"], e["type"], e["production"]) for e in org["environments"]} == {
        ("nw-prod", "cloud", True),
        ("nw-uat", "cloud", False),
    }


def test_vendor_staff_have_no_organisation(client, login) -> None:
    me = client.get("/api/v1/me", headers=login("eng1@vendor.example")).json()
    assert me["role"] == "engineer" and me["organisation"] is None


def test_tokens_are_stored_hashed(client, demo, database) -> None:
    token = token_for(client, ALICE).json()["token"]
    with database.session() as session:
        stored = session.query(ApiToken).one()
    assert token not in stored.token_hash and len(stored.token_hash) == 64


def test_a_wrong_password_is_401_and_the_sixth_try_is_throttled(client, demo, clock) -> None:
    for _ in range(5):
        response = token_for(client, ALICE, "wrong-password")
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "invalid_credentials"
    throttled = token_for(client, ALICE)  # even the right password waits
    assert throttled.status_code == 429
    assert int(throttled.headers["Retry-After"]) > 0
    clock.advance(minutes=16)
    assert token_for(client, ALICE).status_code == 201


def test_an_unknown_user_gets_the_same_answer_as_a_wrong_password(client, demo) -> None:
    response = token_for(client, "nobody@example.com")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_credentials"


def test_a_deactivated_user_cannot_log_in_nor_use_old_tokens(client, demo, database) -> None:
    token = token_for(client, ALICE).json()["token"]
    with database.session() as session:
        session.execute(update(User).where(User.email == ALICE).values(active=False))
    assert token_for(client, ALICE).status_code == 401
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 401


def test_an_expired_token_is_refused(client, demo, database, clock) -> None:
    token = token_for(client, ALICE).json()["token"]
    with database.session() as session:
        session.execute(update(ApiToken).values(expires_at=clock.now + timedelta(minutes=1)))
    clock.advance(minutes=2)
    response = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_token"


def test_a_malformed_authorization_header_is_401(client, demo) -> None:
    for header in ("Basic abc", "Bearer", "Bearer    "):
        response = client.get("/api/v1/me", headers={"Authorization": header})
        assert response.status_code == 401, header


def test_token_requests_validate_their_body(client, demo) -> None:
    assert client.post("/api/v1/auth/token", json={"email": ALICE}).status_code == 422
    assert client.post("/api/v1/auth/token", json=["x"]).status_code == 422
