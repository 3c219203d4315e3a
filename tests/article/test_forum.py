"""The Discourse adapter against a local HTTP server that checks what it is sent: the API key
and user headers, the category, title and raw body — and that nothing unredacted leaves."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from sqlalchemy import select, text

from critdesk.adapters.forum import DiscourseForum, ForumError
from critdesk.app import create_app
from critdesk.auth.models import User
from critdesk.organisation.models import Organisation
from tests.article.conftest import ENG2, draft, published, resolved_case, step
from tests.case.test_api import CAROL, ENG1

KEY = "forum-key-0123456789abcdef"


@dataclass
class Discourse:
    """What the fake forum received, and how it answers next (status, JSON body)."""

    url: str = ""
    received: list[dict[str, Any]] = field(default_factory=list)
    answer: tuple[int, dict[str, Any]] = (200, {"id": 77, "topic_id": 42, "topic_slug": "pool"})
    # Run while a post is being answered (before the answer goes back).
    meanwhile: Callable[[], None] | None = None


@pytest.fixture
def discourse() -> Iterator[Discourse]:
    state = Discourse()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            raw = self.rfile.read(length)
            state.received.append(
                {
                    "path": self.path,
                    "api_key": self.headers.get("Api-Key"),
                    "api_username": self.headers.get("Api-Username"),
                    "content_type": self.headers.get("Content-Type"),
                    "body": json.loads(raw or b"{}"),
                }
            )
            if state.meanwhile is not None:
                state.meanwhile()
            status, body = state.answer
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *_args: Any) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    yield state
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


@pytest.fixture
def forum_client(settings, clock, database, discourse):  # type: ignore[no-untyped-def]
    from fastapi.testclient import TestClient

    configured = settings.model_copy(
        update={
            "forum_url": discourse.url,
            "forum_api_key": KEY,
            "forum_username": "critdesk-bot",
            "forum_category": 7,
        }
    )
    app = create_app(configured, clock=clock, database=database)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


def _secrets_of_every_customer(database: Any) -> list[str]:
    with database.session(read_only=True) as db:
        names = list(db.scalars(select(Organisation.name)))
        emails = list(db.scalars(select(User.email).where(User.organisation_id.is_not(None))))
    return [n.casefold() for n in names + emails]


def test_a_published_article_goes_to_the_forum_redacted(
    forum_client, login, discourse, database
) -> None:
    client = forum_client
    article = published(client, login, resolved_case(client, login))
    response = step(client, login, article["id"], "forum", ENG1)
    assert response.status_code == 200, response.text
    assert response.json()["forum"] == {
        "topic_id": 42,
        "url": f"{discourse.url}/t/pool/42",
        "posted_at": "2026-11-25T10:00:00Z",
        "error": None,
    }
    [sent] = discourse.received
    assert sent["path"] == "/posts.json"
    assert sent["api_key"] == KEY and sent["api_username"] == "critdesk-bot"
    assert sent["content_type"] == "application/json"
    assert sent["body"]["category"] == 7
    assert sent["body"]["title"] == article["published"]["title"]
    assert sent["body"]["raw"] == article["published"]["body"]
    everything = json.dumps(sent["body"]).casefold()
    assert [s for s in _secrets_of_every_customer(database) if s in everything] == []
    again = step(client, login, article["id"], "forum", ENG1)
    assert again.status_code == 409 and again.json()["error"]["code"] == "already_posted"
    assert len(discourse.received) == 1
    public = client.get(f"/api/v1/articles/{article['id']}", headers=login(CAROL)).json()
    assert public["forum_url"] == f"{discourse.url}/t/pool/42"


def test_nothing_is_held_while_the_forum_answers(forum_client, login, discourse, database) -> None:
    """The forum may take its whole timeout to answer: meanwhile the request holds no
    transaction (on SQLite, not the database's write lock), so other writes go through."""
    took: list[float] = []

    def write_meanwhile() -> None:
        started = time.monotonic()
        with database.session() as db:
            db.execute(text("UPDATE articles SET updated_at = updated_at WHERE id < 0"))
        took.append(time.monotonic() - started)

    article = published(forum_client, login, resolved_case(forum_client, login))
    discourse.meanwhile = write_meanwhile
    response = step(forum_client, login, article["id"], "forum", ENG1)
    assert response.status_code == 200, response.text
    assert len(took) == 1 and took[0] < 2


def test_nothing_unpublished_leaves(forum_client, login, discourse) -> None:
    client = forum_client
    article = draft(client, login, resolved_case(client, login))
    for action, who in ((None, None), ("submit", ENG1), ("approve", ENG2)):
        if action:
            assert step(client, login, article["id"], action, who).status_code == 200
        refused = step(client, login, article["id"], "forum", ENG1)
        assert refused.status_code == 409
        assert refused.json()["error"]["code"] == "not_published"
    assert step(client, login, article["id"], "forum", CAROL).status_code == 404
    assert discourse.received == []


def test_a_forum_refusal_is_a_502_and_loses_nothing(forum_client, login, discourse) -> None:
    client = forum_client
    article = published(client, login, resolved_case(client, login))
    discourse.answer = (422, {"errors": [f"Title has already been used {KEY}"]})
    failed = step(client, login, article["id"], "forum", ENG1)
    assert failed.status_code == 502
    error = failed.json()["error"]
    assert error["code"] == "forum_failed"
    assert "Title has already been used" in error["message"] and KEY not in error["message"]
    kept = client.get(f"/api/v1/articles/{article['id']}", headers=login(ENG1)).json()
    assert kept["state"] == "published" and kept["published"] is not None
    assert kept["forum"]["topic_id"] is None and "422" in kept["forum"]["error"]
    discourse.answer = (200, {"id": 9, "topic_id": 43})
    retried = step(client, login, article["id"], "forum", ENG1)
    assert retried.status_code == 200
    assert retried.json()["forum"]["url"] == f"{discourse.url}/t/43"
    assert retried.json()["forum"]["error"] is None


def test_without_a_forum_posting_is_refused(client, login) -> None:
    article = published(client, login, resolved_case(client, login))
    refused = step(client, login, article["id"], "forum", ENG1)
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "forum_not_configured"


def test_the_adapter_reports_an_unreachable_forum_without_its_key() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    forum = DiscourseForum(
        base_url="http://127.0.0.1:9",
        api_key=KEY,
        username="bot",
        transport=httpx.MockTransport(refuse),
    )
    with pytest.raises(ForumError) as failure:
        forum.create_topic(title="Pool exhausted", raw="body")
    assert "could not reach the forum" in failure.value.message
    assert KEY not in str(failure.value)
    forum.close()


def test_an_answer_without_a_topic_is_an_error(discourse) -> None:
    discourse.answer = (200, {"unexpected": True})
    forum = DiscourseForum(base_url=discourse.url, api_key=KEY, username="bot")
    with pytest.raises(ForumError, match="named no topic"):
        forum.create_topic(title="Pool exhausted", raw="body")
    assert "category" not in discourse.received[0]["body"]
    forum.close()
