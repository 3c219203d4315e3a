"""The queue over real data: order, explanation, paging, and who may read it."""

from __future__ import annotations

import pytest
from sqlalchemy import select, update

from critdesk.auth.models import User
from critdesk.case.schemas import QueuePage
from critdesk.package.models import SupportPackage
from critdesk.queue import service
from tests.case.test_actions import act
from tests.case.test_api import ALICE, BOB, CAROL, DAN, ENG1, report


def refs(client, headers, **params) -> list[str]:  # type: ignore[no-untyped-def]
    body = client.get("/api/v1/queue", headers=headers, params=params).json()
    return [item["ref"] for item in body["items"]]


def walk(client, headers, limit: int) -> list[str]:  # type: ignore[no-untyped-def]
    """Every ref of the queue, page by page, following ``next_cursor``."""
    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": limit} | ({"cursor": cursor} if cursor else {})
        body = client.get("/api/v1/queue", headers=headers, params=params).json()
        seen += [item["ref"] for item in body["items"]]
        if (cursor := body["next_cursor"]) is None:
            return seen


def test_it_orders_by_severity_then_urgency_then_package(client, login, clock) -> None:
    eng = login(ENG1)
    before = set(refs(client, eng, limit=200))
    s2_fabrikam = report(client, login(DAN), env="fr-prod", breadth="end_users")["ref"]
    s1_contoso = report(client, login(CAROL), env="ch-prod")["ref"]
    s1_northwind = report(client, login(ALICE))["ref"]
    s4_uat = report(client, login(BOB), env="nw-uat")["ref"]
    clock.advance(minutes=20)
    ours = [r for r in refs(client, eng, limit=200) if r not in before]
    # Northwind's S1 has used 20 of its 30 minutes; Contoso's 20 of 240.
    assert ours == [s1_northwind, s1_contoso, s2_fabrikam, s4_uat]


def test_each_item_carries_its_score_and_explanation(client, login, clock) -> None:
    ref = report(client, login(ALICE))["ref"]
    clock.advance(minutes=15)
    item = next(
        i
        for i in client.get("/api/v1/queue", headers=login(ENG1)).json()["items"]
        if i["ref"] == ref
    )
    assert item["score"] == 4000 + 300 + 100 + 60
    assert item["explanation"][2] == "50% of the 30m start-investigating target used (+100)"
    assert item["sla"]["status"] == "running"


def test_a_breached_case_jumps_ahead_of_its_severity(client, login, clock) -> None:
    early = report(client, login(CAROL), env="ch-prod")["ref"]  # S1, 4 h business target
    clock.advance(hours=1)
    late = report(client, login(ALICE))["ref"]  # S1, 30 min target
    clock.advance(minutes=31)
    order = refs(client, login(ENG1), limit=200)
    assert order.index(late) < order.index(early)
    item = client.get("/api/v1/queue", headers=login(ENG1)).json()["items"][order.index(late)]
    assert "SLA breached (+300)" in item["explanation"]


def test_cases_under_investigation_follow_waiting_ones(client, login) -> None:
    eng = login(ENG1)
    worked = report(client, login(ALICE))["ref"]
    act(client, eng, worked, "start_investigation")
    waiting = report(client, login(ALICE), breadth="particular_circumstance")["ref"]  # S3
    order = refs(client, eng, limit=200)
    assert order.index(waiting) > order.index(worked)  # severity first: S1 before S3
    s1_waiting = report(client, login(ALICE))["ref"]
    order = refs(client, eng, limit=200)
    assert order.index(s1_waiting) < order.index(worked)


def test_closed_and_redirected_cases_leave_the_queue(client, login) -> None:
    eng = login(ENG1)
    ref = report(client, login(ALICE))["ref"]
    act(client, eng, ref, "redirect", {"target": "community_forum", "message": "ask there"})
    assert ref not in refs(client, eng, limit=200)


def test_paging_walks_the_whole_queue_without_repeats(client, login) -> None:
    eng = login(ENG1)
    for _ in range(5):
        report(client, login(ALICE))
    seen = walk(client, eng, limit=2)
    assert len(seen) == len(set(seen)) == len(refs(client, eng, limit=200))


def test_a_bad_cursor_or_limit_is_a_clear_4xx(client, login) -> None:
    eng = login(ENG1)
    assert client.get("/api/v1/queue?limit=0", headers=eng).status_code == 422
    assert client.get("/api/v1/queue?limit=201", headers=eng).status_code == 422
    bad = client.get("/api/v1/queue?cursor=%%%", headers=eng)
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "invalid_cursor"


def test_the_answer_is_exactly_what_its_documented_model_says(client, login, clock) -> None:
    """The queue's items are serialised from their views without a model in between: every
    field of QueuePage is there (nulls included), nothing else is, in the model's formats."""
    ref = report(client, login(ALICE))["ref"]
    eng = login(ENG1)
    act(client, eng, ref, "assign", {"engineer": ENG1})
    act(client, eng, ref, "start_investigation")  # an owner, a stopped clock
    body = client.get("/api/v1/queue", headers=eng, params={"limit": 200}).json()
    assert any(i["ref"] == ref and i["sla"]["met_at"] for i in body["items"])
    assert any(i["owner"] is None and i["sla"]["met_at"] is None for i in body["items"])
    assert body == QueuePage.model_validate(body).model_dump(mode="json")


def _mixed_queue(client, login, clock) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """Cases of every package, group and urgency: Contoso's S1s (Business) past due, Northwind's
    (Enterprise, the heaviest package) fresh, one of them being worked, Fabrikam's S2."""
    eng = login(ENG1)
    carol, alice, dan = login(CAROL), login(ALICE), login(DAN)
    contoso = [report(client, carol, env="ch-prod")["ref"] for _ in range(2)]
    clock.advance(hours=5)  # Contoso's 4 business hours are used up
    northwind = []
    for _ in range(3):
        northwind.append(report(client, alice)["ref"])
        clock.advance(minutes=4)
    act(client, eng, northwind[0], "start_investigation")
    report(client, dan, env="fr-prod", breadth="end_users")
    return {"contoso": contoso[0], "worked": northwind[0], "fresh": northwind[-1]}


def test_every_page_size_gives_the_head_of_the_whole_queue(client, login, clock) -> None:
    """A short page leaves unread the slices whose best case cannot reach it: whatever the
    page size, the page is the head of the whole queue, best score first."""
    _mixed_queue(client, login, clock)
    eng = login(ENG1)
    body = client.get("/api/v1/queue", headers=eng, params={"limit": 200}).json()
    whole = [item["ref"] for item in body["items"]]
    scores = [item["score"] for item in body["items"]]
    assert scores == sorted(scores, reverse=True)
    for size in range(1, len(whole) + 1):
        assert refs(client, eng, limit=size) == whole[:size]
    assert walk(client, eng, limit=3) == whole


def test_a_slice_that_cannot_reach_the_page_is_not_read(client, login, clock, database) -> None:
    from tests.queue.test_pages import counting_queries

    mixed = _mixed_queue(client, login, clock)
    eng = login(ENG1)

    def candidate_reads(limit: int) -> tuple[list[str], int]:
        with counting_queries(database) as statements:
            order = refs(client, eng, limit=limit)
        return order, sum("cases.queue_group =" in s for s in statements)

    # The demo's Northwind outage, long past due, leads: Contoso's overdue S1s (a lighter
    # package) cannot beat it, so one read (Northwind's waiting cases and each other slice's
    # best) is all a one-case page takes.
    top, reads = candidate_reads(1)
    assert top == ["PCH-000001"] and reads == 1
    # Two cases: Northwind's second best (a fresh S1) is beaten by Contoso's overdue ones, whose
    # slice is then read.
    top, reads = candidate_reads(2)
    assert top == ["PCH-000001", mixed["contoso"]] and reads == 2


@pytest.mark.parametrize("first_guess", ["right", "wrong"])
@pytest.mark.parametrize(("limit", "offsets"), [(1, (0, 1, 9)), (7, (0, 7, 300)), (50, (0, 50))])
def test_pages_equal_a_brute_force_over_every_open_case(  # type: ignore[no-untyped-def]
    database, clock, demo, limit, offsets, first_guess
):
    """The bench's data set in small (every package, severity and group; clocks running, past
    due and stopped), each page against every open case scored by the rules, no shortcuts.

    The first read takes in full the slice of the package weighing most now; "wrong" lowers
    Enterprise's weight after its cases were scored with it, so that slice is Premium's and
    the leading cases come from the slices read second."""
    from bench import dataset
    from bench.checks import brute_force_queue

    dataset.fill(database.engine, target_open=900, now=clock.now, per_package=1)
    if first_guess == "wrong":
        with database.session() as db:
            db.execute(
                update(SupportPackage)
                .where(SupportPackage.name == "Enterprise")
                .values(queue_weight=0.5)
            )
    with database.session(read_only=True) as db:
        engineer = db.scalar(select(User).where(User.email == ENG1))
        for offset in offsets:
            page = service.queue(db=db, viewer=engineer, now=clock.now, limit=limit, offset=offset)
            got = [(entry.case.ref, entry.score.value) for entry in page]
            expected = brute_force_queue(database.engine, clock.now, offset + limit)[offset:]
            assert got == expected, (offset, got[:3], expected[:3])
