"""Security headers on every kind of response, and templates that the policy lets work."""

from __future__ import annotations

import base64
import hashlib
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from critdesk.app import create_app
from critdesk.templating import TEMPLATE_DIR
from critdesk.web import DOCS_PATHS
from tests.auth.test_pages import BROWSER, open_web_session
from tests.case.test_api import ALICE

EXPECTED = {
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
    "cross-origin-opener-policy": "same-origin",
}


def directives(policy: str) -> dict[str, list[str]]:
    parsed = {}
    for part in policy.split(";"):
        name, *values = part.split()
        parsed[name] = values
    return parsed


def assert_protected(response, *, docs: bool = False) -> None:  # type: ignore[no-untyped-def]
    headers = response.headers
    for name, value in EXPECTED.items():
        assert headers.get(name) == value, (response.request.url, name)
    assert "camera=()" in headers["permissions-policy"]
    assert "microphone=()" in headers["permissions-policy"]
    assert len(headers.get_list("content-security-policy")) == 1
    policy = directives(headers["content-security-policy"])
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["object-src"] == ["'none'"] and policy["base-uri"] == ["'none'"]
    assert policy["default-src"] == ["'self'"]
    if not docs:
        assert policy["script-src"] == ["'self'"] and policy["style-src"] == ["'self'"]
    assert "'unsafe-inline'" not in policy["script-src"]
    assert "'unsafe-eval'" not in policy["script-src"]


def test_every_kind_of_response_carries_the_headers(client, login, database, clock) -> None:
    alice = login(ALICE)
    responses = [
        client.get("/healthz"),
        client.get("/openapi.json"),
        client.get("/api/v1/me", headers=alice),  # JSON
        client.get("/api/v1/me"),  # 401
        client.get("/api/v1/cases/PCH-999999", headers=alice),  # 404
        client.post("/api/v1/cases", headers=alice, content=b"x" * 2_000_000),  # 413
        client.post("/api/v1/cases", headers=alice, json={}),  # 422
        client.get("/static/app.js"),
        client.get("/no/such/thing"),
        client.get("/login"),
        client.get("/", follow_redirects=False),  # a redirect
    ]
    open_web_session(client, database, clock, ALICE)
    responses += [client.get("/cases"), client.get("/cases/PCH-999999", headers=BROWSER)]
    statuses = {r.status_code for r in responses}
    assert {200, 303, 401, 404, 413, 422} <= statuses
    for response in responses:
        assert_protected(response)
    assert all("strict-transport-security" not in r.headers for r in responses)


def test_over_https_browsers_are_told_to_stay_on_https(settings, clock, database) -> None:
    secure = settings.model_copy(update={"base_url": "https://desk.example"})
    app = create_app(secure, clock=clock, database=database)
    with TestClient(app, base_url="https://testserver") as client:
        for response in (client.get("/healthz"), client.get("/login"), client.get("/nothing")):
            assert_protected(response)
            hsts = response.headers["strict-transport-security"]
            assert int(re.search(r"max-age=(\d+)", hsts).group(1)) >= 31_536_000


@pytest.mark.parametrize("path", sorted(DOCS_PATHS))
def test_the_api_explorers_inline_scripts_are_allowed_by_hash_only(client, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 200
    assert_protected(response, docs=True)
    policy = directives(response.headers["content-security-policy"])
    for script in re.findall(r"<script>(.*?)</script>", response.text, re.DOTALL):
        digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
        assert f"'sha256-{digest}'" in policy["script-src"]


def test_a_route_s_own_header_is_left_alone(app, client) -> None:
    from fastapi.responses import PlainTextResponse

    @app.get("/test-only/sandboxed")
    def sandboxed() -> PlainTextResponse:
        return PlainTextResponse("x", headers={"Content-Security-Policy": "sandbox"})

    response = client.get("/test-only/sandboxed")
    assert response.headers.get_list("content-security-policy") == ["sandbox"]
    assert response.headers["x-frame-options"] == "DENY"


# --- templates the policy lets work ---------------------------------------------------------

PAGES = [p for p in Path(TEMPLATE_DIR).rglob("*.html") if "notification" not in p.parts]
INLINE = {
    "inline script": re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE),
    "inline style element": re.compile(r"<style\b", re.IGNORECASE),
    "style attribute": re.compile(r"\sstyle\s*=", re.IGNORECASE),
    "event handler attribute": re.compile(r"\son[a-z]+\s*=", re.IGNORECASE),
    "javascript: URL": re.compile(r"javascript:", re.IGNORECASE),
}


@pytest.mark.parametrize("template", PAGES, ids=lambda p: str(p.relative_to(TEMPLATE_DIR)))
def test_no_page_template_needs_inline_script_or_style(template: Path) -> None:
    """The policy forbids them (e-mail templates aside: mail clients need inline styles)."""
    text = template.read_text()
    for what, pattern in INLINE.items():
        assert not pattern.search(text), f"{what} in {template.relative_to(TEMPLATE_DIR)}"


def test_there_are_page_templates_to_check() -> None:
    assert len(PAGES) >= 20
