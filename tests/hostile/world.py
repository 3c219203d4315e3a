"""A desk with one object of every kind in two organisations, built through the API, so that
hostile-input tests have real ids to aim at (their own and another organisation's)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tests.case.test_api import ALICE, AM, BOB, CAROL, DAN, ENG1, ERIN, LEAD, report

ADMIN = "admin@vendor.example"
# One demo user per role: the callers every hostile test runs as.
ROLES: dict[str, str] = {
    "customer": BOB,
    "customer_admin": ALICE,
    "engineer": ENG1,
    "lead": LEAD,
    "account_manager": AM,
    "admin": ADMIN,
}
CUSTOMER_ROLES = ("customer", "customer_admin")
OTHER_CUSTOMERS = {"contoso": CAROL, "fabrikam": DAN, "tailspin": ERIN}
# In every text only vendor staff may read: internal notes, internal bugs.
INTERNAL = "staff-eyes-only"
SLOT = {"start": "2026-11-26T14:00:00Z", "end": "2026-11-26T15:00:00Z"}
LOG = b"2026-11-25 09:12:03,114 ERROR [exec-4] c.v.runtime.Checkout - HTTP 500\n"
BUG: dict[str, Any] = {
    "component": "Runtime",
    "affected_versions": ["10.4.2"],
    "title": "Connection pool leaks after failed REST calls",
    "description": "Each failed outbound REST call leaves a connection checked out.",
    "steps_to_reproduce": "1. Call a REST service that times out 50 times",
    "expected": "Connections return to the pool",
    "actual": "The pool is exhausted",
    "environment": {"deployment_type": "cloud", "product_version": "10.4.2"},
    "severity": "S2",
}


@dataclass
class Objects:
    """Ids of one organisation's objects, each reachable through its case. Every text the
    organisation wrote carries ``marker``: wherever another organisation's caller finds it,
    something leaked."""

    marker: str
    name: str
    organisation_id: int
    environment_id: int
    user_id: int
    ref: str
    request_id: int
    share_id: int
    attachment_id: int
    comment_id: int
    bug_key: str
    article_id: int | str = 0
    access_id: int | None = None
    notification_ids: list[int] = field(default_factory=list)


@dataclass
class World:
    northwind: Objects
    contoso: Objects
    internal_bug: str  # linked to no case, not public: staff only
    public_bug: str
    shared_bug: str  # linked to a case of each organisation
    webhook_id: int
    package_code: str = "enterprise"

    def targets(self) -> dict[str, list[Any]]:
        """Real values for every path parameter name the API uses: both organisations' objects
        and the demo's cases in every state."""
        orgs = (self.northwind, self.contoso)
        return {
            "ref": [o.ref for o in orgs] + [f"PCH-{n:06d}" for n in range(1, 7)],
            "request_id": [o.request_id for o in orgs],
            "share_id": [o.share_id for o in orgs],
            "access_id": [o.access_id for o in orgs if o.access_id is not None],
            "attachment_id": [o.attachment_id for o in orgs],
            "organisation_id": [o.organisation_id for o in orgs],
            "key": [o.bug_key for o in orgs] + [self.internal_bug, self.public_bug],
            "notification_id": [n for o in orgs for n in o.notification_ids[:2]],
            "article_id": [o.article_id for o in orgs],
            "endpoint_id": [self.webhook_id],
            "code": ["enterprise", "business", "essential"],
            "name": ["sla", "time-to-investigate", "root-causes", "redirects"],
        }


# A valid body for every write route outside a case (case routes: SAMPLE_BODIES in
# tests/test_tenant_isolation.py), so that a refusal comes from the tenant check and not from
# validation, and so that schema tests reach past validation; None marks a route without one.
SAMPLE_BODIES: dict[tuple[str, str], Any] = {
    ("POST", "/api/v1/organisations/{organisation_id}/environments"): {
        "name": "planted-env",
        "type": "cloud",
        "production": True,
    },
    ("POST", "/api/v1/organisations/{organisation_id}/users"): {
        "email": "mallory@planted.example",
        "name": "Mallory",
        "role": "customer_admin",
    },
    ("PATCH", "/api/v1/packages/{code}"): {"desk_access": False},
    ("PATCH", "/api/v1/bugs/{key}"): {"title": "Renamed by a stranger"},
    ("POST", "/api/v1/bugs/{key}/state"): {"state": "wont_fix"},
    ("PUT", "/api/v1/articles/{article_id}"): {"title": "Rewritten by a stranger"},
    ("POST", "/api/v1/articles/{article_id}/reject"): {"comment": "not ours to judge"},
    ("POST", "/api/v1/articles/{article_id}/unpublish"): {"reason": "not ours to judge"},
    # Routes outside the matrix, for the schema tests only.
    ("POST", "/api/v1/cases"): {
        "title": "Checkout fails for everyone",
        "description": "Every checkout answers HTTP 500.",
        "environment_id": 1,
        "impact": {"app_unavailable": True},
        "breadth": "all_users",
        "end_users_blocked": True,
    },
    ("POST", "/api/v1/cases/preview"): {
        "environment_id": 1,
        "impact": {"data_loss": True},
        "breadth": "end_users",
        "end_users_blocked": True,
    },
    ("POST", "/api/v1/calls"): {"caller": ALICE, "notes": "Portal down", "case_ref": "PCH-000001"},
    ("POST", "/api/v1/organisations"): {"name": "Planted Ltd", "package": "business"},
    ("POST", "/api/v1/bugs"): BUG,
    ("POST", "/api/v1/admin/webhooks"): {"url": "https://hooks.planted.example/desk"},
    ("POST", "/api/v1/auth/token"): {"email": ALICE, "password": "not-the-password"},
    ("PUT", "/api/v1/notifications/preferences"): {"preferences": []},
}


def _ok(response: Any, status: int = 201) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def _objects(client: Any, login: Any, customer: str, env: str, cloud: bool) -> Objects:
    eng, me = login(ENG1), client.get("/api/v1/me", headers=login(customer)).json()
    marker = f"{env}-confidential"
    ref = report(
        client,
        login(customer),
        env=env,
        title=f"Outage {marker}",
        description=f"Checkout fails on {marker}.example.com",
    )["ref"]
    case = f"/api/v1/cases/{ref}"
    _ok(client.post(f"{case}/actions/start_investigation", headers=eng, json={}), 200)
    request = _ok(
        client.post(
            f"{case}/requests",
            headers=eng,
            json={"kind": "question", "message": f"Which version runs {marker}?"},
        )
    )
    comment = _ok(
        client.post(f"{case}/comments", headers=login(customer), json={"body": f"hi {marker}"})
    )
    _ok(
        client.post(
            f"{case}/comments", headers=eng, json={"body": f"{INTERNAL} {marker}", "internal": True}
        )
    )
    share = _ok(
        client.post(
            f"{case}/screen-shares",
            headers=eng,
            json={"slots": [SLOT], "meeting_link": f"https://meet.vendor.example/r/{marker}"},
        )
    )
    attachment = _ok(
        client.post(
            f"{case}/attachments",
            headers=login(customer),
            files={"file": (f"{marker}.log", LOG + marker.encode(), "text/plain")},
        )
    )
    bug = _ok(client.post(f"{case}/bugs/new", headers=eng, json=BUG | {"title": f"Leak {marker}"}))
    access = None
    if cloud:
        access = _ok(
            client.post(
                f"{case}/cloud-access",
                headers=eng,
                json={"justification": f"Read the Cloud logs of {marker}", "minutes": 30},
            )
        )["id"]
    article = _article(client, login, customer, env, marker)
    notifications = client.get("/api/v1/notifications", headers=login(customer)).json()
    users = client.get(
        f"/api/v1/organisations/{me['organisation']['id']}/users", headers=login(customer)
    ).json()
    return Objects(
        marker=marker,
        name=me["organisation"]["name"],
        organisation_id=me["organisation"]["id"],
        environment_id=next(
            e["id"] for e in me["organisation"]["environments"] if e["name"] == env
        ),
        user_id=users[0]["id"],
        ref=ref,
        request_id=request["id"],
        share_id=share["id"],
        attachment_id=attachment["id"],
        comment_id=comment["id"],
        bug_key=bug["key"],
        article_id=article,
        access_id=access,
        notification_ids=[n["id"] for n in notifications["items"]],
    )


def _article(client: Any, login: Any, customer: str, env: str, marker: str) -> int | str:
    """A draft article, written from a second case of the organisation once resolved."""
    eng = login(ENG1)
    ref = report(client, login(customer), env=env, title=f"Resolved {marker}")["ref"]
    case = f"/api/v1/cases/{ref}"
    _ok(client.post(f"{case}/actions/start_investigation", headers=eng, json={}), 200)
    outcome = {"type": "resolution_advised", "text": f"Restart {marker}"}
    _ok(client.post(f"{case}/actions/resolve", headers=eng, json={"outcomes": [outcome]}), 200)
    article: int | str = _ok(client.post(f"{case}/article", headers=eng, json={}))["id"]
    return article


def build_world(client: Any, login: Any) -> World:
    """Objects of every kind in Northwind (cloud) and Contoso (on-premises)."""
    northwind = _objects(client, login, ALICE, "nw-prod", cloud=True)
    contoso = _objects(client, login, CAROL, "ch-prod", cloud=False)
    eng, admin = login(ENG1), login(ADMIN)
    internal = _ok(
        client.post("/api/v1/bugs", headers=eng, json=BUG | {"title": f"Leak {INTERNAL}"})
    )
    shared = _ok(client.post("/api/v1/bugs", headers=eng, json=BUG | {"title": "Shared leak"}))
    for org in (northwind, contoso):
        link = f"/api/v1/cases/{org.ref}/bugs"
        _ok(client.post(link, headers=eng, json={"bug": shared["key"]}))
    public = _ok(
        client.post(
            "/api/v1/bugs", headers=eng, json=BUG | {"title": "Known export issue", "public": True}
        )
    )
    webhook = _ok(
        client.post(
            "/api/v1/admin/webhooks",
            headers=admin,
            json={
                "url": "https://hooks.northwind.example/desk",
                "organisation_id": northwind.organisation_id,
            },
        )
    )
    return World(
        northwind=northwind,
        contoso=contoso,
        internal_bug=internal["key"],
        public_bug=public["key"],
        shared_bug=shared["key"],
        webhook_id=webhook["id"],
    )
