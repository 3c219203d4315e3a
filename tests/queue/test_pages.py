"""The engineer queue page: score order, live countdowns, who may see it, and its cost."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event, select

from critdesk.auth.models import User
from critdesk.queue.pages import queue_context
from critdesk.templating import countdown, sla_phase
from tests.auth.test_pages import open_web_session
from tests.case.test_api import ALICE, AM, ENG1, LEAD, report

NORTHWIND_OUTAGE = "PCH-000001"  # the demo's S1: reported 12 min before T0, due at T0 + 18 min


@pytest.fixture
def browse(client: Any, database: Any, clock: Any, demo: None) -> Callable[[str], str]:
    return lambda email: open_web_session(client, database, clock, email)


def rows(html: str) -> list[str]:
    return re.findall(r'<tr data-ref="(PCH-\d+)">', html)


def countdown_of(html: str, ref: str) -> dict[str, str]:
    row = html[html.index(f'<tr data-ref="{ref}">') :]
    found = re.search(
        r'<span class="countdown sla-(\w+)" data-countdown data-due="([^"]+)"\s+'
        r'data-warn="([^"]+)" data-stopped="(\w+)"[^>]*>([^<]*)</span>',
        row,
    )
    assert found, "no countdown in the row"
    phase, due, warn, stopped, text = found.groups()
    return {"phase": phase, "due": due, "warn": warn, "stopped": stopped, "text": text}


def test_the_queue_lists_open_cases_in_score_order(client, login, browse) -> None:
    browse(ENG1)
    page = client.get("/queue")
    assert page.status_code == 200
    api = client.get("/api/v1/queue", headers=login(ENG1)).json()["items"]
    assert rows(page.text) == [item["ref"] for item in api]
    assert rows(page.text)[0] == NORTHWIND_OUTAGE
    for item in api:
        assert f"<summary>{item['score']:g}</summary>" in page.text
        for part in item["explanation"]:
            assert f"<li>{part}</li>" in page.text
    assert "Northwind Insurance" in page.text and "Enterprise" in page.text


def test_a_new_outage_ranks_after_the_older_one_with_a_full_countdown(
    client, login, browse
) -> None:
    case = report(client, login(ALICE))
    browse(ENG1)
    page = client.get("/queue").text
    # Both S1 and waiting: the one that has used more of its SLA comes first.
    assert rows(page)[:2] == [NORTHWIND_OUTAGE, case["ref"]]
    assert countdown_of(page, case["ref"]) == {
        "phase": "ok",
        "due": "2026-11-25T10:30:00Z",
        "warn": "2026-11-25T10:22:30Z",
        "stopped": "false",
        "text": "30m 00s",
    }


def test_the_countdown_turns_amber_after_the_warning_and_red_once_due(
    client, clock, browse
) -> None:
    browse(ENG1)
    clock.advance(minutes=11)
    warned = countdown_of(client.get("/queue").text, NORTHWIND_OUTAGE)
    assert (warned["phase"], warned["text"]) == ("warn", "7m 00s")
    clock.advance(minutes=9)
    late = countdown_of(client.get("/queue").text, NORTHWIND_OUTAGE)
    assert (late["phase"], late["text"]) == ("breached", "overdue 2m 00s")


def test_a_started_case_shows_its_sla_met(client, login, clock, browse) -> None:
    clock.advance(minutes=5)
    started = client.post(
        f"/api/v1/cases/{NORTHWIND_OUTAGE}/actions/start_investigation", headers=login(ENG1)
    )
    assert started.status_code == 200
    browse(LEAD)
    stopped = countdown_of(client.get("/queue").text, NORTHWIND_OUTAGE)
    assert (stopped["phase"], stopped["stopped"], stopped["text"]) == ("met", "true", "met")


def test_only_engineers_and_leads_may_see_the_queue(client, browse) -> None:
    for email in (ALICE, AM):
        browse(email)
        for path in ("/queue", "/queue/rows"):
            response = client.get(path)
            assert response.status_code == 403, (email, path)
            assert "The queue is for engineers and leads." in response.text
            assert NORTHWIND_OUTAGE not in response.text


def test_the_refreshed_rows_are_the_table_body_alone(client, browse) -> None:
    browse(ENG1)
    response = client.get("/queue/rows")
    assert response.status_code == 200
    assert "<html" not in response.text and "<tbody" not in response.text
    assert rows(response.text) == rows(client.get("/queue").text)


def test_the_queue_context_holds_each_cases_score_and_explanation(database, clock, demo) -> None:
    with database.session() as db:
        engineer = db.scalar(select(User).where(User.email == ENG1))
        context = queue_context(db=db, viewer=engineer, now=clock.now, page=1)
    top = context["rows"][0]
    assert top["ref"] == NORTHWIND_OUTAGE
    assert top["package"] == "Enterprise"
    assert top["explanation"][0] == "S1 (+4000)"
    assert top["score"] > context["rows"][1]["score"]
    assert (context["page"], context["offset"], context["has_more"]) == (1, 0, False)


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (1800, "30m 00s"),
        (59.9, "0m 59s"),
        (3 * 3600 + 125, "3h 02m 05s"),
        (2 * 86400 + 3 * 3600 + 600, "2d 03h 10m"),
        (-130, "overdue 2m 10s"),
    ],
)
def test_the_countdown_format_matches_the_pages_script(seconds, text) -> None:
    assert countdown(seconds) == text


def test_the_sla_phase_follows_the_warning_and_the_due_time(clock) -> None:
    from datetime import timedelta

    now = clock.now
    running = {"status": "running", "warn_at": now + timedelta(minutes=1)}
    assert sla_phase(running, now) == "ok"
    assert sla_phase(running | {"warn_at": now}, now) == "warn"
    assert sla_phase({"status": "breached", "warn_at": now}, now) == "breached"
    assert sla_phase({"status": "met", "warn_at": now}, now) == "met"


@contextmanager
def counting_queries(database: Any) -> Iterator[list[str]]:
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    event.listen(database.engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(database.engine, "before_cursor_execute", count)


def test_the_queue_page_costs_the_same_queries_however_many_cases(
    client, login, database, browse
) -> None:
    browse(ENG1)
    with counting_queries(database) as few:
        assert client.get("/queue").status_code == 200
    alice = login(ALICE)
    for _ in range(8):
        report(client, alice)
    with counting_queries(database) as many:
        assert client.get("/queue").status_code == 200
    assert len(rows(client.get("/queue").text)) == 12
    assert len(many) == len(few), many
