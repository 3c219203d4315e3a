"""Real objects of every kind a page route names, so that each route's refusal is tested on
something that exists."""

from __future__ import annotations

from typing import Any

import pytest

from tests.bug.test_api import COMPLETE
from tests.case.test_actions import act
from tests.case.test_api import ALICE, ENG1, report
from tests.screenshare.test_api import propose


def created(response: Any) -> dict[str, Any]:
    assert response.status_code == 201, response.text
    return dict(response.json())


@pytest.fixture
def objects(client, login) -> dict[str, str]:
    """A sample value for every path parameter of a page route (a new parameter name makes
    the route tests fail until a sample is added here)."""
    eng = login(ENG1)
    ref = report(client, login(ALICE))["ref"]
    assert act(client, eng, ref, "start_investigation").status_code == 200
    question = {"kind": "question", "message": "Which runtime version is deployed?"}
    info = created(client.post(f"/api/v1/cases/{ref}/requests", headers=eng, json=question))
    share = created(propose(client, eng, ref))
    grant = {"justification": "Read the Cloud runtime logs.", "minutes": 30}
    access = created(client.post(f"/api/v1/cases/{ref}/cloud-access", headers=eng, json=grant))
    bug = created(client.post("/api/v1/bugs", headers=eng, json=COMPLETE))
    return {
        "ref": ref,
        "action": "assign",
        "request_id": str(info["id"]),
        "share_id": str(share["id"]),
        "access_id": str(access["id"]),
        "key": bug["key"],
    }
