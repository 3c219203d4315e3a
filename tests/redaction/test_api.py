"""POST /api/v1/redact: vendor staff only, organisation-scoped, never echoing an original."""

from __future__ import annotations

from typing import Any

import pytest

from tests.case.test_api import ALICE, AM, CAROL, ENG1, LEAD

ADMIN = "admin@vendor.example"

TEXT = (
    "Alice Northwind (alice@northwind.example) says nw-prod at 10.20.30.40 fails for "
    "Northwind Insurance; Contoso Health is fine. password=Sup3r-S3cret!"
)


def org_id(client: Any, headers: dict[str, str], name: str) -> int:
    organisations = client.get("/api/v1/organisations", headers=headers).json()
    items = organisations["items"] if isinstance(organisations, dict) else organisations
    return next(o["id"] for o in items if o["name"] == name)


@pytest.mark.parametrize("who", [ENG1, LEAD, AM, ADMIN])
def test_vendor_staff_may_redact(client: Any, login: Any, who: str) -> None:
    response = client.post("/api/v1/redact", json={"text": TEXT}, headers=login(who))
    assert response.status_code == 200, response.text
    body = response.json()
    assert "Northwind Insurance" not in body["text"] and "Contoso Health" not in body["text"]
    assert "alice@northwind.example" not in body["text"]
    assert "Sup3r-S3cret!" not in body["text"] and "10.20.30.40" not in body["text"]


@pytest.mark.parametrize("who", [ALICE, CAROL])
def test_customers_are_refused(client: Any, login: Any, who: str) -> None:
    response = client.post("/api/v1/redact", json={"text": TEXT}, headers=login(who))
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "vendor_staff_only"


def test_it_needs_authentication(client: Any, demo: None) -> None:
    assert client.post("/api/v1/redact", json={"text": TEXT}).status_code == 401


def test_spans_point_into_the_text_sent_and_no_original_comes_back(client: Any, login: Any) -> None:
    headers = login(ENG1)
    northwind = org_id(client, login(ADMIN), "Northwind Insurance")
    body = client.post(
        "/api/v1/redact", json={"text": TEXT, "organisation_id": northwind}, headers=headers
    ).json()
    originals = [TEXT[r["start"] : r["end"]] for r in body["replacements"]]
    assert originals == [
        "Alice Northwind",
        "alice@northwind.example",
        "nw-prod",
        "10.20.30.40",
        "Northwind Insurance",
        "Contoso Health",
        "Sup3r-S3cret!",
    ]
    assert set(body["replacements"][0]) == {"category", "placeholder", "start", "end", "reason"}
    sent_back = str(body["replacements"])
    assert not any(original in sent_back for original in originals)
    assert body["text"].startswith("[CONTACT-1] ([EMAIL-1]) says [ENV-1] at [IP-1]")


def test_organisation_scoping_decides_which_environments_and_contacts_are_known(
    client: Any, login: Any
) -> None:
    headers = login(ENG1)
    contoso = org_id(client, login(ADMIN), "Contoso Health")
    scoped = client.post(
        "/api/v1/redact", json={"text": TEXT, "organisation_id": contoso}, headers=headers
    ).json()
    unscoped = client.post("/api/v1/redact", json={"text": TEXT}, headers=headers).json()
    for body in (scoped, unscoped):
        categories = [r["category"] for r in body["replacements"]]
        assert "environment" not in categories  # nw-prod is Northwind's, not Contoso's
        assert "Northwind Insurance" not in body["text"]  # every organisation name, always
    assert "nw-prod" in scoped["text"] and "Alice Northwind" not in scoped["text"]


def test_an_unknown_organisation_is_404(client: Any, login: Any) -> None:
    response = client.post(
        "/api/v1/redact", json={"text": TEXT, "organisation_id": 999_999}, headers=login(ENG1)
    )
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"text": 42},
        {"text": None},
        {"text": "x", "organisation_id": "1"},
        {"text": "x", "organisation_id": 1.5},
        {"text": "x", "unexpected": True},
        {"text": "x" * 1_000_001},
    ],
)
def test_bad_input_is_422(client: Any, login: Any, body: dict[str, Any]) -> None:
    response = client.post("/api/v1/redact", json=body, headers=login(ENG1))
    assert response.status_code in (413, 422), response.text
    assert "error" in response.json()


def test_a_body_over_the_limit_is_413(client: Any, login: Any) -> None:
    response = client.post("/api/v1/redact", json={"text": "a" * 2_000_000}, headers=login(ENG1))
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "body_too_large"


def test_an_empty_text_is_fine(client: Any, login: Any) -> None:
    response = client.post("/api/v1/redact", json={"text": ""}, headers=login(ENG1))
    assert response.status_code == 200
    assert response.json() == {"text": "", "replacements": []}
