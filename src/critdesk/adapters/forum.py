"""The community forum: a Discourse-compatible HTTP API, behind a small interface.

A forum is anything with ``create_topic``: :class:`DiscourseForum` (``POST /posts.json`` with
the ``Api-Key`` and ``Api-Username`` headers; Discourse's documented way to open a topic),
:class:`FakeForum` for tests (records what it was given). Nothing here knows about articles
or the database: the article service hands over a published article's redacted title and
Markdown body, and only ever those (see ``article.service.forum_post``).

Opening a topic is not idempotent, so it is never retried blindly: a failure is reported to
the caller, who may try again (Discourse itself refuses a second topic with the same title).
Error messages never hold the API key.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import quote

import httpx
from pydantic import SecretStr

from critdesk.config import Settings

MAX_MESSAGE = 300


@dataclass(frozen=True, slots=True)
class ForumTopic:
    topic_id: int
    post_id: int | None
    url: str


class ForumError(Exception):
    """The forum refused the post or could not be reached; the message holds no secret."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


class Forum(Protocol):
    name: str

    def create_topic(self, *, title: str, raw: str) -> ForumTopic:
        """Opens a topic whose first post is ``raw`` (Markdown)."""

    def close(self) -> None:
        """Releases connections; safe to call more than once."""


class DiscourseForum:
    name = "discourse"

    def __init__(
        self,
        *,
        base_url: str,
        api_key: SecretStr | str,
        username: str,
        category: int | None = None,
        timeout_seconds: float = 10.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        key = api_key.get_secret_value() if isinstance(api_key, SecretStr) else api_key
        self._secret = key
        self.category = category
        self._client = httpx.Client(
            base_url=self.base_url,
            headers={
                "Api-Key": key,
                "Api-Username": username,
                "Accept": "application/json",
                "User-Agent": "critdesk",
            },
            timeout=timeout_seconds,
            transport=transport,
            follow_redirects=False,
        )

    def create_topic(self, *, title: str, raw: str) -> ForumTopic:
        body: dict[str, Any] = {"title": title, "raw": raw}
        if self.category is not None:
            body["category"] = self.category
        try:
            response = self._client.post("/posts.json", json=body)
        except httpx.TimeoutException as failure:
            raise ForumError(
                f"the forum did not answer in time ({type(failure).__name__}); the topic may "
                "or may not have been opened — look on the forum before trying again"
            ) from None
        except httpx.HTTPError as failure:
            raise ForumError(f"could not reach the forum ({type(failure).__name__})") from None
        if not response.is_success:
            raise ForumError(
                f"the forum answered {response.status_code}: {self._describe(response)}",
                status=response.status_code,
            )
        return self._topic(response)

    def _topic(self, response: httpx.Response) -> ForumTopic:
        try:
            data = response.json()
            topic_id = int(data["topic_id"])
        except (ValueError, KeyError, TypeError):
            raise ForumError(
                "the forum's answer named no topic", status=response.status_code
            ) from None
        slug = data.get("topic_slug")
        path = f"/t/{quote(str(slug))}/{topic_id}" if slug else f"/t/{topic_id}"
        post_id = data.get("id")
        return ForumTopic(
            topic_id=topic_id,
            post_id=post_id if isinstance(post_id, int) else None,
            url=f"{self.base_url}{path}",
        )

    def _describe(self, response: httpx.Response) -> str:
        """Discourse's own words (``{"errors": [...]}``), short and without the key."""
        try:
            data = response.json()
        except ValueError:
            data = None
        if isinstance(data, dict) and isinstance(data.get("errors"), list):
            text = "; ".join(str(e) for e in data["errors"])
        elif isinstance(data, dict) and data.get("error"):
            text = str(data["error"])
        else:
            text = response.reason_phrase or "no reason given"
        if self._secret:
            text = text.replace(self._secret, "[secret]")
        return text[:MAX_MESSAGE]

    def close(self) -> None:
        self._client.close()


@dataclass
class FakeForum:
    """Records topics in memory; ``fail_with`` makes the next calls fail like the real one."""

    name: str = "fake"
    topics: list[dict[str, str]] = field(default_factory=list)
    fail_with: ForumError | None = None

    def create_topic(self, *, title: str, raw: str) -> ForumTopic:
        if self.fail_with is not None:
            raise self.fail_with
        self.topics.append({"title": title, "raw": raw})
        topic_id = len(self.topics)
        return ForumTopic(topic_id, topic_id * 10, f"https://forum.example/t/{topic_id}")

    def close(self) -> None:
        return None


def forum_from_settings(settings: Settings) -> Forum | None:
    """The configured forum, or None when ``CRITDESK_FORUM_URL`` and its key are unset."""
    if not settings.forum_url or settings.forum_api_key is None:
        return None
    return DiscourseForum(
        base_url=settings.forum_url,
        api_key=settings.forum_api_key,
        username=settings.forum_username,
        category=settings.forum_category,
        timeout_seconds=settings.forum_timeout_seconds,
    )
