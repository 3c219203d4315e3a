"""Article wire shapes. Customers (and the knowledge base) get the published view only: the
redacted text computed at publication — never the author's text, the case or its organisation.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from critdesk.article.models import Article

State = Literal["draft", "in_review", "approved", "published", "withdrawn"]
Category = Literal[
    "product_defect", "configuration", "customer_code", "third_party", "infrastructure", "unknown"
]
Title = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=5, max_length=300, pattern=r"^[^\r\n]*$"),
]
Long = Annotated[str, StringConstraints(strip_whitespace=True, max_length=50_000)]
Version = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40)]
Term = Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=200)]
BugKey = Annotated[str, StringConstraints(strip_whitespace=True, max_length=20)]


class ArticleChanges(BaseModel):
    """An edit: only the fields sent change (``bug: null`` unlinks the bug)."""

    model_config = ConfigDict(extra="forbid")
    title: Title | None = None
    symptoms: Long | None = None
    affected_versions: list[Version] | None = Field(default=None, max_length=50)
    root_cause_category: Category | None = None
    root_cause: Long | None = None
    resolution: Long | None = None
    bug: BugKey | None = None
    redact_extra: list[Term] | None = Field(default=None, max_length=200)
    redact_allow: list[Term] | None = Field(default=None, max_length=200)


class ArticleCreate(ArticleChanges):
    """``POST /api/v1/articles``: a draft from a resolved case, with optional overrides."""

    case: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=20)]


class RejectIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    comment: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=5000)]


class UnpublishIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]


class BugRef(BaseModel):
    key: str
    url: str


class PublishedSections(BaseModel):
    symptoms: str
    affected_versions: str
    root_cause: str
    resolution: str


class ArticlePublicOut(BaseModel):
    """What everyone may read of a published article (all of it redacted)."""

    id: int
    key: str
    title: str
    sections: PublishedSections
    root_cause_category: str | None
    body: str
    bug: BugRef | None
    published_at: datetime
    url: str
    forum_url: str | None


class ForumOut(BaseModel):
    topic_id: int | None
    url: str | None
    posted_at: datetime | None
    error: str | None


class ArticleOut(BaseModel):
    """The whole article, for staff: the author's text, decisions, review and publication."""

    id: int
    key: str
    state: State
    case: str
    organisation: str
    title: str
    symptoms: str
    affected_versions: list[str]
    root_cause_category: str | None
    root_cause: str
    resolution: str
    bug: BugRef | None
    redact_extra: list[str]
    redact_allow: list[str]
    author: str
    last_edited_by: str
    reviewer: str | None
    review_comment: str | None
    submitted_at: datetime | None
    reviewed_at: datetime | None
    approved_at: datetime | None
    published: ArticlePublicOut | None
    withdrawn_at: datetime | None
    withdrawn_reason: str | None
    forum: ForumOut
    created_at: datetime
    updated_at: datetime


class ArticlePage(BaseModel):
    items: list[ArticleOut | ArticlePublicOut]
    next_cursor: str | None


class ReplacementOut(BaseModel):
    category: str
    placeholder: str
    reason: str
    original: str
    start: int
    end: int


class PreviewSection(BaseModel):
    name: str
    label: str
    text: str
    replacements: list[ReplacementOut]


class PreviewOut(BaseModel):
    """The redacted text as it would be published now, every replacement located."""

    id: int
    state: State
    sections: list[PreviewSection]
    body: str
    forced: list[str]
    redact_extra: list[str]
    redact_allow: list[str]


def bug_ref(key: str | None, base_url: str) -> dict[str, str] | None:
    if key is None:
        return None
    return {"key": key, "url": f"{base_url.rstrip('/')}/bugs/{key}"}


def public_view(article: Article, *, base_url: str) -> dict[str, Any]:
    """The publication, as frozen when it was published (its bug reference included)."""
    sections = article.published_sections or {}
    bug_key = sections.get("bug")
    return {
        "id": article.id,
        "key": article.key,
        "title": article.published_title or "",
        "sections": {
            name: str(sections.get(name) or "")
            for name in ("symptoms", "affected_versions", "root_cause", "resolution")
        },
        "root_cause_category": article.root_cause_category,
        "body": article.published_body or "",
        "bug": bug_ref(bug_key if isinstance(bug_key, str) else None, base_url),
        "published_at": article.published_at,
        "url": f"{base_url.rstrip('/')}/kb/{article.id}",
        "forum_url": article.forum_url,
    }


def full_view(
    article: Article,
    *,
    case_ref: str,
    organisation: str,
    bug_key: str | None,
    base_url: str,
) -> dict[str, Any]:
    published = (
        public_view(article, base_url=base_url)
        if article.state == "published" and article.published_at is not None
        else None
    )
    return {
        "id": article.id,
        "key": article.key,
        "state": article.state,
        "case": case_ref,
        "organisation": organisation,
        "title": article.title,
        "symptoms": article.symptoms,
        "affected_versions": list(article.affected_versions or []),
        "root_cause_category": article.root_cause_category,
        "root_cause": article.root_cause,
        "resolution": article.resolution,
        "bug": bug_ref(bug_key, base_url),
        "redact_extra": list(article.redact_extra or []),
        "redact_allow": list(article.redact_allow or []),
        "author": article.author.email,
        "last_edited_by": article.last_edited_by.email,
        "reviewer": article.reviewer.email if article.reviewer else None,
        "review_comment": article.review_comment,
        "submitted_at": article.submitted_at,
        "reviewed_at": article.reviewed_at,
        "approved_at": article.approved_at,
        "published": published,
        "withdrawn_at": article.withdrawn_at,
        "withdrawn_reason": article.withdrawn_reason,
        "forum": {
            "topic_id": article.forum_topic_id,
            "url": article.forum_url,
            "posted_at": article.forum_posted_at,
            "error": article.forum_error,
        },
        "created_at": article.created_at,
        "updated_at": article.updated_at,
    }
