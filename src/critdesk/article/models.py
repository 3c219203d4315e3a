from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from critdesk.auth.models import User
from critdesk.db import Base
from critdesk.organisation.models import Organisation

ARTICLE_KEY_PREFIX = "KB-"


def format_key(article_id: int) -> str:
    return f"{ARTICLE_KEY_PREFIX}{article_id}"


class Article(Base):
    """The author's text and redaction decisions; what the public reads is ``published_*``.

    The ``published_*`` columns are only ever written by publishing, from the redacted text
    computed at that moment, and cleared when the article is withdrawn.
    """

    __tablename__ = "articles"
    __table_args__ = (
        # The knowledge base index catches up by updated_at (search.articles).
        Index("ix_articles_updated", "updated_at", "id"),
        Index("ix_articles_state_id", "state", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    # The case's organisation: whose environments, contacts and hosts are redacted.
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    state: Mapped[str] = mapped_column(String(12))

    # The author's text (confidential: staff only).
    title: Mapped[str] = mapped_column(String(300))
    symptoms: Mapped[str] = mapped_column(Text)
    affected_versions: Mapped[list[Any]]
    root_cause_category: Mapped[str | None] = mapped_column(String(30))
    root_cause: Mapped[str] = mapped_column(Text)
    resolution: Mapped[str] = mapped_column(Text)
    bug_id: Mapped[int | None] = mapped_column(ForeignKey("bugs.id"))
    # Redaction decisions: further terms to replace, and originals the author keeps.
    redact_extra: Mapped[list[Any]]
    redact_allow: Mapped[list[Any]]

    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    last_edited_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    reviewer_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    review_comment: Mapped[str | None] = mapped_column(Text)
    submitted_at: Mapped[datetime | None]
    reviewed_at: Mapped[datetime | None]
    approved_at: Mapped[datetime | None]

    # What was published: the redacted text computed at publication, never the author's.
    published_title: Mapped[str | None] = mapped_column(Text)
    published_sections: Mapped[dict[str, Any] | None]
    published_body: Mapped[str | None] = mapped_column(Text)
    published_at: Mapped[datetime | None]
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    withdrawn_at: Mapped[datetime | None]
    withdrawn_reason: Mapped[str | None] = mapped_column(Text)

    # The community forum (Discourse): the topic once posted, or the last refusal.
    forum_topic_id: Mapped[int | None]
    forum_url: Mapped[str | None] = mapped_column(String(500))
    forum_posted_at: Mapped[datetime | None]
    forum_error: Mapped[str | None] = mapped_column(Text)

    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    # Many-to-one loads come from the session's identity map when the user is already there:
    # a page of articles by a handful of people costs a handful of reads.
    organisation: Mapped[Organisation] = relationship()
    author: Mapped[User] = relationship(foreign_keys=[author_id])
    last_edited_by: Mapped[User] = relationship(foreign_keys=[last_edited_by_id])
    reviewer: Mapped[User | None] = relationship(foreign_keys=[reviewer_id])

    @property
    def key(self) -> str:
        return format_key(self.id)
