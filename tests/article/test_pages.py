"""Article pages: the knowledge base for everyone, and the staff's authoring and review pages
with the highlighted redaction preview."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest

from tests.article.conftest import ENG2, draft, published, resolved_case
from tests.auth.test_pages import open_web_session
from tests.case.test_api import ALICE, CAROL, ENG1, LEAD
from tests.case.test_pages import flash


@pytest.fixture
def browse(client: Any, database: Any, clock: Any, demo: None) -> Callable[[str], str]:
    return lambda email: open_web_session(client, database, clock, email)


def post(client: Any, path: str, token: str, **fields: Any) -> Any:
    response = client.post(path, data={"csrf_token": token} | fields, follow_redirects=False)
    assert response.status_code == 303, response.text
    return response


def test_the_knowledge_base_shows_published_articles_to_customers(client, login, browse) -> None:
    hidden = draft(client, login, resolved_case(client, login), title="Unpublished pool notes")
    article = published(client, login, resolved_case(client, login))
    browse(CAROL)
    page = client.get("/kb")
    assert page.status_code == 200
    assert 'href="/kb"' in page.text and "Knowledge base" in page.text
    assert f'data-article="{article["id"]}"' in page.text
    assert "Unpublished pool notes" not in page.text
    found = client.get("/kb?q=pool+exhausted")
    assert f'href="/kb/{article["id"]}"' in found.text
    assert "northwind" not in found.text.casefold()
    one = client.get(f"/kb/{article['id']}")
    assert one.status_code == 200
    assert article["published"]["title"] in one.text
    assert "Raise the pool size to 50." in one.text
    assert "northwind" not in one.text.casefold()
    assert client.get(f"/kb/{hidden['id']}").status_code == 404
    assert client.get("/articles").status_code == 403
    assert client.get(f"/articles/{hidden['id']}").status_code == 403


def test_an_author_drafts_previews_and_adjusts_the_redaction(client, login, browse) -> None:
    ref = resolved_case(client, login)
    token = browse(ENG1)
    created = post(client, "/articles/new", token, case=ref)
    path = created.headers["location"]
    assert re.fullmatch(r"/articles/\d+", path)
    page = client.get(path)
    assert flash(page.text)[0] == "success"
    marks = re.findall(
        r'<mark class="redaction[^"]*" data-category="(\w+)" title="([^"]+)">', page.text
    )
    assert {"organisation", "email"} <= {category for category, _ in marks}
    assert all(title.startswith(f"{category}: ") for category, title in marks)
    assert "always redacted" in page.text  # the organisation's name may not be kept
    post(client, f"{path}/redaction", token, decision="allow", term="nw-prod")
    post(client, f"{path}/redaction", token, decision="extra", term="claims portal")
    page = client.get(path)
    preview = page.text.split('id="preview"', 1)[1].split('id="replacements"', 1)[0]
    assert "nw-prod" in preview and "claims portal" not in preview
    refused = post(client, f"{path}/redaction", token, decision="allow", term="Northwind Insurance")
    assert flash(client.get(refused.headers["location"]).text)[0] == "error"
    post(client, path, token, title="Pool exhausted under load", symptoms="HTTP 503 everywhere.")
    page = client.get(path)
    assert "Pool exhausted under load" in page.text


def test_review_queue_approval_and_publication_by_pages(client, login, browse) -> None:
    article = draft(client, login, resolved_case(client, login))
    path = f"/articles/{article['id']}"
    token = browse(ENG1)
    post(client, f"{path}/submit", token)
    page = client.get(path)
    assert "an author does not approve their own article" in page.text
    assert 'action="' + path + '/approve"' not in page.text
    refused = post(client, f"{path}/approve", token)
    assert flash(client.get(refused.headers["location"]).text)[0] == "error"
    token = browse(ENG2)
    queue = client.get("/articles?state=in_review")
    assert f'href="{path}"' in queue.text and "Review queue" in queue.text
    post(client, f"{path}/approve", token)
    post(client, f"{path}/publish", token)
    page = client.get(path)
    assert f'href="/kb/{article["id"]}"' in page.text
    assert "Withdraw" not in page.text  # leads withdraw
    token = browse(LEAD)
    post(client, f"{path}/unpublish", token, reason="Superseded by a newer article")
    assert client.get(f"/api/v1/articles/{article['id']}", headers=login(ALICE)).status_code == 404


def test_the_nav_links_the_knowledge_base_for_everyone(client, browse) -> None:
    for who in (ALICE, ENG1):
        browse(who)
        assert 'href="/kb"' in client.get("/cases").text


def test_a_resolved_case_page_offers_staff_a_write_up(client, login, browse) -> None:
    ref = resolved_case(client, login)
    token = browse(ENG1)
    page = client.get(f"/cases/{ref}")
    assert "Write up as a knowledge base article" in page.text
    created = post(client, "/articles/new", token, case=ref)
    assert created.headers["location"].startswith("/articles/")
    browse(ALICE)  # the customer's view of the same case has no such button
    assert "Write up as a knowledge base article" not in client.get(f"/cases/{ref}").text
