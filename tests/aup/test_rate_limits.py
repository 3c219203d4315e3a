"""Rate limits on reporting and uploading: per organisation and per user, shared by every app
process through the database, refused with 429 and an exact Retry-After."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from critdesk.attachment.models import Attachment
from critdesk.audit.models import AuditEvent
from critdesk.aup import service as aup
from critdesk.aup.api import check_upload_rate
from critdesk.aup.models import RateEvent
from critdesk.case.models import Case, CaseEvent
from critdesk.config import Settings
from tests.case.test_api import ALICE, BOB, CAROL, env_id, outage

# Only the limit under test: the others are switched off explicitly.
OFF = {
    "rate_limit_cases_per_minute": 0,
    "rate_limit_cases_per_hour": 0,
    "rate_limit_user_cases_per_minute": 0,
    "rate_limit_user_cases_per_hour": 0,
    "rate_limit_uploads_per_minute": 0,
    "rate_limit_uploads_per_hour": 0,
    "rate_limit_user_uploads_per_minute": 0,
    "rate_limit_user_uploads_per_hour": 0,
}


def post_case(client: Any, headers: dict[str, str], **overrides: Any) -> Any:
    body = outage(env_id(client, headers, "nw-prod"), **overrides)
    return client.post("/api/v1/cases", headers=headers, json=body)


def counts(database: Any) -> dict[str, int]:
    with database.session(read_only=True) as db:
        return {
            model.__name__: int(db.scalar(select(func.count()).select_from(model)) or 0)
            for model in (Case, CaseEvent, AuditEvent, RateEvent, Attachment)
        }


def test_unset_limits_take_defaults_and_the_old_switch_turns_them_all_off() -> None:
    defaults = aup.case_limits(Settings(rate_limit_cases_per_minute=30))
    assert [(x.scope, x.count, x.window_seconds) for x in defaults.limits] == [
        ("organisation", 30, 60),
        ("organisation", 300, 3600),
        ("user", 10, 60),
        ("user", 60, 3600),
    ]
    assert not aup.case_limits(Settings(rate_limit_cases_per_minute=0)).enabled
    assert not aup.upload_limits(Settings(rate_limit_cases_per_minute=0)).enabled
    explicit = aup.upload_limits(Settings(rate_limit_cases_per_minute=0, **{
        "rate_limit_user_uploads_per_minute": 5}))  # fmt: skip
    assert [(x.scope, x.count) for x in explicit.limits] == [("user", 5)]


def test_the_organisation_limit_counts_every_contact_and_says_when_to_retry(
    instance, login, clock, database
) -> None:
    client = instance(**OFF | {"rate_limit_cases_per_minute": 2})
    alice, bob = login(ALICE), login(BOB)
    assert post_case(client, alice).status_code == 201
    clock.advance(seconds=20)
    assert post_case(client, bob).status_code == 201
    clock.advance(seconds=5)
    before = counts(database)
    refused = post_case(client, alice)
    assert refused.status_code == 429
    # The first case leaves the minute 60 s after it was reported, 35 s from now.
    assert refused.headers["Retry-After"] == "35"
    error = refused.json()["error"]
    assert error["code"] == "rate_limited"
    assert "2 cases reported per minute by your organisation" in error["message"]
    assert error["details"] == {
        "action": "case",
        "scope": "organisation",
        "limit": 2,
        "window_seconds": 60,
        "retry_after": 35,
    }
    assert counts(database) == before  # nothing written on refusal
    # Another organisation is not affected.
    carol = login(CAROL)
    carol_body = outage(env_id(client, carol, "ch-prod"))
    assert client.post("/api/v1/cases", headers=carol, json=carol_body).status_code == 201
    clock.advance(seconds=35)
    assert post_case(client, alice).status_code == 201


def test_the_user_limit_stops_one_contact_and_not_their_colleague(instance, login, clock) -> None:
    client = instance(**OFF | {"rate_limit_user_cases_per_hour": 2})
    alice = login(ALICE)
    assert post_case(client, alice).status_code == 201
    clock.advance(minutes=10)
    assert post_case(client, alice).status_code == 201
    clock.advance(minutes=10)
    refused = post_case(client, alice)
    assert refused.status_code == 429
    assert refused.headers["Retry-After"] == str(40 * 60)
    assert refused.json()["error"]["details"]["scope"] == "user"
    assert post_case(client, login(BOB)).status_code == 201


def test_a_replayed_request_is_not_counted_again(instance, login) -> None:
    client = instance(**OFF | {"rate_limit_user_cases_per_minute": 1})
    headers = login(ALICE) | {"Idempotency-Key": "same"}
    first = post_case(client, headers)
    again = post_case(client, headers)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.headers["Idempotent-Replayed"] == "true"


def test_two_app_processes_share_the_counters(instance, login, clock) -> None:
    limits = OFF | {"rate_limit_cases_per_minute": 3}
    one, two = instance(**limits), instance(**limits)
    alice, bob = login(ALICE), login(BOB)
    assert post_case(one, alice).status_code == 201
    assert post_case(two, bob).status_code == 201
    assert post_case(one, bob).status_code == 201
    refused = post_case(two, alice)
    assert refused.status_code == 429
    assert refused.headers["Retry-After"] == "60"
    assert post_case(one, alice).status_code == 429


def upload(client: Any, headers: dict[str, str], ref: str, content: bytes = b"log line\n") -> Any:
    return client.post(
        f"/api/v1/cases/{ref}/attachments",
        headers=headers,
        files={"file": ("server.log", content, "text/plain")},
    )


def test_uploads_over_the_limit_are_refused_before_the_body_is_stored(
    instance, login, clock, database, settings
) -> None:
    client = instance(**OFF | {"rate_limit_uploads_per_minute": 2})
    alice, bob = login(ALICE), login(BOB)
    ref = post_case(client, alice).json()["ref"]
    assert upload(client, alice, ref).status_code == 201
    clock.advance(seconds=30)
    assert upload(client, bob, ref).status_code == 201
    before = counts(database)
    stored = sorted((settings.data_dir / "attachments").rglob("*"))
    refused = upload(client, alice, ref, b"x" * 100_000)
    assert refused.status_code == 429
    assert refused.headers["Retry-After"] == "30"
    assert refused.json()["error"]["details"]["action"] == "upload"
    assert counts(database) == before
    assert sorted((settings.data_dir / "attachments").rglob("*")) == stored
    clock.advance(seconds=30)
    assert upload(client, alice, ref).status_code == 201


def test_the_last_upload_slot_taken_meanwhile_refuses_and_deletes_the_file(
    instance, login, database, settings
) -> None:
    """Two uploads both pass the early check; the one recorded second is refused and its
    already stored file is deleted with its rolled-back row."""
    client = instance(**OFF | {"rate_limit_user_uploads_per_minute": 1})
    alice = login(ALICE)
    ref = post_case(client, alice).json()["ref"]
    client.app.dependency_overrides[check_upload_rate] = lambda: None  # both pass the check
    assert upload(client, alice, ref).status_code == 201
    files = sorted(p for p in (settings.data_dir / "attachments").rglob("*") if p.is_file())
    refused = upload(client, alice, ref)
    assert refused.status_code == 429
    assert sorted(p for p in (settings.data_dir / "attachments").rglob("*") if p.is_file()) == (
        files
    )
    assert counts(database)["Attachment"] == 1
