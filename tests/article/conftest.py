"""Articles: a resolved case to write up, and the calls that move an article along."""

from __future__ import annotations

from typing import Any

import pytest

from tests.case.test_actions import act
from tests.case.test_api import ALICE, ENG1, report

ENG2 = "eng2@vendor.example"
# What a Northwind engineer might have written on the case: names, addresses, hosts.
LEAKY_DESCRIPTION = (
    "Northwind Insurance's claims portal on nw-prod answers HTTP 503 since the 10.4.2 "
    "deployment. Alice (alice@northwind.example) saw the pool exhausted."
)


def resolved_case(client: Any, login: Any, **overrides: Any) -> str:
    """A Northwind case, investigated, root-caused and resolved with a workaround."""
    body = {"description": LEAKY_DESCRIPTION} | overrides
    ref = report(client, login(ALICE), **body)["ref"]
    eng = login(ENG1)
    assert act(client, eng, ref, "start_investigation").status_code == 200
    cause = client.put(
        f"/api/v1/cases/{ref}/root-cause",
        headers=eng,
        json={
            "category": "configuration",
            "summary": "The connection pool of Northwind Insurance was sized for 10 users.",
            "product_defect": False,
        },
    )
    assert cause.status_code == 200, cause.text
    resolved = act(
        client,
        eng,
        ref,
        "resolve",
        {
            "outcomes": [
                {"type": "workaround_provided", "text": "Raise the pool size to 50."},
                {"type": "resolution_advised", "text": "Write to bob@northwind.example."},
            ]
        },
    )
    assert resolved.status_code == 200, resolved.text
    return ref


def draft(client: Any, login: Any, ref: str, who: str = ENG1, **changes: Any) -> dict[str, Any]:
    response = client.post(f"/api/v1/cases/{ref}/article", headers=login(who), json=changes)
    assert response.status_code == 201, response.text
    return response.json()


def step(client: Any, login: Any, article_id: int, action: str, who: str, **body: Any) -> Any:
    return client.post(
        f"/api/v1/articles/{article_id}/{action}", headers=login(who), json=body or None
    )


def published(client: Any, login: Any, ref: str) -> dict[str, Any]:
    """Drafted by eng1, approved by eng2, published by eng1."""
    article = draft(client, login, ref)
    for action, who in (("submit", ENG1), ("approve", ENG2), ("publish", ENG1)):
        response = step(client, login, article["id"], action, who)
        assert response.status_code == 200, (action, response.text)
    return response.json()


@pytest.fixture
def case_ref(client: Any, login: Any) -> str:
    return resolved_case(client, login)
