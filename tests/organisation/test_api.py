"""Admin setup of organisations, environments and named contacts."""

from __future__ import annotations

ADMIN = "admin@vendor.example"


def test_an_admin_sets_up_an_organisation_with_environment_and_contact(client, login) -> None:
    admin = login(ADMIN)
    org = client.post(
        "/api/v1/organisations",
        headers=admin,
        json={"name": "Woodgrove Bank", "package": "premium"},
    )
    assert org.status_code == 201, org.text
    org_id = org.json()["id"]
    env = client.post(
        f"/api/v1/organisations/{org_id}/environments",
        headers=admin,
        json={
            "name": "wg-prod",
            "type": "gateway",
            "production": True,
            "product_version": "10.5.0",
        },
    )
    assert env.status_code == 201
    user = client.post(
        f"/api/v1/organisations/{org_id}/users",
        headers=admin,
        json={
            "email": "Wendy@Woodgrove.example",
            "name": "Wendy",
            "role": "customer",
            "password": "correct horse battery",
        },
    )
    assert user.status_code == 201
    assert user.json()["email"] == "wendy@woodgrove.example"
    token = client.post(
        "/api/v1/auth/token",
        json={"email": "wendy@woodgrove.example", "password": "correct horse battery"},
    )
    assert token.status_code == 201
    listed = client.get(f"/api/v1/organisations/{org_id}/environments", headers=admin).json()
    assert [e["name"] for e in listed] == ["wg-prod"]


def test_setup_refuses_duplicates_unknown_packages_and_bad_types(client, login) -> None:
    admin = login(ADMIN)
    assert (
        client.post(
            "/api/v1/organisations",
            headers=admin,
            json={"name": "Contoso Health", "package": "business"},
        ).status_code
        == 422
    )
    assert (
        client.post(
            "/api/v1/organisations", headers=admin, json={"name": "X", "package": "gold"}
        ).status_code
        == 422
    )
    assert (
        client.post(
            "/api/v1/organisations/1/environments",
            headers=admin,
            json={"name": "x", "type": "mainframe", "production": True},
        ).status_code
        == 422
    )
    assert (
        client.post(
            "/api/v1/organisations/1/users",
            headers=admin,
            json={"email": "a@b.c", "name": "A", "role": "admin"},
        ).status_code
        == 422
    )
    assert client.get("/api/v1/organisations/9999", headers=admin).status_code == 404


def test_only_admins_set_up_organisations(client, login) -> None:
    for email in ("lead@vendor.example", "alice@northwind.example"):
        response = client.post(
            "/api/v1/organisations", headers=login(email), json={"name": "Y", "package": "business"}
        )
        assert response.status_code == 403


def test_a_plain_customer_cannot_list_colleagues_but_their_admin_can(client, login) -> None:
    org_id = client.get("/api/v1/me", headers=login("bob@northwind.example")).json()[
        "organisation"
    ]["id"]
    assert (
        client.get(
            f"/api/v1/organisations/{org_id}/users", headers=login("bob@northwind.example")
        ).status_code
        == 403
    )
    users = client.get(
        f"/api/v1/organisations/{org_id}/users", headers=login("alice@northwind.example")
    ).json()
    assert {u["email"] for u in users} == {"alice@northwind.example", "bob@northwind.example"}
