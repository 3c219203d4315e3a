"""The access log page: a customer admin sees who at the vendor read their cases, filtered by
case and by day; nobody else's, and plain customers not at all."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from critdesk.audit import access
from critdesk.audit.pages import access_log_context
from critdesk.auth.models import User
from critdesk.case.service import get_case
from tests.auth.test_pages import open_web_session
from tests.case.test_api import ALICE, BOB, CAROL, ENG1, LEAD
from tests.case.test_pages import CONTOSO_SLOW, NORTHWIND_OUTAGE, NORTHWIND_UAT

ADMIN = "admin@vendor.example"


@pytest.fixture
def browse(client: Any, database: Any, clock: Any, demo: None) -> Callable[[str], str]:
    return lambda email: open_web_session(client, database, clock, email)


def rows(html: str) -> list[tuple[str, str, str]]:
    """(who, what, case) of each row of the table."""
    found = re.findall(
        r'<tr data-id="\d+">.*?<td>([^<]+)<span class="sub">.*?<td>([^<]+)</td>\s*'
        r'<td>(?:<a class="ref" href="/cases/[^"]+">([^<]+)</a>)?</td>',
        html,
        flags=re.S,
    )
    return [(who.strip(), what.strip(), case) for who, what, case in found]


def page(client: Any, **params: str) -> str:
    response = client.get("/access-log", params=params)
    assert response.status_code == 200, response.text
    return str(response.text)


def test_the_customers_admin_sees_the_engineers_reads_of_their_cases(client, browse, clock) -> None:
    browse(ENG1)
    assert client.get(f"/cases/{NORTHWIND_OUTAGE}").status_code == 200
    assert client.get(f"/cases/{CONTOSO_SLOW}").status_code == 200
    clock.advance(minutes=5)
    browse(LEAD)
    assert client.get(f"/cases/{NORTHWIND_UAT}/log-analyses").status_code == 200
    browse(ALICE)
    html = page(client)
    assert 'href="/access-log" aria-current="page">Access log</a>' in html
    assert rows(html) == [
        ("Lee Lead", "viewed the log analysis", NORTHWIND_UAT),
        ("Eli Engineer", "viewed the case", NORTHWIND_OUTAGE),
    ]
    assert "Engineer" in html and "25 Nov 10:05" in html
    assert rows(page(client, case=NORTHWIND_OUTAGE)) == [
        ("Eli Engineer", "viewed the case", NORTHWIND_OUTAGE)
    ]


def test_days_filter_in_the_viewers_time_zone(client, browse, clock) -> None:
    browse(ENG1)
    client.get(f"/cases/{NORTHWIND_OUTAGE}")
    clock.advance(days=1)
    browse(ENG1)  # a new day, a new session
    assert client.get(f"/cases/{NORTHWIND_UAT}").status_code == 200
    browse(ALICE)
    assert [r[2] for r in rows(page(client, **{"from": "2026-11-26"}))] == [NORTHWIND_UAT]
    assert [r[2] for r in rows(page(client, to="2026-11-25"))] == [NORTHWIND_OUTAGE]
    for bad, message in (
        ({"from": "not a day"}, "From: enter a date."),
        ({"to": "9999-12-31"}, "To: enter a date between 1900 and 9000."),
        ({"case": "PCH-x"}, "A case ref looks like PCH-000123."),
    ):
        html = page(client, **bad)
        assert message in html
        assert len(rows(html)) == 2  # the rest of the page still works


def test_another_organisations_admin_sees_none_of_it(client, browse) -> None:
    browse(ENG1)
    client.get(f"/cases/{NORTHWIND_OUTAGE}")
    browse(CAROL)
    html = page(client)
    assert rows(html) == [] and "No access by the vendor" in html
    assert NORTHWIND_OUTAGE not in html


def test_a_plain_customer_neither_sees_the_link_nor_the_page(client, browse) -> None:
    browse(BOB)
    assert 'href="/access-log"' not in client.get("/cases").text
    assert client.get("/access-log").status_code == 403
    browse(ENG1)
    assert client.get("/access-log").status_code == 403


def test_the_vendors_admin_chooses_the_organisation(client, browse, database) -> None:
    browse(ENG1)
    client.get(f"/cases/{NORTHWIND_OUTAGE}")
    client.get(f"/cases/{CONTOSO_SLOW}")
    browse(ADMIN)
    html = page(client)
    assert '<select name="organisation"' in html and "Contoso Health" in html
    assert {r[2] for r in rows(html)} == {NORTHWIND_OUTAGE, CONTOSO_SLOW}
    contoso = re.search(r'<option value="(\d+)" >Contoso Health', html)
    assert contoso, html
    assert [r[2] for r in rows(page(client, organisation=contoso.group(1)))] == [CONTOSO_SLOW]


def test_the_context_pages_older_entries(database, clock, demo) -> None:
    with database.session() as db:
        engineer = db.scalar(select(User).where(User.email == ENG1))
        case = get_case(db=db, viewer=engineer, ref=NORTHWIND_OUTAGE)
        for _ in range(60):  # each view past the last one's window
            access.record_view(
                db=db,
                viewer=engineer,
                case=case,
                action="case.viewed",
                now=clock.advance(minutes=16),
                window=timedelta(minutes=15),
            )
    with database.session(read_only=True) as db:
        alice = db.scalar(select(User).where(User.email == ALICE))
        values = {"case": NORTHWIND_OUTAGE, "from": "", "to": "", "organisation": ""}
        first = access_log_context(db=db, viewer=alice, values=values, cursor=None)
        assert len(first["rows"]) == 50 and not first["paged"]
        assert first["next_url"].startswith(f"/access-log?case={NORTHWIND_OUTAGE}&cursor=")
        cursor = first["next_url"].split("cursor=")[1]
        rest = access_log_context(db=db, viewer=alice, values=values, cursor=cursor)
        assert len(rest["rows"]) == 10 and rest["next_url"] is None and rest["paged"]
        assert rest["first_url"] == f"/access-log?case={NORTHWIND_OUTAGE}"
