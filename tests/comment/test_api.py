"""The conversation: comments for both sides, internal notes for the vendor only."""

from __future__ import annotations

from tests.case.test_api import ALICE, AM, BOB, ENG1, report


def post(client, headers, ref, **body):  # type: ignore[no-untyped-def]
    return client.post(f"/api/v1/cases/{ref}/comments", headers=headers, json=body)


def test_a_customer_never_sees_an_internal_note_anywhere(client, login) -> None:
    ref = report(client, login(ALICE))["ref"]
    eng, bob = login(ENG1), login(BOB)
    assert (
        post(client, eng, ref, body="Looks like the 10.4.2 pool leak.", internal=True).status_code
        == 201
    )
    assert post(client, eng, ref, body="We are looking into it.").status_code == 201
    assert post(client, bob, ref, body="Thanks!").status_code == 201
    seen = client.get(f"/api/v1/cases/{ref}/comments", headers=bob).json()["items"]
    assert [c["body"] for c in seen] == ["We are looking into it.", "Thanks!"]
    timeline = client.get(f"/api/v1/cases/{ref}", headers=bob).json()["timeline"]
    assert all("pool leak" not in (e["message"] or "") for e in timeline)
    staff = client.get(f"/api/v1/cases/{ref}/comments", headers=eng).json()["items"]
    assert [c["internal"] for c in staff] == [True, False, False]


def test_customers_cannot_write_internal_notes(client, login) -> None:
    ref = report(client, login(ALICE))["ref"]
    response = post(client, login(BOB), ref, body="secret", internal=True)
    assert response.status_code == 403


def test_an_account_manager_may_leave_internal_notes_only(client, login) -> None:
    ref = report(client, login(ALICE))["ref"]
    assert (
        post(client, login(AM), ref, body="Renewal talks next week", internal=True).status_code
        == 201
    )
    assert post(client, login(AM), ref, body="Hello customer").status_code == 403


def test_comments_page_with_a_cursor(client, login) -> None:
    ref = report(client, login(ALICE))["ref"]
    for n in range(5):
        post(client, login(ENG1), ref, body=f"update {n}")
    first = client.get(f"/api/v1/cases/{ref}/comments?limit=2", headers=login(BOB)).json()
    second = client.get(
        f"/api/v1/cases/{ref}/comments?limit=2&cursor={first['next_cursor']}", headers=login(BOB)
    ).json()
    assert [c["body"] for c in first["items"] + second["items"]] == [
        "update 0",
        "update 1",
        "update 2",
        "update 3",
    ]


def test_empty_or_oversized_comments_are_refused(client, login) -> None:
    ref = report(client, login(ALICE))["ref"]
    assert post(client, login(BOB), ref, body="   ").status_code == 422
    assert post(client, login(BOB), ref, body="x" * 50_001).status_code == 422
    assert post(client, login(BOB), ref, text="wrong field").status_code == 422
