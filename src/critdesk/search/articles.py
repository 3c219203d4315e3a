"""Published articles as a ``Source`` of the search engine: the knowledge base.

Only what was published is indexed — the redacted title and sections computed at publication
— and only while the article is published: any other state maps to ``None`` (the row leaves
the index on the next ``refresh``). Article documents are always ``public``, so customers'
searches (``public_only``) find them, and nothing unpublished can be found by anyone. Every
state change bumps ``articles.updated_at`` (the article service does), which is what
``IndexSync.refresh`` polls, through ``ix_articles_updated``.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from critdesk.article.models import Article
from critdesk.search.engine import Doc
from critdesk.search.sync import BATCH, Change, Source

_COLUMNS = tuple(
    getattr(Article, name)
    for name in (
        "id",
        "state",
        "published_title",
        "published_sections",
        "published_at",
        "updated_at",
    )
)
# The sections a reader searches, in the order the article shows them.
_SEARCHED = ("symptoms", "root_cause", "resolution", "affected_versions")


def article_doc(row: Any) -> Doc | None:
    """The searchable document of a published article (``None`` while it is not published)."""
    if row.state != "published" or not row.published_title or row.published_at is None:
        return None
    sections = row.published_sections or {}
    text = "\n".join(str(sections.get(name) or "") for name in _SEARCHED)
    return Doc(
        id=f"article:{row.id}",
        kind="article",
        title=row.published_title,
        text=text,
        signatures=(),
        public=True,
        created_at=row.published_at,
        state="published",
    )


def _changes(session: Session, since: datetime | None) -> Iterator[Change]:
    query = select(*_COLUMNS).order_by(Article.updated_at, Article.id)
    if since is not None:
        query = query.where(Article.updated_at >= since)
    for row in session.execute(query.execution_options(yield_per=BATCH)):
        yield Change(id=f"article:{row.id}", updated_at=row.updated_at, doc=article_doc(row))


def _versions(session: Session) -> Iterator[tuple[str, datetime]]:
    for article_id, updated_at in session.execute(select(Article.id, Article.updated_at)):
        yield f"article:{article_id}", updated_at


def _count(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(Article)) or 0)


ARTICLES = Source(
    kind="article", changes=_changes, versions=_versions, count=_count, models=(Article,)
)
