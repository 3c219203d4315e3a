"""Article use cases: draft from a resolved case, edit, review by a second person, publish the
text as redacted at that moment, withdraw, and post to the community forum.

What leaves the desk — the knowledge base's published view, the search index, the forum —
is only ever ``published_*``: the redacted text computed by ``publish`` with the case
organisation's known terms (``redaction.service.known_terms``). The author's text stays with
staff. Every state change is audited; drafting, publishing and withdrawing also go on the
case's timeline.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session

from critdesk.adapters.forum import Forum, ForumError, ForumTopic
from critdesk.article import rules
from critdesk.article.models import ARTICLE_KEY_PREFIX, Article
from critdesk.audit import service as audit
from critdesk.auth.models import User
from critdesk.bug.models import Bug, BugCase, format_key
from critdesk.bug.service import parse_key as parse_bug_key
from critdesk.case import service as cases
from critdesk.case.models import Case, format_ref
from critdesk.errors import Conflict, Forbidden, Invalid, NotFound
from critdesk.organisation.models import Organisation
from critdesk.redaction.rules import KnownTerms
from critdesk.redaction.service import known_terms

LEAD_ROLES = frozenset({"lead", "admin"})
# The author's fields an edit may change.
TEXT_FIELDS = ("title", "symptoms", "root_cause_category", "root_cause", "resolution")
RESOLVED_STATES = frozenset({"resolved", "closed"})

log = logging.getLogger(__name__)


def parse_id(value: str | int) -> int:
    text = str(value).strip()
    if text.upper().startswith(ARTICLE_KEY_PREFIX):
        text = text[len(ARTICLE_KEY_PREFIX) :]
    if not (text.isascii() and text.isdigit()) or len(text) > 12:
        raise NotFound("article")
    return int(text)


def _require_handler(actor: User, what: str = "write articles") -> None:
    if actor.role not in cases.HANDLER_ROLES:
        raise Forbidden("engineers_only", f"only engineers and leads {what}")


def _record(
    db: Session, article: Article, actor: User | None, now: datetime, action: str, **data: Any
) -> None:
    audit.record(
        db=db,
        at=now,
        actor_id=actor.id if actor else None,
        action=f"article.{action}",
        object_type="article",
        object_id=article.key,
        organisation_id=article.organisation_id,
        data=data,
    )


def _timeline(
    db: Session, article: Article, actor: User, now: datetime, kind: str, *, internal: bool
) -> None:
    case = cases.load_case(db, article.case_id)
    title = article.published_title if not internal else None
    data = {"article": article.key} | ({"title": title} if title else {})
    cases.record_event(
        db=db, case=case, actor=actor, now=now, kind=kind, data=data, internal=internal
    )


def _touch(article: Article, now: datetime) -> None:
    """A new ``updated_at`` for every change, later than the last even when the clock did not
    move: the search index tells versions apart by it (``search.articles``)."""
    last = article.updated_at
    article.updated_at = now if last is None or now > last else last + timedelta(microseconds=1)


# --- who sees what -----------------------------------------------------------------------------


def visible_articles(viewer: User) -> Select[Any]:
    """Customers: published articles only. Account managers: those, and the drafts of the
    organisations they manage. Engineers, leads and admins: every article."""
    query = select(Article)
    if viewer.is_customer:
        return query.where(Article.state == "published")
    if viewer.role == "account_manager":
        managed = select(Organisation.id).where(Organisation.account_manager_id == viewer.id)
        return query.where(or_(Article.state == "published", Article.organisation_id.in_(managed)))
    if viewer.role not in cases.HANDLER_ROLES:
        return query.where(Article.state == "published")
    return query


def get_article(*, db: Session, viewer: User, article_id: str | int) -> Article:
    """The article if the viewer may see it; otherwise exactly as if it did not exist."""
    query = visible_articles(viewer).where(Article.id == parse_id(article_id))
    article: Article | None = db.scalar(query)
    if article is None:
        raise NotFound("article")
    return article


def sees_drafts(db: Session, viewer: User, article: Article) -> bool:
    """Whether the viewer gets the whole article (the author's text, the case) or only the
    published view: engineers, leads and admins always; an account manager for the
    organisations they manage; customers never."""
    if viewer.role in cases.HANDLER_ROLES:
        return True
    if viewer.role == "account_manager":
        # Through the relationship: loaded once per organisation per request, not per row.
        return article.organisation.account_manager_id == viewer.id
    return False


@dataclass(frozen=True, slots=True)
class ArticleFilters:
    state: str | None = None
    text: str | None = None


def list_articles(
    *, db: Session, viewer: User, filters: ArticleFilters, limit: int, before_id: int | None
) -> tuple[list[Article], int | None]:
    """A page of articles, newest first (the knowledge base's ranked search is ``kb``)."""
    query = visible_articles(viewer)
    if filters.state:
        query = query.where(Article.state == filters.state)
    if filters.text:
        pattern = f"%{filters.text}%"
        if viewer.is_customer:
            query = query.where(Article.published_title.ilike(pattern))
        else:
            query = query.where(
                or_(Article.title.ilike(pattern), Article.published_title.ilike(pattern))
            )
    if before_id is not None:
        query = query.where(Article.id < before_id)
    rows = list(db.scalars(query.order_by(Article.id.desc()).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, (rows[-1].id if more and rows else None)


def case_ref(article: Article) -> str:
    return format_ref(article.case_id)


def organisation_name(article: Article) -> str:
    return article.organisation.name


def bug_key(article: Article) -> str | None:
    return format_key(article.bug_id) if article.bug_id is not None else None


# --- drafting and editing ---------------------------------------------------------------------


def _public_bug(db: Session, key: str) -> Bug:
    bug = db.get(Bug, parse_bug_key(key)) if key.strip() else None
    if bug is None or not bug.is_public:
        raise Invalid("bug_not_public", "an article links only a public, submitted bug report")
    return bug


def draft_of_case(*, db: Session, case: Case) -> tuple[rules.ArticleText, Bug | None]:
    """What the case knows, as the article's first draft, and its first public bug."""
    linked = list(
        db.scalars(
            select(Bug)
            .join(BugCase, BugCase.bug_id == Bug.id)
            .where(BugCase.case_id == case.id)
            .order_by(Bug.id)
        )
    )
    public = [b for b in linked if b.is_public]
    text = rules.draft_from_case(
        title=case.title,
        description=case.description,
        product_version=case.environment.product_version,
        bug_versions=[b.affected_versions or [] for b in public],
        root_cause=case.root_cause,
        outcomes=case.outcomes or [],
    )
    return text, (public[0] if public else None)


def create_from_case(
    *, db: Session, case: Case, actor: User, changes: dict[str, Any], now: datetime
) -> Article:
    """A draft pre-filled from a resolved (or closed) case, with the author's overrides."""
    _require_handler(actor)
    if case.state not in RESOLVED_STATES or not case.outcomes:
        raise Conflict(
            "case_not_resolved",
            f"{case.ref} is {case.state}; an article is written from a case resolved with an "
            "outcome (advice, a workaround or a bug report)",
        )
    text, bug = draft_of_case(db=db, case=case)
    article = Article(
        case_id=case.id,
        organisation_id=case.organisation_id,
        state="draft",
        title=text.title,
        symptoms=text.symptoms,
        affected_versions=list(text.affected_versions),
        root_cause_category=text.root_cause_category,
        root_cause=text.root_cause,
        resolution=text.resolution,
        bug_id=bug.id if bug else None,
        redact_extra=[],
        redact_allow=[],
        author_id=actor.id,
        last_edited_by_id=actor.id,
        created_at=now,
        updated_at=now,
    )
    article.author = article.last_edited_by = actor
    _apply(db, article, changes)
    db.add(article)
    db.flush()
    _record(db, article, actor, now, "created", case=case.ref)
    _timeline(db, article, actor, now, "article_drafted", internal=True)
    return article


def _apply(db: Session, article: Article, changes: dict[str, Any]) -> list[str]:
    """Sets the changed fields (checked); returns the names of those that really changed."""
    changed = []
    for name in TEXT_FIELDS:
        if (
            name in changes
            and changes[name] is not None
            and getattr(article, name) != changes[name]
        ):
            setattr(article, name, changes[name])
            changed.append(name)
    clears_category = "root_cause_category" in changes and changes["root_cause_category"] is None
    if clears_category and article.root_cause_category is not None:
        article.root_cause_category = None
        changed.append("root_cause_category")
    if changes.get("affected_versions") is not None:
        versions = list(dict.fromkeys(changes["affected_versions"]))
        if versions != list(article.affected_versions or []):
            article.affected_versions = versions
            changed.append("affected_versions")
    if "bug" in changes:
        bug_id = _public_bug(db, changes["bug"]).id if changes["bug"] else None
        if bug_id != article.bug_id:
            article.bug_id = bug_id
            changed.append("bug")
    for name in ("redact_extra", "redact_allow"):
        if changes.get(name) is not None:
            terms = list(dict.fromkeys(changes[name]))
            if terms != list(getattr(article, name) or []):
                setattr(article, name, terms)
                changed.append(name)
    if "redact_allow" in changed:
        _check_allowances(known(db, article), article.redact_allow)
    return changed


def _check_allowances(terms: KnownTerms, allow: list[str]) -> None:
    refused = rules.refused_allowances(allow, terms.organisations, terms.emails)
    if refused:
        raise Invalid(
            "always_redacted",
            "organisation names and e-mail addresses are always redacted and cannot be kept: "
            + ", ".join(refused),
            terms=refused,
        )


def update(
    *, db: Session, article: Article, actor: User, changes: dict[str, Any], now: datetime
) -> Article:
    """An edit; a changed approved article goes back to review (the approval was for the old
    text), a published one must be withdrawn first."""
    _require_handler(actor)
    try:
        state = rules.next_state("edit", article.state)
    except rules.ArticleTransitionRefused as refused:
        raise _refusal(refused, "withdraw it first") from refused
    changed = _apply(db, article, changes)
    if not changed:
        return article
    before = article.state
    article.state = state
    article.last_edited_by_id = actor.id
    article.last_edited_by = actor
    _touch(article, now)
    if before == "approved":
        article.approved_at = None
    _record(db, article, actor, now, "updated", fields=changed, state=[before, state])
    return article


def _refusal(refused: rules.ArticleTransitionRefused, hint: str = "") -> Conflict:
    message = f"{refused}; {hint}" if hint else str(refused)
    return Conflict("invalid_transition", message, allowed_from=refused.allowed)


def _move(
    db: Session, article: Article, actor: User, now: datetime, action: str, **data: Any
) -> str:
    try:
        state = rules.next_state(action, article.state)
    except rules.ArticleTransitionRefused as refused:
        raise _refusal(refused) from refused
    before = article.state
    article.state = state
    _touch(article, now)
    _record(db, article, actor, now, _AUDIT_NAMES[action], state=[before, state], **data)
    return before


_AUDIT_NAMES = {
    "submit": "submitted",
    "approve": "approved",
    "reject": "rejected",
    "publish": "published",
    "unpublish": "withdrawn",
}


# --- redaction and review ---------------------------------------------------------------------


def known(db: Session, article: Article) -> KnownTerms:
    """What the redactor must know: every organisation's name, and this one's environments,
    contacts, addresses and hosts."""
    return known_terms(db, article.organisation_id)


def redacted(
    *,
    db: Session,
    article: Article,
    extra: list[str] | None = None,
    allow: list[str] | None = None,
    terms: KnownTerms | None = None,
) -> rules.RedactedArticle:
    """The article as it would be published now (``extra``/``allow``: decisions to try;
    ``terms``: the redactor's known names when the caller already has them)."""
    terms = terms or known(db, article)
    # Stored allowances are re-checked against today's names: one that has since become an
    # organisation's name is dropped, never honoured.
    chosen = list(article.redact_allow or []) if allow is None else allow
    refused = set(rules.refused_allowances(chosen, terms.organisations, terms.emails))
    if allow is not None and refused:
        _check_allowances(terms, allow)
    allowed = [a for a in chosen if a not in refused]
    sections = rules.section_texts(_text(article))
    try:
        return rules.redact_article(
            sections,
            terms,
            extra=list(article.redact_extra or []) if extra is None else extra,
            allow=allowed,
        )
    except rules.RedactionIncomplete as incomplete:
        raise Conflict("redaction_incomplete", str(incomplete)) from incomplete


def _text(article: Article) -> rules.ArticleText:
    return rules.ArticleText(
        title=article.title,
        symptoms=article.symptoms,
        affected_versions=tuple(article.affected_versions or ()),
        root_cause_category=article.root_cause_category,
        root_cause=article.root_cause,
        resolution=article.resolution,
    )


def preview(
    *,
    db: Session,
    article: Article,
    viewer: User,
    base_url: str,
    extra: list[str] | None = None,
    allow: list[str] | None = None,
    terms: KnownTerms | None = None,
) -> tuple[rules.RedactedArticle, rules.Publication]:
    _require_handler(viewer, "preview articles")
    result = redacted(db=db, article=article, extra=extra, allow=allow, terms=terms)
    return result, _publication(db, article, result, base_url)


def _publication(
    db: Session, article: Article, result: rules.RedactedArticle, base_url: str
) -> rules.Publication:
    bug = None
    if article.bug_id is not None:
        key = format_key(article.bug_id)
        bug = (key, f"{base_url.rstrip('/')}/bugs/{key}")
    return rules.publication(result, root_cause_category=article.root_cause_category, bug=bug)


def submit(*, db: Session, article: Article, actor: User, now: datetime) -> Article:
    _require_handler(actor)
    redacted(db=db, article=article)  # an article that cannot be redacted is not reviewable
    _move(db, article, actor, now, "submit")
    article.submitted_at = now
    article.approved_at = None
    return article


def approve(*, db: Session, article: Article, actor: User, now: datetime) -> Article:
    """A reviewer other than the author — and other than whoever last changed it — approves."""
    _require_handler(actor, "review articles")
    if not rules.may_approve(
        reviewer_id=actor.id,
        author_id=article.author_id,
        last_editor_id=article.last_edited_by_id,
    ):
        raise Forbidden(
            "self_approval",
            "an article is approved by a reviewer other than its author and its last editor",
        )
    redacted(db=db, article=article)
    _move(db, article, actor, now, "approve")
    article.reviewer_id = actor.id
    article.reviewer = actor
    article.reviewed_at = article.approved_at = now
    article.review_comment = None
    return article


def reject(*, db: Session, article: Article, actor: User, comment: str, now: datetime) -> Article:
    _require_handler(actor, "review articles")
    _move(db, article, actor, now, "reject", comment=comment)
    article.reviewer_id = actor.id
    article.reviewer = actor
    article.reviewed_at = now
    article.approved_at = None
    article.review_comment = comment
    return article


def publish(*, db: Session, article: Article, actor: User, now: datetime, base_url: str) -> Article:
    """Publishes the text redacted *now*, with today's known terms: nothing else is stored
    for the public, and nothing that was not approved by a second person gets here."""
    _require_handler(actor, "publish articles")
    if article.state != "approved" or article.approved_at is None:
        raise Conflict(
            "not_approved",
            f"{article.key} is {article.state.replace('_', ' ')}; only an approved article "
            "is published",
            allowed_from=["approved"],
        )
    if article.reviewer_id is None or not rules.may_approve(
        reviewer_id=article.reviewer_id,
        author_id=article.author_id,
        last_editor_id=article.last_edited_by_id,
    ):
        raise Forbidden("self_approval", f"{article.key} was not approved by a second person")
    if article.bug_id is not None:
        _public_bug(db, format_key(article.bug_id))
    result = redacted(db=db, article=article)
    publication = _publication(db, article, result, base_url)
    _move(
        db, article, actor, now, "publish", replacements=result.counts(), forced=len(result.forced)
    )
    article.published_title = publication.title
    article.published_sections = publication.sections | (
        {"bug": format_key(article.bug_id)} if article.bug_id is not None else {}
    )
    article.published_body = publication.body
    article.published_at = now
    article.published_by_id = actor.id
    article.withdrawn_at = None
    article.withdrawn_reason = None
    _timeline(db, article, actor, now, "article_published", internal=False)
    return article


def unpublish(*, db: Session, article: Article, actor: User, reason: str, now: datetime) -> Article:
    """A lead withdraws a published article: it leaves the knowledge base and search at once."""
    if actor.role not in LEAD_ROLES:
        raise Forbidden("leads_only", "only leads and admins withdraw a published article")
    _move(db, article, actor, now, "unpublish", reason=reason)
    _timeline(db, article, actor, now, "article_withdrawn", internal=False)
    article.withdrawn_at = now
    article.withdrawn_reason = reason
    article.published_title = None
    article.published_sections = None
    article.published_body = None
    article.published_at = None
    article.approved_at = None
    return article


# --- the community forum ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ForumOutcome:
    article: Article
    error: str | None = None


def forum_post(
    *, db: Session, article: Article, actor: User, forum: Forum | None
) -> tuple[str, str]:
    """The title and body a forum topic gets: the published (redacted) ones, and only those,
    of a published article not on the forum yet. Reads only: the caller ends its transaction
    before calling the forum, so nothing is held while the forum answers."""
    _require_handler(actor, "post articles to the forum")
    if forum is None:
        raise Conflict(
            "forum_not_configured", "no community forum is configured (CRITDESK_FORUM_URL)"
        )
    if article.state != "published" or not article.published_body:
        raise Conflict(
            "not_published", f"{article.key} is not published; only published articles go"
        )
    if article.forum_topic_id is not None:
        raise Conflict(
            "already_posted", f"{article.key} is on the forum already: {article.forum_url}"
        )
    title, body = article.published_title or "", article.published_body
    terms = known(db, article)
    if rules.survivors(f"{title}\n{body}", terms.organisations, terms.emails):
        raise Conflict(
            "redaction_incomplete",
            f"{article.key} holds a name or address that must be redacted; withdraw and "
            "publish it again",
        )
    return title, body


def forum_failed(
    *, db: Session, article: Article, actor: User, now: datetime, failure: ForumError
) -> ForumOutcome:
    """A forum failure is kept on the article and audited; the article's state does not
    change, and the caller reports the failure (the change is committed)."""
    article.forum_error = failure.message
    _touch(article, now)
    _record(db, article, actor, now, "forum_failed", error=failure.message, status=failure.status)
    return ForumOutcome(article, failure.message)


def forum_posted(
    *, db: Session, article: Article, actor: User, now: datetime, topic: ForumTopic
) -> ForumOutcome:
    db.refresh(article)
    if article.forum_topic_id is not None:
        # Another post of the same article won the race while the forum answered us.
        log.warning("%s was posted twice; the topic %s is a duplicate", article.key, topic.url)
        raise Conflict(
            "already_posted", f"{article.key} is on the forum already: {article.forum_url}"
        )
    article.forum_topic_id = topic.topic_id
    article.forum_url = topic.url
    article.forum_posted_at = now
    article.forum_error = None
    _touch(article, now)
    _record(db, article, actor, now, "forum_posted", topic=topic.topic_id, url=topic.url)
    return ForumOutcome(article)


def counts_by_state(*, db: Session, viewer: User) -> dict[str, int]:
    """How many articles the viewer sees in each state (the authoring list's tabs)."""
    query = (
        visible_articles(viewer)
        .with_only_columns(Article.state, func.count())
        .group_by(Article.state)
    )
    return {state: int(count) for state, count in db.execute(query)}
